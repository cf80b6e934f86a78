"""Data Submission > Record Achievement: the filters, the achievement panel, the Achievement Date
drop-down, Add New Achievement, the missing-data check ("n of m"), the group page (New Values,
notes, Work in Progress / Submit, validation), scoping by organisation and the group page's
fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ListSize, Role
from accounts.navigation import tab_labels_for
from achievement import entry_rules, views
from achievement.models import Achievement, Submission, SubmissionSource, SubmissionStatus
from declarations import tasks as declarations_tasks
from participation.models import AchievementDate, Domain, Indicator, IndicatorGroup
from tests.achievement import factories
from tests.achievement.test_entry_rules import FEBRUARY, MARCH, achievement_on, submit_snapshot
from tests.factories import member

REAL_RECALCULATION = declarations_tasks.recalculate_many  # captured before the autouse spy replaces it


def text(response) -> str:
    """The page's main text, tags stripped and spaces collapsed."""
    html = response.content.decode()
    main = html[html.find("<main") : html.find("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.fixture(autouse=True)
def recorded_list_sizes(world):
    """The practices' list sizes: the values entered are checked against them
    (achievement/plausibility.py)."""
    factories.list_sizes(world)


@pytest.fixture
def practice(world):
    return world["A81001"]


@pytest.fixture
def entry_user(practice):
    return member(practice, Role.ACHIEVEMENT_ENTRY)


@pytest.fixture
def pcn_user(world):
    return member(world["pcn"], Role.ACHIEVEMENT_ENTRY, Role.DECLARATION_MANAGEMENT)


@pytest.fixture
def march(practice, qof):
    return achievement_on(practice, qof, MARCH)


def group_url(achievement, code="AF"):
    group = IndicatorGroup.objects.get(service_id=achievement.service_id, code=code)
    return reverse("achievement:group_detail", args=[achievement.pk, group.pk])


def detail_url(achievement):
    return reverse("achievement:record_achievement_detail", args=[achievement.pk])


def field_name(achievement, code, field):
    indicator = Indicator.objects.get(service_id=achievement.service_id, code=code)
    return f"new-{indicator.pk}-{entry_rules.indicator_fields(indicator).index(field)}"


# --- Record Achievement -----------------------------------------------------------------


def test_record_achievement_is_the_data_submission_tab_for_achievement_entry_and_view(entry_user, practice):
    viewer = member(practice, Role.VIEW)

    assert "Data Submission" in tab_labels_for(entry_user)
    assert "Data Submission" in tab_labels_for(viewer)


def test_a_user_without_a_record_achievement_role_is_refused(client_for, practice):
    declarer = member(practice, Role.DECLARATION_MANAGEMENT)

    assert client_for(declarer).get(reverse("achievement:record_achievement")).status_code == 403


def test_the_filters_show_short_financial_years_and_the_services_taken_part_in(client_for, entry_user, qof, ncd):
    page = text(client_for(entry_user).get(reverse("achievement:record_achievement")))

    assert "23/24" in page
    assert "QOF— Annual—Quality and Outcomes Framework 2023/24" in page
    assert "DES— Annual—Network Contract DES 2023/24" in page


def test_a_pcn_user_sees_the_network_contract_des_its_practices_take_part_in(client_for, pcn_user, qof, ncd):
    page = text(client_for(pcn_user).get(reverse("achievement:record_achievement")))

    assert "DES— Annual—Network Contract DES 2023/24" in page
    assert "QOF— Annual" not in page  # QOF is the practices', not the PCN's


def test_the_panel_lists_every_achievement_of_the_service_for_the_users_organisations(client_for, world, entry_user, qof):
    achievement_on(world["A81001"], qof, FEBRUARY)
    achievement_on(world["A81001"], qof, MARCH)
    achievement_on(world["A81002"], qof, MARCH)  # another practice's

    response = client_for(entry_user).get(
        reverse("achievement:record_achievement"), {"financial_year": qof.financial_year_id, "service": qof.pk}
    )

    html = response.content.decode()
    panel = html[html.find('data-testid="achievements"') : html.find("</table>", html.find('data-testid="achievements"'))]
    assert "29/02/2024" in panel and "31/03/2024" in panel
    assert "A81001" in panel and "A81002" not in panel


def test_payment_dates_are_highlighted_yellow_beside_the_achievement_date_drop_down(client_for, entry_user, qof):
    html = client_for(entry_user).get(reverse("achievement:record_achievement"), {"service": qof.pk}).content.decode()

    dates = html[html.find('data-testid="achievement-dates"') :]
    assert re.search(r'class="nhsuk-table__cell cqrs-payment-date">31/03/2024 \(payment date\)', dates)
    assert not re.search(r'cqrs-payment-date">29/02/2024', dates)
    assert '<select class="nhsuk-select" id="id_achievement_date" name="achievement_date">' in html


def test_add_new_achievement_creates_it_and_opens_it(client_for, entry_user, practice, qof):
    date = AchievementDate.objects.get(service=qof, date=FEBRUARY)

    response = client_for(entry_user).post(
        reverse("achievement:record_achievement_add"),
        {"service": qof.pk, "achievement_date": date.pk, "provider": practice.pk},
        follow=True,
    )

    achievement = Achievement.objects.get(provider=practice, achievement_date=date)
    assert response.redirect_chain[-1][0] == detail_url(achievement)
    assert "The achievement for 29/02/2024 has been added." in text(response)


def test_add_new_achievement_without_a_date_says_so(client_for, entry_user, practice, qof):
    response = client_for(entry_user).post(
        reverse("achievement:record_achievement_add"), {"service": qof.pk, "provider": practice.pk}, follow=True
    )

    assert "Select an Achievement Date" in text(response)
    assert not Achievement.objects.exists()


def test_a_practice_is_told_the_pcn_adds_the_network_contract_des(client_for, entry_user, ncd):
    page = text(client_for(entry_user).get(reverse("achievement:record_achievement"), {"service": ncd.pk}))

    assert "The Network Contract DES is paid to your PCN: its achievement is the aggregation" in page
    assert "Add New Achievement" not in page.split("Add New Achievement", 1)[1]  # the heading, no button


# --- the achievement: missing-data check ---------------------------------------------------


def test_the_achievement_shows_indicators_submitted_and_flags_incomplete_groups(client_for, entry_user, march):
    submit_snapshot(march, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50, ("QI013", "Yes/No Flag"): 1})

    response = client_for(entry_user).get(detail_url(march))

    page = text(response)
    assert "Atrial fibrillation 2 of 3" in page
    assert "Missing indicator data" in page
    assert f'href="{group_url(march)}"' in response.content.decode()


def test_a_complete_group_is_not_flagged(client_for, entry_user, march):
    submit_snapshot(
        march,
        {
            ("AF001", "Atrial Fibrillation Register"): 60,
            ("AF006", "Numerator"): 40,
            ("AF006", "Denominator"): 50,
            ("QI013", "Yes/No Flag"): 1,
        },
    )

    page = text(client_for(entry_user).get(detail_url(march)))

    assert "3 of 3" in page and "Missing indicator data" not in page


# --- the group page -------------------------------------------------------------------------


def test_the_group_page_shows_current_values_new_values_and_why_fields_are_read_only(client_for, entry_user, march):
    submit_snapshot(march, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50})

    response = client_for(entry_user).get(group_url(march))

    html = response.content.decode()
    assert 'data-testid="current-AF006-numerator">40<' in html
    assert f'name="{field_name(march, "AF001", "Atrial Fibrillation Register")}"' in html
    assert f'name="{field_name(march, "AF006", "Numerator")}"' not in html
    assert entry_rules.SUPPLIED_BY_EXTRACT in html
    assert "Save Work in Progress" in html and "Submit Achievement Data" in html


