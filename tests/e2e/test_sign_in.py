"""A new user's first look: each demo user signs in and sees exactly the tabs of their roles."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts import navigation
from accounts.models import User

from .conftest import login, logout

DEMO_USERS = [
    "commissioner@demo.nhs.net",
    "finance@demo.nhs.net",
    "practice@demo.nhs.net",
    "pcnlead@demo.nhs.net",
    "admin@demo.nhs.net",
]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", verbosity=0)


def test_each_demo_user_signs_in_and_sees_the_tabs_of_their_roles(demo, live_server, page, screenshot):
    page.goto(live_server.url)
    assert "/sign-in/" in page.url
    expect(page.get_by_role("heading", name="Sign in to CQRS")).to_be_visible()
    for email in DEMO_USERS:
        login(page, live_server, email)
        user = User.objects.get(email=email)
        expected = navigation.tab_labels_for(user)
        shown = page.locator(".nhsuk-header__navigation-list > li a").all_inner_texts()
        assert [label.strip() for label in shown] == expected, email
        expect(page.get_by_role("heading", name="Message Centre")).to_be_visible()
        screenshot(page, f"sign-in-{email.split('@')[0]}")
        for label in expected:
            page.locator(".nhsuk-header__navigation-list > li a", has_text=label).first.click()
            page.wait_for_load_state()
            expect(page.locator("main h1").first).to_be_visible()
        page.goto(live_server.url)
        logout(page)


def test_a_wrong_password_says_so(demo, live_server, page):
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("User ID").fill("practice@demo.nhs.net")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Please enter a correct email address and password").first).to_be_visible()
