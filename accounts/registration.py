"""Registration by emailed link (ADR 0003).

A User Administrator adds a user; the user gets an email with a link to the Registration
screen, then Security Information (Password Policy, create and confirm a password, or Sign in
with NHSmail).  The link is signed (django.core.signing, salted, so it cannot be forged or
altered), single-use (the invitation row records its use) and expires after
``REGISTRATION_LINK_DAYS`` days.  Only a hash of its random nonce is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .errors import Invalid
from .models import Membership, Message, Organisation, RegistrationInvitation, Role, User
from .services import audit_record, message_send, task_close

SALT = "accounts.registration.link"


class RegistrationLinkError(Invalid):
    """A registration link that cannot be used; ``reason`` (also its ``message``) says why, in
    the user's words.  The registration screens answer it with a page of their own (410, or 404
    for a link that was never valid)."""

    reason = "This registration link is not valid."

    def __init__(self, invitation: RegistrationInvitation | None = None):
        super().__init__(self.reason)
        self.invitation = invitation


class RegistrationLinkInvalid(RegistrationLinkError):
    reason = "This registration link is not valid. Check that you copied the whole link from the email."


class RegistrationLinkExpired(RegistrationLinkError):
    reason = "This registration link has expired."


class RegistrationLinkUsed(RegistrationLinkError):
    reason = "This registration link has already been used."


class RegistrationLinkReplaced(RegistrationLinkError):
    reason = "This registration link has been replaced by a newer one."


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _token(invitation_id: int, nonce: str) -> str:
    return signing.dumps({"i": invitation_id, "n": nonce}, salt=SALT)


def user_is_registered(*, user: User) -> bool:
    """Registered: no registration link is still waiting to be used (users created any other way,
    such as the demo users, count as registered)."""
    return not RegistrationInvitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).exists()


def registration_url(*, base_url: str, token: str) -> str:
    return base_url.rstrip("/") + reverse("registration", kwargs={"token": token})


@transaction.atomic
def invitation_create(*, user: User, organisation: Organisation, invited_by: User | None, base_url: str) -> str:
    """Issue a registration link for ``user`` (revoking any earlier one), email it after commit
    and return its token.  Callers have authorised the administrator already."""
    now = timezone.now()
    RegistrationInvitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    nonce = secrets.token_urlsafe(32)
    invitation = RegistrationInvitation.objects.create(
        user=user,
        organisation=organisation,
        invited_by=invited_by,
        nonce_hash=_hash(nonce),
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.REGISTRATION_LINK_DAYS),
    )
    token = _token(invitation.pk, nonce)
    link = registration_url(base_url=base_url, token=token)
    days = settings.REGISTRATION_LINK_DAYS
    body = (
        f"Dear {user.get_full_name()},\n\n"
        f"Your CQRS User Administrator has set you up on the Calculating Quality Reporting Service "
        f"for {organisation.name}.\n\n"
        f"Complete your registration and create a password here (the link works once and expires "
        f"in {days} days):\n\n{link}\n\n"
        f"If you did not expect this email, you can ignore it."
    )
    transaction.on_commit(
        lambda: send_mail("CQRS: complete your registration", body, settings.DEFAULT_FROM_EMAIL, [user.email])
    )
    # A new link answers any open request for one.
    task_close(task_key=f"registration:{user.pk}")
    audit_record(
        actor=invited_by,
        action="registration_link_sent",
        organisation=organisation,
        obj=user,
        detail={"email": user.email, "expires_at": invitation.expires_at.isoformat()},
    )
    return token


def invitation_from_token(*, token: str, for_update: bool = False) -> RegistrationInvitation:
    """The pending invitation behind a link, or a RegistrationLinkError saying why not."""
    try:
        payload = signing.loads(token, salt=SALT)
        invitation_id, nonce = int(payload["i"]), str(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise RegistrationLinkInvalid() from None
    queryset = RegistrationInvitation.objects.select_related("user", "organisation")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    invitation = queryset.filter(pk=invitation_id).first()
    if invitation is None or not secrets.compare_digest(invitation.nonce_hash, _hash(nonce)):
        raise RegistrationLinkInvalid()
    if invitation.used_at is not None:
        raise RegistrationLinkUsed(invitation)
    if invitation.revoked_at is not None:
        raise RegistrationLinkReplaced(invitation)
    if invitation.is_expired:
        raise RegistrationLinkExpired(invitation)
    if not invitation.user.is_active:
        raise RegistrationLinkInvalid()
    return invitation


@dataclass(frozen=True)
class RegistrationDetails:
    """What the Registration screen shows the user about their account."""

    full_name: str
    email: str
    organisations_and_roles: list[tuple[str, list[str]]]
    expires_at: dt.datetime


def registration_details(*, invitation: RegistrationInvitation) -> RegistrationDetails:
    grouped: dict[str, list[str]] = {}
    for membership in Membership.objects.filter(user=invitation.user).select_related("organisation"):
        grouped.setdefault(str(membership.organisation), []).append(membership.get_role_display())
    return RegistrationDetails(
        full_name=invitation.user.full_name,
        email=invitation.user.email,
        organisations_and_roles=sorted(grouped.items()),
        expires_at=invitation.expires_at,
    )


def _complete(invitation: RegistrationInvitation, *, method: str, ip_address: str | None) -> None:
    now = timezone.now()
    invitation.used_at = now
    invitation.save(update_fields=["used_at"])
    RegistrationInvitation.objects.filter(user=invitation.user, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    audit_record(
        actor=invitation.user,
        action="registration_completed",
        organisation=invitation.organisation,
        obj=invitation.user,
        detail={"method": method},
        ip_address=ip_address,
    )


@transaction.atomic
def registration_complete_with_password(*, token: str, password: str, ip_address: str | None = None) -> User:
    """Set the user's first password through a valid link and use the link up.  The password
    has been validated against the Password Policy by the form."""
    invitation = invitation_from_token(token=token, for_update=True)
    user = invitation.user
    user.set_password(password)
    user.save(update_fields=["password"])
    _complete(invitation, method="password", ip_address=ip_address)
    return user


@transaction.atomic
def registration_complete_with_nhsmail(*, token: str, email: str, ip_address: str | None = None) -> User:
    """Finish registration by signing in with NHSmail: the identity's email must be the invited
    user's own.  The user keeps no password (they sign in with NHSmail)."""
    invitation = invitation_from_token(token=token, for_update=True)
    if invitation.user.email.lower() != email.strip().lower():
        raise RegistrationLinkInvalid(invitation)
    _complete(invitation, method="nhsmail", ip_address=ip_address)
    return invitation.user