def test_the_group_page_shows_the_notes_of_earlier_submissions_for_the_date(client_for, entry_user, march):
    submit_snapshot(march, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50}, source=SubmissionSource.MANUAL, notes="From the March audit")

    assert "From the March audit" in text(client_for(entry_user).get(group_url(march)))


def test_save_work_in_progress_confirms_and_keeps_the_new_values(client_for, entry_user, march):
    client = client_for(entry_user)
    register = field_name(march, "AF001", "Atrial Fibrillation Register")

    response = client.post(group_url(march), {register: "61", "notes": "Draft", "action": "wip"}, follow=True)

    assert views.SAVED_AS_WORK_IN_PROGRESS in text(response)
    assert f'name="{register}" type="text" inputmode="numeric" value="61"' in response.content.decode()
    assert Submission.objects.get(achievement=march).status == SubmissionStatus.WORK_IN_PROGRESS


def test_submit_achievement_data_confirms_and_counts_the_indicator(client_for, entry_user, march, recalculation):
    client = client_for(entry_user)

    response = client.post(
        group_url(march),
        {field_name(march, "AF001", "Atrial Fibrillation Register"): "61", "notes": "Audit", "action": "submit"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == detail_url(march)
    assert views.SUBMITTED in text(response)
    assert "1 of 3" in text(response)
    assert recalculation.achievement_ids == {march.pk}


def test_submitting_what_the_last_submission_holds_is_refused_with_a_message(client_for, entry_user, practice, qof):
    practice.automatic_extracts = False
    practice.save()
    february = achievement_on(practice, qof, FEBRUARY)
    submit_snapshot(february, {("AF001", "Atrial Fibrillation Register"): 61}, source=SubmissionSource.MANUAL)
    register = field_name(february, "AF001", "Atrial Fibrillation Register")

    for action, message in (("submit", "have not been submitted"), ("wip", "have not been saved as work in progress")):
        response = client_for(entry_user).post(group_url(february), {register: "61", "action": action})
        assert response.status_code == 200
        assert "nhsuk-error-summary" in response.content.decode()
        assert message in text(response)
    assert Submission.objects.filter(achievement=february).count() == 1


@pytest.mark.parametrize(
    "values, message",
    [
        ({"AF001:Atrial Fibrillation Register": "-1"}, "AF001 Atrial Fibrillation Register must be a whole number of 0 or more"),
        ({"AF001:Atrial Fibrillation Register": "2.5"}, "AF001 Atrial Fibrillation Register must be a whole number of 0 or more"),
        ({"AF001:Atrial Fibrillation Register": "many"}, "AF001 Atrial Fibrillation Register must be a whole number of 0 or more"),
        ({"AF006:Numerator": "51", "AF006:Denominator": "50"}, "AF006 Numerator (51) must not be above its Denominator (50)"),
    ],
)
def test_invalid_new_values_are_shown_in_the_error_summary_and_nothing_is_saved(client_for, entry_user, march, values, message, recalculation):
    data = {"action": "submit"}
    for where, value in values.items():
        code, field = where.split(":")
        data[field_name(march, code, field)] = value

    response = client_for(entry_user).post(group_url(march), data)

    html = response.content.decode()
    assert response.status_code == 200
    summary = html[html.find("nhsuk-error-summary") : html.find("</ul>", html.find("nhsuk-error-summary"))]
    assert message in summary
    assert not Submission.objects.exists()
    assert recalculation.calls == []


def test_a_view_user_sees_the_group_read_only_and_why(client_for, practice, march):
    viewer = member(practice, Role.VIEW)

    response = client_for(viewer).get(group_url(march))

    html = response.content.decode()
    assert entry_rules.VIEW_ONLY in html
    assert "Submit Achievement Data" not in html and 'name="new-' not in html
    assert client_for(viewer).post(group_url(march), {"action": "submit"}).status_code == 403


# --- scoping: another organisation's achievement does not exist for the user --------------


def test_another_organisations_user_cannot_read_or_write_any_of_it_by_id(client_for, world, march, qof):
    outsider = member(world["A81003"], Role.ACHIEVEMENT_ENTRY, Role.VIEW)
    client = client_for(outsider)
    register = field_name(march, "AF001", "Atrial Fibrillation Register")
    date = AchievementDate.objects.get(service=qof, date=FEBRUARY)

    assert client.get(detail_url(march)).status_code == 404
    assert client.get(group_url(march)).status_code == 404
    assert client.post(group_url(march), {register: "5", "action": "submit"}).status_code == 404
    assert client.post(
        reverse("achievement:record_achievement_add"),
        {"service": qof.pk, "achievement_date": date.pk, "provider": march.provider_id},
    ).status_code == 404
    assert not Submission.objects.exists()
    assert Achievement.objects.count() == 1
    page = text(client.get(reverse("achievement:record_achievement"), {"service": qof.pk}))
    assert "A81001" not in page


def test_a_group_of_another_service_is_not_found(client_for, entry_user, march, ncd):
    other = IndicatorGroup.objects.get(service=ncd)

    response = client_for(entry_user).get(reverse("achievement:group_detail", args=[march.pk, other.pk]))

    assert response.status_code == 404


# --- the group page runs a fixed number of queries -----------------------------------------


def _service_with_groups_of(world, sizes: dict[str, int]):
    service = factories._service("QOFQ", "Query test service", "practice", "2023/24")
    domain = Domain.objects.create(service=service, code="CL", name="Clinical")
    values = {}
    for position, (code, size) in enumerate(sizes.items()):
        group = IndicatorGroup.objects.create(service=service, domain=domain, code=code, name=f"Group {code}", position=position)
        for n in range(size):
            factories._indicator(service, group, f"{code}{n:03d}", "fraction", ["Numerator", "Denominator"], n, points=5, lower=40, upper=70)
            values[(f"{code}{n:03d}", "Numerator")] = 10
            if n % 2:
                values[(f"{code}{n:03d}", "Denominator")] = 20
    AchievementDate.objects.create(service=service, date=dt.date(2024, 3, 31), is_payment_date=True)
    factories.approved_offer(service, world["A81001"], world["icb"])
    achievement = achievement_on(world["A81001"], service, MARCH)
    submit_snapshot(achievement, values)
    return achievement


def test_group_pages_run_a_fixed_number_of_queries_whatever_the_number_of_indicators(client_for, world, entry_user):
    achievement = _service_with_groups_of(world, {"TWO": 2, "TWELVE": 12})
    client = client_for(entry_user)
    client.get(group_url(achievement, "TWO"))  # warm the session

    counts = {}
    for code in ("TWO", "TWELVE"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(group_url(achievement, code))
        assert response.status_code == 200
        counts[code] = len(queries)

    assert counts["TWO"] == counts["TWELVE"], counts
    # 16 before Record Provider Achievement; + the Commissioning Organisation entries and the
    # provider's manual-entry mark for the service.
    assert counts["TWELVE"] <= 18, counts


# --- a submission recalculates: "2 of 2" and the new payment ---------------------------------


def test_entering_the_missing_value_shows_2_of_2_and_the_new_payment(
    client_for, world, ncd, pcn_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(declarations_tasks, "recalculate_many", REAL_RECALCULATION)
    ListSize.objects.create(organisation=world["pcn"], date=dt.date(2024, 1, 1), size=9_639)
    achievement = achievement_on(world["pcn"], ncd, MARCH)
    submit_snapshot(achievement, {("CAN-02", "Denominator"): 50}, source=SubmissionSource.AGGREGATION)
    client = client_for(pcn_user)
    assert "Cancer 1 of 2" in text(client.get(detail_url(achievement)))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(group_url(achievement, "CAN"), {field_name(achievement, "CAN-02", "Numerator"): "45", "action": "submit"})

    page = text(client.get(detail_url(achievement)))
    assert "Cancer 2 of 2" in page
    # 90% is above the upper threshold: 22 points x £213.43 x (9,639 / 9,639)
    assert f"£{Decimal('22') * Decimal('213.43'):,.2f} (22.00 points)" in page
