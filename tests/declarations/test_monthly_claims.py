"""Item-of-service claims, month by month (issue 16): a monthly service loaded from its shipped
definition, its extract loaded month by month, each month's payment declared and approved on its
own, a later extract for a past month superseding it, the payment export, and the screens."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from declarations import claims
from declarations.models import Declaration, DeclarationStatus
from declarations.workflow.claims import claims_declare, claims_month_approve
from participation.definitions import SHIPPED_DEFINITIONS_DIR, load_service_definition_file
from participation.models import AchievementDate, OfferStatus, ServiceOffer
from participation.services import quality_service_load
from tests.factories import member

from .conftest import fresh

HEADER = (
    "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,DEFAULT_VALUES_USED,"
    "SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION"
)
OCTOBER, NOVEMBER = dt.date(2024, 10, 31), dt.date(2024, 11, 30)


def load_shipped(name: str):
    path = SHIPPED_DEFINITIONS_DIR / name
    return quality_service_load(
        definition=load_service_definition_file(path), source=yaml.safe_load(path.read_text(encoding="utf-8"))
    )


@pytest.fixture
def flu(orgs):
    service = load_shipped("flu-2024-25.yaml")
    for practice in (orgs["practice"], orgs["practice2"]):
        ServiceOffer.objects.create(
            service=service,
            provider=practice,
            commissioner=orgs["icb"],
            status=OfferStatus.APPROVED,
            start_date=service.financial_year.start_date,
            end_date=service.financial_year.end_date,
        )
    return service


@pytest.fixture
def load_extract(tmp_path, settings, django_capture_on_commit_callbacks):
    """Load an extract of {(ods, date): {indicator: count}} through load_gpes_extract, with each
    practice's LISTSIZE, running what commits trigger (the recalculation)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    loaded = []

    def load(claims_by_month: dict[tuple[str, dt.date], dict[str, int]], *, list_size: int = 9_000) -> None:
        lines = [HEADER]
        for (ods, date), counts in claims_by_month.items():
            rows = {"LISTSIZE": ("Registered Population", list_size), **{c: ("Count", n) for c, n in counts.items()}}
            for code, (field, value) in rows.items():
                lines.append(
                    f"FLU2425,Seasonal Influenza Vaccination Programme 2024/25,{ods},{date:%Y%m%d},{code},{field},"
                    f"{value},N,GPES,01/12/2024,00:00,Y"
                )
        path = tmp_path / f"extract-{len(loaded)}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("load_gpes_extract", str(path), "--wait", stdout=out, stderr=io.StringIO())
        loaded.append(out.getvalue())

    return load


def declaration(provider, date: dt.date) -> Declaration:
    return Declaration.objects.select_related("calculation").get(provider=provider, achievement_date__date=date)


def test_each_month_is_its_own_payment_of_count_times_fee(orgs, flu, load_extract):
    load_extract(
        {
            ("A81001", OCTOBER): {"FLU001": 120, "FLU002": 35},
            ("A81001", NOVEMBER): {"FLU001": 40, "FLU002": 0},
            ("A81017", OCTOBER): {"FLU001": 7},
        }
    )
    october, november = declaration(orgs["practice"], OCTOBER), declaration(orgs["practice"], NOVEMBER)
    assert october.calculation.total_amount == Decimal("1559.30")  # 155 x £10.06
    assert november.calculation.total_amount == Decimal("402.40")  # 40 x £10.06
    assert october.calculation.total_points == Decimal("0.00")
    assert declaration(orgs["practice2"], OCTOBER).calculation.total_amount == Decimal("70.42")
    assert october.status == november.status == DeclarationStatus.AWAITING_PROVIDER
    assert october.pk != november.pk


