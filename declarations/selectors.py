"""Reads of the declarations app, every one scoped before it is filtered.

A user sees the calculations of the providers in which they hold a results role, of the providers
their ICB commissions, and of their PCN's member practices (``permissions.visible_organisations``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import Http404

from accounts import permissions
from accounts.models import Organisation, Role
from achievement.models import Achievement
from participation.models import AchievementDate, FinancialYear, IndicatorKind, QualityService

from .calculation import EXPORTED_KINDS
from .models import Calculation, IndicatorCalculation

# Who may read achievement results (the Achievement tab's readers, provider and commissioner).
RESULTS_ROLES = frozenset(
    {
        Role.ACHIEVEMENT_ENTRY,
        Role.VIEW,
        Role.FINANCE_VIEW,
        Role.DECLARATION_MANAGEMENT,
        Role.APPROVAL_MANAGEMENT,
        Role.FINANCE_MANAGEMENT,
        Role.COMMISSIONING_MANAGEMENT,
    }
)

EXPORT_COLUMNS = ("QUALITY_SERVICE", "ORG_CODE", "ACH_DATE", "IND_CODE", "ACHIEVEMENT", "POINTS", "AMOUNT")


def result_providers(*, user) -> QuerySet[Organisation]:
    """The practices and PCNs whose achievement results the user may see."""
    return permissions.visible_organisations(user, RESULTS_ROLES).providers().order_by("name")


def achievement_list(
    *,
    user,
    financial_year: FinancialYear | None = None,
    service: QualityService | None = None,
    provider: Organisation | None = None,
    achievement_date: AchievementDate | None = None,
) -> QuerySet[Achievement]:
    """Achievements of the providers the user may see, with their calculation where there is one."""
    achievements = Achievement.objects.filter(provider__in=result_providers(user=user))
    if financial_year is not None:
        achievements = achievements.filter(service__financial_year=financial_year)
    if service is not None:
        achievements = achievements.filter(service=service)
    if provider is not None:
        achievements = achievements.filter(provider=provider)
    if achievement_date is not None:
        achievements = achievements.filter(achievement_date=achievement_date)
    return achievements.select_related("provider", "service", "achievement_date", "calculation").order_by(
        "-achievement_date__date", "service__code", "provider__name"
    )


def achievement_get(*, user, achievement_id: int) -> Achievement:
    """An achievement of a provider the user may see (with its calculation, if any), or 404."""
    achievement = (
        Achievement.objects.filter(pk=achievement_id, provider__in=result_providers(user=user))
        .select_related("provider", "service__financial_year", "achievement_date", "calculation")
        .first()
    )
    if achievement is None:
        raise Http404("No achievement found")
    return achievement


def indicator_result_list(*, calculation: Calculation) -> QuerySet[IndicatorCalculation]:
    """A calculation's indicator results in catalogue order, with indicator, group and domain."""
    return (
        IndicatorCalculation.objects.filter(calculation=calculation)
        .select_related("indicator__group__domain")
        .order_by("indicator__group__domain__position", "indicator__group__position", "indicator__position")
    )


def _two_places(value) -> str:
    return f"{value:.2f}"


def payment_export_rows(*, achievement_date: AchievementDate) -> Iterator[dict[str, str]]:
    """The payment export of one service and achievement date (for ``export_payments``).

    One row per provider with a calculation and per points-bearing or per-capita indicator, by
    ODS code then catalogue order.  ACHIEVEMENT is the percentage to 2 places for a fraction with
    a denominator above 0, else empty.  Figures are strings, so no digit is lost to a float.
    """
    service_code = achievement_date.service.code
    ach_date = f"{achievement_date.date:%Y%m%d}"
    rows = (
        IndicatorCalculation.objects.filter(
            calculation__achievement_date=achievement_date, indicator__kind__in=EXPORTED_KINDS
        )
        .order_by(
            "calculation__provider__ods_code",
            "indicator__group__domain__position",
            "indicator__group__position",
            "indicator__position",
            "indicator__code",
        )
        .values_list(
            "calculation__provider__ods_code",
            "indicator__code",
            "indicator__kind",
            "denominator",
            "achievement_percent",
            "points",
            "amount",
        )
    )
    for ods_code, code, kind, denominator, percent, points, amount in rows.iterator(chunk_size=5000):
        shows_achievement = kind == IndicatorKind.FRACTION and denominator and percent is not None
        yield {
            "QUALITY_SERVICE": service_code,
            "ORG_CODE": ods_code,
            "ACH_DATE": ach_date,
            "IND_CODE": code,
            "ACHIEVEMENT": _two_places(percent) if shows_achievement else "",
            "POINTS": _two_places(points),
            "AMOUNT": _two_places(amount),
        }


def financial_year_default(*, today: dt.date | None = None) -> FinancialYear | None:
    return FinancialYear.current(today)
