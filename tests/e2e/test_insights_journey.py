"""The commissioner's journey of issue 15: on the demo data (seed_demo), Reports > Where the Money
Is Lost, an indicator's providers furthest from its upper threshold, and a practice's Achievement
Results reached from there; then the practice compares this year with last.

Set AXE_CORE_JS to axe-core's axe.min.js to run axe on each page as well (the service's checks
run it on every page)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .conftest import RESULTS, login, logout

pytestmark = pytest.mark.e2e
COMMISSIONER, PRACTICE = "commissioner@demo.nhs.net", "practice@demo.nhs.net"


@pytest.fixture
def demo_world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)


def _axe(page) -> None:
    script = os.environ.get("AXE_CORE_JS")
    if not script:
        return
    page.evaluate(Path(script).read_text())  # evaluated by the browser's debugger: not blocked by the CSP
    violations = page.evaluate("async () => (await axe.run(document)).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))")
    assert violations == [], violations


def test_commissioner_opens_where_the_money_is_lost_and_reaches_a_practice(demo_world, live_server, page, screenshot):
    login(page, live_server, COMMISSIONER)
    page.locator(".nhsuk-header__navigation-list a", has_text="Reports").click()
    page.locator(".cqrs-subtabs__link", has_text="Where the Money Is Lost").click()
    expect(page.locator("h1")).to_have_text("Where the money is lost")
    page.get_by_label("Quality Service and achievement date").select_option(
        label="Quality and Outcomes Framework 2024/25: 31/03/2025 (payment date)"
    )
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="indicators with the most pounds not earned")).to_be_visible()
    expect(page.get_by_test_id("total-not-earned")).to_contain_text("£")
    screenshot(page, "insights-money-lost")
    for chart in ("not-earned-chart", "bands-chart"):  # the charts at full size, to look at
        page.get_by_test_id(chart).screenshot(path=str(RESULTS / f"insights-{chart}.png"))
    _axe(page)

    table = page.get_by_test_id("money-lost-table")
    first = table.locator("tbody tr").first
    code = first.get_attribute("data-indicator")
    first.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text(f"{code}: providers furthest from the upper threshold")
    expect(page.get_by_role("img", name=f"{code}: providers by achievement")).to_be_visible()
    screenshot(page, "insights-indicator")
    _axe(page)

    provider = page.get_by_test_id("providers-table").locator("tbody tr").first
    name = provider.get_by_role("link").first.inner_text()
    provider.get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text(f"Achievement Results: {name}")
    logout(page)

    login(page, live_server, PRACTICE)
    page.locator(".nhsuk-header__navigation-list a", has_text="Reports").click()
    page.locator(".cqrs-subtabs__link", has_text="This Year and Last").click()
    expect(page.locator("h1")).to_have_text("This year and last")
    expect(page.get_by_test_id("last-year-summary")).to_contain_text("last year has no figures to compare with")
    screenshot(page, "insights-year-on-year")
    _axe(page)
