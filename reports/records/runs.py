"""Reports prepared in the background: a Payments report too large for a page (a region's or the
nation's providers) is written to a file by a Celery task, with its progress in the cache, and
downloaded by the user who asked for it (nobody else sees the run)."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.errors import NotFound
from accounts.models import Organisation
from participation.models import AchievementDate, QualityService
from reports.models import ReportRun, ReportRunStatus

from . import exports, presenters, selectors

logger = logging.getLogger(__name__)
_PROGRESS_TIMEOUT = 6 * 3600
PAYMENTS = "payments"
FORMATS = ("xlsx", "csv")


def reports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def progress_key(run_id: int) -> str:
    return f"reports:run-progress:{run_id}"


def report_run_progress(run: ReportRun) -> int:
    """Rows written so far: from the cache while running, all of them once done."""
    if run.status == ReportRunStatus.DONE:
        return run.rows_total
    return min(cache.get(progress_key(run.pk), 0), run.rows_total or 0)


def report_run_list(*, user):
    return ReportRun.objects.filter(user=user)


def report_run_get(*, user, run_id: int) -> ReportRun:
    """One of the user's own runs; anyone else's is NotFound."""
    run = report_run_list(user=user).filter(pk=run_id).first()
    if run is None:
        raise NotFound("No such report")
    return run


def payments_run_start(*, user, parameters: dict, file_format: str, rows_total: int) -> ReportRun:
    """Record a Payments report to prepare and enqueue it (after the commit)."""
    if file_format not in FORMATS:
        raise ValueError(file_format)
    with transaction.atomic():
        run = ReportRun.objects.create(
            user=user, report=PAYMENTS, file_format=file_format, parameters=parameters, rows_total=rows_total
        )
        from reports.tasks import report_run_task

        report_run_task.delay_on_commit(run.pk)
    return run


def _payments_filters(parameters: dict) -> dict:
    def get(model, key):
        pk = parameters.get(key)
        return None if pk is None else model.objects.filter(pk=pk).first()

    return {
        "service": get(QualityService, "service"),
        "achievement_date": get(AchievementDate, "achievement_date"),
        "status": parameters.get("status") or None,
        "sub_icb": get(Organisation, "sub_icb"),
        "pcn": get(Organisation, "pcn"),
    }


def report_run_build(*, run_id: int) -> ReportRun:
    """Write the run's file (the user's scope as it is now), counting progress in the cache.
    A failure is recorded on the run, never half a file offered for download."""
    run = ReportRun.objects.select_related("user").get(pk=run_id)
    ReportRun.objects.filter(pk=run.pk).update(status=ReportRunStatus.RUNNING)
    cache.set(progress_key(run.pk), 0, timeout=_PROGRESS_TIMEOUT)
    path = reports_dir() / f"payments-{run.pk}.{run.file_format}"
    try:
        filters = _payments_filters(run.parameters)
        declarations = selectors.payments_list(user=run.user, **filters)
        rows_total = declarations.count()
        ReportRun.objects.filter(pk=run.pk).update(rows_total=rows_total)
        rows = (presenters.payment_row(d) for d in declarations.iterator(chunk_size=2000))

        def progress(done: int) -> None:
            cache.set(progress_key(run.pk), done, timeout=_PROGRESS_TIMEOUT)

        if run.file_format == "xlsx":
            totals = selectors.payments_totals(declarations=declarations)
            with open(path, "wb") as out:
                exports.write_payments_xlsx(rows, out, totals=totals, progress=progress)
        else:
            with open(path, "w", newline="", encoding="utf-8") as out:
                exports.write_payments_csv(rows, out, progress=progress)
    except Exception as error:
        logger.exception("report run %s failed", run.pk)
        path.unlink(missing_ok=True)
        ReportRun.objects.filter(pk=run.pk).update(
            status=ReportRunStatus.FAILED, error=str(error)[:500], finished_at=timezone.now()
        )
        raise
    ReportRun.objects.filter(pk=run.pk).update(
        status=ReportRunStatus.DONE, file_path=str(path), finished_at=timezone.now(), rows_total=rows_total
    )
    run.refresh_from_db()
    return run
