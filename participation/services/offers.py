"""The offer use cases of Participation Management: create, then accept, reject, withdraw, cancel.

Every use case is one ``atomic()`` function.  The transitions go through ``accounts.transitions``
(lock the offer rows in id order, check the actor's role through the rules, check the FSM says
the transition is legal, transition, record who/when/from/to/note, audit, and put the messages
in the other side's Message Centre, whose emails go after the commit), so a refused request
changes nothing at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import rules
from django.db import transaction
from django.urls import reverse

from accounts import permissions, transitions
from accounts.actors import SystemActor, is_system
from accounts.models import Organisation, OrganisationKind, Role
from accounts.services import message_send, task_close
from accounts.transitions import actor_user, audit
from participation.errors import OfferInvalid, OfferNotFound, OfferPermissionError, OfferStateError
from participation.models import OfferStatus, OfferTransition, ProviderLevel, QualityService, ServiceOffer

# --------------------------------------------------------------------------------------------
# Create
# --------------------------------------------------------------------------------------------

NCD_AUTOMATIC_NOTE = "The Network Contract DES is offered and accepted automatically for every practice in a PCN."


def offer_detail_url(offer: ServiceOffer) -> str:
    return reverse("participation:offer_detail", args=[offer.pk])


def offer_task_key(offer: ServiceOffer | int) -> str:
    return f"offer:{offer if isinstance(offer, int) else offer.pk}"


def provider_is_eligible(*, service: QualityService, provider: Organisation) -> bool:
    """Practice-level services go to practices; the Network Contract DES to every practice in a PCN."""
    if provider.kind != OrganisationKind.PRACTICE or provider.commissioner_id is None:
        return False
    return service.provider_level != ProviderLevel.PCN or provider.pcn_id is not None


def _check_dates(*, service: QualityService, dates: dict[str, dt.date | None]) -> None:
    year = service.financial_year
    problems = [
        f"The {label} must be within the financial year {year.label} "
        f"({year.start_date:%d/%m/%Y} to {year.end_date:%d/%m/%Y})."
        for label, value in dates.items()
        if value is not None and not (year.start_date <= value <= year.end_date)
    ]
    start, end = dates.get("service start date"), dates.get("service end date")
    if start and end and end < start:
        problems.append("The service end date must be on or after the service start date.")
    if problems:
        raise OfferInvalid(" ".join(problems))


@dataclass(frozen=True)
class OfferCreateResult:
    offers: list[ServiceOffer]  # created
    skipped: list[Organisation]  # already had a live (Offered or Approved) offer of the service


@transaction.atomic
def offer_create(
    *,
    user,
    service: QualityService,
    providers: Iterable[Organisation],
    start_date: dt.date,
    end_date: dt.date,
    response_date: dt.date | None = None,
    target_date: dt.date | None = None,
) -> OfferCreateResult:
    """Offer ``service`` to ``providers`` (Participation Management -> Create Offers).

    The user needs Commissioning Management at the ICB that commissions every provider; the
    dates lie within the service's financial year.  Each provider's Service Management holders
    get a task with a Task Summary link to the offer.  A provider that already has the service
    Offered or Approved is skipped (and reported).  The Network Contract DES is accepted
    automatically on the practices' behalf, so they get a message instead of a task.
    """
    provider_ids = sorted({p.pk for p in providers})
    if not provider_ids:
        raise OfferInvalid("Select at least one Service Provider.")
    _check_dates(
        service=service,
        dates={
            "service start date": start_date,
            "service end date": end_date,
            "response date": response_date,
            "target date": target_date,
        },
    )
    # Locking the providers serialises two offers of the same service to the same provider.
    locked = list(
        Organisation.objects.select_for_update(of=("self",))
        .filter(pk__in=provider_ids)
        .select_related("commissioner")
        .order_by("pk")
    )
    if len(locked) != len(provider_ids):
        raise OfferInvalid("One of the selected Service Providers does not exist.")
    # Authorised first, for every provider: a refusal must not name or describe an organisation
    # of another ICB.
    if not is_system(user) and any(
        not permissions.has_role_in(user, provider.commissioner_id, {Role.COMMISSIONING_MANAGEMENT})
        for provider in locked
    ):
        raise OfferPermissionError(
            "You need the Commissioning Management role at the commissioner of every selected "
            "Service Provider to offer it a service."
        )
    for provider in locked:
        if not provider_is_eligible(service=service, provider=provider):
            raise OfferInvalid(f"{service.name} cannot be offered to {provider}.")

    live = set(
        ServiceOffer.objects.filter(
            service=service, provider_id__in=provider_ids, status__in=[OfferStatus.OFFERED, OfferStatus.APPROVED]
        ).values_list("provider_id", flat=True)
    )
    skipped = [p for p in locked if p.pk in live]
    to_offer = [p for p in locked if p.pk not in live]
    by = actor_user(user)
    offers = ServiceOffer.objects.bulk_create(
        [
            ServiceOffer(
                service=service,
                provider=provider,
                commissioner=provider.commissioner,
                start_date=start_date,
                end_date=end_date,
                response_date=response_date,
                target_date=target_date,
                created_by=by,
            )
            for provider in to_offer
        ]
    )
    note = f"Offered by {user.name}" if is_system(user) else ""
    OfferTransition.objects.bulk_create(
        [OfferTransition(offer=o, from_status="", to_status=OfferStatus.OFFERED, by=by, note=note) for o in offers]
    )
    automatic = service.provider_level == ProviderLevel.PCN
    for offer in offers:
        audit(
            actor=user,
            action="offer_created",
            organisation=offer.commissioner,
            obj=offer,
            detail={"service": service.code, "provider": offer.provider.ods_code},
        )
        if automatic:
            # Accepted on the practices' behalf: recorded and audited, the message below says so.
            ncd = SystemActor("Network Contract DES")
            steps = transitions.apply([offer], actor=ncd, action=_ACCEPT, note=NCD_AUTOMATIC_NOTE)
            transitions.record(steps, machine=_OFFERS, done=_ACCEPT.done, organisation=_ACCEPT.organisation)
            message_send(
                organisation=offer.provider,
                role=Role.SERVICE_MANAGEMENT,
                subject=f"{service.name} has been offered and accepted on your behalf",
                body=(
                    f"{offer.commissioner.name} has offered {service.label} to {offer.provider.name} "
                    f"from {start_date:%d/%m/%Y} to {end_date:%d/%m/%Y}. {NCD_AUTOMATIC_NOTE}"
                ),
                link=offer_detail_url(offer),
            )
        else:
            respond_by = f" Please respond by {response_date:%d/%m/%Y}." if response_date else ""
            message_send(
                organisation=offer.provider,
                role=Role.SERVICE_MANAGEMENT,
                subject=f"New Quality Service offer: {service.name}",
                body=(
                    f"{offer.commissioner.name} has offered {service.label} to {offer.provider.name} "
                    f"from {start_date:%d/%m/%Y} to {end_date:%d/%m/%Y}.{respond_by} "
                    "View the details of the offer, then accept or reject it from My Services."
                ),
                link=offer_detail_url(offer),
                is_task=True,
                task_key=offer_task_key(offer),
            )
    return OfferCreateResult(offers=offers, skipped=skipped)


# --------------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------------

_RESPOND, _MANAGE = "participation.respond_to_offer", "participation.manage_offer"

_OFFERS = transitions.Machine(
    rows=lambda: ServiceOffer.objects.select_related("service", "provider", "commissioner"),
    may_see=lambda user, offer: rules.has_perm("participation.view_offer", user, offer),
    nothing_selected=lambda: OfferInvalid("Select at least one Quality Service offer."),
    not_found=lambda: OfferNotFound("The selected Quality Service offer could not be found."),
    record_model=OfferTransition,
    subject="offer",
    audit_name="offer",
    audit_organisation=lambda offer: offer.commissioner,
    audit_detail=lambda offer: {"service": offer.service.code, "provider": offer.provider.ods_code},
    label=lambda offer: f"{offer.provider.name}, {offer.service.name}",
)


def _already(offer: ServiceOffer) -> OfferStateError:
    return OfferStateError(f"This offer has already been {offer.get_status_display().lower()}.")


def _cancel_conflict(offer: ServiceOffer) -> OfferStateError:
    if offer.status == OfferStatus.OFFERED:
        return OfferStateError(
            "Only Approved or Rejected services can be cancelled. "
            "Services which have been Offered cannot be cancelled but may be Withdrawn."
        )
    return _already(offer)


def _action(transition: str, done: str, perm: str, refused: str, conflict=_already) -> transitions.Action:
    return transitions.Action(
        transition=transition,
        done=done,
        refused=lambda user, offer: None if rules.has_perm(perm, user, offer) else refused,
        not_allowed=OfferPermissionError,
        conflict=conflict,
        # The provider's answer goes to the provider's audit log, the commissioner's to its own.
        organisation=(lambda offer: offer.provider) if perm == _RESPOND else None,
    )


_ACCEPT = _action(
    "accept", "accepted", _RESPOND, "Only the Service Provider's Service Management users can accept this offer."
)
_REJECT = _action(
    "reject", "rejected", _RESPOND, "Only the Service Provider's Service Management users can reject this offer."
)
_WITHDRAW = _action(
    "withdraw", "withdrawn", _MANAGE,
    "Only the Commissioning Organisation's Commissioning Management users can withdraw this offer.",
)
_CANCEL = _action(
    "cancel", "cancelled", _MANAGE,
    "Only the Commissioning Organisation's Commissioning Management users can cancel this offer.",
    conflict=_cancel_conflict,
)


def _system_note(actor, action: transitions.Action) -> str:
    """What a scripted actor's transition says of itself."""
    behalf = " on the provider's behalf" if action in (_ACCEPT, _REJECT) else ""
    return f"{action.done.capitalize()}{behalf} by {actor.name}."


