"""Registration by emailed link: Registration, Security Information, expired and used links."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import registration, user_admin
from accounts.models import AuditEvent, Message, RegistrationInvitation, Role
from tests.factories import ICBFactory, PracticeFactory, member

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "correct horse battery staple"


@pytest.fixture
def invited(django_capture_on_commit_callbacks):
    icb = ICBFactory()
    practice = PracticeFactory(commissioner=icb, pcn__commissioner=icb)
    admin = member(icb, Role.USER_ADMINISTRATOR, email="icb.admin@nhs.net")
    with django_capture_on_commit_callbacks(execute=True):
        user = user_admin.user_add(
            actor=admin, email="new.starter@nhs.net", full_name="Nia Newstarter",
            organisation_id=practice.pk, roles=[Role.SERVICE_MANAGEMENT], base_url="http://testserver/",
        )
    link = re.search(r"http://testserver(/register/\S+/)", mail.outbox[-1].body).group(1)
    token = link.split("/")[2]
    return {"user": user, "admin": admin, "icb": icb, "practice": practice, "link": link, "token": token}


def set_password(client, token, password=GOOD_PASSWORD, confirm=None):
    return client.post(
        reverse("registration_security_information", kwargs={"token": token}),
        {"new_password1": password, "new_password2": confirm or password},
    )


def test_the_link_opens_the_registration_screen_then_security_information(client, invited):
    page = client.get(invited["link"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "<h1>Registration</h1>" in text and "new.starter@nhs.net" in text and "Service Management" in text
    page = client.get(reverse("registration_security_information", kwargs={"token": invited["token"]}))
    text = page.content.decode()
    assert "<h1>Security Information</h1>" in text and "Password Policy" in text
    assert "at least 12 characters" in text


def test_the_user_creates_a_password_and_signs_in(client, invited):
    response = set_password(client, invited["token"])
    assert response.status_code == 302 and response["Location"] == reverse("login")
    signed_in = client.post(reverse("login"), {"username": "new.starter@nhs.net", "password": GOOD_PASSWORD})
    assert signed_in.status_code == 302
    assert client.get(reverse("home")).context["user"] == invited["user"]
    assert registration.user_is_registered(user=invited["user"])
    assert AuditEvent.objects.filter(action="registration_completed", actor=invited["user"]).exists()


@pytest.mark.parametrize(
    "password, confirm, problem",
    [
        ("short-pass1", None, "too short"),
        ("password1234", None, "too common"),
        ("newstarter-nhs", None, "too similar"),
        (GOOD_PASSWORD, "something different", "didn’t match"),
    ],
)
def test_the_password_policy_is_enforced(client, invited, password, confirm, problem):
    response = set_password(client, invited["token"], password, confirm)
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not registration.user_is_registered(user=invited["user"])


@pytest.mark.parametrize(
    "password",
    [
        "twelve chars",  # no composition rules: spaces and lower case only are fine
        "ñandú-über-façade-日本語",  # any characters
        "a very long passphrase " * 3,  # 64+ characters are allowed
    ],
)
def test_long_and_simple_passphrases_are_accepted(client, invited, password):
    assert len(password) >= 12
    assert set_password(client, invited["token"], password).status_code == 302


def test_a_used_link_says_so_and_offers_to_ask_for_a_new_one(client, invited):
    set_password(client, invited["token"])
    for url in (invited["link"], reverse("registration_security_information", kwargs={"token": invited["token"]})):
        page = client.get(url)
        assert page.status_code == 410
        assert "already been used" in page.content.decode()
        assert "Ask my administrator for a new link" in page.content.decode()
    # A second attempt to set the password through it fails too.
    assert set_password(client, invited["token"], "another good passphrase").status_code == 410


def test_an_expired_link_says_so(client, invited):
    RegistrationInvitation.objects.filter(user=invited["user"]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    page = client.get(invited["link"])
    assert page.status_code == 410 and "has expired" in page.content.decode()
    assert set_password(client, invited["token"]).status_code == 410


def test_a_link_is_valid_for_fourteen_days(invited):
    invitation = RegistrationInvitation.objects.get(user=invited["user"])
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=14)


def test_a_tampered_link_is_not_valid(client, invited):
    token = invited["token"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    page = client.get(reverse("registration", kwargs={"token": tampered}))
    assert page.status_code == 404 and "not valid" in page.content.decode()
    assert "Ask my administrator" not in page.content.decode()


def test_a_replaced_link_stops_working(client, invited, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_admin.registration_link_resend(actor=invited["admin"], user_id=invited["user"].pk, base_url="http://testserver/")
    assert client.get(invited["link"]).status_code == 410
    new_link = re.search(r"http://testserver(/register/\S+/)", mail.outbox[-1].body).group(1)
    assert client.get(new_link).status_code == 200


def test_asking_for_a_new_link_puts_a_task_in_the_administrators_message_centre(client, client_for, invited):
    set_password(client, invited["token"])
    response = client.post(reverse("registration_new_link", kwargs={"token": invited["token"]}))
    assert response.status_code == 200 and "asked your User Administrator" in response.content.decode()
    # The practice has no User Administrator of its own, so its commissioner's are asked.
    task = Message.objects.get(is_task=True)
    assert task.organisation == invited["icb"] and task.role == Role.USER_ADMINISTRATOR
    assert task.link == reverse("accounts:user_detail", kwargs={"user_id": invited["user"].pk})
    home = client_for(invited["admin"]).get(reverse("home")).content.decode()
    assert "New registration link requested by Nia Newstarter" in home
    # Asking again while the task is open does not pile up tasks.
    client.post(reverse("registration_new_link", kwargs={"token": invited["token"]}))
    assert Message.objects.filter(is_task=True).count() == 1


def test_the_practices_own_administrators_are_asked_when_it_has_some(client, invited):
    member(invited["practice"], Role.USER_ADMINISTRATOR, email="practice.admin@nhs.net")
    RegistrationInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(days=1))
    client.post(reverse("registration_new_link", kwargs={"token": invited["token"]}))
    assert Message.objects.get(is_task=True).organisation == invited["practice"]


def test_sending_a_new_link_closes_the_task(client, invited, django_capture_on_commit_callbacks):
    RegistrationInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(days=1))
    client.post(reverse("registration_new_link", kwargs={"token": invited["token"]}))
    with django_capture_on_commit_callbacks(execute=True):
        user_admin.registration_link_resend(actor=invited["admin"], user_id=invited["user"].pk, base_url="http://testserver/")
    assert Message.objects.get(is_task=True).closed_at is not None


def test_a_forged_token_cannot_ask_for_links(client, invited):
    client.post(reverse("registration_new_link", kwargs={"token": "forged"}))
    assert not Message.objects.exists()


def test_the_link_stores_only_a_hash(invited):
    invitation = RegistrationInvitation.objects.get(user=invited["user"])
    assert invitation.nonce_hash not in invited["token"]
    assert len(invitation.nonce_hash) == 64
