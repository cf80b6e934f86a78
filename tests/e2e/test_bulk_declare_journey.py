"""Issue 14's journey: a practice declares three payments at once (Achievement > Declare: Select
All, Notes, Declare Achievement), and finds them in its Payment Declaration History."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from declarations import services
from declarations.models import Declaration, DeclarationStatus, DeclarationTransition
from tests.declarations.factories import qof_2425, submit_values

from .conftest import login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

PRACTICE = "practice@demo.nhs.net"
VALUES = {
    "VI001": {"Numerator": 108, "Denominator": 116},
    "AF001": {"Atrial Fibrillation Register": 300},
    "AF006": {"Numerator": 150, "Denominator": 200},
    "QI013": {"Yes/No Flag": 1},
    "VI900": {"Value": 42},
}


@pytest.fixture
def three_payments(transactional_db, settings, tmp_path):
    """The demo world, with the demo practice's payments awaiting its declaration made three or more."""
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)
    from accounts.models import Organisation

    practice = Organisation.objects.get(ods_code="A81001")
    for code in ("QOF2425X", "QOF2425Y", "QOF2425Z"):
        if Declaration.objects.filter(provider=practice, status=DeclarationStatus.AWAITING_PROVIDER).count() >= 3:
            break
        achievement = submit_values(practice, qof_2425(code), VALUES, list_size=12_000)
        services.calculation_recalculate(achievement_id=achievement.pk)
    return list(
        Declaration.objects.filter(provider=practice, status=DeclarationStatus.AWAITING_PROVIDER).values_list(
            "pk", flat=True
        )
    )


def test_a_practice_declares_three_payments_at_once(three_payments, live_server, page, screenshot):
    assert len(three_payments) >= 3
    login(page, live_server, PRACTICE)
    page.locator(".nhsuk-header__navigation-list a", has_text="Achievement").first.click()
    page.locator(".cqrs-subtabs__link", has_text="Declare").first.click()
    to_declare = page.get_by_test_id("to-declare")
    boxes = to_declare.locator("input[name='declarations']")
    expect(boxes).to_have_count(len(three_payments))
    page.get_by_label("Select All").check()
    for index in range(len(three_payments)):
        expect(boxes.nth(index)).to_be_checked()
    page.get_by_label("Declaration notes (optional)").fill("Checked against our registers in April.")
    screenshot(page, "declare-1-three-payments-ticked")
    page.get_by_role("button", name="Declare Achievement").click()

    banner = page.locator(".nhsuk-notification-banner")
    expect(banner).to_contain_text("successfully submitted and are awaiting approval by the Commissioning Organisation")
    expect(page.get_by_test_id("nothing-to-declare")).to_be_visible()
    history = page.get_by_test_id("declaration-history-panel")
    for pk in three_payments:
        expect(history.locator(f"tr[data-declaration='{pk}']")).to_contain_text(
            "Awaiting Commissioning Organisation Approval"
        )
    screenshot(page, "declare-2-payment-declaration-history")
    assert set(
        Declaration.objects.filter(pk__in=three_payments).values_list("status", flat=True)
    ) == {DeclarationStatus.AWAITING_COMMISSIONER}
    assert DeclarationTransition.objects.filter(
        declaration_id__in=three_payments, note="Checked against our registers in April."
    ).count() == len(three_payments)
