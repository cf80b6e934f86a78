"""The batch engine: a provider's payment in exact integer arithmetic, the same pence as the
reference engine (``declarations.engine``).

The reference engine stays the statement of the rules (docs/payment-rules.md); this module is
how a national recalculation affords them.  A service's rules are compiled once per batch
(``ServicePlan``): every Decimal of the definition becomes an integer ratio, and the quotients
the rules divide by are multiplied out, so that one indicator of one provider costs a few integer
multiplications and one floor division, where the reference builds and normalises a dozen
``Fraction`` objects.  Nothing is rounded but at the two rounding points of the project rule,
and a half is rounded up exactly: ``round_half_up(a / b) = (2a + b) // 2b`` for a, b >= 0 (a
value of exactly n.nn5 can never come out as n.nn4999...).  The unrounded ratios that are
stored (CPI and APDF, 12 places) are the reference's own Decimal division of the same exact
ratio, so they are the same digits.

Covered here: fraction, register, yes_no, tick_box, count and per_capita.  An indicator of any
other kind, or of a rule the plan cannot compile, is calculated by the reference engine's
``indicator_calculate`` (``Fallback`` per indicator), so a kind added to the reference is paid
the same in a batch, only slower.  Input the reference refuses (a negative count, a numerator
above its denominator) raises ``NeedsReference``: the caller calculates that provider with the
reference, which raises the reference's ``EngineInputError`` with its message.

Pure Python over ``int`` and ``Decimal``: no ORM, no float.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from participation.definitions.kinds import (
    COUNT,
    FRACTION,
    PER_CAPITA,
    POINT_KINDS,
    REGISTER,
    TICK_BOX,
    YES_NO,
)

from .engine import (
    _DISPLAY_CONTEXT,
    IndicatorRule,
    IndicatorValues,
    ProviderContext,
    indicator_calculate,
)

__all__ = ["FAST_KINDS", "RATIO_PLACES", "IndicatorPlan", "NeedsReference", "ProviderFigures", "ServicePlan",
           "indicator_values", "plan_compile", "provider_calculate", "stored_ratio"]

FAST_KINDS = frozenset({FRACTION, REGISTER, YES_NO, TICK_BOX, COUNT, PER_CAPITA})
RATIO_PLACES = Decimal("0.000000000001")  # 12 decimals: the stored CPI and APDF

# Stored fields' limits (declarations.models): a Decimal(d, 2) holds a value of fewer than d
# digits in pence; the check is only to send such a provider to the reference, which says why.
_POINTS_CENTS_LIMIT = 10**8  # IndicatorCalculation.points: max_digits 8
_AMOUNT_PENCE_LIMIT = 10**12  # amount, amount_at_stake: max_digits 12
_TOTAL_POINTS_CENTS_LIMIT = 10**10  # Calculation.total_points: max_digits 10
_RATIO_LIMIT = Decimal(10) ** 8 - Decimal(5).scaleb(-13)  # cpi, apdf: max_digits 20, 12 places
_POSITIVE_INTEGER_LIMIT = 2_147_483_647  # patients_to_upper, list_size


class NeedsReference(Exception):  # noqa: N818 - a signal, not an error
    """This provider's input is one the reference engine refuses: calculate it there, for its message."""


def _ratio(value: Decimal) -> tuple[int, int]:
    numerator, denominator = value.as_integer_ratio()
    return numerator, denominator


def _cents(value: int) -> Decimal:
    """An exact number of hundredths as a Decimal of 2 places (what the reference's rounding gives)."""
    return Decimal(value).scaleb(-2)


def stored_ratio(numerator: int, denominator: int) -> Decimal:
    """An unrounded ratio as stored: the reference's display division (28 significant digits),
    quantized to 12 places, as ``calculation_writes`` does to the reference's figures."""
    return _DISPLAY_CONTEXT.divide(Decimal(numerator), Decimal(denominator)).quantize(RATIO_PLACES)


@dataclass(frozen=True, slots=True)
class IndicatorPlan:
    """One indicator's rule, compiled: integer coefficients of its formulas."""

    indicator_id: int
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
    average_list_size: int
    pays_points: bool  # some indicator is paid in points (so a CPI is stored)
    registers: tuple[tuple[str, int, str], ...]  # (group code, indicator id, field), in order


