"""The schema of a service's catalogue (docs/service-definition-schema.md) as pydantic models: its
domains, their groups and their indicators, each checking its own keys and the rules that compare
them (a fraction's thresholds, the keys each kind of indicator takes, a prevalence-weighted group's
one register), and building the frozen dataclasses of ``objects``.

``StrictMapping`` is the base of every model of the schema (this one and ``schema``'s): a YAML
mapping with exactly the keys of its model.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StrictBool, model_validator

from .errors import Problems, describe, refuse
from .kinds import (
    AUTOMATIC,
    FRACTION,
    PER_CAPITA,
    PER_ITEM,
    POINT_KINDS,
    REGISTER,
    TICK_BOX,
    default_fields,
)
from .objects import DomainDef, GroupDef, IndicatorDef
from .scalars import (
    Code,
    DecimalString,
    EntryKind,
    FieldNames,
    IndicatorKind,
    NonEmptyList,
    Number,
    Points,
    PositiveWholeNumber,
    Proportion,
    Text,
)


class StrictMapping(BaseModel):
    """A YAML mapping with exactly the keys of its model; a key given as nothing (``~``) is absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            refuse(f"must be a mapping, got {describe(data)}")
        for key in data:
            if not isinstance(key, str):
                refuse(f"keys must be strings, got {describe(key)}")
        return {key: value for key, value in data.items() if value is not None}


class IndicatorSchema(StrictMapping):
    code: Code
    name: Text
    kind: IndicatorKind
    entry: EntryKind = AUTOMATIC
    carry_forward: StrictBool = False
    points: Points | None = None
    lower: Number | None = None
    upper: Number | None = None
    register_field: Text | None = None
    national_prevalence: Proportion | None = None
    rate: DecimalString | None = None
    amount_per_item: DecimalString | None = None
    max_items: PositiveWholeNumber | None = None
    fields: FieldNames | None = None
    income_protected: StrictBool = False
    protected_code: Code | None = None

    @property
    def provides_register(self) -> bool:
        return self.kind == REGISTER or (self.kind == FRACTION and self.register_field is not None)

    @model_validator(mode="after")
    def _keys_fit_the_kind(self) -> IndicatorSchema:
        kind, problems = self.kind, Problems()
        if self.points and kind not in POINT_KINDS:
            problems.add(f"a {kind} indicator earns no points (omit points or give 0)", "points")
        if kind == FRACTION:
            for key in ("lower", "upper"):
                value = getattr(self, key)
                if value is None:
                    problems.add("is required for a fraction indicator", key)
                elif not Decimal(0) <= value <= Decimal(100):
                    problems.add(f"must be a percentage from 0 to 100, got {value}", key)
            if self.lower is not None and self.upper is not None and self.upper <= self.lower:
                problems.add("must be above lower", "upper")
        else:
            for key in ("lower", "upper"):
                if getattr(self, key) is not None:
                    problems.add(f"only a fraction indicator has thresholds, not a {kind}", key)
        if self.register_field is not None and kind not in (REGISTER, FRACTION):
            problems.add(
                f"only a register (or fraction) indicator has a register field, not a {kind}", "register_field"
            )
        if self.national_prevalence is not None and kind != FRACTION:
            problems.add(
                f"only a fraction indicator has its own national_prevalence, not a {kind}", "national_prevalence"
            )
        if self.rate is None and kind == PER_CAPITA:
            problems.add("is required", "rate")
        elif self.rate is not None and kind != PER_CAPITA:
            problems.add(f"only a per_capita indicator has a rate, not a {kind}", "rate")
        elif self.rate is not None and self.rate <= 0:
            problems.add(f"must be above 0, got {self.rate}", "rate")
        if self.amount_per_item is None and kind == PER_ITEM:
            problems.add("is required", "amount_per_item")
        elif self.amount_per_item is not None and kind != PER_ITEM:
            problems.add(f"only a per_item indicator has an amount_per_item, not a {kind}", "amount_per_item")
        elif self.amount_per_item is not None and self.amount_per_item <= 0:
            problems.add(f"must be above 0, got {self.amount_per_item}", "amount_per_item")
        elif self.amount_per_item is not None and self.amount_per_item != self.amount_per_item.quantize(
            Decimal("0.01")
        ):
            problems.add(f"must be pounds and pence (at most 2 decimal places), got {self.amount_per_item}",
                         "amount_per_item")
        if self.max_items is not None and kind != PER_ITEM:
            problems.add(f"only a per_item indicator has max_items, not a {kind}", "max_items")
        if self.carry_forward and kind != TICK_BOX:
            problems.add(f"only a tick_box indicator carries forward, not a {kind}", "carry_forward")
        if self.income_protected and kind not in POINT_KINDS:
            problems.add(f"only an indicator that earns points is income protected, not a {kind}", "income_protected")
        if self.protected_code is not None and not self.income_protected:
            problems.add("only an income_protected indicator has a protected_code", "protected_code")
        problems.raise_any()
        return self

    def to_definition(self) -> IndicatorDef:
        return IndicatorDef(
            code=self.code,
            name=self.name,
            kind=self.kind,
            points=self.points if self.points is not None else Decimal(0),
            lower=self.lower,
            upper=self.upper,
            register_field=self.register_field,
            national_prevalence=self.national_prevalence,
            rate=self.rate,
            amount_per_item=self.amount_per_item,
            max_items=self.max_items,
            entry=self.entry,
            carry_forward=self.carry_forward,
            fields=self.fields or default_fields(self.kind, self.register_field),
            income_protected=self.income_protected,
            protected_code=self.protected_code,
        )


class GroupSchema(StrictMapping):
    code: Code
    name: Text
    sub_domain: Text | None = None
    national_prevalence: Proportion | None = None
    indicators: Annotated[list[IndicatorSchema], NonEmptyList]

    @model_validator(mode="after")
    def _one_register_when_weighted(self) -> GroupSchema:
        if self.national_prevalence is None:
            return self
        problems = Problems()
        for index, indicator in enumerate(self.indicators):
            if indicator.national_prevalence is not None:
                problems.add(
                    "the group is already prevalence-weighted (national_prevalence on the group)",
                    "indicators",
                    index,
                    "national_prevalence",
                )
        registers = [indicator.code for indicator in self.indicators if indicator.provides_register]
        if len(registers) != 1:
            problems.add(
                "a group with national_prevalence must hold exactly one register indicator "
                f"(kind register, or a fraction with register_field); found {', '.join(registers) or 'none'}",
                "indicators",
            )
        problems.raise_any()
        return self

    def to_definition(self) -> GroupDef:
        return GroupDef(
            code=self.code,
            name=self.name,
            national_prevalence=self.national_prevalence,
            sub_domain=self.sub_domain,
            indicators=tuple(indicator.to_definition() for indicator in self.indicators),
        )


class DomainSchema(StrictMapping):
    code: Code
    name: Text
    groups: Annotated[list[GroupSchema], NonEmptyList]

    def to_definition(self) -> DomainDef:
        return DomainDef(
            code=self.code, name=self.name, groups=tuple(group.to_definition() for group in self.groups)
        )
