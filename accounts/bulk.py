"""Inserting thousands of rows a statement, at the cost of the rows and not of the ORM's preparation.

A national recalculation creates 6,410 calculations, 6,410 declarations, their 6,410 histories
and 6,410 providers' tasks in one minute's work (ADR 0017). ``QuerySet.bulk_create`` prepares
every field of every instance through the field (``get_db_prep_save``) and builds one parameter
per value: about 60 microseconds a row for a model of twenty fields, more than the rest of the
write. ``insert_rows`` writes the same rows, read from the same unsaved instances, on PostgreSQL
with ids taken from the table's sequence (one statement) and one ``COPY ... FROM STDIN`` of the
rows as COPY's text (``copy_in``): plain values (numbers, strings, Decimals, datetimes, None) are
written as they are, and only the others (a JSON field's dict) through their field.  (The same
rows as one ``INSERT ... VALUES``, as before: psycopg2 quoted each row, 10 microseconds, and
PostgreSQL parsed each literal; the COPY costs less than either, ADR 0017.)  Elsewhere than
PostgreSQL it is ``bulk_create``.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.fields import AutoFieldMixin

__all__ = ["copy_in", "ids_take", "insert_rows", "unsaved"]

_PLAIN = (int, str, float, Decimal, datetime, date, type(None))  # bool is an int


def insert_rows(
    model: type[models.Model],
    objects: Sequence[models.Model],
    *,
    batch_size: int = 5_000,
    ignore_conflicts: bool = False,
) -> None:
    """Insert these unsaved instances of ``model``, as ``bulk_create`` would, and set their ids.

    Instances whose ids are already set (taken from the sequence beforehand) are inserted under
    them.  ``ignore_conflicts``: a row that breaks a unique constraint is skipped (``ON CONFLICT
    DO NOTHING``, an ``INSERT``: COPY has no such clause), and ids are then not set (read the rows
    back).  ``batch_size``: rows a statement of that ``INSERT`` (a COPY takes them all)."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=batch_size, ignore_conflicts=ignore_conflicts)
        return
    if ignore_conflicts:
        _insert_ignoring_conflicts(model, objects, batch_size=batch_size)
        return
    meta = model._meta
    pk = meta.pk
    if isinstance(pk, AutoFieldMixin):
        missing = [obj for obj in objects if getattr(obj, pk.attname) is None]
        for obj, pk_value in zip(missing, ids_take(model, count=len(missing)), strict=True):
            setattr(obj, pk.attname, pk_value)
    fields = meta.concrete_fields
    columns = [(field.attname, field, _json_text(field) if isinstance(field, models.JSONField) else None) for field in fields]
    text_of = _TEXT_OF
    lines = []
    for obj in objects:
        values = obj.__dict__
        row = []
        for attname, field, own in columns:
            value = values[attname] if attname in values else getattr(obj, attname)
            text = own or text_of.get(type(value))
            row.append(text(value) if text is not None else _prepared_text(field, value))
        lines.append("\t".join(row))
    copy_in(table=meta.db_table, columns=[field.column for field in fields], chunks=["\n".join(lines) + "\n"])
    alias = connection.alias
    for obj in objects:
        obj._state.adding = False
        obj._state.db = alias


def _insert_ignoring_conflicts(model: type[models.Model], objects: Sequence[models.Model], *, batch_size: int) -> None:
    """``insert_rows`` with ``ignore_conflicts``: ``INSERT ... VALUES ... ON CONFLICT DO NOTHING``
    (psycopg2's ``execute_values``), ``batch_size`` rows a statement."""
    from psycopg2.extras import execute_values

    meta = model._meta
    pk = meta.pk
    given = all(getattr(obj, pk.attname) is not None for obj in objects)
    fields = [f for f in meta.concrete_fields if given or not (f.primary_key and isinstance(f, AutoFieldMixin))]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES %s"
        " ON CONFLICT DO NOTHING"
    )
    attnames = [field.attname for field in fields]
    for start in range(0, len(objects), batch_size):
        rows = []
        for obj in objects[start : start + batch_size]:
            values = obj.__dict__
            row = []
            for field, attname in zip(fields, attnames, strict=True):
                value = values[attname] if attname in values else getattr(obj, attname)
                row.append(value if isinstance(value, _PLAIN) else field.get_db_prep_save(value, connection))
            rows.append(tuple(row))
        with connection.cursor() as cursor:  # Django's cursor: the statement is counted and logged as any
            execute_values(cursor, sql, rows, page_size=len(rows))


