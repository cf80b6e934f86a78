"""A GPES extract loaded by several Celery workers: batches of practices, joined by a final step.

``services.extract_load`` loads a file of up to ``EXTRACT_BATCH_ROWS`` rows (setting, default
250,000) in one task and one transaction (achievement/extracts.py).  A larger file, on
PostgreSQL, is split so that any number of workers on any number of machines share it:

1. **Plan** (the coordinator, ``batch_load_start``): the file is cut at about every
   ``EXTRACT_BATCH_ROWS`` rows, each cut moved forward to the next line where the organisation
   changes (``plan_by_offsets``: a few lines read per cut, plus one pass at C speed that counts
   newlines for the line numbers and checks UTF-8 and carriage returns).  A batch is a byte
   range of the stored file with the number of the line before it, so errors carry the
   original file's line numbers, and nothing is copied.  All the rows of an organisation, and
   with them every duplicate, Numerator/Denominator and LISTSIZE check, must be in one batch:
   GPES writes files grouped by organisation, and the finish checks it (below).  The plan is
   recorded in the audit log (``extract_batches_planned``).  A file that cannot be split safely
   (a bad header, no rows, bytes that are not UTF-8, a bare carriage return) is loaded by the
   single task, which reports its errors exactly as before.
2. **Stage** (a chord of ``batch_stage`` tasks): each batch validates its rows like the single
   load and COPYs the good ones into IndicatorValue under new Submission ids from the sequence,
   records those ids in the audit log (``extract_batch_staged``) in the same transaction, and
   commits.  The Submission rows themselves are not written yet, so no reader can reach the
   staged values: every read goes through a submission (current values, history, the latest
   automatic submission, the achievement list).  A batch with an error stages nothing.  A batch
   run again (``acks_late`` redelivery) deletes what its earlier run staged and gives each group
   the id it had, so either run's result is right.  Each batch returns its row count, its errors
   (first 100 and a count), every (service, organisation, date) it saw, its groups and list
   sizes.
3. **Finish** (the chord's callback, ``batch_finish``), in ONE transaction: if a (service,
   organisation, date) turned up in two batches (a file not grouped by organisation), every
   staged value is deleted and the file planned again by ``plan_batches``, which reads every
   line and sends each organisation's rows, wherever they are, to one batch.  If any batch found
   an error, every staged value of the extract is deleted and the extract is Rejected with every
   error (the first 100 in line order, then a count), as the single load reports them.
   Otherwise the Achievements and Submissions are written with the staged ids and become
   current (superseding the old ones), list sizes are stored, Network Contract DES values
   aggregated to the PCNs, the extract is Loaded and the recalculation enqueued: readers see the
   old values until this commits, then the new ones.

Crash safety: a batch holds the extract row FOR SHARE while it stages, the finish and a new plan
take it FOR UPDATE.  Loading a stuck extract again (``extract_load``) deletes the values staged
under every earlier plan of it (the audit records list them) and plans afresh; batches and
finishes of an earlier plan find that they are no longer the latest and do nothing.  A staged
value is deleted only while no Submission row has its id.

Progress: each batch counts its validated rows in the cache; ``progress`` sums them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import audit_record

from . import extracts, hooks
from .extracts import (
    COLUMNS,
    MAX_ERRORS_SHOWN,
    ErrorLog,
    ExtractReader,
    Group,
    OrganisationEntry,
    ServiceEntry,
    SubmissionIds,
)
from .models import ExtractLoad, ExtractStatus, IndicatorValue, Submission, SubmissionSource

logger = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 250_000
PLANNED = "extract_batches_planned"
STAGED = "extract_batch_staged"
_PROGRESS_TIMEOUT = 6 * 3600
_UTF8_BOM = b"\xef\xbb\xbf"


def batch_rows() -> int:
    """Rows per batch, and the size above which a file is loaded in batches: the setting
    ``EXTRACT_BATCH_ROWS``, else the environment variable of that name; 0 (the default) loads
    every extract in one task, the fastest on one machine.  Deployments with workers on several
    machines set it (e.g. 250,000, ``DEFAULT_BATCH_ROWS``)."""
    value = getattr(settings, "EXTRACT_BATCH_ROWS", None) or os.environ.get("EXTRACT_BATCH_ROWS")
    return max(0, int(value or 0))


def wanted(extract: ExtractLoad) -> bool:
    """Load this extract in batches?  Batching is on, the file is larger than one batch, and the
    database is PostgreSQL (the staging relies on Submission ids from a sequence and on COPY)."""
    rows = batch_rows()
    return connection.vendor == "postgresql" and rows > 0 and extract.rows_total > rows


# --- 1. the plan ----------------------------------------------------------------------------


@dataclass
class Batch:
    ranges: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, line before)
    rows: int = 0  # lines, blank ones included (the batch's reader counts the rows)


def _columns(header: bytes) -> tuple[int, int, int] | None:
    """The positions of QUALITY_SERVICE, ORG_CODE and ACH_DATE, or None for a header the single
    load should report on."""
    try:
        text = header.removeprefix(_UTF8_BOM).decode("utf-8")
        names = [name.strip() for name in next(csv.reader([text], strict=True))]
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    if sorted(names) != sorted(COLUMNS):
        return None
    return tuple(names.index(name) for name in ("QUALITY_SERVICE", "ORG_CODE", "ACH_DATE"))


def _fields(line: bytes, splits: int) -> list[bytes]:
    """The first ``splits`` fields of a line as the reader will see them (bytes)."""
    if b'"' in line:
        try:
            return [value.encode("utf-8") for value in next(csv.reader([line.decode("utf-8")], strict=True))]
        except (UnicodeDecodeError, csv.Error, StopIteration):
            return []
    return line.rstrip(b"\r\n").split(b",", splits)


_BLOCK = 8 << 20


def plan_by_offsets(path: Path, rows_per_batch: int) -> list[Batch] | None:
    """Split the file at about every ``rows_per_batch`` rows, each cut moved forward to where the
    organisation changes: the coordinator reads a few lines per batch plus one pass at C speed
    (newlines counted for the line numbers, UTF-8 and carriage returns checked).  Right for a
    file grouped by organisation, as GPES writes them; the finish checks that no group landed in
    two batches and otherwise has the file planned again by ``plan_batches``.  None when the
    single load should take the file."""
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.readline()
        columns = _columns(header)
        if columns is None:
            return None
        i_org = columns[1]
        splits = max(columns) + 1
        body_start = len(header)
        sample = f.read(1 << 20)
        if sample.count(b"\n") == 0:
            return None
        line_bytes = len(sample) / sample.count(b"\n")
        count = max(1, math.ceil((size - body_start) / (rows_per_batch * line_bytes)))
        cuts = [body_start]
        for k in range(1, count):
            position = body_start + k * (size - body_start) // count
            if position <= cuts[-1]:
                continue
            f.seek(position - 1)
            f.readline()  # to the start of the next whole line
            cut = f.tell()
            first = f.readline()
            org = _fields(first, splits)[i_org : i_org + 1]
            while True:
                cut_candidate = f.tell()
                line = f.readline()
                if not line:
                    cut = size
                    break
                if _fields(line, splits)[i_org : i_org + 1] != org:
                    cut = cut_candidate
                    break
            if cuts[-1] < cut < size:
                cuts.append(cut)
        cuts.append(size)

        # One pass in blocks that end at a line end: newlines before each cut, and the checks.
        f.seek(body_start)
        position, newlines, line_before = body_start, 0, {}
        pending = sorted(set(cuts))
        while True:
            block = f.read(_BLOCK)
            if not block:
                break
            if not block.endswith(b"\n"):
                block += f.readline()
            if not block.isascii():
                try:
                    block.decode("utf-8")
                except UnicodeDecodeError:
                    return None
            if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
                return None  # a bare carriage return ends a line in text mode: not split here
            end = position + len(block)
            while pending and pending[0] < end:
                cut = pending.pop(0)
                line_before[cut] = 1 + newlines + block.count(b"\n", 0, cut - position)
            newlines += block.count(b"\n")
            position = end
        for cut in pending:
            line_before[cut] = 1 + newlines
    batches = [
        Batch(ranges=[(start, end, line_before[start])], rows=line_before[end] - line_before[start])
        for start, end in zip(cuts, cuts[1:], strict=False)
        if end > start
    ]
    return batches or None


def plan_batches(path: Path, rows_per_batch: int) -> list[Batch] | None:
    """Split the file into batches of whole organisations wherever their rows are, or None when
    the single load should take it (see the module docstring).  One pass over every line in
    Python (about 0.75 s a million rows): used when ``plan_by_offsets`` cut a group in two."""
    with path.open("rb") as f:
        header = f.readline()
        columns = _columns(header)
        if columns is None:
            return None  # the single load reports the header's errors
        i_org = columns[1]
        splits = max(columns) + 1

        batches: list[Batch] = []
        batch_of_org: dict[bytes, int] = {}
        current: Batch | None = None
        current_index = -1
        range_index = -1
        range_start = offset = len(header)
        range_line = line_no = 1
        for line in f:
            line_no += 1
            if not line.isascii():
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return None
            if b"\r" in line and (line.count(b"\r") > 1 or not line.endswith(b"\r\n")):
                return None  # a bare carriage return ends a line in text mode: not split here
            row = _fields(line, splits)
            org = row[i_org] if len(row) >= splits else None
            index = batch_of_org.get(org) if org is not None else current_index
            if index is None or index < 0:
                if current is None or current.rows >= rows_per_batch:
                    current = Batch()
                    batches.append(current)
                    current_index = len(batches) - 1
                index = current_index
                if org is not None:
                    batch_of_org[org] = index
            batches[index].rows += 1
            if index != range_index:
                if range_index >= 0:
                    batches[range_index].ranges.append((range_start, offset, range_line))
                range_index, range_start, range_line = index, offset, line_no - 1
            offset += len(line)
        if range_index < 0:
            return None  # no rows: the single load says so
        batches[range_index].ranges.append((range_start, offset, range_line))
    if sum(len(b.ranges) for b in batches) > 4 * len(batches) + 1_000:
        return None  # organisations scattered over the file: not worth splitting
    return batches


def _events(extract_id: int, action: str):
    return AuditEvent.objects.filter(
        action=action, object_type=ExtractLoad._meta.label, object_id=str(extract_id)
    ).order_by("-id")


def latest_plan_id(extract_id: int) -> int | None:
    return _events(extract_id, PLANNED).values_list("pk", flat=True).first()


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
    ``keep_plan_id``'s), as their audit records list them.  Returns how many were deleted."""
    deleted = 0
    for detail in _events(extract_id, STAGED).values_list("detail", flat=True):
        if detail.get("plan") != keep_plan_id:
            deleted += _delete_staged(detail.get("ids", []))
    return deleted


