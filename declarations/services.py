"""Writes of the declarations app: calculated payments, and (re-exported from
``declarations.workflow``) the Declaration state machine's use cases.

A calculation is redone whenever its inputs may have changed (an extract loads, a submission is
made, a tick-box changes): ``achievement.hooks.achievements_changed`` enqueues
``declarations.tasks.recalculate_many`` after the commit.  Recalculating is idempotent: the
figures are a function of the inputs, and unchanged inputs (same ``inputs_hash``) write nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Exists, F, OuterRef, Q

from achievement import calculation_inputs
from achievement.models import Achievement
from participation.models import ProviderLevel

from . import calculation_failures as failures
from . import calculation_writes as writes
from . import recalculation_batch as batch_parts
from . import workflow
from .errors import DeclarationError
from .models import Calculation, CalculationFailure, DeclarationStatus
from .workflow import declaration_declare, declarations_approve, declarations_finance_approve

logger = logging.getLogger(__name__)


def _paid_achievement_ids(achievement_ids: Iterable[int]) -> list[int]:
    """The achievements whose calculation the given ones feed, sorted (the lock order).

    An NCD (PCN-level) service is paid to the PCN, so a practice's NCD achievement stands for
    the achievement, on the same date, of the PCN it was a member of on that date (the
    aggregation the ingestion keeps up to date; PCN membership over time, docs/adr/0020).
    """
    from accounts.models import OrganisationKind
    from accounts.pcn_membership import membership_table

    ids = set(achievement_ids)
    practice_rows = list(
        Achievement.objects.filter(
            pk__any=ids, service__provider_level=ProviderLevel.PCN, provider__kind=OrganisationKind.PRACTICE
        ).values_list("pk", "provider_id", "achievement_date_id", "achievement_date__date")
    )
    if practice_rows:
        ids -= {pk for pk, _, _, _ in practice_rows}
        table = membership_table(practice_ids={provider_id for _, provider_id, _, _ in practice_rows})
        wanted = {
            (pcn_id, date_id)
            for _, provider_id, date_id, date in practice_rows
            if (pcn_id := table.pcn_on(provider_id, date)) is not None
        }
        if wanted:
            pcn_rows = Achievement.objects.filter(
                provider_id__in={pcn_id for pcn_id, _ in wanted},
                achievement_date_id__in={date_id for _, date_id in wanted},
            ).values_list("pk", "provider_id", "achievement_date_id")
            ids |= {pk for pk, provider_id, date_id in pcn_rows if (provider_id, date_id) in wanted}
    return sorted(ids)


def calculations_mark_stale(*, achievement_ids: Iterable[int]) -> None:
    """The data of these achievements changed (called in the changing transaction): raise the
    data version of the achievements whose payments they feed, so that until the queued
    recalculation has run, those payments are not declared or approved on the old figures."""
    ids = _paid_achievement_ids(achievement_ids)
    if ids:
        Achievement.objects.filter(pk__any=ids).update(data_version=F("data_version") + 1)


def calculations_recalculate(*, achievement_ids: Iterable[int]) -> dict[int, Calculation]:
    """Recalculate the payments of these achievements; unchanged inputs write nothing.

    Set by set (ADR 0017): the batch's inputs are read in a fixed number of queries (the
    values' digests computed by the database, list sizes, tick-box answers, calculations); only
    the achievements whose inputs' hash changed have their values read and are calculated, by the
    batch engine (``engine_batch``, the same pence as the reference engine); their results are
    written with one statement per table (``COPY`` for the indicator results on PostgreSQL).

    Rules enforced:
    - one calculation per achievement with data (a current submission, or a tick-box Yes); an
      achievement without data is not calculated;
    - concurrent recalculations of the same achievement are serialised by a row lock on the
      Achievement, taken in id order so that two batches cannot deadlock; the second finds the
      first's hash and writes nothing;
    - a practice's achievement of a PCN-level service recalculates its PCN's achievement;
    - a changed input replaces every indicator result and bumps ``version``; the calculation stays
      provisional;
    - a financially approved calculation is never changed: its achievement's changed inputs are
      refused (logged) and it keeps the figures that were paid;
    - an achievement whose recalculation fails (data the engine refuses, figures beyond what a
      payment can be) keeps its last good calculation and its failure is recorded with the data
      version it failed on (``calculation_failures``); the rest of the batch is calculated;
    - the Declaration state machine follows (``workflow.declarations_after_recalculation``): the
      first calculation of a payment date creates its declaration; a changed amount of a
      declaration not yet financially approved sends it back to Awaiting Service Provider
      Approval, with a message to the provider saying why.  Declarations are locked after their
      achievements (the lock order every writer keeps).

    Returns the calculations of the achievements calculated, by achievement id.
    """
    return _recalculate(_paid_achievement_ids(achievement_ids))


@transaction.atomic
def _recalculate(ids: list[int]) -> dict[int, Calculation]:
    """``calculations_recalculate`` of the achievements whose calculations are paid
    (``_paid_achievement_ids``), sorted: in one transaction."""
    if not ids:
        return {}
    batch_parts.transaction_settings()
    batch = batch_parts.batch_lock(ids)
    changed: list[tuple[Achievement, str]] = []
    for achievement in batch.achievements:
        inputs_hash = batch_parts.inputs_hash_of(batch, achievement)
        if inputs_hash is not None and not batch_parts.unchanged(batch, achievement, inputs_hash):
            changed.append((achievement, inputs_hash))
    writes.data_versions_update(calculations=batch.versions_kept)
    if changed:  # their declarations, locked after their achievements (the lock order)
        batch.declarations = workflow.lock_for_recalculation(achievement_ids=[a.pk for a, _ in changed])
    batch.to_calculate = [(a, h) for a, h in changed if not batch_parts.paid(batch, a)]
    new_ids: dict[int, int] = {}
    old_amounts: dict = {}
    if batch.to_calculate:
        # The values of the changed achievements calculated before (those never calculated were
        # read with their digests).
        batch.values.update(
            calculation_inputs.current_values(
                achievement_ids=[a.pk for a, _ in batch.to_calculate if a.pk in batch.existing], keys=batch.keys
            )
        )
        old_amounts = batch_parts.amounts_before(batch)
        new = [a.pk for a, _ in batch.to_calculate if a.pk not in batch.existing]
        new_ids = dict(zip(new, writes.calculation_ids_take(count=len(new)), strict=True))
        # Calculated, then their results written (one COPY).
        batch_parts.results_write(batch, {**new_ids, **{pk: c.pk for pk, c in batch.existing.items()}})
    batch_parts.failures_write(batch)
    calculated = [(a, h) for a, h in batch.to_calculate if a.pk in batch.figures]
    if not calculated:
        return batch.calculations
    saved = writes.calculations_save(
        calculated=[(a, batch.existing.get(a.pk), h, batch.figures[a.pk]) for a, h in calculated], new_ids=new_ids
    )
    batch.written = [(a, saved[a.pk]) for a, _ in calculated]
    batch.calculations.update(saved)
    workflow.declarations_after_recalculation(
        calculated=batch.written,
        declarations=batch.declarations,
        old_amounts=old_amounts,
        new_amounts=batch_parts.amounts_after(batch),
    )
    return batch.calculations


def calculation_recalculate(*, achievement_id: int) -> Calculation | None:
    """Recalculate one achievement's payment (see ``calculations_recalculate`` for the rules).

    Returns its calculation (or, for a practice's NCD achievement, its PCN's), None without data.
    """
    calculations = calculations_recalculate(achievement_ids=[achievement_id])
    if achievement_id in calculations:
        return calculations[achievement_id]
    return next(iter(calculations.values()), None)


def calculations_recalculate_isolating(*, achievement_ids: Iterable[int]) -> dict[int, Calculation]:
    """``calculations_recalculate``, and if the batch fails as a whole (beyond the failures of
    one achievement it records itself), each achievement on its own: one that still fails alone
    gets its failure recorded, the others are calculated.  A database that cannot be reached
    raises: nothing can be recorded, and the sweep tries again."""
    ids = _paid_achievement_ids(achievement_ids)
    try:
        return _recalculate(ids)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:  # noqa: BLE001 - one achievement's failure must not stop the others
        if len(ids) > 1:
            logger.exception("Recalculation of %s achievements failed: recalculating each alone", len(ids))
            calculations: dict[int, Calculation] = {}
            for achievement_id in ids:
                calculations.update(calculations_recalculate_isolating(achievement_ids=[achievement_id]))
            return calculations
        logger.exception("Achievement %s not recalculated: the recalculation raised", ids[0] if ids else None)
        achievement = Achievement.objects.filter(pk__in=ids).first()
        if achievement is not None:
            failures.failure_record(achievement=achievement, reason=failures.UNEXPECTED, error=repr(exc))
        return {}


def stale_achievement_ids() -> list[int]:
    """The achievements whose payment is older than their data, oldest first: a calculation of
    an older data version, or data (a current submission, a tick-box Yes) never calculated;
    not those whose recalculation failed on their current data (it would fail again until the
    data change), nor a financially approved payment (never recalculated)."""
    from achievement.models import Submission, TickBoxValue

    has_data = Exists(Submission.objects.filter(achievement=OuterRef("pk"), is_current=True)) | Exists(
        TickBoxValue.objects.filter(
            provider=OuterRef("provider"), achievement_date=OuterRef("achievement_date"), value=True
        )
    )
    failed_on_current = Exists(
        CalculationFailure.objects.filter(achievement=OuterRef("pk"), data_version=OuterRef("data_version"))
    )
    return list(
        Achievement.objects.filter(
            Q(calculation__data_version__lt=F("data_version")) | (Q(calculation__isnull=True, data_version__gt=0) & has_data)
        )
        .exclude(failed_on_current)
        .exclude(declaration__status=DeclarationStatus.FINANCIALLY_APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def calculations_sweep(*, batch_size: int = 50) -> int:
    """Recalculate every payment older than its data (``stale_achievement_ids``), in batches.

    The safety net of "no recalculation is ever lost": a change's recalculation is queued after
    its commit, and is lost if the broker is down then or the worker dies mid-task (the message
    comes back only after the broker's visibility timeout, hours later).  Run periodically by
    Celery beat (``RECALCULATION_SWEEP_SECONDS``).  Recalculating is idempotent, so a payment a
    queued task also recalculates is written once.  Returns the number of achievements swept.
    """
    ids = stale_achievement_ids()
    for start in range(0, len(ids), batch_size):
        calculations_recalculate_isolating(achievement_ids=ids[start : start + batch_size])
    if ids:
        logger.info("Recalculation sweep: %s achievements recalculated", len(ids))
    return len(ids)


# The Declaration state machine's use cases live in ``declarations.workflow``; callers use them
# from here too.
__all__ = [
    "DeclarationError",
    "calculation_recalculate",
    "calculations_mark_stale",
    "calculations_recalculate",
    "calculations_recalculate_isolating",
    "calculations_sweep",
    "declaration_declare",
    "declarations_approve",
    "declarations_finance_approve",
]
