"""The scalar values of the schema, as pydantic ``Annotated`` types: a code, a text, a decimal
given as a string, a number, a date, a choice...

YAML gives Python values (``yaml.safe_load``); each type says which of them it accepts and words
its refusal in the schema's terms.  Money, prevalences and rates are decimal *strings*: a YAML float
is binary, so ``220.62`` unquoted is refused rather than rounded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt

from .errors import Problems, describe, refuse
from .kinds import ENTRY_KINDS, INDICATOR_KINDS, PROVIDER_LEVELS
from .objects import financial_year_bounds

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_MAX_CODE_LENGTH = 20  # the catalogue's CharField(max_length=20)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        refuse(f"must be a string, got {describe(value)}")
    value = value.strip()
    if not value:
        refuse("must not be blank")
    return value


def _code(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # e.g. a numeric group code
    value = _text(value)
    if len(value) > _MAX_CODE_LENGTH:
        refuse(f"must be at most {_MAX_CODE_LENGTH} characters")
    if not _CODE_RE.match(value):
        refuse("must be letters, digits, '-', '_' or '.' with no spaces")
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            refuse(f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    return check


def _financial_year(value: Any) -> str:
    value = _text(value)
    try:
        financial_year_bounds(value)
    except ValueError:
        refuse(f"must be YYYY/YY with consecutive years, e.g. 2024/25, got {value!r}")
    return value


def _to_decimal(text: str) -> Decimal | None:
    try:
        result = Decimal(text.strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _decimal_string(value: Any) -> Decimal:
    """A Decimal given as a string ("220.62"); YAML floats are refused (they are binary)."""
    result = _to_decimal(value) if isinstance(value, str) else None
    if result is None:
        refuse(f'must be a decimal number given as a string, e.g. "220.62", got {describe(value)}')
    return result


def _number(value: Any) -> Decimal:
    """A whole YAML number (12) or a decimal string ("12.5"); fractional YAML floats are refused."""
    result = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float) and value.is_integer():
        result = Decimal(int(value))
    elif isinstance(value, str):
        result = _to_decimal(value)
    if result is None:
        refuse(f"must be a whole number or a decimal number given as a string, got {describe(value)}")
    return result


def _digits_to_int(value: Any) -> Any:
    """A string of digits ("9964") counts as the whole number; anything else is for StrictInt."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        refuse(f"must be a date (YYYY-MM-DD) without a time, got {value.isoformat()}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    refuse(f"must be a date YYYY-MM-DD, got {describe(value)}")


def _not_negative(points: Decimal) -> Decimal:
    if points < 0:
        refuse(f"must be 0 or more, got {points}")
    return points


def _proportion(value: Decimal) -> Decimal:
    if not Decimal(0) < value < Decimal(1):
        refuse(f'must be a proportion above 0 and below 1 (e.g. "0.0219" for 2.19%), got {value}')
    return value


def _list(value: Any) -> Any:
    if not isinstance(value, list):
        refuse(f"must be a list, got {describe(value)}")
    if not value:
        refuse("must not be empty")
    return value


def _field_names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        refuse(f"must be a non-empty list of FIELD_NAMEs, got {describe(value)}")
    names: list[str] = []
    problems = Problems()
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            problems.add(f"must be a FIELD_NAME string, got {describe(name)}", index)
        elif name.strip() in names:
            problems.add(f"duplicate field {name.strip()!r}", index)
        else:
            names.append(name.strip())
    problems.raise_any()
    return tuple(names)


Text = Annotated[str, BeforeValidator(_text)]
Code = Annotated[str, BeforeValidator(_code)]
FinancialYear = Annotated[str, BeforeValidator(_financial_year)]
IndicatorKind = Annotated[str, BeforeValidator(_one_of(INDICATOR_KINDS))]
EntryKind = Annotated[str, BeforeValidator(_one_of(ENTRY_KINDS))]
ProviderLevel = Annotated[str, BeforeValidator(_one_of(PROVIDER_LEVELS))]
DecimalString = Annotated[Decimal, BeforeValidator(_decimal_string)]
PositiveDecimalString = Annotated[Decimal, BeforeValidator(_decimal_string), Field(gt=0)]
Proportion = Annotated[Decimal, BeforeValidator(_decimal_string), AfterValidator(_proportion)]
Number = Annotated[Decimal, BeforeValidator(_number)]
Points = Annotated[Decimal, BeforeValidator(_number), AfterValidator(_not_negative)]
PositiveWholeNumber = Annotated[StrictInt, BeforeValidator(_digits_to_int), Field(gt=0)]
Date = Annotated[dt.date, BeforeValidator(_date)]
FieldNames = Annotated[tuple[str, ...], BeforeValidator(_field_names)]
NonEmptyList = BeforeValidator(_list)  # Annotated[list[...], NonEmptyList]
