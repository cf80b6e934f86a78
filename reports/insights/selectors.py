"""Reads of the insight screens, every one scoped to the user's organisations before it is filtered.

A commissioner's figures are those of the providers it commissions (``provider.commissioner``),
for one achievement date; a provider's are its own, or those of a provider the user may see
(``declarations.selectors.result_providers``), and of those only the results the user may see
(``declarations.selectors.results_scope``: of a PCN's member practice, the PCN's services only,
never the practice's own services' payments).  An id of an organisation, date or indicator the
user may not see is ``NotFound``, exactly as one that does not exist.

Every function runs a fixed number of queries whatever the number of providers: the per-indicator
figures are aggregated by the database in one query.

The figures are the stored results of the payment engine (``IndicatorCalculation``), never
recomputed: an indicator's pounds not earned is its ``amount_at_stake``, the engine's "what the
full points would pay minus what was paid" (docs/payment-rules.md), which exists for a fraction
indicator with patients in its denominator.  Its bands come from the exact figures too: a provider
with ``patients_to_upper`` 0 is at or above the upper threshold; one with 0 points (still short of
the upper threshold) earns nothing, at or below the lower threshold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Subquery, Sum

from accounts import permissions
from accounts.errors import NotFound
from accounts.models import Organisation
from declarations.models import Calculation, IndicatorCalculation
from declarations.selectors import result_providers, results_scope
from participation.models import AchievementDate, Indicator, IndicatorKind
from reports.records import scope

from .rules import MONEY_LOST_ROLES

ZERO = Decimal("0.00")

# The bands of a fraction indicator, from the stored exact figures (see the module docstring).
REACHED = Q(patients_to_upper=0)
NO_POINTS = Q(points=0, patients_to_upper__gt=0)
SOME_POINTS = Q(points__gt=0, patients_to_upper__gt=0)
NO_DENOMINATOR = Q(achievement_percent__isnull=True)


# --- Where the money is lost (commissioner) ----------------------------------------------------


def commissioner_list(*, user) -> QuerySet[Organisation]:
    """The commissioners (ICBs) where the user holds a commissioner role, and those that have
    allocated their reports (Allocated Reports) to an organisation where the user holds one."""
    ids = permissions.organisation_ids_with_role(user, MONEY_LOST_ROLES)
    granted = scope.granting_organisation_ids(user=user, roles=MONEY_LOST_ROLES)
    return Organisation.objects.filter(Q(pk__in=ids) | Q(pk__in=granted)).order_by("name", "pk")


def shows_money(*, user, commissioner: Organisation) -> bool:
    """Pounds for a money role held at the commissioner, or at an organisation it has allocated
    its reports to; the other roles see points only."""
    if permissions.can_see_money(user, commissioner):
        return True
    granted = scope.granting_organisation_ids(user=user, roles=permissions.MONEY_ROLES)
    return granted.filter(organisation_id=commissioner.pk).exists()


def commissioner_get(*, user, commissioner_id: int | None) -> Organisation:
    """The chosen commissioner (the first when none is chosen); NotFound for one the user holds no
    commissioner role in."""
    commissioners = commissioner_list(user=user)
    if commissioner_id is not None:
        commissioners = commissioners.filter(pk=commissioner_id)
    commissioner = commissioners.first()
    if commissioner is None:
        raise NotFound("No such commissioner")
    return commissioner


def _commissioned(commissioner: Organisation, achievement_date: AchievementDate) -> Q:
    return Q(calculation__achievement_date=achievement_date, calculation__provider__commissioner=commissioner)


def money_lost_dates(*, commissioner: Organisation) -> QuerySet[AchievementDate]:
    """The achievement dates with a calculated payment of a provider the commissioner commissions,
    latest first (each with its service and financial year)."""
    calculated = Calculation.objects.filter(provider__commissioner=commissioner).values("achievement_date_id")
    return (
        AchievementDate.objects.filter(pk__in=Subquery(calculated))
        .select_related("service__financial_year")
        .order_by("-date", "service__code", "pk")
    )


def money_lost_date_get(*, commissioner: Organisation, achievement_date_id: int | None) -> AchievementDate | None:
    """The chosen achievement date (the latest when none is chosen; None when there is none); an
    id that is not one of ``money_lost_dates`` is NotFound."""
    dates = money_lost_dates(commissioner=commissioner)
    if achievement_date_id is None:
        return dates.first()
    found = dates.filter(pk=achievement_date_id).first()
    if found is None:
        raise NotFound("No such achievement date")
    return found


@dataclass(frozen=True)
class IndicatorSummary:
    """One fraction indicator across the commissioner's providers on one date (stored figures)."""

    indicator: Indicator
    providers: int
    no_denominator: int
    no_points: int
    some_points: int
    reached: int
    earned: Decimal  # pounds paid
    not_earned: Decimal  # pounds not earned: the sum of amount_at_stake
    points_not_earned: Decimal
    patients_to_upper: int


