"""National figures (issue 13 §4): derived from the year-end data of the practices taking part,
checked by hand on a small world; set by a National Administrator (or the command), audited,
recalculating every payment of the service and date through the workers; a later extract shows
the difference; until set, payments say "provisional: national figures not yet set"."""

from __future__ import annotations

from fractions import Fraction

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.errors import Invalid, NotAllowed
from accounts.models import AuditEvent, ListSize, Organisation, OrganisationKind, Role
from achievement.models import Achievement
from achievement.national import national_figures_derive
from declarations import national, services, tasks
from declarations.models import Calculation
from participation.models import IndicatorGroup, NationalFigures
from participation.national import (
    NOT_YET_SET,
    national_figures_by_date,
    national_figures_in_force,
    national_figures_pending,
)
from tests.factories import PracticeFactory, member

from .conftest import declaration_for
from .factories import QOF_DATE, achievement_date, qof_2425, submit_values

# The small world, by hand: three practices with year-end data and a list size.
#   A81001: list 10,000, AF register 300;  A81017: list 5,000, AF register 50;
#   Z99999: list 3,000, no AF register row (counts as 0).
# practices 3, list sizes 18,000: average list size 18,000 / 3 = 6,000;
# AF prevalence (300 + 50 + 0) / 18,000 = 350 / 18,000 = 7 / 360 (0.019444...).
# A fourth practice has data but no list size recorded: it is not taking part.
AF = {"AF001": {"Atrial Fibrillation Register": 300}, "AF006": {"Numerator": 150, "Denominator": 200}}


@pytest.fixture
def world(orgs, qof):
    declaration_for(orgs["practice"], qof, AF, list_size=10_000)
    declaration_for(orgs["practice2"], qof, {"AF001": {"Atrial Fibrillation Register": 50}}, list_size=5_000)
    declaration_for(orgs["other_practice"], qof, {"VI001": {"Numerator": 1, "Denominator": 2}}, list_size=3_000)
    no_list_size = PracticeFactory(ods_code="A81099", commissioner=orgs["icb"])
    submit_values(no_list_size, qof, {"AF001": {"Atrial Fibrillation Register": 900}})
    return orgs


@pytest.fixture
def nhs_england(db):
    return Organisation.objects.create(ods_code="X24", name="NHS England", kind=OrganisationKind.NATIONAL)


@pytest.fixture
def administrator(nhs_england):
    return member(nhs_england, Role.NATIONAL_ADMINISTRATOR, email="national@example.nhs.net")


@pytest.fixture
def enqueued(monkeypatch):
    """What setting the figures hands the workers (declarations.tasks.recalculate_many)."""
    calls: list[list[int]] = []

    class Spy:
        def delay_on_commit(self, ids):
            calls.append(list(ids))

    monkeypatch.setattr(tasks, "recalculate_many", Spy())
    return calls


def af(service):
    return IndicatorGroup.objects.get(service=service, code="AF")


def test_the_derived_figures_are_the_sums_of_the_practices_taking_part(world, qof):
    derived = national_figures_derive(achievement_date=achievement_date(qof))

    assert (derived.practices, derived.list_size_total) == (3, 18_000)
    assert derived.registers == {af(qof).pk: 350}
    assert derived.average_list_size == Fraction(6_000)
    assert derived.prevalence(af(qof).pk) == Fraction(7, 360)


def test_the_latest_list_size_on_or_before_the_date_counts(world, qof):
    ListSize.objects.create(organisation=world["practice"], date=QOF_DATE.replace(day=1), size=1)  # before: superseded
    ListSize.objects.filter(organisation=world["practice"], date=QOF_DATE).update(size=11_000)

    derived = national_figures_derive(achievement_date=achievement_date(qof))

    assert derived.list_size_total == 19_000
    assert derived.prevalence(af(qof).pk) == Fraction(350, 19_000)


