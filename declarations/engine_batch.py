"""The batch engine: a provider's payment in exact integer arithmetic, the same pence as the
reference engine (``declarations.engine``).

The reference engine stays the statement of the rules (docs/payment-rules.md); this module is
how a national recalculation affords them.  A service's rules are compiled once per batch
(``ServicePlan``, ``declarations.engine_plan``): every Decimal of the definition becomes an
integer ratio, and the quotients the rules divide by are multiplied out, so that one indicator
of one provider costs a few integer multiplications and one floor division, where the reference
builds and normalises a dozen ``Fraction`` objects.  Nothing is rounded but at the two rounding points of the project rule,
and a half is rounded up exactly: ``round_half_up(a / b) = (2a + b) // 2b`` for a, b >= 0 (a
value of exactly n.nn5 can never come out as n.nn4999...).  The unrounded ratios that are
stored (CPI and APDF, 12 places) are the reference's own Decimal division of the same exact
ratio, so they are the same digits.

Covered here: fraction, register, yes_no, tick_box, count, management_information and per_capita.  An indicator of any
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

from participation.definitions.field_keys import FieldKeys
from participation.definitions.kinds import (
    FRACTION,
    REGISTER,
    YES_NO,
)

from .engine import (
    _DISPLAY_CONTEXT,
    IndicatorValues,
    ProviderContext,
    indicator_calculate,
)
from .engine_codegen import NeedsReference, provider_function
from .engine_plan import FAST_KINDS, IndicatorPlan, ServicePlan, cents_decimal, plan_compile

__all__ = ["COPY_COLUMNS", "FAST_KINDS", "RATIO_PLACES", "IndicatorPlan", "NeedsReference", "ProviderFigures",
           "ServicePlan", "copy_line", "indicator_values", "plan_compile", "provider_calculate", "stored_ratio"]

RATIO_PLACES = Decimal("0.000000000001")  # 12 decimals: the stored CPI and APDF

# Stored fields' limits (declarations.models): a Decimal(d, 2) holds a value of fewer than d
# digits in pence; the check is only to send such a provider to the reference, which says why.
_POINTS_CENTS_LIMIT = 10**8  # IndicatorCalculation.points: max_digits 8
_AMOUNT_PENCE_LIMIT = 10**12  # amount, amount_at_stake: max_digits 12
_TOTAL_POINTS_CENTS_LIMIT = 10**10  # Calculation.total_points: max_digits 10
_RATIO_LIMIT = Decimal(10) ** 8 - Decimal(5).scaleb(-13)  # cpi, apdf: max_digits 20, 12 places
_POSITIVE_INTEGER_LIMIT = 2_147_483_647  # patients_to_upper, list_size


def stored_ratio(numerator: int, denominator: int) -> Decimal:
    """An unrounded ratio as stored: the reference's display division (28 significant digits),
    quantized to 12 places, as ``calculation_writes`` does to the reference's figures."""
    return _DISPLAY_CONTEXT.divide(Decimal(numerator), Decimal(denominator)).quantize(RATIO_PLACES)


@dataclass(slots=True)
class ProviderFigures:
    """One provider's calculated figures, as stored.

    ``lines``: per indicator, in the plan's order, its stored result as a line of PostgreSQL's
    ``COPY`` text (``COPY_COLUMNS`` after the calculation id, tab-separated, ``NULL`` for none), the
    form a national recalculation writes in; ``amounts``: its pence, for what changed.
    """

    lines: list[str]
    amounts: list[int]
    total_cents: int
    total_pence: int
    cpi: Decimal | None
    list_size: int | None

    @property
    def total_points(self) -> Decimal:
        return cents_decimal(self.total_cents)

    @property
    def total_amount(self) -> Decimal:
        return cents_decimal(self.total_pence)

    def rows(self) -> list[tuple]:
        """The lines as values (``COPY_COLUMNS`` after the calculation id): for writers without COPY."""
        return [self.parse_line(line) for line in self.lines]

    @staticmethod
    def parse_line(line: str) -> tuple:
        """One line's values (``COPY_COLUMNS``)."""
        return tuple(_parse(text, kind) for text, kind in zip(line.split("\t"), _COLUMN_KINDS, strict=True))


# The stored columns of an indicator result, in ``COPY`` order after the calculation id.
COPY_COLUMNS = (
    "indicator_id", "numerator", "denominator", "register", "value", "answer", "achievement_percent", "points",
    "amount", "apdf", "patients_to_upper", "amount_at_stake",
)
_COLUMN_KINDS = ("int", "int", "int", "int", "int", "bool", "dec", "dec", "dec", "dec", "int", "dec")
NULL = "\\N"


def _parse(text: str, kind: str):
    if text == NULL:
        return None
    if kind == "int":
        return int(text)
    if kind == "bool":
        return text == "t"
    return Decimal(text)


