"""The reports app's data: which organisations may run another's reports (Allocated Reports),
and the reports prepared in the background for download (a national Payments report)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organisation


class ReportAllocationQuerySet(models.QuerySet["ReportAllocation"]):
    def active(self) -> ReportAllocationQuerySet:
        return self.filter(revoked_at__isnull=True)


class ReportAllocation(models.Model):
    """``organisation``'s User Administrator allows ``allowed_organisation`` (one of its
    descendants: a sub-ICB location under the ICB, say) to run its reports: a user holding a
    reporting role there sees the rows ``organisation`` sees.  Revoked, never deleted, so the
    record says who allowed what and when; granting again after a revocation is a new row."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="report_allocations")
    allowed_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="allocated_reports"
    )
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ReportAllocationQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "allowed_organisation__name", "-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "allowed_organisation"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_report_allocation",
            ),
            models.CheckConstraint(
                condition=~Q(organisation=models.F("allowed_organisation")), name="report_allocation_not_to_itself"
            ),
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"{self.organisation} -> {self.allowed_organisation} ({state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ReportRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "In progress"
    DONE = "done", "Ready to download"
    FAILED = "failed", "Failed"


class ReportRun(models.Model):
    """A report prepared by a Celery task (too many rows for a page): its parameters, progress
    and the file written under MEDIA_ROOT/reports/.  Only the user who asked for it sees it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_runs")
    report = models.CharField(max_length=30)  # "payments"
    file_format = models.CharField(max_length=4)  # "csv" or "xlsx"
    parameters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=ReportRunStatus.choices, default=ReportRunStatus.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.report} {self.file_format} for {self.user}: {self.get_status_display()}"

    @property
    def in_progress(self) -> bool:
        return self.status in (ReportRunStatus.QUEUED, ReportRunStatus.RUNNING)