def test_until_set_the_payment_is_provisional_on_the_definitions_figures(world, qof, client_for):
    reader = member(world["practice"], Role.VIEW, email="reader@example.nhs.net")
    achievement = Achievement.objects.get(provider=world["practice"], service=qof)

    page = client_for(reader).get(reverse("declarations:achievement_results", args=[achievement.pk]))

    assert NOT_YET_SET in page.content.decode()
    assert national_figures_in_force(service_id=qof.pk, achievement_date_id=achievement.achievement_date_id) is None


def test_the_administrator_sees_the_derived_figures_beside_the_definitions(world, qof):
    status = national.national_figures_status(service=qof, achievement_date=achievement_date(qof))

    assert status.derived.practices == 3 and not status.is_set
    assert [(r.code, r.definition, r.derived, r.in_force) for r in status.rows] == [
        ("List size", "9,964", "6,000.00", "-"),
        ("AF", "2.0300%", "1.9444%", "-"),
    ]


def test_setting_them_recalculates_every_payment_of_the_service_and_date(
    world, qof, administrator, enqueued, django_capture_on_commit_callbacks
):
    date = achievement_date(qof)
    payments = sorted(Achievement.objects.filter(service=qof, calculation__isnull=False).values_list("pk", flat=True))
    versions = dict(Achievement.objects.values_list("pk", "data_version"))

    figures = national.national_figures_set(actor=administrator, service_id=qof.pk, achievement_date_id=date.pk)

    assert enqueued == [payments]
    # marked stale in the same transaction: not declared or approved on the old figures meanwhile
    assert all(a.data_version == versions[a.pk] + 1 for a in Achievement.objects.filter(pk__in=payments))
    in_force = national_figures_in_force(service_id=qof.pk, achievement_date_id=date.pk)
    assert (in_force.figures_id, in_force.practices, in_force.list_size_total) == (figures.pk, 3, 18_000)
    assert in_force.average_list_size == Fraction(6_000) and in_force.prevalence == {"AF": Fraction(7, 360)}
    assert national_figures_by_date(service_id=qof.pk) == {date.pk: in_force}
    event = AuditEvent.objects.get(action=national.AUDIT_ACTION)
    assert event.actor == administrator and event.organisation.ods_code == "X24"
    assert event.detail["registers"] == {"AF": 350} and event.detail["payments_recalculated"] == 3
    status = national.national_figures_status(service=qof, achievement_date=date)
    assert (status.recalculated, status.to_recalculate, status.recalculating) == (0, 3, True)

    services.calculations_recalculate_isolating(achievement_ids=enqueued[0])  # what the workers do

    status = national.national_figures_status(service=qof, achievement_date=date)
    assert (status.recalculated, status.to_recalculate, status.recalculating) == (3, 3, False)
    assert Calculation.objects.filter(achievement_id__in=payments).count() == 3
    assert not national_figures_pending(service=qof, achievement_date_id=date.pk)


def test_the_workers_recalculate_after_the_commit(world, qof, administrator, django_capture_on_commit_callbacks):
    date = achievement_date(qof)
    with django_capture_on_commit_callbacks(execute=True):
        national.national_figures_set(actor=administrator, service_id=qof.pk, achievement_date_id=date.pk)

    status = national.national_figures_status(service=qof, achievement_date=date)
    assert (status.recalculated, status.to_recalculate) == (3, 3)


def test_a_later_extract_shows_the_difference_and_asks_to_set_them_again(world, qof, administrator, enqueued):
    date = achievement_date(qof)
    national.national_figures_set(actor=administrator, service_id=qof.pk, achievement_date_id=date.pk)
    with pytest.raises(Invalid, match="nothing to set"):
        national.national_figures_set(actor=administrator, service_id=qof.pk, achievement_date_id=date.pk)

    submit_values(world["practice"], qof, {"AF001": {"Atrial Fibrillation Register": 390}}, list_size=10_000)

    status = national.national_figures_status(service=qof, achievement_date=date)
    assert status.changed_since_set
    assert [(r.code, r.derived, r.in_force, r.changed) for r in status.rows] == [
        ("List size", "6,000.00", "6,000.00", False),
        ("AF", "2.4444%", "1.9444%", True),  # 440 / 18,000 against 350 / 18,000
    ]
    # they do not change silently: the payments stay on the figures set
    assert national_figures_in_force(service_id=qof.pk, achievement_date_id=date.pk).registers == {"AF": 350}

    national.national_figures_set(actor=administrator, service_id=qof.pk, achievement_date_id=date.pk)

    assert national_figures_in_force(service_id=qof.pk, achievement_date_id=date.pk).registers == {"AF": 440}
    assert not national.national_figures_status(service=qof, achievement_date=date).changed_since_set
    assert NationalFigures.objects.filter(service=qof).count() == 2  # the first setting is kept
    assert AuditEvent.objects.filter(action=national.AUDIT_ACTION).count() == 2


