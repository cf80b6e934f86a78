"""Declaration Management's Cluster filter (issue 14, Service Provider Clusters): the clusters of
the user's ICB, and only the declarations of the chosen cluster's providers, on the page and in
its CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from accounts.models import Role
from declarations import services
from declarations.models import DeclarationStatus as S
from participation.models import ProviderCluster
from tests.factories import member

from .conftest import declaration_for

pytestmark = pytest.mark.django_db

MANAGEMENT = reverse("declarations:declaration_management")
EXPORT = reverse("declarations:export_declarations")


@pytest.fixture
def two_declared(orgs, people, qof):
    """Both practices of the ICB declared their QOF payment."""
    for key in ("practice", "practice2"):
        declaration = declaration_for(orgs[key], qof)
        declarer = people["declarer"] if key == "practice" else member(orgs[key], Role.DECLARATION_MANAGEMENT)
        services.declaration_declare(declaration_id=declaration.pk, user=declarer)


@pytest.fixture
def clusters(orgs):
    north = ProviderCluster.objects.create(commissioner=orgs["icb"], name="North locality")
    north.providers.add(orgs["practice"])
    theirs = ProviderCluster.objects.create(commissioner=orgs["other_icb"], name="Their cluster")
    theirs.providers.add(orgs["practice"], orgs["practice2"])  # not theirs to group, but it must not matter
    return {"north": north, "theirs": theirs}


def _rows(html: str) -> int:
    return html.count('name="declarations"')


def test_the_cluster_select_offers_the_clusters_of_the_users_icb_only(client_for, people, clusters, two_declared):
    html = client_for(people["approver"]).get(MANAGEMENT).content.decode()

    assert ">Cluster<" in html and ">All clusters<" in html
    assert f'value="{clusters["north"].pk}"' in html and "North locality" in html
    assert "Their cluster" not in html


def test_a_cluster_lists_only_its_providers_declarations(client_for, people, clusters, two_declared):
    client = client_for(people["approver"])

    everyone = client.get(MANAGEMENT, {"status": S.AWAITING_COMMISSIONER, "cluster": ""}).content.decode()
    north = client.get(MANAGEMENT, {"status": S.AWAITING_COMMISSIONER, "cluster": clusters["north"].pk}).content.decode()

    assert _rows(everyone) == 2
    assert _rows(north) == 1
    assert "The Densham Surgery" in north and "Woodbridge Practice" not in north
    assert "Total of 1 declaration<" in north


def test_another_icbs_cluster_filters_nothing_and_shows_nothing_of_it(client_for, people, clusters, two_declared):
    html = client_for(people["approver"]).get(
        MANAGEMENT, {"status": S.AWAITING_COMMISSIONER, "cluster": clusters["theirs"].pk}
    ).content.decode()

    assert "Their cluster" not in html
    assert "Select a valid choice" in html  # the select says so; the list stays the ICB's own
    assert _rows(html) == 2


def test_the_csv_follows_the_cluster(client_for, people, clusters, two_declared):
    response = client_for(people["approver"]).get(
        EXPORT, {"status": S.AWAITING_COMMISSIONER, "cluster": clusters["north"].pk}
    )

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["ODS Code"] for r in rows] == ["A81001"]
    assert "Amount Financially Approved" in rows[0]
