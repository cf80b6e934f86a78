"""python manage.py export_payments --service CODE --achievement-date YYYY-MM-DD [--format csv|json]

One row per provider and indicator (every points-bearing or per-capita indicator of every provider
with a calculation) on stdout, and nothing else there: messages go to stderr.
"""

from __future__ import annotations

import csv
import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from declarations.selectors import EXPORT_COLUMNS, payment_export_rows
from participation.models import AchievementDate, QualityService


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--achievement-date: {value!r} is not a date of the form YYYY-MM-DD") from error


class Command(BaseCommand):
    help = "Export the calculated payments of a Quality Service for an achievement date (CSV or JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--service", required=True, help="Quality Service code, e.g. QOF2425")
        parser.add_argument("--achievement-date", required=True, help="YYYY-MM-DD")
        parser.add_argument("--format", choices=("csv", "json"), default="csv")

    def handle(self, *args, **options):
        code, date = options["service"], _date(options["achievement_date"])
        service = QualityService.objects.filter(code=code).first()
        if service is None:
            raise CommandError(f"No Quality Service with the code {code!r}.")
        achievement_date = AchievementDate.objects.filter(service=service, date=date).first()
        if achievement_date is None:
            raise CommandError(f"{code} has no achievement date {date:%d/%m/%Y}.")

        rows = payment_export_rows(achievement_date=achievement_date)
        if options["format"] == "json":
            rows = list(rows)
            self.stdout.write(json.dumps(rows, indent=2))
            count = len(rows)
        else:
            writer = csv.DictWriter(self.stdout, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            count = 0
            for row in rows:
                writer.writerow(row)
                count += 1
        self.stderr.write(f"Exported {count} rows of {code} for {date:%d/%m/%Y}.")