def test_only_a_national_administrator_sets_them(world, qof, people, enqueued):
    for user in (people["approver"], people["finance"], people["declarer"]):
        with pytest.raises(NotAllowed):
            national.national_figures_set(actor=user, service_id=qof.pk, achievement_date_id=achievement_date(qof).pk)
    assert not NationalFigures.objects.exists() and enqueued == []


def test_no_year_end_data_is_refused_and_changes_nothing(orgs, qof, administrator, enqueued):
    with pytest.raises(Invalid, match="nothing to derive"):
        national.national_figures_set(actor=administrator, service_id=qof.pk, achievement_date_id=achievement_date(qof).pk)
    assert not NationalFigures.objects.exists() and not AuditEvent.objects.exists()


def test_the_command_prints_the_derived_figures_and_sets_them(world, qof, enqueued, capsys):
    call_command("national_figures", "--service", "QOF2425", "--achievement-date", "2025-03-31")
    assert capsys.readouterr().out.splitlines() == [
        "QUALITY_SERVICE,ACH_DATE,FIGURE,VALUE,NUMERATOR,DENOMINATOR,PRACTICES",
        "QOF2425,2025-03-31,LIST_SIZE,6000,18000,3,3",
        "QOF2425,2025-03-31,AF,0.01944444444444444444444444444,350,18000,3",
    ]
    assert not NationalFigures.objects.exists()

    call_command("national_figures", "--service", "QOF2425", "--achievement-date", "2025-03-31", "--set")

    figures = NationalFigures.objects.get()
    assert (figures.practices, figures.list_size_total, figures.set_by) == (3, 18_000, None)
    assert AuditEvent.objects.get().detail["system_actor"] == "the national_figures command"
    assert len(enqueued) == 1


def test_the_command_refuses_an_unknown_service_or_date(db, qof):
    with pytest.raises(CommandError, match="No Quality Service"):
        call_command("national_figures", "--service", "QOF9999", "--achievement-date", "2025-03-31")
    with pytest.raises(CommandError, match="not an achievement date"):
        call_command("national_figures", "--service", "QOF2425", "--achievement-date", "2025-01-31")


# --- the screens ------------------------------------------------------------------------------


def test_the_national_figures_pages(world, qof, administrator, client_for, enqueued):
    client = client_for(administrator)
    date = achievement_date(qof)
    listing = client.get(reverse("declarations:national_figures"))
    url = reverse("declarations:national_figures_detail", args=[qof.pk, date.pk])
    assert url in listing.content.decode()

    page = client.get(url).content.decode()
    assert "3 practices with year-end data" in page and "6,000.00" in page and "1.9444%" in page
    assert "Set national figures" in page

    response = client.post(url)

    assert response.status_code == 302 and NationalFigures.objects.filter(set_by=administrator).exists()
    page = client.get(url).content.decode()
    assert 'id="national-figures-progress"' in page  # the workers have not run yet
    assert 'http-equiv="refresh"' in page


@pytest.mark.parametrize("role", [Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT, Role.USER_ADMINISTRATOR])
def test_the_pages_are_for_national_administrators_only(world, qof, client_for, role):
    user = member(world["icb"], role, email=f"{role}@example.nhs.net")
    client = client_for(user)
    url = reverse("declarations:national_figures_detail", args=[qof.pk, achievement_date(qof).pk])
    assert client.get(reverse("declarations:national_figures")).status_code == 403
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert not NationalFigures.objects.exists()


