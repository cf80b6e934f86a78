"""Catalogue and achievement builders for the declarations tests (plain ORM, no loader)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.models import ListSize, Organisation
from achievement.models import Achievement, IndicatorValue, Submission, SubmissionSource, TickBoxValue
from participation.models import (
    AchievementDate,
    Domain,
    FinancialYear,
    Indicator,
    IndicatorGroup,
    QualityService,
)

QOF_DATE = dt.date(2025, 3, 31)


def qof_2425(code: str = "QOF2425") -> QualityService:
    """A small QOF 2024/25: VI001 (the worked example), AF (prevalence-weighted, register AF001),
    a QI yes/no indicator and a count indicator."""
    year = FinancialYear.for_label("2024/25")
    service = QualityService.objects.create(
        code=code,
        name="Quality and Outcomes Framework 2024/25",
        payment_type="QOF",
        payment_frequency="Annual",
        financial_year=year,
        provider_level="practice",
        value_per_point=Decimal("220.62"),
        average_list_size=9_964,
    )
    clinical = Domain.objects.create(service=service, code="CL", name="Clinical", position=0)
    public_health = Domain.objects.create(service=service, code="PH", name="Public Health", position=1)
    quality = Domain.objects.create(service=service, code="QI", name="Quality Improvement", position=2)
    af = IndicatorGroup.objects.create(
        service=service,
        domain=clinical,
        code="AF",
        name="Atrial fibrillation",
        national_prevalence=Decimal("0.0203"),
        position=0,
    )
    vi = IndicatorGroup.objects.create(
        service=service, domain=public_health, code="VI", name="Vaccination and immunisations", position=0
    )
    qi = IndicatorGroup.objects.create(service=service, domain=quality, code="QI", name="Quality improvement")
    indicator(
        service, af, "AF001", "register", points=5, register_field="Atrial Fibrillation Register", position=0
    )
    indicator(service, af, "AF006", "fraction", points=12, lower=40, upper=90, position=1)
    indicator(service, vi, "VI001", "fraction", points=18, lower=89, upper=96, position=0)
    indicator(service, vi, "VI900", "count", position=1)
    indicator(service, qi, "QI013", "yes_no", points=37, position=0)
    for month_end in (dt.date(2025, 2, 28), QOF_DATE):
        AchievementDate.objects.create(service=service, date=month_end, is_payment_date=month_end == QOF_DATE)
    return service


def ncd_2122(code: str = "NCD2122") -> QualityService:
    """The Network Contract DES 2021/22 tick-box COV-01 (220 points at £200) and a CAIP-style
    per-capita indicator: PCN-level, carried forward from 28 February to 31 March."""
    year = FinancialYear.for_label("2021/22")
    service = QualityService.objects.create(
        code=code,
        name="Network Contract DES 2021/22",
        payment_type="DES",
        payment_frequency="Annual",
        financial_year=year,
        provider_level="pcn",
        value_per_point=Decimal("200.00"),
        average_list_size=48_000,
    )
    domain = Domain.objects.create(service=service, code="NCD", name="Network Contract DES")
    group = IndicatorGroup.objects.create(service=service, domain=domain, code="IIF", name="IIF")
    indicator(service, group, "COV-01", "tick_box", points=220, entry="pcn", carry_forward=True, position=0)
    indicator(
        service,
        group,
        "CAIP-1",
        "per_capita",
        rate=Decimal("0.395"),
        entry="pcn",
        carry_forward=True,
        position=1,
    )
    for month_end in (dt.date(2022, 2, 28), dt.date(2022, 3, 31)):
        AchievementDate.objects.create(service=service, date=month_end, is_payment_date=month_end.month == 3)
    return service


def indicator(service, group, code, kind, *, points=0, lower=None, upper=None, **extra) -> Indicator:
    return Indicator.objects.create(
        service=service,
        group=group,
        code=code,
        name=f"{code} indicator",
        kind=kind,
        points=Decimal(points),
        lower=None if lower is None else Decimal(lower),
        upper=None if upper is None else Decimal(upper),
        **extra,
    )


def achievement_date(service: QualityService, date: dt.date = QOF_DATE) -> AchievementDate:
    return AchievementDate.objects.get(service=service, date=date)


def submit_values(
    provider: Organisation,
    service: QualityService,
    values: dict[str, dict[str, int]],
    *,
    date: dt.date = QOF_DATE,
    list_size: int | None = None,
) -> Achievement:
    """Record a submitted, current submission of ``values`` ({indicator code: {field: value}}),
    superseding the provider's previous one for that date, and the list size on that date."""
    achievement, _ = Achievement.objects.get_or_create(
        provider=provider, service=service, achievement_date=achievement_date(service, date)
    )
    previous = achievement.submissions.filter(is_current=True).first()
    if previous is not None:
        Submission.objects.filter(pk=previous.pk).update(is_current=False)
    submission = Submission.objects.create(
        achievement=achievement, source=SubmissionSource.EXTRACT, status="submitted", is_current=True
    )
    if previous is not None:
        Submission.objects.filter(pk=previous.pk).update(superseded_by=submission)
    indicators = {i.code: i for i in service.indicators.all()}
    IndicatorValue.objects.bulk_create(
        IndicatorValue(submission=submission, indicator=indicators[code], field_name=field, value=value)
        for code, fields in values.items()
        for field, value in fields.items()
    )
    if list_size is not None:
        ListSize.objects.update_or_create(organisation=provider, date=date, defaults={"size": list_size})
    return achievement


def set_tick_box(
    provider: Organisation, service: QualityService, code: str, date: dt.date, value: bool
) -> None:
    TickBoxValue.objects.update_or_create(
        provider=provider,
        indicator=service.indicators.get(code=code),
        achievement_date=achievement_date(service, date),
        defaults={"value": value},
    )
