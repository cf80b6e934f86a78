"""Staging a batch of a batched load, and what was staged: found, deleted, counted.

Each batch (a Celery task) validates its rows like the single load and COPYs the good ones into
IndicatorValue under new Submission ids from the sequence, records those ids (``ExtractBatch``)
in the same transaction, and commits.  The Submission rows themselves are not written yet, so no
reader can reach the staged values: every read goes through a submission (current values,
history, the latest automatic submission, the achievement list).  A batch with an error stages
nothing.  A batch run again (``acks_late`` redelivery) deletes what its earlier run staged and
gives each group the id it had, so either run's result is right.  A staged value is deleted only
while no Submission row has its id.

Progress: each batch counts its validated rows in the cache; ``progress`` sums them.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from pathlib import Path

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from achievement.models import (
    ExtractBatch,
    ExtractBatchPlan,
    ExtractLoad,
    ExtractStatus,
    IndicatorValue,
    Submission,
)

from .catalogue import Catalogue, Group
from .copy import SubmissionIds, write_values
from .plan import UTF8_BOM
from .reader import ExtractReader

logger = logging.getLogger(__name__)

_PROGRESS_TIMEOUT = 6 * 3600


def latest_plan_id(extract_id: int) -> int | None:
    """The plan the extract's batches and finish work for (None: never batched)."""
    return ExtractBatchPlan.objects.filter(extract_id=extract_id).order_by("-id").values_list("pk", flat=True).first()


def _delete_staged(ids: list[int]) -> int:
    """Delete the values under these Submission ids that have no Submission row (staged)."""
    if not ids:
        return 0
    values = connection.ops.quote_name(IndicatorValue._meta.db_table)
    submissions = connection.ops.quote_name(Submission._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {values} AS v
            WHERE v.submission_id = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM {submissions} AS s WHERE s.id = v.submission_id)
            """,
            [list(ids)],
        )
        return cursor.rowcount


def clean_staged(extract_id: int, *, keep_plan_id: int | None = None) -> int:
    """Delete the values staged by the extract's batches (of every plan, or all but
    ``keep_plan_id``'s), as their ``ExtractBatch`` records list them.  Returns how many were
    deleted."""
    runs = ExtractBatch.objects.filter(plan__extract_id=extract_id)
    if keep_plan_id is not None:
        runs = runs.exclude(plan_id=keep_plan_id)
    return sum(_delete_staged(ids) for ids in runs.values_list("submission_ids", flat=True))


class _Range(io.RawIOBase):
    """Bytes ``start``..``end`` of an open binary file, as a file of their own."""

    def __init__(self, raw, start: int, end: int):
        self._raw = raw
        self._raw.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            return 0
        size = min(len(buffer), self._left)
        data = self._raw.read(size)
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


class BatchReader(ExtractReader):
    """``ExtractReader`` over a batch's byte ranges, with the original file's line numbers."""

    def __init__(self, path: Path, ranges, *args, **kwargs):
        super().__init__(path, *args, **kwargs)
        self.ranges = ranges

    def chunks(self):
        with self.path.open("rb") as raw:
            header = raw.readline().removeprefix(UTF8_BOM).decode("utf-8")
            pick = self._header(io.StringIO(header))
            if pick is None:  # the plan checked the header: cannot happen
                return

            def sources():
                for start, end, line_before in self.ranges:
                    stream = io.TextIOWrapper(
                        io.BufferedReader(_Range(raw, start, end), 1 << 20), encoding="utf-8", newline=""
                    )
                    yield stream, line_before

            yield from self._body(pick, sources(), whole_file=False)


class BatchIds(SubmissionIds):
    """Submission ids for a batch's groups: those of its earlier run first (a redelivered batch
    gives each group the id it had), then new ones from the sequence; no Submission row is
    written (the finish writes them)."""

    def __init__(self, extract, reuse: list[int], *, now: dt.datetime):
        super().__init__(extract, now=now)
        self._reuse = list(reversed(reuse))

    def assign(self, group: Group) -> None:
        if self._reuse:
            group.submission_id = self._reuse.pop()
            self.groups.append(group)
        else:
            super().assign(group)


class _Discard(Exception):
    """Roll back a batch's writes: it found an error."""


