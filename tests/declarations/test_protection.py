"""Income protection's input (issue 13): ``selectors.protected_points`` reads each provider's points
in the protecting year's year-end calculation, by this year's code (or its protected_code), in a
fixed number of queries; a provider without that calculation has none (the engine then pays this
year's achievement, flagged: tests/declarations/test_engine.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from achievement.models import Achievement
from declarations.models import Calculation, IndicatorCalculation
from declarations.selectors import protected_points
from participation.models import AchievementDate
from tests.factories import PracticeFactory

from .factories import qof_2425

pytestmark = pytest.mark.django_db


def previous_year(points: dict) -> object:
    """QOF2324 whose 31 March 2024 calculation gave each provider ``points`` ({provider: {code: pts}});
    also a 28 February calculation that must not be read."""
    service = qof_2425("QOF2324")
    AchievementDate.objects.filter(service=service).delete()
    dates = {
        day: AchievementDate.objects.create(service=service, date=day, is_payment_date=True)
        for day in (dt.date(2024, 2, 29), dt.date(2024, 3, 31))
    }
    indicators = {i.code: i for i in service.indicators.all()}
    for provider, by_code in points.items():
        for day, date in dates.items():
            achievement = Achievement.objects.create(provider=provider, service=service, achievement_date=date)
            calculation = Calculation.objects.create(
                achievement=achievement, provider=provider, service=service, achievement_date=date, inputs_hash="x"
            )
            IndicatorCalculation.objects.bulk_create(
                IndicatorCalculation(
                    calculation=calculation, indicator=indicators[code],
                    points=Decimal(value) if day.month == 3 else Decimal("0.01"),
                )
                for code, value in by_code.items()
            )
    return service


def test_protected_points_by_this_years_code_renumbered_or_not_year_end_only(django_assert_num_queries):
    this_year = qof_2425()
    this_year.protected_from = "QOF2324"
    this_year.save()
    this_year.indicators.filter(code="AF001").update(income_protected=True)
    # VI001 was renumbered: last year it was AF006 (a made-up mapping, to exercise protected_code).
    this_year.indicators.filter(code="VI001").update(income_protected=True, protected_code="AF006")
    a, b, new = (PracticeFactory(ods_code=code) for code in ("A81001", "A81002", "A81003"))
    previous_year({a: {"AF001": "5", "AF006": "7.25", "VI001": "18"}, b: {"AF001": "0", "AF006": "12"}})
    with django_assert_num_queries(2):
        found = protected_points(provider_ids=[a.pk, b.pk, new.pk], service=this_year)
    assert found == {
        (a.pk, "AF001"): Decimal("5.00"),
        (a.pk, "VI001"): Decimal("7.25"),  # last year's AF006, not last year's VI001
        (b.pk, "AF001"): Decimal("0.00"),
        (b.pk, "VI001"): Decimal("12.00"),
    }  # ``new`` had no calculation last year: no key


def test_no_protection_without_protected_from_or_protected_indicators(django_assert_num_queries):
    this_year = qof_2425()
    provider = PracticeFactory(ods_code="A81001")
    with django_assert_num_queries(0):
        assert protected_points(provider_ids=[provider.pk], service=this_year) == {}
    this_year.protected_from = "QOF2324"
    this_year.save()
    assert protected_points(provider_ids=[provider.pk], service=this_year) == {}


def test_achievement_results_show_income_protected_beside_each_protected_indicator(client, orgs, qof, people):
    from django.urls import reverse

    from .conftest import declaration_for

    qof.protected_from = "QOF2324"
    qof.save()
    qof.indicators.filter(code__in=["AF001", "AF006"]).update(income_protected=True)
    previous_year({orgs["practice"]: {"AF001": "5", "AF006": "7.25"}})  # practice2 had none
    mine = declaration_for(orgs["practice"], qof)
    theirs = declaration_for(orgs["practice2"], qof)
    client.force_login(people["approver"])  # the ICB reads both practices' results
    page = client.get(reverse("declarations:achievement_results", args=[mine.achievement_id])).content.decode()
    assert page.count('data-testid="income-protected"') == 2
    assert "QOF2324 points: <strong>7.25</strong>; this year's achievement: 75.00%" in page
    other = client.get(reverse("declarations:achievement_results", args=[theirs.achievement_id])).content.decode()
    assert "No QOF2324 year-end calculation: paid on this year's achievement (75.00%)" in other


@pytest.mark.parametrize("numerator", [60, 116])  # this year's VI001 achievement falls, or rises
def test_the_recalculation_pays_a_protected_indicator_at_last_years_points(numerator):
    """VI001 protected from QOF2324 where the provider earned 12.34 points: whatever this year's
    achievement (60 / 116 earns 0, 116 / 116 earns all 18), this year pays 12.34 points at this
    year's £/point and CPI.  A provider with no QOF2324 calculation is paid on its achievement."""
    from declarations import services

    from .factories import submit_values

    protected, unprotected = PracticeFactory(), PracticeFactory()
    previous_year({protected: {"VI001": "12.34"}})
    this_year = qof_2425()
    this_year.protected_from = "QOF2324"
    this_year.save(update_fields=["protected_from"])
    this_year.indicators.filter(code="VI001").update(income_protected=True)
    values = {"VI001": {"Numerator": numerator, "Denominator": 116}}
    ids = [submit_values(p, this_year, values, list_size=9_964).pk for p in (protected, unprotected)]

    services.calculations_recalculate(achievement_ids=ids)

    def vi001(provider) -> IndicatorCalculation:
        return IndicatorCalculation.objects.get(
            calculation__achievement__provider=provider, calculation__service=this_year, indicator__code="VI001"
        )

    # CPI 9,964 / 9,964 = 1, VI001 not prevalence-weighted: points x £220.62
    assert vi001(protected).points == Decimal("12.34")
    assert vi001(protected).amount == (Decimal("12.34") * Decimal("220.62")).quantize(Decimal("0.01"))
    earned = Decimal("0.00") if numerator == 60 else Decimal("18.00")
    assert vi001(unprotected).points == earned
