"""Reports > Payments: the figures are Declaration Management's, the filters, the scope (Allocated
Reports included), the CSV and XLSX types, a fixed number of queries, and a report too large for
a page prepared in the background with its progress and download."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from declarations.models import DeclarationStatus
from reports.models import ReportRun, ReportRunStatus
from reports.records import allocations
from tests.factories import PracticeFactory

from .conftest import declaration_for

pytestmark = pytest.mark.django_db


def _get(client, qof, name="reports:payments", **filters):
    return client.get(reverse(name), {"service": qof.pk, **filters})


def _providers(response) -> list[str]:
    return [row.ods_code for row in response.context["rows"]]


def test_the_totals_equal_declaration_managements(client_for, people, qof, declarations):
    client = client_for(people["finance"])
    report = _get(client, qof)
    management = client.get(reverse("declarations:declaration_management"), {"status": "all", "service": qof.pk})
    assert report.status_code == management.status_code == 200
    # Declaration Management also totals the aspiration paid and the balance (issue 13); the
    # figures both show are the same.
    shared = {key: value for key, value in management.context["totals"].items() if key in report.context["totals"]}
    assert report.context["totals"] == shared
    assert set(management.context["totals"]) - set(shared) == {"aspiration_paid", "balance"}
    assert sorted(_providers(report)) == ["A81001", "A81017"]
    first = next(r for r in report.context["rows"] if r.ods_code == "A81001")
    assert first.calculated == declarations["first"].calculation.total_amount
    assert first.finance_approved == declarations["first"].amount_finance_approved
    assert first.declared_at == declarations["first"].declared_at


def test_the_csv_equals_declaration_managements_export(client_for, people, qof, declarations):
    client = client_for(people["finance"])
    ours = {r["ODS Code"]: r for r in csv.DictReader(io.StringIO(_get(client, qof, "reports:payments_csv").content.decode()))}
    theirs = {
        r["ODS Code"]: r
        for r in csv.DictReader(
            io.StringIO(client.get(reverse("declarations:export_declarations"), {"status": "all", "service": qof.pk}).content.decode())
        )
    }
    assert set(ours) == set(theirs) == {"A81001", "A81017"}
    for code, row in ours.items():
        for column in ("Calculated Amount", "Amount Declared", "Amount Approved", "Amount Financially Approved"):
            assert row[column] == theirs[code][column], column
        assert row["Status"] == theirs[code]["Status"]
    assert ours["A81001"]["Sub-ICB Location"] == "16C" and ours["A81001"]["PCN"] == "U89141"


def test_the_xlsx_has_numbers_currency_dates_a_header_and_frozen_panes(client_for, people, qof, declarations):
    response = _get(client_for(people["finance"]), qof, "reports:payments_xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Quality Service", "Service Provider", "ODS Code"] and sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    column = {name: i for i, name in enumerate(header)}
    rows = {row[column["ODS Code"]].value: row for row in sheet.iter_rows(min_row=2) if row[column["ODS Code"]].value}
    first = rows["A81001"]
    calculated = first[column["Calculated Amount"]]
    assert isinstance(calculated.value, (int, float)) and calculated.number_format == "£#,##0.00"
    assert Decimal(str(calculated.value)) == declarations["first"].calculation.total_amount
    assert isinstance(first[column["Achievement Date"]].value, dt.datetime)
    assert first[column["Achievement Date"]].value.date() == dt.date(2025, 3, 31)
    assert isinstance(first[column["Financially Approved At"]].value, dt.datetime)
    assert rows["A81017"][column["Amount Financially Approved"]].value is None
    total = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "Total")
    assert Decimal(str(total[column["Calculated Amount"]].value)) == sum(
        (d.calculation.total_amount for d in (declarations["first"], declarations["second"])), Decimal(0)
    )


def test_filters_by_status_sub_icb_location_and_pcn(client_for, orgs, people, qof, declarations):
    client = client_for(people["finance"])
    assert _providers(_get(client, qof, status=DeclarationStatus.FINANCIALLY_APPROVED)) == ["A81001"]
    assert _providers(_get(client, qof, status=DeclarationStatus.AWAITING_FINANCE)) == []
    assert _providers(_get(client, qof, sub_icb=orgs["sub_icb"].pk)) == ["A81001"]
    assert sorted(_providers(_get(client, qof, pcn=orgs["pcn"].pk))) == ["A81001", "A81017"]
    assert _get(client, qof, pcn=orgs["pcn"].pk, status=DeclarationStatus.AWAITING_COMMISSIONER).context[
        "totals"
    ]["count"] == 1


def test_nobody_sees_another_organisations_payments(client_for, orgs, people, qof, declarations):
    assert _providers(_get(client_for(people["other_finance"]), qof)) == ["Z99999"]
    # A PCN of another ICB in the filter is not a choice: the form refuses it and shows nothing.
    response = _get(client_for(people["finance"]), qof, pcn=orgs["other_practice"].pcn_id)
    assert response.context["rows"] == [] and "Other Surgery" not in response.content.decode()
    assert _get(client_for(people["sub_icb_finance"]), qof).context["rows"] == []
    assert client_for(people["declarer"]).get(reverse("reports:payments")).status_code == 403


def test_an_allocated_sub_icb_location_sees_the_icbs_payments_until_revoked(client_for, orgs, people, qof, declarations):
    allocation = allocations.report_allocation_grant(
        user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk
    )
    client = client_for(people["sub_icb_finance"])
    assert sorted(_providers(_get(client, qof))) == ["A81001", "A81017"]
    allocations.report_allocation_revoke(user=people["admin"], allocation_id=allocation.pk)
    assert _get(client, qof).context["rows"] == []


def test_a_region_sees_the_providers_of_its_icbs(client_for, people, qof, declarations):
    assert sorted(_providers(_get(client_for(people["region_finance"]), qof))) == ["A81001", "A81017"]


def test_queries_do_not_grow_with_the_rows(client_for, orgs, people, qof, declarations):
    client = client_for(people["finance"])
    _get(client, qof)
    counts = {}
    for name in ("reports:payments", "reports:payments_csv", "reports:payments_xlsx"):
        with CaptureQueriesContext(connection) as few:
            _get(client, qof, name)
        counts[name] = len(few)
    for _ in range(5):
        declaration_for(PracticeFactory(pcn=orgs["pcn"], commissioner=orgs["icb"]), qof)
    for name in counts:
        with CaptureQueriesContext(connection) as many:
            response = _get(client, qof, name)
        assert len(many) == counts[name], name
    assert len(response.content) > 0


def test_a_report_too_large_for_a_page_is_prepared_in_the_background(
    client_for, people, qof, declarations, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.REPORTS_SCREEN_ROWS = 1
    settings.MEDIA_ROOT = tmp_path
    client = client_for(people["finance"])
    page = _get(client, qof)
    assert page.context["too_many"] and page.context["rows"] == []
    assert "Prepare XLSX download" in page.content.decode()
    assert _get(client, qof, "reports:payments_xlsx").status_code == 302  # not at once: prepared

    with django_capture_on_commit_callbacks(execute=True):  # the task is enqueued after the commit
        response = client.post(reverse("reports:prepare_payments"), {"service": qof.pk, "file_format": "xlsx"})
    run = ReportRun.objects.get()
    assert response.url == reverse("reports:report_run", args=[run.pk])
    assert run.status == ReportRunStatus.DONE and run.rows_total == 2  # tasks run eagerly in tests
    progress = client.get(response.url)
    assert progress.context["ready"] and progress.context["refresh_seconds"] is None
    download = client.get(reverse("reports:report_run_download", args=[run.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert sorted(r[2].value for r in sheet.iter_rows(min_row=2) if r[2].value) == ["A81001", "A81017"]

    # Only the user who asked for it sees it.
    other = client_for(people["approver"])
    assert other.get(reverse("reports:report_run", args=[run.pk])).status_code == 404
    assert other.get(reverse("reports:report_run_download", args=[run.pk])).status_code == 404


def test_a_run_in_progress_shows_its_progress_and_refreshes(client_for, people, qof, declarations):
    from django.core.cache import cache

    from reports.records import runs

    run = ReportRun.objects.create(user=people["finance"], report="payments", file_format="csv",
                                   parameters={"service": qof.pk}, status=ReportRunStatus.RUNNING, rows_total=10)
    cache.set(runs.progress_key(run.pk), 4)
    response = client_for(people["finance"]).get(reverse("reports:report_run", args=[run.pk]))
    page = response.content.decode()
    assert response.context["refresh_seconds"] and 'http-equiv="refresh"' in page
    assert '<progress id="report-progress" value="4" max="10">' in page
    assert client_for(people["finance"]).get(reverse("reports:report_run_download", args=[run.pk])).status_code == 404


def test_an_allocated_sub_icb_location_sees_where_the_icbs_money_is_lost_until_revoked(
    client_for, orgs, people, qof, declarations
):
    client = client_for(people["sub_icb_finance"])
    url = reverse("reports:money_lost")
    assert client.get(url, {"commissioner": orgs["icb"].pk}).status_code == 404  # not its own
    allocation = allocations.report_allocation_grant(
        user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk
    )
    page = client.get(url, {"commissioner": orgs["icb"].pk})
    assert page.status_code == 200
    assert page.context["commissioner"] == orgs["icb"] and "£" in page.content.decode()
    assert client.get(url, {"commissioner": orgs["other_icb"].pk}).status_code == 404
    allocations.report_allocation_revoke(user=people["admin"], allocation_id=allocation.pk)
    assert client.get(url, {"commissioner": orgs["icb"].pk}).status_code == 404
