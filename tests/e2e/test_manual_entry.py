"""The job aids "manual entry" and "manual adjustment", played in a browser by a practice whose
clinical system does not support automatic extracts: Add New Achievement, New Values saved as
work in progress and submitted with notes, the Work in Progress / Submit rules (nothing
different: refused), validation in the error summary, an adjustment with notes, and adjustment
refused once the last day of the payment period is submitted."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, Role, User
from tests.achievement import factories

from .conftest import login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

QOF = "QOF— Annual—Quality and Outcomes Framework 2023/24"
EMAIL, PASSWORD = "manual.entry@example.nhs.net", "manual-entry-password-2026"


@pytest.fixture
def practice_world(transactional_db):
    world = factories.world()
    practice = world["A81001"]
    practice.automatic_extracts = False  # the clinical system does not support automatic extracts
    practice.save()
    service = factories.qof_2324()
    factories.approved_offer(service, practice, world["icb"])
    user = User.objects.create_user(EMAIL, PASSWORD, full_name="Manual Entry")
    Membership.objects.create(user=user, organisation=practice, role=Role.ACHIEVEMENT_ENTRY)
    return world


def _banner(page):
    return page.locator(".nhsuk-notification-banner")


def _error_summary(page):
    return page.locator(".nhsuk-error-summary")


def _open_record_achievement(page) -> None:
    page.locator(".nhsuk-header__navigation-list a", has_text="Data Submission").click()
    page.get_by_label("Financial Year").select_option(label="23/24")
    page.get_by_label("Quality Service").select_option(label=QOF)
    page.get_by_role("button", name="Show").click()


def _add(page, date_label: str) -> None:
    page.get_by_label("Achievement Date").select_option(label=date_label)
    page.get_by_role("button", name="Add New Achievement").click()


def _fill(page, values: dict[str, str]) -> None:
    for label, value in values.items():
        field = page.get_by_label(f"New value: {label}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)


def _submitted(page, group: str):
    row = page.get_by_test_id("indicator-groups").locator("tr", has_text=group)
    return row.get_by_test_id("indicators-submitted")


def test_manual_entry_and_adjustment_with_notes(practice_world, live_server, page, screenshot):
    login(page, live_server, EMAIL, PASSWORD)
    _open_record_achievement(page)
    expect(page.get_by_test_id("no-achievements")).to_be_visible()
    # Achievement Dates highlighted yellow indicate a payment date.
    expect(page.get_by_test_id("achievement-dates").locator("td.cqrs-payment-date")).to_have_text(
        "31/03/2024 (payment date)"
    )

    # Manual entry: Add New Achievement for 29/02/2024; the summary of its Indicator Groups.
    _add(page, "29/02/2024")
    expect(_banner(page)).to_contain_text("The achievement for 29/02/2024 has been added.")
    expect(_submitted(page, "Atrial fibrillation")).to_have_text("0 of 3")
    page.get_by_test_id("indicator-groups").get_by_role("link", name="Atrial fibrillation").click()

    # Save Work in Progress with nothing entered: refused, nothing saved.
    page.get_by_role("button", name="Save Work in Progress").click()
    expect(_error_summary(page)).to_contain_text("Enter the achievement data in the New Values fields")

    # Validation as for extracts, in the error summary; nothing saved.
    _fill(page, {"AF006 Numerator": "55", "AF006 Denominator": "50", "AF001 Atrial Fibrillation Register": "-3"})
    page.get_by_role("button", name="Submit Achievement Data").click()
    expect(_error_summary(page)).to_contain_text("AF006 Numerator (55) must not be above its Denominator (50)")
    expect(_error_summary(page)).to_contain_text("AF001 Atrial Fibrillation Register must be a whole number of 0 or more")
    screenshot(page, "manual-entry-errors")

    # Work in progress: saved, not yet part of the achievement.
    _fill(page, {"AF006 Numerator": "40", "AF006 Denominator": "50", "AF001 Atrial Fibrillation Register": "60"})
    page.get_by_label("Submission notes").fill("First entry from the practice audit.")
    page.get_by_role("button", name="Save Work in Progress").click()
    expect(_banner(page)).to_contain_text("The achievement has been saved as work in progress.")
    expect(page.get_by_label("New value: AF006 Numerator")).to_have_value("40")
    expect(page.get_by_test_id("work-in-progress")).to_be_visible()

    # Submit Achievement Data: the confirmation, and the group counts its indicators.
    _fill(page, {"QI013 Yes/No Flag": "Yes"})
    page.get_by_role("button", name="Submit Achievement Data").click()
    expect(_banner(page)).to_contain_text("The achievement data have been successfully submitted.")
    expect(_submitted(page, "Atrial fibrillation")).to_have_text("3 of 3")

    # Submitting again with nothing different from the previous submission: refused.
    page.get_by_test_id("indicator-groups").get_by_role("link", name="Atrial fibrillation").click()
    expect(page.get_by_test_id("current-AF006-numerator")).to_have_text("40")
    _fill(page, {"AF006 Numerator": "40"})
    page.get_by_role("button", name="Submit Achievement Data").click()
    expect(_error_summary(page)).to_contain_text(
        "The data are not different from the previous submission, so they have not been submitted."
    )

    # Manual adjustment with submission notes; earlier notes stay visible.
    _fill(page, {"AF006 Numerator": "45"})
    page.get_by_label("Submission notes").fill("Adjusted: five more patients found in the audit.")
    page.get_by_role("button", name="Submit Achievement Data").click()
    expect(_banner(page)).to_contain_text("The achievement data have been successfully submitted.")
    page.get_by_test_id("indicator-groups").get_by_role("link", name="Atrial fibrillation").click()
    expect(page.get_by_test_id("current-AF006-numerator")).to_have_text("45")
    history = page.get_by_test_id("submission-history")
    expect(history).to_contain_text("Adjusted: five more patients found in the audit.")
    expect(history).to_contain_text("First entry from the practice audit.")
    screenshot(page, "manual-adjustment-notes")

    # The last day of the payment period (31/03/2024) is submitted: February can no longer be adjusted.
    page.get_by_role("link", name="Record Achievement").first.click()
    _add(page, "31/03/2024 (payment date)")
    page.get_by_test_id("indicator-groups").get_by_role("link", name="Atrial fibrillation").click()
    _fill(page, {"AF006 Numerator": "46", "AF006 Denominator": "50", "AF001 Atrial Fibrillation Register": "61"})
    page.get_by_role("button", name="Submit Achievement Data").click()
    expect(_banner(page)).to_contain_text("The achievement data have been successfully submitted.")

    page.get_by_role("link", name="Record Achievement").first.click()
    page.get_by_test_id("achievements").get_by_role("link", name="29/02/2024").click()
    page.get_by_test_id("indicator-groups").get_by_role("link", name="Atrial fibrillation").click()
    expect(page.get_by_test_id("reason-AF006")).to_have_text(
        "Achievement data have already been submitted for the last day of the payment period (31/03/2024)."
    )
    expect(page.get_by_label("New value: AF006 Numerator")).to_have_count(0)
    expect(page.get_by_label("New value: AF001 Atrial Fibrillation Register")).to_have_count(0)
    # A value never submitted (the PCA count) can still be entered: that is entry, not adjustment.
    expect(page.get_by_label("New value: AF006 AFIBPCADEC")).to_be_visible()
    screenshot(page, "manual-adjustment-closed")
