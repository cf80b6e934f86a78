"""What a payment calculation reads of the achievement data, for a whole batch in a few queries.

The read contract of the batch recalculation (``declarations.services``, ADR 0017): each
function takes every achievement (or provider and date) of a batch at once and runs a fixed
number of queries, whatever the batch's size.

- ``values_digests``: per achievement, a digest of its current submission's values, computed by
  PostgreSQL where it runs, so that recalculating unchanged data does not read the values at all;
- ``current_values``: the values themselves, keyed by indicator and field name (``FieldKeys``);
- ``list_sizes_on``: each provider's registered list size on a date (the latest recorded on or
  before it);
- ``tick_box_answers``: each provider's Yes/No per tick-box indicator on an achievement date
  (the rule of ``tick_box_decide``, the same for the tick-box screen).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from django.db import connection

from accounts.models import ListSize
from participation.definitions.field_keys import FieldKeys
from participation.models import AchievementDate, Indicator

from .entry_rules import TICK_BOX_KINDS
from .models import IndicatorValue, Submission, TickBoxValue

__all__ = [
    "FieldKeys",
    "current_values",
    "values_and_digests",
    "list_sizes_on",
    "tick_box_answers",
    "tick_box_decide",
    "values_digest",
    "values_digests",
]


def values_digest(rows: Iterable[tuple[int, str, int]]) -> str:
    """The digest of one submission's values, (indicator id, field name, value) rows, where the
    database cannot compute one: the MD5 of ``"<indicator id> <field name> <value>"`` joined by
    commas, in (indicator id, field name) order."""
    text = ",".join(f"{indicator_id} {field} {value}" for indicator_id, field, value in sorted(rows))
    return "md5:" + hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


# PostgreSQL: per current submission, the number of its values and the sum of a 64-bit hash of
# each (indicator id, field name, value): computed by an index scan of the submission's values,
# with no text built and no sort, so a national batch's digests cost milliseconds.  A change of
# any value, field or indicator changes the sum but with a chance of 2**-64.
_DIGESTS_SQL = """
SELECT s.achievement_id,
       (SELECT count(*)::text || ':' || sum(hashint8extended(v.value, hashtextextended(v.field_name, v.indicator_id)))::text
          FROM {values} v WHERE v.submission_id = s.id AND v.field_name = ANY(%s))
  FROM {submissions} s
 WHERE s.is_current AND s.achievement_id = ANY(%s)
"""

# PostgreSQL: the values of the current submissions, read submission by submission through the
# values' key (``OFFSET 0`` keeps the planner from scanning the whole table for a batch), each
# submission's as two arrays: the values' keys (``FieldKeys``: indicator id x m + the position of
# the field name among those asked for) and the values.  Python makes an achievement's values
# with one ``dict(zip(keys, values))`` rather than a tuple and an insertion a value.
#
# With each achievement's values, their digest (``_DIGESTS_SQL``'s, from the same rows in the same
# pass): an achievement never calculated needs both, so its values are read once.
_VALUES_SQL = """
SELECT s.achievement_id, v.keys, v.vals, v.digest
  FROM {submissions} s
  JOIN LATERAL (
       SELECT array_agg(indicator_id * %(m)s + array_position(%(names)s::varchar[], field_name)) AS keys,
              array_agg(value) AS vals,
              count(*)::text || ':' || sum(hashint8extended(value, hashtextextended(field_name, indicator_id)))::text
                AS digest
         FROM (SELECT indicator_id, field_name, value FROM {values} v
                WHERE v.submission_id = s.id AND v.field_name = ANY(%(names)s) OFFSET 0) v
       ) v ON true
 WHERE s.is_current AND s.achievement_id = ANY(%(ids)s) AND v.keys IS NOT NULL
