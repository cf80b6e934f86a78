"""The GPES extract's layout and what each kind of row is: the columns, the words of the LISTSIZE
and fraction rows, the largest value, and the decision, once per (service, IND_CODE, FIELD_NAME),
of what such rows are (``pair_entry``), shared by the reader's row loop (``reader``) and its fast
path (``fast_rows``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from accounts.loaders import ErrorLog
from achievement.models import IndicatorValue
from participation.definitions import YES_NO_FIELD
from participation.models import EntryKind

from .list_sizes import LIST_SIZE_INDICATOR

if TYPE_CHECKING:
    from .catalogue import ServiceEntry

COLUMNS = (
    "QUALITY_SERVICE",
    "NAME",
    "ORG_CODE",
    "ACH_DATE",
    "IND_CODE",
    "FIELD_NAME",
    "VALUE",
    "DEFAULT_VALUES_USED",
    "SUBMIT_USER_ID",
    "SUBMIT_DATE",
    "SUBMIT_TIME",
    "LAST_SUBMISSION",
)
LIST_SIZE_FIELD = "Registered Population"
NUMERATOR = "Numerator"
DENOMINATOR = "Denominator"
MAX_VALUE = 2**63 - 1
FIELD_NAME_MAX = IndicatorValue._meta.get_field("field_name").max_length
PROGRESS_EVERY = 50_000

# What a (service, IND_CODE, FIELD_NAME) is, decided once per pair rather than once per row:
# a value field (indicator id, bit, COPY middle part, fraction role), a LISTSIZE row, or an error.
_LIST_SIZE = ("list size",)
_NOT_FRACTION, _NUMERATOR, _DENOMINATOR, _YES_NO = 0, 1, 2, -1  # a fraction's role is above 0

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class ExtractInvalid(Exception):
    """The file breaks at least one rule; nothing of it may be applied."""

    def __init__(self, errors: ErrorLog):
        self.errors = errors
        super().__init__(f"{errors.count} error(s)")


def first_undecodable_line(path: Path) -> int:
    """The number of the first line that is not UTF-8 (only looked for once decoding failed)."""
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def pair_entry(
    service: ServiceEntry, ind_code: str, field_name: str, *, bits: dict, field_names: dict[str, str]
) -> tuple | str:
    """What rows with this IND_CODE and FIELD_NAME are for the service: ``_LIST_SIZE``, an error
    message, or (indicator id, bit, COPY middle part, fraction role, IND_CODE, FIELD_NAME).
    ``bits`` numbers each (indicator, field) for the duplicate check; ``field_names`` maps the
    COPY-escaped names back."""
    if ind_code == LIST_SIZE_INDICATOR:
        if field_name != LIST_SIZE_FIELD:
            return f"A {LIST_SIZE_INDICATOR} row must have FIELD_NAME {LIST_SIZE_FIELD!r}, not {field_name!r}."
        return _LIST_SIZE
    indicator_id = service.indicators.get(ind_code)
    if indicator_id is None:
        return f"Unknown indicator {ind_code!r} for {service.code}."
    if not field_name or len(field_name) > FIELD_NAME_MAX:
        return f"FIELD_NAME must be 1 to {FIELD_NAME_MAX} characters."
    entered = service.entered.get(ind_code)
    if entered is not None:
        who = {EntryKind.PCN: "by the PCN", EntryKind.COMMISSIONER: "by the Commissioning Organisation"}.get(
            entered, "manually by the practice"
        )
        return (
            f"{ind_code} is entered {who} in CQRS: GPES does not extract it, and a load must not "
            "overwrite what was entered by hand."
        )
    bit = bits.setdefault((indicator_id, field_name), len(bits))
    escaped = field_name.translate(_COPY_ESCAPES)
    field_names[escaped] = field_name
    role = {NUMERATOR: _NUMERATOR, DENOMINATOR: _DENOMINATOR, YES_NO_FIELD: _YES_NO}.get(field_name, _NOT_FRACTION)
    return (indicator_id, bit, f"{indicator_id}\t{escaped}\t", role, ind_code, field_name)
