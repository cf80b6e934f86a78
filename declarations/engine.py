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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING

# The schema's words, named once (pure Python, like the engine).
from participation.definitions.kinds import INDICATOR_KINDS, MANAGEMENT_INFORMATION, PER_ITEM, POINT_KINDS

if TYPE_CHECKING:  # the engine does not depend on the catalogue's objects at run time
    from participation.definitions import GroupDef, IndicatorDef

__all__ = [  # in the order of the module
    "DISPLAY_PRECISION", "INDICATOR_KINDS", "ASPIRATION_MONTHS", "EngineInputError", "IndicatorRule",
    "IndicatorValues", "ProviderContext", "IndicatorResult", "PaymentResult", "rule_from_definition",
    "indicator_calculate", "payment_calculate", "aspiration_total", "aspiration_total_from_points",
    "aspiration_instalments", "round_points", "round_money",
]

ASPIRATION_MONTHS = 12
DISPLAY_PRECISION = 28  # significant digits of the unrounded ratios shown in results

_DISPLAY_CONTEXT = Context(prec=DISPLAY_PRECISION, rounding=ROUND_HALF_EVEN)
_HALF = Fraction(1, 2)


class EngineInputError(ValueError):
    """Input the engine refuses to calculate from (wrong type, negative, out of range)."""


# ---------------------------------------------------------------------------------------------
# Exact arithmetic helpers
# ---------------------------------------------------------------------------------------------


def _exact(value: Decimal | int) -> Fraction:
    return Fraction(value)  # exact for both Decimal and int


def _round_half_up(value: Fraction, places: int) -> Decimal:
    """Round an exact value to ``places`` decimals, halves away from zero (``ROUND_HALF_UP``)."""
    scaled = value * 10**places
    magnitude = math.floor(abs(scaled) + _HALF)
    sign = 1 if scaled < 0 and magnitude else 0
    return Decimal((sign, tuple(int(d) for d in str(magnitude)), -places))


def _display(value: Fraction) -> Decimal:
    return _DISPLAY_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def round_points(value: Decimal | Fraction) -> Decimal:
    """Points to 2 decimal places, half-up (project rounding rule)."""
    return _round_half_up(Fraction(value), 2)


def round_money(value: Decimal | Fraction) -> Decimal:
    """Pounds to the penny, half-up (project rounding rule)."""
    return _round_half_up(Fraction(value), 2)


