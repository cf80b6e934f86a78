"""Writes for accounts: the Message Centre, notification preferences and the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from .bulk import insert_rows
from .errors import NotFound
from .inputs import storable
from .models import AuditEvent, Message, MessageRead, Organisation
from .selectors import message_list


def audit_record(
    *,
    actor=None,
    action: str,
    organisation: Organisation | None = None,
    obj=None,
    detail: dict | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append who did what to the audit log."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        organisation=organisation,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=storable(detail or {}),  # a request's path may hold a NUL byte
        ip_address=ip_address,
    )


def audit_records(*, events: Iterable[dict]) -> list[AuditEvent]:
    """``audit_record`` for many events at once (a bulk transition's): one INSERT.  Each event is
    a dict of ``audit_record``'s arguments (actor, action, organisation, obj, detail)."""
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=event.get("actor") if getattr(event.get("actor"), "is_authenticated", False) else None,
                action=event["action"],
                organisation=event.get("organisation"),
                object_type=event["obj"]._meta.label if event.get("obj") is not None else "",
                object_id=str(event["obj"].pk) if event.get("obj") is not None else "",
                detail=storable(event.get("detail") or {}),
                ip_address=event.get("ip_address"),
            )
            for event in events
        ],
        batch_size=1000,
    )


@transaction.atomic
def message_send(
    *,
    organisation: Organisation,
    role: str = "",
    subject: str,
    body: str = "",
    link: str = "",
    is_task: bool = False,
    task_key: str = "",
) -> Message:
    """Put a message (or task) in the Message Centre of ``organisation``'s holders of ``role``
    (every member when ``role`` is blank) and email those who asked for email, after commit."""
    from .tasks import message_email

    message = Message.objects.create(
        organisation=organisation,
        role=role,
        subject=subject,
        body=body,
        link=link,
        is_task=is_task,
        task_key=task_key,
    )
    message_email.delay_on_commit(message.pk)
    return message


# Messages per email task: a bulk approval's thousand messages are a few tasks, not a thousand.
EMAIL_TASK_SIZE = 200


@transaction.atomic
def messages_send(*, messages: Sequence[Message]) -> list[Message]:
    """``message_send`` for many messages at once (a bulk approval's tasks and notices): one
    INSERT of them all, and their emails enqueued after commit, a task per ``EMAIL_TASK_SIZE``
    messages.  ``messages``: unsaved ``Message`` rows, addressed as ``message_send``'s."""
    from .tasks import message_emails

    created = list(messages)
    insert_rows(Message, created)
    ids = [message.pk for message in created]
    for start in range(0, len(ids), EMAIL_TASK_SIZE):
        message_emails.delay_on_commit(ids[start : start + EMAIL_TASK_SIZE])
    return created


@transaction.atomic
def tasks_close(*, task_keys: Iterable[str]) -> int:
    """``task_close`` for many actions at once: one UPDATE."""
    keys = sorted(set(task_keys))
    if not keys:
        return 0
    return Message.objects.filter(task_key__in=keys, is_task=True, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )


@transaction.atomic
def task_close(*, task_key: str) -> int:
    """Close the open tasks that asked for the action identified by ``task_key``."""
    return Message.objects.filter(task_key=task_key, is_task=True, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )


@transaction.atomic
def message_open(*, message_id: int, user) -> Message:
    """Open a message addressed to the user and mark it read for them."""
    message = message_list(user=user).filter(pk=message_id).first()
    if message is None:
        raise NotFound("No such message")
    MessageRead.objects.get_or_create(message=message, user=user)
    return message


def messages_email_send(*, message_ids: Sequence[int]) -> int:
    """Email each of these messages to the members who asked for email; returns how many emails
    were sent.  Set-based: one query for the messages, one for every recipient of them all, one
    connection for the emails and one UPDATE per distinct count (a national recalculation's
    6,410 tasks are 33 such tasks, not 19,000 queries)."""
    from django.conf import settings
    from django.core.mail import send_mass_mail

    from .models import Membership

    messages = list(Message.objects.filter(pk__in=list(message_ids)).order_by("pk"))
    if not messages:
        return 0
    members: dict[tuple[int, str], set[str]] = {}
    anyone: dict[int, set[str]] = {}
    for organisation_id, role, email in Membership.objects.filter(
        organisation_id__in={m.organisation_id for m in messages},
        user__is_active=True,
        user__email_notifications=True,
    ).values_list("organisation_id", "role", "user__email"):
        members.setdefault((organisation_id, role), set()).add(email)
        anyone.setdefault(organisation_id, set()).add(email)
    emails = []
    sent_to: dict[int, list[int]] = {}  # recipients' count -> message ids
    for message in messages:
        recipients = sorted(
            members.get((message.organisation_id, message.role), set()) if message.role
            else anyone.get(message.organisation_id, set())
        )
        sent_to.setdefault(len(recipients), []).append(message.pk)
        body = message.body
        if message.link:
            body = f"{body}\n\nSign in to CQRS to see it: {site_link(message.link)}".strip()
        subject = f"CQRS: {message.subject}"
        emails.extend((subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients)
    if emails:
        send_mass_mail(emails, fail_silently=False)
    now = timezone.now()
    for count, ids in sent_to.items():
        Message.objects.filter(pk__in=ids).update(emailed_at=now, emailed_to=count)
    return len(emails)


def message_email_recipients(*, message: Message) -> list[str]:
    from .models import User

    users = User.objects.filter(
        is_active=True,
        email_notifications=True,
        memberships__organisation_id=message.organisation_id,
    )
    if message.role:
        users = users.filter(memberships__role=message.role)
    return sorted(set(users.values_list("email", flat=True)))


def site_link(path: str) -> str:
    """A full link to a page of CQRS, for an email: ``settings.SITE_URL`` and the page's path (a
    link that is already absolute is left as it is)."""
    from django.conf import settings

    if not path or "://" in path:
        return path
    return f"{settings.SITE_URL.rstrip('/')}/{path.lstrip('/')}"


def message_email_send(*, message_id: int) -> int:
    """Email a message to the members who asked for email; returns how many were sent."""
    return messages_email_send(message_ids=[message_id])


@transaction.atomic
def user_update_preferences(*, user, email_notifications: bool) -> None:
    """Save the user's notification preferences (My Account)."""
    user.email_notifications = email_notifications
    user.save(update_fields=["email_notifications"])
    audit_record(actor=user, action="preferences_changed", obj=user,
                 detail={"email_notifications": email_notifications})
