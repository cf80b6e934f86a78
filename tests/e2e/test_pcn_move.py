"""A practice moves PCN, played in a browser on the demo data (seed_demo), and both PCNs'
payments change (docs/adr/0020-pcn-membership-over-time.md).

The commissioner opens The Dovecot Surgery's page (Stockton PCN), records its move to North
Stockton PCN from 01/04/2024 (before every Network Contract DES 2024/25 achievement date), sees the
membership with its dates, and finds the practice among North Stockton PCN's members on
31/03/2025 in Data Submission > Network Achievement.  Both PCNs' 31/03/2025 payments, read on
their declaration pages before and after, have changed.

Set AXE_CORE_JS to axe-core's axe.min.js to run axe on each new page as well."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from declarations.models import Declaration

from .conftest import login, logout

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

COMMISSIONER = "commissioner@demo.nhs.net"
MOVER = ("A81025", "The Dovecot Surgery")


@pytest.fixture
def demo_world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)


def _axe(page) -> None:
    script = os.environ.get("AXE_CORE_JS")
    if not script:
        return
    page.evaluate(Path(script).read_text())
    violations = page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))"
    )
    assert violations == [], violations


def _ncd_payment_url(live_server, pcn_code: str) -> str:
    declaration = Declaration.objects.get(
        provider__ods_code=pcn_code, service__code="NCD2425", achievement_date__date__year=2025,
        achievement_date__date__month=3,
    )
    return f"{live_server.url}/declarations/{declaration.pk}/"


def _amount(page, url: str) -> str:
    page.goto(url)
    expect(page.get_by_test_id("recalculation-pending")).to_have_count(0)
    return page.get_by_test_id("amount-calculated").inner_text()


def test_a_practice_moves_pcn_and_both_pcns_payments_change(demo_world, live_server, page, screenshot):
    stockton_url = _ncd_payment_url(live_server, "U89141")
    north_url = _ncd_payment_url(live_server, "U07032")
    login(page, live_server, COMMISSIONER)
    stockton_before, north_before = _amount(page, stockton_url), _amount(page, north_url)

    # The practice's page: its PCN membership, and Record a PCN move.
    page.goto(f"{live_server.url}/organisations/{MOVER[0]}/")
    expect(page.get_by_role("heading", name="PCN membership")).to_be_visible()
    expect(page.get_by_test_id("pcn-memberships")).to_contain_text("Stockton PCN (U89141)")
    page.get_by_role("link", name="Record a PCN move").click()
    expect(page.get_by_role("heading", name="Record a PCN move")).to_be_visible()
    _axe(page)
    page.get_by_label("Primary Care Network from the date").select_option(label="North Stockton PCN (U07032)")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("4")
    page.get_by_label("Year").fill("2024")
    page.get_by_role("button", name="Record move").click()

    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"{MOVER[1]} moved PCN from 01/04/2024")
    memberships = page.get_by_test_id("pcn-memberships")
    expect(memberships.locator("tr", has_text="U89141")).to_contain_text("31/03/2024")
    expect(memberships.locator("tr", has_text="U07032")).to_contain_text("01/04/2024")
    screenshot(page, "pcn-move-recorded")
    _axe(page)

    # Data Submission > Network Achievement: the practice counts for North Stockton PCN now.
    page.locator(".nhsuk-header__navigation-list a", has_text="Data Submission").click()
    page.locator(".cqrs-subtabs__link", has_text="Network Achievement").click()
    expect(page.get_by_role("heading", name="Network Achievement")).to_be_visible()
    page.get_by_test_id("network-achievements").locator("tr", has_text="North Stockton PCN").filter(
        has_text="Network Contract DES 2024/25"
    ).get_by_role("link", name="31/03/2025").click()
    expect(page.get_by_test_id("network-members")).to_contain_text(f"{MOVER[1]} ({MOVER[0]})")
    screenshot(page, "pcn-move-network-achievement")
    _axe(page)

    # Both PCNs' payments were recalculated and changed.
    stockton_after, north_after = _amount(page, stockton_url), _amount(page, north_url)
    assert stockton_after != stockton_before
    assert north_after != north_before
    logout(page)
