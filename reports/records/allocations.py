"""Allocated Reports: an organisation's User Administrator allows one of its descendant
organisations (a sub-ICB location, an ICB under a region, a PCN under an ICB) to run its
reports, and revokes it.  Every grant and revocation is on the audit log."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import permissions
from accounts.errors import Conflict, Invalid, NotFound
from accounts.models import Organisation, OrganisationKind, Role
from accounts.services import audit_record
from reports.models import ReportAllocation

# Who may be allowed: organisations that run reports for others, never a single practice.
ALLOWED_KINDS = (OrganisationKind.ICB, OrganisationKind.SUB_ICB, OrganisationKind.PCN)


def granting_organisations(*, user) -> QuerySet[Organisation]:
    """The organisations whose reports this user may allocate: where they are User Administrator."""
    ids = permissions.organisation_ids_with_role(user, {Role.USER_ADMINISTRATOR})
    return Organisation.objects.filter(pk__in=ids).order_by("name")


def descendants(*, organisation_ids) -> QuerySet[Organisation]:
    """The organisations under these (by parent, two levels; commissioned; a PCN's) of the kinds
    that may be allowed."""
    return (
        Organisation.objects.filter(
            Q(parent_id__in=organisation_ids)
            | Q(parent__parent_id__in=organisation_ids)
            | Q(commissioner_id__in=organisation_ids)
            | Q(pcn_id__in=organisation_ids),
            kind__in=ALLOWED_KINDS,
        )
        .exclude(pk__in=organisation_ids)
        .order_by("name")
    )


def allocation_list(*, user) -> QuerySet[ReportAllocation]:
    """The allocations the user administers (those of their User Administrator organisations)."""
    ids = permissions.organisation_ids_with_role(user, {Role.USER_ADMINISTRATOR})
    return ReportAllocation.objects.filter(organisation_id__in=ids).select_related(
        "organisation", "allowed_organisation", "granted_by", "revoked_by"
    )


def allocations_received(*, user) -> QuerySet[ReportAllocation]:
    """The allocations (not revoked) to organisations where the user holds any role."""
    ids = permissions.organisation_ids_with_role(user)
    return (
        ReportAllocation.objects.active()
        .filter(allowed_organisation_id__in=ids)
        .select_related("organisation", "allowed_organisation", "granted_by")
    )


@transaction.atomic
def report_allocation_grant(*, user, organisation_id: int, allowed_organisation_id: int) -> ReportAllocation:
    """Allow ``allowed_organisation`` to run ``organisation``'s reports.  Only a User
    Administrator of ``organisation`` (else NotFound: as if it did not exist), only to one of its
    descendants (Invalid), and once while it stands (Conflict)."""
    organisation = granting_organisations(user=user).filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound("No such organisation")
    allowed = descendants(organisation_ids=[organisation.pk]).filter(pk=allowed_organisation_id).first()
    if allowed is None:
        raise Invalid(f"Reports can only be allocated to an organisation under {organisation.name}.")
    # Lock the granting organisation so two administrators granting at once make one row.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).values_list("pk").first()
    if ReportAllocation.objects.active().filter(organisation=organisation, allowed_organisation=allowed).exists():
        raise Conflict(f"{allowed.name} can already run the reports of {organisation.name}.")
    allocation = ReportAllocation.objects.create(organisation=organisation, allowed_organisation=allowed, granted_by=user)
    audit_record(
        actor=user,
        action="report_allocation_granted",
        organisation=organisation,
        obj=allocation,
        detail={"allowed_organisation": allowed.ods_code},
    )
    return allocation


@transaction.atomic
def report_allocation_revoke(*, user, allocation_id: int) -> ReportAllocation:
    """Revoke an allocation: from now on the allowed organisation sees none of the granting
    organisation's rows.  Only a User Administrator of the granting organisation (else
    NotFound); an allocation already revoked is a Conflict."""
    allocation = (
        allocation_list(user=user).select_for_update(of=("self",)).filter(pk=allocation_id).first()
    )
    if allocation is None:
        raise NotFound("No such allocation")
    if allocation.revoked_at is not None:
        raise Conflict(f"{allocation.allowed_organisation.name}'s allocation has already been revoked.")
    allocation.revoked_by, allocation.revoked_at = user, timezone.now()
    allocation.save(update_fields=["revoked_by", "revoked_at"])
    audit_record(
        actor=user,
        action="report_allocation_revoked",
        organisation=allocation.organisation,
        obj=allocation,
        detail={"allowed_organisation": allocation.allowed_organisation.ods_code},
    )
    return allocation