def _decimal(name: str, value: object, *, allow_none: bool = False) -> Decimal | None:
    """A finite Decimal from a Decimal or an int; floats and strings are refused."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise EngineInputError(f"{name}: expected a Decimal, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise EngineInputError(f"{name}: must be a finite number, got {result}")
    return result


def _national(name: str, value: object, *, allow_none: bool = False) -> Decimal | Fraction | None:
    """A national figure: a Decimal (or int) as ``_decimal``, or the exact ``Fraction`` a National
    Administrator set from the year-end data (``participation.national``; issue 13), kept exact."""
    if isinstance(value, Fraction):
        return value
    return _decimal(name, value, allow_none=allow_none)


def _count(name: str, value: object, *, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EngineInputError(f"{name}: expected a whole number, got {type(value).__name__}")
    if value < 0:
        raise EngineInputError(f"{name}: must not be negative, got {value}")
    return value


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorRule:
    """How one indicator is paid: its kind, points (G), thresholds (E, F) and prevalence figures.

    ``group_code``/``group_national_prevalence`` make the indicator prevalence-weighted by its
    group's register (QOF APDF); ``own_national_prevalence`` weights it by its own denominator
    (IIF) and wins over the group's.
    """

    code: str
    kind: str
    points: Decimal = Decimal(0)
    lower: Decimal | None = None
    upper: Decimal | None = None
    rate: Decimal | None = None
    own_national_prevalence: Decimal | None = None
    group_code: str | None = None
    group_national_prevalence: Decimal | Fraction | None = None  # a Fraction once set nationally
    amount_per_item: Decimal | None = None  # per_item: pounds an item
    max_items: int | None = None  # per_item: the most items paid (None: no cap)
    income_protected: bool = False  # paid at IndicatorValues.protected_points when known

    def __post_init__(self) -> None:
        where = f"indicator {self.code}"
        if self.kind not in INDICATOR_KINDS:
            raise EngineInputError(f"{where}: unknown kind {self.kind!r}")
        for name in (
            "points",
            "lower",
            "upper",
            "rate",
            "own_national_prevalence",
            "group_national_prevalence",
            "amount_per_item",
        ):
            check = _national if name == "group_national_prevalence" else _decimal
            value = check(f"{where}.{name}", getattr(self, name), allow_none=name != "points")
            object.__setattr__(self, name, value)
        if self.points < 0:
            raise EngineInputError(f"{where}.points: must not be negative")
        if self.kind in ("count", "per_capita", PER_ITEM, MANAGEMENT_INFORMATION) and self.points != 0:
            raise EngineInputError(f"{where}.points: a {self.kind} indicator earns no points")
        if self.kind == "fraction":
            if self.lower is None or self.upper is None:
                raise EngineInputError(f"{where}: a fraction indicator needs lower and upper thresholds")
            if not 0 <= self.lower < self.upper <= 100:
                raise EngineInputError(f"{where}: thresholds must satisfy 0 <= lower < upper <= 100")
        if self.kind == "per_capita" and (self.rate is None or self.rate < 0):
            raise EngineInputError(f"{where}.rate: a per_capita indicator needs a rate of 0 or more")
        _count(f"{where}.max_items", self.max_items)
        if self.kind == PER_ITEM and (self.amount_per_item is None or self.amount_per_item < 0):
            raise EngineInputError(f"{where}.amount_per_item: a per_item indicator needs an amount of 0 or more")
        if self.kind != PER_ITEM and (self.amount_per_item is not None or self.max_items is not None):
            raise EngineInputError(f"{where}: only a per_item indicator has an amount per item and a cap")
        if self.income_protected and self.kind not in POINT_KINDS:
            raise EngineInputError(f"{where}: only an indicator that earns points is income protected")
        if self.own_national_prevalence is not None:
            if self.kind != "fraction":
                raise EngineInputError(f"{where}: only a fraction indicator can carry its own prevalence")
            if self.own_national_prevalence <= 0:
                raise EngineInputError(f"{where}.own_national_prevalence: must be above 0")
        if self.group_national_prevalence is not None:
            if self.group_national_prevalence <= 0:
                raise EngineInputError(f"{where}.group_national_prevalence: must be above 0")
            if not self.group_code:
                raise EngineInputError(f"{where}: a prevalence-weighted group needs its group_code")


@dataclass(frozen=True)
class IndicatorValues:
    """One provider's extracted (or declared) values for one indicator; ``None`` is absent."""

    numerator: int | None = None
    denominator: int | None = None
    register: int | None = None
    yes: bool | None = None
    value: int | None = None  # count indicators: stored and shown, never paid
    count: int | None = None  # per_item indicators: the items claimed (FIELD_NAME Count)
    # Income protection: the provider's points for this indicator (or its protected_code) in the
    # protecting year's year-end calculation; None when there is none.  Read only for a rule that
    # is income_protected.
    protected_points: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("numerator", "denominator", "register", "value", "count"):
            _count(name, getattr(self, name))
        protected = _decimal("protected_points", self.protected_points, allow_none=True)
        if protected is not None and protected < 0:
            raise EngineInputError(f"protected_points: must not be negative, got {protected}")
        object.__setattr__(self, "protected_points", protected)
        if self.yes is not None and not isinstance(self.yes, bool):
            raise EngineInputError(f"yes: expected True, False or None, got {type(self.yes).__name__}")
        if self.numerator is not None and self.denominator is not None and self.numerator > self.denominator:
            raise EngineInputError(f"numerator {self.numerator} is above denominator {self.denominator}")


