"""Demo data for monthly item-of-service claims (issue 16), called by `seed_demo` after
declarations.demo (idempotent).

It leaves, for the Seasonal Influenza Vaccination Programme 2024/25 (``FLU2425``, shipped in
participation/service_definitions/), offered to every practice of the demo ICB and accepted:

- a GPES extract of September to December 2024, each practice's vaccinations month by month,
  loaded as in production (received and loaded by achievement.services; the loads recalculate);
- the demo practice (The Densham Surgery, A81001): September Financially Approved, October
  Awaiting Finance Approval, November and December Awaiting Service Provider Approval (two months
  to declare at once on Achievement > Monthly Claims);
- the other practices: September approved, October declared and Awaiting Commissioning
  Organisation Approval (the month to approve for the ICB on Approve Monthly Claims), November and
  December awaiting their declaration;

and the Phlebotomy Item of Service 2024/25 (``PHLIOS2425``: the practice enters its count),
offered to and accepted by the demo practice, with October's count entered and submitted by
practice@demo.nhs.net on Record Achievement (Awaiting Service Provider Approval).

Declared on the practices' behalf by the demo seed (they have no users), approved by
commissioner@demo.nhs.net and finance-approved by finance@demo.nhs.net.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path

from django.db import transaction

from accounts.actors import SystemActor
from accounts.models import ListSize
from achievement import services as achievement_services
from achievement.ingest.layout import COLUMNS, LIST_SIZE_FIELD
from achievement.ingest.list_sizes import LIST_SIZE_INDICATOR
from achievement.models import Achievement, ExtractStatus
from participation.definitions import COUNT_FIELD
from participation.models import AchievementDate, OfferStatus, QualityService, ServiceOffer
from participation.services import offer_create, offers_accept

from . import services
from .models import Declaration, DeclarationStatus

SEED = SystemActor("the demo seed")
FLU, PHLEBOTOMY = "FLU2425", "PHLIOS2425"
MONTHS = (dt.date(2024, 9, 30), dt.date(2024, 10, 31), dt.date(2024, 11, 30), dt.date(2024, 12, 31))
PHLEBOTOMY_MONTH = dt.date(2024, 10, 31)
PHLEBOTOMY_COUNT = 212
# Month -> the state each practice's claim is left in (the demo practice's first, the others').
DEMO_PRACTICE_PLAN = {
    MONTHS[0]: DeclarationStatus.FINANCIALLY_APPROVED,
    MONTHS[1]: DeclarationStatus.AWAITING_FINANCE,
    MONTHS[2]: DeclarationStatus.AWAITING_PROVIDER,
    MONTHS[3]: DeclarationStatus.AWAITING_PROVIDER,
}
OTHER_PRACTICES_PLAN = {
    MONTHS[0]: DeclarationStatus.AWAITING_FINANCE,
    MONTHS[1]: DeclarationStatus.AWAITING_COMMISSIONER,
    MONTHS[2]: DeclarationStatus.AWAITING_PROVIDER,
    MONTHS[3]: DeclarationStatus.AWAITING_PROVIDER,
}
_ORDER = [
    DeclarationStatus.AWAITING_PROVIDER,
    DeclarationStatus.AWAITING_COMMISSIONER,
    DeclarationStatus.AWAITING_FINANCE,
    DeclarationStatus.FINANCIALLY_APPROVED,
]
# The share of a practice's list vaccinated against flu in each month (the autumn peak).
_MONTH_SHARE = {MONTHS[0]: 0.01, MONTHS[1]: 0.06, MONTHS[2]: 0.03, MONTHS[3]: 0.01}


@transaction.atomic
def _offer(world: dict, service: QualityService, practices) -> None:
    """The commissioner offers the service to ``practices``; each accepts (the demo practice
    through its own user, the others on their behalf).  Once."""
    if ServiceOffer.objects.filter(service=service, commissioner=world["icb"]).exists():
        return
    year = service.financial_year
    created = offer_create(
        user=world["users"]["commissioner@demo.nhs.net"],
        service=service,
        providers=practices,
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


def _list_size(practice, date: dt.date) -> int:
    size = (
        ListSize.objects.filter(organisation=practice, date__lte=date).order_by("-date").values_list("size", flat=True)
    ).first()
    return size or 8_000


def _flu_rows(service: QualityService, practices) -> list[str]:
    rows = []
    for practice in practices:
        rng = random.Random(f"{practice.ods_code}-{service.code}")
        for month in MONTHS:
            size = _list_size(practice, month)
            cells = [
                (LIST_SIZE_INDICATOR, LIST_SIZE_FIELD, size),
                ("FLU001", COUNT_FIELD, int(size * _MONTH_SHARE[month] * rng.uniform(0.7, 1.1))),
                ("FLU002", COUNT_FIELD, int(size * _MONTH_SHARE[month] * rng.uniform(0.2, 0.4))),
            ]
            for code, field, value in cells:
                rows.append(
                    ",".join(
                        [service.code, service.name, practice.ods_code, f"{month:%Y%m%d}", code, field, str(value),
                         "N", "GPES", "02/01/2025", "00:00", "Y"]
                    )
                )
    return rows


def _load(rows: list[str], name: str) -> None:
    content = ",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_text(content, encoding="utf-8")
        extract = achievement_services.extract_receive(path=path, file_name=name)
    if extract.status not in (ExtractStatus.LOADED, ExtractStatus.REJECTED):
        achievement_services.extract_load(extract_id=extract.pk)  # tasks may not be eager


def _enter_phlebotomy(world: dict, service: QualityService) -> None:
    """The demo practice enters October's samples on Record Achievement and submits (once)."""
    practice, user = world["practices"][0], world["users"]["practice@demo.nhs.net"]
    date = AchievementDate.objects.filter(service=service, date=PHLEBOTOMY_MONTH).first()
    if date is None or Achievement.objects.filter(provider=practice, achievement_date=date).exists():
        return
    achievement, _ = achievement_services.achievement_add(user=user, provider_id=practice.pk, achievement_date_id=date.pk)
    indicator = service.indicators.get(code="PHLIOS01")
    achievement_services.achievement_values_save(
        user=user,
        achievement_id=achievement.pk,
        group_id=indicator.group_id,
        values={(indicator.pk, COUNT_FIELD): PHLEBOTOMY_COUNT},
        notes="October's samples, from the phlebotomy clinic book.",
        submit=True,
    )


