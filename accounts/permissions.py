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


# User administration -------------------------------------------------------------------------

def administered_organisations(user) -> QuerySet[Organisation]:
    """Organisations whose users this user administers: those where they are a User
    Administrator and, for an ICB's User Administrator, the practices and PCNs it commissions."""
    own = organisation_ids_with_role(user, {Role.USER_ADMINISTRATOR})
    if not own:
        return Organisation.objects.none()
    return Organisation.objects.filter(Q(pk__in=own) | Q(commissioner_id__in=own))


def administered_organisation_ids(user) -> frozenset[int]:
    """The ids of ``administered_organisations``; cached on the user object (one query)."""
    cached = getattr(user, "_cqrs_administered_ids", None)
    if cached is None:
        cached = frozenset(administered_organisations(user).values_list("pk", flat=True))
        user._cqrs_administered_ids = cached
    return cached


def can_administer_organisation(user, organisation: Organisation | None) -> bool:
    """May this user add users to, and change roles at, ``organisation``?"""
    if organisation is None:
        return False
    return has_role_in(user, organisation, {Role.USER_ADMINISTRATOR}) or can_act_as_commissioner(
        user, organisation, {Role.USER_ADMINISTRATOR}
    )


def can_administer_user(user, target) -> bool:
    """May this user manage ``target`` (see them, change or unlink their roles in the
    organisations they administer)?  Only when the target holds a role in one of them."""
    administered = administered_organisation_ids(user)
    return bool(administered) and Membership.objects.filter(
        user=target, organisation_id__in=administered
    ).exists()


def wholly_administered_users(user) -> QuerySet:
    """The users this user *wholly* administers (ADR 0014): every membership they hold is at an
    organisation this user administers, and they are not a superuser or staff (the service's
    operators are nobody's organisation to administer).  Only these can be disabled by this user,
    and only their sign-ins and addresses appear in this user's Audit Log."""
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef

    administered = administered_organisation_ids(user)
    held = Membership.objects.filter(user=OuterRef("pk"))
    return get_user_model().objects.filter(
        Exists(held.filter(organisation_id__in=administered)),
        is_superuser=False,
        is_staff=False,
    ).exclude(Exists(held.exclude(organisation_id__in=administered)))


def administers_wholly(user, target) -> bool:
    return bool(administered_organisation_ids(user)) and wholly_administered_users(user).filter(pk=target.pk).exists()


def can_disable_user(user, target) -> bool:
    """Disabling shuts a person out of every organisation, so only an administrator of *all*
    the target's organisations may do it (never of a superuser), and never of themselves."""
    return target.pk != user.pk and administers_wholly(user, target)


def roles_for_organisation(organisation: Organisation) -> list[str]:
    """The roles a user may hold at an organisation of this kind: commissioners' roles at a
    commissioner, providers' roles at a practice or PCN; User Administrator anywhere."""
    from .models import COMMISSIONER_ROLES, PROVIDER_ROLES

    if organisation.kind == OrganisationKind.NATIONAL:  # NHS England sets the national figures
        allowed = frozenset({Role.NATIONAL_ADMINISTRATOR})
    else:
        allowed = PROVIDER_ROLES if organisation.is_provider else COMMISSIONER_ROLES
    return [role for role in Role if role in allowed or role == Role.USER_ADMINISTRATOR]


def is_national_administrator(user) -> bool:
    """Does the user hold the National Administrator role (at NHS England, the one organisation
    of kind national), which sees and sets the national figures (issue 13)?"""
    if Role.NATIONAL_ADMINISTRATOR not in roles(user):  # no query for anyone else
        return False
    cached = getattr(user, "_cqrs_national_administrator", None)
    if cached is None:  # the role counts only where it belongs: at an organisation of kind national
        cached = user._cqrs_national_administrator = Membership.objects.filter(
            user=user, role=Role.NATIONAL_ADMINISTRATOR, organisation__kind=OrganisationKind.NATIONAL
        ).exists()
    return cached