def _compile(indicator_id: int, rule: IndicatorRule, register_field: str | None, value_field: str | None) -> IndicatorPlan:
    from participation.definitions.kinds import DENOMINATOR_FIELD, NUMERATOR_FIELD

    points_num, points_den = _ratio(rule.points)
    full_cents = _half_up(100 * points_num, points_den)
    common = {
        "indicator_id": indicator_id,
        "code": rule.code,
        "kind": rule.kind,
        "rule": rule,
        "register_field": register_field,
        "value_field": value_field,
        "full_cents": full_cents,
        "points_available": _cents(full_cents),
    }
    if rule.kind not in FAST_KINDS or getattr(rule, "income_protected", False):
        return IndicatorPlan(fast=False, value_fields=(), **common)
    extra: dict = {}
    if rule.own_national_prevalence is not None:
        extra["prevalence"] = "own"
        extra["national_num"], extra["national_den"] = _ratio(rule.own_national_prevalence)
    elif rule.group_national_prevalence is not None:
        extra["prevalence"] = "group"
        extra["national_num"], extra["national_den"] = _ratio(rule.group_national_prevalence)
    if rule.kind == FRACTION:
        e_n, e_d = _ratio(rule.lower)
        f_n, f_d = _ratio(rule.upper)
        g_n, g_d = _ratio(rule.points)
        extra.update(
            lower_num=e_n, lower_den=e_d, upper_num=f_n, upper_den=f_d,
            a=100 * e_d, b=e_n, c=100 * f_d * g_n, dd=(f_n * e_d - e_n * f_d) * g_d,
        )
    if rule.kind == PER_CAPITA:
        extra["rate_num"], extra["rate_den"] = _ratio(rule.rate)
    fields = (NUMERATOR_FIELD, DENOMINATOR_FIELD, register_field) if rule.kind == FRACTION else ()
    return IndicatorPlan(fast=True, value_fields=fields, **common, **extra)


def plan_compile(
    *,
    indicators: Sequence[tuple[int, IndicatorRule, str | None, str | None]],
    value_per_point: Decimal,
    average_list_size: int,
) -> ServicePlan:
    """A service's plan from its indicators in catalogue order: (id, rule, register field, value field)."""
    # The reference's checks of the shared figures, once (raises EngineInputError as it does).
    ProviderContext(list_size=0, value_per_point=value_per_point, average_list_size=average_list_size)
    plans = tuple(_compile(*indicator) for indicator in indicators)
    vpp_num, vpp_den = _ratio(value_per_point)
    return ServicePlan(
        indicators=plans,
        value_per_point=value_per_point,
        vpp_num=vpp_num,
        vpp_den=vpp_den,
        average_list_size=average_list_size,
        pays_points=any(plan.kind in POINT_KINDS for plan in plans),
        registers=tuple(
            (plan.rule.group_code, plan.indicator_id, plan.register_field)
            for plan in plans
            if plan.register_field is not None
        ),
    )


def _half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) to a whole number, halves up; both >= 0, denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(slots=True)
class ProviderFigures:
    """One provider's calculated figures, as stored.

    ``rows``: per indicator, in the plan's order, (indicator id, numerator, denominator, register,
    value, answer, achievement %, points, amount, apdf, patients to upper, amount at stake).
    """

    rows: list[tuple]
    total_points: Decimal
    total_amount: Decimal
    cpi: Decimal | None
    list_size: int | None


_ZERO = Decimal("0.00")


