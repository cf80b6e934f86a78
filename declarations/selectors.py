"""Reads of the declarations app, every one scoped before it is filtered.

A user sees the calculations of the providers in which they hold a results role, of the providers
their ICB commissions, and of their PCN's member practices for the PCN's services only
(``results_scope``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db.models import Case, Count, F, Q, QuerySet, Subquery, Sum, When

from accounts import permissions
from accounts.errors import NotFound
from accounts.models import Organisation, OrganisationKind
from achievement.models import Achievement
from participation.definitions.kinds import TICK_BOX_KINDS
from participation.models import (
    AchievementDate,
    FinancialYear,
    Indicator,
    IndicatorKind,
    ProviderCluster,
    ProviderLevel,
    QualityService,
)

from . import rules
from .calculation import EXPORTED_KINDS
from .models import (
    DECLARED_STATUSES,
    Calculation,
    Declaration,
    DeclarationStatus,
    DeclarationTransition,
    IndicatorCalculation,
)

EXPORT_COLUMNS = ("QUALITY_SERVICE", "ORG_CODE", "ACH_DATE", "IND_CODE", "ACHIEVEMENT", "POINTS", "AMOUNT")


def result_providers(*, user) -> QuerySet[Organisation]:
    """The practices and PCNs whose achievement results the user may see (some of them: a PCN's
    member practices only for the PCN's services, ``results_scope``)."""
    return permissions.visible_organisations(user, rules.RESULTS_ROLES).providers().order_by("name")


def results_scope(*, user) -> Q:
    """The achievements (or declarations) whose results the user may see, as a filter on their
    ``provider`` and ``service``: those of the providers where the user holds a results role and
    of the providers their ICB commissions, all services; of their PCN's member practices, only
    the PCN's services (a member's contribution to the Network Contract DES), never the
    practice's own services' payments."""
    own = permissions.organisation_ids_with_role(user, rules.RESULTS_ROLES)
    if not own:
        return Q(pk__in=[])
    return (
        Q(provider_id__in=own)
        | Q(provider__commissioner_id__in=own)
        | Q(provider__pcn_id__in=own, service__provider_level=ProviderLevel.PCN)
    )


def achievement_list(
    *,
    user,
    financial_year: FinancialYear | None = None,
    service: QualityService | None = None,
    provider: Organisation | None = None,
    achievement_date: AchievementDate | None = None,
) -> QuerySet[Achievement]:
    """Achievements the user may see (``results_scope``), with their calculation where there is one."""
    achievements = Achievement.objects.filter(results_scope(user=user))
    if financial_year is not None:
        achievements = achievements.filter(service__financial_year=financial_year)
    if service is not None:
        achievements = achievements.filter(service=service)
    if provider is not None:
        achievements = achievements.filter(provider=provider)
    if achievement_date is not None:
        achievements = achievements.filter(achievement_date=achievement_date)
    return achievements.select_related("provider", "service", "achievement_date", "calculation").order_by(
        "-achievement_date__date", "service__code", "provider__name"
    )


def achievement_get(*, user, achievement_id: int) -> Achievement:
    """An achievement the user may see (``results_scope``; with its calculation, if any); else NotFound."""
    achievement = (
        Achievement.objects.filter(results_scope(user=user), pk=achievement_id)
        .select_related("provider", "service__financial_year", "achievement_date", "calculation")
        .first()
    )
    if achievement is None:
        raise NotFound("No achievement found")
    return achievement


def indicator_result_list(*, calculation: Calculation) -> QuerySet[IndicatorCalculation]:
    """A calculation's indicator results in catalogue order, with indicator, group and domain."""
    return (
        IndicatorCalculation.objects.filter(calculation=calculation)
        .select_related("indicator__group__domain")
        .order_by("indicator__group__domain__position", "indicator__group__position", "indicator__position")
    )


def _two_places(value) -> str:
    return f"{value:.2f}"


def payment_export_rows(*, achievement_date: AchievementDate) -> Iterator[dict[str, str]]:
    """The payment export of one service and achievement date (for ``export_payments``).

    One row per provider with a calculation and per points-bearing, per-capita or item-of-service
    indicator (``kinds.PAID_KINDS``), by ODS code then catalogue order.  ACHIEVEMENT is the
    percentage to 2 places for a fraction with a denominator above 0, else empty (so an item of
    service's row is ACHIEVEMENT empty, POINTS 0.00, AMOUNT the claim).  Figures are strings, so
    no digit is lost to a float.
    """
    service_code = achievement_date.service.code
    ach_date = f"{achievement_date.date:%Y%m%d}"
    rows = (
        IndicatorCalculation.objects.filter(
            calculation__achievement_date=achievement_date, indicator__kind__in=EXPORTED_KINDS
        )
        .order_by(
            "calculation__provider__ods_code",
            "indicator__group__domain__position",
            "indicator__group__position",
            "indicator__position",
            "indicator__code",
        )
        .values_list(
            "calculation__provider__ods_code",
            "indicator__code",
            "indicator__kind",
            "denominator",
            "achievement_percent",
            "points",
            "amount",
        )
    )
    for ods_code, code, kind, denominator, percent, points, amount in rows.iterator(chunk_size=5000):
        shows_achievement = kind == IndicatorKind.FRACTION and denominator and percent is not None
        yield {
            "QUALITY_SERVICE": service_code,
            "ORG_CODE": ods_code,
            "ACH_DATE": ach_date,
            "IND_CODE": code,
            "ACHIEVEMENT": _two_places(percent) if shows_achievement else "",
            "POINTS": _two_places(points),
            "AMOUNT": _two_places(amount),
        }


def financial_year_default(*, today: dt.date | None = None) -> FinancialYear | None:
    return FinancialYear.current(today)


# --- declarations -------------------------------------------------------------------------------


def _payment_declaration_status(*, achievement_id: int) -> str | None:
    """The status of the declaration of the payment this achievement's data feed, or None.

    That is the declaration of the provider paid (for a practice's Network Contract DES
    achievement, its PCN) for the first payment date on or after the achievement date (the
    payment period it belongs to).  One query (Data Submission asks it on every page).
    """
    return _payment_declarations(achievement_id=achievement_id).values_list("status", flat=True).first()


def achievement_payment_lock(*, achievement_id: int) -> None:
    """Lock (``SELECT ... FOR UPDATE``, inside the caller's transaction) the declaration of the
    payment this achievement's data feed, if there is one.

    A change of the data (a submission, a tick-box) checks "not declared / not financially
    approved" after taking this lock, so a declaration or finance approval in flight (which holds
    the same row lock) commits first and the check sees it.  Lock order: after the Achievement
    (or Organisation) row, as ``calculations_recalculate`` does.
    """
    pk = _payment_declarations(achievement_id=achievement_id).values_list("pk", flat=True).first()
    if pk is not None:
        list(Declaration.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True))