def test_a_later_extract_for_a_past_month_supersedes_it_and_sends_a_declared_payment_back(
    orgs, people, flu, load_extract
):
    load_extract({("A81001", OCTOBER): {"FLU001": 120}, ("A81001", NOVEMBER): {"FLU001": 40}})
    october = declaration(orgs["practice"], OCTOBER)
    claims_declare(declaration_ids=[october.pk], user=people["declarer"])
    assert fresh(october).status == DeclarationStatus.AWAITING_COMMISSIONER
    assert fresh(october).amount_declared == Decimal("1207.20")

    # December's extract brings October again, with more vaccinations recorded late.
    load_extract({("A81001", OCTOBER): {"FLU001": 130}})
    october = fresh(october)
    assert october.calculation.total_amount == Decimal("1307.80")
    assert october.status == DeclarationStatus.AWAITING_PROVIDER  # sent back: declare it again
    assert october.amount_declared is None
    assert october.transitions.last().previous_amount == Decimal("1207.20")
    # November is untouched.
    assert declaration(orgs["practice"], NOVEMBER).calculation.total_amount == Decimal("402.40")


def test_an_unchanged_past_month_keeps_its_declaration(orgs, people, flu, load_extract):
    load_extract({("A81001", OCTOBER): {"FLU001": 120}})
    october = declaration(orgs["practice"], OCTOBER)
    claims_declare(declaration_ids=[october.pk], user=people["declarer"])
    load_extract({("A81001", OCTOBER): {"FLU001": 120}, ("A81001", NOVEMBER): {"FLU001": 3}})
    assert fresh(october).status == DeclarationStatus.AWAITING_COMMISSIONER


def test_two_months_declared_at_once_then_the_month_approved_for_the_icb(orgs, people, flu, load_extract):
    load_extract(
        {
            ("A81001", OCTOBER): {"FLU001": 120},
            ("A81001", NOVEMBER): {"FLU001": 40},
            ("A81017", OCTOBER): {"FLU001": 7},
        }
    )
    october, november = declaration(orgs["practice"], OCTOBER), declaration(orgs["practice"], NOVEMBER)
    declared = claims_declare(declaration_ids=[november.pk, october.pk], user=people["declarer"])
    assert {d.pk for d in declared} == {october.pk, november.pk}
    other = member(orgs["practice2"], Role.DECLARATION_MANAGEMENT, email="d2@example.nhs.net")
    claims_declare(declaration_ids=[declaration(orgs["practice2"], OCTOBER).pk], user=other)

    month, ids = claims.month_to_approve(user=people["approver"], achievement_date_id=october.achievement_date_id)
    assert month == "October 2024" and len(ids) == 2
    claims_month_approve(declaration_ids=ids, user=people["approver"])
    assert {d.status for d in Declaration.objects.filter(achievement_date__date=OCTOBER)} == {
        DeclarationStatus.AWAITING_FINANCE
    }
    assert fresh(november).status == DeclarationStatus.AWAITING_COMMISSIONER  # its own month


def test_declaring_months_is_all_or_nothing(orgs, people, flu, load_extract):
    load_extract({("A81001", OCTOBER): {"FLU001": 120}, ("A81017", OCTOBER): {"FLU001": 7}})
    mine, theirs = declaration(orgs["practice"], OCTOBER), declaration(orgs["practice2"], OCTOBER)
    from accounts.errors import DomainError

    with pytest.raises(DomainError):
        claims_declare(declaration_ids=[mine.pk, theirs.pk], user=people["declarer"])
    assert fresh(mine).status == fresh(theirs).status == DeclarationStatus.AWAITING_PROVIDER


def test_a_month_of_another_icb_is_not_found(orgs, people, flu, load_extract):
    load_extract({("A81001", OCTOBER): {"FLU001": 120}})
    october = declaration(orgs["practice"], OCTOBER)
    outsider = member(orgs["other_icb"], Role.APPROVAL_MANAGEMENT, email="outsider@example.nhs.net")
    from accounts.errors import NotFound

    with pytest.raises(NotFound):
        claims.month_to_approve(user=outsider, achievement_date_id=october.achievement_date_id)


