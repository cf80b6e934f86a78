"""The aspiration use cases (issue 13, ADR 0022): one function each, atomic, transitions recorded
through ``accounts.transitions``.

- ``aspirations_prepare``: the aspiration of every provider the ICB has an approved offer of the
  service with, from the provider's year-end payment in the service the definition names (created,
  or refreshed while awaiting approval and not agreed on points);
- ``aspiration_agree_points``: the commissioner agrees aspiration points with a provider (or clears
  them), which sends an approved-but-not-paid aspiration back for approval;
- ``aspirations_approve`` / ``aspirations_finance_approve``: Approval then Finance Management, in
  bulk, all or nothing, maker-checker.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts import permissions, transitions
from accounts.actors import is_system
from accounts.models import ListSize, Organisation
from declarations.engine import (
    EngineInputError,
    aspiration_instalments,
    aspiration_total,
    aspiration_total_from_points,
)
from declarations.errors import (
    DeclarationInvalid,
    DeclarationNotFound,
    DeclarationPermissionError,
    DeclarationStateError,
)
from declarations.models import Aspiration, AspirationStatus, AspirationTransition, Calculation
from participation.models import AchievementDate, OfferStatus, QualityService, ServiceOffer

from . import rules

PREPARED_NOTE = "Calculated from the year-end achievement payment of {source}."
AGREED_NOTE = "Aspiration points agreed with the Service Provider: {points}."
CLEARED_NOTE = "Agreed aspiration points cleared: the aspiration is calculated from last year's payment."


def _label(aspiration: Aspiration) -> str:
    return f"{aspiration.provider.name}, {aspiration.service.name}"


ASPIRATIONS = transitions.Machine(
    rows=lambda: Aspiration.objects.select_related("provider__commissioner", "service"),
    may_see=lambda user, aspiration: permissions.can_see_organisation(user, aspiration.provider),
    nothing_selected=lambda: DeclarationInvalid("Select at least one aspiration payment."),
    not_found=lambda: DeclarationNotFound("The selected aspiration payment could not be found."),
    record_model=AspirationTransition,
    subject="aspiration",
    audit_name="aspiration",
    audit_organisation=lambda aspiration: aspiration.provider,
    audit_detail=lambda aspiration: {"service": aspiration.service.code, "provider": aspiration.provider.ods_code},
    label=_label,
    records_amount=True,
)

_STATE_MESSAGES = {
    ("approve", AspirationStatus.AWAITING_FINANCE): "This aspiration payment has already been approved.",
    ("approve", AspirationStatus.APPROVED): "This aspiration payment has already been financially approved.",
    ("finance_approve", AspirationStatus.AWAITING_APPROVAL): (
        "This aspiration payment is Awaiting Commissioning Organisation Approval: it must be approved before "
        "finance approval."
    ),
    ("finance_approve", AspirationStatus.APPROVED): "This aspiration payment has already been financially approved.",
    ("agree_points", AspirationStatus.APPROVED): (
        "This aspiration payment has been financially approved: its points can no longer change."
    ),
}


def _action(transition: str, done: str, refused) -> transitions.Action:
    return transitions.Action(
        transition=transition,
        done=done,
        refused=refused,
        not_allowed=DeclarationPermissionError,
        conflict=lambda aspiration: DeclarationStateError(
            _STATE_MESSAGES.get(
                (transition, aspiration.status),
                f"This aspiration payment is {aspiration.get_status_display()}.",
            )
        ),
    )


_APPROVE = _action("approve", "approved", rules.approve_refused_reason)
_FINANCE_APPROVE = _action("finance_approve", "finance_approved", rules.finance_approve_refused_reason)
_AGREE_POINTS = _action("agree_points", "points_agreed", rules.agree_points_refused_reason)


def _year_end(service_code: str) -> AchievementDate | None:
    return (
        AchievementDate.objects.select_related("service")
        .filter(service__code=service_code, is_payment_date=True)
        .order_by("-date")
        .first()
    )


def _list_size(*, provider_id: int, service: QualityService) -> int:
    """The provider's latest list size on or before the end of the service's year (0: none)."""
    return (
        ListSize.objects.filter(organisation_id=provider_id, date__lte=service.financial_year.end_date)
        .order_by("-date")
        .values_list("size", flat=True)
        .first()
    ) or 0


def _amounts(total: Decimal) -> dict:
    instalments = aspiration_instalments(total)
    return {"total": total, "monthly": instalments[0], "last_month": instalments[-1]}


def _from_previous(*, service: QualityService, previous_payment: Decimal | None, previous_value_per_point) -> dict:
    if previous_payment is None or previous_value_per_point is None:
        return _amounts(Decimal("0.00"))
    return _amounts(
        aspiration_total(
            percent=service.aspiration_percent,
            previous_payment=previous_payment,
            value_per_point=service.value_per_point,
            previous_value_per_point=previous_value_per_point,
        )
    )


@transaction.atomic
def aspirations_prepare(*, service: QualityService, commissioner: Organisation) -> list[Aspiration]:
    """The aspiration of each provider ``commissioner`` has an approved offer of ``service`` with:
    created when missing; refreshed from last year's payment while it awaits approval and has no
    agreed points.  Approved aspirations never change here.  A fixed number of queries."""
    if service.aspiration_percent is None:
        raise DeclarationInvalid(f"{service.name} has no aspiration payments.")
    provider_ids = set(
        ServiceOffer.objects.filter(
            service=service, commissioner=commissioner, status=OfferStatus.APPROVED
        ).values_list("provider_id", flat=True)
    )
    year_end = _year_end(service.aspiration_from)
    previous: dict[int, Decimal] = {}
    if year_end is not None and provider_ids:
        previous = dict(
            Calculation.objects.filter(achievement_date=year_end, provider_id__in=provider_ids).values_list(
                "provider_id", "total_amount"
            )
        )
    previous_value = year_end.service.value_per_point if year_end is not None else None
    existing = {
        a.provider_id: a
        for a in Aspiration.objects.select_for_update().filter(service=service, provider_id__in=provider_ids)
    }
    now = timezone.now()
    created, refreshed = [], []
    for provider_id in sorted(provider_ids):
        amounts = _from_previous(
            service=service, previous_payment=previous.get(provider_id), previous_value_per_point=previous_value
        )
        aspiration = existing.get(provider_id)
        if aspiration is None:
            created.append(
                Aspiration(
                    provider_id=provider_id, service=service, percent=service.aspiration_percent,
                    previous_payment=previous.get(provider_id), created_at=now, updated_at=now, **amounts,
                )
            )
        elif aspiration.status == AspirationStatus.AWAITING_APPROVAL and aspiration.agreed_points is None:
            aspiration.previous_payment = previous.get(provider_id)
            aspiration.percent = service.aspiration_percent
            for name, value in amounts.items():
                setattr(aspiration, name, value)
            aspiration.updated_at = now
            refreshed.append(aspiration)
    Aspiration.objects.bulk_create(created, batch_size=1000)
    Aspiration.objects.bulk_update(
        refreshed, ["previous_payment", "percent", "total", "monthly", "last_month", "updated_at"], batch_size=1000
    )
    created_rows = list(Aspiration.objects.filter(service=service, provider_id__in=[a.provider_id for a in created]))
    source = service.aspiration_from
    AspirationTransition.objects.bulk_create(
        [
            AspirationTransition(
                aspiration=a, from_status="", to_status=a.status, at=now,
                note=PREPARED_NOTE.format(source=source), amount=a.total,
            )
            for a in created_rows
        ],
        batch_size=1000,
    )
    return list(Aspiration.objects.filter(service=service, provider_id__in=provider_ids).select_related("provider"))


@transaction.atomic
def aspiration_agree_points(*, aspiration_id: int, user, points: Decimal | None) -> Aspiration:
    """The commissioner's Approval Management agrees aspiration ``points`` with the provider (None:
    clears them): the total becomes percent x points x this year's £/point x CPI, and the
    aspiration awaits approval again.  Refused once financially approved."""
    aspiration = ASPIRATIONS.lock([aspiration_id], actor=user)[0]
    transitions.check([aspiration], actor=user, action=_AGREE_POINTS, machine=ASPIRATIONS)
    service = aspiration.service
    if points is None:
        year_end = _year_end(service.aspiration_from)
        amounts = _from_previous(
            service=service, previous_payment=aspiration.previous_payment,
            previous_value_per_point=year_end.service.value_per_point if year_end else None,
        )
        note = CLEARED_NOTE
    else:
        list_size = _list_size(provider_id=aspiration.provider_id, service=service)
        if not list_size:
            raise DeclarationInvalid(
                "No registered list size is known for this Service Provider, so points cannot be agreed yet."
            )
        try:
            total = aspiration_total_from_points(
                percent=aspiration.percent, points=points, value_per_point=service.value_per_point,
                list_size=list_size, average_list_size=service.average_list_size,
            )
        except EngineInputError as error:
            raise DeclarationInvalid(f"Points: {error}") from None
        amounts = _amounts(total)
        note = AGREED_NOTE.format(points=f"{points:.2f}")
    steps = transitions.apply(
        [aspiration], actor=user, action=_AGREE_POINTS, note=note,
        arguments=lambda row: {"points": points, **amounts}, amount=lambda row: row.total,
    )
    transitions.record(
        steps, machine=ASPIRATIONS, done=_AGREE_POINTS.done,
        fields=("agreed_points", "total", "monthly", "last_month", "approved_by", "approved_at"),
    )
    return aspiration


def _approve(*, aspiration_ids: Sequence[int], actor, action: transitions.Action, note: str) -> list[Aspiration]:
    now = timezone.now()
    by = transitions.actor_user(actor)
    return transitions.run(
        machine=ASPIRATIONS, action=action, ids=aspiration_ids, actor=actor,
        note=note or (f"By {actor.name}." if is_system(actor) else ""),
        arguments=lambda row: {"by": by, "at": now}, amount=lambda row: row.total,
        same={
            "status": AspirationStatus.AWAITING_FINANCE if action is _APPROVE else AspirationStatus.APPROVED,
            **({"approved_by": by, "approved_at": now} if action is _APPROVE else {}),
            **({"finance_approved_by": by, "finance_approved_at": now} if action is _FINANCE_APPROVE else {}),
        },
        now=now,
    )


@transaction.atomic
def aspirations_approve(*, aspiration_ids: Sequence[int], user, note: str = "") -> list[Aspiration]:
    """Approval Management approves the selected aspirations (Awaiting Commissioning Organisation
    Approval -> Awaiting Finance Approval).  All or nothing."""
    return _approve(aspiration_ids=aspiration_ids, actor=user, action=_APPROVE, note=note)


@transaction.atomic
def aspirations_finance_approve(*, aspiration_ids: Sequence[int], user, note: str = "") -> list[Aspiration]:
    """Finance Management approves the selected aspirations (-> Financially Approved): their
    instalments are paid.  Never by the person who approved them.  All or nothing."""
    return _approve(aspiration_ids=aspiration_ids, actor=user, action=_FINANCE_APPROVE, note=note)
