"""Demo data for Participation Management, called by `seed_demo` (idempotent).

Loads the shipped service definitions and leaves: the demo practice with QOF 2024/25 Offered
(a task in its Message Centre) and the Network Contract DES 2024/25 Approved (accepted
automatically for every practice in a PCN); the commissioner with QOF 2024/25 offers in every
state across its practices.  Practices other than the demo one have no users, so their answers
are recorded by the demo seed as a system actor, on their behalf.
"""

from __future__ import annotations

import datetime as dt

import yaml
from django.db import transaction

from .definitions import load_service_definition_file, shipped_definition_paths
from .models import QualityService, ServiceOffer
from .services import (
    SystemActor,
    offer_create,
    offers_accept,
    offers_cancel,
    offers_reject,
    offers_withdraw,
    quality_service_load,
)

SEED = SystemActor("the demo seed")


def load_shipped_services() -> list[QualityService]:
    services = []
    for path in shipped_definition_paths():
        definition = load_service_definition_file(path)
        services.append(
            quality_service_load(definition=definition, source=yaml.safe_load(path.read_text(encoding="utf-8")))
        )
    return services


@transaction.atomic
def seed_participation(world: dict) -> str:
    services = {s.code: s for s in load_shipped_services()}
    icb, practices = world["icb"], world["practices"]
    commissioner = world["users"]["commissioner@demo.nhs.net"]

    # The Network Contract DES: offered to every practice in a PCN and accepted automatically.
    ncd = services["NCD2425"]
    year = ncd.financial_year
    offer_create(
        user=commissioner,
        service=ncd,
        providers=[p for p in practices if p.pcn_id],
        start_date=year.start_date,
        end_date=year.end_date,
    )

    # QOF 2024/25: one offer in every state, once.
    qof = services["QOF2425"]
    if not ServiceOffer.objects.filter(service=qof, commissioner=icb).exists():
        year = qof.financial_year
        created = offer_create(
            user=commissioner,
            service=qof,
            providers=practices,
            start_date=year.start_date,
            end_date=year.end_date,
            response_date=year.start_date + dt.timedelta(days=60),
            target_date=year.end_date,
        )
        by_provider = {o.provider_id: o.pk for o in created.offers}
        # practices[0] (the demo practice) and practices[5] stay Offered.
        approved = [by_provider[practices[1].pk], by_provider[practices[4].pk]]
        offers_accept(offer_ids=approved, user=SEED)
        offers_reject(offer_ids=[by_provider[practices[2].pk]], user=SEED)
        offers_withdraw(offer_ids=[by_provider[practices[3].pk]], user=commissioner,
                        note="Withdrawn for the demo.")
        offers_cancel(offer_ids=[by_provider[practices[4].pk]], user=commissioner, note="Cancelled for the demo.")

    counts = {}
    for offer in ServiceOffer.objects.filter(commissioner=icb):
        counts[offer.get_status_display()] = counts.get(offer.get_status_display(), 0) + 1
    return f"{len(services)} services; offers " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