def test_the_payment_export_covers_item_of_service_indicators(orgs, flu, load_extract, capsys):
    load_extract({("A81001", OCTOBER): {"FLU001": 120, "FLU002": 3}, ("A81017", OCTOBER): {"FLU001": 7}})
    out = io.StringIO()
    call_command("export_payments", "--service", "FLU2425", "--achievement-date", "2024-10-31", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [
        ["QUALITY_SERVICE", "ORG_CODE", "ACH_DATE", "IND_CODE", "ACHIEVEMENT", "POINTS", "AMOUNT"],
        ["FLU2425", "A81001", "20241031", "FLU001", "", "0.00", "1207.20"],
        ["FLU2425", "A81001", "20241031", "FLU002", "", "0.00", "30.18"],
        ["FLU2425", "A81017", "20241031", "FLU001", "", "0.00", "70.42"],
        ["FLU2425", "A81017", "20241031", "FLU002", "", "0.00", "0.00"],
    ]


# --- the screens ---------------------------------------------------------------------------


@pytest.fixture
def claims_world(orgs, people, flu, load_extract):
    load_extract(
        {
            ("A81001", dt.date(2024, 9, 30)): {"FLU001": 10},
            ("A81001", OCTOBER): {"FLU001": 120, "FLU002": 35},
            ("A81001", NOVEMBER): {"FLU001": 40},
            ("A81017", OCTOBER): {"FLU001": 7},
        }
    )
    claims_declare(declaration_ids=[declaration(orgs["practice"], dt.date(2024, 9, 30)).pk], user=people["declarer"])
    return flu


def test_the_practice_sees_its_claims_month_by_month(client, orgs, people, claims_world):
    client.force_login(people["declarer"])
    response = client.get(reverse("declarations:monthly_claims"))
    assert response.status_code == 200
    rows = {row.month: row for row in response.context["rows"]}
    assert list(rows) == [
        "September 2024", "October 2024", "November 2024", "December 2024", "January 2025", "February 2025", "March 2025"
    ]
    assert (rows["October 2024"].count, rows["October 2024"].amount) == (155, "£1,559.30")
    assert rows["October 2024"].selectable and rows["November 2024"].selectable
    assert rows["September 2024"].status == "Awaiting Commissioning Organisation Approval"
    assert not rows["September 2024"].selectable
    assert rows["December 2024"].status == claims.NOT_SUBMITTED and rows["December 2024"].count is None
    assert response.context["totals"].count == 205
    html = response.content.decode()
    assert "Declare Achievement" in html and "£1,559.30" in html


def test_the_claims_page_runs_a_fixed_number_of_queries(client, orgs, people, claims_world, load_extract):
    client.force_login(people["declarer"])
    client.get(reverse("declarations:monthly_claims"))  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("declarations:monthly_claims"))
    load_extract({("A81001", dt.date(2025, m, 28 if m == 2 else 31)): {"FLU001": m} for m in (1, 2, 3)})
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("declarations:monthly_claims"))
    assert len(many) == len(few)


def test_view_users_see_counts_but_no_pounds(client, orgs, claims_world):
    viewer = member(orgs["practice"], Role.VIEW, email="viewer@example.nhs.net")
    client.force_login(viewer)
    response = client.get(reverse("declarations:monthly_claims"))
    rows = {row.month: row for row in response.context["rows"]}
    assert rows["October 2024"].count == 155 and rows["October 2024"].amount is None
    assert not any(row.selectable for row in rows.values())
    assert "£" not in response.content.decode().split("<main")[-1]


def test_another_providers_claims_are_not_found(client, orgs, people, claims_world):
    client.force_login(people["declarer"])
    response = client.get(reverse("declarations:monthly_claims"), {"provider": orgs["other_practice"].pk})
    assert response.status_code == 404


def test_the_practice_declares_two_months_at_once(client, orgs, people, claims_world):
    october, november = declaration(orgs["practice"], OCTOBER), declaration(orgs["practice"], NOVEMBER)
    client.force_login(people["declarer"])
    response = client.post(
        reverse("declarations:declare_claims"),
        {"declarations": [october.pk, november.pk], "provider": orgs["practice"].pk, "service": claims_world.pk},
        follow=True,
    )
    assert "The achievements and payments of 2 months have been successfully declared." in response.content.decode()
    assert fresh(october).status == fresh(november).status == DeclarationStatus.AWAITING_COMMISSIONER
    assert fresh(october).declared_by == people["declarer"]


