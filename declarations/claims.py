"""Monthly claims (issue 16): reads and what the screens show.

A monthly service (``payment_frequency: Monthly``, item-of-service indicators) has one payment
date a month, and each month's payment is a declaration of its own.  Two screens read them:

- the provider's Achievement > Monthly Claims: one provider's claims of one service, month by
  month (the items claimed, the pounds, the declaration's status), declaring several months at
  once (``claim_months``);
- the commissioner's Approve Monthly Claims: the months of the monthly services of the ICBs where
  the user holds Approval Management, each with what awaits approval, approved a month at a time
  for the whole ICB (``claim_months_to_approve``).

Every read is scoped before it is filtered, like ``declarations.selectors`` (the lead owns that
module while the recalculation is rewritten, so these reads live here).  Each runs a fixed number
of queries whatever the number of months or providers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse

from accounts import permissions
from accounts.errors import NotFound
from accounts.formatting import money
from accounts.inputs import id_or_none
from accounts.models import Organisation
from achievement.models import Achievement, IndicatorValue
from participation.definitions.kinds import COUNT_FIELD, MONTHLY, PER_ITEM
from participation.models import AchievementDate, OfferStatus, QualityService

from . import rules, selectors
from .models import Declaration, DeclarationStatus

NOT_SUBMITTED = "Not submitted"
AWAITING_CALCULATION = "Awaiting calculation"


# --- the provider's month-by-month claims ------------------------------------------------------


def claim_providers(*, user) -> QuerySet[Organisation]:
    """The providers whose claims the user may see (those of Achievement Results)."""
    return selectors.result_providers(user=user)


def claim_provider_get(*, user, provider_id: int | None) -> Organisation | None:
    """A provider the user may see (the first when none is asked); NotFound for another one."""
    providers = claim_providers(user=user)
    if provider_id is None:
        return providers.first()
    provider = providers.filter(pk=provider_id).first()
    if provider is None:
        raise NotFound("No such Service Provider")
    return provider


def monthly_services(*, provider: Organisation | None) -> QuerySet[QualityService]:
    """The monthly services the provider takes part in: an Approved offer, or achievement."""
    if provider is None:
        return QualityService.objects.none()
    return (
        QualityService.objects.filter(payment_frequency=MONTHLY)
        .filter(
            Q(offers__provider=provider, offers__status=OfferStatus.APPROVED) | Q(achievements__provider=provider)
        )
        .distinct()
        .select_related("financial_year")
        .order_by("-financial_year__start_date", "code")
    )


@dataclass(frozen=True)
class ClaimMonth:
    """One month's claim of one provider, as the Monthly Claims table shows it."""

    date: dt.date
    month: str  # "October 2024"
    achievement_date: str  # "31/10/2024"
    count: int | None  # items claimed (the Count fields of the current submission); None: nothing submitted
    amount: str | None  # the payment: None when not calculated yet, or not shown to this user
    status: str
    status_key: str  # the declaration's status (a status tag), or "" for none yet
    declaration_id: int | None
    url: str | None
    selectable: bool  # awaiting this user's declaration
    select_label: str


@dataclass(frozen=True)
class ClaimTotals:
    count: int
    amount: str | None


def claim_months(*, user, provider: Organisation, service: QualityService) -> tuple[list[ClaimMonth], ClaimTotals]:
    """Every payment date of the service, with the provider's claim for it.  Three queries
    (dates; achievements with calculation and declaration; counts), whatever the months."""
    dates = list(AchievementDate.objects.filter(service=service, is_payment_date=True).order_by("date"))
    achievements = {
        a.achievement_date_id: a
        for a in Achievement.objects.filter(provider=provider, service=service).select_related(
            "calculation", "declaration"
        )
    }
    counts = dict(
        IndicatorValue.objects.filter(
            submission__achievement__provider=provider,
            submission__achievement__service=service,
            submission__is_current=True,
            indicator__kind=PER_ITEM,
            field_name=COUNT_FIELD,
        )
        .values("submission__achievement_id")
        .annotate(total=Sum("value"))
        .values_list("submission__achievement_id", "total")
    )
    show_money = permissions.can_see_money(user, provider)
    may_declare = rules.declare_refused_reason(user, _Probe(provider.pk)) is None
    rows: list[ClaimMonth] = []
    total_count, total_amount = 0, Decimal("0.00")
    for date in dates:
        achievement = achievements.get(date.pk)
        calculation = getattr(achievement, "calculation", None) if achievement else None
        declaration = getattr(achievement, "declaration", None) if achievement else None
        count = counts.get(achievement.pk) if achievement else None
        amount = None
        if declaration is not None and declaration.amount_declared is not None:
            amount = declaration.amount_declared
        elif calculation is not None:
            amount = calculation.total_amount
        if declaration is not None:
            status, status_key = declaration.get_status_display(), declaration.status
        elif achievement is not None and count is not None:
            status, status_key = AWAITING_CALCULATION, ""
        else:
            status, status_key = NOT_SUBMITTED, ""
        total_count += count or 0
        total_amount += amount or 0
        month = f"{date.date:%B %Y}"
        rows.append(
            ClaimMonth(
                date=date.date,
                month=month,
                achievement_date=f"{date.date:%d/%m/%Y}",
                count=count,
                amount=money(amount) if show_money and amount is not None else None,
                status=status,
                status_key=status_key,
                declaration_id=declaration.pk if declaration else None,
                url=reverse("declarations:declaration_detail", args=[declaration.pk]) if declaration else None,
                selectable=bool(
                    may_declare and declaration is not None and declaration.status == DeclarationStatus.AWAITING_PROVIDER
                ),
                select_label=f"Select {month}",
            )
        )
    return rows, ClaimTotals(count=total_count, amount=money(total_amount) if show_money else None)