def fraction_indicators(*, achievement_date: AchievementDate) -> QuerySet[Indicator]:
    """The service's fraction indicators (paid against thresholds), in catalogue order."""
    return (
        Indicator.objects.filter(service_id=achievement_date.service_id, kind=IndicatorKind.FRACTION)
        .select_related("group__domain")
        .order_by("group__domain__position", "group__position", "position", "pk")
    )


def indicator_summary_list(
    *, commissioner: Organisation, achievement_date: AchievementDate
) -> list[IndicatorSummary]:
    """Per fraction indicator: its providers in each band and the pounds and points not earned,
    summed by the database (two queries, whatever the number of providers)."""
    indicators = list(fraction_indicators(achievement_date=achievement_date))
    earnable = ~NO_DENOMINATOR
    figures = {
        row["indicator_id"]: row
        for row in IndicatorCalculation.objects.filter(
            _commissioned(commissioner, achievement_date), indicator__in=[i.pk for i in indicators]
        )
        .order_by()
        .values("indicator_id")
        .annotate(
            providers=Count("pk"),
            no_denominator=Count("pk", filter=NO_DENOMINATOR),
            no_points=Count("pk", filter=NO_POINTS),
            some_points=Count("pk", filter=SOME_POINTS),
            reached=Count("pk", filter=REACHED),
            earned=Sum("amount"),
            not_earned=Sum("amount_at_stake"),
            points_not_earned=Sum(F("indicator__points") - F("points"), filter=earnable),
            patients_to_upper=Sum("patients_to_upper"),
        )
    }
    summaries = []
    for indicator in indicators:
        row = figures.get(indicator.pk, {})
        summaries.append(
            IndicatorSummary(
                indicator=indicator,
                providers=row.get("providers", 0),
                no_denominator=row.get("no_denominator", 0),
                no_points=row.get("no_points", 0),
                some_points=row.get("some_points", 0),
                reached=row.get("reached", 0),
                earned=row.get("earned") or ZERO,
                not_earned=row.get("not_earned") or ZERO,
                points_not_earned=row.get("points_not_earned") or ZERO,
                patients_to_upper=row.get("patients_to_upper") or 0,
            )
        )
    return summaries


def provider_count(*, commissioner: Organisation, achievement_date: AchievementDate) -> int:
    """How many of the commissioner's providers have a calculated payment on this date."""
    return Calculation.objects.filter(provider__commissioner=commissioner, achievement_date=achievement_date).count()


def fraction_indicator_get(*, achievement_date: AchievementDate, indicator_id: int | None) -> Indicator:
    """A fraction indicator of the date's service; else NotFound."""
    indicator = None
    if indicator_id is not None:
        indicator = fraction_indicators(achievement_date=achievement_date).filter(pk=indicator_id).first()
    if indicator is None:
        raise NotFound("No such indicator")
    return indicator