def test_declaring_nothing_is_told(client, orgs, people, claims_world):
    client.force_login(people["declarer"])
    response = client.post(reverse("declarations:declare_claims"), {"provider": orgs["practice"].pk}, follow=True)
    assert "Select at least one month to declare." in response.content.decode()


def test_the_commissioner_approves_a_month_for_the_icb(client, orgs, people, claims_world):
    other = member(orgs["practice2"], Role.DECLARATION_MANAGEMENT, email="d2@example.nhs.net")
    claims_declare(
        declaration_ids=[declaration(orgs["practice"], OCTOBER).pk, declaration(orgs["practice2"], OCTOBER).pk][:1],
        user=people["declarer"],
    )
    claims_declare(declaration_ids=[declaration(orgs["practice2"], OCTOBER).pk], user=other)
    client.force_login(people["approver"])
    page = client.get(reverse("declarations:claims_months"))
    months = {m.month: m for m in page.context["months"]}
    assert months["October 2024"].awaiting == 2
    assert months["October 2024"].awaiting_amount == "£1,629.72"  # £1,559.30 + £70.42
    assert months["September 2024"].awaiting == 1
    october_id = months["October 2024"].achievement_date_id
    response = client.post(reverse("declarations:approve_claims_month", args=[october_id]), follow=True)
    assert "The payment declarations of October 2024 have been successfully approved (2)." in response.content.decode()
    assert {d.status for d in Declaration.objects.filter(achievement_date_id=october_id)} == {
        DeclarationStatus.AWAITING_FINANCE
    }
    assert declaration(orgs["practice"], dt.date(2024, 9, 30)).status == DeclarationStatus.AWAITING_COMMISSIONER


def test_approving_a_month_of_another_icb_is_404(client, orgs, claims_world):
    outsider = member(orgs["other_icb"], Role.APPROVAL_MANAGEMENT, email="outsider@example.nhs.net")
    client.force_login(outsider)
    october = AchievementDate.objects.get(service=claims_world, date=OCTOBER)
    assert client.post(reverse("declarations:approve_claims_month", args=[october.pk])).status_code == 404
    assert client.get(reverse("declarations:claims_months")).context["months"] == []


# --- the demo world ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_world_has_months_of_claims_in_every_state():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent: nothing moves on
    demo = {
        d.achievement_date.date: d
        for d in Declaration.objects.filter(service__code="FLU2425", provider__ods_code="A81001").select_related(
            "achievement_date", "calculation"
        )
    }
    assert [demo[month].status for month in sorted(demo)] == [
        DeclarationStatus.FINANCIALLY_APPROVED,
        DeclarationStatus.AWAITING_FINANCE,
        DeclarationStatus.AWAITING_PROVIDER,
        DeclarationStatus.AWAITING_PROVIDER,
    ]
    assert all(d.calculation.total_amount > 0 for d in demo.values())
    others = Declaration.objects.filter(service__code="FLU2425", achievement_date__date=OCTOBER).exclude(
        provider__ods_code="A81001"
    )
    assert others.count() == 5
    assert {d.status for d in others} == {DeclarationStatus.AWAITING_COMMISSIONER}
    phlebotomy = Declaration.objects.select_related("calculation").get(
        service__code="PHLIOS2425", provider__ods_code="A81001"
    )
    assert phlebotomy.calculation.total_amount == Decimal("742.00")  # 212 samples x £3.50
    assert phlebotomy.status == DeclarationStatus.AWAITING_PROVIDER
    assert phlebotomy.achievement.submissions.get(is_current=True).source == "manual"


def test_achievement_results_show_the_items_and_their_payment(client, orgs, people, flu, load_extract):
    load_extract({("A81001", OCTOBER): {"FLU001": 120, "FLU002": 1}})
    client.force_login(people["declarer"])
    achievement = declaration(orgs["practice"], OCTOBER).achievement
    response = client.get(reverse("declarations:achievement_results", args=[achievement.pk]))
    rows = {row.code: row for group in response.context["results"].groups for row in group.rows}
    assert (rows["FLU001"].achievement_shown, rows["FLU001"].payment_shown) == ("120 items", "£1,207.20")
    assert (rows["FLU002"].achievement_shown, rows["FLU002"].points_shown) == ("1 item", "-")


