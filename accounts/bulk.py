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

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin

__all__ = ["insert_rows"]

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
