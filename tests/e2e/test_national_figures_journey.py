"""The National Administrator sets the QOF 2024/25 national figures, played in a browser on the
demo data (seed_demo: the QOF year-end extract of the demo practices is loaded) (issue 13 §4).

Before: Woodbridge Practice's QOF payment (read by its commissioner) says "provisional: national figures not yet set".  The
National Administrator opens Administrative Tasks > National Figures, chooses QOF 2024/25, sees
the definition's figures beside those the year-end data give and the number of practices, and
sets them; the payments are recalculated (in process here) and the page says so.  After: the
practice's payment no longer says provisional on national figures."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from achievement.models import Achievement

from .conftest import login, logout

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

NATIONAL, COMMISSIONER = "national@demo.nhs.net", "commissioner@demo.nhs.net"


@pytest.fixture
def demo_world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)


def test_the_national_administrator_sets_the_national_figures(demo_world, live_server, page, screenshot):
    achievement = Achievement.objects.get(
        provider__ods_code="A81017", service__code="QOF2425", achievement_date__is_payment_date=True
    )
    results_url = f"{live_server.url}/declarations/achievement-results/{achievement.pk}/"
    login(page, live_server, COMMISSIONER)
    page.goto(results_url)
    expect(page.get_by_test_id("national-figures-pending")).to_have_text("provisional: national figures not yet set")
    logout(page)

    login(page, live_server, NATIONAL)
    page.get_by_role("link", name="Administrative Tasks").first.click()  # its one sub-tab: National Figures
    expect(page.get_by_role("heading", name="National Figures", exact=True)).to_be_visible()
    page.get_by_role("link", name="QOF— Annual—Quality and Outcomes Framework 2024/25").click()
    expect(page.get_by_test_id("national-figures-practices")).to_contain_text("1 practice with year-end data")
    expect(page.get_by_test_id("national-figures-status")).to_contain_text("Not set")
    expect(page.get_by_test_id("national-figure-list-size")).to_contain_text("9,964")
    screenshot(page, "national-figures-before")

    page.get_by_role("button", name="Set national figures").click()

    expect(page.get_by_test_id("national-figures-status")).to_contain_text("Set on")
    expect(page.get_by_test_id("national-figures-progress")).to_contain_text("calculated on the figures in force")
    expect(page.get_by_role("button", name="Set national figures again")).to_be_visible()
    screenshot(page, "national-figures-set")
    logout(page)

    login(page, live_server, COMMISSIONER)
    page.goto(results_url)
    expect(page.get_by_test_id("total-points")).to_be_visible()
    expect(page.get_by_test_id("national-figures-pending")).to_have_count(0)
