"""Achievement: what providers achieved, per service and achievement date.

An ``Achievement`` exists per provider and achievement date.  Its data arrives as
``Submission`` snapshots (a GPES extract, a manual entry, a PCN aggregation): each submitted
snapshot holds every value of the achievement, and the newest submitted one is current
(``is_current``); earlier ones are kept as history with their notes.  Tick-box indicators are
set by the PCN (``TickBoxValue``), apart from submissions, so a value set before the GPES load
survives it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import Organisation
from participation.models import AchievementDate, Indicator, QualityService


class Achievement(models.Model):
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="achievements")
    service = models.ForeignKey(QualityService, on_delete=models.PROTECT, related_name="achievements")
    achievement_date = models.ForeignKey(AchievementDate, on_delete=models.PROTECT, related_name="achievements")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Raised, in the same transaction, by every change of the data its payment is calculated
    # from; a calculation records the version it used, so a payment whose recalculation is still
    # queued is not declared or approved on the old figures.
    data_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["service", "achievement_date__date", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "achievement_date"], name="one_achievement_per_provider_date")
        ]
        indexes = [models.Index(fields=["service", "provider"])]

    def __str__(self) -> str:
        return f"{self.provider.ods_code} {self.service.code} {self.achievement_date}"


class SubmissionStatus(models.TextChoices):
    WORK_IN_PROGRESS = "wip", "Work in Progress"
    SUBMITTED = "submitted", "Submitted"


class SubmissionSource(models.TextChoices):
    EXTRACT = "extract", "GPES extract"
    MANUAL = "manual", "Manual entry"
    AGGREGATION = "aggregation", "PCN aggregation"
    COMMISSIONER = "commissioner", "Commissioning Organisation entry"


class Submission(models.Model):
    achievement = models.ForeignKey(Achievement, on_delete=models.CASCADE, related_name="submissions")
    status = FSMField(
        default=SubmissionStatus.WORK_IN_PROGRESS, choices=SubmissionStatus.choices, protected=True
    )
    source = models.CharField(max_length=15, choices=SubmissionSource.choices)
    extract = models.ForeignKey(
        "ExtractLoad", null=True, blank=True, on_delete=models.PROTECT, related_name="submissions"
    )
    is_current = models.BooleanField(default=False)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    notes = models.TextField("Submission notes", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["achievement", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["achievement"], condition=Q(is_current=True), name="one_current_submission"
            )
        ]

    def __str__(self) -> str:
        return f"{self.achievement} {self.get_status_display()} #{self.pk}"

    @transition(field=status, source=SubmissionStatus.WORK_IN_PROGRESS, target=SubmissionStatus.SUBMITTED)
    def submit(self) -> None:
        """Submitting triggers the calculation."""


class IndicatorValue(models.Model):
    """One FIELD_NAME's value of one indicator in a submission.

    The national fact table (about 3.5 million rows per QOF year-end extract), shaped for bulk
    loading: the primary key is (submission, indicator, field name), the one index the table
    needs, with no surrogate id and its sequence; and the foreign keys are enforced by the ORM
    (``CASCADE``/``PROTECT``) and by the extract loader's validation rather than by database
    constraints, which PostgreSQL checks row by row.  Measured on 3.5 million rows, each of those
    roughly doubled the load (docs/adr/0004-indicator-values-fact-table.md).
    """

    pk = models.CompositePrimaryKey("submission", "indicator", "field_name")
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="values", db_constraint=False, db_index=False
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    field_name = models.CharField(max_length=100)
    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.field_name}: {self.value}"


class ExtractStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    VALIDATING = "validating", "Validating"
    LOADED = "loaded", "Loaded"
    REJECTED = "rejected", "Rejected"


class ExtractLoad(models.Model):
    """A GPES extract file and its load: Received -> Validating -> Loaded | Rejected."""

    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, unique=True)
    status = FSMField(default=ExtractStatus.RECEIVED, choices=ExtractStatus.choices, protected=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @transition(field=status, source=ExtractStatus.RECEIVED, target=ExtractStatus.VALIDATING)
    def start_validating(self) -> None: ...

    @transition(field=status, source=ExtractStatus.VALIDATING, target=ExtractStatus.LOADED)
    def mark_loaded(self) -> None: ...

    @transition(field=status, source=[ExtractStatus.RECEIVED, ExtractStatus.VALIDATING], target=ExtractStatus.REJECTED)
    def reject(self) -> None: ...


class ExtractBatchPlan(models.Model):
    """How a large extract was cut for a batched load (achievement/ingest/batches.py).

    The latest plan of an extract is the one its batches and finish work for: those of an
    earlier plan (a stuck load run again) find they are no longer current and do nothing."""

    class CutBy(models.TextChoices):
        OFFSETS = "offsets", "Byte offsets where the organisation changes"
        SCAN = "scan", "A scan of every line"

    extract = models.ForeignKey(ExtractLoad, on_delete=models.CASCADE, related_name="batch_plans")
    batch_count = models.PositiveIntegerField()
    rows = models.PositiveIntegerField()  # lines of the file's body, blank ones included
    batch_rows = models.PositiveIntegerField()  # EXTRACT_BATCH_ROWS when it was planned
    cut_by = models.CharField(max_length=10, choices=CutBy.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Extract {self.extract_id}: {self.batch_count} batch(es) by {self.cut_by}"


class ExtractBatch(models.Model):
    """One staging run of one batch of a plan: the Submission ids its values were COPYed under.

    Written in the transaction that stages the values, so whatever a batch committed can be
    found and deleted (a rejected extract, a plan replaced, a batch delivered again: each run is
    a row, and a run again reuses the ids of the latest one).  A staged value has no Submission
    row until the finish writes it."""

    plan = models.ForeignKey(ExtractBatchPlan, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    submission_ids = models.JSONField(default=list, blank=True)  # empty when the batch found an error
    rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    staged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["plan", "index"])]

    def __str__(self) -> str:
        return f"Plan {self.plan_id} batch {self.index}: {len(self.submission_ids)} submission(s) staged"


class TickBoxValue(models.Model):
    """The PCN's Yes/No for a tick-box indicator on an achievement date (default No when unset)."""

    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="tick_boxes")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    achievement_date = models.ForeignKey(AchievementDate, on_delete=models.PROTECT, related_name="+")
    value = models.BooleanField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "indicator", "achievement_date"], name="one_tick_box_per_date"
            )
        ]

    def __str__(self) -> str:
        return "Yes" if self.value else "No"