def batch_load_start(*, extract_id: int, scan: bool = False) -> ExtractLoad | None:
    """The coordinator: plan the batches and start them (a chord), or None when the file should
    be loaded by the single task.  Called by ``services.extract_load`` on a Validating extract,
    and by the finish with ``scan`` when the cuts by offset split a group."""
    extract = ExtractLoad.objects.get(pk=extract_id)
    path = Path(extract.file_path)
    if not path.exists():
        return None
    started = time.perf_counter()
    batches = (plan_batches if scan else plan_by_offsets)(path, batch_rows())
    if batches is None:
        logger.info("Extract %s: not split into batches; loaded by one task", extract_id)
        return None
    with transaction.atomic():
        extract = ExtractLoad.objects.select_for_update().get(pk=extract_id)
        if extract.status != ExtractStatus.VALIDATING:
            return extract
        cleaned = clean_staged(extract_id)
        plan = audit_record(
            action=PLANNED,
            obj=extract,
            detail={
                "batches": len(batches),
                "rows": sum(b.rows for b in batches),
                "batch_rows": batch_rows(),
                "by": "scan" if scan else "offsets",
            },
        )
    cache.set(_batches_key(extract_id), len(batches), timeout=_PROGRESS_TIMEOUT)
    cache.set_many({_progress_key(extract_id, i): 0 for i in range(len(batches))}, timeout=_PROGRESS_TIMEOUT)
    logger.info(
        "Extract %s: planned %s batch(es) by %s in %.2fs (%s staged value(s) of earlier plans deleted)",
        extract_id,
        len(batches),
        "scan" if scan else "offsets",
        time.perf_counter() - started,
        cleaned,
    )
    from .tasks import extract_batch_finish_task, extract_batch_stage_task

    launch(
        [extract_batch_stage_task.s(extract_id, plan.pk, i, batch.ranges) for i, batch in enumerate(batches)],
        extract_batch_finish_task.s(extract_id, plan.pk),
    )
    return ExtractLoad.objects.get(pk=extract_id)


