"""Writing a calculation: the ``Calculation`` row and its indicator results.

Used by ``declarations.services.calculations_recalculate``; the figures come from the engine, the
inputs from ``declarations.calculation``.  A national recalculation writes ~500,000 indicator
rows, so on PostgreSQL they go in with ``COPY``.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from achievement.models import Achievement

from . import calculation as calc
from .engine import PaymentResult
from .models import Calculation, IndicatorCalculation

_RATIO_PLACES = Decimal("0.000000000001")  # 12 decimals: the stored CPI and APDF


def _ratio(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_RATIO_PLACES)


def calculation_write(
    *,
    achievement: Achievement,
    existing: Calculation | None,
    inputs: calc.CalculationInputs,
    inputs_hash: str,
    result: PaymentResult,
) -> tuple[Calculation, list[IndicatorCalculation]]:
    """Save the achievement's calculation (new, or the existing one with ``version`` bumped) and
    build, unsaved, its indicator results."""
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


def indicator_calculations_insert(rows: list[IndicatorCalculation]) -> None:
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


def indicator_calculations_replace(*, replaced: list[int], rows: list[IndicatorCalculation]) -> None:
    """Drop the indicator results of the recalculated calculations, then insert the new ones."""
    if replaced:
        IndicatorCalculation.objects.filter(calculation_id__in=replaced).delete()
    if rows:
        indicator_calculations_insert(rows)
