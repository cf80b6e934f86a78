"""`python manage.py load_organisations FILE [--effective YYYY-MM-DD]`: load the NHS Digital
practice mapping file; practices that changed PCN move on the effective date (default: the file's
date, see ``accounts.loaders.file_date``)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from accounts.loaders import OrganisationFileError, organisations_load
from accounts.models import Organisation, OrganisationKind


class Command(BaseCommand):
    help = (
        "Create or update GP practices, PCNs, sub-ICB locations, ICBs and NHS England regions from "
        "an NHS Digital mapping file (the layout of QOF_MANUAL_MAPPINGS.csv). Idempotent; a file "
        "with any error loads nothing. A practice that joins, leaves or changes PCN moves on the "
        "effective date: --effective, or the date in the file's name, or the day the file was last "
        "modified."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file")
        parser.add_argument(
            "--effective",
            type=_date,
            default=None,
            help="YYYY-MM-DD: the date PCN moves in this file take effect (default: the file's date)",
        )

    def handle(self, *args, file: str, effective: dt.date | None = None, **options):
        try:
            result = organisations_load(path=file, effective=effective)
        except FileNotFoundError as exc:
            raise CommandError(f"{file}: no such file") from exc
        except OrganisationFileError as exc:
            raise CommandError(
                f"{file} was rejected, nothing was loaded ({len(exc.errors)} "
                f"error{'s' if len(exc.errors) != 1 else ''}):\n{exc.summary()}"
            ) from exc

        self.stdout.write(f"{file}: {result.rows} practice rows")
        width = max(len(kind.label) for kind in OrganisationKind)
        for kind, counts in result.counts.items():
            self.stdout.write(
                f"  {OrganisationKind(kind).label:<{width}}  {counts.created:>5} created  "
                f"{counts.updated:>5} updated  {counts.unchanged:>5} unchanged"
            )
        # NHS Digital writes PCN code "U" ("Unallocated") for a practice in no PCN: not a PCN.
        unallocated = Organisation.objects.practices().filter(pcn__isnull=True).count()
        if unallocated:
            self.stdout.write(f"  GP practices in no PCN (PCN code U, Unallocated): {unallocated}")
        if result.practices_moved:
            self.stdout.write(
                f"  practices moved to another PCN: {len(result.practices_moved)}, "
                f"effective {result.effective:%d/%m/%Y}"
            )
        style = self.style.SUCCESS if result.changed else self.style.NOTICE
        self.stdout.write(style("Loaded." if result.changed else "Nothing changed."))


def _date(value: str) -> dt.date:
    import argparse

    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from exc
