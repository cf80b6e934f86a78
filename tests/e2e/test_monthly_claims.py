"""Item-of-service claims, month by month (issue 16), in a browser on the demo data (seed_demo):

1. a monthly extract loads: the administrator uploads January 2025's flu vaccinations on Extract
   Loads, and the payments are calculated;
2. the practice opens Achievement > Monthly Claims, sees the months with their items, pounds and
   status, and declares two months at once (December and January);
3. the commissioner opens Approve Monthly Claims and approves January 2025 for the ICB: every
   practice's January claim moves on to Awaiting Finance Approval, December waits its turn.

Set AXE_CORE_JS to axe-core's axe.min.js to run axe on both screens as well.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.actors import SystemActor
from declarations import services
from declarations.models import Declaration, DeclarationStatus

from .conftest import login, logout

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

ADMIN, PRACTICE, COMMISSIONER = "admin@demo.nhs.net", "practice@demo.nhs.net", "commissioner@demo.nhs.net"
FLU = "ES— Monthly—Seasonal Influenza Vaccination Programme 2024/25"
JANUARY, DECEMBER = dt.date(2025, 1, 31), dt.date(2024, 12, 31)
HEADER = (
    "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,DEFAULT_VALUES_USED,"
    "SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION"
)
# January's vaccinations: the demo practice and Woodbridge Practice.
JANUARY_CLAIMS = {"A81001": {"FLU001": 64, "FLU002": 21}, "A81017": {"FLU001": 30, "FLU002": 4}}


@pytest.fixture
def demo_world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)


def _extract(tmp_path) -> str:
    lines = [HEADER]
    for ods, counts in JANUARY_CLAIMS.items():
        rows = [("LISTSIZE", "Registered Population", 9000), *((code, "Count", n) for code, n in counts.items())]
        for code, field, value in rows:
            lines.append(
                f"FLU2425,Seasonal Influenza Vaccination Programme 2024/25,{ods},20250131,{code},{field},{value},"
                "N,GPES,03/02/2025,00:00,Y"
            )
    path = tmp_path / "flu-2024-25-20250131.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _tab(page, tab: str, subtab: str) -> None:
    page.locator(".nhsuk-header__navigation-list a", has_text=tab).click()
    page.wait_for_load_state()
    page.locator(".cqrs-subtabs__link", has_text=subtab).click()


def _axe(page) -> None:
    script = os.environ.get("AXE_CORE_JS")
    if not script:
        return
    page.evaluate(Path(script).read_text())  # evaluated by the browser's debugger: not blocked by the CSP
    violations = page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))"
    )
    assert violations == [], violations


def _banner(page):
    return page.locator(".nhsuk-notification-banner")


def test_a_monthly_extract_two_months_declared_and_the_month_approved_for_the_icb(
    demo_world, live_server, page, screenshot, tmp_path
):
    # --- 1. A monthly extract loads ------------------------------------------------------------
    login(page, live_server, ADMIN)
    page.goto(f"{live_server.url}/achievement/extract-loads/")
    page.locator("input[type=file]").set_input_files(_extract(tmp_path))
    page.get_by_role("button", name="Upload extract").click()
    expect(page.get_by_text("Loaded").first).to_be_visible()
    logout(page)
    january = Declaration.objects.select_related("calculation").get(
        service__code="FLU2425", provider__ods_code="A81001", achievement_date__date=JANUARY
    )
    assert january.calculation.total_amount == Decimal("855.10")  # 85 x £10.06
    # Woodbridge Practice (no users in the demo) declares its January claim on its own.
    woodbridge = Declaration.objects.get(service__code="FLU2425", provider__ods_code="A81017", achievement_date__date=JANUARY)
    services.declaration_declare(declaration_id=woodbridge.pk, user=SystemActor("Woodbridge Practice"))

    # --- 2. The practice declares two months at once -------------------------------------------
    login(page, live_server, PRACTICE)
    _tab(page, "Achievement", "Monthly Claims")
    expect(page.get_by_test_id("claims-heading")).to_contain_text(FLU)
    claims = page.get_by_test_id("claims")
    january_row = claims.locator("tr[data-month='2025-01']")
    expect(january_row.get_by_test_id("count")).to_have_text("85")
    expect(january_row.get_by_test_id("amount")).to_have_text("£855.10")
    expect(january_row.get_by_test_id("status")).to_contain_text("Awaiting Service Provider Approval")
    expect(claims.locator("tr[data-month='2024-09']").get_by_test_id("status")).to_contain_text("Financially Approved")
    screenshot(page, "monthly-claims-practice")
    _axe(page)
    page.get_by_label("Select December 2024").check()
    page.get_by_label("Select January 2025").check()
    page.get_by_label("Declaration notes (optional)").fill("December and January flu clinics.")
    page.get_by_role("button", name="Declare Achievement").click()
    expect(_banner(page)).to_contain_text("The achievements and payments of 2 months have been successfully declared.")
    expect(january_row.get_by_test_id("status")).to_contain_text("Awaiting Commissioning Organisation Approval")
    expect(claims.locator("tr[data-month='2024-12']").get_by_test_id("status")).to_contain_text(
        "Awaiting Commissioning Organisation Approval"
    )
    logout(page)

    # --- 3. The commissioner approves January for the ICB --------------------------------------
    login(page, live_server, COMMISSIONER)
    _tab(page, "Achievement", "Approve Monthly Claims")
    month = page.get_by_test_id("claim-months").locator(f"tr[data-achievement-date='{january.achievement_date_id}']")
    expect(month.get_by_test_id("awaiting")).to_have_text("2")
    screenshot(page, "monthly-claims-commissioner")
    _axe(page)
    month.get_by_role("button", name="Approve Month").click()
    expect(_banner(page)).to_contain_text(
        "The payment declarations of January 2025 have been successfully approved (2)."
    )
    statuses = {
        d.provider.ods_code: d.status
        for d in Declaration.objects.filter(service__code="FLU2425", achievement_date__date=JANUARY).select_related(
            "provider"
        )
    }
    assert statuses == {"A81001": DeclarationStatus.AWAITING_FINANCE, "A81017": DeclarationStatus.AWAITING_FINANCE}
    december = Declaration.objects.get(service__code="FLU2425", provider__ods_code="A81001", achievement_date__date=DECEMBER)
    assert december.status == DeclarationStatus.AWAITING_COMMISSIONER  # its own month, its own approval