@dataclass(frozen=True)
class _Probe:
    """What ``rules.declare_refused_reason`` reads of a declaration: its provider."""

    provider_id: int


# --- the commissioner's months to approve ------------------------------------------------------


@dataclass(frozen=True)
class MonthToApprove:
    achievement_date_id: int
    service: str
    month: str
    achievement_date: str
    awaiting: int  # declarations Awaiting Commissioning Organisation Approval
    awaiting_amount: str  # the amount they declare
    approved: int  # declarations approved (awaiting finance, or financially approved)
    awaiting_provider: int  # not declared yet

    @property
    def hidden_label(self) -> str:
        """What Approve Month approves, for screen readers."""
        return f"{self.month}, {self.service}"


def commissioned_monthly_declarations(*, user) -> QuerySet[Declaration]:
    """The declarations of monthly services of the providers commissioned by the ICBs where the
    user holds Approval Management."""
    icb_ids = permissions.organisation_ids_with_role(user, rules.APPROVE_ROLES)
    return Declaration.objects.filter(provider__commissioner_id__in=icb_ids, service__payment_frequency=MONTHLY)


def claim_months_to_approve(*, user) -> list[MonthToApprove]:
    """Each month of a monthly service with a declaration of the user's ICBs: how many await
    approval and their amount, how many are approved, how many await the provider.  One query."""
    approved = (DeclarationStatus.AWAITING_FINANCE, DeclarationStatus.FINANCIALLY_APPROVED)
    rows = (
        commissioned_monthly_declarations(user=user)
        .values(
            "achievement_date_id",
            "achievement_date__date",
            "service__payment_type",
            "service__payment_frequency",
            "service__name",
        )
        .annotate(
            awaiting=Count("pk", filter=Q(status=DeclarationStatus.AWAITING_COMMISSIONER)),
            awaiting_amount=Sum("amount_declared", filter=Q(status=DeclarationStatus.AWAITING_COMMISSIONER)),
            approved=Count("pk", filter=Q(status__in=approved)),
            awaiting_provider=Count("pk", filter=Q(status=DeclarationStatus.AWAITING_PROVIDER)),
        )
        .order_by("-achievement_date__date", "service__name")
    )
    return [
        MonthToApprove(
            achievement_date_id=row["achievement_date_id"],
            service=f"{row['service__payment_type']}— {row['service__payment_frequency']}—{row['service__name']}",
            month=f"{row['achievement_date__date']:%B %Y}",
            achievement_date=f"{row['achievement_date__date']:%d/%m/%Y}",
            awaiting=row["awaiting"],
            awaiting_amount=money(row["awaiting_amount"] or Decimal("0.00")),
            approved=row["approved"],
            awaiting_provider=row["awaiting_provider"],
        )
        for row in rows
    ]


def month_to_approve(*, user, achievement_date_id: int) -> tuple[str, list[int]]:
    """One month of a monthly service ("October 2024") and its declarations awaiting the approval
    of the user's ICBs.  NotFound when the month has no declaration of the user's ICBs."""
    if id_or_none(achievement_date_id) is None:  # an id no row can have (a 30-digit number)
        raise NotFound("No such month")
    rows = list(
        commissioned_monthly_declarations(user=user)
        .filter(achievement_date_id=achievement_date_id)
        .order_by("pk")
        .values_list("pk", "status", "achievement_date__date")
    )
    if not rows:
        raise NotFound("No such month")
    return f"{rows[0][2]:%B %Y}", [pk for pk, status, _ in rows if status == DeclarationStatus.AWAITING_COMMISSIONER]


# --- Declaration Management's Month filter -----------------------------------------------------


def declaration_management_months(*, user) -> list[tuple[str, str]]:
    """The Month filter's choices on Declaration Management: ("2024-10", "October 2024") for each
    month with a declaration of a monthly service the user manages (Approval or Finance
    Management at the provider's ICB), newest first.  One query."""
    icb_ids = permissions.organisation_ids_with_role(user, rules.MANAGEMENT_ROLES)
    dates = (
        Declaration.objects.filter(provider__commissioner_id__in=icb_ids, service__payment_frequency=MONTHLY)
        .order_by("-achievement_date__date")
        .values_list("achievement_date__date", flat=True)
        .distinct()
    )
    months: dict[str, str] = {}
    for date in dates:
        months.setdefault(f"{date:%Y-%m}", f"{date:%B %Y}")
    return list(months.items())


def in_month(declarations: QuerySet[Declaration], month: str | None) -> QuerySet[Declaration]:
    """The declarations whose achievement date falls in ``month`` ("2024-10", one of
    ``declaration_management_months``); all of them when no month is chosen."""
    if not month:
        return declarations
    year, number = (int(part) for part in month.split("-"))
    return declarations.filter(achievement_date__date__year=year, achievement_date__date__month=number)
