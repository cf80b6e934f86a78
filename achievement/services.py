"""Achievement writes: GPES extract receipt and load; Data Submission (manual entry and
adjustment, Add New Achievement, tick-box indicators; see the second half and achievement/rules.py).

An extract is received (stored, hashed, recorded ``Received``), then loaded by a Celery task:
``Received`` -> ``Validating`` -> ``Loaded`` | ``Rejected``.  Everything a load writes is written
in one transaction, so readers never see half an extract and a worker killed mid-load leaves
nothing behind; loading the extract again (the task acknowledges late and is redelivered, or
``extract_load`` is called again) starts it afresh.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from accounts import permissions
from accounts.models import Organisation, OrganisationKind
from accounts.services import audit_record
from participation.models import AchievementDate, Indicator, OfferStatus, ProviderLevel, ServiceOffer

from . import extract_batches, extracts, hooks, rules, selectors
from .models import (
    Achievement,
    ExtractLoad,
    ExtractStatus,
    IndicatorValue,
    Submission,
    SubmissionSource,
    TickBoxChange,
    TickBoxValue,
)

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


def extracts_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "extracts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def progress_key(extract_id: int) -> str:
    return f"achievement:extract-progress:{extract_id}"


def extract_progress(extract: ExtractLoad) -> int:
    """Rows validated so far: from the cache while loading (the load's transaction hides its
    own writes), from the record once finished."""
    if extract.status == ExtractStatus.VALIDATING:
        done = cache.get(progress_key(extract.pk), 0) + extract_batches.progress(extract.pk)
        return min(done, extract.rows_total or 0)
    return extract.rows_done


def extract_receive(
    *,
    path: str | os.PathLike | None = None,
    file: BinaryIO | None = None,
    file_name: str | None = None,
    user=None,
) -> ExtractLoad:
    """Record a GPES extract file and enqueue its load; the same content is recorded once.

    The file is copied under MEDIA_ROOT/extracts/ named by the SHA-256 of its content.  When that
    content has been received before (also by a concurrent call: the unique ``sha256`` decides),
    the existing record is returned and nothing new is enqueued; ``newly_received`` on the
    returned record tells which happened.
    """
    if (path is None) == (file is None):
        raise ValueError("Give exactly one of path or file")
    if path is not None:
        file_name = file_name or Path(path).name
        with open(path, "rb") as source:
            digest, rows, temp_path = _store(source)
    else:
        file_name = file_name or Path(getattr(file, "name", "") or "extract.csv").name
        digest, rows, temp_path = _store(file)

    existing = ExtractLoad.objects.filter(sha256=digest).first()
    if existing is not None:
        temp_path.unlink(missing_ok=True)
        existing.newly_received = False
        return existing

    final_path = extracts_dir() / f"{digest}.csv"
    os.replace(temp_path, final_path)  # same content, same name: a concurrent receipt is harmless
    try:
        with transaction.atomic():
            extract = ExtractLoad.objects.create(
                file_name=file_name[:255],
                file_path=str(final_path),
                sha256=digest,
                rows_total=rows,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
            audit_record(
                actor=user,
                action="extract_received",
                obj=extract,
                detail={"file_name": extract.file_name, "sha256": digest, "rows": rows},
            )
            from .tasks import extract_load_task

            extract_load_task.delay_on_commit(extract.pk)
    except IntegrityError:
        # Another receipt of the same content committed first.
        existing = ExtractLoad.objects.get(sha256=digest)
        existing.newly_received = False
        return existing
    extract.newly_received = True
    return extract


def _store(source: BinaryIO) -> tuple[str, int, Path]:
    """Copy to a temporary file beside the store; the content's SHA-256 and data row count."""
    digest = hashlib.sha256()
    newlines = 0
    last = b""
    handle, name = tempfile.mkstemp(dir=extracts_dir(), suffix=".part")
    with os.fdopen(handle, "wb") as out:
        while chunk := source.read(_CHUNK):
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            out.write(chunk)
            last = chunk[-1:]
    lines = newlines + (1 if last not in (b"", b"\n") else 0)
    return digest.hexdigest(), max(lines - 1, 0), Path(name)