def batch_stage(*, extract_id: int, plan_id: int, index: int, ranges) -> dict:
    """Validate one batch and stage its values (committed, unreachable until the finish).

    The ids its values are staged under are recorded (``ExtractBatch``) in the same transaction,
    so whatever is committed can be found and deleted."""
    started = time.perf_counter()
    table = connection.ops.quote_name(ExtractLoad._meta.db_table)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Shared with the other batches; the finish and a new plan wait for it.
            cursor.execute(f"SELECT status, file_path FROM {table} WHERE id = %s FOR SHARE", [extract_id])
            found = cursor.fetchone()
        if found is None or found[0] != ExtractStatus.VALIDATING or latest_plan_id(extract_id) != plan_id:
            logger.info("Extract %s batch %s: plan %s is no longer current; nothing done", extract_id, index, plan_id)
            return {"index": index, "skipped": True}
        with connection.cursor() as cursor:
            # The same batch delivered twice at once: one after the other.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [plan_id % 2**31, index])
        earlier = (
            ExtractBatch.objects.filter(plan_id=plan_id, index=index)
            .order_by("-id")
            .values_list("submission_ids", flat=True)
            .first()
        )
        reuse = earlier or []
        _delete_staged(reuse)
        extract = ExtractLoad.objects.get(pk=extract_id)
        ids = BatchIds(extract, reuse, now=timezone.now())
        reader = BatchReader(
            Path(found[1]),
            [tuple(r) for r in ranges],
            Catalogue.load(),
            ids,
            progress=lambda rows: cache.set(_progress_key(extract_id, index), rows, timeout=_PROGRESS_TIMEOUT),
        )
        try:
            with transaction.atomic():
                try:
                    write_values(reader)
                finally:
                    ids.close()
                if reader.errors:
                    raise _Discard
        except _Discard:
            pass
        result = reader.result
        staged = [] if reader.errors else [g.submission_id for g in ids.groups]
        ExtractBatch.objects.create(
            plan_id=plan_id, index=index, submission_ids=staged, rows=result.rows, error_count=reader.errors.count
        )
    logger.info(
        "Extract %s batch %s: %s rows, %s error(s) in %.2fs",
        extract_id,
        index,
        result.rows,
        reader.errors.count,
        time.perf_counter() - started,
    )
    return {
        "index": index,
        "rows": result.rows,
        "errors": reader.errors.shown,
        "error_count": reader.errors.count,
        "keys": sorted(reader.group_keys),
        "groups": [] if reader.errors else [
            [g.submission_id, g.provider.id, g.provider.pcn_id, g.service.id, g.service.provider_level, g.date_id,
             g.date.isoformat()]
            for g in result.groups
        ],
        "list_sizes": [
            [service_id, org_id, date.isoformat(), size, line]
            for (service_id, org_id, date), (size, line) in result.list_sizes.items()
        ],
    }


# --- progress ---------------------------------------------------------------------------------


def _batches_key(extract_id: int) -> str:
    return f"achievement:extract-batches:{extract_id}"


def _progress_key(extract_id: int, index: int) -> str:
    return f"achievement:extract-progress:{extract_id}:batch:{index}"


def progress_start(extract_id: int, batches: int) -> None:
    """A new plan of ``batches`` batches: none of its rows validated yet."""
    cache.set(_batches_key(extract_id), batches, timeout=_PROGRESS_TIMEOUT)
    cache.set_many({_progress_key(extract_id, i): 0 for i in range(batches)}, timeout=_PROGRESS_TIMEOUT)


def progress(extract_id: int) -> int:
    """Rows validated so far by the batches of a batched load (0 for a single load)."""
    count = cache.get(_batches_key(extract_id))
    if not count:
        return 0
    return sum(v or 0 for v in cache.get_many([_progress_key(extract_id, i) for i in range(count)]).values())
