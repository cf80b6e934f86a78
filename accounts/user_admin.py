"""User administration (Administrative Tasks): add users, change and unlink their roles,
disable and enable them, unlock a locked-out sign-in.  Users are never deleted.

Every function is keyword-only, atomic, authorised against the one permission layer (a User
Administrator acts only within the organisations they administer: their own and, for an ICB's,
the practices and PCNs it commissions) and on record in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import permissions
from .errors import Conflict, NotAllowed, NotFound
from .invitations import invitation_send
from .models import Membership, Organisation, User
from .registration import invitation_create, user_is_registered
from .services import audit_record

# The audit log's actions, as the Audit Log screen names them.
AUDIT_ACTIONS = {
    "sign_in": "Signed in",
    "sign_out": "Signed out",
    "sign_in_failed": "Sign-in failed",
    "sign_in_locked_out": "Sign-in locked",
    "permission_denied": "Permission denied",
    "not_found": "Not found (refused)",
    "user_added": "User added",
    "user_linked": "User given roles",
    "roles_changed": "Roles changed",
    "user_unlinked": "User unlinked",
    "user_disabled": "User disabled",
    "user_enabled": "User enabled",
    "user_unlocked": "Sign-in unlocked",
    "invitation_sent": "Invitation sent",
    "invitation_accepted": "Invitation accepted",
    "invitation_declined": "Invitation declined",
    "registration_link_sent": "Registration link sent",
    "registration_link_requested": "New registration link requested",
    "registration_completed": "Registration completed",
    "password_changed": "Password changed",
    "password_reset_link_sent": "Password reset link sent",
    "password_reset": "Password reset",
    "preferences_changed": "Notification preferences changed",
}


class UserAdministrationError(Conflict):
    """A request a User Administrator may make, but not in this state (shown to them)."""


# Maker-checker (ADR 0014): an administrator's own roles are another administrator's to change.
OWN_ACCOUNT = "You cannot change your own roles or memberships: ask another User Administrator."


def _not_own_account(actor: User, user_id: int) -> None:
    if user_id == actor.pk:
        raise UserAdministrationError(OWN_ACCOUNT)


def email_domain_allowed(email: str) -> bool:
    """Is the address at one of ``USER_EMAIL_DOMAINS`` (or a subdomain of one)?"""
    domain = email.rsplit("@", 1)[-1].lower()
    return any(domain == allowed or domain.endswith("." + allowed) for allowed in _domains())


def _domains() -> list[str]:
    return [d.strip().lower().lstrip("@") for d in settings.USER_EMAIL_DOMAINS if d.strip()]


def _check_roles(organisation: Organisation, roles: Iterable[str]) -> list[str]:
    roles = sorted(set(roles))
    if not roles:
        raise ValidationError("Select at least one role.")
    allowed = permissions.roles_for_organisation(organisation)
    wrong = [role for role in roles if role not in allowed]
    if wrong:
        raise ValidationError(f"These roles cannot be held at a {organisation.get_kind_display()}: {', '.join(wrong)}.")
    return roles


def administered_organisation_get(*, actor: User, organisation_id: int) -> Organisation:
    """An organisation this administrator administers; any other is ``NotFound``."""
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None or not permissions.can_administer_organisation(actor, organisation):
        raise NotFound("No such organisation")
    return organisation


def _managed_user(actor: User, user_id: int, *, for_update: bool = True) -> User:
    queryset = User.objects.select_for_update() if for_update else User.objects.all()
    target = queryset.filter(pk=user_id).first()
    if target is None or not permissions.can_administer_user(actor, target):
        raise NotFound("No such user")
    return target


@transaction.atomic
def user_add(
    *,
    actor: User,
    email: str,
    full_name: str,
    organisation_id: int,
    roles: Iterable[str],
    base_url: str,
) -> User:
    """Add New User: give a new person roles at an organisation the administrator administers
    and email them a registration link.  The address must be at an allowed domain.

    A person who already has an account is never linked here (ADR 0014): they are sent an
    invitation to join the organisation with these roles (``accounts.invitations``) and hold
    them only once they accept it, signed in.  The returned user's ``invitation`` is that
    invitation (None for a new account).  Nobody adds themselves; a disabled account is not
    brought back here (Manage Org's & Users enables it)."""
    organisation = administered_organisation_get(actor=actor, organisation_id=organisation_id)
    email = User.objects.normalize_email(email.strip()).lower()
    if not email_domain_allowed(email):
        raise ValidationError(f"The email address must end in {' or '.join('@' + d for d in _domains())}.")
    roles = _check_roles(organisation, roles)
    user = User.objects.select_for_update().filter(email=email).first()
    if user is not None:
        _not_own_account(actor, user.pk)
        if not user.is_active:
            raise UserAdministrationError(
                "This person's account is disabled. Ask an administrator of all their organisations to enable it."
            )
        user.invitation = invitation_send(
            actor=actor, user=user, organisation=organisation, roles=roles, base_url=base_url
        )
        return user
    user = User.objects.create_user(email, None, full_name=full_name.strip())  # unusable password
    for role in roles:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    audit_record(
        actor=actor, action="user_added", organisation=organisation, obj=user, detail={"email": email, "roles": roles}
    )
    invitation_create(user=user, organisation=organisation, invited_by=actor, base_url=base_url)
    user.invitation = None
    return user


@transaction.atomic
def registration_link_resend(*, actor: User, user_id: int, base_url: str) -> None:
    """Send a new registration link (the earlier one stops working) to a user who has not
    registered yet."""
    target = _managed_user(actor, user_id)
    if not target.is_active:
        raise UserAdministrationError("This user is disabled.")
    if user_is_registered(user=target):
        raise UserAdministrationError("This user has registered already.")
    organisation = (
        Organisation.objects.filter(
            pk__in=Membership.objects.filter(user=target).values("organisation_id"),
        )
        .filter(pk__in=permissions.administered_organisation_ids(actor))
        .first()
    )
    invitation_create(user=target, organisation=organisation, invited_by=actor, base_url=base_url)


@transaction.atomic
def membership_change_roles(*, actor: User, user_id: int, organisation_id: int, roles: Iterable[str]) -> list[str]:
    """Set exactly which roles the user holds at the organisation (at least one: to take every
    role away, unlink them).  Never one's own (maker-checker)."""
    _not_own_account(actor, user_id)
    organisation = administered_organisation_get(actor=actor, organisation_id=organisation_id)
    target = _managed_user(actor, user_id)
    roles = _check_roles(organisation, roles)
    held = set(Membership.objects.filter(user=target, organisation=organisation).values_list("role", flat=True))
    if not held:
        raise NotFound("This user holds no role at this organisation")
    Membership.objects.filter(user=target, organisation=organisation).exclude(role__in=roles).delete()
    for role in set(roles) - held:
        Membership.objects.create(user=target, organisation=organisation, role=role)
    audit_record(
        actor=actor,
        action="roles_changed",
        organisation=organisation,
        obj=target,
        detail={"before": sorted(held), "after": roles},
    )
    return roles


@transaction.atomic
def membership_unlink(*, actor: User, user_id: int, organisation_id: int) -> int:
    """Unlink a user from an organisation: they lose every role there (the account stays).
    Never oneself (maker-checker)."""
    _not_own_account(actor, user_id)
    organisation = administered_organisation_get(actor=actor, organisation_id=organisation_id)
    target = _managed_user(actor, user_id)
    held = sorted(Membership.objects.filter(user=target, organisation=organisation).values_list("role", flat=True))
    if not held:
        raise NotFound("This user holds no role at this organisation")
    removed, _ = Membership.objects.filter(user=target, organisation=organisation).delete()
    audit_record(actor=actor, action="user_unlinked", organisation=organisation, obj=target, detail={"roles": held})
    return removed


def _not_own_status(actor: User, user_id: int) -> None:
    if user_id == actor.pk:
        raise NotAllowed("You cannot disable or enable your own account: ask another User Administrator.")


def sessions_end(*, user: User) -> int:
    """End every session of the user (database sessions; with the idle timeout only the sessions
    active in the last SESSION_COOKIE_AGE seconds are live, so this scan stays small)."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        if str(data.get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_disable(*, actor: User, user_id: int) -> User:
    """Disable a user: they can no longer sign in and every session they have ends at once.
    Only an administrator of all their organisations may do it (``permissions.can_disable_user``:
    never a superuser), never to themselves."""
    _not_own_status(actor, user_id)
    target = _managed_user(actor, user_id)
    if not permissions.can_disable_user(actor, target):
        raise NotAllowed("Only an administrator of all this user's organisations can disable them.")
    if not target.is_active:
        return target
    target.is_active = False
    target.save(update_fields=["is_active"])
    ended = sessions_end(user=target)
    organisation = _first_administered(actor, target)
    audit_record(actor=actor, action="user_disabled", organisation=organisation, obj=target, detail={"sessions_ended": ended})
    return target


@transaction.atomic
def user_enable(*, actor: User, user_id: int) -> User:
    """Enable a disabled user again (same rule as disabling)."""
    _not_own_status(actor, user_id)
    target = _managed_user(actor, user_id)
    if not permissions.can_disable_user(actor, target):
        raise NotAllowed("Only an administrator of all this user's organisations can enable them.")
    if target.is_active:
        return target
    target.is_active = True
    target.save(update_fields=["is_active"])
    audit_record(actor=actor, action="user_enabled", organisation=_first_administered(actor, target), obj=target)
    return target


@transaction.atomic
def user_unlock(*, actor: User, user_id: int) -> int:
    """Unlock a user whose sign-in is locked after too many failed attempts (their account's
    failures are forgotten; an address lockout cools off on its own)."""
    from axes.utils import reset

    target = _managed_user(actor, user_id, for_update=False)
    removed = reset(username=target.email)
    audit_record(
        actor=actor,
        action="user_unlocked",
        organisation=_first_administered(actor, target),
        obj=target,
        detail={"attempts_cleared": removed},
    )
    return removed


@transaction.atomic
def password_reset_link_send(*, actor: User, user_id: int, base_url: str) -> User:
    """Email a user a link to choose a new password (their password stays until they use it).
    Only a user with a password has one to reset: one still to register gets a registration
    link, one who signs in only with NHSmail resets it there."""
    from . import passwords

    target = _managed_user(actor, user_id, for_update=False)
    if not passwords.can_reset_password(user=target):
        raise UserAdministrationError(
            "This user has no CQRS password to reset: they are disabled, have not registered yet, "
            "or sign in with NHSmail."
        )
    passwords.password_reset_link_send(user=target, base_url=base_url, actor=actor)
    return target


def user_is_locked_out(*, user: User) -> bool:
    from axes.models import AccessAttempt

    cutoff = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        username=user.email, failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=cutoff
    ).exists()


def _first_administered(actor: User, target: User) -> Organisation | None:
    return (
        Organisation.objects.filter(memberships__user=target, pk__in=permissions.administered_organisation_ids(actor))
        .order_by("name")
        .first()
    )