def extract_load(*, extract_id: int, batches: bool = True) -> ExtractLoad:
    """Load a received extract: Received -> Validating -> Loaded | Rejected.

    Rules: every row is validated before anything counts (``achievement.extracts``); an extract
    with any error is Rejected with every error and changes nothing; a valid one is applied in
    one transaction.  A file larger than ``EXTRACT_BATCH_ROWS`` is instead split into batches of
    practices that several workers validate and stage, and applied (or rejected) by a final step
    in one transaction (``achievement.extract_batches``); this call then returns once the
    batches are started (or, with tasks in-process, once it is finished); ``batches=False``
    loads it in this call whatever its size.

    Idempotent: a Loaded or Rejected extract is left as it is, and an extract left Validating
    by a worker that died is loaded again from the start.  Concurrent loads of the same extract
    are serialised by a row lock; the second finds it finished.
    """
    with transaction.atomic():
        extract = ExtractLoad.objects.select_for_update().get(pk=extract_id)
        if extract.status in (ExtractStatus.LOADED, ExtractStatus.REJECTED):
            return extract
        if extract.status == ExtractStatus.RECEIVED:
            extract.start_validating()
            extract.save(update_fields=["status"])
    cache.set(progress_key(extract_id), 0, timeout=6 * 3600)

    if batches and extract_batches.wanted(extract):
        # Larger than one batch: planned here, loaded by several workers, applied by a final
        # step (achievement/extract_batches.py); None when the file is not one to split.
        started = extract_batches.batch_load_start(extract_id=extract_id)
        if started is not None:
            return started

    with transaction.atomic():
        # Held until the load commits: a second worker on the same extract waits here.
        extract = ExtractLoad.objects.select_for_update().get(pk=extract_id)
        if extract.status != ExtractStatus.VALIDATING:
            return extract
        path = Path(extract.file_path)
        extract_batches.clean_staged(extract_id)  # what an earlier, batched attempt left
        try:
            with transaction.atomic():  # a savepoint: a rejected file's writes are rolled back
                if not path.exists():
                    errors = extracts.ErrorLog()
                    errors.add(0, f"The stored file {path.name} is missing.")
                    raise extracts.ExtractInvalid(errors)
                result = extracts.apply_extract(
                    extract=extract,
                    path=path,
                    progress=lambda rows: cache.set(progress_key(extract_id), rows, timeout=6 * 3600),
                )
        except extracts.ExtractInvalid as invalid:
            extract.reject()
            extract.errors = invalid.errors.as_list()
            extract.error_count = invalid.errors.count
            extract.finished_at = timezone.now()
            extract.save(update_fields=["status", "errors", "error_count", "finished_at"])
            audit_record(
                action="extract_rejected", obj=extract, detail={"errors": invalid.errors.count}
            )
            logger.info("Extract %s rejected with %s error(s)", extract_id, invalid.errors.count)
            return extract

        extract.mark_loaded()
        extract.rows_total = result.rows
        extract.rows_done = result.rows
        extract.errors = []
        extract.error_count = 0
        extract.finished_at = timezone.now()
        extract.save(update_fields=["status", "rows_total", "rows_done", "errors", "error_count", "finished_at"])
        audit_record(action="extract_loaded", obj=extract, detail={"rows": result.rows})
        hooks.achievements_changed(extracts.affected_achievement_ids(extract_id=extract_id))
    logger.info("Extract %s loaded: %s rows", extract_id, result.rows)
    return extract


# --- Data Submission: Record Achievement, manual entry and adjustment, tick-boxes -----------


