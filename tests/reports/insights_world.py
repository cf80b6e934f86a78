"""The world of the insight tests: an ICB with practices whose QOF 2024/25 (and 2023/24) payments
are calculated from submitted values through the declarations services, and another ICB.

Built with the shared factories and the declarations tests' catalogue builders; the figures
checked are the ones the payment engine stored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Role
from declarations import services
from declarations.models import Calculation
from participation.models import AchievementDate, Domain, FinancialYear, IndicatorGroup, QualityService
from tests.declarations.factories import indicator, qof_2425, submit_values
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, member

THIS_DATE = dt.date(2025, 3, 31)
LAST_DATE = dt.date(2024, 3, 31)
FEBRUARY = dt.date(2025, 2, 28)


def qof_2324() -> QualityService:
    """Last year's QOF: VI001 (other thresholds), AF006 and QI013; no AF001, VI900 (new in 2024/25)."""
    service = QualityService.objects.create(
        code="QOF2324",
        name="Quality and Outcomes Framework 2023/24",
        payment_type="QOF",
        payment_frequency="Annual",
        financial_year=FinancialYear.for_label("2023/24"),
        provider_level="practice",
        value_per_point=Decimal("213.43"),
        average_list_size=9_639,
    )
    clinical = Domain.objects.create(service=service, code="CL", name="Clinical", position=0)
    public_health = Domain.objects.create(service=service, code="PH", name="Public Health", position=1)
    af = IndicatorGroup.objects.create(service=service, domain=clinical, code="AF", name="Atrial fibrillation")
    vi = IndicatorGroup.objects.create(service=service, domain=public_health, code="VI", name="Vaccination")
    indicator(service, af, "AF006", "fraction", points=12, lower=40, upper=90, position=1)
    indicator(service, vi, "VI001", "fraction", points=18, lower=89, upper=96, position=0)
    AchievementDate.objects.create(service=service, date=LAST_DATE, is_payment_date=True)
    return service


def calculate(provider, service, values, *, date=THIS_DATE, list_size=12_000) -> Calculation:
    achievement = submit_values(provider, service, values, date=date, list_size=list_size)
    services.calculation_recalculate(achievement_id=achievement.pk)
    return Calculation.objects.get(achievement=achievement)


def values(vi_numerator: int, af_numerator: int = 150, *, vi_denominator: int = 116) -> dict:
    return {
        "VI001": {"Numerator": vi_numerator, "Denominator": vi_denominator},
        "AF001": {"Atrial Fibrillation Register": 300},
        "AF006": {"Numerator": af_numerator, "Denominator": 200},
        "QI013": {"Yes/No Flag": 1},
        "VI900": {"Value": 42},
    }


def add_practices(icb, pcn, qof, count: int, *, start: int = 0) -> list:
    """``count`` more practices of the ICB with calculated QOF 2024/25 payments."""
    practices = []
    for index in range(start, start + count):
        practice = PracticeFactory(ods_code=f"B{index:05d}", name=f"Extra Practice {index}", pcn=pcn, commissioner=icb)
        calculate(practice, qof, values(100 + index % 16))
        practices.append(practice)
    return practices


@pytest.fixture
def world(db):
    icb = ICBFactory(ods_code="QHM", name="NHS North East ICB")
    pcn = PCNFactory(ods_code="U89141", name="Stockton PCN", commissioner=icb)
    other_icb = ICBFactory(ods_code="QZZ", name="Other ICB")
    other_pcn = PCNFactory(ods_code="U99999", name="Other PCN", commissioner=other_icb)
    practice = PracticeFactory(ods_code="A81001", name="The Densham Surgery", pcn=pcn, commissioner=icb)
    practice2 = PracticeFactory(ods_code="A81017", name="Woodbridge Practice", pcn=pcn, commissioner=icb)
    practice3 = PracticeFactory(ods_code="A81025", name="The Dovecot Surgery", pcn=pcn, commissioner=icb)
    other_practice = PracticeFactory(ods_code="Z99999", name="Other Surgery", pcn=other_pcn, commissioner=other_icb)
    qof, last_qof = qof_2425(), qof_2324()
    calculations = {
        # VI001 93.10% (between 89 and 96), AF006 75% (between 40 and 90)
        "practice": calculate(practice, qof, values(108)),
        # VI001 100% (reached), AF006 30% (no points)
        "practice2": calculate(practice2, qof, values(116, 60)),
        # VI001 no patients in the denominator, AF006 95% (reached)
        "practice3": calculate(practice3, qof, values(0, 190, vi_denominator=0)),
        "other_practice": calculate(other_practice, qof, values(50, 10)),
        # A date only another ICB's provider has results on
        "other_practice_february": calculate(other_practice, qof, values(50, 10), date=FEBRUARY),
        # Last year: VI001 88% (no points at 89..96), AF006 75%
        "practice_last": calculate(
            practice, last_qof, {"VI001": {"Numerator": 88, "Denominator": 100}, "AF006": {"Numerator": 150, "Denominator": 200}},
            date=LAST_DATE,
        ),
    }
    return {
        "icb": icb,
        "pcn": pcn,
        "practice": practice,
        "practice2": practice2,
        "practice3": practice3,
        "other_icb": other_icb,
        "other_practice": other_practice,
        "qof": qof,
        "last_qof": last_qof,
        "calculations": calculations,
        "commissioner": member(icb, Role.COMMISSIONING_MANAGEMENT, Role.APPROVAL_MANAGEMENT, email="commissioner@example.nhs.net"),
        "other_commissioner": member(other_icb, Role.APPROVAL_MANAGEMENT, email="other@example.nhs.net"),
        "declarer": member(practice, Role.DECLARATION_MANAGEMENT, email="declarer@example.nhs.net"),
        "viewer": member(practice, Role.VIEW, email="viewer@example.nhs.net"),
    }
