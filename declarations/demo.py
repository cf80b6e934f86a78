"""Demo data for declarations, called by `seed_demo` after achievement.demo (idempotent).

So that a new user sees the whole workflow, it leaves declarations in every state:

- Awaiting Service Provider Approval: the demo practice (The Densham Surgery, A81001) for the demo
  Local Enhanced Service (``demo_data/les-2024-25.yaml``: a practice-level service of its own,
  because the practice's QOF 2024/25 offer stays Offered for the offers journey), and the demo
  PCN (Stockton PCN, U89141) for the Network Contract DES 2024/25;
- Awaiting Commissioning Organisation Approval: Woodbridge Practice (the LES and QOF 2024/25),
  The Dovecot Surgery (LES) and North Stockton PCN (Network Contract DES): tasks for the
  commissioner;
- Awaiting Finance Approval: Queens Park Medical Centre and Alma Medical Centre (LES): tasks for
  the finance user;
- Financially Approved: Tennant Street Medical Practice (LES).

Everything goes through the services, as in production: the service definition through the
catalogue loader, offers through participation.services, achievement through a small GPES
extract (``demo_data/*.csv``) received and loaded by achievement.services, the calculations
(which create the declarations) through ``calculations_recalculate``, and the transitions
through the declaration services: declared on the practices' behalf by the demo seed (they have
no users), approved by commissioner@demo.nhs.net and finance-approved by finance@demo.nhs.net.
Seeding again finds every declaration in its state and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from django.db import transaction

from accounts.actors import SystemActor
from achievement import services as achievement_services
from achievement.models import Achievement, ExtractStatus
from participation.definitions import load_service_definition_file
from participation.models import QualityService, ServiceOffer
from participation.services import offer_create, offers_accept, quality_service_load

from . import services
from .models import Declaration, DeclarationStatus

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
LES_DEFINITION = DEMO_DATA / "les-2024-25.yaml"
LES_EXTRACT = DEMO_DATA / "les-2024-25-20250331.csv"
PAYMENT_DATE = dt.date(2025, 3, 31)
SEED = SystemActor("the demo seed")

_ORDER = [
    DeclarationStatus.AWAITING_PROVIDER,
    DeclarationStatus.AWAITING_COMMISSIONER,
    DeclarationStatus.AWAITING_FINANCE,
    DeclarationStatus.FINANCIALLY_APPROVED,
]

# (service code, ODS code) -> the state the demo leaves the declaration in.
PLAN: dict[tuple[str, str], str] = {
    ("LES2425", "A81001"): DeclarationStatus.AWAITING_PROVIDER,
    ("NCD2425", "U89141"): DeclarationStatus.AWAITING_PROVIDER,
    ("LES2425", "A81017"): DeclarationStatus.AWAITING_COMMISSIONER,
    ("LES2425", "A81025"): DeclarationStatus.AWAITING_COMMISSIONER,
    ("QOF2425", "A81017"): DeclarationStatus.AWAITING_COMMISSIONER,
    ("NCD2425", "U07032"): DeclarationStatus.AWAITING_COMMISSIONER,
    ("LES2425", "A81002"): DeclarationStatus.AWAITING_FINANCE,
    ("LES2425", "A81067"): DeclarationStatus.AWAITING_FINANCE,
    ("LES2425", "A81006"): DeclarationStatus.FINANCIALLY_APPROVED,
}


def _load_les() -> QualityService:
    definition = load_service_definition_file(LES_DEFINITION)
    return quality_service_load(
        definition=definition, source=yaml.safe_load(LES_DEFINITION.read_text(encoding="utf-8"))
    )


@transaction.atomic
def _offer_les(world: dict, les: QualityService) -> None:
    """The commissioner offers the LES to every practice; each accepts (the demo practice through
    its own user, the others on their behalf)."""
    if ServiceOffer.objects.filter(service=les, commissioner=world["icb"]).exists():
        return
    year = les.financial_year
    created = offer_create(
        user=world["users"]["commissioner@demo.nhs.net"],
        service=les,
        providers=world["practices"],
        start_date=year.start_date,
        end_date=year.end_date,
    )
    demo_practice = world["practices"][0]
    mine = [o.pk for o in created.offers if o.provider_id == demo_practice.pk]
    others = [o.pk for o in created.offers if o.provider_id != demo_practice.pk]
    if mine:
        offers_accept(offer_ids=mine, user=world["users"]["practice@demo.nhs.net"])
    if others:
        offers_accept(offer_ids=others, user=SEED)


def _load_extract() -> None:
    extract = achievement_services.extract_receive(path=LES_EXTRACT, file_name=LES_EXTRACT.name)
    if extract.status not in (ExtractStatus.LOADED, ExtractStatus.REJECTED):
        achievement_services.extract_load(extract_id=extract.pk)  # tasks may not be eager


def _calculate(services_by_code: dict[str, QualityService]) -> None:
    """Make sure the payment-date calculations (and so the declarations) exist, whether or not a
    Celery worker has run the recalculations the loads enqueued (idempotent)."""
    ids = Achievement.objects.filter(
        service__in=services_by_code.values(), achievement_date__date=PAYMENT_DATE
    ).values_list("pk", flat=True)
    services.calculations_recalculate(achievement_ids=list(ids))


def _advance(declaration: Declaration, target: str, world: dict) -> None:
    """Take the declaration through the services, step by step, up to ``target``."""
    users = world["users"]
    while _ORDER.index(declaration.status) < _ORDER.index(target):
        if declaration.status == DeclarationStatus.AWAITING_PROVIDER:
            services.declaration_declare(
                declaration_id=declaration.pk, user=SEED, note="Declared for the demo."
            )
        elif declaration.status == DeclarationStatus.AWAITING_COMMISSIONER:
            services.declarations_approve(declaration_ids=[declaration.pk], user=users["commissioner@demo.nhs.net"])
        else:
            services.declarations_finance_approve(declaration_ids=[declaration.pk], user=users["finance@demo.nhs.net"])
        declaration = Declaration.objects.get(pk=declaration.pk)


def seed_declarations(world: dict) -> str:
    les = _load_les()
    _offer_les(world, les)
    _load_extract()
    services_by_code = {
        s.code: s for s in QualityService.objects.filter(code__in={code for code, _ in PLAN})
    }
    _calculate(services_by_code)
    declarations = {
        (d.service.code, d.provider.ods_code): d
        for d in Declaration.objects.filter(
            service__in=services_by_code.values(), achievement_date__date=PAYMENT_DATE
        ).select_related("service", "provider")
    }
    for key, target in PLAN.items():
        declaration = declarations.get(key)
        if declaration is not None:
            _advance(declaration, target, world)
    counts: dict[str, int] = {}
    for declaration in Declaration.objects.filter(provider__commissioner=world["icb"]):
        label = declaration.get_status_display()
        counts[label] = counts.get(label, 0) + 1
    return "declarations " + ", ".join(f"{n} {label}" for label, n in sorted(counts.items()))
