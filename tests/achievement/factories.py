"""Builders for the achievement tests: organisations, a small catalogue and Approved offers,
straight through the ORM (the participation loader is not needed to test ingestion)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.models import ListSize, Organisation, OrganisationKind, User
from participation.models import (
    AchievementDate,
    Domain,
    FinancialYear,
    Indicator,
    IndicatorGroup,
    OfferStatus,
    QualityService,
    ServiceOffer,
)

QOF_DATE = dt.date(2024, 3, 31)
QOF_FEBRUARY = dt.date(2024, 2, 29)
NCD_DATE = dt.date(2024, 3, 31)


def organisation(ods_code: str, kind: str, name: str | None = None, **links) -> Organisation:
    return Organisation.objects.create(ods_code=ods_code, name=name or f"Organisation {ods_code}", kind=kind, **links)


def world(*, with_list_sizes: bool = True) -> dict[str, Organisation]:
    """An ICB with one PCN of two practices (A81001, A81002) and a practice in no PCN (A81003);
    each practice with its list size recorded on 01/04/2023 (``LIST_SIZES``: the values entered
    are checked against it) unless ``with_list_sizes`` is False."""
    icb = organisation("QHM", OrganisationKind.ICB, "NHS North East and North Cumbria ICB")
    pcn = organisation("U89141", OrganisationKind.PCN, "Stockton PCN", commissioner=icb)
    organisations = {
        "icb": icb,
        "pcn": pcn,
        "A81001": organisation("A81001", OrganisationKind.PRACTICE, "The Densham Surgery", pcn=pcn, commissioner=icb),
        "A81002": organisation("A81002", OrganisationKind.PRACTICE, "Queens Park Medical Centre", pcn=pcn, commissioner=icb),
        "A81003": organisation("A81003", OrganisationKind.PRACTICE, "Acklam Medical Centre", commissioner=icb),
    }
    if with_list_sizes:
        list_sizes(organisations)
    return organisations


LIST_SIZES = {"A81001": 10_250, "A81002": 7_400, "A81003": 5_000}
LIST_SIZE_DATE = dt.date(2023, 4, 1)


def list_sizes(organisations: dict[str, Organisation], date: dt.date = LIST_SIZE_DATE) -> None:
    """Each practice's list size recorded on ``date`` (the fixture extracts carry the same)."""
    for code, size in LIST_SIZES.items():
        ListSize.objects.update_or_create(organisation=organisations[code], date=date, defaults={"size": size})


def _service(code: str, name: str, level: str, year: str) -> QualityService:
    return QualityService.objects.create(
        code=code,
        name=name,
        payment_type="QOF" if level == "practice" else "DES",
        payment_frequency="Annual",
        financial_year=FinancialYear.for_label(year),
        provider_level=level,
        value_per_point=Decimal("213.43"),
        average_list_size=9_639,
    )


def _indicator(service, group, code, kind, fields, position, **extra) -> Indicator:
    return Indicator.objects.create(
        service=service, group=group, code=code, name=code, kind=kind, fields=fields, position=position, **extra
    )


def qof_2324() -> QualityService:
    """QOF2324 with AF001 (register), AF006 (fraction with PCA fields) and QI013 (yes/no, entered
    manually as in the real definition: GPES does not extract it);
    achievement dates 29/02/2024 and 31/03/2024 (payment)."""
    service = _service("QOF2324", "Quality and Outcomes Framework 2023/24", "practice", "2023/24")
    domain = Domain.objects.create(service=service, code="CL", name="Clinical")
    group = IndicatorGroup.objects.create(service=service, domain=domain, code="AF", name="Atrial fibrillation")
    _indicator(service, group, "AF001", "register", ["Atrial Fibrillation Register"], 0,
               points=5, register_field="Atrial Fibrillation Register")
    _indicator(service, group, "AF006", "fraction", ["Numerator", "Denominator", "AFIBPCADEC"], 1,
               points=12, lower=40, upper=70)
    _indicator(service, group, "QI013", "yes_no", ["Yes/No Flag"], 2, points=37, entry="manual")
    AchievementDate.objects.create(service=service, date=QOF_FEBRUARY)
    AchievementDate.objects.create(service=service, date=QOF_DATE, is_payment_date=True)
    return service


def ncd_2324() -> QualityService:
    """A PCN-level Network Contract DES with one fraction indicator (CAN-02) and a tick-box."""
    service = _service("NCD2324", "Network Contract DES 2023/24", "pcn", "2023/24")
    domain = Domain.objects.create(service=service, code="IIF", name="Investment and Impact Fund")
    group = IndicatorGroup.objects.create(service=service, domain=domain, code="CAN", name="Cancer")
    _indicator(service, group, "CAN-02", "fraction", ["Numerator", "Denominator"], 0, points=22, lower=65, upper=80)
    _indicator(service, group, "COV-01", "tick_box", [], 1, points=220, entry="pcn", carry_forward=True)
    AchievementDate.objects.create(service=service, date=dt.date(2024, 2, 29))
    AchievementDate.objects.create(service=service, date=NCD_DATE, is_payment_date=True)
    return service


def approved_offer(service: QualityService, provider: Organisation, commissioner: Organisation) -> ServiceOffer:
    return ServiceOffer.objects.create(
        service=service,
        provider=provider,
        commissioner=commissioner,
        status=OfferStatus.APPROVED,
        start_date=service.financial_year.start_date,
        end_date=service.financial_year.end_date,
    )


def staff_user(email: str = "staff@example.nhs.net") -> User:
    return User.objects.create_user(email, "a-long-password-123", is_staff=True, full_name="Extract Admin")
