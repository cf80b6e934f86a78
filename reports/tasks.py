"""The reports app's Celery tasks (thin: take ids, call one service)."""

from __future__ import annotations

from celery import shared_task

from .records import runs


@shared_task(acks_late=True)
def report_run_task(run_id: int) -> None:
    runs.report_run_build(run_id=run_id)