def ids_take(model: type[models.Model], *, count: int) -> list[int]:
    """``count`` ids for new rows of ``model`` from its id's sequence (PostgreSQL), ascending:
    one statement, and the rows can be written by ``COPY`` (or their ids known before they are)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(model._meta.db_table), model._meta.pk.column, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


class _Chunks(io.TextIOBase):
    """A text stream of the given chunks, each made when ``COPY`` asks for more (psycopg2 reads its
    file with ``read``, any length: one chunk a read)."""

    def __init__(self, chunks: Iterable[str]) -> None:
        self._chunks = iter(chunks)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        return next(self._chunks, "")


def copy_in(*, table: str, columns: Sequence[str], chunks: Iterable[str]) -> None:
    """``COPY table (columns) FROM STDIN`` of these chunks of COPY's text format (PostgreSQL),
    each chunk made when the last has been sent: a generator's next chunk is made while the
    server stores the last.  Through Django's cursor, so logged as a statement where statements
    are (and counted by the tests' query captures), and its errors raised as Django's
    (``IntegrityError``, ``DataError``: psycopg2's own, as a cursor's ``copy_expert`` raises them)."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(sql, _Chunks(chunks))


# COPY's text format: NULL as \N, and a backslash, tab, newline or carriage return in a value escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_TO_ESCAPE = re.compile(r"[\\\t\n\r]").search


def _str_text(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if _TO_ESCAPE(value) else value


# The COPY text of a plain value, by its exact type (a datetime without a zone is read in the
# connection's, UTC, as psycopg2 sends one).
_TEXT_OF: dict[type, Callable[[object], str]] = {
    str: _str_text,
    int: int.__repr__,
    bool: lambda value: "t" if value else "f",
    type(None): lambda value: "\\N",
    Decimal: Decimal.__str__,
    float: float.__repr__,
    datetime: datetime.isoformat,
    date: date.isoformat,
    UUID: UUID.__str__,
}


def _prepared_text(field: models.Field, value) -> str:
    """The COPY text of a value that is not plain (an enum member, a lazy string): through its
    field (``get_db_prep_save``), as ``bulk_create`` sends it."""
    prepared = field.get_db_prep_save(value, connection)
    for kind in type(prepared).__mro__:
        if kind in _TEXT_OF:
            return _TEXT_OF[kind](prepared)
    raise TypeError(f"no COPY text for {field.model.__name__}.{field.name} = {prepared!r}")


def _json_text(field: models.JSONField) -> Callable[[object], str]:
    """The COPY text of a JSON field's value, by its encoder (None: SQL's NULL, as Django stores it)."""
    encoder = field.encoder

    def text(value) -> str:
        return "\\N" if value is None else _str_text(json.dumps(value, cls=encoder))

    return text


@functools.cache
def _unsaved_plan(
    model: type[models.Model],
) -> tuple[tuple[tuple[str, object], ...], tuple[tuple[str, tuple[str, ...], object], ...], dict[str, str], frozenset[str]]:
    """The fields' plain defaults (attname, value); their callable defaults (attname, the names
    that give the field, the callable); the attname of each relation by name; the names an
    instance may be given."""
    meta = model._meta
    plain, called = [], []
    for field in meta.concrete_fields:
        default = field.default if field.has_default() else field.get_default()
        if callable(default):
            given_by = (field.name, field.attname, *(("pk",) if field.primary_key else ()))
            called.append((field.attname, given_by, default))
        else:
            plain.append((field.attname, default))
    relations = {field.name: field.attname for field in meta.concrete_fields if field.is_relation}
    names = frozenset({"pk"} | {f.name for f in meta.concrete_fields} | {f.attname for f in meta.concrete_fields})
    return tuple(plain), tuple(called), relations, names


def unsaved(model: type[models.Model], /, **values) -> models.Model:
    """An unsaved instance, as ``model(**values)`` makes it, at a fifth of the cost: the fields'
    defaults (a callable one, such as ``timezone.now``, called only for a field not given), then
    the values given (a related object by its field's name: its id, and the object cached as
    ``model(**values)`` caches it).  For the thousands of rows a national recalculation writes
    (``insert_rows``); only for models without ``pre_init``/``post_init`` receivers and without an
    ``__init__`` of their own (``tests/accounts/test_bulk.py`` holds it to ``model(**values)``)."""
    plain, called, relations, names = _unsaved_plan(model)
    instance = model.__new__(model)
    state = instance._state = ModelState()
    fields = instance.__dict__
    fields.update(plain)
    for attname, given_by, default in called:
        if not any(name in values for name in given_by):
            fields[attname] = default()
    for name, value in values.items():
        if name not in names:
            raise TypeError(f"{model.__name__}() got an unexpected keyword argument '{name}'")
        if name == "pk":
            name = model._meta.pk.attname
        attname = relations.get(name)
        if attname is None:
            fields[name] = value
        else:
            fields[attname] = None if value is None else value.pk
            if value is not None:
                state.fields_cache[name] = value
    return instance
