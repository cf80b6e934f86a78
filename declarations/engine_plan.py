"""The batch engine's plans (``declarations.engine_batch``): a service's rules compiled once per
batch into integer ratios, so that one indicator of one provider costs a few integer
multiplications and one floor division.

``plan_compile`` makes a ``ServicePlan`` (the figures every provider shares, and an
``IndicatorPlan`` per indicator in catalogue order); ``FAST_KINDS`` are the kinds compiled here,
the others are left to the reference engine (``fast=False``).  Pure Python over ``int`` and
``Decimal``: no ORM, no float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from participation.definitions.kinds import (
    COUNT,
    FRACTION,
    MANAGEMENT_INFORMATION,
    PER_CAPITA,
    POINT_KINDS,
    REGISTER,
    TICK_BOX,
    YES_NO,
)

from .engine import IndicatorRule, ProviderContext

__all__ = ["FAST_KINDS", "IndicatorPlan", "ServicePlan", "cents_decimal", "half_up", "plan_compile", "ratio"]

FAST_KINDS = frozenset({FRACTION, REGISTER, YES_NO, TICK_BOX, COUNT, MANAGEMENT_INFORMATION, PER_CAPITA})


def ratio(value: Decimal | Fraction) -> tuple[int, int]:
    numerator, denominator = value.as_integer_ratio()
    return numerator, denominator


def cents_decimal(value: int) -> Decimal:
    """An exact number of hundredths as a Decimal of 2 places (what the reference's rounding gives)."""
    return Decimal(value).scaleb(-2)


def half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) to a whole number, halves up; both >= 0, denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True, slots=True)
class IndicatorPlan:
    """One indicator's rule, compiled: integer coefficients of its formulas."""

    indicator_id: int
    prefix: str  # "<indicator id>\t", the start of its COPY line
    code: str
    kind: str
    rule: IndicatorRule
    fast: bool
    register_field: str | None  # the field carrying the group's register, if this one does
    value_field: str | None  # the field a count-like kind reads (None: ``Value``)
    value_fields: tuple[str | None, ...]  # fraction: (numerator, denominator, register) fields
    full_cents: int  # the available points in hundredths, rounded half-up
    points_available: Decimal
    # fraction: D <= E  <=>  100 n e_d <= e_n d;  D >= F  <=>  100 n f_d >= f_n d;
    # between: points x 100 = (n a - d b) c / (d dd), with a = 100 e_d, b = e_n, c = 100 f_d g_n,
    # dd = (f_n e_d - e_n f_d) g_d
    lower_num: int = 0
    lower_den: int = 1
    upper_num: int = 0
    upper_den: int = 1
    a: int = 0
    b: int = 0
    c: int = 0
    dd: int = 1
    prevalence: str = ""  # "", "group" or "own"
    group_code: str | None = None
    national_num: int = 1  # the national prevalence, as an integer ratio
    national_den: int = 1
    rate_num: int = 0  # per_capita: pounds a patient
    rate_den: int = 1


@dataclass(frozen=True, slots=True)
class ServicePlan:
    """A service's compiled rules and the figures every provider shares."""

    indicators: tuple[IndicatorPlan, ...]
    value_per_point: Decimal
    vpp_num: int
    vpp_den: int
    average_list_size: int | Fraction  # the definition's, or the national figures' (exact)
    average_num: int
    average_den: int
    pays_points: bool  # some indicator is paid in points (so a CPI is stored)
    field_names: frozenset[str]  # every FIELD_NAME an indicator's rule reads (the rest are only stored)
    registers: tuple[tuple[str, int, str], ...]  # (group code, indicator id, field), in order
    # The indicators' loop, generated with their figures in place on first use (``engine_codegen``).
    generated: dict = field(default_factory=dict, compare=False, repr=False)  # by the values' key names