def _administrators_to_ask(organisation: Organisation) -> Organisation:
    """The organisation whose User Administrators should send a new link: the user's own if it
    has any, else its commissioner's (an ICB administers the practices it commissions)."""
    has_own = Membership.objects.filter(
        organisation=organisation, role=Role.USER_ADMINISTRATOR, user__is_active=True
    ).exists()
    if has_own or organisation.commissioner_id is None:
        return organisation
    return organisation.commissioner


@transaction.atomic
def registration_request_new_link(*, token: str, ip_address: str | None = None) -> bool:
    """From an expired, used or replaced link: put a task in the Message Centre of the
    organisation's User Administrators to send a new one.  Only a genuinely issued link can
    ask, and it asks once while the task is open.  Returns whether a task was created."""
    try:
        invitation_from_token(token=token)
        return False  # the link still works: nothing to ask for
    except RegistrationLinkInvalid:
        return False
    except RegistrationLinkError as error:
        invitation = error.invitation
    user = invitation.user
    if not user.is_active:
        return False
    task_key = f"registration:{user.pk}"
    if Message.objects.filter(task_key=task_key, is_task=True, closed_at__isnull=True).exists():
        return False
    organisation = _administrators_to_ask(invitation.organisation)
    message_send(
        organisation=organisation,
        role=Role.USER_ADMINISTRATOR,
        subject=f"New registration link requested by {user.get_full_name()}",
        body=(
            f"{user.get_full_name()} ({user.email}) of {invitation.organisation.name} followed a registration "
            f"link that can no longer be used and asks for a new one. Open the user on Manage Org's & Users "
            f"and select Send a new registration link."
        ),
        link=reverse("accounts:user_detail", kwargs={"user_id": user.pk}),
        is_task=True,
        task_key=task_key,
    )
    audit_record(
        actor=None,
        action="registration_link_requested",
        organisation=invitation.organisation,
        obj=user,
        ip_address=ip_address,
    )
    return True
