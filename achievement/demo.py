"""Demo data for Data Submission, called by `seed_demo` after participation.demo (idempotent).

Achievement arrives as it does in production: a small GPES extract (the CQRS indicator-values
layout) received and loaded through ``achievement.services``, so practices get "GPES extract"
submissions, PCNs their aggregation, and the payments are calculated (``hooks``).  It leaves:

- Network Contract DES 2024/25, 31/03/2025: the practices of the demo PCN (U89141) supply CAN-02
  but not HI-03, so the demo practice's achievement and its PCN's show the Investment and Impact
  Fund group at "1 of 2" (the first job aid's missing-data check); the other PCN's practices
  supply both ("2 of 2");
- the demo PCN's CAIP-1 (a per-capita Yes/No the PCN sets through the tick-box drop-down) set to
  Yes on 31/03/2025 by the PCN lead;
- QOF 2024/25, 31/03/2025 for the practice that accepted QOF (Woodbridge Practice): every
  automatic indicator, so only the manual Quality Improvement groups are incomplete;
- on that achievement, one Commissioning Organisation entry: commissioner@demo.nhs.net corrects
  the first fraction indicator's Numerator on Record Provider Achievement
  (``services.commissioner_values_save``), so it is marked wherever it is shown and the practice
  cannot adjust it.  Made once: seeding again finds the entry and leaves it.

The extract's content is fixed, so seeding again receives the same file and loads nothing new.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path

from django.db import transaction

from participation.models import (
    EntryKind,
    Indicator,
    IndicatorKind,
    OfferStatus,
    QualityService,
    ServiceOffer,
)

from . import entry_rules, services
from .ingest.reader import COLUMNS, LIST_SIZE_FIELD, LIST_SIZE_INDICATOR
from .models import Achievement, CommissionerEntry, ExtractStatus, IndicatorValue, TickBoxValue

PAYMENT_DATE = dt.date(2025, 3, 31)
SUBMIT_DATE = "01/04/2025"
COMMISSIONER_NOTE = "Corrected from the practice's clinical audit (ICB review)."


def _row(service: str, name: str, org: str, date: dt.date, indicator: str, field: str, value: int) -> str:
    return ",".join(
        [service, name, org, f"{date:%Y%m%d}", indicator, field, str(value), "N", "GPES", SUBMIT_DATE, "00:00", "Y"]
    )


def _ncd_rows(world, service: QualityService) -> list[str]:
    rows = []
    approved = set(
        ServiceOffer.objects.filter(service=service, status=OfferStatus.APPROVED).values_list("provider_id", flat=True)
    )
    for index, practice in enumerate(world["practices"]):
        if practice.pk not in approved:
            continue
        name = service.name
        denominator = 40 + 7 * index
        rows.append(_row(service.code, name, practice.ods_code, PAYMENT_DATE, "CAN-02", "Numerator", denominator - 6 - index))
        rows.append(_row(service.code, name, practice.ods_code, PAYMENT_DATE, "CAN-02", "Denominator", denominator))
        if practice.pcn_id != world["pcns"][0].pk:  # the demo PCN's practices do not supply HI-03
            rows.append(_row(service.code, name, practice.ods_code, PAYMENT_DATE, "HI-03", "Numerator", 20 + index))
            rows.append(_row(service.code, name, practice.ods_code, PAYMENT_DATE, "HI-03", "Denominator", 28 + index))
    return rows


def _qof_rows(practice, service: QualityService, list_size: int) -> list[str]:
    """Every automatic QOF indicator of one practice, plausible and deterministic."""
    rng = random.Random(f"{practice.ods_code}-{service.code}")
    rows = [_row(service.code, service.name, practice.ods_code, PAYMENT_DATE, LIST_SIZE_INDICATOR, LIST_SIZE_FIELD, list_size)]
    indicators = Indicator.objects.filter(service=service, entry=EntryKind.AUTOMATIC).select_related("group")
    registers: dict[int, int] = {}
    for indicator in indicators.order_by("group__position", "position"):
        if indicator.kind in entry_rules.TICK_BOX_KINDS:
            continue
        register = registers.setdefault(indicator.group_id, max(20, int(list_size * rng.uniform(0.01, 0.08))))
        for field in entry_rules.indicator_fields(indicator):
            if indicator.kind == IndicatorKind.FRACTION and field == "Denominator":
                value = max(10, int(register * rng.uniform(0.6, 0.95)))
                denominator = value
            elif indicator.kind == IndicatorKind.FRACTION and field == "Numerator":
                continue  # written after its denominator
            elif indicator.kind == IndicatorKind.YES_NO:
                value = 1
            elif indicator.kind == IndicatorKind.COUNT:
                value = rng.randint(5, 200)
            elif field == (indicator.register_field or "Register") or indicator.kind == IndicatorKind.REGISTER:
                value = register
            else:  # PCA counts
                value = rng.randint(0, 5)
            rows.append(_row(service.code, service.name, practice.ods_code, PAYMENT_DATE, indicator.code, field, value))
        if indicator.kind == IndicatorKind.FRACTION:
            numerator = int(denominator * rng.uniform(0.55, 0.97))
            rows.append(_row(service.code, service.name, practice.ods_code, PAYMENT_DATE, indicator.code, "Numerator", numerator))
    return rows


def _load(rows: list[str], name: str):
    content = ",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_text(content, encoding="utf-8")
        extract = services.extract_receive(path=path, file_name=name)
    if extract.status not in (ExtractStatus.LOADED, ExtractStatus.REJECTED):
        extract = services.extract_load(extract_id=extract.pk)  # tasks may not be eager
    return extract


def seed_achievement(world: dict) -> str:
    from accounts.models import ListSize

    services_by_code = {s.code: s for s in QualityService.objects.filter(code__in=["NCD2425", "QOF2425"])}
    summary = []
    ncd = services_by_code.get("NCD2425")
    if ncd is not None:
        extract = _load(_ncd_rows(world, ncd), "demo-ncd-2024-25-20250331.csv")
        summary.append(f"NCD extract {extract.get_status_display()}")
        _seed_tick_box(world, ncd)

    qof = services_by_code.get("QOF2425")
    if qof is not None:
        approved = ServiceOffer.objects.filter(
            service=qof, status=OfferStatus.APPROVED, provider__in=world["practices"]
        ).select_related("provider")
        rows = []
        for offer in approved:
            size = (
                ListSize.objects.filter(organisation=offer.provider, date__lte=PAYMENT_DATE)
                .order_by("-date")
                .values_list("size", flat=True)
                .first()
            ) or 8000
            rows += _qof_rows(offer.provider, qof, size)
        if rows:
            extract = _load(rows, "demo-qof-2024-25-20250331.csv")
            summary.append(f"QOF extract {extract.get_status_display()}")
        entry = _seed_commissioner_entry(world, qof)
        if entry is not None:
            summary.append(f"Commissioning Organisation entry {entry.indicator.code} {entry.field_name}")
    return "; ".join(summary) or "no services"


def _seed_commissioner_entry(world: dict, qof: QualityService) -> CommissionerEntry | None:
    """The commissioner corrects Woodbridge Practice's QOF 2024/25 (31/03/2025): the first fraction
    indicator, in catalogue order, whose Numerator is below its Denominator gets one more (once)."""
    achievement = Achievement.objects.filter(
        provider=world["practices"][1], service=qof, achievement_date__date=PAYMENT_DATE
    ).first()
    if achievement is None:
        return None
    entry = CommissionerEntry.objects.filter(achievement=achievement).select_related("indicator").first()
    if entry is not None:
        return entry
    current = {
        (v.indicator_id, v.field_name): v.value
        for v in IndicatorValue.objects.filter(submission__achievement=achievement, submission__is_current=True)
    }
    fractions = Indicator.objects.filter(service=qof, kind=IndicatorKind.FRACTION, entry=EntryKind.AUTOMATIC)
    for indicator in fractions.order_by("group__domain__position", "group__position", "position", "pk"):
        numerator = current.get((indicator.pk, "Numerator"))
        denominator = current.get((indicator.pk, "Denominator"))
        if numerator is not None and denominator is not None and numerator < denominator:
            services.commissioner_values_save(
                user=world["users"]["commissioner@demo.nhs.net"],
                achievement_id=achievement.pk,
                group_id=indicator.group_id,
                values={(indicator.pk, "Numerator"): numerator + 1},
                notes=COMMISSIONER_NOTE,
                submit=True,
            )
            return CommissionerEntry.objects.select_related("indicator").get(achievement=achievement)
    return None


@transaction.atomic
def _seed_tick_box(world, ncd: QualityService) -> None:
    """The PCN lead says Yes to CAIP-1 on 31/03/2025 (once)."""
    pcn = world["pcns"][0]
    indicator = Indicator.objects.filter(service=ncd, code="CAIP-1").first()
    date = ncd.achievement_dates.filter(date=PAYMENT_DATE).first()
    if indicator is None or date is None:
        return
    if TickBoxValue.objects.filter(provider=pcn, indicator=indicator, achievement_date=date).exists():
        return
    services.tick_box_set(
        user=world["users"]["pcnlead@demo.nhs.net"],
        provider_id=pcn.pk,
        indicator_id=indicator.pk,
        achievement_date_id=date.pk,
        value=True,
    )
