"""The job aid "checking missing NCD data", played in a browser by the demo PCN lead: Data
Submission, 24/25, "DES— Annual—Network Contract DES 2024/25", the 31/03/2025 achievement
(added when absent), a group at "1 of 2", the missing value entered and submitted, "2 of 2" and
the new payment."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .conftest import login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

NCD = "DES— Annual—Network Contract DES 2024/25"
PCN_LEAD = "pcnlead@demo.nhs.net"


@pytest.fixture
def demo_world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)


def _payment(page) -> str:
    return page.get_by_test_id("calculated-payment").inner_text()


def _group_row(page, name: str):
    return page.get_by_test_id("indicator-groups").locator("tr", has_text=name)


def test_a_pcn_user_finds_and_enters_missing_ncd_data(demo_world, live_server, page, screenshot):
    login(page, live_server, PCN_LEAD)

    # Once logged into CQRS, click on the 'Data Submission' tab.
    page.locator(".nhsuk-header__navigation-list a", has_text="Data Submission").click()
    expect(page.get_by_role("heading", name="Record Achievement")).to_be_visible()

    # Choose the financial year 24/25 and the quality service; show it.
    page.get_by_label("Financial Year").select_option(label="24/25")
    page.get_by_label("Quality Service").select_option(label=NCD)
    page.get_by_role("button", name="Show").click()
    panel = page.get_by_test_id("achievement-panel")
    expect(panel.get_by_role("heading", name=NCD)).to_be_visible()

    # From the list of achievement dates select 31/03/2025; if it does not appear, select it from
    # the Achievement Date drop-down and click Add New Achievement.
    existing = panel.get_by_role("link", name="31/03/2025")
    if existing.count():
        existing.click()
    else:
        page.get_by_label("Achievement Date").select_option(label="31/03/2025 (payment date)")
        page.get_by_role("button", name="Add New Achievement").click()
    expect(page.locator("h1")).to_contain_text("Achievement 31/03/2025: Stockton PCN")

    # Indicators submitted must equal the total possible: the IIF group is at 1 of 2.
    iif = _group_row(page, "Investment and Impact Fund")
    expect(iif.get_by_test_id("indicators-submitted")).to_have_text("1 of 2")
    expect(page.get_by_test_id("missing-data")).to_be_visible()
    payment_before = _payment(page)
    screenshot(page, "missing-ncd-data-1-of-2")

    # Click into the group and enter the missing indicator data.
    iif.get_by_role("link", name="Investment and Impact Fund").click()
    expect(page.get_by_role("heading", name="Investment and Impact Fund")).to_be_visible()
    expect(page.get_by_test_id("reason-CAN-02")).to_contain_text("cannot be entered manually")
    page.get_by_label("New value: HI-03 Numerator").fill("61")
    page.get_by_label("New value: HI-03 Denominator").fill("80")
    page.get_by_label("Submission notes").fill("HI-03 missing from the practices' extracts: entered from the LD register audit.")
    page.get_by_role("button", name="Submit Achievement Data").click()

    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "The achievement data have been successfully submitted."
    )
    expect(_group_row(page, "Investment and Impact Fund").get_by_test_id("indicators-submitted")).to_have_text("2 of 2")
    expect(page.get_by_test_id("missing-data")).to_have_count(0)
    expect(page.get_by_test_id("calculated-payment")).to_contain_text("£")
    assert _payment(page) != payment_before
    screenshot(page, "missing-ncd-data-2-of-2")
