"""Print a service's national figures derived from the year-end data, and with ``--set`` set them
(issue 13 §4), as the National Administrator's Set national figures does, through the system
actor: every payment of the service and date is then recalculated by the workers.

    python manage.py national_figures --service QOF2324 --achievement-date 2024-03-31 [--set]

One row per figure: the list size first, then each prevalence-weighted register:

    QUALITY_SERVICE,ACH_DATE,FIGURE,VALUE,NUMERATOR,DENOMINATOR,PRACTICES

VALUE is the exact ratio NUMERATOR / DENOMINATOR to 28 significant digits (the figure itself is
kept unrounded): the average list size is the sum of the list sizes over the number of practices;
a register's national prevalence is the sum of its registers over the sum of the list sizes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Context, Decimal

from django.core.management.base import BaseCommand, CommandError

from accounts.actors import SystemActor
from accounts.errors import DomainError
from achievement.national import national_figures_derive, weighted_groups
from declarations import national
from participation.models import AchievementDate, QualityService

ACTOR = SystemActor("the national_figures command")
HEADER = "QUALITY_SERVICE,ACH_DATE,FIGURE,VALUE,NUMERATOR,DENOMINATOR,PRACTICES"
_DIGITS = Context(prec=28)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from error


def _ratio(numerator: int, denominator: int) -> str:
    return "" if not denominator else str(_DIGITS.divide(Decimal(numerator), Decimal(denominator)))


class Command(BaseCommand):
    help = "Print the national figures derived from the year-end data; --set sets them."

    def add_arguments(self, parser):
        parser.add_argument("--service", required=True, metavar="CODE", help="the Quality Service code, e.g. QOF2324")
        parser.add_argument("--achievement-date", required=True, type=_date, metavar="YYYY-MM-DD")
        parser.add_argument(
            "--set", action="store_true", help="set them, and recalculate every payment of the service and date"
        )

    def handle(self, *args, service, achievement_date, set, **options):
        quality_service = QualityService.objects.filter(code=service).first()
        if quality_service is None:
            raise CommandError(f"No Quality Service with the code {service!r}: load it with load_quality_service")
        date = AchievementDate.objects.filter(service=quality_service, date=achievement_date).first()
        if date is None:
            raise CommandError(f"{achievement_date:%d/%m/%Y} is not an achievement date of {quality_service.code}")
        groups = weighted_groups(service_id=quality_service.pk)
        derived = national_figures_derive(achievement_date=date, group_ids=[g.pk for g in groups])
        prefix = f"{quality_service.code},{date.date.isoformat()}"
        self.stdout.write(HEADER)
        self.stdout.write(
            f"{prefix},LIST_SIZE,{_ratio(derived.list_size_total, derived.practices)},"
            f"{derived.list_size_total},{derived.practices},{derived.practices}"
        )
        for group in groups:
            register = derived.registers.get(group.pk, 0)
            self.stdout.write(
                f"{prefix},{group.code},{_ratio(register, derived.list_size_total)},"
                f"{register},{derived.list_size_total},{derived.practices}"
            )
        if set:
            try:
                figures = national.national_figures_set(
                    actor=ACTOR, service_id=quality_service.pk, achievement_date_id=date.pk
                )
            except DomainError as error:
                raise CommandError(error.message) from error
            self.stderr.write(
                f"Set the national figures of {quality_service.code} for {date.date:%d/%m/%Y} "
                f"(from {figures.practices} practices): its payments are being recalculated."
            )