def _count(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise NeedsReference
    return value


def provider_calculate(
    *,
    plan: ServicePlan,
    fields: Mapping[int, Mapping[str, int]],
    yes_answers: Mapping[str, bool],
    list_size: int | None,
    extras: Mapping[str, Mapping[str, object]] | None = None,
) -> ProviderFigures:
    """One provider's figures by the plan: ``fields`` by indicator id ({field name: value}),
    ``yes_answers`` the tick-box answers by code (absent: No), ``list_size`` None when unknown,
    ``extras`` further inputs by indicator code (``indicator_values``).

    Raises ``NeedsReference`` for input the reference refuses, or figures beyond what is stored.
    """
    from participation.definitions.kinds import VALUE_FIELD, YES_NO_FIELD

    size = list_size or 0
    if size < 0 or size > _POSITIVE_INTEGER_LIMIT:
        raise NeedsReference
    average = plan.average_list_size
    empty: Mapping[str, int] = {}
    registers: dict[str, int] = {}
    for group_code, indicator_id, field in plan.registers:
        if group_code not in registers:
            register = fields.get(indicator_id, empty).get(field)
            if register is not None:
                registers[group_code] = _count(register)
    # pence = points in hundredths x factor_num / factor_den (0 when the factor is 0)
    base_num, base_den = plan.vpp_num * size, plan.vpp_den * average
    group_factors: dict[str, tuple[int, int]] = {}
    ratio_cache: dict[tuple[int, int], Decimal] = {}

    def apdf_of(register: int, national_num: int, national_den: int) -> tuple[int, int]:
        if size == 0 or register == 0:
            return 0, 1
        return register * national_den, size * national_num

    def stored(num: int, den: int) -> Decimal:
        key = (num, den)
        value = ratio_cache.get(key)
        if value is None:
            value = ratio_cache[key] = stored_ratio(num, den)
            if not -_RATIO_LIMIT < value < _RATIO_LIMIT:
                raise NeedsReference
        return value

    rows: list[tuple] = []
    total_cents = 0
    total_pence = 0
    context: ProviderContext | None = None
    for item in plan.indicators:
        kind = item.kind
        indicator_fields = fields.get(item.indicator_id, empty)
        if not item.fast:
            if context is None:
                context = ProviderContext(
                    list_size=size, value_per_point=plan.value_per_point, average_list_size=average,
                    group_registers=registers,
                )
            extra = extras.get(item.code) if extras else None
            rows.append(_reference_row(item, indicator_fields, yes_answers.get(item.code), extra, context))
            total_cents += int(rows[-1][7] * 100)
            total_pence += int(rows[-1][8] * 100)
            continue
        numerator = denominator = register = value = answer = None
        percent = apdf = patients = at_stake = None
        cents = pence = 0
        if kind == FRACTION:
            numerator = _count(indicator_fields.get(item.value_fields[0]))
            denominator = _count(indicator_fields.get(item.value_fields[1]))
            if item.value_fields[2] is not None:
                register = _count(indicator_fields.get(item.value_fields[2]))
            if numerator is not None and denominator is not None and numerator > denominator:
                raise NeedsReference
            earnable = numerator is not None and bool(denominator)
            if earnable:
                n, d = numerator, denominator
                percent = _cents(_half_up(10_000 * n, d))
                if 100 * n * item.lower_den <= item.lower_num * d:
                    cents = 0
                elif 100 * n * item.upper_den >= item.upper_num * d:
                    cents = item.full_cents
                else:
                    cents = _half_up((n * item.a - d * item.b) * item.c, d * item.dd)
                needed = -((-item.upper_num * d) // (item.upper_den * 100))
                patients = max(0, needed - n)
                if patients > _POSITIVE_INTEGER_LIMIT:
                    raise NeedsReference
        elif kind == REGISTER:
            register = _count(indicator_fields.get(item.register_field))
            cents = item.full_cents if (register or 0) > 0 else 0
        elif kind == YES_NO:
            flag = indicator_fields.get(YES_NO_FIELD)
            answer = None if flag is None else flag > 0
            cents = item.full_cents if answer is True else 0
        elif kind == TICK_BOX or kind == PER_CAPITA:
            answer = yes_answers.get(item.code)
            if kind == TICK_BOX:
                cents = item.full_cents if answer is True else 0
        else:  # count
            value = _count(indicator_fields.get(item.value_field or VALUE_FIELD))

        if kind in POINT_KINDS:
            if item.prevalence == "own":
                apdf_num, apdf_den = apdf_of(denominator or 0, item.national_num, item.national_den)
            elif item.prevalence == "group":
                apdf_num, apdf_den = apdf_of(registers.get(item.rule.group_code, 0), item.national_num, item.national_den)
            else:
                apdf_num, apdf_den = 1, 1
            apdf = stored(apdf_num, apdf_den)
            if item.prevalence == "group":
                factor = group_factors.get(item.rule.group_code)
                if factor is None:
                    factor = group_factors[item.rule.group_code] = (base_num * apdf_num, base_den * apdf_den)
            else:
                factor = (base_num * apdf_num, base_den * apdf_den)
            pence = _half_up(cents * factor[0], factor[1])
            if kind == FRACTION and earnable:
                at_stake_pence = _half_up(item.full_cents * factor[0], factor[1]) - pence
                if at_stake_pence >= _AMOUNT_PENCE_LIMIT:
                    raise NeedsReference
                at_stake = _cents(at_stake_pence)
        elif kind == PER_CAPITA and answer is True:
            pence = _half_up(item.rate_num * size * 100, item.rate_den)
        if cents >= _POINTS_CENTS_LIMIT or pence >= _AMOUNT_PENCE_LIMIT:
            raise NeedsReference
        total_cents += cents
        total_pence += pence
        rows.append(
            (item.indicator_id, numerator, denominator, register, value, answer, percent,
             _cents(cents), _cents(pence), apdf, patients, at_stake)
        )
    if total_cents >= _TOTAL_POINTS_CENTS_LIMIT or total_pence >= _AMOUNT_PENCE_LIMIT:
        raise NeedsReference
    return ProviderFigures(
        rows=rows,
        total_points=_cents(total_cents),
        total_amount=_cents(total_pence),
        cpi=stored(size, average) if plan.pays_points else None,
        list_size=list_size,
    )


def indicator_values(
    *, kind: str, register_field: str | None, value_field: str | None, fields: Mapping[str, int],
    answer: bool | None, extra: Mapping[str, object] | None = None,
) -> IndicatorValues:
    """The engine's values for one indicator from its stored fields (and its tick-box answer):
    the one mapping, for the reference and the batch alike.

    a fraction reads ``Numerator`` and ``Denominator`` (and its register field); a register its
    register field; a yes/no ``Yes/No Flag`` (above 0 is Yes); tick-box and per-capita kinds the
    provider's answer; any other kind its value field (``Value`` for a count).  ``extra``: further
    per-provider inputs of the rule (e.g. income protection's points), as IndicatorValues fields.
    """
    from participation.definitions.kinds import (
        DENOMINATOR_FIELD,
        NUMERATOR_FIELD,
        TICK_BOX_KINDS,
        VALUE_FIELD,
        YES_NO_FIELD,
    )

    extra = dict(extra or {})
    if kind == FRACTION:
        return IndicatorValues(
            numerator=fields.get(NUMERATOR_FIELD),
            denominator=fields.get(DENOMINATOR_FIELD),
            register=fields.get(register_field) if register_field else None,
            **extra,
        )
    if kind == REGISTER:
        return IndicatorValues(register=fields.get(register_field), **extra)
    if kind == YES_NO:
        flag = fields.get(YES_NO_FIELD)
        return IndicatorValues(yes=None if flag is None else flag > 0, **extra)
    if kind in TICK_BOX_KINDS:
        return IndicatorValues(yes=answer, **extra)
    return IndicatorValues(value=fields.get(value_field or VALUE_FIELD), **extra)


def _reference_row(
    item: IndicatorPlan, fields: Mapping[str, int], answer: bool | None, extra, context: ProviderContext
) -> tuple:
    """An indicator this module does not compile: the reference engine's figures."""
    values = indicator_values(
        kind=item.kind, register_field=item.register_field, value_field=item.value_field, fields=fields,
        answer=answer, extra=extra,
    )
    result = indicator_calculate(rule=item.rule, values=values, context=context)
    if result.points * 100 >= _POINTS_CENTS_LIMIT or abs(result.amount) * 100 >= _AMOUNT_PENCE_LIMIT:
        raise NeedsReference
    return (
        item.indicator_id, values.numerator, values.denominator, values.register, values.value, values.yes,
        result.achievement_display, result.points, result.amount,
        None if result.apdf is None else result.apdf.quantize(RATIO_PLACES),
        result.patients_to_upper, result.amount_at_stake,
    )
