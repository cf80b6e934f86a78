"""The payment calculation engine: achievement, points and pounds for one provider.

Pure Python over ``Decimal``: no ORM, no Django, no float. Every payment rule of the project lives
here (docs/payment-rules.md); docs/adr/0002-payment-rounding.md records the
rounding rule and the edge cases decided below.

How it computes:
- Inputs and outputs are ``Decimal`` (or ``int`` counts). Inside, every ratio (achievement, CPI,
  APDF) is an exact ``fractions.Fraction`` built from those Decimals, so nothing is rounded until
  the two rounding points of the project rule, and the result cannot depend on the ambient
  ``decimal`` context.
- Points are rounded to 2 decimal places, money to the penny, both half-up, per indicator.
  The payment uses the *rounded* points: ``amount = round(round(H, 2) x £/point x CPI x APDF, 0.01)``.
- Totals are sums of the rounded indicator figures.
- Unrounded ratios are reported as Decimals to ``DISPLAY_PRECISION`` significant digits, for display
  and audit only; they never feed back into a calculation.

Edge cases (project rules):
- Absent data is nothing earned: a missing numerator/denominator earns nothing, a missing register
  counts as 0, a missing Yes/No counts as No (a tick box defaults to No).
- Denominator 0: not earnable, 0 points, no ``patients_to_upper``.
- Achievement exactly on the lower threshold earns 0; exactly on the upper earns full points.
- List size 0: CPI 0 and APDF 0, so no money (points are still shown).
- A prevalence-weighted group whose register is 0 (or absent): APDF 0.
- An indicator with its own national prevalence (IIF style) uses it in place of its group's.
- Item of service (``per_item``): min(Count, max_items) x amount per item, to the penny, with no
  CPI or prevalence; an absent Count is 0 items; no ``max_items`` is no cap.
- Numerator above denominator, negative counts, floats, NaN or infinite Decimals are refused with
  ``EngineInputError``: they are corrupt input, not achievement.

Income protection (issue 13, ADR 0022): an ``income_protected`` rule is paid at the points the
provider earned for it in the protecting year's year-end calculation (``IndicatorValues.
protected_points``), whatever this year's achievement, at this year's £/point, CPI and APDF.  When
there is no such calculation (``protected_points`` is None) it is paid on this year's achievement
and the result says so (``protection_missing``).

Aspiration (issue 13): ``aspiration_total`` / ``aspiration_total_from_points`` give a provider's
aspiration for the year, ``aspiration_instalments`` its twelve monthly payments.

The exact arithmetic and rounding are ``declarations.engine_arithmetic``; the inputs and results
``declarations.engine_types``.  Both are re-exported here: this module is still where callers
find every name of the engine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

# The schema's words, named once (pure Python, like the engine).
from participation.definitions.kinds import INDICATOR_KINDS, PER_ITEM, POINT_KINDS

from .engine_arithmetic import (
    DISPLAY_CONTEXT,
    DISPLAY_PRECISION,
    EngineInputError,
    as_decimal,
    display,
    exact_fraction,
    round_half_up,
    round_money,
    round_points,
)
from .engine_types import (
    IndicatorResult,
    IndicatorRule,
    IndicatorValues,
    PaymentResult,
    ProviderContext,
    rule_from_definition,
)

__all__ = [  # the engine's names, those of engine_arithmetic and engine_types re-exported
    "DISPLAY_PRECISION", "INDICATOR_KINDS", "ASPIRATION_MONTHS", "EngineInputError", "IndicatorRule",
    "IndicatorValues", "ProviderContext", "IndicatorResult", "PaymentResult", "rule_from_definition",
    "indicator_calculate", "payment_calculate", "aspiration_total", "aspiration_total_from_points",
    "aspiration_instalments", "round_points", "round_money",
]

ASPIRATION_MONTHS = 12

_DISPLAY_CONTEXT = DISPLAY_CONTEXT  # the batch engine's name for it (declarations.engine_batch)


# ---------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------


def _fraction_points(rule: IndicatorRule, achievement: Fraction) -> Fraction:
    """H = 0 if D <= E; G if D >= F; else (D - E) / (F - E) x G."""
    lower, upper, available = exact_fraction(rule.lower), exact_fraction(rule.upper), exact_fraction(rule.points)
    if achievement <= lower:
        return Fraction(0)
    if achievement >= upper:
        return available
    return (achievement - lower) / (upper - lower) * available


def _cpi(context: ProviderContext) -> Fraction:
    """Contractor population index: list size over the national average list size."""
    return Fraction(context.list_size) / Fraction(context.average_list_size)


def _apdf(rule: IndicatorRule, values: IndicatorValues, context: ProviderContext) -> Fraction:
    """Adjusted prevalence factor: (register or denominator / list size) / national prevalence.

    1 where the indicator is not prevalence-weighted; 0 when the list size or the register is 0.
    """
    if rule.own_national_prevalence is not None:
        national, register = rule.own_national_prevalence, values.denominator or 0
    elif rule.group_national_prevalence is not None:
        national, register = rule.group_national_prevalence, context.group_registers.get(rule.group_code, 0)
    else:
        return Fraction(1)
    if context.list_size == 0 or register == 0:
        return Fraction(0)
    return Fraction(register, context.list_size) / exact_fraction(national)


def _items_claimed(values: IndicatorValues) -> int:
    """A per_item indicator's Count: ``count``, or ``value`` (the stored-value mapping gives every
    count-like kind its one field as ``value``); absent is 0.  Both given must agree."""
    if values.count is not None and values.value is not None and values.count != values.value:
        raise EngineInputError(f"count {values.count} and value {values.value} disagree")
    return values.count if values.count is not None else (values.value or 0)


def indicator_calculate(
    *, rule: IndicatorRule, values: IndicatorValues, context: ProviderContext
) -> IndicatorResult:
    """Points and pounds for one indicator, by the rules of docs/payment-rules.md.

    fraction: D = A / B x 100, H by the thresholds; register: full points when the register is
    above 0; yes_no and tick_box: full points on Yes; count: nothing; per_capita: rate x list size
    on Yes; per_item: min(Count, max_items) x amount per item. Points-paid kinds earn round(H, 2) x £/point x CPI x APDF, to the penny.
    """
    achievement: Fraction | None = None
    earnable = True
    patients_to_upper: int | None = None
    items_paid: int | None = None
    points = Fraction(0)

    if rule.kind == "fraction":
        numerator, denominator = values.numerator, values.denominator
        if numerator is None or not denominator:
            earnable = False
        else:
            achievement = Fraction(100 * numerator, denominator)
            points = _fraction_points(rule, achievement)
            # D >= F  <=>  A >= F x B / 100, so the smallest numerator reaching F is its ceiling
            needed = math.ceil(exact_fraction(rule.upper) * denominator / 100)
            patients_to_upper = max(0, needed - numerator)
    elif rule.kind == "register":
        points = exact_fraction(rule.points) if (values.register or 0) > 0 else Fraction(0)
    elif rule.kind in ("yes_no", "tick_box"):
        points = exact_fraction(rule.points) if values.yes is True else Fraction(0)

    achieved_points = round_points(points)
    protected = rule.income_protected and values.protected_points is not None
    rounded_points = round_points(values.protected_points) if protected else achieved_points
    cpi = apdf = None
    amount_at_stake = None
    if rule.kind in POINT_KINDS:
        cpi, apdf = _cpi(context), _apdf(rule, values, context)
        factor = exact_fraction(context.value_per_point) * cpi * apdf
        amount = round_money(exact_fraction(rounded_points) * factor)
        if earnable and rule.kind == "fraction" and not protected:  # achievement does not move a protected payment
            amount_at_stake = round_money(exact_fraction(round_points(rule.points)) * factor) - amount
    elif rule.kind == "per_capita" and values.yes is True:
        amount = round_money(exact_fraction(rule.rate) * context.list_size)
    elif rule.kind == PER_ITEM:
        items_paid = _items_claimed(values)
        if rule.max_items is not None:
            items_paid = min(items_paid, rule.max_items)
        amount = round_money(exact_fraction(rule.amount_per_item) * items_paid)
    else:
        amount = round_money(Fraction(0))

    return IndicatorResult(
        code=rule.code,
        kind=rule.kind,
        points_available=round_points(rule.points),
        earnable=earnable,
        achievement_percent=None if achievement is None else display(achievement),
        achievement_display=None if achievement is None else round_half_up(achievement, 2),
        points=rounded_points,
        amount=amount,
        cpi=None if cpi is None else display(cpi),
        apdf=None if apdf is None else display(apdf),
        patients_to_upper=None if protected else patients_to_upper,
        amount_at_stake=amount_at_stake,
        items_paid=items_paid,
        income_protected=rule.income_protected,
        protected_points=round_points(values.protected_points) if protected else None,
        achieved_points=achieved_points if rule.income_protected else None,
        protection_missing=rule.income_protected and not protected,
    )


def payment_calculate(
    *, indicators: Iterable[tuple[IndicatorRule, IndicatorValues]], context: ProviderContext
) -> PaymentResult:
    """One provider's payment: each indicator rounded on its own, totals summed from the rounded."""
    results: list[IndicatorResult] = []
    seen: set[str] = set()
    for rule, values in indicators:
        if rule.code in seen:
            raise EngineInputError(f"indicator {rule.code} appears twice")
        seen.add(rule.code)
        results.append(indicator_calculate(rule=rule, values=values, context=context))
    return PaymentResult(
        indicators=tuple(results),
        total_points=sum((r.points for r in results), Decimal("0.00")),
        total_amount=sum((r.amount for r in results), Decimal("0.00")),
    )