"""


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {"values": quote(IndicatorValue._meta.db_table), "submissions": quote(Submission._meta.db_table)}


def values_digests(*, achievement_ids: list[int], field_names: Iterable[str]) -> dict[int, str]:
    """Per achievement whose current submission holds values of ``field_names`` (the fields the
    payment rules read: the others are stored and shown, and change no figure): a digest of
    them, which changes when any of them does.  One query; on PostgreSQL computed there (the
    values never leave the database), elsewhere from the rows (``values_digest``)."""
    if not achievement_ids:
        return {}
    names = sorted(set(field_names))
    if connection.vendor != "postgresql":
        rows: dict[int, list[tuple[int, str, int]]] = {}
        for achievement_id, indicator_id, field, value in _value_rows(achievement_ids, names):
            rows.setdefault(achievement_id, []).append((indicator_id, field, value))
        return {achievement_id: values_digest(found) for achievement_id, found in rows.items()}
    with connection.cursor() as cursor:
        cursor.execute(_DIGESTS_SQL.format(**_tables()), [names, list(achievement_ids)])
        return {achievement_id: "pg:" + digest for achievement_id, digest in cursor.fetchall() if digest is not None}


def _value_rows(achievement_ids: list[int], field_names: list[str]):
    """(achievement id, indicator id, field name, value) of the current submissions (not PostgreSQL)."""
    return IndicatorValue.objects.filter(
        submission__achievement_id__in=achievement_ids, submission__is_current=True, field_name__in=field_names
    ).values_list("submission__achievement_id", "indicator_id", "field_name", "value")


def current_values(*, achievement_ids: list[int], keys: FieldKeys) -> dict[int, dict[int, int]]:
    """The current submissions' values of the field names of ``keys`` (those the rules read):
    {achievement id: {key: value}} (``FieldKeys``).  One query."""
    return values_and_digests(achievement_ids=achievement_ids, keys=keys)[0]


def values_and_digests(
    *, achievement_ids: list[int], keys: FieldKeys
) -> tuple[dict[int, dict[int, int]], dict[int, str]]:
    """``current_values`` and, from the same rows, ``values_digests`` (those of an achievement
    whose current submission holds none of the fields are absent from both).  One query."""
    if not achievement_ids:
        return {}, {}
    values: dict[int, dict[int, int]] = {}
    if connection.vendor != "postgresql":
        rows: dict[int, list[tuple[int, str, int]]] = {}
        for achievement_id, indicator_id, name, value in _value_rows(achievement_ids, list(keys.names)):
            values.setdefault(achievement_id, {})[keys.key(indicator_id, name)] = value
            rows.setdefault(achievement_id, []).append((indicator_id, name, value))
        return values, {achievement_id: values_digest(found) for achievement_id, found in rows.items()}
    digests: dict[int, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            _VALUES_SQL.format(**_tables()), {"names": list(keys.names), "m": keys.m, "ids": list(achievement_ids)}
        )
        for achievement_id, found, row_values, digest in cursor:
            values[achievement_id] = dict(zip(found, row_values, strict=True))
            digests[achievement_id] = "pg:" + digest
    return values, digests


def list_sizes_on(*, keys: Iterable[tuple[int, dt.date]]) -> dict[tuple[int, dt.date], int | None]:
    """Each (provider id, date)'s registered list size: the latest recorded on or before the date
    (``selectors.list_size_on``), None when none is.  One query."""
    keys = set(keys)
    if not keys:
        return {}
    latest = max(date for _, date in keys)
    history: dict[int, list[tuple[dt.date, int]]] = {}
    rows = (
        ListSize.objects.filter(organisation_id__any={provider_id for provider_id, _ in keys}, date__lte=latest)
        .order_by("organisation_id", "-date")
        .values_list("organisation_id", "date", "size")
    )
    for provider_id, date, size in rows:
        history.setdefault(provider_id, []).append((date, size))
    sizes: dict[tuple[int, dt.date], int | None] = {}
    for provider_id, date in keys:
        sizes[(provider_id, date)] = next((size for on, size in history.get(provider_id, ()) if on <= date), None)
    return sizes


def tick_box_decide(
    *,
    indicators: dict[int, tuple[str, bool]],
    rows: Iterable[tuple[int, int, bool]],
    achievement_date_id: int,
) -> dict[str, bool]:
    """A provider's Yes/No per tick-box indicator code on an achievement date, from its tick-box
    rows of that service on or before the date, latest first per indicator ((indicator id,
    achievement date id, value)): the value set for this date; else, for an indicator that
    carries forward, a Yes set on an earlier date stands (unless a later date before this one has
    an explicit value, which then decides); else No (job aids: "defaults to No")."""
    answers = {code: False for code, _ in indicators.values()}
    decided: set[int] = set()
    for indicator_id, date_id, value in rows:
        if indicator_id in decided or indicator_id not in indicators:
            continue
        decided.add(indicator_id)  # the latest explicit value on or before the date decides
        code, carry_forward = indicators[indicator_id]
        answers[code] = value if date_id == achievement_date_id else (value and carry_forward)
    return answers


def tick_box_answers(
    *, keys: Iterable[tuple[int, int]], indicator_ids: Iterable[int] | None = None
) -> dict[tuple[int, int], dict[str, bool]]:
    """Per (provider id, achievement date id): its Yes/No per tick-box indicator code of the
    date's service (only ``indicator_ids`` when given), by ``tick_box_decide``.  Three queries,
    none when there is no key."""
    keys = set(keys)
    if not keys:
        return {}
    dates = {
        pk: (service_id, date)
        for pk, service_id, date in AchievementDate.objects.filter(pk__in={d for _, d in keys}).values_list(
            "pk", "service_id", "date"
        )
    }
    indicators_of: dict[int, dict[int, tuple[str, bool]]] = {service_id: {} for service_id, _ in dates.values()}
    wanted = Indicator.objects.filter(service_id__in=indicators_of)
    wanted = wanted.filter(pk__in=list(indicator_ids)) if indicator_ids is not None else wanted.filter(
        kind__in=TICK_BOX_KINDS
    )
    for pk, service_id, code, carry_forward in wanted.values_list("pk", "service_id", "code", "carry_forward"):
        indicators_of[service_id][pk] = (code, carry_forward)
    rows_of: dict[tuple[int, int], list[tuple[int, dt.date, int, bool]]] = {}
    all_ids = [pk for indicators in indicators_of.values() for pk in indicators]
    if all_ids:
        rows = (
            TickBoxValue.objects.filter(
                provider_id__any={provider_id for provider_id, _ in keys},
                indicator_id__in=all_ids,
                achievement_date__date__lte=max(date for _, date in dates.values()),
            )
            .order_by("indicator_id", "-achievement_date__date")
            .values_list("provider_id", "achievement_date__service_id", "indicator_id", "achievement_date__date",
                         "achievement_date_id", "value")
        )
        for provider_id, service_id, indicator_id, date, date_id, value in rows:
            rows_of.setdefault((provider_id, service_id), []).append((indicator_id, date, date_id, value))
    answers: dict[tuple[int, int], dict[str, bool]] = {}
    for provider_id, date_id in keys:
        if date_id not in dates:
            answers[(provider_id, date_id)] = {}
            continue
        service_id, on = dates[date_id]
        answers[(provider_id, date_id)] = tick_box_decide(
            indicators=indicators_of[service_id],
            rows=(
                (indicator_id, row_date_id, value)
                for indicator_id, row_date, row_date_id, value in rows_of.get((provider_id, service_id), ())
                if row_date <= on
            ),
            achievement_date_id=date_id,
        )
    return answers
