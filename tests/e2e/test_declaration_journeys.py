"""The three journeys of the design card, played in a browser on the demo data (seed_demo):

1. the practice accepts an offer (QOF 2024/25) and submits achievement, which is calculated and
   waits for its declaration;
2. the PCN lead sets a tick-box (CAIP-2) for 31/03/2025 and declares the Network Contract DES
   payment (Declare Achievement, with its confirmation);
3. the commissioner finds the task on Home, selects all the rows Awaiting Commissioning
   Organisation Approval and approves them (the job aid's confirmation message); the finance
   user finds the task and finance-approves; the PCN lead hears of both.
"""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from declarations.models import Declaration, DeclarationStatus

from .conftest import login, logout

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

QOF = "QOF— Annual—Quality and Outcomes Framework 2024/25"
NCD = "DES— Annual—Network Contract DES 2024/25"
PRACTICE, PCN_LEAD = "practice@demo.nhs.net", "pcnlead@demo.nhs.net"
COMMISSIONER, FINANCE = "commissioner@demo.nhs.net", "finance@demo.nhs.net"


@pytest.fixture
def demo_world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)


def _tab(page, tab: str, subtab: str | None = None) -> None:
    page.locator(".nhsuk-header__navigation-list a", has_text=tab).click()
    page.wait_for_load_state()
    link = page.locator(".cqrs-subtabs__link", has_text=subtab) if subtab else None
    if link is not None and link.count():  # a tab with one sub-tab shows no sub-tab bar
        link.click()


def _banner(page):
    return page.locator(".nhsuk-notification-banner")


def _open_achievement(page, year: str, service: str) -> None:
    _tab(page, "Data Submission")
    page.get_by_label("Financial Year").select_option(label=year)
    page.get_by_label("Quality Service").select_option(label=service)
    page.get_by_role("button", name="Show").click()
    panel = page.get_by_test_id("achievement-panel")
    existing = panel.get_by_role("link", name="31/03/2025")
    if existing.count():
        existing.click()
    else:
        page.get_by_label("Achievement Date").select_option(label="31/03/2025 (payment date)")
        page.get_by_role("button", name="Add New Achievement").click()
    expect(page.locator("h1")).to_contain_text("31/03/2025")


