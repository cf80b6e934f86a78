"""The provider's achievement this year beside last year's, shaped for its template.

Last year's figure of an indicator is the provider's stored result for the same indicator code in
last financial year's service of the same kind, on the achievement date of the same month
(``selectors.previous_year_date``).  Where there is none the page says so plainly: no results
last year at all, an indicator that was not in last year's service, or no patients in its
denominator.  Pounds only with ``show_money``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from accounts.formatting import money
from declarations.models import IndicatorCalculation
from participation.definitions import kinds
from participation.models import AchievementDate, IndicatorKind

from . import charts
from .presenters import percent, points

NOT_IN_SERVICE = "No figure: not in last year's service"
NO_RESULTS = "No figure: no results last year"
NO_DENOMINATOR = "No figure: no patients in the denominator"


@dataclass(frozen=True)
class YearRow:
    code: str
    name: str
    kind_label: str
    this_shown: str
    last_shown: str
    change: str
    this_points: str
    last_points: str
    this_amount: str | None
    last_amount: str | None


@dataclass(frozen=True)
class YearGroup:
    domain: str
    name: str
    caption: str
    rows: tuple[YearRow, ...]
    chart: charts.PairedBars | None  # None when the group has no percentage to draw


@dataclass(frozen=True)
class YearOnYearReport:
    show_money: bool
    this_year: str
    last_year: str | None
    last_date: str | None
    groups: tuple[YearGroup, ...]
    this_total_points: str
    last_total_points: str | None
    this_total_amount: str | None
    last_total_amount: str | None


def _shown(result: IndicatorCalculation | None, *, missing: str) -> str:
    """An indicator's achievement as text: a percentage, a Yes/No, a register or count, or why none."""
    if result is None:
        return missing
    kind = result.indicator.kind
    if kind == IndicatorKind.FRACTION:
        return percent(result.achievement_percent) or NO_DENOMINATOR
    if kind in kinds.YES_NO_KINDS:
        return "Yes" if result.answer else "No"
    if kind == IndicatorKind.REGISTER:
        return "Register not submitted" if result.register is None else f"Register {result.register}"
    return "-" if result.value is None else str(result.value)


def _change(this: IndicatorCalculation, last: IndicatorCalculation | None) -> str:
    if last is None or this.achievement_percent is None or last.achievement_percent is None:
        return "-"
    difference = this.achievement_percent - last.achievement_percent
    if difference == 0:
        return "No change"
    return f"{'Up' if difference > 0 else 'Down'} {abs(difference):.2f} percentage points"


def _chart_text(result: IndicatorCalculation | None, label: str) -> tuple[Decimal | None, str]:
    """A bar's value and its label: the year and the percentage, or that there is no figure."""
    if result is None or result.achievement_percent is None:
        return None, f"{label}: no figure"
    return result.achievement_percent, f"{label}: {percent(result.achievement_percent)}"


def year_on_year_report(
    *,
    this_date: AchievementDate,
    last_date: AchievementDate | None,
    results: Iterable[IndicatorCalculation],
    show_money: bool,
) -> YearOnYearReport:
    """This year's indicators in catalogue order, each beside last year's figure for its code."""
    this_results, last_by_code = [], {}
    for result in results:
        if result.calculation.achievement_date_id == this_date.pk:
            this_results.append(result)
        else:
            last_by_code[result.indicator.code] = result
    this_year = this_date.service.financial_year.label
    last_year = None if last_date is None else last_date.service.financial_year.label
    missing = NOT_IN_SERVICE if last_by_code else NO_RESULTS

    groups: list[YearGroup] = []
    grouped: list[tuple[object, list[IndicatorCalculation]]] = []
    for result in this_results:
        group = result.indicator.group
        if grouped and grouped[-1][0].pk == group.pk:
            grouped[-1][1].append(result)
        else:
            grouped.append((group, [result]))
    for group, members in grouped:
        rows = []
        chart_rows = []
        for result in members:
            last = last_by_code.get(result.indicator.code)
            point_kind = result.indicator.kind in kinds.POINT_KINDS
            rows.append(
                YearRow(
                    code=result.indicator.code,
                    name=result.indicator.name,
                    kind_label=result.indicator.get_kind_display(),
                    this_shown=_shown(result, missing=missing),
                    last_shown=_shown(last, missing=missing),
                    change=_change(result, last),
                    this_points=points(result.points) if point_kind else "-",
                    last_points=(points(last.points) if last is not None else "-") if point_kind else "-",
                    this_amount=money(result.amount) if show_money else None,
                    last_amount=((money(last.amount) if last is not None else "-") if show_money else None),
                )
            )
            if result.indicator.kind == IndicatorKind.FRACTION:
                this_value, this_text = _chart_text(result, this_year)
                last_value, last_text = _chart_text(last, last_year or "Last year")
                chart_rows.append((result.indicator.code, this_value, this_text, last_value, last_text))
        chart = None
        if chart_rows:
            chart = charts.paired_bars(
                chart_id=f"year-chart-{group.pk}",
                title=f"{group.name}: achievement in {this_year} beside {last_year or 'last year'}",
                description=(
                    f"Two bars per indicator on a scale of 0 to 100%: {this_year} solid, above "
                    f"{last_year or 'last year'} hatched, each labelled with its year and percentage, "
                    "or why there is no figure. The table below gives the same figures."
                ),
                this_label=this_year,
                last_label=last_year or "Last year",
                rows=chart_rows,
            )
        groups.append(
            YearGroup(
                domain=group.domain.name,
                name=group.name,
                caption=f"{group.name}: {this_year} beside {last_year or 'last year'}",
                rows=tuple(rows),
                chart=chart,
            )
        )
    last_results = list(last_by_code.values())
    return YearOnYearReport(
        show_money=show_money,
        this_year=this_year,
        last_year=last_year,
        last_date=None if last_date is None else f"{last_date.date:%d/%m/%Y}",
        groups=tuple(groups),
        this_total_points=points(sum((r.points for r in this_results), Decimal("0.00"))),
        last_total_points=points(sum((r.points for r in last_results), Decimal("0.00"))) if last_results else None,
        this_total_amount=money(sum((r.amount for r in this_results), Decimal("0.00"))) if show_money else None,
        last_total_amount=(
            money(sum((r.amount for r in last_results), Decimal("0.00"))) if show_money and last_results else None
        ),
    )
