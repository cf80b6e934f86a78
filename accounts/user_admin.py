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
    """Add New User: give a person roles at an organisation the administrator administers and,
    unless they have registered already, email them a registration link.  The address must be at
    an allowed domain.  A person who already has an account is linked, not duplicated; a
    disabled account is not brought back here (Manage Org's & Users enables it)."""
    organisation = administered_organisation_get(actor=actor, organisation_id=organisation_id)
    email = User.objects.normalize_email(email.strip()).lower()
    if not email_domain_allowed(email):
        raise ValidationError(f"The email address must end in {' or '.join('@' + d for d in _domains())}.")
    roles = _check_roles(organisation, roles)
    user = User.objects.select_for_update().filter(email=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(email, None, full_name=full_name.strip())  # unusable password
    elif not user.is_active:
        raise UserAdministrationError(
            "This person's account is disabled. Ask an administrator of all their organisations to enable it."
        )
    for role in roles:
        Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    audit_record(
        actor=actor,
        action="user_added" if created else "user_linked",
        organisation=organisation,
        obj=user,
        detail={"email": email, "roles": roles},
    )
    if created or not user_is_registered(user=user):
        invitation_create(user=user, organisation=organisation, invited_by=actor, base_url=base_url)
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
    role away, unlink them)."""
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
    """Unlink a user from an organisation: they lose every role there (the account stays)."""
    organisation = administered_organisation_get(actor=actor, organisation_id=organisation_id)
    target = _managed_user(actor, user_id)
    held = sorted(Membership.objects.filter(user=target, organisation=organisation).values_list("role", flat=True))
    if not held:
        raise NotFound("This user holds no role at this organisation")
    if target.pk == actor.pk and "user_administrator" in held:
        raise UserAdministrationError("You cannot unlink yourself; ask another User Administrator.")
    removed, _ = Membership.objects.filter(user=target, organisation=organisation).delete()
    audit_record(actor=actor, action="user_unlinked", organisation=organisation, obj=target, detail={"roles": held})
    return removed


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
    Only an administrator of all their organisations may do it, never to themselves."""
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


# Reads for the Administrative Tasks screens: scoped to what the administrator administers ------

def managed_user_list(*, actor: User, search: str = "", organisation_id: int | None = None):
    """Manage Org's & Users: the users holding a role in an organisation the administrator
    administers, with those memberships, whether they have registered and whether their sign-in
    is locked.  A fixed number of queries however many users a page shows."""
    from axes.models import AccessAttempt
    from django.db.models import Exists, OuterRef, Prefetch, Q

    from .models import RegistrationInvitation

    administered = permissions.administered_organisation_ids(actor)
    scope = set(administered) if organisation_id is None else set(administered) & {organisation_id}
    users = User.objects.filter(Exists(Membership.objects.filter(user=OuterRef("pk"), organisation_id__in=scope)))
    if search:
        users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    cutoff = timezone.now() - settings.AXES_COOLOFF_TIME
    return users.annotate(
        awaiting_registration=Exists(
            RegistrationInvitation.objects.filter(user=OuterRef("pk"), used_at__isnull=True, revoked_at__isnull=True)
        ),
        locked_out=Exists(
            AccessAttempt.objects.filter(
                username=OuterRef("email"),
                failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                attempt_time__gte=cutoff,
            )
        ),
    ).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(organisation_id__in=administered).select_related("organisation"),
            to_attr="administered_memberships",
        )
    ).order_by("full_name", "email")


def managed_user_get(*, actor: User, user_id: int) -> User:
    """One user the administrator manages (annotated as in the list), or 404."""
    user = managed_user_list(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user")
    return user


def audit_event_list(*, actor: User, action: str = ""):
    """The audit log of the organisations the administrator administers: events about those
    organisations and events by people who hold a role in them (their sign-ins, denials)."""
    from django.db.models import Exists, OuterRef, Q

    from .models import AuditEvent

    administered = permissions.administered_organisation_ids(actor)
    if not administered:
        return AuditEvent.objects.none()
    from django.db.models import CharField
    from django.db.models.functions import Cast

    members = Membership.objects.filter(organisation_id__in=administered)
    events = AuditEvent.objects.filter(
        Q(organisation_id__in=administered)
        # What a member did that is tied to no organisation (sign-ins, refusals, password
        # changes); what they did at an organisation this administrator does not administer is
        # that organisation's record, not ours.
        | Q(Exists(members.filter(user=OuterRef("actor_id"))), organisation__isnull=True)
        # Failed and locked-out sign-ins name no actor: they are tied to the account tried.
        | Q(
            action__in=["sign_in_failed", "sign_in_locked_out"],
            object_type="accounts.User",
            object_id__in=members.annotate(uid=Cast("user_id", CharField())).values("uid"),
        )
    )
    if action:
        events = events.filter(action=action)
    return events.select_related("actor", "organisation").order_by("-at", "-id")
