"""Reads of the records reports, every one scoped (``scope``) before it is filtered, each a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.errors import NotFound
from accounts.models import Organisation, OrganisationKind, PcnMembership
from achievement.models import Achievement
from declarations import selectors as declaration_selectors
from declarations.models import Declaration, DeclarationTransition, IndicatorCalculation
from participation.models import AchievementDate, QualityService

from . import scope

# --- Achievement Summary Report ----------------------------------------------------------------


def summary_achievement_list(
    *, user, financial_year=None, service=None, provider=None, achievement_date=None
) -> QuerySet[Achievement]:
    """The calculated achievements the user may run an Achievement Summary Report of, most
    recent first, with their declaration where there is one."""
    achievements = Achievement.objects.filter(
        scope.report_rows(user=user, roles=scope.SUMMARY_ROLES), calculation__isnull=False
    )
    if financial_year is not None:
        achievements = achievements.filter(service__financial_year=financial_year)
    if service is not None:
        achievements = achievements.filter(service=service)
    if provider is not None:
        achievements = achievements.filter(provider=provider)
    if achievement_date is not None:
        achievements = achievements.filter(achievement_date=achievement_date)
    return achievements.select_related(
        "provider", "service", "achievement_date", "calculation", "declaration"
    ).order_by("-achievement_date__date", "service__code", "provider__name", "pk")


def summary_achievement_get(*, user, achievement_id: int) -> Achievement:
    """An achievement of a provider in the user's report scope, with its calculation and
    declaration (and who declared and approved it); else NotFound."""
    achievement = (
        Achievement.objects.filter(scope.report_rows(user=user, roles=scope.SUMMARY_ROLES), pk=achievement_id)
        .select_related(
            "provider__pcn",
            "provider__parent",
            "provider__commissioner",
            "service__financial_year",
            "achievement_date",
            "calculation",
            "declaration__declared_by",
            "declaration__approved_by",
            "declaration__finance_approved_by",
        )
        .first()
    )
    if achievement is None:
        raise NotFound("No achievement found")
    return achievement


def summary_indicator_results(*, achievement: Achievement) -> QuerySet[IndicatorCalculation] | list:
    """The indicator rows of Achievement Results (declarations' own selector), or none."""
    calculation = getattr(achievement, "calculation", None)
    if calculation is None:
        return []
    return declaration_selectors.indicator_result_list(calculation=calculation)


def summary_transitions(*, achievement: Achievement) -> QuerySet[DeclarationTransition] | list:
    declaration = getattr(achievement, "declaration", None)
    if declaration is None:
        return []
    return declaration_selectors.declaration_transitions(declaration=declaration)


# --- Payments -----------------------------------------------------------------------------------


def payments_services(*, user) -> QuerySet[QualityService]:
    """The Quality Services with a declaration in the user's Payments scope (``scope.report_rows``:
    a PCN's member practices' own services are not a PCN user's)."""
    declared = Declaration.objects.filter(scope.report_rows(user=user, roles=scope.PAYMENTS_ROLES))
    return (
        QualityService.objects.filter(pk__in=declared.values("service_id"))
        .select_related("financial_year")
        .order_by("-financial_year__start_date", "code")
    )


def payments_achievement_dates(*, service: QualityService | None) -> QuerySet[AchievementDate]:
    if service is None:
        return AchievementDate.objects.none()
    return AchievementDate.objects.filter(service=service, is_payment_date=True).order_by("date")


def payments_sub_icb_locations(*, user) -> QuerySet[Organisation]:
    providers = scope.report_providers(user=user, roles=scope.PAYMENTS_ROLES)
    return Organisation.objects.filter(kind=OrganisationKind.SUB_ICB, children__in=providers).distinct().order_by("name")


def payments_pcns(*, user) -> QuerySet[Organisation]:
    providers = scope.report_providers(user=user, roles=scope.PAYMENTS_ROLES)
    return providers.filter(kind=OrganisationKind.PCN).order_by("name")


def payments_list(
    *, user, service: QualityService, achievement_date=None, status=None, sub_icb=None, pcn=None
) -> QuerySet[Declaration]:
    """The Payments report: one declaration per provider and payment date of the service, in
    the user's Payments scope (``scope.report_rows``), filtered by achievement date, status, sub-ICB
    location (a practice's parent) and PCN (the PCN itself and its member practices)."""
    declarations = Declaration.objects.filter(scope.report_rows(user=user, roles=scope.PAYMENTS_ROLES), service=service)
    if achievement_date is not None:
        declarations = declarations.filter(achievement_date=achievement_date)
    if status:
        declarations = declarations.filter(status=status)
    if sub_icb is not None:
        declarations = declarations.filter(provider__parent=sub_icb)
    if pcn is not None:
        declarations = declarations.filter(Q(provider__pcn=pcn) | Q(provider=pcn))
    return declarations.select_related(
        "provider__pcn", "provider__parent", "service", "achievement_date", "calculation"
    ).order_by("achievement_date__date", "provider__name", "pk")


def payments_totals(*, declarations: QuerySet[Declaration]) -> dict:
    """Totals of the filtered rows: Declaration Management's own sums (one query)."""
    return declaration_selectors.declaration_totals(declarations=declarations)


# --- Network organisation relationship ----------------------------------------------------------


def network_practices(*, user) -> QuerySet[Organisation]:
    """The practices in the user's scope with their PCN and sub-ICB location, by PCN."""
    providers = scope.report_providers(user=user, roles=scope.NETWORK_ROLES)
    return (
        providers.filter(kind=OrganisationKind.PRACTICE)
        .select_related("pcn", "parent")
        .order_by("pcn__name", "name", "pk")
    )


def network_memberships(*, user) -> QuerySet[PcnMembership]:
    """The recorded PCN memberships, past and current, of the practices in the user's scope, with
    their PCNs (docs/adr/0020)."""
    practices = network_practices(user=user).values("pk")
    return PcnMembership.objects.filter(practice_id__in=practices).select_related("pcn")


def network_pcns(*, user) -> QuerySet[Organisation]:
    providers = scope.report_providers(user=user, roles=scope.NETWORK_ROLES)
    return providers.filter(kind=OrganisationKind.PCN).order_by("name", "pk")
