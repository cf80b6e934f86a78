"""Forgotten your password?: a single-use emailed link that expires, the Password Policy on the
new password, every other session ended, the same answer whether or not the address has an
account; and a User Administrator sending a user a reset link."""

import datetime as dt
import re

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse

from accounts.models import AuditEvent, Role
from tests.factories import PracticeFactory, member

pytestmark = pytest.mark.django_db

PASSWORD = "cqrs-test-password-2026"  # tests.factories.UserFactory's
NEW_PASSWORD = "a fresh passphrase for cqrs"
LINK = re.compile(r"http://testserver/sign-in/reset-password/[^/\s]+/[^/\s]+/")


@pytest.fixture
def pat():
    return member(PracticeFactory(), Role.SERVICE_MANAGEMENT, email="pat@nhs.net", full_name="Pat Practice")


def sign_in(client, email, password, address="192.0.2.10"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address)


def ask_for_link(client, email, capture):
    with capture(execute=True):
        return client.post(reverse("password_reset"), {"email": email})


def emailed_link(mailoutbox) -> str:
    (email,) = mailoutbox
    return LINK.search(email.body).group(0)


def choose_password(client, link, password, confirm=None):
    page = client.get(link)  # Django moves the token out of the URL into the session
    assert page.status_code == 302
    return client.post(page["Location"], {"new_password1": password, "new_password2": confirm or password})


def test_the_sign_in_page_offers_forgotten_your_password(client):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page and "Forgotten your password?" in page


def test_the_reset_pages_are_reachable_signed_out(client):
    for name in ("password_reset", "password_reset_done"):
        assert client.get(reverse(name)).status_code == 200
    bad_link = reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "not-a-token"})
    page = client.get(bad_link)
    assert page.status_code == 200 and "has been used already or has expired" in page.content.decode()


