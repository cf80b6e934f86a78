"""A GPES extract loaded by several Celery workers: batches of practices, joined by a final step.

``services.extract_load`` loads a file in one task and one transaction (``apply``) unless
batching is on: the setting ``EXTRACT_BATCH_ROWS`` is 0 by default (every extract loaded by one
task, the fastest on one machine); a deployment with workers on several machines sets it (e.g.
250,000).  A file larger than that, on PostgreSQL, is split so that any number of workers on any
number of machines share it:

1. **Plan** (the coordinator, ``batch_load_start``): the file is cut into batches of whole
   organisations (``plan``), recorded as an ``ExtractBatchPlan``.  A file that cannot be split
   safely is loaded by the single task.
2. **Stage** (a chord of ``batch_stage`` tasks, ``stage``): each batch validates its rows and
   COPYs the good ones under Submission ids that no Submission row has yet, recording them
   (``ExtractBatch``), and commits.  Each returns its row count, its errors (first 100 and a
   count), every (service, organisation, date) it saw, its groups and list sizes.
3. **Finish** (the chord's callback, ``batch_finish``), in ONE transaction: if a (service,
   organisation, date) turned up in two batches (a file not grouped by organisation), every
   staged value is deleted and the file planned again by a scan of every line.  If any batch
   found an error, every staged value of the extract is deleted and the extract is Rejected
   with every error (the first 100 in line order, then a count), as the single load reports
   them.  Otherwise the Achievements and Submissions are written with the staged ids and become
   current (superseding the old ones), list sizes are stored, Network Contract DES values
   aggregated to the PCNs, the extract is Loaded and the recalculation enqueued: readers see
   the old values until this commits, then the new ones.

Crash safety: a batch holds the extract row FOR SHARE while it stages, the finish and a new plan
take it FOR UPDATE.  Loading a stuck extract again (``extract_load``) deletes the values staged
under every earlier plan of it and plans afresh; batches and finishes of an earlier plan find
that they are no longer the latest and do nothing.  The decision and the options considered:
docs/adr/0009-ingest-package-and-batch-staging.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.loaders import ErrorLog
from achievement.models import ExtractBatchPlan, ExtractLoad, ExtractStatus

from .apply import apply_groups, extract_mark_loaded, extract_reject
from .catalogue import Group, OrganisationEntry, ServiceEntry
from .copy import SubmissionIds
from .plan import batch_rows, plan_batches, plan_by_offsets
from .stage import clean_staged, progress_start

logger = logging.getLogger(__name__)


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
    cut_by = ExtractBatchPlan.CutBy.SCAN if scan else ExtractBatchPlan.CutBy.OFFSETS
    with transaction.atomic():
        extract = ExtractLoad.objects.select_for_update().get(pk=extract_id)
        if extract.status != ExtractStatus.VALIDATING:
            return extract
        cleaned = clean_staged(extract_id)
        plan = ExtractBatchPlan.objects.create(
            extract=extract,
            batch_count=len(batches),
            rows=sum(b.rows for b in batches),
            batch_rows=batch_rows(),
            cut_by=cut_by,
        )
    progress_start(extract_id, len(batches))
    logger.info(
        "Extract %s: planned %s batch(es) by %s in %.2fs (%s staged value(s) of earlier plans deleted)",
        extract_id,
        len(batches),
        cut_by,
        time.perf_counter() - started,
        cleaned,
    )
    from achievement.tasks import extract_batch_finish_task, extract_batch_stage_task

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




class BatchesIncomplete(Exception):
    """The finish ran without every batch's result: the extract stays Validating (load it again)."""


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
        plan = ExtractBatchPlan.objects.filter(extract_id=extract_id).order_by("-id").first()
        if plan is None or plan.pk != plan_id:
            logger.info("Extract %s: finish of plan %s, which is no longer current; nothing done", extract_id, plan_id)
            return extract
        by_index = {r["index"]: r for r in results if r and not r.get("skipped")}
        if set(by_index) != set(range(plan.batch_count)):
            raise BatchesIncomplete(f"Extract {extract_id}: results of batches {sorted(by_index)} of {plan.batch_count}")
        results = [by_index[i] for i in range(plan.batch_count)]
        regroup = _split_groups(results)
        if regroup:
            # The file is not grouped by organisation: plan again, every line read (below).
            clean_staged(extract_id)
        else:
            rows = sum(r["rows"] for r in results)
            errors = ErrorLog.merged((r["errors"], r["error_count"]) for r in results)
            if rows == 0 and not errors:
                errors.add(2, "The file is empty: it has a header but no rows.")
            if errors:
                clean_staged(extract_id)
                extract_reject(extract, errors)
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
    from achievement import services  # the use case that called the plan in the first place

    return services.extract_load(extract_id=extract_id, batches=False)


def _apply(extract: ExtractLoad, results: list[dict], *, rows: int, plan_id: int) -> None:
    """Write the staged groups' Achievements and Submissions, make them current, store the list
    sizes, aggregate to the PCNs, mark the extract Loaded and ask for the recalculation."""
    now = timezone.now()
    ids = SubmissionIds(extract, now=now)
    ids.groups = [
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
    list_sizes = {}
    for r in results:
        for _service_id, org_id, date, size, _line in r["list_sizes"]:
            list_sizes[(org_id, dt.date.fromisoformat(date))] = size
    apply_groups(extract=extract, ids=ids, list_sizes=list_sizes, now=now)
    extract_mark_loaded(extract, rows=rows, batches=len(results))
    clean_staged(extract.pk, keep_plan_id=plan_id)  # what earlier plans of it left
