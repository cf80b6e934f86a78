"""Celery tasks of the achievement app: thin, they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from . import services


# Idempotent (a finished extract is left as it is, a half-done one restarts cleanly), so the
# message is acknowledged only once the load is done and redelivered if the worker dies.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def extract_load_task(extract_id: int) -> str:
    return services.extract_load(extract_id=extract_id).status