def test_a_known_address_is_emailed_a_full_link(client, pat, mailoutbox, django_capture_on_commit_callbacks):
    response = ask_for_link(client, "Pat@NHS.net", django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    (email,) = mailoutbox
    assert email.to == ["pat@nhs.net"] and email.subject == "CQRS: reset your password"
    assert LINK.search(email.body) and "expires in 60 minutes" in email.body
    event = AuditEvent.objects.get(action="password_reset_link_sent")
    assert event.actor == pat and event.detail == {"requested_by": "user"}


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    client, pat, mailoutbox, django_capture_on_commit_callbacks
):
    known = ask_for_link(client, "pat@nhs.net", django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    unknown = ask_for_link(client, "nobody@nhs.net", django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1  # no email for an address without an account
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    page = client.get(known["Location"])
    assert page.status_code == 200 and "If the address you entered belongs" in page.content.decode()


@pytest.mark.parametrize("kind", ["disabled", "awaiting registration", "NHSmail only"])
def test_no_link_for_an_account_without_a_password_to_reset(
    client, pat, kind, mailoutbox, django_capture_on_commit_callbacks
):
    if kind == "disabled":
        pat.is_active = False
    else:
        pat.set_unusable_password()
    pat.save()
    response = ask_for_link(client, "pat@nhs.net", django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_the_link_sets_a_new_password_once(client, pat, mailoutbox, django_capture_on_commit_callbacks):
    ask_for_link(client, "pat@nhs.net", django_capture_on_commit_callbacks)
    link = emailed_link(mailoutbox)
    response = choose_password(client, link, NEW_PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("login")
    pat.refresh_from_db()
    assert pat.check_password(NEW_PASSWORD)
    assert sign_in(client, "pat@nhs.net", NEW_PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(action="password_reset", actor=pat).exists()
    client.logout()
    # Single use: the token no longer matches once the password has changed.
    used = client.get(link)
    assert used.status_code == 200 and "has been used already or has expired" in used.content.decode()


def test_the_new_password_must_meet_the_policy_and_the_page_says_why(
    client, pat, mailoutbox, django_capture_on_commit_callbacks
):
    ask_for_link(client, "pat@nhs.net", django_capture_on_commit_callbacks)
    response = choose_password(client, emailed_link(mailoutbox), "qwertyuiopas")
    page = response.content.decode()
    assert response.status_code == 200
    assert "nhsuk-error-summary" in page and "too easy to guess" in page
    assert '<label class="nhsuk-label" for="id_new_password1"' in page
    assert "Password Policy" in page
    pat.refresh_from_db()
    assert pat.check_password(PASSWORD)


def test_the_link_expires_after_an_hour(client, pat, mailoutbox, django_capture_on_commit_callbacks, settings,
                                       monkeypatch):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    ask_for_link(client, "pat@nhs.net", django_capture_on_commit_callbacks)
    link = emailed_link(mailoutbox)
    later = dt.datetime.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    page = client.get(link)
    assert page.status_code == 200 and "has been used already or has expired" in page.content.decode()


def test_every_other_session_of_the_user_ends(client, pat, mailoutbox, django_capture_on_commit_callbacks):
    from django.test import Client

    elsewhere = Client()
    assert sign_in(elsewhere, "pat@nhs.net", PASSWORD, address="198.51.100.7").status_code == 302
    assert elsewhere.get(reverse("home")).status_code == 200
    ask_for_link(client, "pat@nhs.net", django_capture_on_commit_callbacks)
    choose_password(client, emailed_link(mailoutbox), NEW_PASSWORD)
    response = elsewhere.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert AuditEvent.objects.get(action="password_reset").detail["sessions_ended"] == 1


def test_asking_for_a_link_does_not_unlock_but_resetting_does(
    client, pat, mailoutbox, django_capture_on_commit_callbacks, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pat@nhs.net", "wrong")
    ask_for_link(client, "pat@nhs.net", django_capture_on_commit_callbacks)
    assert sign_in(client, "pat@nhs.net", PASSWORD).status_code == 429  # asking alone changes nothing
    choose_password(client, emailed_link(mailoutbox), NEW_PASSWORD)
    # Whoever used the link controls the mailbox; the guesses counted were of the old password.
    assert sign_in(client, "pat@nhs.net", NEW_PASSWORD).status_code == 302


# A User Administrator sends the link -----------------------------------------------------------

def test_an_administrator_sends_a_user_a_reset_link(client_for, pat, mailoutbox, django_capture_on_commit_callbacks):
    admin = member(pat.memberships.first().organisation, Role.USER_ADMINISTRATOR, email="admin@nhs.net")
    client = client_for(admin)
    page = client.get(reverse("accounts:user_detail", args=[pat.pk])).content.decode()
    assert "Send password reset link" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:send_password_reset_link", args=[pat.pk]), follow=True)
    assert "We have emailed pat@nhs.net a link to reset their password" in response.content.decode()
    assert LINK.search(emailed_link(mailoutbox))
    assert "Your CQRS User Administrator has asked" in mailoutbox[0].body
    event = AuditEvent.objects.get(action="password_reset_link_sent")
    assert event.actor == admin and event.detail == {"requested_by": "administrator"}
    pat.refresh_from_db()
    assert pat.check_password(PASSWORD)  # their password works until they use the link


def test_an_administrator_cannot_send_a_link_to_a_user_awaiting_registration(client_for, pat, mailoutbox):
    admin = member(pat.memberships.first().organisation, Role.USER_ADMINISTRATOR, email="admin@nhs.net")
    pat.set_unusable_password()
    pat.save()
    client = client_for(admin)
    assert "Send password reset link" not in client.get(reverse("accounts:user_detail", args=[pat.pk])).content.decode()
    response = client.post(reverse("accounts:send_password_reset_link", args=[pat.pk]), follow=True)
    assert "no CQRS password to reset" in response.content.decode()
    assert mailoutbox == []


def test_another_organisations_administrator_cannot_send_a_link(client_for, pat, mailoutbox):
    outsider = member(PracticeFactory(), Role.USER_ADMINISTRATOR, email="outsider@nhs.net")
    response = client_for(outsider).post(reverse("accounts:send_password_reset_link", args=[pat.pk]))
    assert response.status_code == 404 and mailoutbox == []


def test_the_email_is_written_and_sent_by_a_worker_after_the_request(client, pat, mailoutbox,
                                                                      django_capture_on_commit_callbacks):
    """The request only enqueues: sending mail takes time, and a request that sent it would take
    longer for a registered address than for an unknown one."""
    from accounts import tasks

    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse("password_reset"), {"email": "pat@nhs.net"})
    assert mailoutbox == [] and len(queued) == 1

    assert tasks.password_reset_email(pat.pk, "https://cqrs.example/", False) is True
    (email,) = mailoutbox
    assert "https://cqrs.example/sign-in/reset-password/" in email.body
    pat.is_active = False
    pat.save()
    assert tasks.password_reset_email(pat.pk, "https://cqrs.example/", False) is False  # disabled since
    assert len(mailoutbox) == 1
