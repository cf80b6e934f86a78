"""Writing a calculation: the ``Calculation`` row and its indicator results.

Used by ``declarations.services.calculations_recalculate``; the figures come from the engine, the
inputs from ``declarations.calculation``.  A national recalculation writes ~500,000 indicator
rows, so on PostgreSQL they go in with ``COPY``.
"""

from __future__ import annotations

import functools
import io
from decimal import Decimal

from django.db import connection, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone

from achievement.models import Achievement

from . import calculation as calc
from .engine import PaymentResult
from .models import Calculation, IndicatorCalculation

_RATIO_PLACES = Decimal("0.000000000001")  # 12 decimals: the stored CPI and APDF


def _ratio(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_RATIO_PLACES)


class FiguresBeyondStorage(ValueError):  # noqa: N818 - a reason, said to users
    """The figures are beyond what a stored payment can hold: no payment can be that large, so a
    value of the achievement data must be wrong.  Arguments: the reason users are told, and the
    figure (for the operators)."""

    @property
    def reason(self) -> str:
        return self.args[0]

    @property
    def detail(self) -> str:
        return self.args[1]


@functools.cache
def _bounds(model: type[models.Model], name: str) -> tuple[models.Field, Decimal | int | None, Decimal | int | None]:
    """The field and the values it holds, (low, high), exclusive for a Decimal and inclusive for an
    integer: a Decimal of d digits and p places holds a value whose rounding (half up) to p places
    is below 10**(d - p), that is, of magnitude below 10**(d - p) - 0.5 x 10**-p; an integer the
    range of its column (PostgreSQL's, wherever it is stored: SQLite would store anything).
    Worked out once per field: the check runs for every figure of every calculation."""
    field = model._meta.get_field(name)
    if isinstance(field, models.DecimalField):
        bound = Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(5).scaleb(-field.decimal_places - 1)
        return field, -bound, bound
    if isinstance(field, models.IntegerField):
        low, high = BaseDatabaseOperations.integer_field_ranges.get(field.get_internal_type(), (None, None))
        return field, low, high
    return field, None, None


def _fits(model: type[models.Model], name: str, value) -> bool:
    """Whether the stored field holds the value."""
    if value is None:
        return True
    field, low, high = _bounds(model, name)
    if isinstance(field, models.DecimalField):
        return low < value < high
    return (low is None or value >= low) and (high is None or value <= high)


_WHAT = {
    "total_amount": "a total payment",
    "total_points": "total points",
    "list_size": "a list size",
    "cpi": "a contractor population index",
    "amount": "a payment",
    "points": "points",
    "apdf": "an adjusted prevalence factor",
    "achievement_percent": "an achievement",
    "patients_to_upper": "patients to the upper threshold",
    "amount_at_stake": "an amount at stake",
    "numerator": "a Numerator",
    "denominator": "a Denominator",
    "register": "a register",
    "value": "a value",
}


def _check(instance: models.Model, names, where: str) -> None:
    model = type(instance)
    for name in names:
        value = getattr(instance, name)
        if not _fits(model, name, value):
            field = model._meta.get_field(name)
            what = _WHAT.get(name, field.verbose_name)
            # No amount in the reason: it is shown to roles that may not see money.
            raise FiguresBeyondStorage(
                f"The achievement data give {what}{where} beyond what any payment can be: a value "
                "submitted must be wrong.",
                f"{instance._meta.model_name}.{name}{where} = {value}",
            )


_CALCULATION_FIGURES = ("list_size", "cpi", "total_points", "total_amount")
_INDICATOR_FIGURES = (
    "numerator",
    "denominator",
    "register",
    "value",
    "achievement_percent",
    "points",
    "amount",
    "apdf",
    "patients_to_upper",
    "amount_at_stake",
)


def calculation_write(
    *,
    achievement: Achievement,
    existing: Calculation | None,
    inputs: calc.CalculationInputs,
    inputs_hash: str,
    result: PaymentResult,
) -> tuple[Calculation, list[IndicatorCalculation]]:
    """Save the achievement's calculation (new, or the existing one with ``version`` bumped) and
    build, unsaved, its indicator results.

    Raises ``FiguresBeyondStorage`` before anything is written (and ``existing`` is left as it
    was) when a figure is beyond what its stored field holds."""
    cpi = next((r.cpi for r in result.indicators if r.cpi is not None), None)
    calculation = Calculation(
        pk=None if existing is None else existing.pk,
        achievement=achievement,
        provider_id=achievement.provider_id,
        service_id=achievement.service_id,
        achievement_date_id=achievement.achievement_date_id,
        list_size=inputs.list_size,
        cpi=_ratio(cpi),
        total_points=result.total_points,
        total_amount=result.total_amount,
        is_provisional=True,
        inputs_hash=inputs_hash,
        data_version=achievement.data_version,
        version=(0 if existing is None else existing.version) + 1,
        calculated_at=timezone.now(),
    )
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
    for row in rows:
        _check(row, _INDICATOR_FIGURES, f" for {row.indicator.code}")
    largest = max(rows, key=lambda row: abs(row.amount or 0), default=None)
    _check(calculation, _CALCULATION_FIGURES, f" (the largest part for {largest.indicator.code})" if largest else "")
    calculation.save(force_insert=existing is None, force_update=existing is not None)
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
