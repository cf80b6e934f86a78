"""Writing an extract's values: COPY of the validated rows, the Achievement and Submission rows
under ids handed out while streaming, the switch of current submissions, and list sizes.

Rows are written as they are validated: on PostgreSQL straight into IndicatorValue's table with
``COPY`` (the validation runs inside the file-like object COPY reads from, so Python and the
database work side by side on two cores); elsewhere with ``bulk_create`` in batches.  Once any
error is found nothing more is written, and the caller rolls the whole load back.

Submission ids are taken from the sequence in blocks while streaming (through a side
connection: the main one is busy with the COPY); the Achievement and Submission rows are written
after the values.  IndicatorValue is keyed by (submission, indicator, field) with no surrogate
id, and its foreign keys are not database constraints: PostgreSQL checks a foreign key row by
row, and the id's sequence and index cost as much again (measured on 3.5 million rows: 35 s with
both, 13 s without the foreign keys, about 5 s with neither; docs/adr/0004).  The loader checks
every id against the catalogue before it writes it, and the ORM enforces CASCADE/PROTECT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from accounts.bulk import copy_in, insert_rows
from accounts.models import ListSize
from achievement.models import Achievement, IndicatorValue, Submission, SubmissionSource, SubmissionStatus

from .catalogue import Group
from .reader import ExtractReader

BULK_BATCH = 5_000
_ID_BLOCK = 1_000


class SubmissionIds:
    """Hands out the id of each group's new Submission while the values stream.

    On PostgreSQL ids are taken from the sequence in blocks and the rows are written afterwards
    (``write``): one statement per thousand groups instead of two per group.  Elsewhere the
    Achievement and Submission are created when the group is first seen.
    """

    def __init__(self, extract, *, now: dt.datetime):
        self.extract = extract
        self.now = now
        self.vendor = connection.vendor
        self._block: list[int] = []
        self._side = None
        self.groups: list[Group] = []

    def assign(self, group: Group) -> None:
        if self.vendor == "postgresql":
            if not self._block:
                self._block = self._reserve(_ID_BLOCK)
            group.submission_id = self._block.pop()
        else:
            achievement = achievements_for([group])[(group.provider.id, group.date_id)]
            group.submission_id = self._new_submission(achievement, None).pk
        self.groups.append(group)

    def _reserve(self, count: int) -> list[int]:
        """Take ``count`` ids from Submission's sequence, through a side connection: the main one
        is busy with the COPY.  Sequences are not transactional, so the ids stay ours either way
        (a rolled-back load leaves a gap, nothing else)."""
        if self._side is None:
            import psycopg2

            self._side = psycopg2.connect(**connection.get_connection_params())
            self._side.autocommit = True
        with self._side.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Submission._meta.db_table, count],
            )
            ids = [row[0] for row in cursor.fetchall()]
        ids.reverse()
        return ids

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None

    def _new_submission(self, achievement_id: int, pk: int | None) -> Submission:
        submission = submitted(
            achievement_id=achievement_id, source=SubmissionSource.EXTRACT, extract=self.extract, now=self.now, pk=pk
        )
        if pk is None:
            submission.save()
        return submission

    def write(self) -> None:
        """Write the Achievement and Submission rows of the ids handed out (PostgreSQL): two
        statements over arrays of the groups, no instance built (6,410 of each on a national load)."""
        if self.vendor != "postgresql" or not self.groups:
            return
        groups = self.groups
        quote = connection.ops.quote_name
        achievements = quote(Achievement._meta.db_table)
        submissions = quote(Submission._meta.db_table)
        providers = [g.provider.id for g in groups]
        dates = [g.date_id for g in groups]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {achievements} (provider_id, service_id, achievement_date_id, created_at, created_by_id,
                                            data_version)
                SELECT g.provider_id, g.service_id, g.date_id, %s, NULL, 0
                  FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS g(provider_id, service_id, date_id)
                ON CONFLICT DO NOTHING
                """,
                [self.now, providers, [g.service.id for g in groups], dates],
            )
            cursor.execute(
                f"""
                INSERT INTO {submissions} (id, achievement_id, status, source, extract_id, is_current,
                                           superseded_by_id, notes, created_by_id, created_at, submitted_at)
                SELECT g.id, a.id, %s, %s, %s, false, NULL, '', %s, %s, %s
                  FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS g(id, provider_id, date_id)
                  JOIN {achievements} a ON a.provider_id = g.provider_id AND a.achievement_date_id = g.date_id
                """,
                [
                    SubmissionStatus.SUBMITTED,
                    SubmissionSource.EXTRACT,
                    self.extract.pk,
                    self.extract.created_by_id,
                    self.now,
                    self.now,
                    [g.submission_id for g in groups],
                    providers,
                    dates,
                ],
            )
            if cursor.rowcount != len(groups):  # cannot happen: every group's achievement was just ensured
                raise RuntimeError(f"{cursor.rowcount} submissions written for {len(groups)} groups")