def indicator_provider_list(
    *, commissioner: Organisation, achievement_date: AchievementDate, indicator: Indicator
) -> QuerySet[IndicatorCalculation]:
    """The commissioner's providers' results for one indicator, furthest from the upper threshold
    first (lowest achievement; then the most pounds not earned), those with no patients in the
    denominator last.  One query."""
    return (
        IndicatorCalculation.objects.filter(_commissioned(commissioner, achievement_date), indicator=indicator)
        .select_related("calculation__provider")
        .order_by(
            F("achievement_percent").asc(nulls_last=True),
            F("amount_at_stake").desc(nulls_last=True),
            "calculation__provider__name",
            "pk",
        )
    )


# --- This year and last (provider) -------------------------------------------------------------


def year_on_year_providers(*, user) -> QuerySet[Organisation]:
    """The providers whose results the user may see (a practice itself; a commissioner's providers)."""
    return result_providers(user=user)


def year_on_year_provider_get(*, user, provider_id: int | None) -> Organisation | None:
    """The chosen provider (the user's own first when none is chosen; None if the user sees none);
    a provider the user may not see is NotFound."""
    providers = year_on_year_providers(user=user)
    if provider_id is not None:
        provider = providers.filter(pk=provider_id).first()
        if provider is None:
            raise NotFound("No such provider")
        return provider
    own = permissions.organisation_ids_with_role(user)
    return providers.filter(pk__in=own).first() or providers.first()


def _visible_calculations(*, user, provider: Organisation) -> QuerySet[Calculation]:
    """The provider's calculations whose results the user may see (``results_scope``)."""
    return Calculation.objects.filter(results_scope(user=user), provider=provider)


def provider_dates(*, user, provider: Organisation) -> QuerySet[AchievementDate]:
    """The achievement dates with a calculated payment of this provider that the user may see,
    latest first."""
    visible = _visible_calculations(user=user, provider=provider).values("achievement_date_id")
    return (
        AchievementDate.objects.filter(pk__in=Subquery(visible))
        .select_related("service__financial_year")
        .order_by("-date", "service__code", "pk")
    )


def provider_date_get(*, user, provider: Organisation, achievement_date_id: int | None) -> AchievementDate | None:
    dates = provider_dates(user=user, provider=provider)
    if achievement_date_id is None:
        return dates.first()
    found = dates.filter(pk=achievement_date_id).first()
    if found is None:
        raise NotFound("No such achievement date")
    return found


def _service_stem(service) -> str:
    """The service's name without its financial year: "Quality and Outcomes Framework"."""
    return service.name.replace(service.financial_year.label, "").strip()


def previous_year_date(*, achievement_date: AchievementDate) -> AchievementDate | None:
    """The same month's achievement date of last financial year's service of the same kind (same
    payment type, provider level and name but for the year: QOF 2023/24 for QOF 2024/25), or
    None.  One query."""
    service = achievement_date.service
    year_before = service.financial_year.start_date - dt.timedelta(days=1)
    candidates = (
        AchievementDate.objects.filter(
            service__financial_year__end_date=year_before,
            service__payment_type=service.payment_type,
            service__provider_level=service.provider_level,
            date__month=achievement_date.date.month,
        )
        .select_related("service__financial_year")
        .order_by("-date", "pk")
    )
    stem = _service_stem(service)
    return next((date for date in candidates if _service_stem(date.service) == stem), None)


def provider_results(
    *, user, provider: Organisation, achievement_dates: list[AchievementDate]
) -> QuerySet[IndicatorCalculation]:
    """The provider's stored indicator results on these dates (this year's and last year's) that
    the user may see, in catalogue order, with the indicator, group and domain.  One query."""
    visible = _visible_calculations(user=user, provider=provider).filter(achievement_date__in=achievement_dates)
    return (
        IndicatorCalculation.objects.filter(calculation__in=visible.values("pk"))
        .select_related("indicator__group__domain", "calculation")
        .order_by(
            "indicator__group__domain__position", "indicator__group__position", "indicator__position", "pk"
        )
    )
