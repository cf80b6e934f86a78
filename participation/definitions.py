"""Quality Service definitions: the YAML schema of `load_quality_service`, parsed and validated.

Pure Python (no ORM): ``parse_service_definition`` turns the YAML mapping into frozen dataclasses
or raises ``ServiceDefinitionError`` listing every problem with the path of the bad key, e.g.
``domains[0].groups[2].indicators[1].upper: must be above lower``.
``load_service_definition_file`` reads a YAML file (``yaml.safe_load``; syntax errors and duplicate
keys become a ``ServiceDefinitionError`` naming the line) and parses it.

The schema (outside checks rely on it) is documented in docs/service-definition-schema.md; the
shipped services live in ``participation/service_definitions/*.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

INDICATOR_KINDS = ("fraction", "register", "yes_no", "tick_box", "count", "per_capita")
ENTRY_KINDS = ("automatic", "manual", "pcn", "commissioner")
PROVIDER_LEVELS = ("practice", "pcn")

# FIELD_NAMEs an indicator carries when the definition does not list ``fields`` (the names used
# in the CQRS indicator-values layout, INDICATOR_VALUES.csv).
NUMERATOR_FIELD = "Numerator"
DENOMINATOR_FIELD = "Denominator"
DEFAULT_REGISTER_FIELD = "Register"
YES_NO_FIELD = "Yes/No Flag"  # as the QOF QI indicators carry it (values "Yes" / "No")
VALUE_FIELD = "Value"

SHIPPED_DEFINITIONS_DIR = Path(__file__).resolve().parent / "service_definitions"

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_FINANCIAL_YEAR_RE = re.compile(r"^(\d{4})/(\d{2})$")
_MAX_CODE_LENGTH = 20  # the catalogue's CharField(max_length=20)


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

    @property
    def provides_register(self) -> bool:
        """True when this indicator carries its group's register (the prevalence numerator).

        A ``register`` indicator always does; a ``fraction`` does when it names a
        ``register_field`` (QOF DEP004 and NDH002: paid on Numerator/Denominator, and the only
        indicator of their group, so the group's register arrives with them).
        """
        return self.kind == "register" or (self.kind == "fraction" and self.register_field is not None)


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


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def financial_year_bounds(financial_year: str) -> tuple[dt.date, dt.date]:
    """1 April .. 31 March of a "YYYY/YY" financial year, e.g. "2024/25" -> 2024-04-01, 2025-03-31."""
    match = _FINANCIAL_YEAR_RE.match(financial_year)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise ValueError(f"not a financial year of the form YYYY/YY: {financial_year!r}")
    start = int(match.group(1))
    return dt.date(start, 4, 1), dt.date(start + 1, 3, 31)


def default_fields(kind: str, register_field: str | None = None) -> tuple[str, ...]:
    """The FIELD_NAMEs an indicator of ``kind`` carries when its definition lists none.

    fraction -> Numerator, Denominator (plus its register field when it carries the group's
    register); register -> the register field ("Register" when unnamed); yes_no, tick_box and
    per_capita -> "Yes/No Flag"; count -> "Value".
    """
    if kind == "fraction":
        extra = (register_field,) if register_field else ()
        return (NUMERATOR_FIELD, DENOMINATOR_FIELD, *extra)
    if kind == "register":
        return (register_field or DEFAULT_REGISTER_FIELD,)
    if kind in ("yes_no", "tick_box", "per_capita"):
        return (YES_NO_FIELD,)
    if kind == "count":
        return (VALUE_FIELD,)
    raise ValueError(f"unknown indicator kind {kind!r}")


def shipped_definition_paths() -> list[Path]:
    """The service definitions shipped with the project, sorted by file name."""
    return sorted(SHIPPED_DEFINITIONS_DIR.glob("*.yaml"))


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_MISSING = object()

_SERVICE_KEYS = {
    "code",
    "name",
    "payment_type",
    "payment_frequency",
    "financial_year",
    "provider_level",
    "no_declaration_required",
    "no_approval_required",
    "payment",
    "achievement_dates",
    "domains",
}
_PAYMENT_KEYS = {"value_per_point", "average_list_size"}
_DATE_KEYS = {"date", "payment"}
_DOMAIN_KEYS = {"code", "name", "groups"}
_GROUP_KEYS = {"code", "name", "national_prevalence", "sub_domain", "indicators"}
_INDICATOR_KEYS = {
    "code",
    "name",
    "kind",
    "points",
    "lower",
    "upper",
    "register_field",
    "national_prevalence",
    "rate",
    "entry",
    "carry_forward",
    "fields",
}


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Parser:
    """Collects every problem (``"path: reason"``) while building the dataclasses."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, reason: str) -> None:
        self.errors.append(f"{path or '(root)'}: {reason}")

    # -- containers --------------------------------------------------------------------------

    def mapping(self, value: object, path: str, allowed: set[str]) -> Mapping | None:
        if not isinstance(value, Mapping):
            self.error(path, f"must be a mapping, got {_describe(value)}")
            return None
        for key in value:
            if not isinstance(key, str):
                self.error(path, f"keys must be strings, got {_describe(key)}")
            elif key not in allowed:
                self.error(_join(path, key), "unknown key")
        return value

    def items(self, data: Mapping, key: str, path: str) -> list | None:
        value = data.get(key, _MISSING)
        where = _join(path, key)
        if value is _MISSING or value is None:
            self.error(where, "is required")
            return None
        if not isinstance(value, list):
            self.error(where, f"must be a list, got {_describe(value)}")
            return None
        if not value:
            self.error(where, "must not be empty")
            return None
        return value

    # -- scalars -----------------------------------------------------------------------------

    def text(self, data: Mapping, key: str, path: str, *, required: bool = True) -> str | None:
        value = data.get(key, _MISSING)
        where = _join(path, key)
        if value is _MISSING or value is None:
            if required:
                self.error(where, "is required")
            return None
        if not isinstance(value, str):
            self.error(where, f"must be a string, got {_describe(value)}")
            return None
        value = value.strip()
        if not value:
            self.error(where, "must not be blank")
            return None
        return value

    def code(self, data: Mapping, key: str, path: str) -> str | None:
        value = data.get(key, _MISSING)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # e.g. a numeric group code
            data = {**data, key: value}
        text = self.text(data, key, path)
        if text is None:
            return None
        if len(text) > _MAX_CODE_LENGTH:
            self.error(_join(path, key), f"must be at most {_MAX_CODE_LENGTH} characters")
            return None
        if not _CODE_RE.match(text):
            self.error(_join(path, key), "must be letters, digits, '-', '_' or '.' with no spaces")
            return None
        return text

    def choice(
        self, data: Mapping, key: str, path: str, choices: tuple[str, ...], default: str | None = None
    ):
        value = data.get(key, _MISSING)
        where = _join(path, key)
        if value is _MISSING or value is None:
            if default is None:
                self.error(where, "is required")
            return default
        if value not in choices:
            self.error(where, f"must be one of {', '.join(choices)}, got {value!r}")
            return None
        return value

    def boolean(self, data: Mapping, key: str, path: str, default: bool = False) -> bool:
        value = data.get(key, _MISSING)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, bool):
            self.error(_join(path, key), f"must be true or false, got {_describe(value)}")
            return default
        return value

    def decimal_string(self, data: Mapping, key: str, path: str, *, required: bool) -> Decimal | None:
        """A Decimal given as a string ("220.62"); YAML floats are refused (they are binary)."""
        value = data.get(key, _MISSING)
        where = _join(path, key)
        if value is _MISSING or value is None:
            if required:
                self.error(where, "is required")
            return None
        if isinstance(value, str):
            result = _to_decimal(value)
            if result is not None:
                return result
        self.error(
            where, f'must be a decimal number given as a string, e.g. "220.62", got {_describe(value)}'
        )
        return None

    def number(self, data: Mapping, key: str, path: str, *, required: bool) -> Decimal | None:
        """A whole YAML number (12) or a decimal string ("12.5"); fractional YAML floats are refused."""
        value = data.get(key, _MISSING)
        where = _join(path, key)
        if value is _MISSING or value is None:
            if required:
                self.error(where, "is required")
            return None
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            return Decimal(value)
        elif isinstance(value, float) and value.is_integer():
            return Decimal(int(value))
        elif isinstance(value, str):
            result = _to_decimal(value)
            if result is not None:
                return result
        self.error(
            where, f"must be a whole number or a decimal number given as a string, got {_describe(value)}"
        )
        return None

    def integer(self, data: Mapping, key: str, path: str) -> int | None:
        value = data.get(key, _MISSING)
        where = _join(path, key)
        if value is _MISSING or value is None:
            self.error(where, "is required")
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(where, f"must be a whole number, got {_describe(value)}")
            return None
        return value

    def date(self, data: Mapping, key: str, path: str) -> dt.date | None:
        value = data.get(key, _MISSING)
        where = _join(path, key)
        if value is _MISSING or value is None:
            self.error(where, "is required")
            return None
        if isinstance(value, dt.datetime):
            self.error(where, f"must be a date (YYYY-MM-DD) without a time, got {value.isoformat()}")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.error(where, f"must be a date YYYY-MM-DD, got {_describe(value)}")
        return None

    # -- the schema --------------------------------------------------------------------------

    def service(self, data: object) -> ServiceDef | None:
        data = self.mapping(data, "", _SERVICE_KEYS)
        if data is None:
            return None
        code = self.code(data, "code", "")
        name = self.text(data, "name", "")
        payment_type = self.text(data, "payment_type", "")
        payment_frequency = self.text(data, "payment_frequency", "")
        financial_year = self.text(data, "financial_year", "")
        fy_bounds = None
        if financial_year is not None:
            try:
                fy_bounds = financial_year_bounds(financial_year)
            except ValueError:
                self.error(
                    "financial_year",
                    f"must be YYYY/YY with consecutive years, e.g. 2024/25, got {financial_year!r}",
                )
                financial_year = None
        provider_level = self.choice(data, "provider_level", "", PROVIDER_LEVELS)
        no_declaration_required = self.boolean(data, "no_declaration_required", "")
        no_approval_required = self.boolean(data, "no_approval_required", "")

        value_per_point = average_list_size = None
        payment = data.get("payment", _MISSING)
        if payment is _MISSING or payment is None:
            self.error("payment", "is required")
        else:
            payment = self.mapping(payment, "payment", _PAYMENT_KEYS)
            if payment is not None:
                value_per_point = self.decimal_string(payment, "value_per_point", "payment", required=True)
                if value_per_point is not None and value_per_point <= 0:
                    self.error("payment.value_per_point", "must be above 0")
                    value_per_point = None
                average_list_size = self.integer(payment, "average_list_size", "payment")
                if average_list_size is not None and average_list_size <= 0:
                    self.error("payment.average_list_size", "must be above 0")
                    average_list_size = None

        dates = self.achievement_dates(data, fy_bounds)
        domains = self.domains(data)

        if self.errors:
            return None
        return ServiceDef(
            code=code,
            name=name,
            payment_type=payment_type,
            payment_frequency=payment_frequency,
            financial_year=financial_year,
            provider_level=provider_level,
            value_per_point=value_per_point,
            average_list_size=average_list_size,
            no_declaration_required=no_declaration_required,
            no_approval_required=no_approval_required,
            achievement_dates=dates,
            domains=domains,
        )

    def achievement_dates(self, data: Mapping, fy_bounds) -> tuple[AchievementDateDef, ...]:
        items = self.items(data, "achievement_dates", "")
        if items is None:
            return ()
        result: list[AchievementDateDef] = []
        seen: dict[dt.date, str] = {}
        for index, item in enumerate(items):
            path = _join("achievement_dates", index)
            item = self.mapping(item, path, _DATE_KEYS)
            if item is None:
                continue
            date = self.date(item, "date", path)
            payment = self.boolean(item, "payment", path)
            if date is None:
                continue
            if fy_bounds is not None and not fy_bounds[0] <= date <= fy_bounds[1]:
                self.error(
                    _join(path, "date"),
                    f"{date.isoformat()} is outside the financial year "
                    f"({fy_bounds[0]:%d/%m/%Y} to {fy_bounds[1]:%d/%m/%Y})",
                )
                continue
            if date in seen:
                self.error(
                    _join(path, "date"), f"duplicate achievement date {date.isoformat()} (also {seen[date]})"
                )
                continue
            seen[date] = path
            result.append(AchievementDateDef(date=date, payment=payment))
        if result and not any(d.payment for d in result):
            self.error("achievement_dates", "at least one must be a payment date (payment: true)")
        return tuple(sorted(result, key=lambda d: d.date))

    def domains(self, data: Mapping) -> tuple[DomainDef, ...]:
        items = self.items(data, "domains", "")
        if items is None:
            return ()
        domain_codes: dict[str, str] = {}
        group_codes: dict[str, str] = {}
        indicator_codes: dict[str, str] = {}
        result = []
        for index, item in enumerate(items):
            path = _join("domains", index)
            item = self.mapping(item, path, _DOMAIN_KEYS)
            if item is None:
                continue
            code = self.code(item, "code", path)
            if code is not None:
                if code in domain_codes:
                    self.error(
                        _join(path, "code"), f"duplicate domain code {code} (also {domain_codes[code]})"
                    )
                else:
                    domain_codes[code] = _join(path, "code")
            name = self.text(item, "name", path)
            groups = []
            group_items = self.items(item, "groups", path)
            for group_index, group_item in enumerate(group_items or ()):
                group = self.group(
                    group_item, _join(_join(path, "groups"), group_index), group_codes, indicator_codes
                )
                if group is not None:
                    groups.append(group)
            result.append(DomainDef(code=code, name=name, groups=tuple(groups)))
        return tuple(result)

    def group(self, item: object, path: str, group_codes: dict, indicator_codes: dict) -> GroupDef | None:
        item = self.mapping(item, path, _GROUP_KEYS)
        if item is None:
            return None
        code = self.code(item, "code", path)
        if code is not None:
            if code in group_codes:
                self.error(_join(path, "code"), f"duplicate group code {code} (also {group_codes[code]})")
            else:
                group_codes[code] = _join(path, "code")
        name = self.text(item, "name", path)
        sub_domain = self.text(item, "sub_domain", path, required=False)
        national_prevalence = self.prevalence(item, path)
        indicators = []
        indicator_items = self.items(item, "indicators", path)
        for index, indicator_item in enumerate(indicator_items or ()):
            indicator = self.indicator(
                indicator_item,
                _join(_join(path, "indicators"), index),
                indicator_codes,
                group_weighted=national_prevalence is not None,
            )
            if indicator is not None:
                indicators.append(indicator)
        if national_prevalence is not None and indicator_items is not None:
            registers = [
                _raw_register_code(i, n) for n, i in enumerate(indicator_items) if _raw_provides_register(i)
            ]
            if len(registers) != 1:
                found = ", ".join(registers) if registers else "none"
                self.error(
                    _join(path, "indicators"),
                    "a group with national_prevalence must hold exactly one register indicator "
                    f"(kind register, or a fraction with register_field); found {found}",
                )
        return GroupDef(
            code=code,
            name=name,
            national_prevalence=national_prevalence,
            sub_domain=sub_domain,
            indicators=tuple(indicators),
        )

    def prevalence(self, item: Mapping, path: str) -> Decimal | None:
        value = self.decimal_string(item, "national_prevalence", path, required=False)
        if value is not None and not Decimal(0) < value < Decimal(1):
            self.error(
                _join(path, "national_prevalence"),
                f'must be a proportion above 0 and below 1 (e.g. "0.0219" for 2.19%), got {value}',
            )
            return None
        return value

    def indicator(
        self, item: object, path: str, indicator_codes: dict, *, group_weighted: bool
    ) -> IndicatorDef | None:
        item = self.mapping(item, path, _INDICATOR_KEYS)
        if item is None:
            return None
        errors_before = len(self.errors)
        code = self.code(item, "code", path)
        if code is not None:
            if code in indicator_codes:
                self.error(
                    _join(path, "code"), f"duplicate indicator code {code} (also {indicator_codes[code]})"
                )
            else:
                indicator_codes[code] = _join(path, "code")
        name = self.text(item, "name", path)
        kind = self.choice(item, "kind", path, INDICATOR_KINDS)
        entry = self.choice(item, "entry", path, ENTRY_KINDS, default="automatic")
        carry_forward = self.boolean(item, "carry_forward", path)

        points = self.number(item, "points", path, required=False)
        if points is not None and points < 0:
            self.error(_join(path, "points"), f"must be 0 or more, got {points}")
            points = None
        if points is not None and points and kind in ("count", "per_capita"):
            self.error(_join(path, "points"), f"a {kind} indicator earns no points (omit points or give 0)")

        lower = self.number(item, "lower", path, required=False)
        upper = self.number(item, "upper", path, required=False)
        if kind == "fraction":
            for key, value in (("lower", lower), ("upper", upper)):
                if item.get(key) is None:
                    self.error(_join(path, key), "is required for a fraction indicator")
                elif value is not None and not Decimal(0) <= value <= Decimal(100):
                    self.error(_join(path, key), f"must be a percentage from 0 to 100, got {value}")
            if lower is not None and upper is not None and upper <= lower:
                self.error(_join(path, "upper"), "must be above lower")
        elif kind is not None:
            for key in ("lower", "upper"):
                if item.get(key) is not None:
                    self.error(_join(path, key), f"only a fraction indicator has thresholds, not a {kind}")

        register_field = self.text(item, "register_field", path, required=False)
        if register_field is not None and kind not in (None, "register", "fraction"):
            self.error(
                _join(path, "register_field"),
                f"only a register (or fraction) indicator has a register field, not a {kind}",
            )

        national_prevalence = self.prevalence(item, path)
        if national_prevalence is not None:
            if kind not in (None, "fraction"):
                self.error(
                    _join(path, "national_prevalence"),
                    f"only a fraction indicator has its own national_prevalence, not a {kind}",
                )
            elif group_weighted:
                self.error(
                    _join(path, "national_prevalence"),
                    "the group is already prevalence-weighted (national_prevalence on the group)",
                )

        rate = self.decimal_string(item, "rate", path, required=kind == "per_capita")
        if rate is not None:
            if kind not in (None, "per_capita"):
                self.error(_join(path, "rate"), f"only a per_capita indicator has a rate, not a {kind}")
            elif rate <= 0:
                self.error(_join(path, "rate"), f"must be above 0, got {rate}")

        if carry_forward and kind not in (None, "tick_box"):
            self.error(
                _join(path, "carry_forward"), f"only a tick_box indicator carries forward, not a {kind}"
            )

        fields = self.field_names(item, path)
        if len(self.errors) > errors_before or kind is None:
            return None
        if not fields:
            fields = default_fields(kind, register_field)
        return IndicatorDef(
            code=code,
            name=name,
            kind=kind,
            points=points if points is not None else Decimal(0),
            lower=lower if kind == "fraction" else None,
            upper=upper if kind == "fraction" else None,
            register_field=register_field,
            national_prevalence=national_prevalence,
            rate=rate,
            entry=entry,
            carry_forward=carry_forward,
            fields=tuple(fields),
        )

    def field_names(self, item: Mapping, path: str) -> tuple[str, ...]:
        value = item.get("fields", _MISSING)
        where = _join(path, "fields")
        if value is _MISSING or value is None:
            return ()
        if not isinstance(value, list) or not value:
            self.error(where, f"must be a non-empty list of FIELD_NAMEs, got {_describe(value)}")
            return ()
        names: list[str] = []
        for index, name in enumerate(value):
            if not isinstance(name, str) or not name.strip():
                self.error(_join(where, index), f"must be a FIELD_NAME string, got {_describe(name)}")
            elif name.strip() in names:
                self.error(_join(where, index), f"duplicate field {name.strip()!r}")
            else:
                names.append(name.strip())
        return tuple(names)


