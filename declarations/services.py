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
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DatabaseError, DataError, InterfaceError, OperationalError, transaction
from django.db.models import Exists, F, OuterRef, Q

from achievement.models import Achievement
from participation.models import Indicator, ProviderLevel

from . import calculation as calc
from . import calculation_failures as failures
from . import calculation_writes as writes
from . import workflow
from .engine import EngineInputError
from .errors import DeclarationError
from .models import Calculation, CalculationFailure, Declaration, DeclarationStatus, IndicatorCalculation
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
            pk__in=ids, service__provider_level=ProviderLevel.PCN, provider__kind=OrganisationKind.PRACTICE
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
        Achievement.objects.filter(pk__in=ids).update(data_version=F("data_version") + 1)


@dataclass
class _Batch:
    """One recalculation's locked rows and what it has written so far."""

    achievements: list[Achievement]
    declarations: dict[int, Declaration]  # by achievement id, locked
    values: dict  # the current submissions' fields by indicator code, by achievement id
    existing: dict[int, Calculation]  # by achievement id
    indicators: dict[int, list[Indicator]] = field(default_factory=dict)  # by service id
    calculations: dict[int, Calculation] = field(default_factory=dict)  # by achievement id
    replaced: list[int] = field(default_factory=list)  # calculation ids whose results are redone
    written: list[tuple[Achievement, Calculation]] = field(default_factory=list)
    new_rows: list[IndicatorCalculation] = field(default_factory=list)
    had_failed: set[int] = field(default_factory=set)  # achievement ids with a failure recorded
    failed: dict[int, tuple[str, str]] = field(default_factory=dict)  # (reason, error) by achievement id


def _batch_lock(ids: list[int]) -> _Batch:
    """Lock the achievements in id order, then their declarations (the lock order), and read
    what their calculations depend on."""
    from achievement import selectors as achievement_selectors  # the ingestion's read contract

    achievements = list(
        Achievement.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("service", "achievement_date")
        .order_by("pk")
    )
    return _Batch(
        achievements=achievements,
        declarations=workflow.lock_for_recalculation(achievement_ids=ids),
        values=achievement_selectors.current_values(achievement_ids=ids),
        existing={c.achievement_id: c for c in Calculation.objects.filter(achievement_id__in=ids)},
        had_failed=set(CalculationFailure.objects.filter(achievement_id__in=ids).values_list("achievement_id", flat=True)),
    )


def _inputs(batch: _Batch, achievement: Achievement) -> calc.CalculationInputs | None:
    """The engine inputs of one achievement; None when it has no data and was never calculated."""
    from achievement import selectors as achievement_selectors

    service = achievement.service
    if service.pk not in batch.indicators:
        batch.indicators[service.pk] = calc.service_indicators(service)
    indicators = batch.indicators[service.pk]
    fields_by_code = batch.values.get(achievement.pk) or {}
    tick_boxes = calc.tick_box_answers(achievement=achievement, indicators=indicators)
    if not fields_by_code and not any(tick_boxes.values()) and achievement.pk not in batch.existing:
        return None
    return calc.inputs_build(
        service=service,
        indicators=indicators,
        fields_by_code=fields_by_code,
        tick_boxes=tick_boxes,
        list_size=achievement_selectors.list_size_on(
            provider_id=achievement.provider_id, date=achievement.achievement_date.date
        ),
    )


def _kept(batch: _Batch, achievement: Achievement, inputs_hash: str) -> bool:
    """Whether the achievement keeps its calculation: its inputs are unchanged (the figures are
    then up to date with the newer data version), or its payment was financially approved."""
    previous = batch.existing.get(achievement.pk)
    if previous is None:
        return False
    if previous.inputs_hash == inputs_hash:
        if previous.data_version != achievement.data_version:
            previous.data_version = achievement.data_version
            Calculation.objects.filter(pk=previous.pk).update(data_version=achievement.data_version)
        batch.calculations[achievement.pk] = previous
        return True
    declaration = batch.declarations.get(achievement.pk)
    if declaration is not None and declaration.is_financially_approved:
        # The payment has been made on these figures: they never change (the achievement and
        # tick-box rules refuse such changes; this is the last guard).
        logger.warning("Achievement %s not recalculated: its payment has been financially approved", achievement.pk)
        batch.calculations[achievement.pk] = previous
        return True
    return False


