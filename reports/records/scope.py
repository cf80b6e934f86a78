"""Which providers a user may report on: the one scoping rule of every report.

A user holding one of the report's roles at an organisation sees what that organisation sees:
itself, the practices and PCNs it commissions (an ICB), its member practices (a PCN), and, for
an NHS England region, the providers of the ICBs under it.  An organisation that allocated its
reports to one of the user's organisations (Allocated Reports, while not revoked) lends its own
reach the same way.  Nobody else's rows: one query, whatever the number of providers.

A PCN sees its member practices' rows for the PCN's services only (their contributions to the
Network Contract DES), never the practices' own services' payments (``report_rows``, the rule of
``declarations.selectors.results_scope`` with regions and allocations): every report filters its
achievements and declarations by ``report_rows``, ``report_providers`` only lists organisations.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from accounts import permissions
from accounts.models import COMMISSIONER_ROLES, Organisation, Role
from declarations.rules import RESULTS_ROLES
from participation.models import ProviderLevel
from reports.models import ReportAllocation

# Who runs which report.
SUMMARY_ROLES = RESULTS_ROLES  # the Achievement Summary Report: whoever reads achievement results
PAYMENTS_ROLES = frozenset({Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT, Role.FINANCE_VIEW})
NETWORK_ROLES = COMMISSIONER_ROLES  # Network organisation relationship
REPORT_ROLES = SUMMARY_ROLES | PAYMENTS_ROLES | NETWORK_ROLES


def _reach(ids) -> Q:
    """What organisations with these ids see (ids: a set, or a subquery of ids)."""
    return (
        Q(pk__in=ids)
        | Q(commissioner_id__in=ids)
        | Q(pcn_id__in=ids)
        | Q(commissioner__parent_id__in=ids)  # a region: its ICBs' providers
    )


def granting_organisation_ids(*, user, roles: Iterable[str]) -> QuerySet:
    """The organisations whose reports are allocated (not revoked) to an organisation where the
    user holds one of ``roles`` (a subquery of ids)."""
    own = permissions.organisation_ids_with_role(user, roles)
    return ReportAllocation.objects.active().filter(allowed_organisation_id__in=own).values("organisation_id")


def report_providers(*, user, roles: Iterable[str]) -> QuerySet[Organisation]:
    """The practices and PCNs whose rows the user's reports show (one query when evaluated)."""
    roles = frozenset(roles)
    own = permissions.organisation_ids_with_role(user, roles)
    if not own:
        return Organisation.objects.none()
    granted = granting_organisation_ids(user=user, roles=roles)
    return Organisation.objects.providers().filter(_reach(own) | _reach(granted))


def _whole_reach(ids) -> Q:
    """The organisations whose every service organisations with these ids see: themselves, the
    providers they commission, their ICBs' providers (a region) -- ``_reach`` but a PCN's members."""
    return Q(pk__in=ids) | Q(commissioner_id__in=ids) | Q(commissioner__parent_id__in=ids)


def report_rows(*, user, roles: Iterable[str]) -> Q:
    """The rows (achievements, declarations, calculations: anything with a ``provider`` and a
    ``service``) of the user's reports: every service of ``report_providers`` but for a PCN's
    member practices, whose rows are the PCN's services only (no query of its own: subqueries)."""
    roles = frozenset(roles)
    own = permissions.organisation_ids_with_role(user, roles)
    if not own:
        return Q(pk__in=[])
    granted = granting_organisation_ids(user=user, roles=roles)
    providers = Organisation.objects.providers()
    whole = providers.filter(_whole_reach(own) | _whole_reach(granted)).values("pk")
    members = providers.filter(Q(pcn_id__in=own) | Q(pcn_id__in=granted)).values("pk")
    return Q(provider__in=whole) | Q(provider__in=members, service__provider_level=ProviderLevel.PCN)


def shows_money(*, user, provider: Organisation) -> bool:
    """Pounds for roles that may see money (``accounts.permissions.MONEY_ROLES``), held where
    the provider is in reach (directly or through an allocation); View sees points only."""
    return (
        permissions.can_see_money(user, provider)
        or report_providers(user=user, roles=permissions.MONEY_ROLES).filter(pk=provider.pk).exists()
    )
