"""Reads of declarations for the screens that show them: the Declare screen (to declare, and the
Payment Declaration History), Declaration Management (rows, filters, totals), a declaration's page
and its transitions, and the tick-box indicators answered on them.  Every one is scoped before it
is filtered.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, F, QuerySet, Sum

from accounts import permissions
from accounts.errors import NotFound
from participation.definitions.kinds import TICK_BOX_KINDS
from participation.models import Indicator, ProviderCluster, QualityService

from . import rules
from .models import Declaration, DeclarationStatus, DeclarationTransition
from .scope import results_scope


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
