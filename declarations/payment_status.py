"""Where an achievement's payment stands: whether the declaration of the payment its data feed is
declared or financially approved (what makes Data Submission read-only), and the row lock a
change of the data takes on that declaration first.
"""

from __future__ import annotations

from django.db.models import Case, F, QuerySet, Subquery, When

from accounts.models import OrganisationKind
from achievement.models import Achievement
from participation.models import ProviderLevel

from .models import DECLARED_STATUSES, Declaration, DeclarationStatus


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
