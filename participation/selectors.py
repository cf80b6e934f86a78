"""Reads of Participation Management: every queryset is scoped to the user's organisations before
it is filtered, and joins what its screen shows so a list costs the same queries for 5 providers
as for 500."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from accounts import permissions
from accounts.errors import NotFound
from accounts.inputs import id_or_none
from accounts.models import COMMISSIONER_ROLES, PROVIDER_ROLES, Organisation, OrganisationKind, Role

from .errors import OfferNotFound
from .models import (
    STATUS_FILTERS,
    Domain,
    FinancialYear,
    Indicator,
    IndicatorGroup,
    OfferStatus,
    OfferTransition,
    ProviderCluster,
    ProviderLevel,
    QualityService,
    ServiceOffer,
)

# The Status drop-down of Offered Services (job aid), and My Services' Quality Service Status.
OFFERED_SERVICES_STATUSES = tuple(STATUS_FILTERS)  # Offered, Approved, Rejected, Cancelled
MY_SERVICES_STATUSES = ("Offered", "Approved", "Rejected")

_LIST_JOINS = ("service", "service__financial_year", "provider", "provider__pcn", "provider__parent", "commissioner")


def _commissioning_ids(user) -> set[int]:
    return permissions.organisation_ids_with_role(user, {Role.COMMISSIONING_MANAGEMENT})


def _service_management_ids(user) -> set[int]:
    return permissions.organisation_ids_with_role(user, {Role.SERVICE_MANAGEMENT})


def offers_commissioned(*, user) -> QuerySet[ServiceOffer]:
    """Offers a commissioner manages: made by an organisation where the user holds Commissioning
    Management."""
    return ServiceOffer.objects.filter(commissioner_id__in=_commissioning_ids(user))


def offers_received(*, user) -> QuerySet[ServiceOffer]:
    """Offers a provider answers: made to an organisation where the user holds Service Management."""
    return ServiceOffer.objects.filter(provider_id__in=_service_management_ids(user))


def offers_visible(*, user) -> QuerySet[ServiceOffer]:
    """Offers the user may look at: their provider's (any provider role) or their ICB's (any
    commissioner role)."""
    return ServiceOffer.objects.filter(
        Q(provider_id__in=permissions.organisation_ids_with_role(user, PROVIDER_ROLES))
        | Q(commissioner_id__in=permissions.organisation_ids_with_role(user, COMMISSIONER_ROLES))
    )


def financial_year_or_current(year_id) -> FinancialYear | None:
    """The financial year chosen in a filter, else the current one (the job aids' default)."""
    if year_id:
        number = id_or_none(year_id)
        year = FinancialYear.objects.filter(pk=number).first() if number is not None else None
        if year is not None:
            return year
    return FinancialYear.current()


def offers_selected(*, offers: QuerySet[ServiceOffer], offer_ids: Sequence[str]) -> QuerySet[ServiceOffer]:
    """The offers ticked on a list screen, among ``offers`` (the screen's scoped list).

    An id that is not one of them (another organisation's offer, or no id at all) raises
    ``OfferNotFound``: as if it did not exist.
    """
    ids = set()
    for value in offer_ids:
        number = id_or_none(value)
        if number is None or str(number) != value:  # "007", " 7", a 30-digit id: no offer's id
            raise OfferNotFound("No such offer")
        ids.add(number)
    selected = offers.filter(pk__in=ids)
    if selected.count() != len(ids):
        raise OfferNotFound("No such offer")
    return selected


def offer_detail(*, user, offer_id: int) -> ServiceOffer:
    """One offer with its service's domains, groups and indicators and its transitions;
    ``OfferNotFound`` for an offer the user may not see (another organisation's looks like one
    that does not exist)."""
    offer = (
        offers_visible(user=user)
        .select_related(*_LIST_JOINS)
        .prefetch_related(
            Prefetch(
                "service__domains",
                queryset=Domain.objects.order_by("position").prefetch_related(
                    Prefetch(
                        "groups",
                        queryset=IndicatorGroup.objects.order_by("position").prefetch_related(
                            Prefetch("indicators", queryset=Indicator.objects.order_by("position"))
                        ),
                    )
                ),
            ),
            Prefetch("service__achievement_dates"),
            Prefetch("transitions", queryset=OfferTransition.objects.select_related("by").order_by("at", "id")),
        )
        .filter(pk=offer_id)
        .first()
    )
    if offer is None:
        raise OfferNotFound("No such offer")
    return offer


def _status_count(status_label: str) -> Count:
    return Count("offers", filter=Q(offers__status__in=STATUS_FILTERS[status_label]))


def offered_service_list(
    *, user, financial_year: FinancialYear | None, cluster: ProviderCluster | None = None
) -> QuerySet[QualityService]:
    """Offered Services: the services the user's ICBs have offered in the year, with how many of
    their offers are in each Status filter (one query, whatever the number of providers); with a
    cluster, only the offers to its providers are counted."""
    ids = _commissioning_ids(user)
    # One filter() call: the cluster condition is on the same offers join as the counts.
    in_cluster = {"offers__provider__clusters": cluster} if cluster is not None else {}
    services = QualityService.objects.filter(offers__commissioner_id__in=ids, **in_cluster)
    if financial_year is not None:
        services = services.filter(financial_year=financial_year)
    # filter() before annotate(): the counts are of this commissioner's offers only.
    return (
        services.annotate(
            offered_count=_status_count("Offered"),
            approved_count=_status_count("Approved"),
            rejected_count=_status_count("Rejected"),
            cancelled_count=_status_count("Cancelled"),
            offer_count=Count("offers"),
        )
        .select_related("financial_year")
        .order_by("payment_type", "name")
    )


def offered_service(*, user, service_id: int) -> QualityService:
    """A service the user's ICBs have offered (``NotFound`` otherwise)."""
    service = (
        QualityService.objects.filter(pk=service_id)
        .filter(Exists(offers_commissioned(user=user).filter(service=OuterRef("pk"))))
        .select_related("financial_year")
        .first()
    )
    if service is None:
        raise NotFound("No such offered service")
    return service


# Offered Services' Sort by: the label shown, and the order it means.
PROVIDER_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("Service Provider name", ("provider__name", "pk")),
    "ods": ("ODS code", ("provider__ods_code", "pk")),
    "pcn": ("PCN", ("provider__pcn__name", "provider__name", "pk")),
    "updated": ("Last updated (newest first)", ("-updated_at", "provider__name", "pk")),
}


