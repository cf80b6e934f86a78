"""Issue 14, section 5, in the Reports tab: a PCN lead (roles only at the PCN) sees its member
practices' contributions to the PCN's services (the Network Contract DES), never the practices'
own services' payments (QOF): not in the Achievement Summary Report (list, page, CSV), not in
Payments (page, CSV, XLSX, a prepared run), not in This year and last.  The ICB, its region and
the practice itself still see the practice's QOF."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Role
from achievement.models import Achievement
from declarations import services
from declarations.models import Declaration
from reports.insights import selectors as insight_selectors
from reports.records import scope
from reports.records import selectors as record_selectors
from tests.declarations.factories import ncd_2122, set_tick_box, submit_values
from tests.factories import member

pytestmark = pytest.mark.django_db

NCD_DATE = dt.date(2022, 3, 31)


@pytest.fixture
def ncd(db):
    return ncd_2122()


@pytest.fixture
def scene(orgs, people, qof, ncd, declarations):
    """The practice's financially approved QOF payment (``declarations``), its contribution to
    the PCN's Network Contract DES, and the PCN's own calculated NCD payment."""
    set_tick_box(orgs["pcn"], ncd, "COV-01", NCD_DATE, True)
    contribution = submit_values(orgs["practice"], ncd, {}, date=NCD_DATE, list_size=8_000)
    pcn_achievement = submit_values(orgs["pcn"], ncd, {}, date=NCD_DATE, list_size=48_000)
    services.calculation_recalculate(achievement_id=pcn_achievement.pk)
    return {
        "qof": declarations["first"],
        "contribution": contribution,
        "ncd": Declaration.objects.get(achievement=pcn_achievement),
    }


@pytest.fixture
def lead(orgs):
    """A PCN lead: Declaration Management and Finance View at the PCN, nothing at a practice."""
    return member(orgs["pcn"], Role.DECLARATION_MANAGEMENT, Role.FINANCE_VIEW, email="pcnlead@example.nhs.net")


def _amount(declaration) -> str:
    return f"{declaration.calculation.total_amount:,.2f}"


# --- the rule itself ----------------------------------------------------------------------------


def test_the_rows_in_a_pcn_leads_report_scope_are_the_pcns_services_only(orgs, people, scene, lead):
    rows = Declaration.objects.filter(scope.report_rows(user=lead, roles=scope.SUMMARY_ROLES))
    assert {(d.provider.ods_code, d.service.code) for d in rows} == {("U89141", "NCD2122")}
    achievements = Achievement.objects.filter(scope.report_rows(user=lead, roles=scope.SUMMARY_ROLES))
    assert {(a.provider.ods_code, a.service.code) for a in achievements} == {
        ("U89141", "NCD2122"),
        ("A81001", "NCD2122"),  # the member's contribution to the PCN's service
    }


# --- Achievement Summary Report -----------------------------------------------------------------


def test_the_summary_list_of_a_pcn_lead_shows_the_pcns_ncd_not_a_members_qof(client_for, orgs, scene, lead):
    client = client_for(lead)
    response = client.get(reverse("reports:achievement_summaries"), {"financial_year": ""})
    assert response.status_code == 200
    listed = [(row["achievement"].provider.ods_code, row["achievement"].service.code) for row in response.context["rows"]]
    assert listed == [("U89141", "NCD2122")]
    assert _amount(scene["qof"]) not in response.content.decode()
    # Choosing the member practice shows none of its own services either.
    chosen = client.get(reverse("reports:achievement_summaries"), {"financial_year": "", "provider": orgs["practice"].pk})
    assert chosen.context["rows"] == []


def test_the_summary_page_and_csv_of_a_members_qof_are_not_found_for_a_pcn_lead(client_for, scene, lead):
    client = client_for(lead)
    qof = scene["qof"]
    assert client.get(reverse("reports:achievement_summary", args=[qof.achievement_id])).status_code == 404
    assert client.get(reverse("reports:achievement_summary_csv", args=[qof.achievement_id])).status_code == 404
    ncd = scene["ncd"]
    assert client.get(reverse("reports:achievement_summary", args=[ncd.achievement_id])).status_code == 200
    text = client.get(reverse("reports:achievement_summary_csv", args=[ncd.achievement_id])).content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["Quality Service"] == "NCD2122" and "QOF2425" not in text


def test_the_practice_its_icb_and_region_still_see_the_qof_summary(client_for, people, scene):
    qof = scene["qof"]
    for who in ("declarer", "finance", "region_finance"):
        response = client_for(people[who]).get(reverse("reports:achievement_summary", args=[qof.achievement_id]))
        assert response.status_code == 200, who


def test_a_user_at_both_the_practice_and_its_pcn_sees_both(client_for, orgs, scene, lead):
    member(orgs["practice"], Role.VIEW, user=lead)
    response = client_for(lead).get(reverse("reports:achievement_summaries"), {"financial_year": ""})
    listed = {(row["achievement"].provider.ods_code, row["achievement"].service.code) for row in response.context["rows"]}
    assert listed == {("U89141", "NCD2122"), ("A81001", "QOF2425")}


# --- Payments -----------------------------------------------------------------------------------


def test_a_pcn_leads_payments_offer_and_show_the_pcns_services_only(client_for, orgs, qof, ncd, scene, lead):
    client = client_for(lead)
    assert [s.code for s in record_selectors.payments_services(user=lead)] == ["NCD2122"]
    assert list(record_selectors.payments_list(user=lead, service=qof)) == []  # a prepared run reads this
    response = client.get(reverse("reports:payments"), {"service": qof.pk})
    assert response.status_code == 200
    assert response.context["rows"] == [] and _amount(scene["qof"]) not in response.content.decode()
    for name in ("reports:payments_csv", "reports:payments_xlsx"):
        refused = client.get(reverse(name), {"service": qof.pk})
        assert refused.status_code == 302 and _amount(scene["qof"]) not in refused.content.decode()
    shown = client.get(reverse("reports:payments"), {"service": ncd.pk})
    assert [row.ods_code for row in shown.context["rows"]] == ["U89141"]
    lines = list(csv.DictReader(io.StringIO(client.get(reverse("reports:payments_csv"), {"service": ncd.pk}).content.decode())))
    assert [line["ODS Code"] for line in lines] == ["U89141"]
    sheet = load_workbook(io.BytesIO(client.get(reverse("reports:payments_xlsx"), {"service": ncd.pk}).content)).active
    codes = {cell.value for cell in next(sheet.iter_cols(min_row=2, min_col=3, max_col=3))}
    assert "U89141" in codes and "A81001" not in codes


def test_a_pcn_lead_cannot_prepare_a_members_qof_payments(client_for, qof, scene, lead):
    response = client_for(lead).post(reverse("reports:prepare_payments"), {"service": qof.pk, "file_format": "csv"})
    assert response.status_code == 302 and response.url == reverse("reports:payments")


def test_the_icb_still_sees_its_practices_qof_payments(client_for, people, qof, scene):
    response = client_for(people["finance"]).get(reverse("reports:payments"), {"service": qof.pk})
    assert sorted(row.ods_code for row in response.context["rows"]) == ["A81001", "A81017"]


# --- This year and last -------------------------------------------------------------------------


def test_this_year_and_last_shows_a_pcn_lead_no_members_qof(client_for, orgs, qof, scene, lead):
    client = client_for(lead)
    url = reverse("reports:year_on_year")
    practice = orgs["practice"]
    assert list(insight_selectors.provider_dates(user=lead, provider=practice)) == []
    response = client.get(url, {"provider": practice.pk})
    assert response.status_code == 200
    assert response.context["report"] is None
    assert "QOF" not in str(response.context["form"].fields["achievement_date"].choices)
    qof_date = scene["qof"].achievement_date
    assert client.get(url, {"provider": practice.pk, "achievement_date": qof_date.pk}).status_code == 404
    # The PCN's own NCD payment is the lead's to compare.
    own = client.get(url, {"provider": orgs["pcn"].pk})
    assert own.status_code == 200 and own.context["this_date"] == scene["ncd"].achievement_date


def test_this_year_and_last_still_shows_the_practice_and_its_icb_the_qof(client_for, orgs, people, scene):
    qof_date = scene["qof"].achievement_date
    for who in ("declarer", "approver"):
        response = client_for(people[who]).get(
            reverse("reports:year_on_year"), {"provider": orgs["practice"].pk, "achievement_date": qof_date.pk}
        )
        assert response.status_code == 200 and response.context["this_date"] == qof_date, who
        assert response.context["report"] is not None
