"""IndicatorValue keyed by (submission, indicator, field_name), without a surrogate id.

Django cannot alter a table's primary key into a composite one, so the table is recreated
(nothing is in it yet outside development databases)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("achievement", "0002_indicator_values_fact_table"),
        ("participation", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="IndicatorValue"),
        migrations.CreateModel(
            name="IndicatorValue",
            fields=[
                ("pk", models.CompositePrimaryKey("submission", "indicator", "field_name", blank=True, editable=False, primary_key=True, serialize=False)),
                ("field_name", models.CharField(max_length=100)),
                ("value", models.BigIntegerField()),
                ("indicator", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="participation.indicator")),
                ("submission", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="values", to="achievement.submission")),
            ],
        ),
    ]
