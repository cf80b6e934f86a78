"""Demo data for Participation Management, called by `seed_demo` (idempotent).

Loads the shipped service definitions and leaves: the demo practice with QOF 2024/25 Offered
(a task in its Message Centre) and the Network Contract DES 2024/25 Approved (accepted
automatically for every practice in a PCN); the commissioner with QOF 2024/25 offers in every
state across its practices, and one Service Provider Cluster ("Stockton PCN practices": the demo
PCN's three practices) for its Create Offers, Offered Services and Declaration Management
filters, made by commissioner@demo.nhs.net through the cluster use cases.  Practices other than the demo one have no users, so their answers
are recorded by the demo seed as a system actor, on their behalf.
"""

from __future__ import annotations

import datetime as dt

import yaml
from django.db import transaction

from .definitions import load_service_definition_file, shipped_definition_paths
from .models import ProviderCluster, QualityService, ServiceOffer
from .services import (
    SystemActor,
    cluster_create,
    cluster_providers_add,
    offer_create,
    offers_accept,
    offers_cancel,
    offers_reject,
    offers_withdraw,
    quality_service_load,
)

SEED = SystemActor("the demo seed")
DEMO_CLUSTER = "Stockton PCN practices"


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

    cluster = _seed_cluster(world)

    counts = {}
    for offer in ServiceOffer.objects.filter(commissioner=icb):
        counts[offer.get_status_display()] = counts.get(offer.get_status_display(), 0) + 1
    offers = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return f"{len(services)} services; offers {offers}; cluster {cluster.name} ({cluster.providers.count()} providers)"


def _seed_cluster(world: dict) -> ProviderCluster:
    """The commissioner's cluster of the demo PCN's practices: created once, and given back any of
    those practices it lacks (seeding again changes nothing, and records nothing, when it has them)."""
    icb, commissioner = world["icb"], world["users"]["commissioner@demo.nhs.net"]
    cluster = ProviderCluster.objects.filter(commissioner=icb, name__iexact=DEMO_CLUSTER).first()
    if cluster is None:
        cluster = cluster_create(user=commissioner, commissioner_id=icb.pk, name=DEMO_CLUSTER)
    wanted = {p.pk for p in world["practices"] if p.pcn_id == world["pcns"][0].pk}
    missing = wanted - set(cluster.providers.values_list("pk", flat=True))
    if missing:
        cluster_providers_add(user=commissioner, cluster_id=cluster.pk, provider_ids=sorted(missing))
    return cluster
