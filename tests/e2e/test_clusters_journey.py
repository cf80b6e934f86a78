"""Service Provider Clusters in a browser (issue 14 section 2): the commissioner creates a cluster,
finds providers by name, adds two, renames it, and Offered Services then shows only its providers.
Set AXE_CORE_JS to axe-core's axe.min.js to run axe on each cluster page as well."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from participation.models import ProviderCluster, ServiceOffer

from .conftest import login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e

COMMISSIONER = "commissioner@demo.nhs.net"


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
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


def _banner(page):
    return page.locator(".nhsuk-notification-banner")


def test_a_commissioner_clusters_providers_and_filters_offered_services(demo, live_server, page, screenshot):
    login(page, live_server, COMMISSIONER)
    page.locator(".nhsuk-header__navigation-list a", has_text="Participation Management").click()
    page.locator(".cqrs-subtabs__link", has_text="Service Provider Clusters").click()
    expect(page.get_by_role("heading", name="Service Provider Clusters", level=1)).to_be_visible()
    _axe(page)
    page.get_by_label("Cluster name").fill("Stockton town")
    page.get_by_role("button", name="Create Cluster").click()
    expect(_banner(page)).to_contain_text("The cluster Stockton town has been created.")

    page.get_by_label("Search by Service Provider name or ODS code").fill("medical")
    page.get_by_role("button", name="Search").click()
    candidates = page.get_by_test_id("cluster-candidates")
    expect(candidates).to_contain_text("Queens Park Medical Centre")
    expect(candidates).not_to_contain_text("The Densham Surgery")
    page.get_by_label("Select Queens Park Medical Centre").check()
    page.get_by_label("Select Alma Medical Centre").check()
    page.get_by_role("button", name="Add to Cluster").click()
    expect(_banner(page)).to_contain_text("2 Service Provider(s) added to the cluster.")
    members = page.get_by_test_id("cluster-members")
    expect(members).to_contain_text("Queens Park Medical Centre")
    expect(members).to_contain_text("Alma Medical Centre")
    _axe(page)
    page.get_by_test_id("rename-cluster").get_by_label("Cluster name").fill("Stockton town centre")
    page.get_by_role("button", name="Rename Cluster").click()
    expect(_banner(page)).to_contain_text("The cluster has been renamed Stockton town centre.")
    screenshot(page, "clusters-1-cluster-page")
    cluster = ProviderCluster.objects.get(name="Stockton town centre")
    assert sorted(cluster.providers.values_list("ods_code", flat=True)) == ["A81002", "A81067"]

    # Offered Services, one cluster: its providers only.
    page.locator(".cqrs-subtabs__link", has_text="Offered Services").click()
    page.get_by_label("Cluster").select_option(label="Stockton town centre")
    page.get_by_role("button", name="Show").click()
    assert ServiceOffer.objects.filter(provider__ods_code__in=["A81002", "A81067"]).exists()
    services = page.get_by_test_id("offered-services")
    expect(services).to_be_visible()
    services.locator("a").first.click()
    seen = 0
    for status in ("Offered", "Approved", "Rejected", "Cancelled"):
        page.get_by_label("Status").select_option(status)
        page.get_by_role("button", name="Show").click()
        rows = page.get_by_test_id("service-providers").locator("tbody tr")
        for index in range(rows.count()):
            text = rows.nth(index).inner_text()
            assert "A81002" in text or "A81067" in text, text
            seen += 1
    assert seen >= 1
    screenshot(page, "clusters-2-offered-service-by-cluster")
