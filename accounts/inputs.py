"""What a request may pass to the database: ids and text read from a query string or a form.

One place for the rule (issue 11, "no request ends in a 500"): an id is ASCII digits within the
database's integer range.  Anything else (a 30-digit number, "-1", "²", "١٢٣", 20,000 digits,
which Python will not even turn into an int) is no id at all, exactly as "abc" is: a filter
ignores it, a form field says it is not one of the choices, a lookup answers "no such" (404).
Passed on, such a number overflows SQLite's INTEGER (OverflowError) and 20,000 digits raise
ValueError in ``int()``: a 500.

Text holding a NUL byte cannot be stored in or compared by PostgreSQL ("A string literal cannot
contain NUL"): no text a filter can match.  (Django's ``forms.CharField`` already refuses it; a
raw ``request.GET`` value passed to a queryset needs ``text_or_none``.)
"""

from __future__ import annotations

from collections.abc import Iterable

# Ids are BigAutoField (DEFAULT_AUTO_FIELD): a signed 64-bit integer in PostgreSQL and SQLite.
MAX_ID = 2**63 - 1
_MAX_ID_DIGITS = len(str(MAX_ID))


def id_or_none(value) -> int | None:
    """The id ``value`` spells ("42", 42), or None when it is not one that can exist."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_ID_DIGITS:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def ids_or_none(values: Iterable) -> list[int] | None:
    """Every value as an id, or None if any of them is not one (a ticked row that cannot exist)."""
    found = [id_or_none(value) for value in values]
    return None if any(number is None for number in found) else found


def text_or_none(value, *, max_length: int | None = None) -> str | None:
    """The text, or None when the database could not compare it (a NUL byte) or it is longer
    than anything it could match (``max_length``)."""
    if value is None:
        return None
    text = str(value)
    if "\x00" in text or (max_length is not None and len(text) > max_length):
        return None
    return text



def storable(value):
    """``value`` (text, or a dict or list holding text) with each NUL byte written out as
    ``\\x00``: what the audit log can record of a request (a path with ``%00``) that PostgreSQL
    could not store as it came."""
    if isinstance(value, str):
        return value.replace("\x00", "\\x00")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value