def _raw_provides_register(item: object) -> bool:
    """``IndicatorDef.provides_register`` read from the raw mapping (counted even if it has errors)."""
    if not isinstance(item, Mapping):
        return False
    kind = item.get("kind")
    return kind == "register" or (kind == "fraction" and item.get("register_field") is not None)


def _raw_register_code(item: Mapping, index: int) -> str:
    code = item.get("code")
    return str(code) if code is not None else f"indicators[{index}]"


def _to_decimal(text: str) -> Decimal | None:
    try:
        result = Decimal(text.strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"{value!r} (a YAML number)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def parse_service_definition(data: object) -> ServiceDef:
    """Validate a service definition (the mapping ``yaml.safe_load`` returns) and build it.

    Raises ``ServiceDefinitionError`` listing every problem as "path: reason".
    """
    parser = _Parser()
    service = parser.service(data)
    if parser.errors or service is None:
        raise ServiceDefinitionError(parser.errors or ["(root): not a service definition"])
    return service


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def _yaml_loader():
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class UniqueKeyLoader(base):  # type: ignore[misc, valid-type]
        """yaml.safe_load, refusing a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(loader, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return UniqueKeyLoader


def load_service_definition_text(text: str, source: str = "<definition>") -> ServiceDef:
    """Parse YAML text (``yaml.safe_load`` semantics) into a ``ServiceDef``."""
    import yaml

    try:
        data = yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else source
        raise ServiceDefinitionError([f"{where}: invalid YAML in {source}: {problem}"]) from exc
    return parse_service_definition(data)


def load_service_definition_file(path: str | Path) -> ServiceDef:
    """Read and parse a service definition YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ServiceDefinitionError([f"{path}: cannot be read ({exc.strerror or exc})"]) from exc
    except UnicodeDecodeError as exc:
        raise ServiceDefinitionError([f"{path}: is not UTF-8 text ({exc.reason})"]) from exc
    return load_service_definition_text(text, source=path.name)