@dataclass(frozen=True)
class ProviderContext:
    """The provider and national figures a payment depends on."""

    list_size: int
    value_per_point: Decimal
    average_list_size: int | Fraction  # a Fraction once set nationally (sum of list sizes / practices)
    group_registers: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _count("list_size", self.list_size, allow_none=False)
        if not isinstance(self.average_list_size, Fraction):
            _count("average_list_size", self.average_list_size, allow_none=False)
        if self.average_list_size <= 0:
            raise EngineInputError("average_list_size: must be above 0")
        value_per_point = _decimal("value_per_point", self.value_per_point)
        if value_per_point < 0:
            raise EngineInputError("value_per_point: must not be negative")
        object.__setattr__(self, "value_per_point", value_per_point)
        registers = dict(self.group_registers)
        for group_code, register in registers.items():
            _count(f"group_registers[{group_code!r}]", register, allow_none=False)
        object.__setattr__(self, "group_registers", MappingProxyType(registers))


def rule_from_definition(indicator: IndicatorDef, group: GroupDef) -> IndicatorRule:
    """The engine's rule for an indicator, weighted by its group's national prevalence when the
    group has one (QOF APDF), or by its own (IIF).  The one mapping: ``indicator`` and ``group``
    are a parsed definition's, or the catalogue's rows (same attribute names)."""
    return IndicatorRule(
        code=indicator.code,
        kind=indicator.kind,
        points=indicator.points,
        lower=indicator.lower,
        upper=indicator.upper,
        rate=indicator.rate,
        own_national_prevalence=indicator.national_prevalence,
        group_code=group.code,
        group_national_prevalence=group.national_prevalence,
        amount_per_item=getattr(indicator, "amount_per_item", None),
        max_items=getattr(indicator, "max_items", None),
        income_protected=getattr(indicator, "income_protected", False),
    )


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorResult:
    """What one indicator earned. ``None`` means "does not apply to this kind"."""

    code: str
    kind: str
    points_available: Decimal
    earnable: bool  # False for a fraction with denominator 0 (or absent)
    achievement_percent: Decimal | None  # unrounded D (DISPLAY_PRECISION digits)
    achievement_display: Decimal | None  # D to 2 dp, half-up
    points: Decimal  # H to 2 dp, half-up
    amount: Decimal  # pounds to the penny, half-up
    cpi: Decimal | None  # unrounded; None where points are not paid (count, per_capita)
    apdf: Decimal | None  # unrounded; None where points are not paid
    patients_to_upper: int | None  # fraction: extra numerator patients to reach the upper threshold
    amount_at_stake: Decimal | None  # fraction: extra pounds if it reached the upper threshold
    # Income protection: True when the rule is income_protected.  ``points`` are then the
    # protected points when known (``protected_points``); ``achieved_points`` are what this year's
    # achievement alone would earn, shown beside them.  ``protection_missing``: protected, but no
    # calculation in the protecting year, so paid on this year's achievement.
    income_protected: bool = False
    protected_points: Decimal | None = None
    achieved_points: Decimal | None = None
    protection_missing: bool = False
    items_paid: int | None = None  # per_item: the items paid, min(Count, max_items)


@dataclass(frozen=True)
class PaymentResult:
    indicators: tuple[IndicatorResult, ...]
    total_points: Decimal  # sum of the rounded indicator points
    total_amount: Decimal  # sum of the rounded indicator amounts

    def indicator(self, code: str) -> IndicatorResult:
        for result in self.indicators:
            if result.code == code:
                return result
        raise KeyError(code)


# ---------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------


