"""The service-definition schema (docs/service-definition-schema.md) as pydantic models.

``parse_service_definition`` validates the mapping ``yaml.safe_load`` returns and builds the frozen
dataclasses of ``objects``, or raises ``ServiceDefinitionError`` listing the problems as
"path: reason".  Each model checks its own keys (required, unknown, the type of each value); a
model's rules that compare its keys (a fraction's thresholds, a group's one register, codes unique
across the service) run once the keys they compare are valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import Problems, ServiceDefinitionError, describe, key_path, problem_lines, refuse
from .kinds import (
    AUTOMATIC,
    FRACTION,
    MONTHLY,
    PER_CAPITA,
    PER_ITEM,
    POINT_KINDS,
    REGISTER,
    TICK_BOX,
    default_fields,
)
from .objects import (
    AchievementDateDef,
    AspirationDef,
    DomainDef,
    GroupDef,
    IndicatorDef,
    ServiceDef,
    financial_year_bounds,
    month_ends,
)
from .scalars import (
    Code,
    Date,
    DecimalString,
    EntryKind,
    FieldNames,
    FinancialYear,
    IndicatorKind,
    NonEmptyList,
    Number,
    Points,
    PositiveDecimalString,
    PositiveWholeNumber,
    Proportion,
    ProviderLevel,
    Text,
)


class _Mapping(BaseModel):
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


class IndicatorSchema(_Mapping):
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


class GroupSchema(_Mapping):
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


class DomainSchema(_Mapping):
    code: Code
    name: Text
    groups: Annotated[list[GroupSchema], NonEmptyList]

    def to_definition(self) -> DomainDef:
        return DomainDef(
            code=self.code, name=self.name, groups=tuple(group.to_definition() for group in self.groups)
        )


class PaymentSchema(_Mapping):
    value_per_point: PositiveDecimalString
    average_list_size: PositiveWholeNumber


class AspirationSchema(_Mapping):
    """``aspiration: {percent: 80, from: QOF2324}``: monthly payments on account of the year."""

    percent: Number
    from_service: Code = Field(alias="from")

    @field_validator("percent")
    @classmethod
    def _a_percentage(cls, percent: Decimal) -> Decimal:
        if not Decimal(0) < percent <= Decimal(100):
            refuse(f"must be a percentage above 0 and at most 100, got {percent}")
        return percent

    def to_definition(self) -> AspirationDef:
        return AspirationDef(percent=self.percent, from_service=self.from_service)


class AchievementDateSchema(_Mapping):
    date: Date
    payment: StrictBool = False


class ServiceSchema(_Mapping):
    code: Code
    name: Text
    payment_type: Text
    payment_frequency: Text
    financial_year: FinancialYear
    provider_level: ProviderLevel
    no_declaration_required: StrictBool = False
    no_approval_required: StrictBool = False
    payment: PaymentSchema
    protected_from: Code | None = None
    aspiration: AspirationSchema | None = None
    # Required, but for a Monthly service (issue 16): omitted, its dates are each month's last day.
    achievement_dates: Annotated[list[AchievementDateSchema], NonEmptyList] | None = None
    domains: Annotated[list[DomainSchema], NonEmptyList]

    @field_validator("achievement_dates")
    @classmethod
    def _dates_in_the_year_once_and_one_paid(
        cls, dates: list[AchievementDateSchema], info: ValidationInfo
    ) -> list[AchievementDateSchema]:
        year = info.data.get("financial_year")  # absent when it is itself refused
        start, end = financial_year_bounds(year) if year else (None, None)
        problems, first, kept = Problems(), {}, []
        for index, item in enumerate(dates):
            if start is not None and not start <= item.date <= end:
                problems.add(
                    f"{item.date.isoformat()} is outside the financial year ({start:%d/%m/%Y} to {end:%d/%m/%Y})",
                    index,
                    "date",
                )
            elif item.date in first:
                problems.add(
                    f"duplicate achievement date {item.date.isoformat()} (also {first[item.date]})", index, "date"
                )
            else:
                first[item.date] = key_path(("achievement_dates", index))
                kept.append(item)
        if kept and not any(item.payment for item in kept):
            problems.add("at least one must be a payment date (payment: true)")
        if info.data.get("payment_frequency") == MONTHLY:
            # A monthly service pays each month on its own: one date a month, each a payment date.
            months: dict[tuple[int, int], int] = {}
            for index, item in enumerate(kept):
                if not item.payment:
                    problems.add("a Monthly service's achievement dates are each a payment date (payment: true)",
                                 index, "payment")
                month = (item.date.year, item.date.month)
                if month in months:
                    problems.add(
                        f"a Monthly service has one achievement date a month ({item.date:%B %Y} twice)", index, "date"
                    )
                months.setdefault(month, index)
        problems.raise_any()
        return dates

    @model_validator(mode="after")
    def _dates_given_unless_monthly(self) -> ServiceSchema:
        if self.achievement_dates is None and self.payment_frequency != MONTHLY:
            refuse_at = Problems()
            refuse_at.add(
                f"is required (only a {MONTHLY} service may omit it: its dates are then each month's last day)",
                "achievement_dates",
            )
            refuse_at.raise_any()
        return self

    @field_validator("domains")
    @classmethod
    def _codes_unique(cls, domains: list[DomainSchema]) -> list[DomainSchema]:
        """Domain codes are unique in the service, and so are group and indicator codes (across
        domains): the catalogue keys them by (service, code)."""
        problems = Problems()
        first: dict[str, dict[str, str]] = {"domain": {}, "group": {}, "indicator": {}}

        def claim(what: str, code: str, *at: str | int) -> None:
            if code in first[what]:
                problems.add(f"duplicate {what} code {code} (also {first[what][code]})", *at, "code")
            else:
                first[what][code] = key_path(("domains", *at, "code"))

        for d, domain in enumerate(domains):
            claim("domain", domain.code, d)
            for g, group in enumerate(domain.groups):
                claim("group", group.code, d, "groups", g)
                for i, indicator in enumerate(group.indicators):
                    claim("indicator", indicator.code, d, "groups", g, "indicators", i)
        problems.raise_any()
        return domains

    @model_validator(mode="after")
    def _protection_names_its_year(self) -> ServiceSchema:
        """An income-protected indicator needs the service it is protected from, and a service is
        protected from (and aspires on) another service, never itself."""
        problems = Problems()
        protected = [
            i.code for d in self.domains for g in d.groups for i in g.indicators if i.income_protected
        ]
        if protected and self.protected_from is None:
            problems.add(
                f"is required when an indicator is income_protected ({', '.join(protected[:3])}"
                f"{'...' if len(protected) > 3 else ''})",
                "protected_from",
            )
        if self.protected_from is not None and self.protected_from == self.code:
            problems.add("must name another service, not this one", "protected_from")
        if self.aspiration is not None and self.aspiration.from_service == self.code:
            problems.add("must name another service, not this one", "aspiration", "from")
        problems.raise_any()
        return self

    def to_definition(self) -> ServiceDef:
        return ServiceDef(
            code=self.code,
            name=self.name,
            payment_type=self.payment_type,
            payment_frequency=self.payment_frequency,
            financial_year=self.financial_year,
            provider_level=self.provider_level,
            value_per_point=self.payment.value_per_point,
            average_list_size=self.payment.average_list_size,
            no_declaration_required=self.no_declaration_required,
            no_approval_required=self.no_approval_required,
            achievement_dates=tuple(
                AchievementDateDef(date=item.date, payment=item.payment)
                for item in sorted(self.achievement_dates, key=lambda item: item.date)
            )
            if self.achievement_dates is not None
            else tuple(AchievementDateDef(date=date, payment=True) for date in month_ends(self.financial_year)),
            domains=tuple(domain.to_definition() for domain in self.domains),
            protected_from=self.protected_from,
            aspiration=None if self.aspiration is None else self.aspiration.to_definition(),
        )


def parse_service_definition(data: object) -> ServiceDef:
    """Validate a service definition (the mapping ``yaml.safe_load`` returns) and build it.

    Raises ``ServiceDefinitionError`` listing every problem as "path: reason".
    """
    try:
        schema = ServiceSchema.model_validate(data)
    except ValidationError as error:
        raise ServiceDefinitionError(problem_lines(error)) from None
    return schema.to_definition()