def _advance(declaration: Declaration, target: str, world: dict) -> None:
    users = world["users"]
    while _ORDER.index(declaration.status) < _ORDER.index(target):
        if declaration.status == DeclarationStatus.AWAITING_PROVIDER:
            services.declaration_declare(declaration_id=declaration.pk, user=SEED, note="Declared for the demo.")
        elif declaration.status == DeclarationStatus.AWAITING_COMMISSIONER:
            services.declarations_approve(declaration_ids=[declaration.pk], user=users["commissioner@demo.nhs.net"])
        else:
            services.declarations_finance_approve(declaration_ids=[declaration.pk], user=users["finance@demo.nhs.net"])
        declaration = Declaration.objects.get(pk=declaration.pk)


def seed_monthly_claims(world: dict) -> str:
    found = {s.code: s for s in QualityService.objects.filter(code__in=[FLU, PHLEBOTOMY])}
    flu, phlebotomy = found.get(FLU), found.get(PHLEBOTOMY)
    if flu is None:
        return "no monthly services"
    practices = world["practices"]
    _offer(world, flu, practices)
    takers = [
        o.provider
        for o in ServiceOffer.objects.filter(service=flu, status=OfferStatus.APPROVED, provider__in=practices)
        .select_related("provider")
        .order_by("provider__ods_code")
    ]
    _load(_flu_rows(flu, takers), "demo-flu-2024-25-sep-dec.csv")
    if phlebotomy is not None:
        _offer(world, phlebotomy, practices[:1])
        _enter_phlebotomy(world, phlebotomy)
    # The loads' recalculations may be queued for a worker: make sure the declarations exist.
    ids = Achievement.objects.filter(service__in=found.values()).values_list("pk", flat=True)
    services.calculations_recalculate(achievement_ids=list(ids))
    demo_practice = practices[0]
    for declaration in Declaration.objects.filter(service=flu).select_related("achievement_date", "provider"):
        plan = DEMO_PRACTICE_PLAN if declaration.provider_id == demo_practice.pk else OTHER_PRACTICES_PLAN
        target = plan.get(declaration.achievement_date.date)
        if target is not None:
            _advance(declaration, target, world)
    months = Declaration.objects.filter(service__in=found.values()).count()
    return f"{len(takers)} practices' flu claims for {len(MONTHS)} months; {months} monthly declarations"
