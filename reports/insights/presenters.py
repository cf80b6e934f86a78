"""What the insight screens show, shaped for their templates (which decide nothing).

Pounds are put in a presenter only when it is built with ``show_money=True``
(``accounts.permissions.can_see_money``): a page for a role that may not see money has no amount
to leak, and ranks by points not earned instead.  Figures are the stored Decimals, written here
once; a chart gets the same text the table shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse

from accounts.formatting import money
from declarations.models import IndicatorCalculation
from participation.models import AchievementDate, Indicator

from . import charts
from .selectors import IndicatorSummary

CHART_ROWS = 15  # the charts of the money-lost page show the top indicators; the table lists all


def percent(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}%"


def threshold(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.normalize():f}%"


def points(value: Decimal) -> str:
    return f"{value:.2f}"


def date_label(achievement_date: AchievementDate) -> str:
    return f"{achievement_date.date:%d/%m/%Y}"


def _query(url_name: str, **params) -> str:
    return f"{reverse(url_name)}?{urlencode({k: v for k, v in params.items() if v is not None})}"


# --- Where the money is lost ---------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorRow:
    rank: int
    code: str
    name: str
    group: str
    lower: str
    upper: str
    providers: int
    no_denominator: int
    no_points: int
    some_points: int
    reached: int
    points_not_earned: str
    not_earned: str | None  # None unless the viewer may see money
    earned: str | None
    patients_to_upper: int
    url: str  # the providers furthest from the upper threshold


@dataclass(frozen=True)
class MoneyLostReport:
    show_money: bool
    provider_count: int
    rows: tuple[IndicatorRow, ...]
    total_not_earned: str | None
    total_earned: str | None
    total_points_not_earned: str
    ranked_chart: charts.RankedBars
    bands_chart: charts.BandBars
    charted: int  # how many indicators the charts show


def money_lost_report(
    *,
    summaries: Iterable[IndicatorSummary],
    commissioner_id: int,
    achievement_date: AchievementDate,
    provider_count: int,
    show_money: bool,
) -> MoneyLostReport:
    """Every fraction indicator, ranked by the pounds its providers did not earn (by points for a
    role that may not see money), with its providers in each band."""
    summaries = list(summaries)

    def key(summary: IndicatorSummary):
        lost = summary.not_earned if show_money else summary.points_not_earned
        return (-lost, -summary.points_not_earned, summary.indicator.code)

    ranked = sorted(summaries, key=key)
    rows = tuple(
        IndicatorRow(
            rank=rank,
            code=s.indicator.code,
            name=s.indicator.name,
            group=s.indicator.group.name,
            lower=threshold(s.indicator.lower),
            upper=threshold(s.indicator.upper),
            providers=s.providers,
            no_denominator=s.no_denominator,
            no_points=s.no_points,
            some_points=s.some_points,
            reached=s.reached,
            points_not_earned=points(s.points_not_earned),
            not_earned=money(s.not_earned) if show_money else None,
            earned=money(s.earned) if show_money else None,
            patients_to_upper=s.patients_to_upper,
            url=_query(
                "reports:money_lost_indicator",
                commissioner=commissioner_id,
                achievement_date=achievement_date.pk,
                indicator=s.indicator.pk,
            ),
        )
        for rank, s in enumerate(ranked, start=1)
    )
    top = ranked[:CHART_ROWS]
    measure = "pounds" if show_money else "points"
    ranked_chart = charts.ranked_bars(
        chart_id="not-earned-chart",
        title=f"The {len(top)} indicators with the most {measure} not earned",
        description=(
            f"Horizontal bars, one per indicator, longest first: the {measure} the providers did not earn "
            "because they were below the upper threshold. Each bar is labelled with its figure; the table "
            "below gives every indicator."
        ),
        rows=[
            (
                s.indicator.code,
                s.not_earned if show_money else s.points_not_earned,
                (money(s.not_earned) if show_money else f"{points(s.points_not_earned)} points"),
            )
            for s in top
        ],
    )
    bands_chart = charts.band_bars(
        chart_id="bands-chart",
        title=f"Providers against the thresholds, for the same {len(top)} indicators",
        description=(
            "One bar per indicator, split into the share of providers earning no points (hatched), some "
            "points (dotted) and all points (solid), of those with patients in the denominator; each bar "
            "is labelled with the three counts. The table below gives the same counts."
        ),
        rows=[(s.indicator.code, s.no_points, s.some_points, s.reached) for s in top],
    )
    total_not_earned = sum((s.not_earned for s in summaries), Decimal("0.00"))
    total_earned = sum((s.earned for s in summaries), Decimal("0.00"))
    return MoneyLostReport(
        show_money=show_money,
        provider_count=provider_count,
        rows=rows,
        total_not_earned=money(total_not_earned) if show_money else None,
        total_earned=money(total_earned) if show_money else None,
        total_points_not_earned=points(sum((s.points_not_earned for s in summaries), Decimal("0.00"))),
        ranked_chart=ranked_chart,
        bands_chart=bands_chart,
        charted=len(top),
    )


# --- One indicator: the providers furthest from the upper threshold ------------------------------


@dataclass(frozen=True)
class ProviderRow:
    rank: int | None  # None: no patients in the denominator (not ranked)
    name: str
    ods_code: str
    achievement: str
    numerator: int | None
    denominator: int | None
    gap: str  # percentage points below the upper threshold, or "Reached"
    patients_to_upper: str
    points: str
    points_not_earned: str
    not_earned: str | None
    results_url: str  # the provider's Achievement Results page
    year_on_year_url: str


@dataclass(frozen=True)
class BinRow:
    label: str
    count: int


@dataclass(frozen=True)
class IndicatorReport:
    show_money: bool
    code: str
    name: str
    lower: str
    upper: str
    available: str
    rows: tuple[ProviderRow, ...]
    below_upper: int
    reached: int
    no_denominator: int
    histogram: charts.Histogram
    bins: tuple[BinRow, ...]


def indicator_report(
    *,
    indicator: Indicator,
    achievement_date: AchievementDate,
    results: Iterable[IndicatorCalculation],
    show_money: bool,
) -> IndicatorReport:
    """The providers' results for one indicator, furthest from the upper threshold first (as the
    selector orders them), and the histogram of their achievement."""
    results = list(results)
    rows = []
    rank = 0
    for result in results:
        provider = result.calculation.provider
        earnable = result.achievement_percent is not None
        if earnable:
            rank += 1
        gap = (indicator.upper - result.achievement_percent) if earnable else None
        rows.append(
            ProviderRow(
                rank=rank if earnable else None,
                name=provider.name,
                ods_code=provider.ods_code,
                achievement=percent(result.achievement_percent) or "No patients in the denominator",
                numerator=result.numerator,
                denominator=result.denominator,
                gap=("Reached" if result.patients_to_upper == 0 else f"{gap:.2f}") if earnable else "-",
                patients_to_upper="-" if result.patients_to_upper is None else str(result.patients_to_upper),
                points=points(result.points),
                points_not_earned=points(indicator.points - result.points) if earnable else "-",
                not_earned=(money(result.amount_at_stake) or "-") if show_money else None,
                results_url=reverse("declarations:achievement_results", args=[result.calculation.achievement_id]),
                year_on_year_url=_query(
                    "reports:year_on_year", provider=provider.pk, achievement_date=achievement_date.pk
                ),
            )
        )
    values = [r.achievement_percent for r in results if r.achievement_percent is not None]
    counts = charts.histogram_bins(values)
    chart = charts.histogram(
        chart_id="achievement-histogram",
        title=f"{indicator.code}: providers by achievement",
        description=(
            f"A histogram of {len(values)} providers' achievement in bins of {charts.HISTOGRAM_BIN} "
            f"percentage points, each bar labelled with its count, with the lower threshold "
            f"({threshold(indicator.lower)}, dashed line) and the upper threshold ({threshold(indicator.upper)}, "
            "solid line) marked. The table beside it gives the same counts."
        ),
        values=values,
        lower=indicator.lower,
        upper=indicator.upper,
    )
    reached = sum(1 for r in results if r.patients_to_upper == 0)
    return IndicatorReport(
        show_money=show_money,
        code=indicator.code,
        name=indicator.name,
        lower=threshold(indicator.lower),
        upper=threshold(indicator.upper),
        available=points(indicator.points),
        rows=tuple(rows),
        below_upper=len(values) - reached,
        reached=reached,
        no_denominator=len(results) - len(values),
        histogram=chart,
        bins=tuple(BinRow(b.label, count) for b, count in zip(chart.bins, counts, strict=True)),
    )
