"""Writing a calculation: the ``Calculation`` row and its indicator results.

Used by ``declarations.services.calculations_recalculate``; the figures come from the engine, the
inputs from ``declarations.calculation``.  A national recalculation writes ~500,000 indicator
rows, so on PostgreSQL they go in with ``COPY``.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from django.db import connection, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone

from accounts.bulk import copy_in, ids_take, insert_rows, unsaved
from achievement.models import Achievement

from . import calculation as calc
from . import engine_batch
from .engine import PaymentResult
from .models import Calculation, IndicatorCalculation

_RATIO_PLACES = engine_batch.RATIO_PLACES  # 12 decimals: the stored CPI and APDF


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


def figures_checked(*, inputs: calc.CalculationInputs, result: PaymentResult) -> engine_batch.ProviderFigures:
    """The reference engine's figures of one provider as the batch stores them.

    Raises ``FiguresBeyondStorage`` when a figure is beyond what its stored field holds."""
    cpi = next((r.cpi for r in result.indicators if r.cpi is not None), None)
    calculation = Calculation(
        list_size=inputs.list_size, cpi=_ratio(cpi), total_points=result.total_points, total_amount=result.total_amount
    )
    rows = [
        IndicatorCalculation(
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
        for indicator, values, outcome in zip(inputs.indicators, inputs.values, result.indicators, strict=True)
    ]
    for row in rows:
        _check(row, _INDICATOR_FIGURES, f" for {row.indicator.code}")
    largest = max(rows, key=lambda row: abs(row.amount or 0), default=None)
    _check(calculation, _CALCULATION_FIGURES, f" (the largest part for {largest.indicator.code})" if largest else "")
    return engine_batch.ProviderFigures(
        lines=[engine_batch.copy_line([getattr(row, column) for column in engine_batch.COPY_COLUMNS]) for row in rows],
        amounts=[int(row.amount * 100) for row in rows],
        total_cents=int(result.total_points * 100),
        total_pence=int(result.total_amount * 100),
        cpi=calculation.cpi,
        list_size=inputs.list_size,
    )


def data_versions_update(*, calculations: list[Calculation]) -> None:
    """Unchanged figures, newer data: the calculations are up to date with their data versions."""
    if calculations:
        Calculation.objects.bulk_update(calculations, ["data_version"], batch_size=1000)


_SAVED_FIELDS = (
    "list_size", "cpi", "total_points", "total_amount", "is_provisional", "inputs_hash", "data_version", "version",
    "calculated_at",
)
_SAVED_TYPES = ("bigint", "integer", "numeric", "numeric", "numeric", "boolean", "varchar", "integer", "integer",
                "timestamptz")


def calculation_ids_take(*, count: int) -> list[int]:
    """Ids for ``count`` new calculations, taken before they are written (their indicator results
    are written before them: ``indicator_results_replace``).  PostgreSQL: from the
    id's sequence, one statement.  Elsewhere (SQLite, whose transactions here take the write lock
    when they begin: ``transaction_mode`` IMMEDIATE) after the largest id."""
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        return ids_take(Calculation, count=count)
    largest = Calculation.objects.aggregate(largest=models.Max("pk"))["largest"] or 0
    return list(range(largest + 1, largest + 1 + count))


def calculations_save(
    *,
    calculated: list[tuple[Achievement, Calculation | None, str, engine_batch.ProviderFigures]],
    new_ids: dict[int, int] | None = None,
) -> dict[int, Calculation]:
    """Save the calculations of these achievements, (achievement, existing calculation or None,
    inputs' hash, figures): the new ones in one INSERT (under ``new_ids``, by achievement id,
    when their ids were taken beforehand), the existing ones (``version`` bumped) in one UPDATE.
    Returns them by achievement id."""
    new_ids = new_ids or {}
    now = timezone.now()
    saved: dict[int, Calculation] = {}
    new: list[Calculation] = []
    changed: list[Calculation] = []
    for achievement, existing, inputs_hash, figures in calculated:
        calculation = unsaved(
            Calculation,
            pk=new_ids.get(achievement.pk) if existing is None else existing.pk,
            achievement=achievement,
            provider_id=achievement.provider_id,
            service_id=achievement.service_id,
            achievement_date_id=achievement.achievement_date_id,
            list_size=figures.list_size,
            cpi=figures.cpi,
            total_points=figures.total_points,
            total_amount=figures.total_amount,
            is_provisional=True,
            inputs_hash=inputs_hash,
            data_version=achievement.data_version,
            version=(0 if existing is None else existing.version) + 1,
            calculated_at=now,
        )
        (new if existing is None else changed).append(calculation)
        saved[achievement.pk] = calculation
    if new:
        insert_rows(Calculation, new)
    if changed:
        _calculations_update(changed)
    return saved


def _calculations_update(calculations: list[Calculation]) -> None:
    if connection.vendor != "postgresql":
        Calculation.objects.bulk_update(calculations, list(_SAVED_FIELDS), batch_size=500)
        return
    from psycopg2.extras import execute_values

    table = connection.ops.quote_name(Calculation._meta.db_table)
    columns = ("id", *_SAVED_FIELDS)
    template = "(" + ", ".join(f"%s::{kind}" for kind in _SAVED_TYPES) + ")"
    assignments = ", ".join(f"{name} = v.{name}" for name in _SAVED_FIELDS)
    sql = f"UPDATE {table} AS c SET {assignments} FROM (VALUES %s) AS v ({', '.join(columns)}) WHERE c.id = v.id"
    rows = [tuple(getattr(c, "pk" if name == "id" else name) for name in columns) for c in calculations]
    with connection.cursor() as cursor:
        execute_values(cursor.cursor if hasattr(cursor, "cursor") else cursor, sql, rows, template=template,
                       page_size=len(rows))


_COPY_COLUMNS = ("calculation_id", *engine_batch.COPY_COLUMNS)


def indicator_results_delete(*, calculation_ids: list[int]) -> None:
    """Drop the indicator results of these calculations (to be replaced)."""
    if calculation_ids:
        IndicatorCalculation.objects.filter(calculation_id__any=calculation_ids).delete()


def _parsed(line: str) -> tuple:
    calculation_id, _, rest = line.partition("\t")
    return (int(calculation_id), *engine_batch.ProviderFigures.parse_line(rest))


def copy_text(calculation_id: int, figures: engine_batch.ProviderFigures) -> str:
    """A provider's indicator results as ``COPY`` text, its calculation id first on every line."""
    prefix = f"{calculation_id}\t"
    return prefix + f"\n{prefix}".join(figures.lines) + "\n"


def indicator_results_replace(*, replaced: list[int], results: list[tuple[int, engine_batch.ProviderFigures]]) -> None:
    """Drop the indicator results of the recalculated calculations (``replaced``), then insert the
    new ones, (calculation id, figures): on PostgreSQL one ``COPY ... FROM STDIN`` of the lines of
    every ``ProviderFigures`` under its calculation id (``_COPY_COLUMNS``), sent as one stream (a
    national recalculation writes ~500,000 rows); elsewhere, bulk_create."""
    indicator_results_delete(calculation_ids=replaced)
    if not results:
        return
    text = "".join([copy_text(calculation_id, figures) for calculation_id, figures in results])
    if connection.vendor == "postgresql":
        copy_in(table=IndicatorCalculation._meta.db_table, columns=_COPY_COLUMNS, chunks=[text])
        return
    rows = [IndicatorCalculation(**dict(zip(_COPY_COLUMNS, _parsed(line), strict=True))) for line in text.splitlines()]
    IndicatorCalculation.objects.bulk_create(rows, batch_size=2000)
