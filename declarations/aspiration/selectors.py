"""Reads of aspiration payments, every one scoped before it is filtered (issue 13)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from accounts import permissions
from accounts.errors import NotFound
from accounts.models import Organisation, OrganisationKind
from declarations.models import Aspiration, AspirationStatus, Calculation
from declarations.rules import MANAGEMENT_ROLES, RESULTS_ROLES
from participation.models import AchievementDate, QualityService

from .schedule import due_dates, paid_by

SUMMARY_COLUMNS = ("QUALITY_SERVICE", "ORG_CODE", "ACH_DATE", "ACHIEVEMENT_PAYMENT", "ASPIRATION_PAID", "BALANCE")
ASPIRATION_COLUMNS = ("QUALITY_SERVICE", "ORG_CODE", "ASPIRATION_TOTAL", "MONTHLY", "LAST_MONTH")


def _two_places(value: Decimal) -> str:
    return f"{value:.2f}"


def aspiration_services() -> QuerySet[QualityService]:
    """The services that pay aspiration (their definition has ``aspiration``)."""
    return QualityService.objects.filter(aspiration_percent__isnull=False).select_related("financial_year")


def aspiration_management_list(
    *, user, service: QualityService | None = None, status: str | None = None
) -> QuerySet[Aspiration]:
    """The aspirations of the providers the user's ICBs commission (Approval or Finance
    Management there), by service then provider name."""
    icb_ids = permissions.organisation_ids_with_role(user, MANAGEMENT_ROLES)
    rows = Aspiration.objects.filter(provider__commissioner_id__in=icb_ids)
    if service is not None:
        rows = rows.filter(service=service)
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("provider", "service__financial_year").order_by("service__code", "provider__name", "pk")


def aspiration_get(*, user, aspiration_id: int) -> Aspiration:
    """One aspiration the user may see (its provider's or its commissioner's); else 404."""
    aspiration = (
        Aspiration.objects.select_related("provider__commissioner", "service__financial_year")
        .filter(pk=aspiration_id)
        .first()
    )
    if aspiration is None or not permissions.can_see_organisation(user, aspiration.provider):
        raise NotFound("The aspiration payment could not be found.")
    return aspiration


def provider_aspirations(*, user) -> QuerySet[Aspiration]:
    """The aspirations of the providers in which the user holds a results role (the provider's
    Aspiration Payments under Achievement)."""
    own = permissions.organisation_ids_with_role(user, RESULTS_ROLES)
    providers = Organisation.objects.filter(
        pk__in=own, kind__in=[OrganisationKind.PRACTICE, OrganisationKind.PCN]
    ).values("pk")
    return (
        Aspiration.objects.filter(provider_id__in=providers)
        .select_related("provider", "service__financial_year")
        .order_by("-service__financial_year__start_date", "service__code", "provider__name")
    )


@dataclass(frozen=True)
class ScheduleMonth:
    due: dt.date
    approved: Decimal  # financially approved instalments due that month (paid)
    pending: Decimal  # instalments of aspirations still awaiting approval
    providers: int


def monthly_schedule(*, aspirations: QuerySet[Aspiration], service: QualityService) -> list[ScheduleMonth]:
    """The ICB's (or a provider's) monthly aspiration schedule for ``service``: per month, what the
    financially approved aspirations pay and what those awaiting approval would.  One query."""
    figures = aspirations.filter(service=service).aggregate(
        approved_monthly=Sum("monthly", filter=Q(status=AspirationStatus.APPROVED), default=Decimal(0)),
        approved_last=Sum("last_month", filter=Q(status=AspirationStatus.APPROVED), default=Decimal(0)),
        pending_monthly=Sum("monthly", filter=~Q(status=AspirationStatus.APPROVED), default=Decimal(0)),
        pending_last=Sum("last_month", filter=~Q(status=AspirationStatus.APPROVED), default=Decimal(0)),
        providers=Count("pk"),
    )
    dates = due_dates(service.financial_year.start_date)
    return [
        ScheduleMonth(
            due=due,
            approved=figures["approved_last" if i == len(dates) - 1 else "approved_monthly"],
            pending=figures["pending_last" if i == len(dates) - 1 else "pending_monthly"],
            providers=figures["providers"],
        )
        for i, due in enumerate(dates)
    ]


def aspiration_paid(
    *, provider_ids: Iterable[int], service: QualityService, on: dt.date
) -> dict[int, Decimal]:
    """The aspiration paid to each provider by ``on``: the financially approved instalments due on
    or before it (all twelve at the year end).  Providers without an approved aspiration have no
    key.  One query."""
    rows = Aspiration.objects.filter(
        service=service, provider_id__in=list(provider_ids), status=AspirationStatus.APPROVED
    ).values_list("provider_id", "monthly", "last_month")
    start = service.financial_year.start_date
    return {
        provider_id: paid_by((monthly,) * 11 + (last,), year_start=start, on=on)
        for provider_id, monthly, last in rows
    }


@dataclass(frozen=True)
class Balance:
    """The achievement payment to declare: calculated, less the aspiration paid."""

    calculated: Decimal
    aspiration_paid: Decimal

    @property
    def balance(self) -> Decimal:
        return self.calculated - self.aspiration_paid

    @property
    def to_recover(self) -> bool:
        """A negative balance: money the provider is to pay back."""
        return self.balance < 0


def declaration_balances(declarations: Iterable) -> dict[int, Balance]:
    """Calculated, aspiration paid and balance of each declaration (by id), for the declarations'
    services that pay aspiration.  One query per service and date among them (a page lists one or
    a few)."""
    by_date: dict[tuple[int, int], list] = {}
    for d in declarations:
        by_date.setdefault((d.service_id, d.achievement_date_id), []).append(d)
    balances: dict[int, Balance] = {}
    for group in by_date.values():
        first = group[0]
        if first.service.aspiration_percent is None:
            continue
        paid = aspiration_paid(
            provider_ids=[d.provider_id for d in group], service=first.service, on=first.achievement_date.date
        )
        for d in group:
            balances[d.pk] = Balance(d.calculation.total_amount, paid.get(d.provider_id, Decimal("0.00")))
    return balances


def payment_summary_rows(*, achievement_date: AchievementDate) -> Iterator[dict[str, str]]:
    """``export_payments --summary``: per provider with a calculation of the date, the achievement
    payment, the aspiration paid by that date and the balance (pounds, 2 decimals), by ODS code."""
    service = achievement_date.service
    calculations = list(
        Calculation.objects.filter(achievement_date=achievement_date)
        .order_by("provider__ods_code")
        .values_list("provider_id", "provider__ods_code", "total_amount")
    )
    paid = aspiration_paid(provider_ids=[c[0] for c in calculations], service=service, on=achievement_date.date)
    ach_date = f"{achievement_date.date:%Y%m%d}"
    for provider_id, ods_code, amount in calculations:
        aspiration = paid.get(provider_id, Decimal("0.00"))
        yield {
            "QUALITY_SERVICE": service.code,
            "ORG_CODE": ods_code,
            "ACH_DATE": ach_date,
            "ACHIEVEMENT_PAYMENT": _two_places(amount),
            "ASPIRATION_PAID": _two_places(aspiration),
            "BALANCE": _two_places(amount - aspiration),
        }


def aspiration_rows(aspirations: Iterable[Aspiration]) -> Iterator[dict[str, str]]:
    """The ``aspiration`` command's rows."""
    for a in aspirations:
        yield {
            "QUALITY_SERVICE": a.service.code,
            "ORG_CODE": a.provider.ods_code,
            "ASPIRATION_TOTAL": _two_places(a.total),
            "MONTHLY": _two_places(a.monthly),
            "LAST_MONTH": _two_places(a.last_month),
        }