def provider_search(queryset: QuerySet, *, query: str, prefix: str = "") -> QuerySet:
    """Narrow ``queryset`` to providers whose name or ODS code contains ``query`` (any case)."""
    query = " ".join((query or "").split())
    if not query:
        return queryset
    return queryset.filter(Q(**{f"{prefix}name__icontains": query}) | Q(**{f"{prefix}ods_code__icontains": query}))


def offered_service_providers(
    *,
    user,
    service: QualityService,
    status: str,
    cluster: ProviderCluster | None = None,
    query: str = "",
    sort: str = "name",
) -> QuerySet[ServiceOffer]:
    """The providers of an offered service in a Status filter (Cancelled includes Withdrawn),
    optionally within a cluster and matching a search (name or ODS code), in a Sort by order."""
    offers = offers_commissioned(user=user).filter(service=service, status__in=STATUS_FILTERS[status])
    if cluster is not None:
        offers = offers.filter(provider__clusters=cluster)
    offers = provider_search(offers, query=query, prefix="provider__")
    order = PROVIDER_SORTS.get(sort, PROVIDER_SORTS["name"])[1]
    return offers.select_related(*_LIST_JOINS).order_by(*order)


def my_service_list(*, user, financial_year: FinancialYear | None, status: str) -> QuerySet[ServiceOffer]:
    """My Services: the offers made to the user's providers in the year, in a Quality Service
    Status (Offered, Approved, Rejected)."""
    offers = offers_received(user=user).filter(status__in=STATUS_FILTERS[status])
    if financial_year is not None:
        offers = offers.filter(service__financial_year=financial_year)
    return offers.select_related(*_LIST_JOINS).order_by("service__payment_type", "service__name", "provider__name")