def _payment_declarations(*, achievement_id: int) -> QuerySet[Declaration]:
    achievement = Achievement.objects.filter(pk=achievement_id)
    paid_provider = achievement.annotate(
        paid=Case(
            When(
                service__provider_level=ProviderLevel.PCN,
                provider__kind=OrganisationKind.PRACTICE,
                provider__pcn__isnull=False,
                then=F("provider__pcn_id"),
            ),
            default=F("provider_id"),
        )
    ).values("paid")[:1]
    return (
        Declaration.objects.filter(
            provider_id=Subquery(paid_provider),
            service_id=Subquery(achievement.values("service_id")[:1]),
            achievement_date__date__gte=Subquery(achievement.values("achievement_date__date")[:1]),
            achievement_date__is_payment_date=True,
        )
        .order_by("achievement_date__date")
    )


def achievement_financially_approved(*, achievement_id: int) -> bool:
    """Has the payment based on this achievement's data been financially approved?  (The lock
    that makes Data Submission read-only and refuses tick-box changes: ``achievement.rules``.)"""
    return _payment_declaration_status(achievement_id=achievement_id) == DeclarationStatus.FINANCIALLY_APPROVED


def achievement_declared(*, achievement_id: int) -> bool:
    """Does the provider's declaration of that payment stand (declared, not sent back)?"""
    return _payment_declaration_status(achievement_id=achievement_id) in DECLARED_STATUSES


