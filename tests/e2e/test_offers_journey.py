"""The offers job aids, played in a browser: create offers, view and accept, reject, withdraw,
cancel, and the Message Centre on each side."""

from __future__ import annotations

import os

import pytest

from accounts.demo import DEMO_PASSWORD, seed_organisations_and_users
from accounts.models import Membership, Role, User

from .conftest import login, logout

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

QOF = "QOF— Annual—Quality and Outcomes Framework 2024/25"
COMMISSIONER = "commissioner@demo.nhs.net"


@pytest.fixture
def world(transactional_db):
    from participation.demo import load_shipped_services

    world = seed_organisations_and_users()
    load_shipped_services()
    practices = world["practices"][:3]
    emails = ["practice@demo.nhs.net", "practice2@demo.nhs.net", "practice3@demo.nhs.net"]
    for email, practice in zip(emails[1:], practices[1:], strict=True):
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=f"Manager of {practice.name}")
        Membership.objects.create(user=user, organisation=practice, role=Role.SERVICE_MANAGEMENT)
    return {"practices": practices, "emails": emails, "pcn": world["pcns"][0]}


def _fill_date(page, legend: str, day: int, month: int, year: int) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day))
    group.get_by_label("Month").fill(str(month))
    group.get_by_label("Year").fill(str(year))


def _banner(page) -> str:
    return page.locator(".nhsuk-notification-banner").first.inner_text()


def _open_participation(page, subtab: str) -> None:
    page.locator(".nhsuk-header__navigation-list a", has_text="Participation Management").click()
    page.locator(".cqrs-subtabs__link", has_text=subtab).click()


def test_offers_journey(world, live_server, page, screenshot):
    practices, emails = world["practices"], world["emails"]

    # The commissioner offers QOF 2024/25 to three practices (Create Offers).
    login(page, live_server, COMMISSIONER)
    _open_participation(page, "Create Offers")
    page.get_by_label("Quality Service").select_option(label=QOF)
    _fill_date(page, "Service start date", 1, 4, 2024)
    _fill_date(page, "Service end date", 31, 3, 2025)
    _fill_date(page, "Response date", 31, 5, 2024)
    _fill_date(page, "Target date", 31, 3, 2025)
    screenshot(page, "offers-01-create-offers")
    page.get_by_role("button", name="Continue").click()
    # The three practices of the first PCN: filter by PCN, then Select All.
    page.get_by_label("PCN", exact=True).select_option(label=str(world["pcn"]))
    page.get_by_role("button", name="Filter").click()
    page.get_by_label("Select All").check()
    for practice in practices:
        assert page.get_by_label(f"Select {practice.name}").is_checked()
    screenshot(page, "offers-02-choose-providers")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_text(QOF).first.is_visible()
    screenshot(page, "offers-03-review")
    page.get_by_role("button", name="Confirm").click()
    assert "successfully offered to 3 Service Provider(s)" in _banner(page)
    screenshot(page, "offers-04-offered")
    logout(page)

    # Practice 1 sees the task on Home, views the details, goes back and accepts.
    login(page, live_server, emails[0])
    centre = page.get_by_test_id("message-centre")
    assert centre.get_by_text("New Quality Service offer: Quality and Outcomes Framework 2024/25").is_visible()
    screenshot(page, "offers-05-practice-task")
    centre.get_by_role("link", name="Task Summary").first.click()
    assert page.get_by_role("heading", name=QOF).is_visible()
    domain = page.locator("details.nhsuk-details").first
    domain.locator("summary").click()
    assert domain.locator("table").first.is_visible()
    screenshot(page, "offers-06-offer-details")
    page.get_by_role("link", name="Back to Select a Quality Service").click()
    assert page.get_by_role("heading", name="My Services").is_visible()
    page.get_by_label("Select Quality and Outcomes Framework 2024/25").check()
    page.get_by_role("button", name="Accept Service").click()
    assert page.get_by_text("Are you sure you wish to accept the selected Quality Service?").is_visible()
    page.get_by_role("button", name="Yes").click()
    assert "The Quality Service has been successfully accepted." in _banner(page)
    screenshot(page, "offers-07-accepted")
    logout(page)

    # Practice 2 rejects; the commissioner has a message.
    login(page, live_server, emails[1])
    page.get_by_test_id("message-centre").get_by_role("link", name="Task Summary").first.click()
    page.get_by_role("link", name="Back to Select a Quality Service").click()
    page.get_by_label("Select Quality and Outcomes Framework 2024/25").check()
    page.get_by_role("button", name="Reject Service").click()
    page.get_by_role("button", name="Yes").click()
    assert "The Quality Service has been successfully rejected." in _banner(page)
    screenshot(page, "offers-08-rejected")
    logout(page)

    login(page, live_server, COMMISSIONER)
    assert page.get_by_test_id("message-centre").get_by_text(
        f"{practices[1].name} has rejected Quality and Outcomes Framework 2024/25"
    ).is_visible()
    screenshot(page, "offers-09-commissioner-message")

    # The commissioner withdraws practice 3's offer; it shows under Cancelled.
    _open_participation(page, "Offered Services")
    page.get_by_role("link", name=QOF).click()
    page.get_by_label(f"Select {practices[2].name}").check()
    page.get_by_role("button", name="Withdraw Service").click()
    assert page.get_by_text(
        "Are you sure you want to withdraw the Quality Service for the selected Service Provider(s)?"
    ).is_visible()
    page.get_by_role("button", name="Yes").click()
    assert "You have successfully withdrawn the Quality Service." in _banner(page)
    page.get_by_label("Status").select_option("Cancelled")
    page.get_by_role("button", name="Show").click()
    providers = page.get_by_test_id("service-providers")
    assert providers.get_by_text(practices[2].name).is_visible()
    assert providers.get_by_text("Withdrawn").is_visible()
    screenshot(page, "offers-10-withdrawn-under-cancelled")

    # The commissioner cancels practice 1's (Approved) offer; practice 1 has a message.
    page.get_by_label("Status").select_option("Approved")
    page.get_by_role("button", name="Show").click()
    page.get_by_label(f"Select {practices[0].name}").check()
    page.get_by_role("button", name="Cancel Service").click()
    page.get_by_role("button", name="Yes").click()
    assert "You have successfully cancelled the Quality Service." in _banner(page)
    screenshot(page, "offers-11-cancelled")
    logout(page)

    login(page, live_server, emails[0])
    assert page.get_by_test_id("message-centre").get_by_text(
        "Quality and Outcomes Framework 2024/25 has been cancelled"
    ).is_visible()
    screenshot(page, "offers-12-practice-cancelled-message")