# Create Offers ------------------------------------------------------------------------------


def offerable_service_list() -> QuerySet[QualityService]:
    return QualityService.objects.select_related("financial_year").order_by(
        "-financial_year__start_date", "payment_type", "name"
    )


def offerable_provider_list(
    *,
    user,
    service: QualityService,
    pcn_id: int | None = None,
    sub_icb_id: int | None = None,
    cluster_id: int | None = None,
) -> QuerySet[Organisation]:
    """Practices the user's ICBs commission that may be offered ``service`` and do not have it
    Offered or Approved already, optionally within one PCN, sub-ICB location or cluster."""
    practices = Organisation.objects.filter(
        kind=OrganisationKind.PRACTICE, commissioner_id__in=_commissioning_ids(user)
    ).exclude(
        Exists(
            ServiceOffer.objects.filter(
                provider=OuterRef("pk"),
                service=service,
                status__in=[OfferStatus.OFFERED, OfferStatus.APPROVED],
            )
        )
    )
    if service.provider_level == ProviderLevel.PCN:
        practices = practices.filter(pcn__isnull=False)
    if pcn_id:
        practices = practices.filter(pcn_id=pcn_id)
    if sub_icb_id:
        practices = practices.filter(parent_id=sub_icb_id)
    if cluster_id:
        practices = practices.filter(clusters=cluster_id)
    return practices.select_related("pcn", "parent").order_by("name")


def chosen_provider_list(*, user, provider_ids: Sequence[int]) -> QuerySet[Organisation]:
    """The providers chosen in Create Offers that the user's ICBs commission (an id of another
    ICB's organisation, put in the session by hand, is left out)."""
    return Organisation.objects.filter(
        pk__in=provider_ids, commissioner_id__in=_commissioning_ids(user)
    ).select_related("pcn", "parent")


def commissioned_pcn_list(*, user) -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.PCN, commissioner_id__in=_commissioning_ids(user))


def sub_icb_list(*, user) -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.SUB_ICB, parent_id__in=_commissioning_ids(user))


# Service Provider Clusters ------------------------------------------------------------------


def cluster_list(*, user) -> QuerySet[ProviderCluster]:
    """The clusters of the ICBs where the user holds Commissioning Management, with how many
    providers each has (one query)."""
    return (
        ProviderCluster.objects.filter(commissioner_id__in=_commissioning_ids(user))
        .select_related("commissioner")
        .annotate(provider_count=Count("providers"))
        .order_by("name", "pk")
    )


def cluster_get(*, user, cluster_id: int) -> ProviderCluster:
    """A cluster of an ICB where the user holds Commissioning Management (``NotFound`` otherwise)."""
    cluster = (
        ProviderCluster.objects.filter(pk=cluster_id, commissioner_id__in=_commissioning_ids(user))
        .select_related("commissioner")
        .first()
    )
    if cluster is None:
        raise NotFound("No such cluster")
    return cluster


def cluster_member_list(*, cluster: ProviderCluster, query: str = "") -> QuerySet[Organisation]:
    """The cluster's providers, by name, with their PCN."""
    members = provider_search(cluster.providers.all(), query=query)
    return members.select_related("pcn").order_by("name", "pk")


def cluster_candidate_list(*, cluster: ProviderCluster, query: str = "") -> QuerySet[Organisation]:
    """The practices and PCNs the cluster's commissioner commissions that are not in it yet,
    matching a search (name or ODS code)."""
    candidates = (
        Organisation.objects.providers()
        .filter(commissioner_id=cluster.commissioner_id)
        .exclude(clusters=cluster)
    )
    return provider_search(candidates, query=query).select_related("pcn").order_by("name", "pk")


def cluster_choice_list(*, user) -> QuerySet[ProviderCluster]:
    """The Cluster filter's choices (Create Offers, Offered Services)."""
    return ProviderCluster.objects.filter(commissioner_id__in=_commissioning_ids(user)).order_by("name", "pk")
