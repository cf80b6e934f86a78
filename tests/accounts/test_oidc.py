"""Sign in with NHSmail against a real (local) OpenID provider: tests/oidc_mock.py."""

from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from accounts import registration
from accounts.models import AuditEvent, Role
from tests.factories import PracticeFactory, member
from tests.oidc_mock import CLIENT_ASSERTION_TYPE, MockOpenIDProvider, configure_cqrs_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    provider = MockOpenIDProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def nhsmail(settings, provider):
    configure_cqrs_for(settings, provider)
    return provider


def sign_in_with_nhsmail(client, provider, email, start=None):
    """Follow the flow as a browser would: CQRS -> provider's authorize -> CQRS callback."""
    provider.auto_sign_in_as = email
    response = client.get(start or reverse("nhsmail_sign_in"))
    assert response.status_code == 302, response.content[:500]
    authorize = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert authorize.status_code == 302, authorize.text
    callback = urlsplit(authorize.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_the_button_is_hidden_when_nhsmail_is_not_configured(client, settings):
    settings.OIDC_ISSUER = ""
    response = client.get(reverse("login"))
    assert "Sign in with NHSmail" not in response.content.decode()
    assert client.get(reverse("nhsmail_sign_in")).status_code == 404
    assert client.get(reverse("nhsmail_callback")).status_code == 404


def test_the_sign_in_page_offers_nhsmail_when_configured(client, nhsmail):
    assert "Sign in with NHSmail" in client.get(reverse("login")).content.decode()


def test_a_registered_user_signs_in_with_nhsmail_using_private_key_jwt(client, nhsmail):
    user = member(PracticeFactory(), Role.SERVICE_MANAGEMENT, email="pat.practice@nhs.net")
    response = sign_in_with_nhsmail(client, nhsmail, "Pat.Practice@nhs.net")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == user
    # The client authenticated with a signed assertion, never a secret.
    (token_request,) = nhsmail.token_requests
    assert token_request["form"]["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert "client_secret" not in token_request["form"] and not token_request["authorization"]
    assert AuditEvent.objects.filter(action="sign_in", actor=user, detail__method="nhsmail").exists()


def test_client_secret_basic_works_too(client, settings, provider):
    configure_cqrs_for(settings, provider, private_key_jwt=False)
    user = member(PracticeFactory(), Role.VIEW, email="viewer@nhs.net")
    response = sign_in_with_nhsmail(client, provider, "viewer@nhs.net")
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == user
    assert provider.token_requests[0]["authorization"].startswith("Basic ")


def test_an_identity_without_a_cqrs_account_is_refused_and_no_user_is_created(client, nhsmail, django_user_model):
    before = django_user_model.objects.count()
    response = sign_in_with_nhsmail(client, nhsmail, "stranger@nhs.net")
    assert response.status_code == 403
    assert "no CQRS account" in response.content.decode()
    assert django_user_model.objects.count() == before
    assert not client.get(reverse("home")).context  # redirected to sign in
    assert AuditEvent.objects.filter(action="sign_in_failed", detail__method="nhsmail").exists()


def test_a_disabled_user_cannot_sign_in_with_nhsmail(client, nhsmail):
    member(PracticeFactory(), Role.VIEW, email="gone@nhs.net", is_active=False)
    response = sign_in_with_nhsmail(client, nhsmail, "gone@nhs.net")
    assert response.status_code == 403


def test_a_user_who_has_not_registered_cannot_sign_in_with_nhsmail_without_their_link(client, nhsmail):
    practice = PracticeFactory()
    user = member(practice, Role.VIEW, email="new.starter@nhs.net")
    registration.invitation_create(user=user, organisation=practice, invited_by=None, base_url="http://testserver")
    response = sign_in_with_nhsmail(client, nhsmail, "new.starter@nhs.net")
    assert response.status_code == 403 and "not registered yet" in response.content.decode()


def test_registration_can_be_completed_by_signing_in_with_nhsmail(client, nhsmail):
    practice = PracticeFactory()
    user = member(practice, Role.VIEW, email="new.starter@nhs.net")
    user.set_unusable_password()
    user.save()
    token = registration.invitation_create(user=user, organisation=practice, invited_by=None, base_url="http://testserver")
    start = f"{reverse('nhsmail_sign_in')}?registration={token}"
    response = sign_in_with_nhsmail(client, nhsmail, "new.starter@nhs.net", start=start)
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == user
    assert registration.user_is_registered(user=user)
    # The link is used up.
    assert client.get(reverse("registration", kwargs={"token": token})).status_code == 410


def test_registration_by_nhsmail_needs_the_invited_address(client, nhsmail):
    practice = PracticeFactory()
    user = member(practice, Role.VIEW, email="new.starter@nhs.net")
    member(practice, Role.VIEW, email="someone.else@nhs.net")
    token = registration.invitation_create(user=user, organisation=practice, invited_by=None, base_url="http://testserver")
    response = sign_in_with_nhsmail(
        client, nhsmail, "someone.else@nhs.net", start=f"{reverse('nhsmail_sign_in')}?registration={token}"
    )
    assert response.status_code == 403
    assert not registration.user_is_registered(user=user)


def test_an_unverified_email_is_refused(client, nhsmail):
    member(PracticeFactory(), Role.VIEW, email="pat@nhs.net")
    nhsmail.email_verified = False
    assert sign_in_with_nhsmail(client, nhsmail, "pat@nhs.net").status_code == 403


def test_a_provider_naming_another_issuer_is_not_trusted(client, nhsmail):
    member(PracticeFactory(), Role.VIEW, email="pat@nhs.net")
    nhsmail.issuer_override = "https://evil.example"
    response = client.get(reverse("nhsmail_sign_in"))
    assert response.status_code == 403
    assert "not available" in response.content.decode()


def test_a_forged_callback_without_the_sessions_state_is_refused(client, nhsmail):
    member(PracticeFactory(), Role.VIEW, email="pat@nhs.net")
    response = client.get(reverse("nhsmail_callback"), {"code": "made-up", "state": "made-up"})
    assert response.status_code == 403
    assert "did not complete" in response.content.decode()


def test_an_id_token_signed_by_another_key_is_refused(client, nhsmail):
    from joserfc.jwk import RSAKey

    member(PracticeFactory(), Role.VIEW, email="pat@nhs.net")
    nhsmail.rogue_signing_key = RSAKey.generate_key(2048)
    response = sign_in_with_nhsmail(client, nhsmail, "pat@nhs.net")
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_sign_in_with_nhsmail_gives_a_new_session_key(client, nhsmail):
    member(PracticeFactory(), Role.VIEW, email="pat@nhs.net")
    client.get(reverse("login"))
    nhsmail.auto_sign_in_as = "pat@nhs.net"
    start = client.get(reverse("nhsmail_sign_in"))
    before = client.session.session_key
    authorize = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(authorize.headers["Location"])
    client.get(f"{callback.path}?{callback.query}")
    assert client.session.session_key != before
    assert client.session["_auth_user_id"]
