"""Celery tasks of the achievement app: thin, they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from . import services
from .ingest import batches, stage


# Idempotent (a finished extract is left as it is, a half-done one restarts cleanly), so the
# message is acknowledged only once the load is done and redelivered if the worker dies.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def extract_load_task(extract_id: int) -> str:
    return services.extract_load(extract_id=extract_id).status


# A large extract is loaded in batches (achievement/ingest/batches.py): the load task above
# plans them and starts a chord of these.  Both are idempotent: a batch run again replaces what
# it staged; a finish of a finished extract, or of a plan since replaced, does nothing.  A finish
# missing a batch's result raises and leaves the extract Validating: load it again.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def extract_batch_stage_task(extract_id: int, plan_id: int, index: int, ranges: list) -> dict:
    return stage.batch_stage(extract_id=extract_id, plan_id=plan_id, index=index, ranges=ranges)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def extract_batch_finish_task(results: list[dict], extract_id: int, plan_id: int) -> str:
    return batches.batch_finish(results, extract_id=extract_id, plan_id=plan_id).status
