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
PER_ITEM = "per_item"  # item of service: min(Count, max_items) x amount_per_item (issue 16)
# Management information: a component the extract carries beside the paid indicators (QOF
# COPD009MI1-3): validated, stored and shown like a count, never paid (issue 13).
MANAGEMENT_INFORMATION = "management_information"

# In the schema's order (the order an error message lists them in).
INDICATOR_KINDS: tuple[str, ...] = (
    FRACTION, REGISTER, YES_NO, TICK_BOX, COUNT, PER_CAPITA, PER_ITEM, MANAGEMENT_INFORMATION
)
# Paid as points x pounds a point.
POINT_KINDS: frozenset[str] = frozenset({FRACTION, REGISTER, YES_NO, TICK_BOX})
# Paid at all (points, per capita, or per item): the kinds in the payment export; a count is never paid.
PAID_KINDS: frozenset[str] = POINT_KINDS | {PER_CAPITA, PER_ITEM}
# Stored and shown, never paid and never earning points (a count, management information).
UNPAID_KINDS: frozenset[str] = frozenset({COUNT, MANAGEMENT_INFORMATION})
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

# How often a service pays ---------------------------------------------------------------------

# ``payment_frequency: Monthly``: one achievement date a month, each a payment date (issue 16);
# the dates may be omitted from the definition, and are then the last day of each month.
MONTHLY = "Monthly"

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
COUNT_FIELD = "Count"  # a per_item indicator's items in the period (FIELD_NAME ``Count``)


def default_fields(kind: str, register_field: str | None = None) -> tuple[str, ...]:
    """The FIELD_NAMEs an indicator of ``kind`` carries when its definition lists none.

    fraction -> Numerator, Denominator (plus its register field when it carries the group's
    register); register -> the register field ("Register" when unnamed); yes_no, tick_box and
    per_capita -> "Yes/No Flag"; count and management_information -> "Value"; per_item -> "Count".
    """
    if kind == FRACTION:
        extra = (register_field,) if register_field else ()
        return (NUMERATOR_FIELD, DENOMINATOR_FIELD, *extra)
    if kind == REGISTER:
        return (register_field or DEFAULT_REGISTER_FIELD,)
    if kind in YES_NO_KINDS:
        return (YES_NO_FIELD,)
    if kind in UNPAID_KINDS:
        return (VALUE_FIELD,)
    if kind == PER_ITEM:
        return (COUNT_FIELD,)
    raise ValueError(f"unknown indicator kind {kind!r}")


def value_field(kind: str, fields: tuple[str, ...] | list[str]) -> str | None:
    """The FIELD_NAME whose value a count or management-information indicator stores and shows:
    a count reads "Value"; management information reads its one field (the QOF COPD009MI rows
    carry "Chronic Obstructive Pulmonary Disease Register"), "Value" when it lists none.  None for
    the other kinds."""
    if kind == COUNT:
        return VALUE_FIELD
    if kind == MANAGEMENT_INFORMATION:
        return fields[0] if fields else VALUE_FIELD
    return None
