"""What the Achievement Results screen shows, prepared for its template (which decides nothing).

Pounds are only ever put in a presenter built with ``show_money=True``, so a template rendered
for a role that may not see money has no amount to leak.

The rows of the Declare and Declaration Management screens are built by
``declarations.declaration_presenters``, re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from accounts.formatting import money
from participation.definitions import kinds
from participation.models import IndicatorKind

from .declaration_presenters import (
    DeclarationFacts,
    DeclarationRow,
    declaration_management_rows,
    declaration_management_totals,
    declaration_row,
)
from .models import Calculation, IndicatorCalculation

__all__ = [
    "CHART_WIDTH",
    "COMMISSIONER_ENTRY",
    "NOT_EARNABLE",
    "NOT_SUBMITTED",
    "NOTHING_SHOWN",
    "AchievementResults",
    "CalculationFailureNotice",
    "Chart",
    "DeclarationFacts",
    "DeclarationRow",
    "GroupResults",
    "IndicatorResultRow",
    "calculation_failure_notice",
    "declaration_management_rows",
    "declaration_management_totals",
    "declaration_row",
    "percent",
]

CHART_WIDTH = 200  # SVG user units for 0..100%
# NHS colours: green at or above the upper threshold, blue between the thresholds, red at or below
# the lower one (presentation attributes, so the page needs no inline style under the CSP).
_BAR_COLOURS = {"upper": "#007f3b", "between": "#005eb8", "lower": "#d5281b"}
# A cell with nothing to show: the Points of a kind not paid in points (a count, a per-capita
# payment), the Payment of a kind never paid (a count).
NOTHING_SHOWN = "-"
# An indicator whose data have not been submitted: missing data read as missing, never as zero
# (a fraction without its Numerator or Denominator is not "no patients in the denominator").
NOT_SUBMITTED = "Not submitted: no achievement data for this indicator yet"
NOT_EARNABLE = "Not earnable: no patients in the denominator"
# A value the Commissioning Organisation entered (Record Provider Achievement).
COMMISSIONER_ENTRY = "Commissioning Organisation entry"


def percent(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}%"


def _threshold(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}%"


def _x(value: Decimal) -> str:
    """A percentage as an x position on the chart, clamped to 0..100%."""
    clamped = min(max(value, Decimal(0)), Decimal(100))
    return f"{clamped * CHART_WIDTH / 100:.1f}"


@dataclass(frozen=True)
class Chart:
    """Achievement against the thresholds, as SVG geometry (x positions in 0..CHART_WIDTH)."""

    width: int
    lower_x: str
    band_width: str
    upper_x: str
    achievement_width: str
    reached: str  # "upper", "between", "lower"
    bar_colour: str
    label: str


@dataclass(frozen=True)
class IndicatorResultRow:
    code: str
    name: str
    kind: str
    kind_label: str
    numerator: int | None
    denominator: int | None
    register: int | None
    value: int | None  # count indicators
    answer: str | None  # "Yes" / "No" for yes/no, tick-box and per-capita indicators
    achievement: str | None  # a percentage, shown with its numerator and denominator
    achievement_shown: str  # the Achievement cell when there is no percentage
    lower: str | None
    upper: str | None
    points: str
    points_available: str
    points_shown: str  # the Points column: "12.00 of 15.00", or "-" for a kind without points
    amount: str | None  # None unless the viewer may see money
    payment_shown: str | None  # the Payment column (shown only with money): the amount, or "-"
    patients_to_upper: int | None
    amount_at_stake: str | None  # None unless the viewer may see money
    not_earnable: bool
    chart: Chart | None
    not_submitted: bool = False  # its data are missing (not zero)
    # "Commissioning Organisation entry (Numerator)" when the commissioner entered its values.
    source_label: str = ""


@dataclass(frozen=True)
class GroupResults:
    domain: str
    name: str
    rows: tuple[IndicatorResultRow, ...]


def _chart(result: IndicatorCalculation) -> Chart | None:
    indicator = result.indicator
    if indicator.kind != IndicatorKind.FRACTION or result.achievement_percent is None:
        return None
    lower, upper, achieved = indicator.lower, indicator.upper, result.achievement_percent
    reached = "upper" if achieved >= upper else "between" if achieved > lower else "lower"
    return Chart(
        width=CHART_WIDTH,
        lower_x=_x(lower),
        band_width=f"{Decimal(_x(upper)) - Decimal(_x(lower)):.1f}",
        upper_x=_x(upper),
        achievement_width=_x(achieved),
        reached=reached,
        bar_colour=_BAR_COLOURS[reached],
        label=f"Achievement {percent(achieved)} against a lower threshold of {_threshold(lower)} "
        f"and an upper threshold of {_threshold(upper)}",
    )


def _not_submitted(kind: str, result: IndicatorCalculation) -> bool:
    """Are the indicator's data missing from the calculated achievement?  A fraction without its
    Numerator or Denominator, a Yes/No without its flag, a count, an item of service or a register
    without its value.  (A tick-box or per-capita indicator always has a value: it defaults to No.)"""
    if kind == IndicatorKind.FRACTION:
        return result.numerator is None or result.denominator is None
    if kind == IndicatorKind.YES_NO:
        return result.answer is None
    if kind == IndicatorKind.REGISTER:
        return result.register is None
    if kind in (IndicatorKind.COUNT, IndicatorKind.PER_ITEM):
        return result.value is None
    return False


def _achievement_shown(
    *, kind: str, not_earnable: bool, answer: str | None, result: IndicatorCalculation, not_submitted: bool = False
) -> str:
    """The Achievement cell of a row without a percentage (a percentage is shown with its
    numerator and denominator)."""
    if not_submitted:
        return NOT_SUBMITTED
    if not_earnable:
        return NOT_EARNABLE
    if answer:
        return answer
    if kind == IndicatorKind.REGISTER:
        return f"Register {'not submitted' if result.register is None else result.register}"
    if kind in (IndicatorKind.COUNT, IndicatorKind.MANAGEMENT_INFORMATION) and result.value is not None:
        return str(result.value)
    if kind == IndicatorKind.PER_ITEM and result.value is not None:  # an item of service's Count (issue 16)
        return f"{result.value} item{'' if result.value == 1 else 's'}"
    return NOTHING_SHOWN


def _row(result: IndicatorCalculation, *, show_money: bool, commissioner_fields=()) -> IndicatorResultRow:
    indicator = result.indicator
    is_fraction = indicator.kind == IndicatorKind.FRACTION
    points, points_available = f"{result.points:.2f}", f"{indicator.points:.2f}"
    amount = money(result.amount) if show_money else None
    not_submitted = _not_submitted(indicator.kind, result)
    answer = (
        ("Yes" if result.answer else "No") if indicator.kind in kinds.YES_NO_KINDS and not not_submitted else None
    )
    not_earnable = is_fraction and not not_submitted and not result.denominator
    return IndicatorResultRow(
        code=indicator.code,
        name=indicator.name,
        kind=indicator.kind,
        kind_label=indicator.get_kind_display(),
        numerator=result.numerator,
        denominator=result.denominator,
        register=result.register,
        value=result.value,
        answer=answer,
        achievement=percent(result.achievement_percent),
        achievement_shown=_achievement_shown(
            kind=indicator.kind, not_earnable=not_earnable, answer=answer, result=result, not_submitted=not_submitted
        ),
        lower=_threshold(indicator.lower) if is_fraction else None,
        upper=_threshold(indicator.upper) if is_fraction else None,
        points=points,
        points_available=points_available,
        points_shown=f"{points} of {points_available}" if indicator.kind in kinds.POINT_KINDS else NOTHING_SHOWN,
        amount=amount,
        payment_shown=amount if indicator.kind in kinds.PAID_KINDS or not show_money else NOTHING_SHOWN,
        patients_to_upper=result.patients_to_upper,
        amount_at_stake=money(result.amount_at_stake) if show_money else None,
        not_earnable=not_earnable,
        chart=_chart(result),
        not_submitted=not_submitted,
        source_label=f"{COMMISSIONER_ENTRY} ({', '.join(sorted(commissioner_fields))})" if commissioner_fields else "",
    )


@dataclass(frozen=True)
class AchievementResults:
    """One achievement's calculated payment: groups of indicator rows and the totals."""

    groups: tuple[GroupResults, ...]
    show_money: bool
    is_provisional: bool
    version: int
    calculated_at: object
    list_size: str | None  # "12,000"
    total_points: str
    total_points_available: str
    total_amount: str | None
    total_amount_at_stake: str | None
    total_patients_to_upper: int

    @classmethod
    def build(
        cls,
        *,
        calculation: Calculation,
        results: Iterable[IndicatorCalculation],
        show_money: bool,
        commissioner_entries: dict[str, set[str]] | None = None,
    ) -> AchievementResults:
        """``commissioner_entries``: {indicator code: field names} the Commissioning Organisation
        entered (``achievement.commissioner_selectors.commissioner_entry_codes``): those rows say so."""
        results = list(results)
        entries = commissioner_entries or {}
        groups: list[GroupResults] = []
        for result in results:
            group = result.indicator.group
            row = _row(result, show_money=show_money, commissioner_fields=entries.get(result.indicator.code, ()))
            if groups and groups[-1].name == group.name and groups[-1].domain == group.domain.name:
                groups[-1] = GroupResults(groups[-1].domain, group.name, (*groups[-1].rows, row))
            else:
                groups.append(GroupResults(group.domain.name, group.name, (row,)))
        at_stake = sum((r.amount_at_stake or Decimal(0) for r in results), Decimal("0.00"))
        return cls(
            groups=tuple(groups),
            show_money=show_money,
            is_provisional=calculation.is_provisional,
            version=calculation.version,
            calculated_at=calculation.calculated_at,
            list_size=None if calculation.list_size is None else f"{calculation.list_size:,}",
            total_points=f"{calculation.total_points:.2f}",
            total_points_available=f"{sum((r.indicator.points for r in results), Decimal(0)):.2f}",
            total_amount=money(calculation.total_amount) if show_money else None,
            total_amount_at_stake=money(at_stake) if show_money else None,
            total_patients_to_upper=sum(r.patients_to_upper or 0 for r in results),
        )


@dataclass(frozen=True)
class CalculationFailureNotice:
    """Why the payment could not be recalculated from the current data, and who can correct
    them; the figures shown are the last good calculation's."""

    reason: str
    who_corrects: str
    failed_at: object
    calculated_at: object


def calculation_failure_notice(*, failure, who_corrects: str, calculation: Calculation) -> CalculationFailureNotice | None:
    if failure is None:
        return None
    return CalculationFailureNotice(
        reason=failure.reason,
        who_corrects=who_corrects,
        failed_at=failure.failed_at,
        calculated_at=calculation.calculated_at,
    )
