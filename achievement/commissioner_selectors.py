"""The Commissioning Organisation's reads (issue 14, ADR 0019): its entries in a provider's data,
the providers marked as having no automatic extract, and Record Provider Achievement's providers,
services, financial years and achievements.  Every queryset is scoped to the ICBs where the user holds one of
``roles`` before it is filtered."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from accounts import permissions
from accounts.models import Organisation
from participation.models import FinancialYear, OfferStatus, QualityService

from .errors import AchievementNotFound
from .models import (
    Achievement,
    CommissionerEntry,
    IndicatorValue,
    ManualEntryProvider,
    Submission,
    SubmissionSource,
    SubmissionStatus,
)

# --- Commissioning Organisation entries and manual-entry providers ---------------------------


def commissioner_entries(
    *, achievement_id: int, current_values: dict[tuple[int, str], int]
) -> dict[tuple[int, str], CommissionerEntry]:
    """The fields of an achievement that are Commissioning Organisation entries: set by the
    commissioner and still holding its value in the last submission (``current_values``, by
    (indicator id, field name)).  One query."""
    entries = CommissionerEntry.objects.filter(achievement_id=achievement_id).select_related("entered_by")
    return {e.key: e for e in entries if current_values.get(e.key) == e.value}


def commissioner_entry_codes(*, achievement_id: int) -> dict[str, set[str]]:
    """{indicator code: {field names}} of an achievement's Commissioning Organisation entries
    (for the pages showing its values: Achievement Results).  Two queries."""
    rows = CommissionerEntry.objects.filter(achievement_id=achievement_id).values_list(
        "indicator_id", "indicator__code", "field_name", "value"
    )
    rows = list(rows)
    if not rows:
        return {}
    current = dict(
        ((indicator_id, field_name), value)
        for indicator_id, field_name, value in IndicatorValue.objects.filter(
            submission__achievement_id=achievement_id, submission__is_current=True,
            indicator_id__in={r[0] for r in rows},
        ).values_list("indicator_id", "field_name", "value")
    )
    codes: dict[str, set[str]] = {}
    for indicator_id, code, field_name, value in rows:
        if current.get((indicator_id, field_name)) == value:
            codes.setdefault(code, set()).add(field_name)
    return codes


def manual_entry_get(*, provider_id: int, service_id: int) -> ManualEntryProvider | None:
    return (
        ManualEntryProvider.objects.filter(provider_id=provider_id, service_id=service_id)
        .select_related("set_by")
        .first()
    )


# --- Record Provider Achievement ------------------------------------------------------------


def commissioned_provider_list(*, user, roles) -> QuerySet:
    """The practices and PCNs commissioned by the ICBs where the user holds one of ``roles``."""
    icbs = permissions.organisation_ids_with_role(user, roles)
    return Organisation.objects.filter(commissioner_id__in=icbs).providers().order_by("name")


def commissioner_service_list(*, user, roles, financial_year=None):
    """The Quality Services that providers the user commissions (through ``roles``) take part
    in (an Approved offer), in a financial year."""
    providers = commissioned_provider_list(user=user, roles=roles).values("pk")
    services = QualityService.objects.filter(offers__provider_id__in=providers, offers__status=OfferStatus.APPROVED)
    if financial_year is not None:
        services = services.filter(financial_year=financial_year)
    return services.distinct().select_related("financial_year").order_by("payment_type", "name")


def commissioner_financial_year_list(*, user, roles):
    return FinancialYear.objects.filter(
        pk__in=commissioner_service_list(user=user, roles=roles).values("financial_year_id")
    ).order_by("-start_date")


def commissioner_achievement_list(*, user, roles, service, provider_id: int | None = None) -> QuerySet:
    """Record Provider Achievement's panel: the achievements of the service recorded for the
    providers the user commissions (one of them, given ``provider_id``), newest date first, with
    the last submission's status (the provider's unsubmitted Work in Progress is not the
    commissioner's)."""
    latest = (
        Submission.objects.filter(achievement_id=OuterRef("pk"))
        .exclude(status=SubmissionStatus.WORK_IN_PROGRESS, source=SubmissionSource.MANUAL)
        .order_by("-created_at", "-id")
    )
    achievements = Achievement.objects.filter(
        service=service, provider__in=commissioned_provider_list(user=user, roles=roles)
    )
    if provider_id is not None:
        achievements = achievements.filter(provider_id=provider_id)
    return (
        achievements.select_related("provider", "achievement_date")
        .annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("-achievement_date__date", "provider__name")
    )


def commissioner_achievement_get(*, user, roles, achievement_id: int):
    """An achievement of a provider the user commissions (through ``roles``), or
    ``AchievementNotFound``."""
    icbs = permissions.organisation_ids_with_role(user, roles)
    achievement = (
        Achievement.objects.filter(pk=achievement_id, provider__commissioner_id__in=icbs)
        .select_related("provider__pcn", "service__financial_year", "achievement_date")
        .first()
    )
    if achievement is None:
        raise AchievementNotFound("No achievement found")
    return achievement


def manual_entry_provider_list(*, user, roles, service) -> QuerySet:
    """The providers the user commissions marked as having no automatic extract for ``service``."""
    return (
        ManualEntryProvider.objects.filter(
            service=service, provider__in=commissioned_provider_list(user=user, roles=roles)
        )
        .select_related("provider", "set_by")
        .order_by("provider__name")
    )