def _recalculate(batch: _Batch, achievement: Achievement) -> None:
    """Calculate one achievement and save its calculation if its inputs changed.

    A failure of this achievement alone (data the engine refuses, figures beyond what a payment
    can be, a value the database refuses) is recorded in ``batch.failed``: it keeps its last
    good calculation, and the rest of the batch goes on."""
    try:
        inputs = _inputs(batch, achievement)
        if inputs is None:
            return
        inputs_hash = inputs.inputs_hash
        if _kept(batch, achievement, inputs_hash):
            return
        result = inputs.calculate()
    except DatabaseError:
        raise  # the batch's transaction is broken: nothing of it can be written
    except EngineInputError as exc:
        batch.failed[achievement.pk] = (f"The achievement data cannot be calculated: {exc}.", repr(exc))
        return
    except Exception as exc:  # noqa: BLE001 - one achievement's failure must not stop the batch
        logger.exception("Achievement %s not recalculated: the calculation raised", achievement.pk)
        batch.failed[achievement.pk] = (failures.UNEXPECTED, repr(exc))
        return
    previous = batch.existing.get(achievement.pk)
    try:
        with transaction.atomic():  # a savepoint: a refused write undoes this achievement's only
            calculation, rows = writes.calculation_write(
                achievement=achievement, existing=previous, inputs=inputs, inputs_hash=inputs_hash, result=result
            )
    except writes.FiguresBeyondStorage as exc:
        batch.failed[achievement.pk] = (exc.reason, exc.detail)
        return
    except DataError as exc:
        batch.failed[achievement.pk] = (failures.UNEXPECTED, repr(exc))
        return
    if previous is not None:
        batch.replaced.append(previous.pk)
    batch.calculations[achievement.pk] = calculation
    batch.written.append((achievement, calculation))
    batch.new_rows.extend(rows)


def _failures_write(batch: _Batch) -> None:
    """Record this batch's failures; the other achievements' failures no longer stand."""
    for achievement in batch.achievements:
        if achievement.pk in batch.failed:
            reason, error = batch.failed[achievement.pk]
            failures.failure_record(achievement=achievement, reason=reason, error=error)
    failures.failures_clear(achievement_ids=batch.had_failed - batch.failed.keys())


def _amounts_by_indicator(batch: _Batch) -> tuple[dict[int, dict[str, Decimal]], dict[int, dict[str, Decimal]]]:
    """£ per indicator code before and after, by calculation id, for the declarations a changed
    amount sends back (or, not yet declared, whose history says what changed).  Read before the
    old indicator results are replaced."""
    declared_ids = {
        batch.calculations[achievement.pk].pk for achievement, _ in batch.written if achievement.pk in batch.declarations
    }
    old: dict[int, dict[str, Decimal]] = {}
    if declared_ids:
        for calculation_id, code, amount in IndicatorCalculation.objects.filter(
            calculation_id__in=declared_ids
        ).values_list("calculation_id", "indicator__code", "amount"):
            old.setdefault(calculation_id, {})[code] = amount
    new: dict[int, dict[str, Decimal]] = {}
    for row in batch.new_rows:
        if row.calculation.pk in declared_ids:
            new.setdefault(row.calculation.pk, {})[row.indicator.code] = row.amount
    return old, new


@transaction.atomic
def calculations_recalculate(*, achievement_ids: Iterable[int]) -> dict[int, Calculation]:
    """Recalculate the payments of these achievements; unchanged inputs write nothing.

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
    ids = _paid_achievement_ids(achievement_ids)
    if not ids:
        return {}
    batch = _batch_lock(ids)
    for achievement in batch.achievements:
        _recalculate(batch, achievement)
    _failures_write(batch)
    old_amounts, new_amounts = _amounts_by_indicator(batch)
    writes.indicator_calculations_replace(replaced=batch.replaced, rows=batch.new_rows)
    if batch.written:
        workflow.declarations_after_recalculation(
            calculated=batch.written, declarations=batch.declarations, old_amounts=old_amounts, new_amounts=new_amounts
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
        return calculations_recalculate(achievement_ids=ids)
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