def launch(header, callback) -> None:
    """Run the batches on any workers, then the finish (a Celery chord; eager in-process).
    They go to the queue the load came from, so a deployment that routes extract loads to
    workers of their own keeps them there."""
    from celery import chord, current_task

    request = getattr(current_task, "request", None)
    queue = None
    if request is not None and not request.is_eager:
        queue = (request.delivery_info or {}).get("routing_key")
    if queue:
        header = [signature.set(queue=queue) for signature in header]
        callback = callback.set(queue=queue)
    chord(header)(callback)


# --- 2. staging a batch ---------------------------------------------------------------------


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
            header = raw.readline().removeprefix(_UTF8_BOM).decode("utf-8")
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

    The ids its values are staged under are recorded in the audit log in the same transaction
    (``extract_batch_staged``), so whatever is committed can be found and deleted."""
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
            _events(extract_id, STAGED)
            .filter(detail__plan=plan_id, detail__index=index)
            .values_list("detail", flat=True)
            .first()
        )
        reuse = earlier["ids"] if earlier else []
        _delete_staged(reuse)
        extract = ExtractLoad.objects.get(pk=extract_id)
        ids = BatchIds(extract, reuse, now=timezone.now())
        reader = BatchReader(
            Path(found[1]),
            [tuple(r) for r in ranges],
            extracts.Catalogue.load(),
            ids,
            progress=lambda rows: cache.set(_progress_key(extract_id, index), rows, timeout=_PROGRESS_TIMEOUT),
        )
        try:
            with transaction.atomic():
                try:
                    extracts.write_values(reader)
                finally:
                    ids.close()
                if reader.errors:
                    raise _Discard
        except _Discard:
            pass
        result = reader.result
        staged = [] if reader.errors else [g.submission_id for g in ids.groups]
        audit_record(
            action=STAGED,
            obj=extract,
            detail={"plan": plan_id, "index": index, "ids": staged, "rows": result.rows, "errors": reader.errors.count},
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


# --- 3. the finish ----------------------------------------------------------------------------


class BatchesIncomplete(Exception):
    """The finish ran without every batch's result: the extract stays Validating (load it again)."""


