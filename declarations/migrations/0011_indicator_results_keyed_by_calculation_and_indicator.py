"""Indicator results keyed by (calculation, indicator), with no surrogate id.

A national recalculation COPYs some 500,000 indicator results.  Their id's sequence and its
index were a third of that COPY (1.32-1.58 s -> 0.96-1.08 s for 506,390 rows, measured
2026-11-30): the unique (calculation, indicator) constraint, the one index a query uses, becomes
the primary key.  Django cannot migrate a primary key to a composite one in place, so the
results move to a new table (the same columns but the id), which takes the old one's name.
"""

import django.db.models.deletion
from django.db import migrations, models

_COLUMNS = (
    "calculation_id, indicator_id, numerator, denominator, register, value, answer, achievement_percent, points, "
    "amount, apdf, patients_to_upper, amount_at_stake"
)
_OLD = "declarations_indicatorcalculation"
_NEW = "declarations_indicatorresult"


class Migration(migrations.Migration):
    dependencies = [
        ("declarations", "0010_indexes_a_query_uses"),
        ("participation", "0004_per_item_indicators"),
    ]

    operations = [
        migrations.CreateModel(
            name="IndicatorResult",
            fields=[
                ("pk", models.CompositePrimaryKey("calculation_id", "indicator_id", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("calculation", models.ForeignKey(db_constraint=False, db_index=False,
                                                  on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                  to="declarations.calculation")),
                ("indicator", models.ForeignKey(db_constraint=False, db_index=False,
                                                on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                                to="participation.indicator")),
                ("numerator", models.BigIntegerField(blank=True, null=True)),
                ("denominator", models.BigIntegerField(blank=True, null=True)),
                ("register", models.BigIntegerField(blank=True, null=True)),
                ("value", models.BigIntegerField(blank=True, help_text="Count indicators: stored and shown, never paid",
                                                 null=True)),
                ("answer", models.BooleanField(blank=True, help_text="Yes/No, tick-box and per-capita", null=True,
                                               verbose_name="Yes/No")),
                ("achievement_percent", models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True)),
                ("points", models.DecimalField(decimal_places=2, default=0, max_digits=8)),
                ("amount", models.DecimalField(decimal_places=2, default=0, max_digits=12)),
                ("apdf", models.DecimalField(blank=True, decimal_places=12, max_digits=20, null=True,
                                             verbose_name="Adjusted prevalence factor")),
                ("patients_to_upper", models.PositiveIntegerField(blank=True, null=True)),
                ("amount_at_stake", models.DecimalField(blank=True, decimal_places=2, max_digits=12, null=True)),
            ],
            options={
                "ordering": ["calculation", "indicator__group__domain__position", "indicator__group__position",
                             "indicator__position"],
            },
        ),
        migrations.RunSQL(
            f"INSERT INTO {_NEW} ({_COLUMNS}) SELECT {_COLUMNS} FROM {_OLD}",
            f"INSERT INTO {_OLD} ({_COLUMNS}) SELECT {_COLUMNS} FROM {_NEW}",
        ),
        migrations.DeleteModel(name="IndicatorCalculation"),
        migrations.RenameModel(old_name="IndicatorResult", new_name="IndicatorCalculation"),
        migrations.AlterField(
            model_name="indicatorcalculation",
            name="calculation",
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="indicators", to="declarations.calculation"),
        ),
    ]
