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

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from participation.definitions import DEFAULT_REGISTER_FIELD, PAID_KINDS, TICK_BOX_KINDS, VALUE_FIELD
from participation.definitions.kinds import YES_NO_KINDS
from participation.models import Indicator, IndicatorKind, QualityService
from participation.national import FiguresInForce

from . import engine_batch
from .engine import (
    IndicatorRule,
    IndicatorValues,
    PaymentResult,
    ProviderContext,
    payment_calculate,
    rule_from_definition,
)

# Bump when the mapping below changes meaning, so every stored calculation is redone once.
MAPPING_VERSION = 2  # 2: the batch recalculation (ADR 0017)

# The kinds that appear in the payment export: paid as points, per capita or per item (PAID_KINDS).
EXPORTED_KINDS = PAID_KINDS


def register_field_of(indicator: Indicator) -> str | None:
    """The FIELD_NAME carrying the group's register, if this indicator carries it."""
    if indicator.kind == IndicatorKind.REGISTER:
        return indicator.register_field or DEFAULT_REGISTER_FIELD
    if indicator.kind == IndicatorKind.FRACTION and indicator.register_field:
        return indicator.register_field
    return None


def value_field_of(indicator: Indicator) -> str | None:
    """The FIELD_NAME a count-like indicator reads: its one field (``Value`` for a count, ``Count``
    for an item of service, the register a management-information row carries); None for the
    kinds that read named fields."""
    if indicator.kind in (IndicatorKind.FRACTION, IndicatorKind.REGISTER) or indicator.kind in YES_NO_KINDS:
        return None
    return indicator.fields[0] if indicator.fields else VALUE_FIELD


def values_from_fields(
    indicator: Indicator,
    fields: Mapping[str, int],
    *,
    tick_box_yes: bool | None = None,
    extra: Mapping[str, object] | None = None,
) -> IndicatorValues:
    """The engine's values for one indicator from its stored fields (and its tick-box answer)."""
    return engine_batch.indicator_values(
        kind=indicator.kind,
        register_field=register_field_of(indicator),
        value_field=value_field_of(indicator),
        fields=fields,
        answer=tick_box_yes if indicator.kind in TICK_BOX_KINDS else None,
        extra=extra,
    )


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
    """Everything one provider's calculation depends on, for the reference engine."""

    indicators: tuple[Indicator, ...]
    rules: tuple[IndicatorRule, ...]
    values: tuple[IndicatorValues, ...]
    list_size: int | None
    context: ProviderContext

    def calculate(self) -> PaymentResult:
        return payment_calculate(indicators=zip(self.rules, self.values, strict=True), context=self.context)


def inputs_build(
    *,
    service: QualityService,
    indicators: list[Indicator],
    fields_by_code: Mapping[str, Mapping[str, int]],
    tick_boxes: Mapping[str, bool],
    list_size: int | None,
    extras: Mapping[str, Mapping[str, object]] | None = None,
    rules: Sequence[IndicatorRule] | None = None,
    average_list_size: int | Fraction | None = None,
) -> CalculationInputs:
    """The engine inputs of one provider from its stored values (pure: no queries)."""
    if rules is None:
        rules = [rule_from_definition(indicator, indicator.group) for indicator in indicators]
    extras = extras or {}
    values = {
        indicator.code: values_from_fields(
            indicator,
            fields_by_code.get(indicator.code, {}),
            tick_box_yes=tick_boxes.get(indicator.code),
            extra=extras.get(indicator.code),
        )
        for indicator in indicators
    }
    context = ProviderContext(
        list_size=list_size or 0,
        value_per_point=service.value_per_point,
        average_list_size=service.average_list_size if average_list_size is None else average_list_size,
        group_registers=group_registers(indicators, values),
    )
    return CalculationInputs(
        indicators=tuple(indicators),
        rules=tuple(rules),
        values=tuple(values[indicator.code] for indicator in indicators),
        list_size=list_size,
        context=context,
    )


# ---------------------------------------------------------------------------------------------
# A service's compiled rules, and the hash of a provider's inputs
# ---------------------------------------------------------------------------------------------


def _text(value: object) -> object:
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, Mapping):
        return sorted((str(k), _text(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return [_text(v) for v in value]
    return value


@dataclass(frozen=True)
class ServiceRules:
    """A service's indicators, their engine rules (with the national figures in force for the
    achievement date, where set), the batch engine's plan and the fingerprint of all of them
    (every figure a payment depends on but the provider's own data)."""

    service: QualityService
    indicators: tuple[Indicator, ...]
    rules: tuple[IndicatorRule, ...]
    average_list_size: int | Fraction
    plan: engine_batch.ServicePlan
    fingerprint: str

    @property
    def by_id(self) -> dict[int, Indicator]:
        return {indicator.pk: indicator for indicator in self.indicators}


def service_rules(
    service: QualityService, indicators: Sequence[Indicator] | None = None, *, figures: FiguresInForce | None = None
) -> ServiceRules:
    """Compile a service's rules (one query for its indicators unless given).

    ``figures``: the national figures in force for the achievement date (``participation.national``):
    the average list size and each prevalence-weighted group's national prevalence are then
    theirs, exact, in place of the definition's (ADR 0021)."""
    indicators = tuple(service_indicators(service) if indicators is None else indicators)
    rules = tuple(rule_from_definition(indicator, indicator.group) for indicator in indicators)
    average: int | Fraction = service.average_list_size
    if figures is not None:
        average = figures.average_list_size
        prevalence = figures.prevalence
        rules = tuple(
            dataclasses.replace(rule, group_national_prevalence=prevalence[rule.group_code])
            if rule.group_national_prevalence is not None and rule.group_code in prevalence
            else rule
            for rule in rules
        )
    plan = engine_batch.plan_compile(
        indicators=[
            (indicator.pk, rule, register_field_of(indicator), value_field_of(indicator))
            for indicator, rule in zip(indicators, rules, strict=True)
        ],
        value_per_point=service.value_per_point,
        average_list_size=average,
    )
    payload = {
        "mapping": MAPPING_VERSION,
        "value_per_point": str(service.value_per_point),
        "average_list_size": str(average),
        "national_figures": None if figures is None else figures.figures_id,
        "indicators": [
            [indicator.pk, register_field_of(indicator), value_field_of(indicator),
             sorted((name, _text(value)) for name, value in dataclasses.asdict(rule).items())]
            for indicator, rule in zip(indicators, rules, strict=True)
        ],
    }
    fingerprint = hashlib.sha256(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()).hexdigest()
    return ServiceRules(
        service=service, indicators=indicators, rules=rules, average_list_size=average, plan=plan,
        fingerprint=fingerprint,
    )


def inputs_hash(
    *,
    fingerprint: str,
    values_digest: str | None,
    list_size: int | None,
    yes_answers: Mapping[str, bool],
    extras: Mapping[str, Mapping[str, object]] | None = None,
) -> str:
    """The hash of every input of one provider's calculation: the service's rules (their
    fingerprint), the digest of the current submission's values (``calculation_reads``), the list
    size, the tick-box answers that are Yes, and any further per-provider inputs.  Two
    calculations with the same hash have the same figures."""
    payload = "|".join(
        (
            fingerprint,
            values_digest or "-",
            "-" if list_size is None else str(list_size),
            ",".join(sorted(code for code, yes in yes_answers.items() if yes)),
            json.dumps(_text(extras or {}), separators=(",", ":")),
        )
    )
    return hashlib.sha256(payload.encode()).hexdigest()
