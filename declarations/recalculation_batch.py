"""One recalculation batch (ADR 0017): its achievements locked and its inputs read set by set,
the change of each achievement's inputs told by their hash, its figures by the batch engine (or
the reference engine for what the batch engine leaves to it), and what its writes need.

``declarations.services`` runs a batch (``calculations_recalculate``): this module is the
batch's parts, each a fixed number of queries whatever the batch's size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from achievement import calculation_inputs
from achievement.models import Achievement
from participation.definitions import TICK_BOX_KINDS
from participation.models import AchievementDate, Indicator, QualityService
from participation.national import national_figures_by_date, uses_national_figures

from . import calculation as calc
from . import calculation_failures as failures
from . import calculation_writes as writes
from . import engine_batch, selectors
from .engine import EngineInputError
from .models import Calculation, CalculationFailure, Declaration, IndicatorCalculation

logger = logging.getLogger(__name__)


@dataclass
class Batch:
    """One recalculation's locked rows, its inputs, and what it has written so far."""

    achievements: list[Achievement]
    declarations: dict[int, Declaration]  # by achievement id, locked
    existing: dict[int, Calculation]  # by achievement id
    had_failed: set[int]  # achievement ids with a failure recorded
    rules: dict[tuple[int, int], calc.ServiceRules] = field(default_factory=dict)  # by (service id, date id)
    field_names: frozenset[str] = frozenset()  # the FIELD_NAMEs the batch's rules read
    keys: calculation_inputs.FieldKeys = calculation_inputs.FieldKeys(())  # the keys of their values
    digests: dict[int, str] = field(default_factory=dict)  # values digest by achievement id
    list_sizes: dict[tuple[int, object], int | None] = field(default_factory=dict)  # by (provider id, date)
    answers: dict[tuple[int, int], dict[str, bool]] = field(default_factory=dict)  # by (provider id, date id)
    extras: dict[int, dict[str, dict[str, object]]] = field(default_factory=dict)  # further inputs by achievement id
    values: dict[int, dict[int, int]] = field(default_factory=dict)  # {key: value} by achievement id, as read
    calculations: dict[int, Calculation] = field(default_factory=dict)  # by achievement id
    to_calculate: list[tuple[Achievement, str]] = field(default_factory=list)  # with their inputs' hash
    versions_kept: list[Calculation] = field(default_factory=list)  # unchanged, data version raised
    written: list[tuple[Achievement, Calculation]] = field(default_factory=list)
    figures: dict[int, engine_batch.ProviderFigures] = field(default_factory=dict)  # by achievement id
    failed: dict[int, tuple[str, str]] = field(default_factory=dict)  # (reason, error) by achievement id