def test_the_list_page_runs_a_fixed_number_of_queries(db, administrator, client_for):
    client = client_for(administrator)
    qof_2425("QOF2425")
    client.get(reverse("declarations:national_figures"))  # warm the session
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("declarations:national_figures"))
    qof_2425("QOF2425B")
    qof_2425("QOF2425C")
    with CaptureQueriesContext(connection) as three:
        page = client.get(reverse("declarations:national_figures"))
    assert page.content.decode().count("/declarations/national-figures/") >= 3
    assert len(three) == len(one)


def test_the_figures_page_runs_a_fixed_number_of_queries_whatever_the_practices(world, qof, administrator, client_for):
    client = client_for(administrator)
    url = reverse("declarations:national_figures_detail", args=[qof.pk, achievement_date(qof).pk])
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as three:
        client.get(url)
    for code in ("A81050", "A81051", "A81052"):
        declaration_for(PracticeFactory(ods_code=code, commissioner=world["icb"]), qof, AF, list_size=4_000)
    with CaptureQueriesContext(connection) as six:
        page = client.get(url)
    assert "6 practices with year-end data" in page.content.decode()
    assert len(six) == len(three)


def test_the_achievement_results_list_marks_the_payments_until_the_figures_are_set(
    world, qof, administrator, client_for, enqueued
):
    reader = member(world["icb"], Role.APPROVAL_MANAGEMENT, email="reader@example.nhs.net")
    url = reverse("declarations:results") + f"?service={qof.pk}"
    assert client_for(reader).get(url).content.decode().count(NOT_YET_SET) == 2  # the ICB's two practices

    national.national_figures_set(actor=administrator, service_id=qof.pk, achievement_date_id=achievement_date(qof).pk)

    assert NOT_YET_SET not in client_for(reader).get(url).content.decode()


def test_once_set_the_payments_use_the_national_figures_to_the_penny(world, qof, administrator, enqueued):
    """A81001 (list 10,000, AF register 300): CPI 10,000 / 6,000 and APDF (300 / 10,000) / (7 / 360),
    the national figures of the small world, exact; before, the definition's 9,964 and 0.0203."""
    from decimal import ROUND_HALF_UP, Decimal

    from declarations.models import IndicatorCalculation
    from participation.models import Indicator

    date = achievement_date(qof)
    achievement = Achievement.objects.get(service=qof, provider=world["practice"])
    af001 = Indicator.objects.get(service=qof, code="AF001")

    def amount() -> Decimal:
        return IndicatorCalculation.objects.get(calculation__achievement=achievement, indicator=af001).amount

    def pounds(value: Fraction) -> Decimal:
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    points, vpp = Fraction(af001.points), Fraction(qof.value_per_point)
    before = pounds(points * vpp * Fraction(10_000, 9_964) * Fraction(300, 10_000) / Fraction(Decimal("0.0203")))
    assert amount() == before

    national.national_figures_set(actor=administrator, service_id=qof.pk, achievement_date_id=date.pk)
    services.calculations_recalculate_isolating(achievement_ids=enqueued[0])

    after = pounds(points * vpp * Fraction(10_000, 6_000) * Fraction(300, 10_000) / Fraction(7, 360))
    assert amount() == after != before
    assert Calculation.objects.get(achievement=achievement).version == 2


def test_declaration_management_says_which_payments_are_provisional_until_the_figures_are_set(
    world, qof, administrator, enqueued, client_for, people
):
    page = reverse("declarations:declaration_management")
    response = client_for(people["approver"]).get(page, {"status": "all"})
    assert "Provisional: national figures not yet set for" in response.content.decode()
    assert qof.name in response.context["national_figures_pending"]

    national.national_figures_set(actor=administrator, service_id=qof.pk, achievement_date_id=achievement_date(qof).pk)

    response = client_for(people["approver"]).get(page, {"status": "all"})
    assert response.context["national_figures_pending"] == ""
    assert "national figures not yet set" not in response.content.decode()