class AchievementEntryError(Exception):
    """A refusal the user is told about in the job aids' words (nothing was saved)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


NOTHING_DIFFERS_WIP = (
    "The data are not different from the previous submission, so they have not been saved as work in progress."
)
NOTHING_DIFFERS_SUBMIT = "The data are not different from the previous submission, so they have not been submitted."
NOTHING_ENTERED = "Enter the achievement data in the New Values fields before you save or submit them."


def provider_takes_part(*, service, provider) -> bool:
    """Does the provider take part in the service: an Approved offer; for a PCN-level service
    (Network Contract DES, offered to practices, paid to the PCN), the PCN of a practice that
    holds one (or the PCN itself)."""
    approved = ServiceOffer.objects.filter(service=service, status=OfferStatus.APPROVED)
    if service.provider_level == ProviderLevel.PCN:
        if provider.kind != OrganisationKind.PCN:
            return False
        return approved.filter(Q(provider=provider) | Q(provider__pcn=provider)).exists()
    return approved.filter(provider=provider).exists()


@transaction.atomic
def achievement_add(*, user, provider_id: int, achievement_date_id: int) -> tuple[Achievement, bool]:
    """Add New Achievement: the provider's achievement for an achievement date, created when
    absent (returned with ``created``).

    Rules: the user holds Achievement Entry at the provider (another organisation's provider is
    not found: 404); the date is one of the service's valid dates; the provider takes part in the
    service; a Network Contract DES achievement is added by the PCN (it is paid to the PCN and
    aggregated from its practices), never by a practice.  Concurrent adds of the same date make
    one achievement (the unique provider/date constraint decides).
    """
    if not rules.can_read(user, provider_id):
        raise Http404("No such provider")
    if not rules.can_enter(user, provider_id):
        raise PermissionDenied
    provider = Organisation.objects.get(pk=provider_id)
    achievement_date = AchievementDate.objects.select_related("service").filter(pk=achievement_date_id).first()
    if achievement_date is None:
        raise AchievementEntryError("Select a valid Achievement Date for the Quality Service.")
    service = achievement_date.service
    if service.provider_level == ProviderLevel.PCN and provider.kind == OrganisationKind.PRACTICE:
        raise AchievementEntryError(rules.NCD_AT_PRACTICE)
    if not provider_takes_part(service=service, provider=provider):
        raise AchievementEntryError(f"{provider.name} does not take part in {service.label}.")
    achievement, created = Achievement.objects.get_or_create(
        provider=provider,
        achievement_date=achievement_date,
        defaults={"service": service, "created_by": user},
    )
    if created:
        audit_record(
            actor=user,
            action="achievement_added",
            organisation=provider,
            obj=achievement,
            detail={"service": service.code, "achievement_date": f"{achievement_date.date:%Y-%m-%d}"},
        )
    return achievement, created


def _entry_state(*, user, achievement: Achievement):
    """Every indicator of the achievement and what this user may give a New Value."""
    indicators = list(
        Indicator.objects.filter(service_id=achievement.service_id).order_by("group_id", "position", "pk")
    )
    data = selectors.entry_data(achievement=achievement, indicators=indicators)
    field_states, _, achievement_reason = rules.entry_states(user=user, data=data)
    return data, field_states, achievement_reason


@transaction.atomic
def achievement_values_save(
    *,
    user,
    achievement_id: int,
    group_id: int,
    values: dict[tuple[int, str], int | None],
    notes: str = "",
    submit: bool,
) -> Submission:
    """Save Work in Progress (``submit`` False) or Submit Achievement Data (True) for a group.

    ``values``: the group's New Values by (indicator id, field name); None leaves a field as it
    is.  Rules (job aids "manual entry" and "manual adjustment"):

    - only fields ``rules.entry_states`` finds enterable for this user may be given a value
      (another organisation's achievement: 404; a read-only field: refused);
    - whole numbers of 0 or more, a Numerator not above its Denominator (as for extracts);
    - saved or submitted only when the data differ from the previous submission (or there is
      none); otherwise refused and nothing is saved;
    - an achievement has at most one Work in Progress, holding the New Values that differ from
      the last submission (every group's), and its submission notes;
    - submitting makes a new Submitted snapshot holding every value: the last submission's,
      copied, with the New Values over them; it becomes current and supersedes the last one,
      which is kept with its notes; the Work in Progress, if any, is the submission submitted;
    - submitting recalculates the payment (``hooks.achievements_changed``, after the commit).

    Concurrent saves of the same achievement are serialised by a row lock on the Achievement.
    """
    achievement = (
        Achievement.objects.select_for_update(of=("self",))
        .select_related("provider__pcn", "service", "achievement_date")
        .filter(pk=achievement_id)
        .first()
    )
    if achievement is None or not rules.can_read(user, achievement.provider_id):
        raise Http404("No achievement found")
    rules.payment_lock(achievement)  # "not financially approved" holds until this commits
    group_indicator_ids = set(
        Indicator.objects.filter(group_id=group_id, service_id=achievement.service_id).values_list("pk", flat=True)
    )
    if not group_indicator_ids:
        raise Http404("No indicator group found")
    data, field_states, achievement_reason = _entry_state(user=user, achievement=achievement)
    if achievement_reason is not None:
        raise AchievementEntryError(achievement_reason)
    editable = {state.key: state for state in field_states if state.editable}
    posted = {key: value for key, value in values.items() if value is not None}
    for key, value in posted.items():
        if key[0] not in group_indicator_ids or key not in editable:
            raise PermissionDenied("This field is read-only.")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise AchievementEntryError("New Values must be whole numbers of 0 or more.")

    current = data.current_values
    # The Work in Progress's New Values, still enterable, with this group's replaced by the post.
    deltas = {
        key: value
        for key, value in data.wip_values.items()
        if key in editable and key[0] not in group_indicator_ids
    }
    deltas.update(posted)
    deltas = {key: value for key, value in deltas.items() if current.get(key) != value}

    merged = {**current, **deltas}
    errors = rules.fraction_errors(
        [i for i in data.indicators if i.pk in group_indicator_ids or any(k[0] == i.pk for k in deltas)], merged
    )
    if errors:
        raise AchievementEntryError(next(iter(errors.values())))
    if not deltas:
        if data.current is None and not current:
            raise AchievementEntryError(NOTHING_ENTERED)
        raise AchievementEntryError(NOTHING_DIFFERS_SUBMIT if submit else NOTHING_DIFFERS_WIP)

    submission = data.wip
    now = timezone.now()
    if submission is None:
        submission = Submission.objects.create(
            achievement=achievement, source=SubmissionSource.MANUAL, created_by=user, created_at=now, notes=notes
        )
    else:
        IndicatorValue.objects.filter(submission=submission).delete()
        submission.notes = notes
    if not submit:
        IndicatorValue.objects.bulk_create(
            [IndicatorValue(submission=submission, indicator_id=i, field_name=f, value=v) for (i, f), v in deltas.items()]
        )
        submission.save(update_fields=["notes"])
        audit_record(
            actor=user,
            action="achievement_work_in_progress_saved",
            organisation=achievement.provider,
            obj=submission,
            detail={"achievement": achievement.pk, "values": len(deltas)},
        )
        return submission

    IndicatorValue.objects.bulk_create(
        [IndicatorValue(submission=submission, indicator_id=i, field_name=f, value=v) for (i, f), v in merged.items()]
    )
    submission.submit()
    submission.submitted_at = now
    submission.created_by = user
    submission.save(update_fields=["status", "submitted_at", "notes", "created_by"])
    if data.current is not None:
        Submission.objects.filter(pk=data.current.pk).update(is_current=False, superseded_by=submission)
    submission.is_current = True
    submission.save(update_fields=["is_current"])
    audit_record(
        actor=user,
        action="achievement_submitted",
        organisation=achievement.provider,
        obj=submission,
        detail={"achievement": achievement.pk, "changed": len(deltas), "superseded": getattr(data.current, "pk", None)},
    )
    hooks.achievements_changed([achievement.pk])
    return submission


@transaction.atomic
def tick_box_set(
    *, user, provider_id: int, indicator_id: int, achievement_date_id: int, value: bool
) -> TickBoxValue | None:
    """Set a tick-box indicator to Yes or No for a provider and achievement date.

    Rules (tick-box job aid): the PCN user changes it until the PCN declares, the Commissioning
    Organisation until the payment is financially approved, the practice never
    (``rules.tick_box_blocked_reason``); a provider the user cannot see is not found (404).  A
    value that changes nothing (the answer already shown, set or carried forward) is refused.
    Each change is recorded (``TickBoxChange``: who, when, the answer shown before, the new one)
    and recalculates the provider's achievements of the service on this date and the later
    ones, which a Yes carries forward to.  Concurrent changes are serialised by a row lock.
    """
    provider = Organisation.objects.filter(pk=provider_id).first()
    if provider is None or not (
        rules.can_read(user, provider)
        or permissions.can_act_as_commissioner(user, provider, rules.COMMISSIONER_TICK_BOX_ROLES)
    ):
        raise Http404("No such provider")
    indicator = Indicator.objects.filter(pk=indicator_id).first()
    achievement_date = AchievementDate.objects.filter(pk=achievement_date_id).first()
    if indicator is None or achievement_date is None or achievement_date.service_id != indicator.service_id:
        raise Http404("No such tick-box indicator")
    # Serialise changes.  FOR NO KEY UPDATE: rows that only refer to the organisation (audit
    # events, messages: their deferred foreign-key checks take FOR KEY SHARE at commit) are not
    # blocked, so a finance approval in flight cannot deadlock with the declaration lock below.
    Organisation.objects.select_for_update(no_key=True).filter(pk=provider.pk).first()
    achievement = Achievement.objects.filter(provider=provider, achievement_date=achievement_date).first()
    if achievement is not None:
        rules.payment_lock(achievement)  # "not declared / not approved" holds until this commits
    reason = rules.tick_box_blocked_reason(user=user, provider=provider, indicator=indicator, achievement=achievement)
    if reason is not None:
        raise PermissionDenied(reason)
    shown = selectors.tick_box_values(
        provider_id=provider.pk, achievement_date_id=achievement_date.pk, indicator_ids=[indicator.pk]
    )[indicator.code]
    if shown == value:
        raise AchievementEntryError(f"{indicator.code} is already {'Yes' if value else 'No'}: nothing has changed.")
    now = timezone.now()
    tick_box, _ = TickBoxValue.objects.update_or_create(
        provider=provider,
        indicator=indicator,
        achievement_date=achievement_date,
        defaults={"value": value, "set_by": user, "set_at": now},
    )
    TickBoxChange.objects.create(tick_box=tick_box, old_value=shown, new_value=value, by=user, at=now)
    audit_record(
        actor=user,
        action="tick_box_changed",
        organisation=provider,
        obj=tick_box,
        detail={"indicator": indicator.code, "date": f"{achievement_date.date:%Y-%m-%d}", "old": shown, "new": value},
    )
    hooks.achievements_changed(
        Achievement.objects.filter(
            provider=provider, service_id=indicator.service_id, achievement_date__date__gte=achievement_date.date
        ).values_list("pk", flat=True)
    )
    return tick_box
