"""Reports journeys in a browser on the demo data (seed_demo):

1. the practice runs its Achievement Summary Report from Declare and prints it: the print
   stylesheet hides the site around the report and keeps its figures;
2. finance downloads the Payments report as XLSX, whose cells are numbers, pounds and dates,
   and opens the Network Organisation Relationship and Allocated Reports.

Set AXE_CORE_JS to axe-core's axe.min.js to run axe on each page as well.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import expect

from accounts.formatting import money
from declarations.models import Declaration

from .conftest import login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

PRACTICE, FINANCE = "practice@demo.nhs.net", "finance@demo.nhs.net"


@pytest.fixture
def demo_world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)


def _axe(page) -> None:
    script = os.environ.get("AXE_CORE_JS")
    if not script:
        return
    page.evaluate(Path(script).read_text())  # evaluated by the browser's debugger: not blocked by the CSP
    violations = page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))"
    )
    assert violations == [], violations


def _tab(page, tab: str, subtab: str | None = None) -> None:
    page.locator(".nhsuk-header__navigation-list a", has_text=tab).click()
    page.wait_for_load_state()
    if subtab:
        page.locator(".cqrs-subtabs__link", has_text=subtab).click()


def test_a_practice_runs_and_prints_its_achievement_summary_report_from_declare(demo_world, live_server, page, screenshot):
    declaration = Declaration.objects.select_related("calculation", "service").get(
        service__code="LES2425", provider__ods_code="A81001"
    )
    login(page, live_server, PRACTICE)
    _tab(page, "Achievement", "Declare")
    page.get_by_test_id("run-summary-report").click()
    expect(page.locator("h1")).to_have_text("Achievement Summary Report")
    _axe(page)
    row = page.locator(f"tr[data-achievement='{declaration.achievement_id}']")
    row.get_by_role("link", name="Run Achievement Summary Report").click()

    report = page.get_by_test_id("achievement-summary-report")
    expect(report.locator("h1")).to_contain_text("The Densham Surgery (A81001)")
    expect(page.get_by_test_id("report-total-amount")).to_contain_text(money(declaration.calculation.total_amount))
    expect(page.get_by_test_id("report-total-points")).to_contain_text(f"{declaration.calculation.total_points:.2f}")
    indicator_rows = page.locator("[data-testid='report-indicators'] tbody tr")
    assert indicator_rows.count() == declaration.calculation.indicators.count()
    expect(page.get_by_role("button", name="Print this report")).to_be_visible()  # the module ran
    screenshot(page, "reports-01-achievement-summary-screen")
    _axe(page)

    page.emulate_media(media="print")
    expect(page.locator("header.nhsuk-header")).to_be_hidden()
    expect(page.locator("nav.cqrs-subtabs")).to_be_hidden()
    expect(page.locator("footer.nhsuk-footer")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this report")).to_be_hidden()
    expect(report.locator("h1")).to_be_visible()
    expect(page.get_by_test_id("report-generated-at")).to_be_visible()
    expect(page.get_by_test_id("report-total-amount")).to_contain_text(money(declaration.calculation.total_amount))
    screenshot(page, "reports-02-achievement-summary-print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")


def test_finance_downloads_the_payments_xlsx(demo_world, live_server, page, screenshot, tmp_path):
    service = Declaration.objects.filter(provider__commissioner__ods_code="QHM", service__code="LES2425").first().service
    expected = {
        d.provider.ods_code: d
        for d in Declaration.objects.filter(service=service, provider__commissioner__ods_code="QHM").select_related(
            "provider", "calculation"
        )
    }
    login(page, live_server, FINANCE)
    _tab(page, "Reports", "Payments")
    page.get_by_label("Quality Service").select_option(value=str(service.pk))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("payments").locator("tbody tr")).to_have_count(len(expected))
    screenshot(page, "reports-03-payments")
    _axe(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download XLSX").click()
    path = tmp_path / "payments.xlsx"
    download_info.value.save_as(path)
    sheet = load_workbook(path).active
    header = [c.value for c in sheet[1]]
    column = {name: i for i, name in enumerate(header)}
    assert sheet.freeze_panes == "A2"
    rows = [r for r in sheet.iter_rows(min_row=2) if r[column["ODS Code"]].value]
    assert {r[column["ODS Code"]].value for r in rows} == set(expected)
    for r in rows:
        calculated = r[column["Calculated Amount"]]
        assert isinstance(calculated.value, (int, float)) and calculated.number_format == "£#,##0.00"
        assert Decimal(str(calculated.value)) == expected[r[column["ODS Code"]].value].calculation.total_amount
        assert isinstance(r[column["Achievement Date"]].value, dt.datetime)
        assert isinstance(r[column["Status"]].value, str)

    page.locator(".cqrs-subtabs__link", has_text="Network Organisation Relationship").click()
    expect(page.get_by_test_id("network")).to_contain_text("Stockton PCN")
    _axe(page)
    page.locator(".cqrs-subtabs__link", has_text="Allocated Reports").click()
    expect(page.get_by_test_id("no-allocations-received")).to_be_visible()
    _axe(page)


def test_a_user_administrator_allocates_the_icbs_reports_and_revokes_them(demo_world, live_server, page, screenshot):
    login(page, live_server, "admin@demo.nhs.net")
    _tab(page, "Reports")
    expect(page.locator("h1")).to_have_text("Allocated Reports")
    page.get_by_label("Allow this organisation to run them").select_option(index=1)
    allowed = page.get_by_label("Allow this organisation to run them").locator("option:checked").inner_text()
    page.get_by_role("button", name="Allocate Reports").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("can now run the reports of")
    expect(page.get_by_test_id("allocations")).to_contain_text(allowed.split(" (")[0])
    screenshot(page, "reports-04-allocated-reports")
    _axe(page)
    page.get_by_test_id("allocations").get_by_role("button", name="Revoke").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("can no longer run the reports of")


def test_finance_prepares_a_payments_report_too_large_for_a_page(demo_world, live_server, page, settings, tmp_path):
    settings.REPORTS_SCREEN_ROWS = 2  # a national report, in miniature
    service = Declaration.objects.filter(provider__commissioner__ods_code="QHM", service__code="LES2425").first().service
    login(page, live_server, FINANCE)
    _tab(page, "Reports", "Payments")
    page.get_by_label("Quality Service").select_option(value=str(service.pk))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("payments-too-many")).to_be_visible()
    page.get_by_role("button", name="Prepare XLSX download").click()
    expect(page.locator("h1")).to_have_text("Payments report download")
    expect(page.get_by_test_id("report-run-status")).to_contain_text("Ready to download")  # tasks run eagerly here
    _axe(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the report").click()
    path = tmp_path / "prepared.xlsx"
    download_info.value.save_as(path)
    rows = [r for r in load_workbook(path).active.iter_rows(min_row=2) if r[2].value]
    assert len(rows) == Declaration.objects.filter(service=service, provider__commissioner__ods_code="QHM").count()
