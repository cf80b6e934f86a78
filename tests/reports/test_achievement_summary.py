"""Reports > Achievement Summary Report: its figures are Achievement Results' and the payment
export's, money only for money roles, its scope (Allocated Reports included) and its CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from declarations import selectors as declaration_selectors
from declarations.presenters import AchievementResults
from reports.records import allocations
from tests.factories import member

from .conftest import declaration_for

pytestmark = pytest.mark.django_db


def _url(declaration, name="reports:achievement_summary"):
    return reverse(name, args=[declaration.achievement_id])


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_report_shows_achievement_results_figures_and_who_declared_and_approved(client_for, people, declarations):
    first = declarations["first"]
    response = client_for(people["declarer"]).get(_url(first))
    assert response.status_code == 200
    report = response.context["report"]
    expected = AchievementResults.build(
        calculation=first.calculation,
        results=declaration_selectors.indicator_result_list(calculation=first.calculation),
        show_money=True,
    )
    assert report.results == expected  # the same presenter rows, to the penny
    page = response.content.decode()
    assert expected.total_amount in page and expected.total_points in page
    for group in expected.groups:
        for row in group.rows:
            assert f'data-indicator="{row.code}"' in page
    steps = {step.label: step for step in report.steps}
    assert steps["Declared"].by == people["declarer"].get_full_name()
    assert steps["Approved"].by == people["approver"].get_full_name()
    assert steps["Financially approved"].by == people["finance"].get_full_name()
    assert [h["to"] for h in report.history][-1] == "Financially Approved"
    assert "Checked against EMIS." in page
    assert 'media="print"' in page and "css/print.css" in page


def test_the_csv_equals_the_payment_export(client_for, people, declarations):
    first = declarations["first"]
    rows = _csv(client_for(people["finance"]).get(_url(first, "reports:achievement_summary_csv")))
    exported = {
        r["IND_CODE"]: r
        for r in declaration_selectors.payment_export_rows(achievement_date=first.achievement_date)
        if r["ORG_CODE"] == "A81001"
    }
    by_code = {r["Indicator Code"]: r for r in rows}
    assert set(exported) <= set(by_code)
    for code, row in exported.items():
        assert by_code[code]["Payment"] == row["AMOUNT"]
        assert by_code[code]["Achievement %"] == row["ACHIEVEMENT"]
        if by_code[code]["Points"]:
            assert by_code[code]["Points"] == row["POINTS"]
    assert rows[-1]["Indicator Code"] == "TOTAL"
    assert rows[-1]["Payment"] == f"{first.calculation.total_amount:.2f}"
    assert rows[-1]["Points"] == f"{first.calculation.total_points:.2f}"
    float(rows[0]["Payment"])  # a number, not "£..."


def test_the_view_role_sees_points_but_no_pounds(client_for, people, declarations):
    first = declarations["first"]
    response = client_for(people["viewer"]).get(_url(first))
    assert response.status_code == 200
    assert response.context["report"].show_money is False
    assert "£" not in response.content.decode()
    rows = _csv(client_for(people["viewer"]).get(_url(first, "reports:achievement_summary_csv")))
    assert "Payment" not in rows[0]


def test_nobody_sees_another_organisations_report(client_for, people, declarations):
    for who, declaration in (("other_finance", "first"), ("other_declarer", "first"), ("declarer", "other"),
                             ("sub_icb_finance", "first")):
        client = client_for(people[who])
        assert client.get(_url(declarations[declaration])).status_code == 404, who
        assert client.get(_url(declarations[declaration], "reports:achievement_summary_csv")).status_code == 404
    listed = client_for(people["other_finance"]).get(reverse("reports:achievement_summaries")).content.decode()
    assert "The Densham Surgery" not in listed and "Other Surgery" in listed


def test_an_allocated_sub_icb_location_runs_the_icbs_reports_until_revoked(client_for, orgs, people, declarations):
    allocation = allocations.report_allocation_grant(
        user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk
    )
    client = client_for(people["sub_icb_finance"])
    response = client.get(_url(declarations["first"]))
    assert response.status_code == 200
    assert response.context["report"].show_money is True  # Finance Management at the allowed organisation
    assert client.get(_url(declarations["other"])).status_code == 404  # never the other ICB's
    allocations.report_allocation_revoke(user=people["admin"], allocation_id=allocation.pk)
    assert client.get(_url(declarations["first"])).status_code == 404


def test_the_list_offers_each_calculated_achievement_of_the_users_scope(client_for, people, declarations):
    response = client_for(people["finance"]).get(reverse("reports:achievement_summaries"))
    page = response.content.decode()
    assert "The Densham Surgery" in page and "Woodbridge Practice" in page and "Other Surgery" not in page
    assert _url(declarations["first"]) in page


def test_queries_do_not_grow_with_the_rows(client_for, orgs, people, qof, declarations):
    client = client_for(people["finance"])
    list_url = reverse("reports:achievement_summaries")
    client.get(list_url)
    with CaptureQueriesContext(connection) as few:
        client.get(list_url)
    for i in range(6):
        practice = type(orgs["practice"]).objects.create(
            ods_code=f"A9000{i}", name=f"Extra Practice {i}", kind="practice", pcn=orgs["pcn"], commissioner=orgs["icb"]
        )
        declaration_for(practice, qof)
    with CaptureQueriesContext(connection) as many:
        response = client.get(list_url)
    assert len(response.context["rows"]) == 8
    assert len(many) == len(few)

    # The report itself: the same queries for a long history as for a short one.
    with CaptureQueriesContext(connection) as short:
        client.get(_url(declarations["second"]))
    with CaptureQueriesContext(connection) as long:
        client.get(_url(declarations["first"]))
    assert len(long) == len(short)


def test_a_practice_user_with_a_role_elsewhere_sees_only_its_own(client_for, orgs, people, declarations):
    member(orgs["practice2"], "view", user=people["other_declarer"])
    client = client_for(people["other_declarer"])
    assert client.get(_url(declarations["second"])).status_code == 200
    assert client.get(_url(declarations["first"])).status_code == 404
