"""Quality Service definitions: the YAML schema of `load_quality_service`, parsed and validated.

Pure Python (no ORM): ``parse_service_definition`` turns the YAML mapping into frozen dataclasses
or raises ``ServiceDefinitionError`` listing every problem with the path of the bad key, e.g.
``domains[0].groups[2].indicators[1].upper: must be above lower``.

The schema (outside checks rely on it) is documented in the participation issue and in
docs/service-definition-schema.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

INDICATOR_KINDS = ("fraction", "register", "yes_no", "tick_box", "count", "per_capita")
ENTRY_KINDS = ("automatic", "manual", "pcn", "commissioner")
PROVIDER_LEVELS = ("practice", "pcn")


class ServiceDefinitionError(ValueError):
    """A definition with errors; ``errors`` holds "path: reason" strings, all of them."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    kind: str  # one of INDICATOR_KINDS
    points: Decimal = Decimal(0)  # points available (G); 0 for count / per_capita
    lower: Decimal | None = None  # fraction: lower threshold, percent
    upper: Decimal | None = None  # fraction: upper threshold, percent
    register_field: str | None = None  # register: the FIELD_NAME carrying the register size
    national_prevalence: Decimal | None = None  # IIF-style own prevalence adjustment
    rate: Decimal | None = None  # per_capita: pounds per patient
    entry: str = "automatic"  # one of ENTRY_KINDS
    carry_forward: bool = False  # tick_box: a Yes stands for the next achievement date
    fields: tuple[str, ...] = ()  # FIELD_NAMEs the indicator carries (derived from kind when omitted)


@dataclass(frozen=True)
class GroupDef:
    code: str
    name: str
    national_prevalence: Decimal | None = None  # prevalence-weighted group (QOF APDF)
    sub_domain: str | None = None  # optional sub-domain name, e.g. "Vaccinations and Immunisations"
    indicators: tuple[IndicatorDef, ...] = ()


@dataclass(frozen=True)
class DomainDef:
    code: str
    name: str
    groups: tuple[GroupDef, ...] = ()


@dataclass(frozen=True)
class AchievementDateDef:
    date: dt.date
    payment: bool = False


@dataclass(frozen=True)
class ServiceDef:
    code: str
    name: str
    payment_type: str
    payment_frequency: str
    financial_year: str  # "2024/25"
    provider_level: str  # one of PROVIDER_LEVELS
    value_per_point: Decimal
    average_list_size: int
    no_declaration_required: bool = False
    no_approval_required: bool = False
    achievement_dates: tuple[AchievementDateDef, ...] = ()
    domains: tuple[DomainDef, ...] = field(default_factory=tuple)


def parse_service_definition(data: object) -> ServiceDef:  # pragma: no cover - implemented by helper
    raise NotImplementedError
