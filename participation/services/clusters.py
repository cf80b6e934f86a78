"""Service Provider Clusters (Commissioning Management): a commissioner's named groups of the
providers it commissions, used to narrow Create Offers, Offered Services and Declaration
Management.

Every use case is one ``atomic()`` function: it locks the cluster row, checks the user holds
Commissioning Management at the cluster's commissioner (a cluster of another organisation is not
found: 404), checks the input, writes and puts the change in the commissioner's audit log.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from accounts import permissions
from accounts.errors import Invalid, NotFound
from accounts.models import Organisation, OrganisationKind, Role
from accounts.transitions import audit
from participation.errors import ParticipationError
from participation.models import ProviderCluster

NAME_MAX = 100


class ClusterNotFound(ParticipationError, NotFound):
    """No such cluster, or one of another commissioner: the same answer."""


class ClusterInvalid(ParticipationError, Invalid):
    """A cluster name already used, blank or too long; a provider the commissioner does not commission."""


def _commissioning_ids(user) -> set[int]:
    return permissions.organisation_ids_with_role(user, {Role.COMMISSIONING_MANAGEMENT})


def _clean_name(name: str) -> str:
    if any(not (c.isprintable() or c.isspace()) for c in name or ""):  # a NUL byte, a control character
        raise ClusterInvalid("A cluster name cannot contain control characters.")
    name = " ".join((name or "").split())
    if not name:
        raise ClusterInvalid("Enter a cluster name.")
    if len(name) > NAME_MAX:
        raise ClusterInvalid(f"The cluster name must be {NAME_MAX} characters or fewer.")
    return name


def _name_taken(*, commissioner_id: int, name: str, exclude_pk: int | None = None) -> bool:
    clusters = ProviderCluster.objects.filter(commissioner_id=commissioner_id, name__iexact=name)
    if exclude_pk is not None:
        clusters = clusters.exclude(pk=exclude_pk)
    return clusters.exists()


def _locked_cluster(*, user, cluster_id: int) -> ProviderCluster:
    cluster = (
        ProviderCluster.objects.select_for_update()
        .filter(pk=cluster_id, commissioner_id__in=_commissioning_ids(user))
        .select_related("commissioner")
        .first()
    )
    if cluster is None:
        raise ClusterNotFound("No such cluster")
    return cluster


def _audit(*, user, action: str, cluster: ProviderCluster, detail: dict) -> None:
    audit(actor=user, action=action, organisation=cluster.commissioner, obj=cluster,
          detail={"cluster": cluster.name, **detail})


@transaction.atomic
def cluster_create(*, user, commissioner_id: int, name: str) -> ProviderCluster:
    """Create an empty cluster for an ICB where the user holds Commissioning Management."""
    if commissioner_id not in _commissioning_ids(user):
        raise ClusterNotFound("No such commissioner")
    name = _clean_name(name)
    if _name_taken(commissioner_id=commissioner_id, name=name):
        raise ClusterInvalid(f"A cluster named {name} already exists.")
    commissioner = Organisation.objects.select_for_update().get(pk=commissioner_id)
    try:
        with transaction.atomic():
            cluster = ProviderCluster.objects.create(commissioner=commissioner, name=name)
    except IntegrityError:  # the same name, created at the same moment by someone else
        raise ClusterInvalid(f"A cluster named {name} already exists.") from None
    _audit(user=user, action="cluster_created", cluster=cluster, detail={})
    return cluster


@transaction.atomic
def cluster_rename(*, user, cluster_id: int, name: str) -> ProviderCluster:
    """Rename a cluster (names are unique per commissioner, whatever their case)."""
    cluster = _locked_cluster(user=user, cluster_id=cluster_id)
    name = _clean_name(name)
    if name == cluster.name:
        return cluster
    if _name_taken(commissioner_id=cluster.commissioner_id, name=name, exclude_pk=cluster.pk):
        raise ClusterInvalid(f"A cluster named {name} already exists.")
    old = cluster.name
    cluster.name = name
    try:
        with transaction.atomic():
            cluster.save(update_fields=["name"])
    except IntegrityError:
        raise ClusterInvalid(f"A cluster named {name} already exists.") from None
    _audit(user=user, action="cluster_renamed", cluster=cluster, detail={"from": old})
    return cluster


@transaction.atomic
def cluster_delete(*, user, cluster_id: int) -> str:
    """Delete a cluster (its providers are not touched); returns its name."""
    cluster = _locked_cluster(user=user, cluster_id=cluster_id)
    name = cluster.name
    _audit(user=user, action="cluster_deleted", cluster=cluster,
           detail={"providers": sorted(cluster.providers.values_list("ods_code", flat=True))})
    cluster.delete()
    return name


def _commissioned_providers(*, cluster: ProviderCluster, provider_ids: Iterable[int]) -> list[Organisation]:
    ids = set(provider_ids)
    if not ids:
        raise ClusterInvalid("Select at least one Service Provider.")
    providers = list(
        Organisation.objects.filter(
            pk__in=ids,
            commissioner_id=cluster.commissioner_id,
            kind__in=[OrganisationKind.PRACTICE, OrganisationKind.PCN],
        )
    )
    if len(providers) != len(ids):
        raise ClusterInvalid("A Service Provider selected is not one your organisation commissions.")
    return providers


@transaction.atomic
def cluster_providers_add(*, user, cluster_id: int, provider_ids: Iterable[int]) -> int:
    """Add providers the cluster's commissioner commissions; returns how many were new to it."""
    cluster = _locked_cluster(user=user, cluster_id=cluster_id)
    providers = _commissioned_providers(cluster=cluster, provider_ids=provider_ids)
    present = set(cluster.providers.filter(pk__in=[p.pk for p in providers]).values_list("pk", flat=True))
    new = [p for p in providers if p.pk not in present]
    cluster.providers.add(*new)
    _audit(user=user, action="cluster_providers_added", cluster=cluster,
           detail={"providers": sorted(p.ods_code for p in new)})
    return len(new)


@transaction.atomic
def cluster_providers_remove(*, user, cluster_id: int, provider_ids: Iterable[int]) -> int:
    """Take providers out of the cluster; every one must be in it (else nothing changes)."""
    cluster = _locked_cluster(user=user, cluster_id=cluster_id)
    ids = set(provider_ids)
    if not ids:
        raise ClusterInvalid("Select at least one Service Provider.")
    members = list(cluster.providers.filter(pk__in=ids))
    if len(members) != len(ids):
        raise ClusterInvalid("A Service Provider selected is not in this cluster.")
    cluster.providers.remove(*members)
    _audit(user=user, action="cluster_providers_removed", cluster=cluster,
           detail={"providers": sorted(p.ods_code for p in members)})
    return len(members)
