"""The payment engine's exact arithmetic: exact fractions of the Decimal inputs, rounding half-up
(points and money), the display precision of unrounded ratios, and the checks that turn an input
number into a Decimal, an exact national figure or a count, or refuse it (``EngineInputError``).

Pure Python, no float (docs/adr/0002-payment-rounding.md); the rules that use it are
``declarations.engine``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

DISPLAY_PRECISION = 28  # significant digits of the unrounded ratios shown in results

DISPLAY_CONTEXT = Context(prec=DISPLAY_PRECISION, rounding=ROUND_HALF_EVEN)
_HALF = Fraction(1, 2)


class EngineInputError(ValueError):
    """Input the engine refuses to calculate from (wrong type, negative, out of range)."""


def exact_fraction(value: Decimal | int) -> Fraction:
    return Fraction(value)  # exact for both Decimal and int


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round an exact value to ``places`` decimals, halves away from zero (``ROUND_HALF_UP``)."""
    scaled = value * 10**places
    magnitude = math.floor(abs(scaled) + _HALF)
    sign = 1 if scaled < 0 and magnitude else 0
    return Decimal((sign, tuple(int(d) for d in str(magnitude)), -places))


def display(value: Fraction) -> Decimal:
    return DISPLAY_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def round_points(value: Decimal | Fraction) -> Decimal:
    """Points to 2 decimal places, half-up (project rounding rule)."""
    return round_half_up(Fraction(value), 2)


def round_money(value: Decimal | Fraction) -> Decimal:
    """Pounds to the penny, half-up (project rounding rule)."""
    return round_half_up(Fraction(value), 2)


def as_decimal(name: str, value: object, *, allow_none: bool = False) -> Decimal | None:
    """A finite Decimal from a Decimal or an int; floats and strings are refused."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise EngineInputError(f"{name}: expected a Decimal, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise EngineInputError(f"{name}: must be a finite number, got {result}")
    return result


def as_national(name: str, value: object, *, allow_none: bool = False) -> Decimal | Fraction | None:
    """A national figure: a Decimal (or int) as ``as_decimal``, or the exact ``Fraction`` a National
    Administrator set from the year-end data (``participation.national``; issue 13), kept exact."""
    if isinstance(value, Fraction):
        return value
    return as_decimal(name, value, allow_none=allow_none)


def as_count(name: str, value: object, *, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EngineInputError(f"{name}: expected a whole number, got {type(value).__name__}")
    if value < 0:
        raise EngineInputError(f"{name}: must not be negative, got {value}")
    return value
