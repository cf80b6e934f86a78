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

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q

from achievement import calculation_inputs
from achievement.models import Achievement
from participation.definitions import TICK_BOX_KINDS
from participation.models import AchievementDate, Indicator, ProviderLevel, QualityService
from participation.national import national_figures_by_date, uses_national_figures

from . import calculation as calc
from . import calculation_failures as failures
from . import calculation_writes as writes
from . import engine_batch, selectors, workflow
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
    """One recalculation's locked rows, its inputs, and what it has written so far."""

    achievements: list[Achievement]
    declarations: dict[int, Declaration]  # by achievement id, locked
    existing: dict[int, Calculation]  # by achievement id
    had_failed: set[int]  # achievement ids with a failure recorded
    rules: dict[tuple[int, int], calc.ServiceRules] = field(default_factory=dict)  # by (service id, date id)
    field_names: frozenset[str] = frozenset()  # the FIELD_NAMEs the batch's rules read
    digests: dict[int, str] = field(default_factory=dict)  # values digest by achievement id
    list_sizes: dict[tuple[int, object], int | None] = field(default_factory=dict)  # by (provider id, date)
    answers: dict[tuple[int, int], dict[str, bool]] = field(default_factory=dict)  # by (provider id, date id)
    extras: dict[int, dict[str, dict[str, object]]] = field(default_factory=dict)  # further inputs by achievement id
    fields: dict[int, dict[int, dict[str, int]]] = field(default_factory=dict)  # by achievement id
    calculations: dict[int, Calculation] = field(default_factory=dict)  # by achievement id
    to_calculate: list[tuple[Achievement, str]] = field(default_factory=list)  # with their inputs' hash
    versions_kept: list[Calculation] = field(default_factory=list)  # unchanged, data version raised
    written: list[tuple[Achievement, Calculation]] = field(default_factory=list)
    figures: dict[int, engine_batch.ProviderFigures] = field(default_factory=dict)  # by achievement id
    failed: dict[int, tuple[str, str]] = field(default_factory=dict)  # (reason, error) by achievement id