class PaidByDate:
    """What each provider's financially approved aspiration has paid by a date, for many rows of
    several services and dates (Declaration Management and its CSV): one query, then arithmetic.
    ``paid(provider_id, service_id, date)`` is None for a service without aspiration payments."""

    def __init__(self, *, service_ids: Iterable[int] = (), starts: dict[int, dt.date] | None = None):
        """``starts``: {service id: its year's first day} of the services that pay aspiration, when
        the caller has read them (then one query, or none when there is none); else they are read
        for ``service_ids``."""
        if starts is None:
            starts = dict(
                QualityService.objects.filter(
                    pk__in=set(service_ids), aspiration_percent__isnull=False
                ).values_list("pk", "financial_year__start_date")
            )
        self._starts = starts
        self._instalments = {
            (provider_id, service_id): (monthly,) * 11 + (last,)
            for provider_id, service_id, monthly, last in Aspiration.objects.filter(
                service_id__in=list(self._starts), status=AspirationStatus.APPROVED
            ).values_list("provider_id", "service_id", "monthly", "last_month")
        } if self._starts else {}

    def paid(self, provider_id: int, service_id: int, on: dt.date) -> Decimal | None:
        start = self._starts.get(service_id)
        if start is None:
            return None
        instalments = self._instalments.get((provider_id, service_id))
        return Decimal("0.00") if instalments is None else paid_by(instalments, year_start=start, on=on)
