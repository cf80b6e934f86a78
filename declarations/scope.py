"""Whose achievement results a user may see: the scope every read of results (and declarations)
starts from, in this app and in the reports.

A user sees the calculations of the providers in which they hold a results role, of the providers
their ICB commissions, and of their PCN's member practices for the PCN's services only
(``results_scope``).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts import permissions
from accounts.models import Organisation
from participation.models import ProviderLevel

from . import rules


def result_providers(*, user) -> QuerySet[Organisation]:
    """The practices and PCNs whose achievement results the user may see (some of them: a PCN's
    member practices only for the PCN's services, ``results_scope``)."""
    return permissions.visible_organisations(user, rules.RESULTS_ROLES).providers().order_by("name")


def results_scope(*, user) -> Q:
    """The achievements (or declarations) whose results the user may see, as a filter on their
    ``provider`` and ``service``: those of the providers where the user holds a results role and
    of the providers their ICB commissions, all services; of their PCN's member practices, only
    the PCN's services (a member's contribution to the Network Contract DES), never the
    practice's own services' payments."""
    own = permissions.organisation_ids_with_role(user, rules.RESULTS_ROLES)
    if not own:
        return Q(pk__in=[])
    return (
        Q(provider_id__in=own)
        | Q(provider__commissioner_id__in=own)
        | Q(provider__pcn_id__in=own, service__provider_level=ProviderLevel.PCN)
    )