def _offers_transition(
    *, offer_ids: Sequence[int], actor, action: transitions.Action, note: str = ""
) -> list[ServiceOffer]:
    if is_system(actor) and not note:
        note = _system_note(actor, action)
    return transitions.run(
        machine=_OFFERS,
        action=action,
        ids=offer_ids,
        actor=actor,
        note=note,
        notify=lambda offer: _notify(offer=offer, action=action),
    )


def _notify(*, offer: ServiceOffer, action: transitions.Action) -> None:
    """Reject, withdraw and cancel message the other side; accept notifies no one (job aid)."""
    service, provider, commissioner = offer.service, offer.provider, offer.commissioner
    if action is not _CANCEL:
        # The provider's task asked for an answer; none is possible any more.
        task_close(task_key=offer_task_key(offer))
    if action is _REJECT:
        message_send(
            organisation=commissioner,
            role=Role.COMMISSIONING_MANAGEMENT,
            subject=f"{provider.name} has rejected {service.name}",
            body=f"{provider.name} ({provider.ods_code}) has rejected your offer of {service.label}.",
            link=offer_detail_url(offer),
        )
    elif action in (_WITHDRAW, _CANCEL):
        message_send(
            organisation=provider,
            role=Role.SERVICE_MANAGEMENT,
            subject=f"{service.name} has been {action.done}",
            body=f"{commissioner.name} has {action.done} the Quality Service {service.label} for {provider.name}.",
            link=offer_detail_url(offer),
        )