def merged_errors(results: list[dict]) -> ErrorLog:
    """The batches' errors as one file's: in line order, the first 100 kept, every one counted.
    (A batch keeps its own first 100, so the first 100 of all are among them.)"""
    errors = ErrorLog()
    shown = sorted((e for r in results for e in r["errors"]), key=lambda e: e["line"])  # stable
    errors.shown = shown[:MAX_ERRORS_SHOWN]
    errors.count = sum(r["error_count"] for r in results)
    return errors


def _split_groups(results: list[dict]) -> bool:
    """Did a (service, organisation, date) land in two batches?"""
    seen: dict[tuple, int] = {}
    for r in results:
        for key in r["keys"]:
            if seen.setdefault(tuple(key), r["index"]) != r["index"]:
                return True
    return False


def batch_finish(results: list[dict], *, extract_id: int, plan_id: int) -> ExtractLoad:
    """Apply every batch in one transaction, or reject the extract and delete what was staged."""
    started = time.perf_counter()
    with transaction.atomic():
        extract = ExtractLoad.objects.select_for_update().get(pk=extract_id)
        if extract.status != ExtractStatus.VALIDATING:
            return extract
        plan = _events(extract_id, PLANNED).first()
        if plan is None or plan.pk != plan_id:
            logger.info("Extract %s: finish of plan %s, which is no longer current; nothing done", extract_id, plan_id)
            return extract
        by_index = {r["index"]: r for r in results if r and not r.get("skipped")}
        if set(by_index) != set(range(plan.detail["batches"])):
            raise BatchesIncomplete(
                f"Extract {extract_id}: results of batches {sorted(by_index)} of {plan.detail['batches']}"
            )
        results = [by_index[i] for i in range(plan.detail["batches"])]
        regroup = _split_groups(results)
        if regroup:
            # The file is not grouped by organisation: plan again, every line read (below).
            clean_staged(extract_id)
        else:
            rows = sum(r["rows"] for r in results)
            errors = merged_errors(results)
            if rows == 0 and not errors:
                errors.add(2, "The file is empty: it has a header but no rows.")
            if errors:
                clean_staged(extract_id)
                extract.reject()
                extract.errors = errors.as_list()
                extract.error_count = errors.count
                extract.finished_at = timezone.now()
                extract.save(update_fields=["status", "errors", "error_count", "finished_at"])
                audit_record(action="extract_rejected", obj=extract, detail={"errors": errors.count})
                logger.info("Extract %s rejected with %s error(s)", extract_id, errors.count)
                return extract
            _apply(extract, results, rows=rows, plan_id=plan_id)
    if regroup:
        logger.info("Extract %s: a group was cut in two; planned again by a scan of every line", extract_id)
        return batch_load_start(extract_id=extract_id, scan=True) or _load_single(extract_id)
    logger.info(
        "Extract %s loaded in %s batch(es): %s rows (finish in %.2fs)",
        extract_id,
        len(results),
        rows,
        time.perf_counter() - started,
    )
    return extract


