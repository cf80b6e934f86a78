"""The screens of issue 6: Achievement > Declare (provider), Achievement > Declaration Management
(commissioner), a declaration's page; scoping, the job aid's confirmation message, totals, CSV,
the commissioner's tick-box control, and a fixed number of queries whatever the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ListSize, Role
from achievement.models import Achievement
from declarations import services
from declarations.models import Declaration
from declarations.models import DeclarationStatus as S
from declarations.views.declare import DECLARED
from declarations.views.management import APPROVED_MANY, APPROVED_ONE
from participation.models import AchievementDate, Indicator
from tests.factories import PracticeFactory, member

from .conftest import declaration_for, fresh

pytestmark = pytest.mark.django_db

MANAGEMENT = reverse("declarations:declaration_management")
APPROVE = reverse("declarations:approve_declarations")
DECLARE = reverse("declarations:declare")


def detail(declaration):
    return reverse("declarations:declaration_detail", args=[declaration.pk])


def page(response) -> str:
    return response.content.decode()


def banner(client, response) -> str:
    followed = client.get(response["Location"])
    return page(followed)


@pytest.fixture
def declared(people, declaration):
    services.declaration_declare(declaration_id=declaration.pk, user=people["declarer"])
    return fresh(declaration)


# --- tabs and who opens what -------------------------------------------------------------------------


def test_the_achievement_tab_shows_declare_to_providers_and_declaration_management_to_commissioners(
    client_for, people
):
    provider_page = page(client_for(people["declarer"]).get(reverse("declarations:declare")))
    assert "Declare" in provider_page and MANAGEMENT not in provider_page
    commissioner_page = page(client_for(people["approver"]).get(MANAGEMENT))
    assert MANAGEMENT in commissioner_page and f'href="{DECLARE}"' not in commissioner_page


def test_a_provider_cannot_open_declaration_management_nor_a_commissioner_declare(client_for, people):
    assert client_for(people["declarer"]).get(MANAGEMENT).status_code == 403
    assert client_for(people["approver"]).get(DECLARE).status_code == 403


def test_another_organisations_declaration_page_is_404(client_for, orgs, declaration):
    outsider = member(orgs["other_practice"], *Role)
    client = client_for(outsider)

    assert client.get(detail(declaration)).status_code == 404
    assert client.post(reverse("declarations:declare_declaration", args=[declaration.pk]), {"confirm": "yes"}).status_code == 404
    assert client.post(reverse("declarations:declaration_tick_box", args=[declaration.pk]), {}).status_code == 404


# --- Declare --------------------------------------------------------------------------------------------


def test_declare_lists_the_achievements_awaiting_the_providers_approval(client_for, people, declaration):
    response = client_for(people["declarer"]).get(DECLARE)

    assert response.status_code == 200
    assert "The Densham Surgery" in page(response)
    assert detail(declaration) in page(response)


def test_the_declaration_page_shows_the_achievement_summary_notes_and_declare_achievement(client_for, people, declaration):
    response = client_for(people["declarer"]).get(detail(declaration))

    html = page(response)
    assert "Achievement Summary" in html and "VI001" in html and "AF006" in html
    assert "Declare Achievement" in html
    assert "Awaiting Service Provider Approval" in html
    assert f"£{declaration.calculation.total_amount:,.2f}" in html


def test_declare_achievement_asks_for_confirmation_then_declares(client_for, people, declaration):
    client = client_for(people["declarer"])
    url = reverse("declarations:declare_declaration", args=[declaration.pk])

    confirm = client.post(url, {"note": "Checked against our register."})
    assert confirm.status_code == 200
    assert "Are you sure you want to declare this achievement and payment?" in page(confirm)
    assert fresh(declaration).status == S.AWAITING_PROVIDER

    done = client.post(url, {"note": "Checked against our register.", "confirm": "yes"})
    assert done.status_code == 302
    assert DECLARED in banner(client, done)
    assert fresh(declaration).status == S.AWAITING_COMMISSIONER
    assert "Checked against our register." in page(client.get(detail(declaration)))


def test_a_user_who_may_not_declare_gets_no_button_and_a_403(client_for, orgs, declaration):
    viewer = member(orgs["practice"], Role.VIEW)
    client = client_for(viewer)

    assert "Declare Achievement" not in page(client.get(detail(declaration)))
    assert client.post(reverse("declarations:declare_declaration", args=[declaration.pk]), {}).status_code == 403
    assert client.post(
        reverse("declarations:declare_declaration", args=[declaration.pk]), {"confirm": "yes"}
    ).status_code == 403


# --- Declaration Management ------------------------------------------------------------------------------


def test_declaration_management_shows_the_declared_rows_with_checkboxes_and_totals(client_for, people, declared):
    response = client_for(people["approver"]).get(MANAGEMENT)

    html = page(response)
    assert 'name="declarations"' in html and f'value="{declared.pk}"' in html
    assert "Select All" in html and ">Approve<" in html
    assert "Awaiting Commissioning Organisation Approval" in html
    assert f"£{declared.amount_declared:,.2f}" in html
    assert "Total of 1 declaration" in html


def test_the_status_and_quality_service_filters(client_for, orgs, people, declared, qof):
    client = client_for(people["approver"])

    awaiting_provider = page(client.get(MANAGEMENT, {"status": S.AWAITING_PROVIDER}))
    assert "No declarations match these filters." in awaiting_provider
    everything = page(client.get(MANAGEMENT, {"status": "all", "service": qof.pk}))
    assert "The Densham Surgery" in everything


def test_approve_shows_the_job_aids_confirmation_message(client_for, people, declared):
    client = client_for(people["approver"])

    response = client.post(APPROVE, {"declarations": [declared.pk], "back": MANAGEMENT})

    assert response.status_code == 302
    assert APPROVED_ONE == "The payment declaration has been successfully approved."
    assert APPROVED_ONE in banner(client, response)
    assert fresh(declared).status == S.AWAITING_FINANCE


def test_finance_management_sees_the_approved_rows_and_finance_approves_them(client_for, people, declared):
    services.declarations_approve(declaration_ids=[declared.pk], user=people["approver"])
    client = client_for(people["finance"])

    html = page(client.get(MANAGEMENT))
    assert "Awaiting Finance Approval" in html and f'value="{declared.pk}"' in html

    response = client.post(APPROVE, {"declarations": [declared.pk]})
    assert APPROVED_ONE in banner(client, response)
    assert fresh(declared).status == S.FINANCIALLY_APPROVED


def test_a_user_with_both_roles_approves_and_another_user_finance_approves(client_for, people, declared):
    client = client_for(people["both"])

    client.post(APPROVE, {"declarations": [declared.pk]})
    assert fresh(declared).status == S.AWAITING_FINANCE
    response = client.post(APPROVE, {"declarations": [declared.pk]})  # maker-checker: not the approver
    assert fresh(declared).status == S.AWAITING_FINANCE
    assert "You approved this declaration" in banner(client, response)

    client_for(people["finance"]).post(APPROVE, {"declarations": [declared.pk]})
    assert fresh(declared).status == S.FINANCIALLY_APPROVED


def test_bulk_approve_with_a_refused_row_approves_none_and_says_why(client_for, orgs, people, qof, declared):
    undeclared = declaration_for(orgs["practice2"], qof)
    client = client_for(people["approver"])

    response = client.post(APPROVE, {"declarations": [declared.pk, undeclared.pk]})

    assert "Awaiting Service Provider Approval" in banner(client, response)
    assert fresh(declared).status == S.AWAITING_COMMISSIONER


def test_select_all_approves_every_row_in_one_request(client_for, orgs, people, qof, declared):
    second = declaration_for(orgs["practice2"], qof)
    services.declaration_declare(declaration_id=second.pk, user=member(orgs["practice2"], Role.DECLARATION_MANAGEMENT))
    client = client_for(people["approver"])

    response = client.post(APPROVE, {"declarations": [declared.pk, second.pk]})

    assert APPROVED_MANY in banner(client, response)
    assert {fresh(declared).status, fresh(second).status} == {S.AWAITING_FINANCE}


def test_approving_another_organisations_declaration_by_id_is_404(client_for, orgs, people, qof):
    theirs = declaration_for(orgs["other_practice"], qof)
    services.declaration_declare(
        declaration_id=theirs.pk, user=member(orgs["other_practice"], Role.DECLARATION_MANAGEMENT)
    )

    response = client_for(people["approver"]).post(APPROVE, {"declarations": [theirs.pk]})

    assert response.status_code == 404
    assert fresh(theirs).status == S.AWAITING_COMMISSIONER


def test_approving_with_nothing_ticked_asks_to_select(client_for, people):
    client = client_for(people["approver"])
    response = client.post(APPROVE, {})
    assert "Select at least one declaration." in banner(client, response)


def test_the_declarer_sees_no_checkbox_on_their_own_declaration(client_for, orgs, declaration):
    both_sides = member(orgs["practice"], Role.DECLARATION_MANAGEMENT)
    member(orgs["icb"], Role.APPROVAL_MANAGEMENT, user=both_sides)
    services.declaration_declare(declaration_id=declaration.pk, user=both_sides)

    html = page(client_for(both_sides).get(MANAGEMENT))
    assert "The Densham Surgery" in html and f'id="declaration-{declaration.pk}"' not in html


def test_the_filtered_list_exports_as_csv(client_for, orgs, people, qof, declared):
    declaration_for(orgs["practice2"], qof)  # Awaiting Service Provider Approval: filtered out
    response = client_for(people["approver"]).get(
        reverse("declarations:export_declarations"), {"status": S.AWAITING_COMMISSIONER}
    )

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["ODS Code"], r["Status"]) for r in rows] == [("A81001", "Awaiting Commissioning Organisation Approval")]
    assert rows[0]["Amount Declared"] == f"{declared.amount_declared:.2f}"


def test_the_declaration_page_shows_the_history_and_amounts(client_for, people, declared):
    services.declarations_approve(declaration_ids=[declared.pk], user=people["approver"])

    html = page(client_for(people["finance"]).get(detail(declared)))

    assert 'data-testid="declaration-history"' in html
    assert html.count("Awaiting Commissioning Organisation Approval") >= 2
    assert "Amount declared" in html and "Amount approved" in html
    assert f"£{declared.amount_declared:,.2f}" in html
    assert ">Approve<" in html  # the finance user's next step


def test_declaration_management_runs_the_same_queries_for_3_or_30_declarations(client_for, orgs, people, qof):
    def add(count: int) -> None:
        for _ in range(count):
            practice = PracticeFactory(pcn=orgs["pcn"], commissioner=orgs["icb"])
            declaration = declaration_for(practice, qof)
            services.declaration_declare(
                declaration_id=declaration.pk, user=member(practice, Role.DECLARATION_MANAGEMENT)
            )

    client = client_for(people["approver"])
    counts = {}
    for total, extra in ((3, 3), (30, 27)):
        add(extra)
        client.get(MANAGEMENT)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(MANAGEMENT, {"status": "all"})
        assert response.status_code == 200
        assert page(response).count('name="declarations"') == total
        counts[total] = len(queries)
    assert counts[3] == counts[30], counts
    assert counts[30] <= 13, counts  # 11, and 2 for the payments still on the definition's national figures


# --- the commissioner's tick-box control -------------------------------------------------------------------


@pytest.fixture
def pcn_declaration(orgs, people, ncd):
    from achievement import services as achievement_services

    march = AchievementDate.objects.get(service=ncd, date=dt.date(2022, 3, 31))
    Achievement.objects.create(provider=orgs["pcn"], service=ncd, achievement_date=march)
    ListSize.objects.create(organisation=orgs["pcn"], date=march.date, size=48_000)
    cov = Indicator.objects.get(service=ncd, code="COV-01")
    achievement_services.tick_box_set(
        user=people["pcn_lead"], provider_id=orgs["pcn"].pk, indicator_id=cov.pk, achievement_date_id=march.pk, value=True
    )
    services.calculations_recalculate(achievement_ids=Achievement.objects.filter(provider=orgs["pcn"]).values_list("pk", flat=True))
    declaration = Declaration.objects.get(provider=orgs["pcn"])
    services.declaration_declare(declaration_id=declaration.pk, user=people["pcn_lead"])
    return fresh(declaration), cov


def test_the_commissioner_changes_the_tick_box_on_the_declaration_page_and_it_goes_back(
    client_for, people, pcn_declaration, django_capture_on_commit_callbacks
):
    declaration, cov = pcn_declaration
    client = client_for(people["approver"])
    html = page(client.get(detail(declaration)))
    assert "Change COV-01" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("declarations:declaration_tick_box", args=[declaration.pk]), {"indicator": cov.pk, "value": "0"}
        )

    assert "COV-01 has been changed to No" in banner(client, response)
    assert fresh(declaration).status == S.AWAITING_PROVIDER
    assert fresh(declaration).calculation.total_points == 0


def test_the_pcn_lead_sees_the_tick_box_read_only_once_declared(client_for, people, pcn_declaration):
    declaration, _ = pcn_declaration
    html = page(client_for(people["pcn_lead"]).get(detail(declaration)))
    assert "Change COV-01" not in html and "The PCN has declared the payment" in html


def test_after_finance_approval_the_commissioner_is_told_the_tick_box_is_locked(client_for, people, pcn_declaration):
    declaration, cov = pcn_declaration
    services.declarations_approve(declaration_ids=[declaration.pk], user=people["approver"])
    services.declarations_finance_approve(declaration_ids=[declaration.pk], user=people["finance"])
    client = client_for(people["approver"])
    assert "Change COV-01" not in page(client.get(detail(declaration)))

    response = client.post(
        reverse("declarations:declaration_tick_box", args=[declaration.pk]), {"indicator": cov.pk, "value": "0"}
    )

    assert "financially approved" in banner(client, response)
    assert fresh(declaration).status == S.FINANCIALLY_APPROVED


def test_data_submission_is_read_only_after_finance_approval(client_for, orgs, people, declared):
    services.declarations_approve(declaration_ids=[declared.pk], user=people["approver"])
    services.declarations_finance_approve(declaration_ids=[declared.pk], user=people["finance"])
    entry = member(orgs["practice"], Role.ACHIEVEMENT_ENTRY)

    response = client_for(entry).get(
        reverse("achievement:record_achievement_detail", args=[declared.achievement_id])
    )

    assert "A payment has been financially approved based on the submitted achievement data." in page(response)
