"""Reads for accounts: every queryset is scoped to what the user may see."""

from __future__ import annotations

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from . import permissions
from .errors import NotFound
from .inputs import text_or_none
from .models import Membership, Message, MessageRead


def _addressed_to(user) -> Q:
    held = permissions.memberships(user)
    if not held:
        return Q(pk__in=[])
    query = Q(organisation_id__in={org for org, _ in held}, role="")
    for org_id, role in held:
        query |= Q(organisation_id=org_id, role=role)
    return query


def _unread(user) -> Q:
    """Unread by ``user``: not opened by them, and either sent after they took the role it is
    addressed to or a task still waiting to be done.

    Messages go to an organisation's holders of a role, not to people, so a user who joins an
    organisation inherits its Message Centre; what was sent before they joined (a task a colleague
    has done: "Task done", a notice) is history, not news to them.  A task still open is theirs to do.
    """
    opened = Exists(MessageRead.objects.filter(message=OuterRef("pk"), user=user))
    joined_before = Membership.objects.filter(
        user=user, organisation_id=OuterRef("organisation_id"), created_at__lte=OuterRef("created_at")
    )
    sent_since_joining = (Q(role="") & Exists(joined_before)) | (
        ~Q(role="") & Exists(joined_before.filter(role=OuterRef("role")))
    )
    return ~opened & (sent_since_joining | Q(is_task=True, closed_at__isnull=True))


def message_list(*, user) -> QuerySet[Message]:
    """The user's Message Centre: messages to their organisations' holders of their roles,
    unread first (``_unread``), newest first."""
    return (
        Message.objects.filter(_addressed_to(user))
        .select_related("organisation")
        .annotate(is_read=ExpressionWrapper(~_unread(user), output_field=BooleanField()))
        .order_by("is_read", "-created_at", "-id")
    )


def unread_message_count(*, user) -> int:
    return Message.objects.filter(_addressed_to(user)).filter(_unread(user)).count()


def membership_list(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organisation").order_by(
        "organisation__name", "role"
    )


def organisations_and_roles(*, user) -> list[tuple]:
    """[(organisation, [role labels])] for the user's Home and My Account pages."""
    grouped: dict[int, tuple] = {}
    for membership in membership_list(user=user):
        org = membership.organisation
        grouped.setdefault(org.pk, (org, []))[1].append(membership.get_role_display())
    return list(grouped.values())


def organisation_get(*, user, ods_code: str):
    """An organisation the user may see; any other is ``NotFound`` (never reveal another
    organisation's data)."""
    if text_or_none(ods_code) is None:  # a NUL byte: PostgreSQL cannot even compare it
        raise NotFound("No such organisation")
    organisation = permissions.visible_organisations(user).filter(ods_code=ods_code).first()
    if organisation is None:
        raise NotFound("No such organisation")
    return organisation


def organisation_people(*, organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation, user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email", "role")
    )


# Reads for the Administrative Tasks screens: scoped to what the administrator administers ------

def managed_user_list(*, actor, search: str = "", organisation_id: int | None = None) -> QuerySet:
    """Manage Org's & Users: the users holding a role in an organisation the administrator
    administers, with those memberships, whether they have registered and whether their sign-in
    is locked.  A fixed number of queries however many users a page shows."""
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.db.models import Prefetch
    from django.utils import timezone

    from .models import RegistrationInvitation, User

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


def managed_user_get(*, actor, user_id: int):
    """One user the administrator manages (annotated as in the list), or 404."""
    user = managed_user_list(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user")
    return user


# Sign-in events name no organisation: they are tied to the account tried (no actor when it failed).
ACCOUNT_EVENTS = ("sign_in_failed", "sign_in_locked_out")


def audit_event_list(*, actor, action: str = "") -> QuerySet:
    """The Audit Log (ADR 0014): the events at the organisations the administrator administers,
    and, for the users they wholly administer (every membership at one of those organisations),
    what those users did that names no organisation: their sign-ins, failed sign-ins and refusals.
    What a shared member did elsewhere, or when they signed in, is not this administrator's to
    read.  ``address_shown`` says whether the event's IP address may be shown: only the
    administrator's own and a wholly administered user's."""
    from django.db.models import BooleanField, CharField, ExpressionWrapper
    from django.db.models.functions import Cast

    from .models import AuditEvent

    administered = permissions.administered_organisation_ids(actor)
    if not administered:
        return AuditEvent.objects.none()
    wholly = permissions.wholly_administered_users(actor)
    wholly_ids = wholly.values("pk")
    about_wholly = Q(
        actor__isnull=True,
        object_type="accounts.User",
        object_id__in=wholly.annotate(uid=Cast("pk", CharField())).values("uid"),
    )
    events = AuditEvent.objects.filter(
        Q(organisation_id__in=administered)
        | Q(actor_id__in=wholly_ids, organisation__isnull=True)
        | (about_wholly & Q(action__in=ACCOUNT_EVENTS))
    )
    if action:
        events = events.filter(action=action)
    address_shown = Q(actor_id=actor.pk) | Q(actor_id__in=wholly_ids) | about_wholly
    return (
        events.annotate(address_shown=ExpressionWrapper(address_shown, output_field=BooleanField()))
        .select_related("actor", "organisation")
        .order_by("-at", "-id")
    )
