"""The registration job aid, played in a browser: an administrator adds a user, the email holds
the link, the user sets a password under the Password Policy, signs in and sees only the tabs
of their roles; another user signs in through the (local, real) mock OpenID provider."""

import re

import pytest
from django.core import mail
from django.core.management import call_command

from accounts import navigation
from accounts.models import User
from tests.oidc_mock import MockOpenIDProvider, configure_cqrs_for

from .conftest import login, logout

NEW_PASSWORD = "a long passphrase for cqrs"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def nhsmail(settings):
    provider = MockOpenIDProvider().start()
    configure_cqrs_for(settings, provider)
    yield provider
    provider.stop()


def shown_tabs(page) -> list[str]:
    return [label.strip() for label in page.locator(".nhsuk-header__navigation-list > li a").all_inner_texts()]


def test_an_administrator_adds_a_user_who_registers_and_signs_in(demo, live_server, page, screenshot, nhsmail):
    # The ICB's User Administrator adds a practice user (Administrative Tasks > Add New User).
    login(page, live_server, "admin@demo.nhs.net")
    page.get_by_role("link", name="Administrative Tasks").click()
    page.get_by_role("link", name="Add New User").click()
    page.get_by_label("Full name").fill("Nia Newstarter")
    page.get_by_label("Email address").fill("nia.newstarter@nhs.net")
    page.get_by_label("Organisation").select_option(label="The Densham Surgery (A81001)")
    page.get_by_label("Service Management").check()
    page.get_by_label("View", exact=True).check()
    screenshot(page, "registration-1-add-new-user")
    page.get_by_role("button", name="Add User").click()
    assert page.get_by_text("We have emailed nia.newstarter@nhs.net a registration link").is_visible()
    logout(page)

    # The email (Django's test mailbox, in this process with the live server) holds the link.
    (email,) = [m for m in mail.outbox if m.to == ["nia.newstarter@nhs.net"]]
    link = re.search(r"http://\S+/register/\S+/", email.body).group(0)

    # Registration, then Security Information with the Password Policy.
    page.goto(link)
    assert page.get_by_role("heading", name="Registration").is_visible()
    assert page.get_by_text("nia.newstarter@nhs.net").is_visible()
    screenshot(page, "registration-2-registration")
    page.get_by_role("link", name="Continue").click()
    assert page.get_by_role("heading", name="Security Information").is_visible()
    assert page.get_by_test_id("password-policy").is_visible()
    assert page.get_by_role("link", name="Sign in with NHSmail").is_visible()
    # A password against the policy is refused...
    page.get_by_label("Create password").fill("short")
    page.get_by_label("Confirm password").fill("short")
    page.get_by_role("button", name="Create password").click()
    assert page.get_by_text("too short").first.is_visible()
    screenshot(page, "registration-3-security-information")
    # ...one under it is accepted.
    page.get_by_label("Create password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create password").click()
    assert page.get_by_text("Your registration is complete").is_visible()

    # The user signs in and sees only the tabs of their roles.
    login(page, live_server, "nia.newstarter@nhs.net", NEW_PASSWORD)
    user = User.objects.get(email="nia.newstarter@nhs.net")
    assert shown_tabs(page) == navigation.tab_labels_for(user)
    assert "Administrative Tasks" not in shown_tabs(page)
    screenshot(page, "registration-4-signed-in")
    logout(page)

    # The link has been used: it says so and offers to ask for a new one.
    page.goto(link)
    assert page.get_by_test_id("link-problem").inner_text() == "This registration link has already been used."
    assert page.get_by_role("button", name="Ask my administrator for a new link").is_visible()


def test_another_user_signs_in_with_nhsmail(demo, live_server, page, screenshot, nhsmail):
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_role("link", name="Sign in with NHSmail").click()
    # The provider's own sign-in page (the mock NHSmail).
    assert page.get_by_role("heading", name="NHSmail").is_visible()
    page.get_by_label("Email address").fill("practice@demo.nhs.net")
    page.get_by_label("Password").fill("an NHSmail password")
    screenshot(page, "nhsmail-1-provider")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Message Centre").is_visible()
    user = User.objects.get(email="practice@demo.nhs.net")
    assert shown_tabs(page) == navigation.tab_labels_for(user)
    screenshot(page, "nhsmail-2-signed-in")
