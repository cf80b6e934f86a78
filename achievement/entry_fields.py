"""The fields of an indicator's achievement data: which an indicator shows (its FIELD_NAMEs),
which it needs to count as submitted, the kinds answered through the tick-box drop-down instead,
and the one check across fields of new values (a Numerator not above its Denominator).

Who may enter which of them, and why not, is ``achievement.entry_rules``.
"""

from __future__ import annotations

from participation.definitions import (
    COUNT_FIELD,
    DEFAULT_REGISTER_FIELD,
    DENOMINATOR_FIELD,
    NUMERATOR_FIELD,
    VALUE_FIELD,
    YES_NO_FIELD,
    default_fields,
)
from participation.models import Indicator, IndicatorKind

# Kinds whose Yes/No is set through the tick-box drop-down (TickBoxValue), never a New Value.
TICK_BOX_KINDS = frozenset({IndicatorKind.TICK_BOX, IndicatorKind.PER_CAPITA})


def indicator_fields(indicator: Indicator) -> tuple[str, ...]:
    """The FIELD_NAMEs shown for an indicator: its own list, else those of its kind."""
    if indicator.fields:
        return tuple(indicator.fields)
    if indicator.kind in TICK_BOX_KINDS:
        return ()
    return default_fields(indicator.kind, indicator.register_field or None)


def required_fields(indicator: Indicator) -> tuple[str, ...]:
    """The fields an indicator needs to count as submitted ("n of m"): a fraction its Numerator
    and Denominator, a register its register, a Yes/No its flag, a count its value.  PCA fields
    are stored and shown but not needed.  A tick-box always has a value (default No)."""
    kind = indicator.kind
    if kind in TICK_BOX_KINDS:
        return ()
    if kind == IndicatorKind.FRACTION:
        return (NUMERATOR_FIELD, DENOMINATOR_FIELD)
    if kind == IndicatorKind.REGISTER:
        return (indicator.register_field or DEFAULT_REGISTER_FIELD,)
    if kind == IndicatorKind.YES_NO:
        return (YES_NO_FIELD,)
    if kind == IndicatorKind.PER_ITEM:
        return (COUNT_FIELD,)  # the items claimed (issue 16)
    if kind == IndicatorKind.MANAGEMENT_INFORMATION:  # its one field (issue 13), stored and shown
        return (tuple(indicator.fields) or (VALUE_FIELD,))[:1]
    return (VALUE_FIELD,)


def indicator_submitted(indicator: Indicator, fields: dict[str, int] | None) -> bool:
    """Does the last submission hold what this indicator needs (see ``required_fields``)?"""
    needed = required_fields(indicator)
    return all(name in (fields or {}) for name in needed)


def fraction_errors(indicators, values: dict[tuple[int, str], int]) -> dict[tuple[int, str], str]:
    """Numerator not above Denominator (as for extracts), on the values the submission would
    hold: {(indicator id, "Numerator"): message}."""
    errors = {}
    for indicator in indicators:
        if indicator.kind != IndicatorKind.FRACTION:
            continue
        numerator = values.get((indicator.pk, NUMERATOR_FIELD))
        denominator = values.get((indicator.pk, DENOMINATOR_FIELD))
        if numerator is not None and denominator is not None and numerator > denominator:
            errors[(indicator.pk, NUMERATOR_FIELD)] = (
                f"{indicator.code} Numerator ({numerator}) must not be above its Denominator ({denominator})"
            )
    return errors
