"""Reads for accounts: every queryset is scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from . import permissions
from .errors import NotFound
from .models import Membership, Message, MessageRead


def _addressed_to(user) -> Q:
    held = permissions.memberships(user)
    if not held:
        return Q(pk__in=[])
    query = Q(organisation_id__in={org for org, _ in held}, role="")
    for org_id, role in held:
        query |= Q(organisation_id=org_id, role=role)
    return query


def message_list(*, user) -> QuerySet[Message]:
    """The user's Message Centre: messages to their organisations' holders of their roles,
    unread first, newest first."""
    return (
        Message.objects.filter(_addressed_to(user))
        .select_related("organisation")
        .annotate(is_read=Exists(MessageRead.objects.filter(message=OuterRef("pk"), user=user)))
        .order_by("is_read", "-created_at", "-id")
    )


def unread_message_count(*, user) -> int:
    return (
        Message.objects.filter(_addressed_to(user))
        .exclude(Exists(MessageRead.objects.filter(message=OuterRef("pk"), user=user)))
        .count()
    )


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
