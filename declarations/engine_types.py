"""The payment engine's inputs and results: an indicator's rule (``IndicatorRule``, made from a
definition by ``rule_from_definition``), a provider's values for it (``IndicatorValues``), the
provider and national figures (``ProviderContext``), and what an indicator and a provider earned
(``IndicatorResult``, ``PaymentResult``).

The inputs check themselves on construction and refuse corrupt input with ``EngineInputError``;
pure Python, like the rules that use them (``declarations.engine``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING

# The schema's words, named once (pure Python, like the engine).
from participation.definitions.kinds import INDICATOR_KINDS, MANAGEMENT_INFORMATION, PER_ITEM, POINT_KINDS

from .engine_arithmetic import EngineInputError, as_count, as_decimal, as_national

if TYPE_CHECKING:  # the engine does not depend on the catalogue's objects at run time
    from participation.definitions import GroupDef, IndicatorDef


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
            check = as_national if name == "group_national_prevalence" else as_decimal
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
        as_count(f"{where}.max_items", self.max_items)
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
            as_count(name, getattr(self, name))
        protected = as_decimal("protected_points", self.protected_points, allow_none=True)
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
        as_count("list_size", self.list_size, allow_none=False)
        if not isinstance(self.average_list_size, Fraction):
            as_count("average_list_size", self.average_list_size, allow_none=False)
        if self.average_list_size <= 0:
            raise EngineInputError("average_list_size: must be above 0")
        value_per_point = as_decimal("value_per_point", self.value_per_point)
        if value_per_point < 0:
            raise EngineInputError("value_per_point: must not be negative")
        object.__setattr__(self, "value_per_point", value_per_point)
        registers = dict(self.group_registers)
        for group_code, register in registers.items():
            as_count(f"group_registers[{group_code!r}]", register, allow_none=False)
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
