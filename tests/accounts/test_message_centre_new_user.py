"""A brand-new user does not start with unread "Task done" messages (issue 14, section 5).

Why they did: messages are addressed to an organisation's holders of a role, not to people, so a
user who joins inherits the organisation's Message Centre, and every message of it (tasks a
colleague did long ago included) was unread by them.  What was sent before they took the role is
history: read; a task still open is theirs to do: unread."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Message, Role
from accounts.selectors import message_list, unread_message_count
from accounts.services import message_send, task_close
from tests.factories import PracticeFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice_history():
    practice = PracticeFactory()
    colleague = member(practice, Role.SERVICE_MANAGEMENT)
    done = message_send(organisation=practice, role=Role.SERVICE_MANAGEMENT, subject="Offer answered",
                        is_task=True, task_key="offer:1")
    task_close(task_key="offer:1")
    notice = message_send(organisation=practice, subject="A notice to everyone")
    still_open = message_send(organisation=practice, role=Role.SERVICE_MANAGEMENT, subject="Offer to answer",
                              is_task=True, task_key="offer:2")
    # All of it happened a week ago.
    Message.objects.filter(pk__in=[done.pk, notice.pk, still_open.pk]).update(
        created_at=timezone.now() - dt.timedelta(days=7)
    )
    return {"practice": practice, "colleague": colleague, "done": done, "notice": notice, "open": still_open}


def test_a_new_user_has_no_unread_task_done_only_the_open_task(client, practice_history):
    newcomer = member(practice_history["practice"], Role.SERVICE_MANAGEMENT)

    assert unread_message_count(user=newcomer) == 1
    read = {m.subject: m.is_read for m in message_list(user=newcomer)}
    assert read == {"Offer answered": True, "A notice to everyone": True, "Offer to answer": False}
    client.force_login(newcomer)
    home = client.get(reverse("home"))
    assert home.context["unread_message_count"] == 1
    assert "Task done" in home.content.decode()  # still listed, as history


def test_what_arrives_after_joining_is_unread_and_the_colleague_keeps_their_unread(practice_history):
    newcomer = member(practice_history["practice"], Role.SERVICE_MANAGEMENT)
    fresh = message_send(organisation=practice_history["practice"], role=Role.SERVICE_MANAGEMENT, subject="New")
    assert {m.subject for m in message_list(user=newcomer) if not m.is_read} == {"Offer to answer", "New"}
    # The colleague who held the role all along: nothing of theirs changes (backdate their role).
    Membership.objects.filter(user=practice_history["colleague"]).update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    assert unread_message_count(user=practice_history["colleague"]) == 4
    assert fresh.pk in {m.pk for m in message_list(user=practice_history["colleague"]) if not m.is_read}


def test_a_role_taken_later_does_not_make_that_roles_old_messages_unread(practice_history):
    practice = practice_history["practice"]
    user = member(practice, Role.VIEW)
    Membership.objects.filter(user=user).update(created_at=timezone.now() - dt.timedelta(days=30))
    old_finance = message_send(organisation=practice, role=Role.FINANCE_VIEW, subject="Old finance notice")
    Message.objects.filter(pk=old_finance.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    member(practice, Role.FINANCE_VIEW, user=user)
    unread = {m.subject for m in message_list(user=user) if not m.is_read}
    assert "Old finance notice" not in unread and "A notice to everyone" in unread
