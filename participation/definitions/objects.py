"""A parsed service definition: frozen dataclasses, built by ``schema`` once the YAML is valid.

These are what the rest of the project reads (the catalogue loader, the payment engine, the
demo data); they carry no validation of their own.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from .kinds import AUTOMATIC, DEFAULT_REGISTER_FIELD, FRACTION, REGISTER

_FINANCIAL_YEAR_RE = re.compile(r"^(\d{4})/(\d{2})$")


def financial_year_bounds(financial_year: str) -> tuple[dt.date, dt.date]:
    """1 April .. 31 March of a "YYYY/YY" financial year, e.g. "2024/25" -> 2024-04-01, 2025-03-31."""
    match = _FINANCIAL_YEAR_RE.match(financial_year)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise ValueError(f"not a financial year of the form YYYY/YY: {financial_year!r}")
    start = int(match.group(1))
    return dt.date(start, 4, 1), dt.date(start + 1, 3, 31)


def month_ends(financial_year: str) -> tuple[dt.date, ...]:
    """The last day of each month of a financial year, April to March: a Monthly service's
    achievement dates when its definition lists none."""
    start, _ = financial_year_bounds(financial_year)
    ends = []
    for offset in range(12):
        year, month = start.year + (start.month - 1 + offset) // 12, (start.month - 1 + offset) % 12 + 1
        following = dt.date(year + (month == 12), month % 12 + 1, 1)
        ends.append(following - dt.timedelta(days=1))
    return tuple(ends)


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    kind: str  # one of INDICATOR_KINDS
    points: Decimal = Decimal(0)  # points available (G); 0 for count / per_capita / per_item
    lower: Decimal | None = None  # fraction: lower threshold, percent
    upper: Decimal | None = None  # fraction: upper threshold, percent
    register_field: str | None = None  # register: the FIELD_NAME carrying the register size
    national_prevalence: Decimal | None = None  # IIF-style own prevalence adjustment
    rate: Decimal | None = None  # per_capita: pounds per patient
    amount_per_item: Decimal | None = None  # per_item: pounds per item (issue 16)
    max_items: int | None = None  # per_item: the most items paid per provider and achievement date
    entry: str = AUTOMATIC  # one of ENTRY_KINDS
    carry_forward: bool = False  # tick_box: a Yes stands for the next achievement date
    fields: tuple[str, ...] = ()  # FIELD_NAMEs the indicator carries (derived from kind when omitted)
    income_protected: bool = False  # paid at its points in the service's protected_from year end
    protected_code: str | None = None  # its code in the protected_from service, when renumbered

    @property
    def provides_register(self) -> bool:
        """True when this indicator carries its group's register (the prevalence numerator).

        A ``register`` indicator always does; a ``fraction`` does when it names a
        ``register_field`` (QOF DEP004 and NDH002: paid on Numerator/Denominator, and the only
        indicator of their group, so the group's register arrives with them).
        """
        return self.kind == REGISTER or (self.kind == FRACTION and self.register_field is not None)


@dataclass(frozen=True)
class GroupDef:
    code: str
    name: str
    national_prevalence: Decimal | None = None  # prevalence-weighted group (QOF APDF)
    sub_domain: str | None = None  # optional sub-domain name, e.g. "Vaccinations and Immunisations"
    indicators: tuple[IndicatorDef, ...] = ()

    @property
    def register_indicator(self) -> IndicatorDef | None:
        """The indicator carrying the group's register (exactly one in a prevalence-weighted group)."""
        return next((i for i in self.indicators if i.provides_register), None)

    @property
    def register_field(self) -> str | None:
        """The FIELD_NAME whose value is the group's register size, if the group has a register."""
        indicator = self.register_indicator
        if indicator is None:
            return None
        return indicator.register_field or DEFAULT_REGISTER_FIELD

    @property
    def points(self) -> Decimal:
        return sum((i.points for i in self.indicators), Decimal(0))


@dataclass(frozen=True)
class DomainDef:
    code: str
    name: str
    groups: tuple[GroupDef, ...] = ()

    @property
    def points(self) -> Decimal:
        return sum((g.points for g in self.groups), Decimal(0))


@dataclass(frozen=True)
class AchievementDateDef:
    date: dt.date
    payment: bool = False


@dataclass(frozen=True)
class AspirationDef:
    """Monthly aspiration payments: ``percent`` of the provider's year-end payment in ``from_service``."""

    percent: Decimal
    from_service: str


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
    achievement_dates: tuple[AchievementDateDef, ...] = ()  # ascending by date
    domains: tuple[DomainDef, ...] = field(default_factory=tuple)
    protected_from: str | None = None  # the service whose year end protects income_protected indicators
    aspiration: AspirationDef | None = None

    @property
    def label(self) -> str:
        """The Quality Service drop-down label, e.g. "DES— Annual—Network Contract DES 2024/25"."""
        return f"{self.payment_type}— {self.payment_frequency}—{self.name}"

    @property
    def financial_year_start(self) -> dt.date:
        return financial_year_bounds(self.financial_year)[0]

    @property
    def financial_year_end(self) -> dt.date:
        return financial_year_bounds(self.financial_year)[1]

    @property
    def payment_dates(self) -> tuple[dt.date, ...]:
        return tuple(d.date for d in self.achievement_dates if d.payment)

    @property
    def groups(self) -> Iterator[GroupDef]:
        for domain in self.domains:
            yield from domain.groups

    @property
    def indicators(self) -> Iterator[IndicatorDef]:
        for group in self.groups:
            yield from group.indicators

    @property
    def total_points(self) -> Decimal:
        return sum((d.points for d in self.domains), Decimal(0))

    def indicator(self, code: str) -> IndicatorDef:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(code)

    def group_of(self, indicator_code: str) -> GroupDef:
        for group in self.groups:
            if any(i.code == indicator_code for i in group.indicators):
                return group
        raise KeyError(indicator_code)