def test_the_months_to_approve_run_a_fixed_number_of_queries(client, orgs, people, claims_world, load_extract):
    client.force_login(people["approver"])
    client.get(reverse("declarations:claims_months"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("declarations:claims_months"))
    load_extract({("A81017", dt.date(2025, m, 28 if m == 2 else 31)): {"FLU001": m} for m in (1, 2, 3)})
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("declarations:claims_months"))
    assert len(response.context["months"]) > 3
    assert len(many) == len(few)


def test_declaring_another_providers_month_is_refused_and_changes_nothing(client, orgs, people, claims_world):
    theirs = declaration(orgs["practice2"], OCTOBER)
    client.force_login(people["declarer"])
    response = client.post(
        reverse("declarations:declare_claims"),
        {"declarations": [declaration(orgs["practice"], OCTOBER).pk, theirs.pk], "provider": orgs["practice"].pk},
    )
    assert response.status_code == 404  # a declaration of a provider the user cannot declare for: not found
    assert fresh(theirs).status == DeclarationStatus.AWAITING_PROVIDER
    assert declaration(orgs["practice"], OCTOBER).status == DeclarationStatus.AWAITING_PROVIDER


def test_approving_a_month_with_nothing_awaiting_is_told(client, orgs, people, claims_world):
    client.force_login(people["approver"])
    november = AchievementDate.objects.get(service=claims_world, date=NOVEMBER)  # nothing declared yet
    response = client.post(reverse("declarations:approve_claims_month", args=[november.pk]), follow=True)
    assert "No claim of this month is awaiting your approval." in response.content.decode()
    assert set(Declaration.objects.filter(achievement_date=november).values_list("status", flat=True)) == {
        DeclarationStatus.AWAITING_PROVIDER
    }


def test_the_months_of_declaration_management(orgs, people, claims_world):
    months = claims.declaration_management_months(user=people["approver"])
    assert months[:3] == [("2024-11", "November 2024"), ("2024-10", "October 2024"), ("2024-09", "September 2024")]
    outsider = member(orgs["other_icb"], Role.APPROVAL_MANAGEMENT, email="outsider@example.nhs.net")
    assert claims.declaration_management_months(user=outsider) == []
    october = claims.in_month(Declaration.objects.all(), "2024-10")
    assert {d.achievement_date.date for d in october} == {OCTOBER} and october.count() == 2
    assert claims.in_month(Declaration.objects.all(), "").count() == Declaration.objects.count()


def test_declaration_management_filters_by_month_and_approves_the_month_for_the_icb(client, orgs, people, claims_world):
    """Declaration Management's Month filter (issue 16): the month's claims of every practice,
    Select All, Approve."""
    other = member(orgs["practice2"], Role.DECLARATION_MANAGEMENT, email="d2@example.nhs.net")
    claims_declare(declaration_ids=[declaration(orgs["practice"], OCTOBER).pk], user=people["declarer"])
    claims_declare(declaration_ids=[declaration(orgs["practice2"], OCTOBER).pk], user=other)
    client.force_login(people["approver"])
    url = reverse("declarations:declaration_management")
    page = client.get(url, {"status": DeclarationStatus.AWAITING_COMMISSIONER, "month": "2024-10"})
    assert ("2024-10", "October 2024") in page.context["filter_form"].fields["month"].choices
    rows = page.context["rows"]
    assert {row.achievement_date for row in rows} == {"31/10/2024"} and len(rows) == 2
    assert "September" not in {row.achievement_date for row in rows}
    export = client.get(reverse("declarations:export_declarations"), {"status": "all", "month": "2024-10"})
    assert {line.split(",")[4] for line in export.content.decode().splitlines()[1:]} == {"31/10/2024"}
    client.post(reverse("declarations:approve_declarations"), {"declarations": [row.pk for row in rows]})
    assert {d.status for d in Declaration.objects.filter(achievement_date__date=OCTOBER)} == {
        DeclarationStatus.AWAITING_FINANCE
    }
    assert declaration(orgs["practice"], dt.date(2024, 9, 30)).status == DeclarationStatus.AWAITING_COMMISSIONER