def test_practice_pcn_and_commissioner_journeys(demo_world, live_server, page, screenshot):
    # --- 1. The practice accepts the QOF offer and submits achievement ----------------------
    login(page, live_server, PRACTICE)
    _tab(page, "Participation Management", "My Services")
    page.get_by_label("Select Quality and Outcomes Framework 2024/25").check()
    page.get_by_role("button", name="Accept Service").click()
    page.get_by_role("button", name="Yes").click()
    expect(_banner(page)).to_contain_text("successfully accepted")

    _open_achievement(page, "24/25", QOF)
    page.get_by_role("link", name="Workforce and wellbeing").first.click()
    page.get_by_label("New value: QI013 Yes/No Flag").select_option(label="Yes")
    page.get_by_label("Submission notes").fill("QI self-evaluation completed in March.")
    page.get_by_role("button", name="Submit Achievement Data").click()
    expect(_banner(page)).to_contain_text("The achievement data have been successfully submitted.")

    # The calculated payment now waits for the practice's declaration, beside the demo LES one.
    _tab(page, "Achievement", "Declare")
    to_declare = page.get_by_test_id("to-declare")
    expect(to_declare.locator("tr", has_text="Quality and Outcomes Framework 2024/25")).to_be_visible()
    expect(to_declare.locator("tr", has_text="Phlebotomy Local Enhanced Service")).to_be_visible()
    screenshot(page, "declarations-01-practice-declare-list")
    logout(page)

    # --- 2. The PCN lead sets the tick-box and declares ------------------------------------------
    login(page, live_server, PCN_LEAD)
    _open_achievement(page, "24/25", NCD)
    page.get_by_role("link", name="Capacity and Access Improvement Payment").first.click()
    card = page.get_by_test_id("tick-box-CAIP-2")
    card.get_by_label("Yes/No: CAIP-2").select_option(label="Yes")
    card.get_by_role("button", name="Save").click()
    expect(_banner(page)).to_contain_text("CAIP-2 has been changed to Yes")

    _tab(page, "Achievement", "Declare")
    row = page.get_by_test_id("to-declare").locator("tr", has_text="Stockton PCN")
    row.get_by_role("link", name="Review and declare").click()
    expect(page.get_by_role("heading", name="Achievement Summary")).to_be_visible()
    expect(page.locator("[data-indicator='CAIP-2']").first).to_contain_text("Yes")
    declared_amount = page.get_by_test_id("amount-calculated").inner_text().split()[0]
    page.get_by_label("Declaration notes (optional)").fill("CAIP-2 delivered from January.")
    page.get_by_role("button", name="Declare Achievement").click()
    expect(page.get_by_role("heading", name="Are you sure you want to declare this achievement and payment?")).to_be_visible()
    screenshot(page, "declarations-02-pcn-confirm-declare")
    page.get_by_role("button", name="Yes").click()
    expect(_banner(page)).to_contain_text("successfully submitted and is awaiting approval by the Commissioning Organisation")
    expect(page.get_by_test_id("nothing-to-declare")).to_be_visible()
    logout(page)

    # --- 3a. The commissioner has a task, selects all awaiting rows and approves --------------
    login(page, live_server, COMMISSIONER)
    centre = page.get_by_test_id("message-centre")
    expect(centre.get_by_text("Achievement and payment declaration available for approval: Stockton PCN")).to_be_visible()
    _tab(page, "Achievement", "Declaration Management")
    expect(page.get_by_label("Status")).to_have_value(DeclarationStatus.AWAITING_COMMISSIONER)
    table = page.get_by_test_id("declarations")
    expect(table.locator("tr", has_text="Stockton PCN (U89141)")).to_contain_text(declared_amount)
    awaiting = Declaration.objects.filter(
        provider__commissioner__ods_code="QHM", status=DeclarationStatus.AWAITING_COMMISSIONER
    ).count()
    assert awaiting >= 5
    expect(page.get_by_test_id("totals")).to_contain_text(f"Total of {awaiting} declarations")
    page.get_by_label("Select All").check()
    boxes = table.locator("input[name='declarations']")
    expect(boxes).to_have_count(awaiting)
    for index in range(awaiting):
        expect(boxes.nth(index)).to_be_checked()
    screenshot(page, "declarations-03-commissioner-select-all")
    page.get_by_role("button", name="Approve").click()
    expect(_banner(page)).to_contain_text("The payment declarations have been successfully approved.")
    expect(page.get_by_test_id("blank-panel")).to_be_visible()
    assert not Declaration.objects.filter(status=DeclarationStatus.AWAITING_COMMISSIONER, provider__commissioner__ods_code="QHM").exists()
    logout(page)

    # --- 3b. The finance user has a task and finance-approves ---------------------------------
    login(page, live_server, FINANCE)
    centre = page.get_by_test_id("message-centre")
    expect(
        centre.get_by_text("Achievement and payment declaration available for finance approval: Stockton PCN")
    ).to_be_visible()
    _tab(page, "Achievement", "Declaration Management")
    expect(page.get_by_label("Status")).to_have_value(DeclarationStatus.AWAITING_FINANCE)
    page.get_by_test_id("declarations").locator("tr", has_text="Stockton PCN (U89141)").get_by_role(
        "checkbox"
    ).check()
    page.get_by_role("button", name="Approve").click()
    expect(_banner(page)).to_contain_text("The payment declaration has been successfully approved.")
    page.get_by_label("Status").select_option(label="Financially Approved")
    page.get_by_role("button", name="Show").click()
    pcn_row = page.get_by_test_id("declarations").locator("tr", has_text="Stockton PCN (U89141)")
    expect(pcn_row).to_contain_text("Financially Approved")
    pcn_row.get_by_role("link", name="Stockton PCN").click()
    history = page.get_by_test_id("declaration-history")
    expect(history).to_contain_text("Awaiting Commissioning Organisation Approval")
    expect(history).to_contain_text("CAIP-2 delivered from January.")
    expect(page.get_by_test_id("amount-finance-approved")).to_contain_text(declared_amount)
    screenshot(page, "declarations-04-financially-approved")
    logout(page)

    # --- The PCN lead hears of the approval and the finance approval; the data are locked ------
    login(page, live_server, PCN_LEAD)
    centre = page.get_by_test_id("message-centre")
    expect(centre.get_by_text("Your declaration of Network Contract DES 2024/25 has been approved")).to_be_visible()
    expect(
        centre.get_by_text("Your payment for Network Contract DES 2024/25 has been financially approved")
    ).to_be_visible()
    _open_achievement(page, "24/25", NCD)
    page.get_by_role("link", name="Capacity and Access Improvement Payment").first.click()
    expect(page.get_by_test_id("tick-box-CAIP-2")).to_contain_text("financially approved")
    screenshot(page, "declarations-05-pcn-locked")
