"""Writes of the declarations app: calculated payments, and (re-exported from
``declarations.workflow``) the Declaration state machine's use cases.

A calculation is redone whenever its inputs may have changed (an extract loads, a submission is
made, a tick-box changes): ``achievement.hooks.achievements_changed`` enqueues
``declarations.tasks.recalculate_many`` after the commit.  Recalculating is idempotent: the
figures are a function of the inputs, and unchanged inputs (same ``inputs_hash``) write nothing.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from achievement.models import Achievement
from participation.models import Indicator, ProviderLevel

from . import calculation as calc
from . import workflow
from .engine import EngineInputError, PaymentResult
from .models import Calculation, IndicatorCalculation

logger = logging.getLogger(__name__)

_RATIO_PLACES = Decimal("0.000000000001")  # 12 decimals: the stored CPI and APDF


def _ratio(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_RATIO_PLACES)


def _paid_achievement_ids(achievement_ids: Iterable[int]) -> list[int]:
    """The achievements whose calculation the given ones feed, sorted (the lock order).

    An NCD (PCN-level) service is paid to the PCN, so a practice's NCD achievement stands for
    its PCN's achievement on the same date (the aggregation the ingestion keeps up to date).
    """
    ids = set(achievement_ids)
    practice_rows = list(
        Achievement.objects.filter(pk__in=ids, service__provider_level=ProviderLevel.PCN)
        .exclude(provider__pcn=None)
        .values_list("pk", "provider__pcn_id", "achievement_date_id")
    )
    if practice_rows:
        ids -= {pk for pk, _, _ in practice_rows}
        wanted = {(pcn_id, date_id) for _, pcn_id, date_id in practice_rows}
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


def _calculation_write(
    *,
    achievement: Achievement,
    existing: Calculation | None,
    inputs: calc.CalculationInputs,
    inputs_hash: str,
    result: PaymentResult,
) -> tuple[Calculation, list[IndicatorCalculation]]:
    cpi = next((r.cpi for r in result.indicators if r.cpi is not None), None)
    calculation = existing or Calculation(
        achievement=achievement,
        provider_id=achievement.provider_id,
        service_id=achievement.service_id,
        achievement_date_id=achievement.achievement_date_id,
        version=0,
    )
    calculation.list_size = inputs.list_size
    calculation.cpi = _ratio(cpi)
    calculation.total_points = result.total_points
    calculation.total_amount = result.total_amount
    calculation.is_provisional = True
    calculation.inputs_hash = inputs_hash
    calculation.data_version = achievement.data_version
    calculation.version += 1
    calculation.calculated_at = timezone.now()
    calculation.save()
    rows = [
        IndicatorCalculation(
            calculation=calculation,
            indicator=indicator,
            numerator=values.numerator,
            denominator=values.denominator,
            register=values.register,
            answer=values.yes,
            value=values.value,
            achievement_percent=outcome.achievement_display,
            points=outcome.points,
            amount=outcome.amount,
            apdf=_ratio(outcome.apdf),
            patients_to_upper=outcome.patients_to_upper,
            amount_at_stake=outcome.amount_at_stake,
        )
        for indicator, values, outcome in zip(
            inputs.indicators, inputs.values, result.indicators, strict=True
        )
    ]
    return calculation, rows


_COPY_COLUMNS = (
    "calculation_id",
    "indicator_id",
    "numerator",
    "denominator",
    "register",
    "value",
    "answer",
    "achievement_percent",
    "points",
    "amount",
    "apdf",
    "patients_to_upper",
    "amount_at_stake",
)


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    return str(value)


def _indicator_calculations_insert(rows: list[IndicatorCalculation]) -> None:
    """Insert indicator results: ``COPY`` on PostgreSQL (a national recalculation writes ~500,000
    rows, and building INSERT parameters cost as much as the calculation), else bulk_create."""
    if connection.vendor != "postgresql":
        IndicatorCalculation.objects.bulk_create(rows, batch_size=2000)
        return
    buffer = io.StringIO()
    for row in rows:
        row.calculation_id = row.calculation.pk
        buffer.write("\t".join(_copy_text(getattr(row, column)) for column in _COPY_COLUMNS))
        buffer.write("\n")
    buffer.seek(0)
    table = connection.ops.quote_name(IndicatorCalculation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN", buffer)


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
    - the Declaration state machine follows (``workflow.declarations_after_recalculation``): the
      first calculation of a payment date creates its declaration; a changed amount of a
      declaration not yet financially approved sends it back to Awaiting Service Provider
      Approval, with a message to the provider saying why.  Declarations are locked after their
      achievements (the lock order every writer keeps).

    Returns the calculations of the achievements calculated, by achievement id.
    """
    from achievement import selectors as achievement_selectors  # the ingestion's read contract

    ids = _paid_achievement_ids(achievement_ids)
    if not ids:
        return {}
    achievements = list(
        Achievement.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("service", "achievement_date")
        .order_by("pk")
    )
    declarations = workflow.lock_for_recalculation(achievement_ids=ids)
    values = achievement_selectors.current_values(achievement_ids=ids)
    existing = {c.achievement_id: c for c in Calculation.objects.filter(achievement_id__in=ids)}
    indicators_by_service: dict[int, list[Indicator]] = {}

    calculations: dict[int, Calculation] = {}
    replaced: list[int] = []
    written: list[tuple[Achievement, Calculation]] = []
    new_rows: list[IndicatorCalculation] = []
    for achievement in achievements:
        service = achievement.service
        if service.pk not in indicators_by_service:
            indicators_by_service[service.pk] = calc.service_indicators(service)
        indicators = indicators_by_service[service.pk]
        fields_by_code = values.get(achievement.pk) or {}
        tick_boxes = calc.tick_box_answers(achievement=achievement, indicators=indicators)
        previous = existing.get(achievement.pk)
        if not fields_by_code and not any(tick_boxes.values()) and previous is None:
            continue
        try:
            inputs = calc.inputs_build(
                service=service,
                indicators=indicators,
                fields_by_code=fields_by_code,
                tick_boxes=tick_boxes,
                list_size=achievement_selectors.list_size_on(
                    provider_id=achievement.provider_id, date=achievement.achievement_date.date
                ),
            )
            inputs_hash = inputs.inputs_hash
            if previous is not None and previous.inputs_hash == inputs_hash:
                if previous.data_version != achievement.data_version:
                    # Same figures from newer data: they are now up to date.
                    previous.data_version = achievement.data_version
                    Calculation.objects.filter(pk=previous.pk).update(data_version=achievement.data_version)
                calculations[achievement.pk] = previous
                continue
            declaration = declarations.get(achievement.pk)
            if previous is not None and declaration is not None and declaration.is_financially_approved:
                # The payment has been made on these figures: they never change (the achievement
                # and tick-box rules refuse such changes; this is the last guard).
                logger.warning(
                    "Achievement %s not recalculated: its payment has been financially approved", achievement.pk
                )
                calculations[achievement.pk] = previous
                continue
            result = inputs.calculate()
        except EngineInputError:
            # Corrupt stored data (the ingestion refuses it): this achievement keeps its last
            # calculation, the rest of the batch goes on.
            logger.exception(
                "Achievement %s not recalculated: its stored data cannot be calculated", achievement.pk
            )
            continue
        if previous is not None:
            replaced.append(previous.pk)
        calculation, rows = _calculation_write(
            achievement=achievement, existing=previous, inputs=inputs, inputs_hash=inputs_hash, result=result
        )
        calculations[achievement.pk] = calculation
        written.append((achievement, calculation))
        new_rows.extend(rows)

    # £ per indicator before and after, for the declarations a changed amount sends back (or, not
    # yet declared, whose history says what changed).
    declared_ids = {calculations[achievement.pk].pk for achievement, _ in written if achievement.pk in declarations}
    old_amounts: dict[int, dict[str, Decimal]] = {}
    if declared_ids:
        for calculation_id, code, amount in IndicatorCalculation.objects.filter(
            calculation_id__in=declared_ids
        ).values_list("calculation_id", "indicator__code", "amount"):
            old_amounts.setdefault(calculation_id, {})[code] = amount
    new_amounts: dict[int, dict[str, Decimal]] = {}
    for row in new_rows:
        if row.calculation.pk in declared_ids:
            new_amounts.setdefault(row.calculation.pk, {})[row.indicator.code] = row.amount

    if replaced:
        IndicatorCalculation.objects.filter(calculation_id__in=replaced).delete()
    if new_rows:
        _indicator_calculations_insert(new_rows)
    if written:
        workflow.declarations_after_recalculation(
            calculated=written, declarations=declarations, old_amounts=old_amounts, new_amounts=new_amounts
        )
    return calculations


def calculation_recalculate(*, achievement_id: int) -> Calculation | None:
    """Recalculate one achievement's payment (see ``calculations_recalculate`` for the rules).

    Returns its calculation (or, for a practice's NCD achievement, its PCN's), None without data.
    """
    calculations = calculations_recalculate(achievement_ids=[achievement_id])
    if achievement_id in calculations:
        return calculations[achievement_id]
    return next(iter(calculations.values()), None)


# The Declaration state machine's use cases live in workflow.py; callers use them from here.
declaration_declare = workflow.declaration_declare
declarations_approve = workflow.declarations_approve
declarations_finance_approve = workflow.declarations_finance_approve
DeclarationError = workflow.DeclarationError
