"""python manage.py aspiration --service CODE --commissioner ODS [--approve]

The aspiration payments of the providers an ICB has an approved offer of the service with (issue
13): calculated (or refreshed while awaiting approval), printed on stdout as
``QUALITY_SERVICE,ORG_CODE,ASPIRATION_TOTAL,MONTHLY,LAST_MONTH`` one row per provider; with
``--approve`` approved (Approval, then Finance) on the commissioner's behalf by a system actor, as
``offer_service --accept`` accepts.  Messages go to stderr.
"""

from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.actors import SystemActor
from accounts.errors import DomainError
from accounts.models import Organisation, OrganisationKind
from declarations.aspiration import selectors, services
from declarations.models import AspirationStatus
from participation.models import QualityService

ACTOR = SystemActor("the aspiration command")


class Command(BaseCommand):
    help = "Calculate (and optionally approve) the aspiration payments of an ICB's providers for a Quality Service."

    def add_arguments(self, parser):
        parser.add_argument("--service", required=True, help="Quality Service code, e.g. QOF2425")
        parser.add_argument("--commissioner", required=True, help="the ICB's ODS code")
        parser.add_argument("--approve", action="store_true", help="approve them (Approval and Finance) on its behalf")

    def handle(self, *args, service, commissioner, approve, **options):
        quality_service = QualityService.objects.select_related("financial_year").filter(code=service).first()
        if quality_service is None:
            raise CommandError(f"No Quality Service with the code {service!r}.")
        icb = Organisation.objects.filter(ods_code=commissioner.upper(), kind=OrganisationKind.ICB).first()
        if icb is None:
            raise CommandError(f"No ICB with the ODS code {commissioner!r}.")
        try:
            with transaction.atomic():
                aspirations = services.aspirations_prepare(service=quality_service, commissioner=icb)
                if approve:
                    waiting = [a.pk for a in aspirations if a.status == AspirationStatus.AWAITING_APPROVAL]
                    if waiting:
                        services.aspirations_approve(aspiration_ids=waiting, user=ACTOR)
                    to_finance = [a.pk for a in aspirations if a.status != AspirationStatus.APPROVED]
                    if to_finance:
                        services.aspirations_finance_approve(aspiration_ids=to_finance, user=ACTOR)
        except DomainError as error:
            raise CommandError(error.message) from error
        rows = sorted(aspirations, key=lambda a: a.provider.ods_code)
        writer = csv.DictWriter(self.stdout, fieldnames=selectors.ASPIRATION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in selectors.aspiration_rows(rows):
            writer.writerow(row)
        self.stderr.write(
            f"{len(rows)} aspiration payment(s) of {quality_service.code} for {icb.ods_code}"
            + (", approved on its behalf." if approve else ".")
        )