def _fraction_points(rule: IndicatorRule, achievement: Fraction) -> Fraction:
    """H = 0 if D <= E; G if D >= F; else (D - E) / (F - E) x G."""
    lower, upper, available = _exact(rule.lower), _exact(rule.upper), _exact(rule.points)
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
    return Fraction(register, context.list_size) / _exact(national)


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
            needed = math.ceil(_exact(rule.upper) * denominator / 100)
            patients_to_upper = max(0, needed - numerator)
    elif rule.kind == "register":
        points = _exact(rule.points) if (values.register or 0) > 0 else Fraction(0)
    elif rule.kind in ("yes_no", "tick_box"):
        points = _exact(rule.points) if values.yes is True else Fraction(0)

    achieved_points = round_points(points)
    protected = rule.income_protected and values.protected_points is not None
    rounded_points = round_points(values.protected_points) if protected else achieved_points
    cpi = apdf = None
    amount_at_stake = None
    if rule.kind in POINT_KINDS:
        cpi, apdf = _cpi(context), _apdf(rule, values, context)
        factor = _exact(context.value_per_point) * cpi * apdf
        amount = round_money(_exact(rounded_points) * factor)
        if earnable and rule.kind == "fraction" and not protected:  # achievement does not move a protected payment
            amount_at_stake = round_money(_exact(round_points(rule.points)) * factor) - amount
    elif rule.kind == "per_capita" and values.yes is True:
        amount = round_money(_exact(rule.rate) * context.list_size)
    elif rule.kind == PER_ITEM:
        items_paid = _items_claimed(values)
        if rule.max_items is not None:
            items_paid = min(items_paid, rule.max_items)
        amount = round_money(_exact(rule.amount_per_item) * items_paid)
    else:
        amount = round_money(Fraction(0))

    return IndicatorResult(
        code=rule.code,
        kind=rule.kind,
        points_available=round_points(rule.points),
        earnable=earnable,
        achievement_percent=None if achievement is None else _display(achievement),
        achievement_display=None if achievement is None else _round_half_up(achievement, 2),
        points=rounded_points,
        amount=amount,
        cpi=None if cpi is None else _display(cpi),
        apdf=None if apdf is None else _display(apdf),
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
    value = _decimal("percent", percent)
    if not 0 <= value <= 100:
        raise EngineInputError(f"percent: must be from 0 to 100, got {value}")
    return _exact(value) / 100


def aspiration_total(
    *, percent: Decimal, previous_payment: Decimal, value_per_point: Decimal, previous_value_per_point: Decimal
) -> Decimal:
    """A provider's aspiration for the year, to the penny: ``percent`` of its year-end achievement
    payment in the previous (``from``) service, uplifted by the change in the value of a point:
    round(percent / 100 x previous_payment x value_per_point / previous_value_per_point, 0.01)."""
    previous = _decimal("previous_payment", previous_payment)
    if previous < 0:
        raise EngineInputError("previous_payment: must not be negative")
    this_point = _decimal("value_per_point", value_per_point)
    that_point = _decimal("previous_value_per_point", previous_value_per_point)
    if this_point < 0 or that_point <= 0:
        raise EngineInputError("value_per_point must not be negative and previous_value_per_point must be above 0")
    return round_money(_percent(percent) * _exact(previous) * _exact(this_point) / _exact(that_point))


def aspiration_total_from_points(
    *, percent: Decimal, points: Decimal, value_per_point: Decimal, list_size: int, average_list_size: int
) -> Decimal:
    """The aspiration on points the commissioner agreed with the provider, to the penny:
    round(percent / 100 x points x value_per_point x CPI, 0.01), CPI = list size / national average."""
    agreed = _decimal("points", points)
    if agreed < 0:
        raise EngineInputError("points: must not be negative")
    context = ProviderContext(list_size=list_size, value_per_point=value_per_point, average_list_size=average_list_size)
    return round_money(_percent(percent) * _exact(agreed) * _exact(context.value_per_point) * _cpi(context))


def aspiration_instalments(total: Decimal) -> tuple[Decimal, ...]:
    """The twelve monthly payments of an aspiration total: each total / 12 to the penny (half-up),
    the last carrying the remainder, so they add up to the total exactly.  Where eleven rounded-up
    twelfths would pass the total (a total under about 66p), the twelfth is rounded down instead,
    so no instalment is negative."""
    amount = _decimal("total", total)
    if amount < 0:
        raise EngineInputError("total: must not be negative")
    exact = _exact(round_money(_exact(amount)))
    monthly = round_money(exact / ASPIRATION_MONTHS)
    if (ASPIRATION_MONTHS - 1) * _exact(monthly) > exact:
        monthly = Decimal(math.floor(exact / ASPIRATION_MONTHS * 100)).scaleb(-2)
    last = round_money(exact - (ASPIRATION_MONTHS - 1) * _exact(monthly))
    return (monthly,) * (ASPIRATION_MONTHS - 1) + (last,)
