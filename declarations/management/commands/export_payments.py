"""python manage.py export_payments --service CODE --achievement-date YYYY-MM-DD [--format csv|json] [--summary]

One row per provider and indicator (every points-bearing, per-capita or item-of-service indicator of
every provider with a calculation; an item of service's row has ACHIEVEMENT empty, POINTS ``0.00``
and AMOUNT the claim, and a monthly service is exported a month at a time) on stdout, and nothing else there: messages go to stderr.  With ``--summary``
one row per provider instead: its achievement payment, the aspiration paid by the date and the
balance (``QUALITY_SERVICE,ORG_CODE,ACH_DATE,ACHIEVEMENT_PAYMENT,ASPIRATION_PAID,BALANCE``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from declarations.aspiration.selectors import SUMMARY_COLUMNS, payment_summary_rows
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
        parser.add_argument(
            "--summary", action="store_true", help="one row per provider: payment, aspiration paid, balance"
        )

    def handle(self, *args, **options):
        code, date = options["service"], _date(options["achievement_date"])
        service = QualityService.objects.filter(code=code).first()
        if service is None:
            raise CommandError(f"No Quality Service with the code {code!r}.")
        achievement_date = AchievementDate.objects.filter(service=service, date=date).first()
        if achievement_date is None:
            raise CommandError(f"{code} has no achievement date {date:%d/%m/%Y}.")

        if options["summary"]:
            rows, columns = payment_summary_rows(achievement_date=achievement_date), SUMMARY_COLUMNS
        else:
            rows, columns = payment_export_rows(achievement_date=achievement_date), EXPORT_COLUMNS
        if options["format"] == "json":
            rows = list(rows)
            self.stdout.write(json.dumps(rows, indent=2))
            count = len(rows)
        else:
            writer = csv.DictWriter(self.stdout, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            count = 0
            for row in rows:
                writer.writerow(row)
                count += 1
        self.stderr.write(f"Exported {count} rows of {code} for {date:%d/%m/%Y}.")
