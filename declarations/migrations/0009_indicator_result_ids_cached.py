"""Indicator results' ids handed out a thousand at a time (PostgreSQL).

A national recalculation COPYs some 500,000 indicator results; each row's id comes from the
identity's sequence, which by default logs and locks every 32 values.  A cache of 1,000 makes
the COPY about a tenth cheaper (1.30 s -> 1.16 s for 506,390 rows, measured 2026-11-30).  Ids a
backend had cached and did not use are skipped: ids have gaps, as after any rollback.
"""

from django.db import migrations


def _cache(size: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = apps.get_model("declarations", "IndicatorCalculation")._meta.db_table
        quote = schema_editor.connection.ops.quote_name
        schema_editor.execute(f"ALTER TABLE {quote(table)} ALTER COLUMN id SET CACHE {size}")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("declarations", "0008_indicator_results_written_in_bulk"),
    ]

    operations = [migrations.RunPython(_cache(1000), _cache(1))]
