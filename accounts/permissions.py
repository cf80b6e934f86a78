"""The one permission layer: every view and service asks these questions.

Memberships are read once per request/user object and cached on it, so asking many questions
costs one query.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from .models import Membership, Organisation, OrganisationKind, Role


def memberships(user) -> frozenset[tuple[int, str]]:
    """(organisation id, role) pairs the user holds; cached on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_cqrs_memberships", None)
    if cached is None:
        cached = frozenset(Membership.objects.filter(user=user).values_list("organisation_id", "role"))
        user._cqrs_memberships = cached
    return cached


def forget_memberships(user) -> None:
    if hasattr(user, "_cqrs_memberships"):
        del user._cqrs_memberships


def roles(user) -> frozenset[str]:
    """Every role the user holds, anywhere."""
    return frozenset(role for _, role in memberships(user))


def has_any_role(user, wanted: Iterable[str]) -> bool:
    wanted = set(wanted)
    return any(role in wanted for _, role in memberships(user))


def has_role_in(user, organisation: Organisation | int | None, wanted: Iterable[str]) -> bool:
    """Does the user hold one of ``wanted`` roles in this very organisation?"""
    if organisation is None:
        return False
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    wanted = set(wanted)
    return any(oid == org_id and role in wanted for oid, role in memberships(user))


def organisation_ids_with_role(user, wanted: Iterable[str] | None = None) -> set[int]:
    wanted = None if wanted is None else set(wanted)
    return {oid for oid, role in memberships(user) if wanted is None or role in wanted}


def organisations_with_role(user, wanted: Iterable[str] | None = None) -> QuerySet[Organisation]:
    """The organisations in which the user holds one of ``wanted`` roles (any role if None)."""
    return Organisation.objects.filter(pk__in=organisation_ids_with_role(user, wanted))


def visible_organisations(user, wanted: Iterable[str] | None = None) -> QuerySet[Organisation]:
    """Organisations whose data the user may see through ``wanted`` roles.

    Their own organisations; for a commissioner (ICB), the practices and PCNs it commissions;
    for a PCN, its member practices.
    """
    own = organisation_ids_with_role(user, wanted)
    if not own:
        return Organisation.objects.none()
    return Organisation.objects.filter(Q(pk__in=own) | Q(commissioner_id__in=own) | Q(pcn_id__in=own))


def can_act_as_commissioner(user, provider: Organisation, wanted: Iterable[str]) -> bool:
    """Does the user hold one of ``wanted`` roles at the ICB that commissions ``provider``?"""
    return provider.commissioner_id is not None and has_role_in(user, provider.commissioner_id, wanted)


def can_see_organisation(user, organisation: Organisation) -> bool:
    ids = organisation_ids_with_role(user)
    return (
        organisation.pk in ids
        or (organisation.commissioner_id is not None and organisation.commissioner_id in ids)
        or (organisation.kind == OrganisationKind.PRACTICE and organisation.pcn_id in ids)
    )


MONEY_ROLES = frozenset(
    {
        Role.FINANCE_VIEW,
        Role.FINANCE_MANAGEMENT,
        Role.APPROVAL_MANAGEMENT,
        Role.COMMISSIONING_MANAGEMENT,
        Role.DECLARATION_MANAGEMENT,
    }
)


def can_see_money(user, organisation: Organisation) -> bool:
    """Pounds are shown to roles that may see money (View sees points only)."""
    return has_role_in(user, organisation, MONEY_ROLES) or can_act_as_commissioner(
        user, organisation, MONEY_ROLES
    ) or (organisation.pcn_id is not None and has_role_in(user, organisation.pcn_id, MONEY_ROLES))
