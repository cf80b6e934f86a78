"""The aspiration journey of issue 13, in a browser on the demo data (seed_demo), with 2023/24
year-end payments for the demo practice (£120,345.67) and Woodbridge Practice (£60,000.00):

1. the commissioner calculates the ICB's QOF 2024/25 aspiration payments and approves them in bulk
   (Select All, Approve); the finance user finance-approves them in bulk; the ICB's monthly
   schedule shows what is paid each month;
2. the practice sees its own schedule under Achievement (twelve payments, the last carrying the
   remainder);
3. at the year end the practice submits its achievement, Declare shows the calculated payment,
   the aspiration paid and the balance (here money to be recovered), and the practice declares.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.actors import SystemActor
from accounts.models import Organisation
from achievement.models import Achievement
from declarations.models import Aspiration, AspirationStatus, Calculation, Declaration, DeclarationStatus
from participation.models import AchievementDate, OfferStatus, QualityService, ServiceOffer
from participation.services import offers_accept

from .conftest import login, logout

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

QOF = "QOF— Annual—Quality and Outcomes Framework 2024/25"
PRACTICE, COMMISSIONER, FINANCE = "practice@demo.nhs.net", "commissioner@demo.nhs.net", "finance@demo.nhs.net"
PREVIOUS = {"A81001": Decimal("120345.67"), "A81017": Decimal("60000.00")}


@pytest.fixture
def demo_world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)
    # The demo practice accepts its QOF 2024/25 offer (the offers journey shows that step).
    waiting = ServiceOffer.objects.filter(
        service__code="QOF2425", provider__ods_code="A81001", status=OfferStatus.OFFERED
    ).values_list("pk", flat=True)
    offers_accept(offer_ids=list(waiting), user=SystemActor("the aspiration journey"))
    # Last year's (QOF 2023/24) year-end payments the aspiration is a share of.
    previous = QualityService.objects.get(code="QOF2324")
    year_end = AchievementDate.objects.get(service=previous, date=dt.date(2024, 3, 31))
    for ods_code, amount in PREVIOUS.items():
        practice = Organisation.objects.get(ods_code=ods_code)
        achievement = Achievement.objects.create(provider=practice, service=previous, achievement_date=year_end)
        Calculation.objects.create(
            achievement=achievement, provider=practice, service=previous, achievement_date=year_end,
            total_amount=amount, list_size=9_000, inputs_hash="2023/24 year end", is_provisional=False,
        )


def _tab(page, tab: str, subtab: str) -> None:
    page.locator(".nhsuk-header__navigation-list a", has_text=tab).click()
    page.wait_for_load_state()
    page.locator(".cqrs-subtabs__link", has_text=subtab).click()


def _banner(page):
    return page.locator(".nhsuk-notification-banner")


def test_commissioner_approves_aspiration_practice_sees_schedule_and_declares_the_balance(
    demo_world, live_server, page, screenshot
):
    # --- 1a. The commissioner calculates and approves the ICB's aspiration payments in bulk ----
    login(page, live_server, COMMISSIONER)
    _tab(page, "Achievement", "Aspiration Management")
    expect(page.get_by_label("Quality Service")).to_have_value(str(QualityService.objects.get(code="QOF2425").pk))
    page.get_by_role("button", name="Calculate").click()
    expect(_banner(page)).to_contain_text("Aspiration payments calculated for 2 Service Providers.")
    table = page.get_by_test_id("aspirations")
    # 80% x £120,345.67 x £220.62 / £213.43 = £99,519.89: 11 x £8,293.32 and £8,293.37.
    densham = table.locator("tr", has_text="The Densham Surgery (A81001)")
    expect(densham).to_contain_text("£99,519.89")
    expect(densham).to_contain_text("£8,293.32")
    expect(densham).to_contain_text("£8,293.37")
    expect(densham).to_contain_text("Awaiting Commissioning Organisation Approval")
    page.get_by_label("Select All").check()
    expect(table.locator("input[name='aspirations']")).to_have_count(2)
    screenshot(page, "aspiration-01-commissioner-select-all")
    page.get_by_role("button", name="Approve").click()
    expect(_banner(page)).to_contain_text("The aspiration payments have been successfully approved.")
    expect(table.locator("tr", has_text="A81001")).to_contain_text("Awaiting Finance Approval")
    logout(page)

    # --- 1b. The finance user finance-approves them in bulk; the ICB's schedule ---------------
    login(page, live_server, FINANCE)
    _tab(page, "Achievement", "Aspiration Management")
    page.get_by_label("Select All").check()
    page.get_by_role("button", name="Approve").click()
    expect(_banner(page)).to_contain_text("The aspiration payments have been successfully approved.")
    assert set(Aspiration.objects.values_list("status", flat=True)) == {AspirationStatus.APPROVED}
    schedule = page.get_by_test_id("aspiration-schedule")
    woodbridge = Aspiration.objects.get(provider__ods_code="A81017")
    monthly = Decimal("8293.32") + woodbridge.monthly
    expect(schedule.locator("tr", has_text="30/04/2024")).to_contain_text(f"£{monthly:,.2f}")
    expect(schedule.locator("tr", has_text="31/03/2025")).to_contain_text(
        f"£{Decimal('8293.37') + woodbridge.last_month:,.2f}"
    )
    screenshot(page, "aspiration-02-icb-monthly-schedule")
    logout(page)

    # --- 2. The practice sees its own schedule under Achievement ------------------------------
    login(page, live_server, PRACTICE)
    _tab(page, "Achievement", "Aspiration Payments")
    mine = page.get_by_test_id("aspiration-payment")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("The Densham Surgery (A81001)")
    expect(mine.get_by_test_id("aspiration-total")).to_have_text("£99,519.89")
    expect(mine.get_by_test_id("aspiration-status")).to_contain_text("Financially Approved")
    instalments = mine.get_by_test_id("aspiration-instalments").locator("tbody tr")
    expect(instalments).to_have_count(12)
    expect(instalments.first).to_contain_text("£8,293.32")
    expect(instalments.last).to_contain_text("31/03/2025")
    expect(instalments.last).to_contain_text("£8,293.37")
    expect(page.locator("body")).not_to_contain_text("Woodbridge Practice")
    screenshot(page, "aspiration-03-practice-schedule")

    # --- 3. At the year end the practice submits, sees the balance and declares it -------------
    page.locator(".nhsuk-header__navigation-list a", has_text="Data Submission").click()
    page.get_by_label("Financial Year").select_option(label="24/25")
    page.get_by_label("Quality Service").select_option(label=QOF)
    page.get_by_role("button", name="Show").click()
    page.get_by_label("Achievement Date").select_option(label="31/03/2025 (payment date)")
    page.get_by_role("button", name="Add New Achievement").click()
    page.get_by_role("link", name="Workforce and wellbeing").first.click()
    page.get_by_label("New value: QI013 Yes/No Flag").select_option(label="Yes")
    page.get_by_role("button", name="Submit Achievement Data").click()
    expect(_banner(page)).to_contain_text("The achievement data have been successfully submitted.")

    _tab(page, "Achievement", "Declare")
    declaration = Declaration.objects.get(service__code="QOF2425", provider__ods_code="A81001")
    calculated = declaration.calculation.total_amount
    balance = calculated - Decimal("99519.89")
    assert balance < 0  # QI013 alone earns less than the aspiration paid: money to be recovered
    row = page.get_by_test_id("aspiration-balances").locator("tr", has_text="Quality and Outcomes Framework 2024/25")
    expect(row.get_by_test_id("calculated")).to_have_text(f"£{calculated:,.2f}")
    expect(row.get_by_test_id("aspiration-paid")).to_have_text("£99,519.89")
    expect(row.get_by_test_id("balance")).to_contain_text(f"-£{-balance:,.2f}")
    expect(row.get_by_test_id("balance")).to_contain_text(f"£{-balance:,.2f} to be recovered")
    screenshot(page, "aspiration-04-practice-declares-the-balance")
    page.get_by_test_id("to-declare").locator("tr", has_text="Quality and Outcomes Framework 2024/25").get_by_role(
        "checkbox"
    ).check()
    page.get_by_role("button", name="Declare Achievement").click()
    expect(_banner(page)).to_contain_text("awaiting approval by the Commissioning Organisation")
    assert Declaration.objects.get(pk=declaration.pk).status == DeclarationStatus.AWAITING_COMMISSIONER
