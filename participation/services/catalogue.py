"""The Quality Service catalogue: a service definition loaded into the catalogue tables.

Idempotent by the definition's hash; a changed definition updates the rows in place (matched by
code or date, so ids survive) until achievement has been recorded for the service.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from participation.definitions import ServiceDef
from participation.errors import ServiceLoadRefused
from participation.models import (
    AchievementDate,
    Domain,
    FinancialYear,
    Indicator,
    IndicatorGroup,
    QualityService,
)


def _json_safe(value):
    return json.loads(json.dumps(value, default=str))


def definition_hash(definition: ServiceDef) -> str:
    """A stable fingerprint of a parsed definition (YAML comments and layout do not count)."""
    canonical = json.dumps(dataclasses.asdict(definition), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def quality_service_load(*, definition: ServiceDef, source: dict) -> QualityService:
    """Create or update a Quality Service from its definition.

    Idempotent: an unchanged definition (same hash) writes nothing.  A changed definition
    updates the service, its domains, groups, indicators and achievement dates (matched by code
    or date, so ids survive) while no achievement has been recorded for it; after that the
    payments already calculated depend on it, so the change is refused with the reason.
    """
    new_hash = definition_hash(definition)
    service = QualityService.objects.select_for_update().filter(code=definition.code).first()
    if service is not None and service.definition_hash == new_hash:
        return service
    # The reverse relation of achievement's rows: asked without importing the higher app.
    if service is not None and service.achievements.exists():
        raise ServiceLoadRefused(
            f"{definition.code}: the definition has changed, but achievement has already been recorded "
            "for this service, so it can no longer be changed. Load the change as a new service code."
        )

    values = {
        "name": definition.name,
        "payment_type": definition.payment_type,
        "payment_frequency": definition.payment_frequency,
        "financial_year": FinancialYear.for_label(definition.financial_year),
        "provider_level": definition.provider_level,
        "no_declaration_required": definition.no_declaration_required,
        "no_approval_required": definition.no_approval_required,
        "value_per_point": definition.value_per_point,
        "average_list_size": definition.average_list_size,
        "protected_from": definition.protected_from or "",
        "aspiration_percent": definition.aspiration.percent if definition.aspiration else None,
        "aspiration_from": definition.aspiration.from_service if definition.aspiration else "",
        "definition": _json_safe(source),
        "definition_hash": new_hash,
    }
    if service is None:
        service = QualityService.objects.create(code=definition.code, **values)
    else:
        for name, value in values.items():
            setattr(service, name, value)
        service.loaded_at = timezone.now()
        service.save()

    try:
        _catalogue_sync(service=service, definition=definition)
    except ProtectedError as error:
        raise ServiceLoadRefused(
            f"{definition.code}: the change removes indicators or achievement dates that are in use "
            f"({len(error.protected_objects)} record(s) refer to them)."
        ) from error
    return service


def _catalogue_sync(*, service: QualityService, definition: ServiceDef) -> None:
    domain_codes, group_codes, indicator_codes = [], [], []
    for domain_position, domain_def in enumerate(definition.domains):
        domain, _ = Domain.objects.update_or_create(
            service=service, code=domain_def.code, defaults={"name": domain_def.name, "position": domain_position}
        )
        domain_codes.append(domain_def.code)
        for group_position, group_def in enumerate(domain_def.groups):
            group, _ = IndicatorGroup.objects.update_or_create(
                service=service,
                code=group_def.code,
                defaults={
                    "domain": domain,
                    "name": group_def.name,
                    "sub_domain": group_def.sub_domain or "",
                    "national_prevalence": group_def.national_prevalence,
                    "position": group_position,
                },
            )
            group_codes.append(group_def.code)
            for position, ind in enumerate(group_def.indicators):
                Indicator.objects.update_or_create(
                    service=service,
                    code=ind.code,
                    defaults={
                        "group": group,
                        "name": ind.name,
                        "kind": ind.kind,
                        "points": ind.points,
                        "lower": ind.lower,
                        "upper": ind.upper,
                        "register_field": ind.register_field or "",
                        "national_prevalence": ind.national_prevalence,
                        "rate": ind.rate,
                        "amount_per_item": ind.amount_per_item,
                        "max_items": ind.max_items,
                        "entry": ind.entry,
                        "carry_forward": ind.carry_forward,
                        "fields": list(ind.fields),
                        "income_protected": ind.income_protected,
                        "protected_code": ind.protected_code or "",
                        "position": position,
                    },
                )
                indicator_codes.append(ind.code)
    dates = []
    for date_def in definition.achievement_dates:
        AchievementDate.objects.update_or_create(
            service=service, date=date_def.date, defaults={"is_payment_date": date_def.payment}
        )
        dates.append(date_def.date)
    # What the new definition no longer holds goes, innermost first.
    Indicator.objects.filter(service=service).exclude(code__in=indicator_codes).delete()
    IndicatorGroup.objects.filter(service=service).exclude(code__in=group_codes).delete()
    Domain.objects.filter(service=service).exclude(code__in=domain_codes).delete()
    AchievementDate.objects.filter(service=service).exclude(date__in=dates).delete()
