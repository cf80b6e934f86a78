"""The service-definition schema (docs/service-definition-schema.md) as pydantic models.

``parse_service_definition`` validates the mapping ``yaml.safe_load`` returns and builds the frozen
dataclasses of ``objects``, or raises ``ServiceDefinitionError`` listing the problems as
"path: reason".  Each model checks its own keys (required, unknown, the type of each value); a
model's rules that compare its keys (a fraction's thresholds, a group's one register, codes unique
across the service) run once the keys they compare are valid.

This module holds the service's own keys (payment, aspiration, achievement dates, the rules across
the whole service) and ``parse_service_definition``; the catalogue's models (domains, groups,
indicators) and the base of every model are ``catalogue_schema``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StrictBool, ValidationError, ValidationInfo, field_validator, model_validator

from .catalogue_schema import DomainSchema, GroupSchema, IndicatorSchema, StrictMapping
from .errors import Problems, ServiceDefinitionError, key_path, problem_lines, refuse
from .kinds import MONTHLY
from .objects import (
    AchievementDateDef,
    AspirationDef,
    ServiceDef,
    financial_year_bounds,
    month_ends,
)
from .scalars import (
    Code,
    Date,
    FinancialYear,
    NonEmptyList,
    Number,
    PositiveDecimalString,
    PositiveWholeNumber,
    ProviderLevel,
    Text,
)

__all__ = [
    "AchievementDateSchema",
    "AspirationSchema",
    "DomainSchema",
    "GroupSchema",
    "IndicatorSchema",
    "PaymentSchema",
    "ServiceSchema",
    "StrictMapping",
    "parse_service_definition",
]


class PaymentSchema(StrictMapping):
    value_per_point: PositiveDecimalString
    average_list_size: PositiveWholeNumber


class AspirationSchema(StrictMapping):
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


class AchievementDateSchema(StrictMapping):
    date: Date
    payment: StrictBool = False


class ServiceSchema(StrictMapping):
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