def submitted(*, achievement_id: int, source: str, extract, now: dt.datetime, pk: int | None = None, **fields) -> Submission:
    """A new Submitted submission (unsaved) made by this extract's load, by whoever received it
    unless ``fields`` say otherwise."""
    fields.setdefault("created_by", extract.created_by)
    return Submission(
        id=pk,
        achievement_id=achievement_id,
        status=SubmissionStatus.SUBMITTED,
        source=source,
        extract=extract,
        created_at=now,
        submitted_at=now,
        **fields,
    )


def achievements_for(groups: Iterable[Group]) -> dict[tuple[int, int], int]:
    """The Achievement id of each (provider, achievement date), created where missing."""
    groups = list(groups)
    insert_rows(
        Achievement,
        [Achievement(provider_id=g.provider.id, service_id=g.service.id, achievement_date_id=g.date_id) for g in groups],
        ignore_conflicts=True,
        batch_size=BULK_BATCH,
    )
    date_ids = {g.date_id for g in groups}
    provider_ids = {g.provider.id for g in groups}
    found = Achievement.objects.filter(achievement_date_id__in=date_ids).values_list(
        "provider_id", "achievement_date_id", "pk"
    )
    if len(provider_ids) < 500:
        found = found.filter(provider_id__in=provider_ids)
    return {(provider_id, date_id): pk for provider_id, date_id, pk in found.iterator()}



def write_values(reader: ExtractReader) -> None:
    """Stream the validated values into IndicatorValue (COPY on PostgreSQL); then the reader's
    checks that need a query (``ExtractReader.finish``)."""
    chunks = reader.chunks()
    if connection.vendor == "postgresql":
        copy_in(
            table=IndicatorValue._meta.db_table,
            columns=("submission_id", "indicator_id", "field_name", "value"),
            chunks=("".join(lines) for lines in chunks),
        )
        reader.finish()
        return
    field_names = reader.field_names
    for lines in chunks:
        batch = []
        for line in lines:
            submission_id, indicator_id, field_name, value = line[:-1].split("\t")
            batch.append(
                IndicatorValue(
                    submission_id=int(submission_id),
                    indicator_id=int(indicator_id),
                    field_name=field_names[field_name],
                    value=int(value),
                )
            )
        IndicatorValue.objects.bulk_create(batch, batch_size=BULK_BATCH)
    reader.finish()



def switch_current(*, extract_id: int, source: str) -> None:
    """Make this extract's submissions (of ``source``) current; the previous ones superseded.

    Two statements in the caller's transaction: readers see the old values until it commits.
    """
    table = connection.ops.quote_name(Submission._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS old SET is_current = %s, superseded_by_id = new.id
            FROM {table} AS new
            WHERE new.extract_id = %s AND new.source = %s
              AND old.achievement_id = new.achievement_id AND old.is_current AND old.id <> new.id
            """,
            [False, extract_id, source],
        )
        cursor.execute(
            f"UPDATE {table} SET is_current = %s WHERE extract_id = %s AND source = %s",
            [True, extract_id, source],
        )


def store_list_sizes(list_sizes: dict[tuple[int, dt.date], int]) -> None:
    """A LISTSIZE row is the provider's registered list size on the achievement date."""
    if not list_sizes:
        return
    if connection.vendor == "postgresql":  # one statement over arrays, no instance built
        keys = list(list_sizes)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {connection.ops.quote_name(ListSize._meta.db_table)} (organisation_id, date, size)
                SELECT * FROM unnest(%s::bigint[], %s::date[], %s::integer[])
                ON CONFLICT (organisation_id, date) DO UPDATE SET size = EXCLUDED.size
                """,
                [[org_id for org_id, _ in keys], [date for _, date in keys], [list_sizes[k] for k in keys]],
            )
        return
    ListSize.objects.bulk_create(
        [ListSize(organisation_id=org_id, date=date, size=size) for (org_id, date), size in list_sizes.items()],
        update_conflicts=True,
        unique_fields=["organisation", "date"],
        update_fields=["size"],
        batch_size=BULK_BATCH,
    )



def affected_achievement_ids(*, extract_id: int) -> list[int]:
    """The achievements this extract made new current submissions for (practices and PCNs)."""
    return list(
        Submission.objects.filter(extract_id=extract_id, is_current=True).values_list("achievement_id", flat=True)
    )