def batch_lock(ids: list[int]) -> Batch:
    """Lock the achievements in id order and read their calculations, failures and every input (the
    values only of those never calculated: a fixed number of queries).  Their declarations are
    locked later, and only those of the achievements whose inputs changed (``_declarations_lock``)."""
    achievements = list(Achievement.objects.select_for_update().filter(pk__any=ids).order_by("pk"))
    # The services and dates a batch shares, read once rather than joined to every row.
    services = {
        service.pk: service
        for service in QualityService.objects.filter(pk__in={a.service_id for a in achievements}).defer("definition")
    }
    dates = {d.pk: d for d in AchievementDate.objects.filter(pk__in={a.achievement_date_id for a in achievements})}
    for achievement in achievements:
        achievement.service = services[achievement.service_id]
        achievement.achievement_date = dates[achievement.achievement_date_id]
    batch = Batch(
        achievements=achievements,
        declarations={},
        existing={
            c.achievement_id: c
            for c in Calculation.objects.filter(achievement_id__any=ids).only(
                "pk", "achievement_id", "inputs_hash", "data_version", "version"
            )
        },
        had_failed=set(CalculationFailure.objects.filter(achievement_id__any=ids).values_list("achievement_id", flat=True)),
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
    batch.keys = calculation_inputs.FieldKeys.of(batch.field_names)
    # The digests of the values of the achievements calculated before (whether they changed); those
    # never calculated are calculated if they have data, so their values are read now, with their
    # digests (one read where a national recalculation's first run made two).
    batch.digests = calculation_inputs.values_digests(
        achievement_ids=[a.pk for a in achievements if a.pk in batch.existing], field_names=batch.field_names
    )
    batch.values, fresh_digests = calculation_inputs.values_and_digests(
        achievement_ids=[a.pk for a in achievements if a.pk not in batch.existing], keys=batch.keys
    )
    batch.digests.update(fresh_digests)
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


def inputs_hash_of(batch: Batch, achievement: Achievement) -> str | None:
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


def unchanged(batch: Batch, achievement: Achievement, inputs_hash: str) -> bool:
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


def paid(batch: Batch, achievement: Achievement) -> bool:
    """Whether the achievement's payment was financially approved: the payment has been made on
    these figures and they never change (the achievement and tick-box rules refuse such changes;
    this is the last guard)."""
    declaration = batch.declarations.get(achievement.pk)
    if declaration is None or not declaration.is_financially_approved:
        return False
    logger.warning("Achievement %s not recalculated: its payment has been financially approved", achievement.pk)
    batch.calculations[achievement.pk] = batch.existing[achievement.pk]
    return True


def reference_figures(batch: Batch, achievement: Achievement) -> engine_batch.ProviderFigures:
    """The achievement's figures by the reference engine: for input the batch engine leaves to it
    (the reference raises ``EngineInputError`` or ``FiguresBeyondStorage`` with its reason)."""
    rules = batch.rules[(achievement.service_id, achievement.achievement_date_id)]
    by_id = rules.by_id
    fields = batch.keys.nested(batch.values.get(achievement.pk, {}))
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


def calculate(batch: Batch, achievement: Achievement) -> engine_batch.ProviderFigures | None:
    """The achievement's figures, or None with its failure recorded in ``batch.failed``: a failure
    of this achievement alone (data the engine refuses, figures beyond what a payment can be)
    keeps its last good calculation, and the rest of the batch goes on."""
    try:
        try:
            return engine_batch.provider_calculate(
                plan=batch.rules[(achievement.service_id, achievement.achievement_date_id)].plan,
                values=batch.values.get(achievement.pk, {}),
                keys=batch.keys,
                yes_answers=batch.answers.get((achievement.provider_id, achievement.achievement_date_id), {}),
                list_size=batch.list_sizes[(achievement.provider_id, achievement.achievement_date.date)],
                extras=batch.extras.get(achievement.pk),
            )
        except engine_batch.NeedsReference:
            return reference_figures(batch, achievement)
    except EngineInputError as exc:
        batch.failed[achievement.pk] = (f"The achievement data cannot be calculated: {exc}.", repr(exc))
    except writes.FiguresBeyondStorage as exc:
        batch.failed[achievement.pk] = (exc.reason, exc.detail)
    except Exception as exc:  # noqa: BLE001 - one achievement's failure must not stop the batch
        logger.exception("Achievement %s not recalculated: the calculation raised", achievement.pk)
        batch.failed[achievement.pk] = (failures.UNEXPECTED, repr(exc))
    return None


def failures_write(batch: Batch) -> None:
    """Record this batch's failures; the other achievements' failures no longer stand."""
    for achievement in batch.achievements:
        if achievement.pk in batch.failed:
            reason, error = batch.failed[achievement.pk]
            failures.failure_record(achievement=achievement, reason=reason, error=error)
    failures.failures_clear(achievement_ids=batch.had_failed - batch.failed.keys())


def results_write(batch: Batch, calculation_ids: dict[int, int]) -> None:
    """Calculate ``batch.to_calculate`` (each one's figures to ``batch.figures``, or its failure to
    ``batch.failed``), then replace the indicator results of those calculated with theirs, under
    their calculation ids (``calculation_ids``, by achievement id): one delete and one ``COPY``.
    An existing calculation whose recalculation failed keeps its results.

    All are calculated before any is written: the COPY is then one stream that the database
    reads without waiting (ADR 0017, "2026-11-30 (last)": a COPY fed provider by provider as they
    were calculated kept one worker's database busy beside it, at the cost of a second worker's
    core, and woke the database 400 times a batch)."""
    for achievement, _ in batch.to_calculate:
        figures = calculate(batch, achievement)
        if figures is not None:
            batch.figures[achievement.pk] = figures
    calculated = [a.pk for a, _ in batch.to_calculate if a.pk in batch.figures]
    writes.indicator_results_replace(
        replaced=[batch.existing[pk].pk for pk in calculated if pk in batch.existing],
        results=[(calculation_ids[pk], batch.figures[pk]) for pk in calculated],
    )


def amounts_before(batch: Batch) -> dict[int, dict[str, Decimal]]:
    """£ per indicator code by calculation id, of the declared payments about to be recalculated,
    for those a changed amount sends back (or, not yet declared, whose history says what
    changed).  Read before their indicator results are replaced."""
    old: dict[int, dict[str, Decimal]] = {}
    declared = [batch.existing[a.pk].pk for a, _ in batch.to_calculate if a.pk in batch.declarations]
    if not declared:
        return old
    for calculation_id, code, amount in IndicatorCalculation.objects.filter(
        calculation_id__any=declared
    ).values_list("calculation_id", "indicator__code", "amount"):
        old.setdefault(calculation_id, {})[code] = amount
    return old


def amounts_after(batch: Batch) -> dict[int, dict[str, Decimal]]:
    """£ per indicator code by calculation id, of the declared payments recalculated (``batch.written``)."""
    new: dict[int, dict[str, Decimal]] = {}
    for achievement, calculation in batch.written:
        if achievement.pk in batch.declarations:
            plan = batch.rules[(achievement.service_id, achievement.achievement_date_id)].plan
            new[calculation.pk] = {
                item.code: Decimal(pence).scaleb(-2)
                for item, pence in zip(plan.indicators, batch.figures[achievement.pk].amounts, strict=True)
            }
    return new


def transaction_settings() -> None:
    """PostgreSQL settings of a recalculation's transaction (``SET LOCAL``: this transaction only).

    - ``jit`` off: a batch's reads are many small index scans that the planner, on a table just
      loaded and not yet analysed, costs high enough to compile just in time: 110 ms of
      compilation for a 20 ms read, twice a batch.
    - ``synchronous_commit`` off, when the recalculation is its own transaction: its commit does
      not wait for its WAL to reach the disk. It writes derived figures that the sweep
      recalculates if a crash loses them (their achievement's ``data_version`` is then newer than
      the calculation's, ADR 0015), and the database stays consistent whatever is lost. Inside a
      caller's transaction, which may hold data changes (extracts, entries, approvals), their full
      guarantee is kept.
    - ``DISCARD PLANS``: the session's cached plans are made again.  The foreign keys checked at
      commit (a declaration's calculation, a history's declaration) are checked by plans that
      the connection, kept between tasks (``CONN_MAX_AGE``), caches: one planned when those
      tables were a page or two (a first batch of 200, a single recalculation) scans the whole
      table for every row checked ever after, while a national recalculation grows it to
      thousands of rows: a 200-achievement batch's commit went from 20 ms to 150 ms, and the
      national recalculation from 8 to 10.5 s.  Planned again each batch, they follow the
      tables' size (a few plans, microseconds)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit TO OFF")
        cursor.execute("DISCARD PLANS")
        if len(connection.atomic_blocks) == 1:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