def _text(value) -> str:
    """A stored value as COPY text: None is ``NULL``, a bool ``t``/``f``, else its str."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def copy_line(values: Sequence) -> str:
    """One indicator result (``COPY_COLUMNS`` values) as a line of COPY text."""
    return "\t".join(_text(value) for value in values)


def _count(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise NeedsReference
    return value


def provider_calculate(
    *,
    plan: ServicePlan,
    fields: Mapping[int, Mapping[str, int]] | None = None,
    values: Mapping[int, int] | None = None,
    keys: FieldKeys | None = None,
    yes_answers: Mapping[str, bool],
    list_size: int | None,
    extras: Mapping[str, Mapping[str, object]] | None = None,
) -> ProviderFigures:
    """One provider's figures by the plan: its values either as ``values`` keyed by ``keys``
    ({key: value}, ``FieldKeys``: what a batch reads) or as ``fields`` by indicator id ({field
    name: value}); ``yes_answers`` the tick-box answers by code (absent: No), ``list_size`` None
    when unknown, ``extras`` further inputs by indicator code (``indicator_values``).

    Raises ``NeedsReference`` for input the reference refuses, or figures beyond what is stored.
    """
    if values is None or keys is None:
        keys = FieldKeys.of(plan.field_names)
        values = keys.flat(fields or {})
    size = list_size or 0
    if size < 0 or size > _POSITIVE_INTEGER_LIMIT:
        raise NeedsReference
    average = plan.average_list_size
    provider_lines, register_keys = provider_function(plan, keys)
    registers: dict[str, int] = {}
    for group_code, key in register_keys:
        if group_code not in registers:
            register = values.get(key)
            if register is not None:
                registers[group_code] = _count(register)
    # pence = points in hundredths x factor_num / factor_den (0 when the factor is 0)
    # CPI = size / average = size x average_den / average_num
    base_num, base_den = plan.vpp_num * size * plan.average_den, plan.vpp_den * plan.average_num
    factors: dict[object, tuple[int, int, str]] = {}  # (num, den, apdf text) by group code or (own, register)

    def factor_of(key, register: int, national_num: int, national_den: int) -> tuple[int, int, str]:
        """£/point x CPI x APDF as an integer ratio, and the stored APDF; key None: not weighted."""
        found = factors.get(key)
        if found is None:
            if key is None:
                apdf_num, apdf_den = 1, 1
            elif size == 0 or register == 0:
                apdf_num, apdf_den = 0, 1
            else:
                apdf_num, apdf_den = register * national_den, size * national_num
            apdf = stored_ratio(apdf_num, apdf_den)
            if not -_RATIO_LIMIT < apdf < _RATIO_LIMIT:
                raise NeedsReference
            found = factors[key] = (base_num * apdf_num, base_den * apdf_den, str(apdf))
        return found

    context: ProviderContext | None = None

    def slow(index: int) -> tuple[str, int, int]:
        """An indicator the plan does not compile: the reference engine's line, cents and pence."""
        nonlocal context
        item = plan.indicators[index]
        if context is None:
            context = ProviderContext(
                list_size=size, value_per_point=plan.value_per_point, average_list_size=average,
                group_registers=registers,
            )
        extra = extras.get(item.code) if extras else None
        named = keys.of_indicator(values, item.indicator_id)
        return _reference_line(item, named, yes_answers.get(item.code), extra, context)

    # The indicators, in the plan's order, by the plan's generated loop (``engine_codegen``).
    lines, amounts, total_cents, total_pence = provider_lines(
        values.get, yes_answers, registers, factors, factor_of, slow, size
    )
    if total_cents >= _TOTAL_POINTS_CENTS_LIMIT or total_pence >= _AMOUNT_PENCE_LIMIT:
        raise NeedsReference
    cpi = None
    if plan.pays_points:
        cpi = stored_ratio(size * plan.average_den, plan.average_num)
        if not -_RATIO_LIMIT < cpi < _RATIO_LIMIT:
            raise NeedsReference
    return ProviderFigures(
        lines=lines, amounts=amounts, total_cents=total_cents, total_pence=total_pence, cpi=cpi, list_size=list_size
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


def _reference_line(
    item: IndicatorPlan, fields: Mapping[str, int], answer: bool | None, extra, context: ProviderContext
) -> tuple[str, int, int]:
    """An indicator this module does not compile: the reference engine's figures, as a COPY line,
    its points in hundredths and its pence."""
    values = indicator_values(
        kind=item.kind, register_field=item.register_field, value_field=item.value_field, fields=fields,
        answer=answer, extra=extra,
    )
    result = indicator_calculate(rule=item.rule, values=values, context=context)
    cents, pence = int(result.points * 100), int(result.amount * 100)
    if not 0 <= cents < _POINTS_CENTS_LIMIT or not 0 <= pence < _AMOUNT_PENCE_LIMIT:
        raise NeedsReference
    line = copy_line((
        item.indicator_id, values.numerator, values.denominator, values.register, values.value, values.yes,
        result.achievement_display, result.points, result.amount,
        None if result.apdf is None else result.apdf.quantize(RATIO_PLACES),
        result.patients_to_upper, result.amount_at_stake,
    ))
    return line, cents, pence