def _compile(indicator_id: int, rule: IndicatorRule, register_field: str | None, value_field: str | None) -> IndicatorPlan:
    from participation.definitions.kinds import DENOMINATOR_FIELD, NUMERATOR_FIELD

    points_num, points_den = ratio(rule.points)
    full_cents = half_up(100 * points_num, points_den)
    common = {
        "indicator_id": indicator_id,
        "prefix": f"{indicator_id}\t",
        "code": rule.code,
        "kind": rule.kind,
        "rule": rule,
        "register_field": register_field,
        "value_field": value_field,
        "full_cents": full_cents,
        "points_available": cents_decimal(full_cents),
    }
    if rule.kind not in FAST_KINDS or getattr(rule, "income_protected", False):
        return IndicatorPlan(fast=False, value_fields=(), **common)
    extra: dict = {}
    extra["group_code"] = rule.group_code
    if rule.own_national_prevalence is not None:
        extra["prevalence"] = "own"
        extra["national_num"], extra["national_den"] = ratio(rule.own_national_prevalence)
    elif rule.group_national_prevalence is not None:
        extra["prevalence"] = "group"
        extra["national_num"], extra["national_den"] = ratio(rule.group_national_prevalence)
    if rule.kind == FRACTION:
        e_n, e_d = ratio(rule.lower)
        f_n, f_d = ratio(rule.upper)
        g_n, g_d = ratio(rule.points)
        extra.update(
            lower_num=e_n, lower_den=e_d, upper_num=f_n, upper_den=f_d,
            a=100 * e_d, b=e_n, c=100 * f_d * g_n, dd=(f_n * e_d - e_n * f_d) * g_d,
        )
    if rule.kind == PER_CAPITA:
        extra["rate_num"], extra["rate_den"] = ratio(rule.rate)
    fields = (NUMERATOR_FIELD, DENOMINATOR_FIELD, register_field) if rule.kind == FRACTION else ()
    return IndicatorPlan(fast=True, value_fields=fields, **common, **extra)


def plan_compile(
    *,
    indicators: Sequence[tuple[int, IndicatorRule, str | None, str | None]],
    value_per_point: Decimal,
    average_list_size: int | Fraction,
) -> ServicePlan:
    """A service's plan from its indicators in catalogue order: (id, rule, register field, value field)."""
    # The reference's checks of the shared figures, once (raises EngineInputError as it does).
    ProviderContext(list_size=0, value_per_point=value_per_point, average_list_size=average_list_size)
    plans = tuple(_compile(*indicator) for indicator in indicators)
    vpp_num, vpp_den = ratio(value_per_point)
    return ServicePlan(
        indicators=plans,
        value_per_point=value_per_point,
        vpp_num=vpp_num,
        vpp_den=vpp_den,
        average_list_size=average_list_size,
        average_num=average_list_size.numerator,
        average_den=average_list_size.denominator,
        pays_points=any(plan.kind in POINT_KINDS for plan in plans),
        field_names=frozenset(_fields_read(plans)),
        registers=tuple(
            (plan.rule.group_code, plan.indicator_id, plan.register_field)
            for plan in plans
            if plan.register_field is not None
        ),
    )


def _fields_read(plans: Sequence[IndicatorPlan]) -> set[str]:
    """The FIELD_NAMEs the rules read (``indicator_values``): a fraction's Numerator, Denominator
    and register field; a register's field; a yes/no's flag; another kind's value field."""
    from participation.definitions.kinds import DENOMINATOR_FIELD, NUMERATOR_FIELD, VALUE_FIELD, YES_NO_FIELD

    names: set[str] = set()
    for plan in plans:
        if plan.kind == FRACTION:
            names |= {NUMERATOR_FIELD, DENOMINATOR_FIELD}
        if plan.kind == YES_NO:
            names.add(YES_NO_FIELD)
        names.add(plan.value_field or VALUE_FIELD)
        if plan.register_field:
            names.add(plan.register_field)
    return names
