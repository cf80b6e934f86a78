"""Applying an extract in one transaction (the single load), and the two ends every load shares:
the extract marked Loaded (and the payments told) or Rejected with every error.

Readers never see a half-applied extract: ``apply_extract`` runs in the caller's transaction and
the new submissions become current (``is_current``) in the same transaction, so a killed worker
leaves nothing behind and the load can simply run again.  How it scales to a national year-end
extract (~3.5 million rows in one worker under 1 GiB; benchmarks/load_national_extract.py):
the file is read once, streaming (``reader``), the catalogue is loaded into dicts once
(``catalogue``), and rows are COPYed while they are validated (``copy``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.utils import timezone

from accounts.loaders import ErrorLog
from accounts.services import audit_record
from achievement import hooks
from achievement.models import ExtractLoad, SubmissionSource

from .aggregate import aggregate_to_pcns
from .catalogue import Catalogue, LoadResult
from .copy import SubmissionIds, affected_achievement_ids, store_list_sizes, switch_current, write_values
from .layout import ExtractInvalid
from .reader import ExtractReader

logger = logging.getLogger(__name__)


def apply_extract(*, extract, path: Path, progress: Callable[[int], None] | None = None) -> LoadResult:
    """Validate the file and apply it, in the caller's transaction.

    Raises ``ExtractInvalid`` (with every error) when any row breaks a rule; the caller rolls
    back what was written.  Otherwise each provider and achievement date in the file gets a new
    Submitted submission that supersedes the current one, list sizes are stored, and Network
    Contract DES values are aggregated to the PCNs.
    """
    now = timezone.now()
    timer = _PhaseTimer(extract.pk)
    catalogue = Catalogue.load()
    timer.done("catalogue")
    ids = SubmissionIds(extract, now=now)
    reader = ExtractReader(path, catalogue, ids, progress=progress)
    try:
        write_values(reader)
    finally:
        ids.close()
    timer.done("validate and write values")
    if reader.errors:
        raise ExtractInvalid(reader.errors)
    result = reader.result
    apply_groups(
        extract=extract,
        ids=ids,
        list_sizes={(org_id, date): size for (_, org_id, date), (size, _) in result.list_sizes.items()},
        now=now,
        timer=timer,
    )
    return result


def apply_groups(
    *,
    extract: ExtractLoad,
    ids: SubmissionIds,
    list_sizes: dict[tuple[int, dt.date], int],
    now: dt.datetime,
    timer: _PhaseTimer | None = None,
) -> None:
    """Make the extract's values count, once every one of them is written (the single load, or
    the finish of a batched one): each group's Achievement and Submission written under the id
    its values carry, the new submissions current (superseding the old ones), list sizes stored
    and Network Contract DES values aggregated to the PCNs."""
    timer = timer or _PhaseTimer(extract.pk, quiet=True)
    ids.write()
    timer.done("achievements and submissions")
    switch_current(extract_id=extract.pk, source=SubmissionSource.EXTRACT)
    timer.done("switch current")
    store_list_sizes(list_sizes)
    aggregate_to_pcns(extract=extract, groups=ids.groups, now=now)
    timer.done("list sizes and PCN aggregation")


class _PhaseTimer:
    """Logs how long each phase of a load took (INFO, logger achievement.ingest.apply)."""

    def __init__(self, extract_id: int, *, quiet: bool = False):
        self.extract_id = extract_id
        self.quiet = quiet
        self.last = time.perf_counter()

    def done(self, phase: str) -> None:
        now = time.perf_counter()
        if not self.quiet:
            logger.info("Extract %s: %s in %.2fs", self.extract_id, phase, now - self.last)
        self.last = now


def extract_mark_loaded(extract: ExtractLoad, *, rows: int, batches: int | None = None) -> None:
    """Validating -> Loaded, once the extract's values are applied (in the same transaction):
    its row counts recorded, the load on record and the affected achievements' payments
    recalculated (after the commit)."""
    extract.mark_loaded()
    extract.rows_total = rows
    extract.rows_done = rows
    extract.errors = []
    extract.error_count = 0
    extract.finished_at = timezone.now()
    extract.save(update_fields=["status", "rows_total", "rows_done", "errors", "error_count", "finished_at"])
    detail = {"rows": rows} if batches is None else {"rows": rows, "batches": batches}
    audit_record(action="extract_loaded", obj=extract, detail=detail)
    hooks.achievements_changed(affected_achievement_ids(extract_id=extract.pk))


def extract_reject(extract: ExtractLoad, errors: ErrorLog) -> None:
    """Validating -> Rejected with every error (the first 100 in line order, then a count); the
    caller has rolled back or deleted whatever the load wrote."""
    extract.reject()
    extract.errors = errors.as_list()
    extract.error_count = errors.count
    extract.finished_at = timezone.now()
    extract.save(update_fields=["status", "errors", "error_count", "finished_at"])
    audit_record(action="extract_rejected", obj=extract, detail={"errors": errors.count})
    logger.info("Extract %s rejected with %s error(s)", extract.pk, errors.count)
