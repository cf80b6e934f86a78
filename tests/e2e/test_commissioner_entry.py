"""Record Provider Achievement in a browser (issue 14 §1): the Commissioning Organisation
corrects a provider's value, with notes; the provider then sees it marked as a Commissioning
Organisation entry, cannot change it, and can still adjust its own values.

Set AXE_CORE_JS to axe-core's axe.min.js to run axe on each page as well.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, Role, User
from achievement import entry_rules
from achievement.models import CommissionerEntry, SubmissionSource
from tests.achievement import factories
from tests.achievement.test_entry_rules import FEBRUARY, achievement_on, submit_snapshot

from .conftest import login, logout

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

QOF = "QOF— Annual—Quality and Outcomes Framework 2023/24"
PRACTICE_EMAIL, COMMISSIONER_EMAIL = "entry@example.nhs.net", "commissioner@example.nhs.net"
PASSWORD = "commissioner-entry-password-2026"


@pytest.fixture
def entry_world(transactional_db):
    world = factories.world()
    practice = world["A81001"]
    practice.automatic_extracts = False  # its data are entered by hand
    practice.save()
    service = factories.qof_2324()
    factories.approved_offer(service, practice, world["icb"])
    achievement = achievement_on(practice, service, FEBRUARY)
    submit_snapshot(
        achievement, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50}, source=SubmissionSource.MANUAL
    )
    provider = User.objects.create_user(PRACTICE_EMAIL, PASSWORD, full_name="Pat Practice")
    Membership.objects.create(user=provider, organisation=practice, role=Role.ACHIEVEMENT_ENTRY)
    commissioner = User.objects.create_user(COMMISSIONER_EMAIL, PASSWORD, full_name="Chris Commissioner")
    Membership.objects.create(user=commissioner, organisation=world["icb"], role=Role.COMMISSIONING_MANAGEMENT)
    return {"achievement": achievement}


def _axe(page) -> None:
    script = os.environ.get("AXE_CORE_JS")
    if not script:
        return
    page.evaluate(Path(script).read_text())
    violations = page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))"
    )
    assert violations == [], violations


def _choose_qof(page) -> None:
    page.get_by_label("Financial Year").select_option(label="23/24")
    page.get_by_label("Quality Service").select_option(label=QOF)
    page.get_by_role("button", name="Show").click()


def test_a_commissioner_corrects_a_providers_value_and_the_provider_cannot_change_it(
    entry_world, live_server, page, screenshot
):
    # The commissioner: Data Submission > Record Provider Achievement.
    login(page, live_server, COMMISSIONER_EMAIL, PASSWORD)
    page.locator(".nhsuk-header__navigation-list a", has_text="Data Submission").click()
    expect(page.get_by_role("heading", name="Record Provider Achievement", level=1)).to_be_visible()
    _choose_qof(page)
    page.get_by_label("Service Provider", exact=True).first.select_option(label="The Densham Surgery (A81001)")
    page.get_by_role("button", name="Show").click()
    _axe(page)
    page.get_by_test_id("achievement-panel").get_by_role("link", name="29/02/2024").click()
    expect(page.locator("h1")).to_contain_text("Achievement 29/02/2024: The Densham Surgery")
    page.get_by_test_id("indicator-groups").get_by_role("link", name="Atrial fibrillation").click()

    # Every field takes a New Value: the commissioner corrects the Numerator, with notes.
    page.get_by_label("New value: AF006 Numerator").fill("45")
    page.get_by_label("Submission notes").fill("Corrected from the practice's AF audit (ICB review).")
    _axe(page)
    page.get_by_role("button", name="Submit Achievement Data").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "The achievement data have been successfully submitted."
    )
    expect(page.get_by_test_id("commissioner-entries")).to_have_text("AF006 (Numerator)")
    screenshot(page, "commissioner-entry-1-submitted")
    assert CommissionerEntry.objects.get().value == 45
    logout(page)

    # The provider: Record Achievement shows the value marked, read-only.
    login(page, live_server, PRACTICE_EMAIL, PASSWORD)
    page.locator(".nhsuk-header__navigation-list a", has_text="Data Submission").click()
    _choose_qof(page)
    page.get_by_test_id("achievement-panel").get_by_role("link", name="29/02/2024").click()
    expect(page.get_by_test_id("commissioner-entries")).to_have_text("AF006 (Numerator)")
    page.get_by_test_id("indicator-groups").get_by_role("link", name="Atrial fibrillation").click()

    numerator = page.get_by_test_id("current-AF006-numerator")
    expect(numerator).to_contain_text("45")
    expect(numerator.get_by_test_id("commissioner-entry")).to_have_text("Commissioning Organisation entry")
    expect(numerator).to_contain_text("Entered by Chris Commissioner")
    expect(page.get_by_test_id("reason-AF006")).to_contain_text(entry_rules.COMMISSIONER_ENTRY)
    expect(page.get_by_label("New value: AF006 Numerator")).to_have_count(0)
    expect(page.get_by_test_id("submission-history")).to_contain_text("Commissioning Organisation entry")
    expect(page.get_by_test_id("submission-history")).to_contain_text("Corrected from the practice's AF audit")
    _axe(page)
    screenshot(page, "commissioner-entry-2-provider-read-only")

    # Its own value is still its to adjust; the commissioner's stays.
    page.get_by_label("New value: AF006 Denominator").fill("60")
    page.get_by_role("button", name="Submit Achievement Data").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "The achievement data have been successfully submitted."
    )
    page.get_by_test_id("indicator-groups").get_by_role("link", name="Atrial fibrillation").click()
    expect(page.get_by_test_id("current-AF006-denominator")).to_have_text("60")
    expect(page.get_by_test_id("current-AF006-numerator")).to_contain_text("45")
    expect(page.get_by_test_id("current-AF006-numerator").get_by_test_id("commissioner-entry")).to_be_visible()