def _percent(percent: Decimal) -> Fraction:
    value = as_decimal("percent", percent)
    if not 0 <= value <= 100:
        raise EngineInputError(f"percent: must be from 0 to 100, got {value}")
    return exact_fraction(value) / 100


def aspiration_total(
    *, percent: Decimal, previous_payment: Decimal, value_per_point: Decimal, previous_value_per_point: Decimal
) -> Decimal:
    """A provider's aspiration for the year, to the penny: ``percent`` of its year-end achievement
    payment in the previous (``from``) service, uplifted by the change in the value of a point:
    round(percent / 100 x previous_payment x value_per_point / previous_value_per_point, 0.01)."""
    previous = as_decimal("previous_payment", previous_payment)
    if previous < 0:
        raise EngineInputError("previous_payment: must not be negative")
    this_point = as_decimal("value_per_point", value_per_point)
    that_point = as_decimal("previous_value_per_point", previous_value_per_point)
    if this_point < 0 or that_point <= 0:
        raise EngineInputError("value_per_point must not be negative and previous_value_per_point must be above 0")
    return round_money(_percent(percent) * exact_fraction(previous) * exact_fraction(this_point) / exact_fraction(that_point))


def aspiration_total_from_points(
    *, percent: Decimal, points: Decimal, value_per_point: Decimal, list_size: int, average_list_size: int
) -> Decimal:
    """The aspiration on points the commissioner agreed with the provider, to the penny:
    round(percent / 100 x points x value_per_point x CPI, 0.01), CPI = list size / national average."""
    agreed = as_decimal("points", points)
    if agreed < 0:
        raise EngineInputError("points: must not be negative")
    context = ProviderContext(list_size=list_size, value_per_point=value_per_point, average_list_size=average_list_size)
    return round_money(_percent(percent) * exact_fraction(agreed) * exact_fraction(context.value_per_point) * _cpi(context))


def aspiration_instalments(total: Decimal) -> tuple[Decimal, ...]:
    """The twelve monthly payments of an aspiration total: each total / 12 to the penny (half-up),
    the last carrying the remainder, so they add up to the total exactly.  Where eleven rounded-up
    twelfths would pass the total (a total under about 66p), the twelfth is rounded down instead,
    so no instalment is negative."""
    amount = as_decimal("total", total)
    if amount < 0:
        raise EngineInputError("total: must not be negative")
    exact = exact_fraction(round_money(exact_fraction(amount)))
    monthly = round_money(exact / ASPIRATION_MONTHS)
    if (ASPIRATION_MONTHS - 1) * exact_fraction(monthly) > exact:
        monthly = Decimal(math.floor(exact / ASPIRATION_MONTHS * 100)).scaleb(-2)
    last = round_money(exact - (ASPIRATION_MONTHS - 1) * exact_fraction(monthly))
    return (monthly,) * (ASPIRATION_MONTHS - 1) + (last,)