def _declarations() -> QuerySet[Declaration]:
    return Declaration.objects.select_related(
        "provider", "service", "achievement_date", "calculation"
    ).order_by("service__code", "-achievement_date__date", "provider__name", "pk")


def declarations_to_declare(*, user) -> QuerySet[Declaration]:
    """The Declare screen: declarations Awaiting Service Provider Approval of the providers where
    the user holds Declaration Management."""
    provider_ids = permissions.organisation_ids_with_role(user, rules.DECLARE_ROLES)
    return _declarations().filter(provider_id__in=provider_ids, status=DeclarationStatus.AWAITING_PROVIDER)


def declarations_declared(*, user) -> QuerySet[Declaration]:
    """The Declare screen's Payment Declaration History: the providers' declarations already
    declared, the latest declared first, with who declared them."""
    provider_ids = permissions.organisation_ids_with_role(user, rules.DECLARE_ROLES)
    return (
        _declarations()
        .filter(provider_id__in=provider_ids)
        .exclude(status=DeclarationStatus.AWAITING_PROVIDER)
        .select_related("declared_by")
        .order_by(F("declared_at").desc(nulls_last=True), "-pk")
    )


def declaration_management_list(
    *,
    user,
    status: str | None = None,
    service: QualityService | None = None,
    cluster: ProviderCluster | None = None,
) -> QuerySet[Declaration]:
    """Declaration Management: the declarations of the providers commissioned by the ICBs where
    the user holds Approval or Finance Management, filtered by status, Quality Service and the
    cluster of providers (one of ``declaration_management_clusters``)."""
    commissioner_ids = permissions.organisation_ids_with_role(user, rules.MANAGEMENT_ROLES)
    declarations = _declarations().filter(provider__commissioner_id__in=commissioner_ids)
    if status:
        declarations = declarations.filter(status=status)
    if service is not None:
        declarations = declarations.filter(service=service)
    if cluster is not None:
        declarations = declarations.filter(provider__clusters=cluster)
    return declarations


def declaration_management_clusters(*, user) -> QuerySet[ProviderCluster]:
    """The Cluster filter's choices: the clusters of the ICBs where the user holds Approval or
    Finance Management."""
    commissioner_ids = permissions.organisation_ids_with_role(user, rules.MANAGEMENT_ROLES)
    return ProviderCluster.objects.filter(commissioner_id__in=commissioner_ids).order_by("name", "pk")


# What Declaration Management shows and decides of each row (its checkbox: rules.approve_action).
MANAGEMENT_ROW_FIELDS = (
    "pk",
    "status",
    "declared_by_id",
    "approved_by_id",
    "amount_declared",
    "amount_approved",
    "amount_finance_approved",
    "provider__name",
    "provider__ods_code",
    "provider__commissioner_id",
    "provider_id",  # issue 13: the aspiration paid (with the service's aspiration and year start)
    "service__aspiration_percent",
    "service__financial_year__start_date",
    "service_id",
    "achievement_date_id",  # issue 13: payments still on the definition's national figures
    "service__name",
    "service__payment_type",
    "service__payment_frequency",
    "achievement_date__date",
    "calculation__total_points",
    "calculation__total_amount",
)


def declaration_management_rows(*, declarations: QuerySet[Declaration]) -> QuerySet:
    """The rows of ``declaration_management_list`` as the page shows them: the fields it needs,
    as dicts (``MANAGEMENT_ROW_FIELDS``), in one query and without building model instances."""
    return declarations.values(*MANAGEMENT_ROW_FIELDS)


def declaration_management_statuses(*, user, declaration_ids: Iterable[int]) -> dict[int, str]:
    """The status of each of these declarations, which must all be rows the user manages (one
    of another organisation is NotFound: as if it did not exist)."""
    ids = set(declaration_ids)
    statuses = dict(declaration_management_list(user=user).filter(pk__in=ids).values_list("pk", "status"))
    if len(statuses) != len(ids):
        raise NotFound("No such declaration")
    return statuses


