"""Invitations to join an organisation (maker-checker, ADR 0014).

Add New User with the email of an existing account never links that account: it sends its owner
an invitation to take the roles proposed at the organisation.  They are linked only when they
accept it, signed in as that account (My Account > Invitations); they may decline it.  An
invitation is single use, replaced by a newer one to the same organisation, expires after
``REGISTRATION_LINK_DAYS`` days, and cannot be accepted once the person who sent it no longer
administers the organisation.  Sent, accepted and declined are on record in the audit log.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from . import permissions
from .errors import Conflict, NotFound
from .models import Membership, Organisation, OrganisationInvitation, User
from .services import audit_record


class InvitationError(Conflict):
    """An invitation that can no longer be answered; the message says why."""


def _pending(queryset: QuerySet[OrganisationInvitation]) -> QuerySet[OrganisationInvitation]:
    return queryset.filter(accepted_at__isnull=True, declined_at__isnull=True, replaced_at__isnull=True)


def invitations_url(*, base_url: str) -> str:
    return base_url.rstrip("/") + reverse("invitations")


@transaction.atomic
def invitation_send(
    *, actor: User, user: User, organisation: Organisation, roles: list[str], base_url: str
) -> OrganisationInvitation:
    """Invite an existing account to take ``roles`` at ``organisation`` and email its owner a
    link to answer, after commit.  A pending invitation of theirs to the same organisation is
    replaced.  Callers (``user_admin.user_add``) have authorised the administrator and checked
    the roles; nobody invites themselves."""
    now = timezone.now()
    _pending(OrganisationInvitation.objects.filter(user=user, organisation=organisation)).update(replaced_at=now)
    invitation = OrganisationInvitation.objects.create(
        user=user,
        organisation=organisation,
        roles=sorted(roles),
        invited_by=actor,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.REGISTRATION_LINK_DAYS),
    )
    link = invitations_url(base_url=base_url)
    body = (
        f"Dear {user.get_full_name()},\n\n"
        f"{actor.get_full_name()} ({actor.email}), a CQRS User Administrator, invites you to join "
        f"{organisation.name} ({organisation.ods_code}) on the Calculating Quality Reporting Service "
        f"with these roles: {', '.join(invitation.role_labels)}.\n\n"
        f"Sign in as {user.email} and accept or decline the invitation here (it expires in "
        f"{settings.REGISTRATION_LINK_DAYS} days):\n\n{link}\n\n"
        f"You will hold the roles only if you accept. If you did not expect this invitation, decline it."
    )
    transaction.on_commit(
        lambda: send_mail(
            f"CQRS: invitation to join {organisation.name}", body, settings.DEFAULT_FROM_EMAIL, [user.email]
        )
    )
    audit_record(
        actor=actor,
        action="invitation_sent",
        organisation=organisation,
        obj=user,
        detail={"email": user.email, "roles": invitation.roles, "expires_at": invitation.expires_at.isoformat()},
    )
    return invitation


def invitation_list(*, user: User) -> QuerySet[OrganisationInvitation]:
    """The signed-in user's own invitations still to answer (pending, not expired)."""
    return (
        _pending(OrganisationInvitation.objects.filter(user=user, expires_at__gt=timezone.now()))
        .select_related("organisation", "invited_by")
        .order_by("-created_at", "-id")
    )


def _answerable(invitation_id: int, user: User) -> OrganisationInvitation:
    """The invitation, locked, if it is the user's own and can still be answered."""
    invitation = (
        OrganisationInvitation.objects.select_for_update(of=("self",))
        .select_related("organisation", "invited_by")
        .filter(pk=invitation_id, user_id=user.pk)
        .first()
    )
    if invitation is None or not user.is_active:
        raise NotFound("No such invitation")  # someone else's is answered as one that does not exist
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been accepted.")
    if invitation.declined_at is not None:
        raise InvitationError("This invitation has already been declined.")
    if invitation.replaced_at is not None:
        raise InvitationError("This invitation has been replaced by a newer one.")
    if invitation.is_expired:
        raise InvitationError("This invitation has expired. Ask the User Administrator to invite you again.")
    return invitation


@transaction.atomic
def invitation_accept(*, invitation_id: int, user: User) -> OrganisationInvitation:
    """Accept an invitation, signed in as the invited account: the roles proposed are granted at
    the organisation.  Refused if the person who sent it no longer administers the organisation
    (or a role no longer suits it)."""
    invitation = _answerable(invitation_id, user)
    inviter, organisation = invitation.invited_by, invitation.organisation
    allowed = set(permissions.roles_for_organisation(organisation))
    if (
        not inviter.is_active
        or not permissions.can_administer_organisation(inviter, organisation)
        or not set(invitation.roles) <= allowed
    ):
        raise InvitationError(
            "This invitation is no longer valid: the person who sent it no longer administers "
            f"{organisation.name}. Ask a User Administrator to invite you again."
        )
    for role in invitation.roles:
        Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    user.__dict__.pop("_cqrs_memberships", None)  # the cached roles are out of date
    audit_record(
        actor=user,
        action="invitation_accepted",
        organisation=organisation,
        obj=user,
        detail={"roles": invitation.roles, "invited_by": inviter.email},
    )
    return invitation


@transaction.atomic
def invitation_decline(*, invitation_id: int, user: User) -> OrganisationInvitation:
    """Decline an invitation, signed in as the invited account: nothing is granted."""
    invitation = _answerable(invitation_id, user)
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["declined_at"])
    audit_record(
        actor=user,
        action="invitation_declined",
        organisation=invitation.organisation,
        obj=user,
        detail={"roles": invitation.roles, "invited_by": invitation.invited_by.email},
    )
    return invitation

