"""`python manage.py offer_service CODE --commissioner ODS (--providers ODS [ODS ...] | --all) [--accept]`

Offers a Quality Service to a commissioner's providers through the same service functions as the
Create Offers screen, acting as a system actor (``SystemActor``: only a command running on the
server can construct one; it is recorded as "by CQRS" with a note naming the command).  With
``--accept`` it records acceptance on the providers' behalf, as CQRS does for the Network
Contract DES.  Idempotent: providers that already have the service Offered or Approved are
skipped and counted.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from accounts.actors import SystemActor
from accounts.models import Organisation, OrganisationKind
from participation.errors import ParticipationError
from participation.models import OfferStatus, QualityService, ServiceOffer
from participation.services import offer_create, offers_accept, provider_is_eligible

ACTOR = SystemActor("the offer_service command")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from error


class Command(BaseCommand):
    help = "Offer a Quality Service to a commissioner's providers (and optionally accept it on their behalf)."

    def add_arguments(self, parser):
        parser.add_argument("code", metavar="CODE", help="the Quality Service code, e.g. NCD2425")
        parser.add_argument("--commissioner", required=True, metavar="ODS", help="the commissioning ICB's ODS code")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--providers", nargs="+", metavar="ODS", help="the providers' ODS codes")
        who.add_argument("--all", action="store_true", help="every provider the commissioner commissions")
        parser.add_argument("--accept", action="store_true", help="accept on the providers' behalf")
        parser.add_argument("--start-date", type=_date, help="default: the start of the financial year")
        parser.add_argument("--end-date", type=_date, help="default: the end of the financial year")
        parser.add_argument("--response-date", type=_date)
        parser.add_argument("--target-date", type=_date)

    def handle(self, *args, code, commissioner, providers, all, accept, **options):
        service = QualityService.objects.select_related("financial_year").filter(code=code).first()
        if service is None:
            raise CommandError(f"No Quality Service with the code {code!r}: load it with load_quality_service")
        icb = Organisation.objects.filter(ods_code=commissioner.upper(), kind=OrganisationKind.ICB).first()
        if icb is None:
            raise CommandError(f"No ICB with the ODS code {commissioner!r}")

        commissioned = Organisation.objects.filter(commissioner=icb).select_related("pcn")
        if all:
            chosen = [p for p in commissioned if provider_is_eligible(service=service, provider=p)]
        else:
            codes = [c.upper() for c in providers]
            found = {p.ods_code: p for p in commissioned.filter(ods_code__in=codes)}
            unknown = [c for c in codes if c not in found]
            if unknown:
                raise CommandError(f"Not providers commissioned by {icb.ods_code}: {', '.join(unknown)}")
            chosen = list(found.values())
            ineligible = [p.ods_code for p in chosen if not provider_is_eligible(service=service, provider=p)]
            if ineligible:
                raise CommandError(f"{service.code} cannot be offered to: {', '.join(ineligible)}")
        if not chosen:
            self.stdout.write(f"{service.code}: no providers of {icb.ods_code} to offer it to.")
            return

        year = service.financial_year
        try:
            result = offer_create(
                user=ACTOR,
                service=service,
                providers=chosen,
                start_date=options["start_date"] or year.start_date,
                end_date=options["end_date"] or year.end_date,
                response_date=options["response_date"],
                target_date=options["target_date"],
            )
            accepted = []
            if accept:
                waiting = ServiceOffer.objects.filter(
                    service=service, provider__in=chosen, status=OfferStatus.OFFERED
                ).values_list("pk", flat=True)
                if waiting:
                    accepted = offers_accept(offer_ids=list(waiting), user=ACTOR)
        except ParticipationError as error:
            raise CommandError(error.message) from error

        self.stdout.write(
            f"{service.code} ({service.label}) for {icb.ods_code}: offered to {len(result.offers)} provider(s), "
            f"{len(result.skipped)} already offered (skipped)"
            + (f", {len(accepted)} accepted on the providers' behalf" if accept else "")
            + "."
        )
