"""Reads of the declarations app, every one scoped before it is filtered.

A user sees the calculations of the providers in which they hold a results role, of the providers
their ICB commissions, and of their PCN's member practices for the PCN's services only
(``results_scope``).

This module holds the reads of the Results screens (achievements and their indicator results),
the payment export and income protection's input, and re-exports the others, so callers import
every read from here as before: the scope (``declarations.scope``), where an achievement's payment
stands (``declarations.payment_status``) and the reads of declarations for the Declare and
Declaration Management screens (``declarations.declaration_selectors``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db.models import QuerySet, Subquery

from accounts.errors import NotFound
from accounts.models import Organisation
from achievement.models import Achievement
from participation.models import (
    AchievementDate,
    FinancialYear,
    Indicator,
    IndicatorKind,
    QualityService,
)

from .calculation import EXPORTED_KINDS
from .declaration_selectors import (
    MANAGEMENT_ROW_FIELDS,
    declaration_get,
    declaration_management_clusters,
    declaration_management_list,
    declaration_management_rows,
    declaration_management_services,
    declaration_management_statuses,
    declaration_totals,
    declaration_transitions,
    declarations_declared,
    declarations_to_declare,
    tick_box_indicator_get,
    tick_box_indicator_list,
)
from .models import Calculation, IndicatorCalculation
from .payment_status import (
    _payment_declaration_status,
    achievement_declared,
    achievement_financially_approved,
    achievement_payment_lock,
)
from .scope import result_providers, results_scope

__all__ = [
    "EXPORT_COLUMNS",
    "MANAGEMENT_ROW_FIELDS",
    "NotFound",
    "_payment_declaration_status",  # declarations.payment_gateway reads it here
    "achievement_declared",
    "achievement_financially_approved",
    "achievement_get",
    "achievement_list",
    "achievement_payment_lock",
    "declaration_get",
    "declaration_management_clusters",
    "declaration_management_list",
    "declaration_management_rows",
    "declaration_management_services",
    "declaration_management_statuses",
    "declaration_totals",
    "declaration_transitions",
    "declarations_declared",
    "declarations_to_declare",
    "financial_year_default",
    "indicator_result_list",
    "payment_export_rows",
    "protected_points",
    "result_providers",
    "results_scope",
    "tick_box_indicator_get",
    "tick_box_indicator_list",
]

EXPORT_COLUMNS = ("QUALITY_SERVICE", "ORG_CODE", "ACH_DATE", "IND_CODE", "ACHIEVEMENT", "POINTS", "AMOUNT")


def achievement_list(
    *,
    user,
    financial_year: FinancialYear | None = None,
    service: QualityService | None = None,
    provider: Organisation | None = None,
    achievement_date: AchievementDate | None = None,
) -> QuerySet[Achievement]:
    """Achievements the user may see (``results_scope``), with their calculation where there is one."""
    achievements = Achievement.objects.filter(results_scope(user=user))
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
    """An achievement the user may see (``results_scope``; with its calculation, if any); else NotFound."""
    achievement = (
        Achievement.objects.filter(results_scope(user=user), pk=achievement_id)
        .select_related("provider", "service__financial_year", "achievement_date", "calculation")
        .first()
    )
    if achievement is None:
        raise NotFound("No achievement found")
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

    One row per provider with a calculation and per points-bearing, per-capita or item-of-service
    indicator (``kinds.PAID_KINDS``), by ODS code then catalogue order.  ACHIEVEMENT is the
    percentage to 2 places for a fraction with a denominator above 0, else empty (so an item of
    service's row is ACHIEVEMENT empty, POINTS 0.00, AMOUNT the claim).  Figures are strings, so
    no digit is lost to a float.
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


def protected_points(*, provider_ids: Iterable[int], service: QualityService) -> dict[tuple[int, str], Decimal]:
    """Income protection's input (issue 13): for each provider and income-protected indicator of
    ``service``, the points the provider earned for it (or for its ``protected_code``) in the
    year-end calculation of the service named by ``service.protected_from`` (its latest payment
    date).  Keyed ``(provider_id, this service's indicator code)``; a provider with no such
    calculation (or an indicator that calculation lacks) has no key, and the engine then pays it on
    this year's achievement, flagged.  Two queries whatever the number of providers."""
    if not service.protected_from:
        return {}
    this_code_of = {
        (indicator.protected_code or indicator.code): indicator.code
        for indicator in Indicator.objects.filter(service=service, income_protected=True).only(
            "code", "protected_code"
        )
    }
    provider_ids = list(provider_ids)
    if not this_code_of or not provider_ids:
        return {}
    year_end = (
        AchievementDate.objects.filter(service__code=service.protected_from, is_payment_date=True)
        .order_by("-date")
        .values("pk")[:1]
    )
    rows = IndicatorCalculation.objects.filter(
        calculation__achievement_date=Subquery(year_end),
        calculation__provider_id__in=provider_ids,
        indicator__code__in=list(this_code_of),
    ).values_list("calculation__provider_id", "indicator__code", "points")
    return {(provider_id, this_code_of[code]): points for provider_id, code, points in rows}