class TickBoxChange(models.Model):
    """Immutable history of tick-box changes: who, when, old, new."""

    tick_box = models.ForeignKey(TickBoxValue, on_delete=models.CASCADE, related_name="changes")
    old_value = models.BooleanField(null=True)
    new_value = models.BooleanField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        old = "-" if self.old_value is None else ("Yes" if self.old_value else "No")
        return f"{old} -> {'Yes' if self.new_value else 'No'}"


class NoExtractReason(models.TextChoices):
    """Why a provider's data for a service are entered by hand (job aid "manual entry")."""

    PROVIDER = "provider", "The Service Provider does not support automatic extracts."
    CLINICAL_SYSTEM = (
        "clinical_system",
        "The Service Provider's clinical system does not support automatic extracts for the Quality Service(s).",
    )
    NOT_EXTRACTABLE = "not_extractable", "The Quality Service achievement data cannot be manually extracted."
    TECHNICAL_ISSUE = "technical_issue", "There is a technical issue that prevents automatic extracts."


class ManualEntryProvider(models.Model):
    """A provider with no automatic extract for a service, as its Commissioning Organisation
    marked it (Record Provider Achievement): its data for the service are entered by hand, and a
    GPES extract row for them is refused with the reason.  Who marked it and when are kept here
    and in the audit log; unmarking deletes the row (audited too)."""

    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="manual_entry_services")
    service = models.ForeignKey(QualityService, on_delete=models.PROTECT, related_name="manual_entry_providers")
    reason = models.CharField(max_length=20, choices=NoExtractReason.choices)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "service"], name="one_manual_entry_mark_per_service")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.service.code}: {self.get_reason_display()}"


class CommissionerEntry(models.Model):
    """A value of an achievement set by its Commissioning Organisation (Record Provider
    Achievement): the job aid's "Commissioning Organisation entry", which the provider may not
    adjust.  One row per field, updated when the commissioner sets it again.  It marks the field
    while the current submission holds this value (``commissioner_selectors.commissioner_entries``): a provider's later manual
    submission copies it and keeps the mark; a GPES extract or aggregation bringing another value
    supersedes it, as it supersedes every value of the achievement."""

    achievement = models.ForeignKey(Achievement, on_delete=models.CASCADE, related_name="commissioner_entries")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    field_name = models.CharField(max_length=100)
    value = models.BigIntegerField()
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["achievement", "indicator", "field_name"], name="one_commissioner_entry_per_field"
            )
        ]

    def __str__(self) -> str:
        return f"{self.achievement} {self.field_name}: {self.value} (Commissioning Organisation entry)"

    @property
    def key(self) -> tuple[int, str]:
        return (self.indicator_id, self.field_name)
