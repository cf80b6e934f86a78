"""From stored achievement to the engine's inputs: rules, values, provider context and their hash.

The engine (``declarations.engine``) knows nothing of the ORM; this module is the one place that
maps catalogue rows (``Indicator``, ``IndicatorGroup``, ``QualityService``) and the achievement
selectors' values to engine inputs:

- a fraction reads ``Numerator`` and ``Denominator``; a register reads its ``register_field``
  ("Register" when unnamed); a yes/no reads ``Yes/No Flag`` (above 0 is Yes); a count reads
  ``Value``;
- tick-box and per-capita indicators read the provider's Yes/No from the tick-box selector (which
  defaults to No and carries a Yes forward), never from the extract;
- a prevalence group's register is the value of its register indicator's register field (a
  register indicator, or a fraction naming a ``register_field`` such as DEP004);
- the list size is the provider's registered list size on the achievement date (none known: 0,
  so no money, per the engine's rule).

``inputs_hash`` covers every one of these inputs, so two calculations with the same hash have the
same figures and recalculating unchanged data can skip every write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from participation.definitions import (
    DEFAULT_REGISTER_FIELD,
    DENOMINATOR_FIELD,
    NUMERATOR_FIELD,
    PAID_KINDS,
    TICK_BOX_KINDS,
    VALUE_FIELD,
    YES_NO_FIELD,
)
from participation.models import Indicator, IndicatorKind, QualityService

from .engine import (
    IndicatorRule,
    IndicatorValues,
    PaymentResult,
    ProviderContext,
    payment_calculate,
    rule_from_definition,
)

# Bump when the mapping below changes meaning, so every stored calculation is redone once.
MAPPING_VERSION = 1

# The kinds that appear in the payment export: paid as points, or per capita.
EXPORTED_KINDS = PAID_KINDS


def register_field_of(indicator: Indicator) -> str | None:
    """The FIELD_NAME carrying the group's register, if this indicator carries it."""
    if indicator.kind == IndicatorKind.REGISTER:
        return indicator.register_field or DEFAULT_REGISTER_FIELD
    if indicator.kind == IndicatorKind.FRACTION and indicator.register_field:
        return indicator.register_field
    return None


def values_from_fields(
    indicator: Indicator, fields: Mapping[str, int], *, tick_box_yes: bool | None = None
) -> IndicatorValues:
    """The engine's values for one indicator from its stored fields (and its tick-box answer)."""
    kind = indicator.kind
    if kind == IndicatorKind.FRACTION:
        register_field = register_field_of(indicator)
        return IndicatorValues(
            numerator=fields.get(NUMERATOR_FIELD),
            denominator=fields.get(DENOMINATOR_FIELD),
            register=fields.get(register_field) if register_field else None,
        )
    if kind == IndicatorKind.REGISTER:
        return IndicatorValues(register=fields.get(register_field_of(indicator)))
    if kind == IndicatorKind.YES_NO:
        flag = fields.get(YES_NO_FIELD)
        return IndicatorValues(yes=None if flag is None else flag > 0)
    if kind in TICK_BOX_KINDS:
        return IndicatorValues(yes=tick_box_yes)
    return IndicatorValues(value=fields.get(VALUE_FIELD))


def group_registers(indicators: Iterable[Indicator], values: Mapping[str, IndicatorValues]) -> dict[str, int]:
    """Each group's register: the register field of the group's register indicator, where stored."""
    registers: dict[str, int] = {}
    for indicator in indicators:
        if register_field_of(indicator) is None or indicator.group.code in registers:
            continue
        register = values[indicator.code].register
        if register is not None:
            registers[indicator.group.code] = register
    return registers


def service_indicators(service: QualityService) -> list[Indicator]:
    """Every indicator of the service, in the catalogue's order, with its group (one query)."""
    return list(
        Indicator.objects.filter(service=service)
        .select_related("group")
        .order_by("group__domain__position", "group__position", "position", "pk")
    )


@dataclass(frozen=True)
class CalculationInputs:
    """Everything one provider's calculation depends on, and its hash."""

    indicators: tuple[Indicator, ...]
    rules: tuple[IndicatorRule, ...]
    values: tuple[IndicatorValues, ...]
    list_size: int | None
    context: ProviderContext

    def calculate(self) -> PaymentResult:
        return payment_calculate(indicators=zip(self.rules, self.values, strict=True), context=self.context)

    @property
    def inputs_hash(self) -> str:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        payload = {
            "mapping": MAPPING_VERSION,
            "value_per_point": text(self.context.value_per_point),
            "average_list_size": self.context.average_list_size,
            "list_size": self.list_size,
            "registers": sorted(self.context.group_registers.items()),
            "indicators": [
                [
                    indicator.pk,
                    rule.code,
                    rule.kind,
                    text(rule.points),
                    text(rule.lower),
                    text(rule.upper),
                    text(rule.rate),
                    text(rule.own_national_prevalence),
                    rule.group_code,
                    text(rule.group_national_prevalence),
                    values.numerator,
                    values.denominator,
                    values.register,
                    values.yes,
                    values.value,
                ]
                for indicator, rule, values in zip(self.indicators, self.rules, self.values, strict=True)
            ],
        }
        encoded = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()


def inputs_build(
    *,
    service: QualityService,
    indicators: list[Indicator],
    fields_by_code: Mapping[str, Mapping[str, int]],
    tick_boxes: Mapping[str, bool],
    list_size: int | None,
) -> CalculationInputs:
    """The engine inputs of one provider from its stored values (pure: no queries)."""
    rules = tuple(rule_from_definition(indicator, indicator.group) for indicator in indicators)
    values = {
        indicator.code: values_from_fields(
            indicator, fields_by_code.get(indicator.code, {}), tick_box_yes=tick_boxes.get(indicator.code)
        )
        for indicator in indicators
    }
    context = ProviderContext(
        list_size=list_size or 0,
        value_per_point=service.value_per_point,
        average_list_size=service.average_list_size,
        group_registers=group_registers(indicators, values),
    )
    return CalculationInputs(
        indicators=tuple(indicators),
        rules=rules,
        values=tuple(values[indicator.code] for indicator in indicators),
        list_size=list_size,
        context=context,
    )


def tick_box_answers(*, achievement, indicators: Iterable[Indicator]) -> dict[str, bool]:
    """The provider's Yes/No per tick-box or per-capita indicator (default No, Yes carried forward)."""
    wanted = [indicator for indicator in indicators if indicator.kind in TICK_BOX_KINDS]
    if not wanted:
        return {}
    from achievement import selectors as achievement_selectors  # the ingestion's read contract

    return achievement_selectors.tick_box_values(
        provider_id=achievement.provider_id,
        achievement_date_id=achievement.achievement_date_id,
        indicator_ids=[indicator.pk for indicator in wanted],
    )
