"""``python manage.py load_gpes_extract FILE [--wait]``: receive a GPES extract and load it.

Without ``--wait`` the extract is recorded (Received) and its load enqueued for a Celery worker;
the command prints the extract id and status and returns.  With ``--wait`` it waits for the load
to finish (under the embedded defaults, tasks in-process, it loads the extract itself), prints
the outcome and the errors, and exits 1 when the extract is Rejected.  The same content received
again is the same extract: it is not loaded twice.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from achievement import services
from achievement.models import ExtractLoad, ExtractStatus

_FINISHED = (ExtractStatus.LOADED, ExtractStatus.REJECTED)


class Command(BaseCommand):
    help = "Receive a GPES extract (CQRS indicator-values layout) and load it."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--wait", action="store_true", help="wait until Loaded or Rejected")
        parser.add_argument("--poll", type=float, default=1.0, help=argparse_hidden())

    def handle(self, *args, file: Path, wait: bool, poll: float, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        extract = services.extract_receive(path=file)
        self.stdout.write(f"Extract {extract.pk} {extract.file_name}: {extract.get_status_display()}")
        if not wait:
            return
        extract = self._wait(extract.pk, poll)
        if extract.status == ExtractStatus.LOADED:
            self.stdout.write(f"Extract {extract.pk}: Loaded, {extract.rows_done:,} rows")
            return
        self.stdout.write(f"Extract {extract.pk}: Rejected, {extract.error_count:,} error(s)")
        for error in extract.errors:
            line = f"Line {error['line']}: " if error.get("line") else ""
            self.stdout.write(f"  {line}{error['message']}")
        raise SystemExit(1)

    def _wait(self, extract_id: int, poll: float) -> ExtractLoad:
        extract = ExtractLoad.objects.get(pk=extract_id)
        if extract.status not in _FINISHED and settings.CELERY_TASK_ALWAYS_EAGER:
            return services.extract_load(extract_id=extract_id)  # tasks run in-process anyway
        last = None
        while extract.status not in _FINISHED:
            time.sleep(poll)
            extract = ExtractLoad.objects.get(pk=extract_id)
            done = services.extract_progress(extract)
            if done != last and extract.status == ExtractStatus.VALIDATING:
                self.stderr.write(f"  {extract.get_status_display()}: {done:,} of {extract.rows_total:,} rows")
                last = done
        return extract


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS
