"""`python manage.py load_quality_service FILE [FILE ...]`: load Quality Service definitions (YAML).

Idempotent: an unchanged file writes nothing.  A file with errors is refused whole, with the path
of every bad key; a changed file is refused once achievement exists for its service.  Every file
is tried; the exit status is non-zero when any was refused.
"""

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from participation.definitions import ServiceDefinitionError, load_service_definition_file
from participation.errors import ServiceLoadRefused
from participation.models import QualityService
from participation.services import definition_hash, quality_service_load


class Command(BaseCommand):
    help = "Load Quality Service definitions (YAML files) into the catalogue."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="service definition YAML file(s)")

    def handle(self, *args, files, **options):
        refused = 0
        for name in files:
            path = Path(name)
            try:
                definition = load_service_definition_file(path)
                source = yaml.safe_load(path.read_text(encoding="utf-8"))
                before = QualityService.objects.filter(code=definition.code).values_list(
                    "definition_hash", flat=True
                ).first()
                service = quality_service_load(definition=definition, source=source)
            except ServiceDefinitionError as error:
                refused += 1
                self.stderr.write(f"{path}: refused, {len(error.errors)} error(s):")
                for line in error.errors:
                    self.stderr.write(f"  {line}")
                continue
            except ServiceLoadRefused as error:
                refused += 1
                self.stderr.write(f"{path}: refused: {error.message}")
                continue
            if before is None:
                outcome = "created"
            elif before == definition_hash(definition):
                outcome = "unchanged"
            else:
                outcome = "updated"
            self.stdout.write(
                f"{path}: {service.code} {outcome} ({service.label}; {service.domains.count()} domain(s), "
                f"{service.indicators.count()} indicator(s), {service.achievement_dates.count()} achievement date(s))"
            )
        if refused:
            raise CommandError(f"{refused} of {len(files)} file(s) refused")
