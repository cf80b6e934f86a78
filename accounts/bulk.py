"""Inserting thousands of rows a statement, at the cost of the rows and not of the ORM's preparation.

A national recalculation creates 6,410 calculations, 6,410 declarations, their 6,410 histories
and 6,410 providers' tasks in one minute's work (ADR 0017). ``QuerySet.bulk_create`` prepares
every field of every instance through the field (``get_db_prep_save``) and builds one parameter
per value: about 60 microseconds a row for a model of twenty fields, more than the rest of the
write. ``insert_rows`` writes the same rows, read from the same unsaved instances, with one
``INSERT ... VALUES ... RETURNING id`` (psycopg2's ``execute_values``): plain values (numbers,
strings, Decimals, datetimes, None) go to psycopg2 as they are, and only the others (a JSON
field's dict) through their field. Elsewhere than PostgreSQL it is ``bulk_create``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.fields import AutoFieldMixin

__all__ = ["insert_rows", "unsaved"]

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
    DO NOTHING``), and ids are then not set (read the rows back)."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=batch_size, ignore_conflicts=ignore_conflicts)
        return
    from psycopg2.extras import execute_values

    meta = model._meta
    pk = meta.pk
    given = all(getattr(obj, pk.attname) is not None for obj in objects)
    fields = [f for f in meta.concrete_fields if given or not (f.primary_key and isinstance(f, AutoFieldMixin))]
    quote = connection.ops.quote_name
    sql = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES %s"
    returning = not given and not ignore_conflicts
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    elif returning:
        sql += f" RETURNING {quote(pk.column)}"
    alias = connection.alias  # read once: each read of ``connection`` is a thread-local lookup
    attnames = [field.attname for field in fields]
    for start in range(0, len(objects), batch_size):
        chunk = objects[start : start + batch_size]
        rows = []
        for obj in chunk:
            values = obj.__dict__
            row = []
            for field, attname in zip(fields, attnames, strict=True):
                value = values[attname] if attname in values else getattr(obj, attname)
                row.append(value if isinstance(value, _PLAIN) else field.get_db_prep_save(value, connection))
            rows.append(tuple(row))
        with connection.cursor() as cursor:  # Django's cursor: the statement is counted and logged as any
            ids = execute_values(cursor, sql, rows, page_size=len(rows), fetch=returning)
        for index, obj in enumerate(chunk):
            if returning:
                setattr(obj, pk.attname, ids[index][0])
            if returning or given:
                obj._state.adding = False
                obj._state.db = alias


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