def declaration_totals(*, declarations: QuerySet[Declaration]) -> dict:
    """Totals of the filtered rows, in one query."""
    totals = declarations.order_by().aggregate(
        count=Count("pk"),
        calculated=Sum("calculation__total_amount"),
        declared=Sum("amount_declared"),
        approved=Sum("amount_approved"),
        finance_approved=Sum("amount_finance_approved"),
    )
    return {key: (value if value is not None else Decimal("0.00")) for key, value in totals.items()}


def declaration_management_services(*, user) -> QuerySet[QualityService]:
    """The Quality Service filter's choices: services with a declaration the user manages."""
    commissioner_ids = permissions.organisation_ids_with_role(user, rules.MANAGEMENT_ROLES)
    return (
        QualityService.objects.filter(declarations__provider__commissioner_id__in=commissioner_ids)
        .distinct()
        .select_related("financial_year")
        .order_by("-financial_year__start_date", "code")
    )


def declaration_get(*, user, declaration_id: int) -> Declaration:
    """A declaration the user may see (its own, commissioned; ``results_scope``); else NotFound."""
    declaration = (
        Declaration.objects.filter(results_scope(user=user), pk=declaration_id)
        .select_related(
            "provider__commissioner",
            "service__financial_year",
            "achievement_date",
            "calculation",
            "achievement",
            "declared_by",
            "approved_by",
            "finance_approved_by",
        )
        .first()
    )
    if declaration is None:
        raise NotFound("No declaration found")
    return declaration


def declaration_transitions(*, declaration: Declaration) -> QuerySet[DeclarationTransition]:
    return DeclarationTransition.objects.filter(declaration=declaration).select_related("by").order_by("at", "pk")


def tick_box_indicator_list(*, service_id: int) -> QuerySet[Indicator]:
    """A service's tick-box indicators (answered through the Yes/No drop-down), in catalogue order."""
    return Indicator.objects.filter(service_id=service_id, kind__in=TICK_BOX_KINDS).order_by("group__position", "position")


def tick_box_indicator_get(*, service_id: int, indicator_id: int) -> Indicator:
    """A tick-box indicator of the service; else NotFound."""
    indicator = Indicator.objects.filter(pk=indicator_id, service_id=service_id, kind__in=TICK_BOX_KINDS).first()
    if indicator is None:
        raise NotFound("No such tick-box indicator")
    return indicator


def protected_points(*, provider_ids: Iterable[int], service: QualityService) -> dict[tuple[int, str], Decimal]:
    """Income protection's input (issue 13): for each provider and income-protected indicator of
    ``service``, the points the provider earned for it (or for its ``protected_code``) in the
    year-end calculation of the service named by ``service.protected_from`` (its latest payment
    date).  Keyed ``(provider_id, this service's indicator code)``; a provider with no such
    calculation (or an indicator that calculation lacks) has no key, and the engine then pays it on
    this year's achievement, flagged.  Two queries whatever the number of providers."""
    if not service.protected_from:
        return {}
    this_code_of = {
        (indicator.protected_code or indicator.code): indicator.code
        for indicator in Indicator.objects.filter(service=service, income_protected=True).only(
            "code", "protected_code"
        )
    }
    provider_ids = list(provider_ids)
    if not this_code_of or not provider_ids:
        return {}
    year_end = (
        AchievementDate.objects.filter(service__code=service.protected_from, is_payment_date=True)
        .order_by("-date")
        .values("pk")[:1]
    )
    rows = IndicatorCalculation.objects.filter(
        calculation__achievement_date=Subquery(year_end),
        calculation__provider_id__in=provider_ids,
        indicator__code__in=list(this_code_of),
    ).values_list("calculation__provider_id", "indicator__code", "points")
    return {(provider_id, this_code_of[code]): points for provider_id, code, points in rows}
