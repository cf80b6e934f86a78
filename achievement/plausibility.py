"""What a value can be (issue 11: implausible figures cannot make or freeze a payment).

Every value a provider's achievement holds, entered on a form or loaded from a GPES extract, is
checked against what it can be:

- a Yes/No Flag is 1 (Yes) or 0 (No);
- every other field counts patients (Numerator, Denominator, a register, a PCA count, a count
  indicator's Value): it is not above the provider's registered list size on that date (a
  Numerator is also not above its Denominator: ``entry_rules.fraction_errors`` and the reader);
- nothing, list sizes included, is above the service's *ceiling*: the largest list size for which
  no figure the payment calculation stores can overflow its column;
- entered by hand (not from an extract, whose registers are the clinical system's), a population
  that weights the payment by prevalence (the Denominator of an indicator with a national
  prevalence of its own, or the register of a prevalence-weighted group) does not imply a
  prevalence more than ``PLAUSIBLE_PREVALENCE_RATIO`` times the national one: such a value
  multiplies the payment (a learning disability register of the whole list pays 180 times over)
  and is a mistake far more often than a practice's population.

The ceiling, from the stored field sizes (declarations' ``Calculation`` and
``IndicatorCalculation``; achievement cannot import declarations, so the sizes are restated here
and tests/achievement/test_plausibility.py checks them against the models):

- ``cpi`` and ``apdf`` are Decimal(20, 12): below 10**8.  CPI is list size / average list size
  (an average of at least 1), so a list size below 10**8 always fits (``MAX_LIST_SIZE``); APDF is
  (register / list size) / national prevalence, at most 1 / 0.000001 once the register is not
  above the list size;
- ``list_size`` and ``patients_to_upper`` are PositiveIntegerField: below 2**31;
- every amount is Decimal(12, 2): at most £9,999,999,999.99 (``MAX_AMOUNT``).  With every register
  and Denominator at most the list size L, the largest payment of a service is L x k, where k sums
  over its point-paid indicators points x £ a point / average list size x (1 / national
  prevalence where the indicator is prevalence-weighted), over its per-capita indicators
  their rate, and over its per-item indicators their amount per item (a month's Count of items is a
  count of patients too: not above the list size).  So L may be at most MAX_AMOUNT / k.

A service's ceiling is the smaller of the two (``service_ceiling``); 1,000,000,000 is above every
ceiling.  A PCN-level service's extract rows are a practice's, summed to the PCN: the extract
reader gives each practice its share (the ceiling divided by the largest number of practices a
PCN has: achievement/ingest/catalogue.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from participation.definitions import YES_NO_FIELD
from participation.definitions.kinds import PER_CAPITA, PER_ITEM, POINT_KINDS

MAX_DECIMAL_20_12 = 10**8  # Decimal(20, 12) holds values below this (cpi, apdf)
MAX_POSITIVE_INTEGER = 2**31 - 1  # PositiveIntegerField (list_size, patients_to_upper)
MAX_AMOUNT = Decimal("9999999999.99")  # Decimal(12, 2): every amount of a calculation or declaration
MAX_LIST_SIZE = min(MAX_DECIMAL_20_12 - 1, MAX_POSITIVE_INTEGER)  # 99,999,999
PLAUSIBLE_PREVALENCE_RATIO = 10  # a hand-entered prevalence at most ten times the national one


@dataclass(frozen=True)
class RuleFigures:
    """What the ceiling needs of one indicator (an Indicator row's, or a catalogue's)."""

    kind: str
    points: Decimal
    national_prevalence: Decimal | None  # the indicator's own, else its group's
    rate: Decimal | None
    amount_per_item: Decimal | None = None  # per_item: pounds an item


def service_ceiling(*, value_per_point: Decimal, average_list_size: int, indicators: Iterable[RuleFigures]) -> int:
    """The largest list size (and so value) of the service for which no stored figure of its
    payment can overflow (see the module's docstring)."""
    per_patient = Decimal(0)
    average = max(int(average_list_size or 0), 1)
    for rule in indicators:
        if rule.kind in POINT_KINDS and rule.points:
            weight = Decimal(rule.points) * Decimal(value_per_point) / average
            if rule.national_prevalence:
                weight /= Decimal(rule.national_prevalence)
            per_patient += weight
        elif rule.kind == PER_CAPITA and rule.rate:
            per_patient += Decimal(rule.rate)
        elif rule.kind == PER_ITEM and rule.amount_per_item:
            per_patient += Decimal(rule.amount_per_item)
    if per_patient <= 0:
        return MAX_LIST_SIZE
    return max(0, min(MAX_LIST_SIZE, math.floor(MAX_AMOUNT / per_patient)))


def indicator_figures(indicators) -> list[RuleFigures]:
    """``RuleFigures`` of Indicator rows (their ``group`` loaded, for the group's prevalence)."""
    return [
        RuleFigures(
            kind=i.kind,
            points=i.points,
            national_prevalence=i.national_prevalence or i.group.national_prevalence,
            rate=i.rate,
            amount_per_item=i.amount_per_item,
        )
        for i in indicators
    ]


def is_yes_no(field_name: str) -> bool:
    return field_name == YES_NO_FIELD


# --- the words ------------------------------------------------------------------------------


def too_large(label: str, value: int, ceiling: int) -> str:
    return f"{label} ({value:,}) is too large: no value or list size can be above {ceiling:,}"


def above_list_size(label: str, value: int, list_size: int, whose: str) -> str:
    return f"{label} ({value:,}) must not be above the registered list size of {whose} ({list_size:,})"


def not_yes_no(label: str) -> str:
    return f"{label} must be Yes (1) or No (0)"


def implausible_prevalence(label: str, value: int, list_size: int, whose: str, national: Decimal) -> str:
    share = Decimal(value * 100) / Decimal(list_size)
    return (
        f"{label} ({value:,}) would be {share:.1f}% of the registered list of {whose} ({list_size:,}), "
        f"more than {PLAUSIBLE_PREVALENCE_RATIO} times the national prevalence ({national * 100:.2f}%): "
        "check the value"
    )


def weighting_prevalence(indicator, field_name: str) -> Decimal | None:
    """The national prevalence a hand-entered value of this field is weighed against, if any: an
    indicator's own prevalence weighs its Denominator, a group's weighs a register indicator's
    register (the payment calculation's APDF)."""
    from participation.definitions import DENOMINATOR_FIELD
    from participation.definitions.kinds import REGISTER

    if indicator.national_prevalence is not None:
        return indicator.national_prevalence if field_name == DENOMINATOR_FIELD else None
    if indicator.kind == REGISTER and field_name != DENOMINATOR_FIELD:
        return indicator.group.national_prevalence
    return None


def list_size_unknown(whose: str) -> str:
    return (
        f"The registered list size of {whose} is not known yet, so the values cannot be checked against it: "
        "it comes with the GPES extract (LISTSIZE). Enter the values once a list size has been loaded."
    )


# --- manual entry ---------------------------------------------------------------------------


LIST_SIZE_UNKNOWN = (0, "")  # the key of the one error about the whole form: no list size known


@dataclass(frozen=True)
class ValueLimits:
    """What an achievement's entered values are checked against (``selectors.value_limits``)."""

    list_size: int | None  # None: not known yet
    ceiling: int
    whose: str  # "Stockton PCN (U89141) on 31/03/2025"


def value_errors(indicators, values: dict[tuple[int, str], int], *, changed: Iterable[tuple[int, str]],
                 limits: ValueLimits) -> dict[tuple[int, str], str]:
    """What is wrong with the values a submission would hold (``values``, by (indicator id,
    field name)): a Numerator above its Denominator (``entry_rules.fraction_errors``), and, of the
    ``changed`` ones (those entered), a Yes/No Flag other than 1 or 0, a count above the list size
    or the ceiling.  At most one message a field: {(indicator id, field name): message}; a count
    entered while the list size is not known is one message for the whole form, under
    ``LIST_SIZE_UNKNOWN``."""
    from .entry_rules import fraction_errors

    by_id = {indicator.pk: indicator for indicator in indicators}
    codes = {pk: indicator.code for pk, indicator in by_id.items()}
    errors: dict[tuple[int, str], str] = dict(fraction_errors(indicators, values))
    for key in changed:
        value = values.get(key)
        if value is None or key[0] not in codes:
            continue
        label = f"{codes[key[0]]} {key[1]}"
        if key in errors:
            continue
        if is_yes_no(key[1]):
            if value not in (0, 1) or isinstance(value, bool):
                errors[key] = not_yes_no(label)
        elif value > limits.ceiling:
            errors[key] = too_large(label, value, limits.ceiling)
        elif limits.list_size is None:
            errors[LIST_SIZE_UNKNOWN] = list_size_unknown(limits.whose)
        elif value > limits.list_size:
            errors[key] = above_list_size(label, value, limits.list_size, limits.whose)
        elif (national := weighting_prevalence(by_id[key[0]], key[1])) and (
            value > limits.list_size * national * PLAUSIBLE_PREVALENCE_RATIO
        ):
            errors[key] = implausible_prevalence(label, value, limits.list_size, limits.whose, national)
    return errors
