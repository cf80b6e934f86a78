"""The words of the service-definition schema, in one place: indicator kinds and the sets of them
the payment and entry rules use, entry kinds, provider levels, and the FIELD_NAMEs each kind
carries.

Pure Python (no Django): ``declarations.engine`` imports it, and so do the catalogue's model
choices (``participation.models.IndicatorKind``, ``EntryKind``, ``ProviderLevel``), so a kind is
named once.
"""

from __future__ import annotations

# Indicator kinds ------------------------------------------------------------------------------

FRACTION = "fraction"  # sliding scale on Numerator / Denominator between lower and upper
REGISTER = "register"  # full points when the register is above 0
YES_NO = "yes_no"  # full points on Yes (manual entry, e.g. the QOF QI indicators)
TICK_BOX = "tick_box"  # full points on Yes, set by the PCN through the tick-box screen
COUNT = "count"  # reported only
PER_CAPITA = "per_capita"  # rate x list size on Yes, set through the tick-box screen

# In the schema's order (the order an error message lists them in).
INDICATOR_KINDS: tuple[str, ...] = (FRACTION, REGISTER, YES_NO, TICK_BOX, COUNT, PER_CAPITA)
# Paid as points x pounds a point.
POINT_KINDS: frozenset[str] = frozenset({FRACTION, REGISTER, YES_NO, TICK_BOX})
# Paid at all (points, or per capita): the kinds in the payment export; a count is never paid.
PAID_KINDS: frozenset[str] = POINT_KINDS | {PER_CAPITA}
# Answered Yes or No (the "Yes/No Flag" field).
YES_NO_KINDS: frozenset[str] = frozenset({YES_NO, TICK_BOX, PER_CAPITA})
# Answered through the tick-box drop-down (a TickBoxValue), never a New Value nor the extract.
TICK_BOX_KINDS: frozenset[str] = frozenset({TICK_BOX, PER_CAPITA})

# Who supplies an indicator's value -------------------------------------------------------------

AUTOMATIC = "automatic"  # the GPES extract
MANUAL = "manual"  # the practice, Achievement Entry
PCN = "pcn"  # the PCN lead
COMMISSIONER = "commissioner"  # the Commissioning Organisation
ENTRY_KINDS: tuple[str, ...] = (AUTOMATIC, MANUAL, PCN, COMMISSIONER)

# Who achievement is recorded for ----------------------------------------------------------------

PRACTICE_LEVEL = "practice"
PCN_LEVEL = "pcn"  # the Network Contract DES: achievement per practice, paid to the PCN
PROVIDER_LEVELS: tuple[str, ...] = (PRACTICE_LEVEL, PCN_LEVEL)

# FIELD_NAMEs ------------------------------------------------------------------------------------

# The FIELD_NAMEs an indicator carries when the definition does not list ``fields`` (the names used
# in the CQRS indicator-values layout, INDICATOR_VALUES.csv).
NUMERATOR_FIELD = "Numerator"
DENOMINATOR_FIELD = "Denominator"
DEFAULT_REGISTER_FIELD = "Register"
YES_NO_FIELD = "Yes/No Flag"  # as the QOF QI indicators carry it (values "Yes" / "No")
VALUE_FIELD = "Value"


def default_fields(kind: str, register_field: str | None = None) -> tuple[str, ...]:
    """The FIELD_NAMEs an indicator of ``kind`` carries when its definition lists none.

    fraction -> Numerator, Denominator (plus its register field when it carries the group's
    register); register -> the register field ("Register" when unnamed); yes_no, tick_box and
    per_capita -> "Yes/No Flag"; count -> "Value".
    """
    if kind == FRACTION:
        extra = (register_field,) if register_field else ()
        return (NUMERATOR_FIELD, DENOMINATOR_FIELD, *extra)
    if kind == REGISTER:
        return (register_field or DEFAULT_REGISTER_FIELD,)
    if kind in YES_NO_KINDS:
        return (YES_NO_FIELD,)
    if kind == COUNT:
        return (VALUE_FIELD,)
    raise ValueError(f"unknown indicator kind {kind!r}")