def _batch_lock(ids: list[int]) -> _Batch:
    """Lock the achievements in id order and read their calculations, failures and every input but
    the values (a fixed number of queries).  Their declarations are locked later, and only those
    of the achievements whose inputs changed (``_declarations_lock``)."""
    achievements = list(Achievement.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    # The services and dates a batch shares, read once rather than joined to every row.
    services = {
        service.pk: service
        for service in QualityService.objects.filter(pk__in={a.service_id for a in achievements}).defer("definition")
    }
    dates = {d.pk: d for d in AchievementDate.objects.filter(pk__in={a.achievement_date_id for a in achievements})}
    for achievement in achievements:
        achievement.service = services[achievement.service_id]
        achievement.achievement_date = dates[achievement.achievement_date_id]
    batch = _Batch(
        achievements=achievements,
        declarations={},
        existing={
            c.achievement_id: c
            for c in Calculation.objects.filter(achievement_id__in=ids).only(
                "pk", "achievement_id", "inputs_hash", "data_version", "version"
            )
        },
        had_failed=set(CalculationFailure.objects.filter(achievement_id__in=ids).values_list("achievement_id", flat=True)),
    )
    indicators: dict[int, list[Indicator]] = {service_id: [] for service_id in services}
    for indicator in (
        Indicator.objects.filter(service_id__in=services)
        .select_related("group")
        .order_by("service_id", "group__domain__position", "group__position", "position", "pk")
    ):
        indicators[indicator.service_id].append(indicator)
    # Rules per (service, achievement date): the national figures in force differ by date.
    for service_id, service in services.items():
        in_force = national_figures_by_date(service_id=service_id) if uses_national_figures(service) else {}
        for date_id in {a.achievement_date_id for a in achievements if a.service_id == service_id}:
            batch.rules[(service_id, date_id)] = calc.service_rules(
                service, indicators[service_id], figures=in_force.get(date_id)
            )
    batch.field_names = frozenset().union(*(rules.plan.field_names for rules in batch.rules.values()))
    batch.digests = calculation_inputs.values_digests(achievement_ids=ids, field_names=batch.field_names)
    batch.list_sizes = calculation_inputs.list_sizes_on(
        keys=[(a.provider_id, a.achievement_date.date) for a in achievements]
    )
    # Income protection's points (the protecting year's calculations), per provider: two queries a
    # service that protects indicators.
    for service_id, service in services.items():
        protected = {i.code for i in indicators[service_id] if getattr(i, "income_protected", False)}
        if not protected or not service.protected_from:
            continue
        points = selectors.protected_points(
            provider_ids={a.provider_id for a in achievements if a.service_id == service_id}, service=service
        )
        for achievement in achievements:
            if achievement.service_id == service_id:
                batch.extras[achievement.pk] = {
                    code: {"protected_points": points[(achievement.provider_id, code)]}
                    for code in sorted(protected)
                    if (achievement.provider_id, code) in points
                }
    with_tick_boxes = {
        key[0] for key, rules in batch.rules.items() if any(i.kind in TICK_BOX_KINDS for i in rules.indicators)
    }
    batch.answers = calculation_inputs.tick_box_answers(
        keys=[(a.provider_id, a.achievement_date_id) for a in achievements if a.service_id in with_tick_boxes]
    )
    return batch


def _inputs_hash(batch: _Batch, achievement: Achievement) -> str | None:
    """The hash of the achievement's inputs; None when it has no data and was never calculated."""
    digest = batch.digests.get(achievement.pk)
    answers = batch.answers.get((achievement.provider_id, achievement.achievement_date_id), {})
    if digest is None and not any(answers.values()) and achievement.pk not in batch.existing:
        return None
    return calc.inputs_hash(
        fingerprint=batch.rules[(achievement.service_id, achievement.achievement_date_id)].fingerprint,
        values_digest=digest,
        list_size=batch.list_sizes[(achievement.provider_id, achievement.achievement_date.date)],
        yes_answers=answers,
        extras=batch.extras.get(achievement.pk),
    )


def _unchanged(batch: _Batch, achievement: Achievement, inputs_hash: str) -> bool:
    """Whether the achievement's inputs are those of its calculation: the figures are then up to
    date with its data version, however much newer."""
    previous = batch.existing.get(achievement.pk)
    if previous is None or previous.inputs_hash != inputs_hash:
        return False
    if previous.data_version != achievement.data_version:
        previous.data_version = achievement.data_version
        batch.versions_kept.append(previous)
    batch.calculations[achievement.pk] = previous
    return True


def _paid(batch: _Batch, achievement: Achievement) -> bool:
    """Whether the achievement's payment was financially approved: the payment has been made on
    these figures and they never change (the achievement and tick-box rules refuse such changes;
    this is the last guard)."""
    declaration = batch.declarations.get(achievement.pk)
    if declaration is None or not declaration.is_financially_approved:
        return False
    logger.warning("Achievement %s not recalculated: its payment has been financially approved", achievement.pk)
    batch.calculations[achievement.pk] = batch.existing[achievement.pk]
    return True


def _reference_figures(batch: _Batch, achievement: Achievement) -> engine_batch.ProviderFigures:
    """The achievement's figures by the reference engine: for input the batch engine leaves to it
    (the reference raises ``EngineInputError`` or ``FiguresBeyondStorage`` with its reason)."""
    rules = batch.rules[(achievement.service_id, achievement.achievement_date_id)]
    by_id = rules.by_id
    fields = batch.fields.get(achievement.pk, {})
    inputs = calc.inputs_build(
        service=achievement.service,
        indicators=list(rules.indicators),
        fields_by_code={by_id[indicator_id].code: values for indicator_id, values in fields.items() if indicator_id in by_id},
        tick_boxes=batch.answers.get((achievement.provider_id, achievement.achievement_date_id), {}),
        list_size=batch.list_sizes[(achievement.provider_id, achievement.achievement_date.date)],
        rules=rules.rules,
        average_list_size=rules.average_list_size,
        extras=batch.extras.get(achievement.pk),
    )
    return writes.figures_checked(inputs=inputs, result=inputs.calculate())


def _calculate(batch: _Batch, achievement: Achievement) -> engine_batch.ProviderFigures | None:
    """The achievement's figures, or None with its failure recorded in ``batch.failed``: a failure
    of this achievement alone (data the engine refuses, figures beyond what a payment can be)
    keeps its last good calculation, and the rest of the batch goes on."""
    try:
        try:
            return engine_batch.provider_calculate(
                plan=batch.rules[(achievement.service_id, achievement.achievement_date_id)].plan,
                fields=batch.fields.get(achievement.pk, {}),
                yes_answers=batch.answers.get((achievement.provider_id, achievement.achievement_date_id), {}),
                list_size=batch.list_sizes[(achievement.provider_id, achievement.achievement_date.date)],
                extras=batch.extras.get(achievement.pk),
            )
        except engine_batch.NeedsReference:
            return _reference_figures(batch, achievement)
    except EngineInputError as exc:
        batch.failed[achievement.pk] = (f"The achievement data cannot be calculated: {exc}.", repr(exc))
    except writes.FiguresBeyondStorage as exc:
        batch.failed[achievement.pk] = (exc.reason, exc.detail)
    except Exception as exc:  # noqa: BLE001 - one achievement's failure must not stop the batch
        logger.exception("Achievement %s not recalculated: the calculation raised", achievement.pk)
        batch.failed[achievement.pk] = (failures.UNEXPECTED, repr(exc))
    return None


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
    declared = [(a, c) for a, c in batch.written if a.pk in batch.declarations]
    old: dict[int, dict[str, Decimal]] = {}
    if not declared:
        return old, {}
    for calculation_id, code, amount in IndicatorCalculation.objects.filter(
        calculation_id__in=[c.pk for _, c in declared]
    ).values_list("calculation_id", "indicator__code", "amount"):
        old.setdefault(calculation_id, {})[code] = amount
    new: dict[int, dict[str, Decimal]] = {}
    for achievement, calculation in declared:
        plan = batch.rules[(achievement.service_id, achievement.achievement_date_id)].plan
        new[calculation.pk] = {
            item.code: Decimal(pence).scaleb(-2)
            for item, pence in zip(plan.indicators, batch.figures[achievement.pk].amounts, strict=True)
        }
    return old, new


def _transaction_settings() -> None:
    """PostgreSQL settings of a recalculation's transaction (``SET LOCAL``: this transaction only).

    - ``jit`` off: a batch's reads are many small index scans that the planner, on a table just
      loaded and not yet analysed, costs high enough to compile just in time: 110 ms of
      compilation for a 20 ms read, twice a batch.
    - ``synchronous_commit`` off, when the recalculation is its own transaction: its commit does
      not wait for its WAL to reach the disk. It writes derived figures that the sweep
      recalculates if a crash loses them (their achievement's ``data_version`` is then newer than
      the calculation's, ADR 0015), and the database stays consistent whatever is lost. Inside a
      caller's transaction, which may hold data changes (extracts, entries, approvals), their full
      guarantee is kept."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit TO OFF")
        if len(connection.atomic_blocks) == 1:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


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
    _transaction_settings()
    batch = _batch_lock(ids)
    changed: list[tuple[Achievement, str]] = []
    for achievement in batch.achievements:
        inputs_hash = _inputs_hash(batch, achievement)
        if inputs_hash is not None and not _unchanged(batch, achievement, inputs_hash):
            changed.append((achievement, inputs_hash))
    writes.data_versions_update(calculations=batch.versions_kept)
    if changed:  # their declarations, locked after their achievements (the lock order)
        batch.declarations = workflow.lock_for_recalculation(achievement_ids=[a.pk for a, _ in changed])
    batch.to_calculate = [(a, h) for a, h in changed if not _paid(batch, a)]
    if batch.to_calculate:
        batch.fields = calculation_inputs.current_fields(
            achievement_ids=[a.pk for a, _ in batch.to_calculate], field_names=batch.field_names
        )
        for achievement, _ in batch.to_calculate:
            figures = _calculate(batch, achievement)
            if figures is not None:
                batch.figures[achievement.pk] = figures
    _failures_write(batch)
    calculated = [(a, h) for a, h in batch.to_calculate if a.pk in batch.figures]
    if not calculated:
        return batch.calculations
    saved = writes.calculations_save(
        calculated=[(a, batch.existing.get(a.pk), h, batch.figures[a.pk]) for a, h in calculated]
    )
    batch.written = [(a, saved[a.pk]) for a, _ in calculated]
    batch.calculations.update(saved)
    old_amounts, new_amounts = _amounts_by_indicator(batch)
    writes.indicator_results_replace(
        replaced=[batch.existing[a.pk].pk for a, _ in calculated if a.pk in batch.existing],
        results=[(saved[a.pk].pk, batch.figures[a.pk]) for a, _ in calculated],
    )
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