@transaction.atomic
def offers_accept(*, offer_ids: Sequence[int], user, note: str = "") -> list[ServiceOffer]:
    """The provider's Service Management accepts Offered offers: they move to Approved.  No one is
    notified (job aid); the offer tasks close.  All or nothing."""
    return _offers_transition(offer_ids=offer_ids, actor=user, action=_ACCEPT, note=note)


@transaction.atomic
def offers_reject(*, offer_ids: Sequence[int], user, note: str = "") -> list[ServiceOffer]:
    """The provider's Service Management rejects Offered offers; the commissioner's Commissioning
    Management gets a message; the offer tasks close.  All or nothing."""
    return _offers_transition(offer_ids=offer_ids, actor=user, action=_REJECT, note=note)


@transaction.atomic
def offers_withdraw(*, offer_ids: Sequence[int], user, note: str = "") -> list[ServiceOffer]:
    """The commissioner's Commissioning Management withdraws Offered offers (listed under
    Cancelled); the providers get a message.  All or nothing."""
    return _offers_transition(offer_ids=offer_ids, actor=user, action=_WITHDRAW, note=note)


@transaction.atomic
def offers_cancel(*, offer_ids: Sequence[int], user, note: str = "") -> list[ServiceOffer]:
    """The commissioner's Commissioning Management cancels Approved or Rejected offers (Offered
    ones may only be withdrawn); the providers get a message.  All or nothing."""
    return _offers_transition(offer_ids=offer_ids, actor=user, action=_CANCEL, note=note)


def offer_accept(*, offer_id: int, user, note: str = "") -> ServiceOffer:
    """Accept one offer: see ``offers_accept``."""
    return offers_accept(offer_ids=[offer_id], user=user, note=note)[0]


def offer_reject(*, offer_id: int, user, note: str = "") -> ServiceOffer:
    """Reject one offer: see ``offers_reject``."""
    return offers_reject(offer_ids=[offer_id], user=user, note=note)[0]


def offer_withdraw(*, offer_id: int, user, note: str = "") -> ServiceOffer:
    """Withdraw one offer: see ``offers_withdraw``."""
    return offers_withdraw(offer_ids=[offer_id], user=user, note=note)[0]


def offer_cancel(*, offer_id: int, user, note: str = "") -> ServiceOffer:
    """Cancel one offer: see ``offers_cancel``."""
    return offers_cancel(offer_ids=[offer_id], user=user, note=note)[0]