def _load_single(extract_id: int) -> ExtractLoad:
    from . import services

    return services.extract_load(extract_id=extract_id, batches=False)


def _apply(extract: ExtractLoad, results: list[dict], *, rows: int, plan_id: int) -> None:
    """Write the staged groups' Achievements and Submissions, make them current, store the list
    sizes, aggregate to the PCNs, mark the extract Loaded and ask for the recalculation."""
    now = timezone.now()
    groups = [
        Group(
            service=ServiceEntry(service_id, "", level, {}, {}),
            provider=OrganisationEntry(provider_id, "", pcn_id),
            date=dt.date.fromisoformat(date),
            date_id=date_id,
            submission_id=submission_id,
        )
        for r in results
        for submission_id, provider_id, pcn_id, service_id, level, date_id, date in r["groups"]
    ]
    ids = SubmissionIds(extract, now=now)
    ids.groups = groups
    ids.write()
    extracts.switch_current(extract_id=extract.pk, source=SubmissionSource.EXTRACT)
    list_sizes = {}
    for r in results:
        for _service_id, org_id, date, size, _line in r["list_sizes"]:
            list_sizes[(org_id, dt.date.fromisoformat(date))] = size
    extracts.store_list_sizes(list_sizes)
    extracts.aggregate_to_pcns(extract=extract, groups=groups, now=now)
    extract.mark_loaded()
    extract.rows_total = rows
    extract.rows_done = rows
    extract.errors = []
    extract.error_count = 0
    extract.finished_at = timezone.now()
    extract.save(update_fields=["status", "rows_total", "rows_done", "errors", "error_count", "finished_at"])
    audit_record(action="extract_loaded", obj=extract, detail={"rows": rows, "batches": len(results)})
    hooks.achievements_changed(extracts.affected_achievement_ids(extract_id=extract.pk))
    clean_staged(extract.pk, keep_plan_id=plan_id)  # what earlier plans of it left


# --- progress ---------------------------------------------------------------------------------


def _batches_key(extract_id: int) -> str:
    return f"achievement:extract-batches:{extract_id}"


def _progress_key(extract_id: int, index: int) -> str:
    return f"achievement:extract-progress:{extract_id}:batch:{index}"


def progress(extract_id: int) -> int:
    """Rows validated so far by the batches of a batched load (0 for a single load)."""
    count = cache.get(_batches_key(extract_id))
    if not count:
        return 0
    return sum(v or 0 for v in cache.get_many([_progress_key(extract_id, i) for i in range(count)]).values())
