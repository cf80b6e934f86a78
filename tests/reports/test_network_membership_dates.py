"""Reports > Network Organisation Relationship with PCN membership over time (docs/adr/0020):
each membership of a practice, past and current, with its from and to dates, on the page and in
the CSV, for the commissioner's scope only, in a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import pcn_membership
from tests.factories import PCNFactory, PracticeFactory

pytestmark = pytest.mark.django_db


def _rows(client):
    return [
        (r.pcn_code, r.practice_code, r.member_from, r.member_to)
        for r in client.get(reverse("reports:network")).context["rows"]
    ]


def test_a_practice_that_moved_is_listed_under_both_pcns_with_the_dates(client_for, orgs, people):
    north = PCNFactory(ods_code="U07032", name="North Stockton PCN", commissioner=orgs["icb"])
    pcn_membership.record_moves(wanted={orgs["practice"].pk: north.pk}, effective=dt.date(2025, 4, 1))
    client = client_for(people["approver"])

    assert _rows(client) == [
        ("U07032", "A81001", "01/04/2025", ""),
        ("U89141", "A81001", "Not recorded", "31/03/2025"),
        ("U89141", "A81017", "Not recorded", ""),
    ]
    page = client.get(reverse("reports:network")).content.decode()
    assert "Current" in page and "31/03/2025" in page
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("reports:network_csv")).content.decode())))
    assert [(r["PCN ODS Code"], r["Practice ODS Code"], r["Member From"], r["Member To"]) for r in rows] == _rows(client)
    # The other ICB sees none of it.
    assert _rows(client_for(people["other_finance"])) == [("U99999", "Z99999", "Not recorded", "")]


def test_the_report_runs_a_fixed_number_of_queries_whatever_the_memberships(client_for, orgs, people):
    client = client_for(people["approver"])
    client.get(reverse("reports:network"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("reports:network"))
    pcns = [PCNFactory(commissioner=orgs["icb"]) for _ in range(3)]
    practices = [PracticeFactory(pcn=pcns[0], commissioner=orgs["icb"]) for _ in range(4)]
    pcn_membership.record_moves(wanted={p.pk: pcns[1].pk for p in practices}, effective=dt.date(2025, 4, 1))
    pcn_membership.record_moves(wanted={p.pk: pcns[2].pk for p in practices}, effective=dt.date(2025, 7, 1))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("reports:network"))
    assert len(response.context["rows"]) == 2 + 4 * 3  # the two practices, and three memberships each
    assert len(many) == len(few)
