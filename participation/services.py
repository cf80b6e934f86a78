"""Writes of Participation Management: the catalogue loader and the offer use cases.

Every offer use case is one ``atomic()`` function: lock the offer rows, check the actor's role
through the rules (one permission layer), check the FSM says the transition is legal, transition,
save, record the transition (who, when, from, to, note) and the audit event, and put the
messages in the other side's Message Centre (the email goes after commit, see
``accounts.services.message_send``), so a refused request changes nothing at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import rules
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from accounts import permissions
from accounts.actors import SystemActor, is_system, lock_in_id_order
from accounts.models import Organisation, OrganisationKind, Role
from accounts.services import audit_record, message_send, task_close

from .definitions import ServiceDef
from .errors import OfferInvalid, OfferNotFound, OfferPermissionError, OfferStateError, ServiceLoadRefused
from .models import (
    AchievementDate,
    Domain,
    FinancialYear,
    Indicator,
    IndicatorGroup,
    OfferStatus,
    OfferTransition,
    ProviderLevel,
    QualityService,
    ServiceOffer,
)

# --------------------------------------------------------------------------------------------
# The Quality Service catalogue
# --------------------------------------------------------------------------------------------


def _json_safe(value):
    return json.loads(json.dumps(value, default=str))


def definition_hash(definition: ServiceDef) -> str:
    """A stable fingerprint of a parsed definition (YAML comments and layout do not count)."""
    canonical = json.dumps(dataclasses.asdict(definition), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def quality_service_load(*, definition: ServiceDef, source: dict) -> QualityService:
    """Create or update a Quality Service from its definition.

    Idempotent: an unchanged definition (same hash) writes nothing.  A changed definition
    updates the service, its domains, groups, indicators and achievement dates (matched by code
    or date, so ids survive) while no achievement has been recorded for it; after that the
    payments already calculated depend on it, so the change is refused with the reason.
    """
    from achievement.models import Achievement

    new_hash = definition_hash(definition)
    service = QualityService.objects.select_for_update().filter(code=definition.code).first()
    if service is not None and service.definition_hash == new_hash:
        return service
    if service is not None and Achievement.objects.filter(service=service).exists():
        raise ServiceLoadRefused(
            f"{definition.code}: the definition has changed, but achievement has already been recorded "
            "for this service, so it can no longer be changed. Load the change as a new service code."
        )

    values = {
        "name": definition.name,
        "payment_type": definition.payment_type,
        "payment_frequency": definition.payment_frequency,
        "financial_year": FinancialYear.for_label(definition.financial_year),
        "provider_level": definition.provider_level,
        "no_declaration_required": definition.no_declaration_required,
        "no_approval_required": definition.no_approval_required,
        "value_per_point": definition.value_per_point,
        "average_list_size": definition.average_list_size,
        "definition": _json_safe(source),
        "definition_hash": new_hash,
    }
    if service is None:
        service = QualityService.objects.create(code=definition.code, **values)
    else:
        for name, value in values.items():
            setattr(service, name, value)
        service.loaded_at = timezone.now()
        service.save()

    try:
        _catalogue_sync(service=service, definition=definition)
    except ProtectedError as error:
        raise ServiceLoadRefused(
            f"{definition.code}: the change removes indicators or achievement dates that are in use "
            f"({len(error.protected_objects)} record(s) refer to them)."
        ) from error
    return service


def _catalogue_sync(*, service: QualityService, definition: ServiceDef) -> None:
    domain_codes, group_codes, indicator_codes = [], [], []
    for domain_position, domain_def in enumerate(definition.domains):
        domain, _ = Domain.objects.update_or_create(
            service=service, code=domain_def.code, defaults={"name": domain_def.name, "position": domain_position}
        )
        domain_codes.append(domain_def.code)
        for group_position, group_def in enumerate(domain_def.groups):
            group, _ = IndicatorGroup.objects.update_or_create(
                service=service,
                code=group_def.code,
                defaults={
                    "domain": domain,
                    "name": group_def.name,
                    "sub_domain": group_def.sub_domain or "",
                    "national_prevalence": group_def.national_prevalence,
                    "position": group_position,
                },
            )
            group_codes.append(group_def.code)
            for position, ind in enumerate(group_def.indicators):
                Indicator.objects.update_or_create(
                    service=service,
                    code=ind.code,
                    defaults={
                        "group": group,
                        "name": ind.name,
                        "kind": ind.kind,
                        "points": ind.points,
                        "lower": ind.lower,
                        "upper": ind.upper,
                        "register_field": ind.register_field or "",
                        "national_prevalence": ind.national_prevalence,
                        "rate": ind.rate,
                        "entry": ind.entry,
                        "carry_forward": ind.carry_forward,
                        "fields": list(ind.fields),
                        "position": position,
                    },
                )
                indicator_codes.append(ind.code)
    dates = []
    for date_def in definition.achievement_dates:
        AchievementDate.objects.update_or_create(
            service=service, date=date_def.date, defaults={"is_payment_date": date_def.payment}
        )
        dates.append(date_def.date)
    # What the new definition no longer holds goes, innermost first.
    Indicator.objects.filter(service=service).exclude(code__in=indicator_codes).delete()
    IndicatorGroup.objects.filter(service=service).exclude(code__in=group_codes).delete()
    Domain.objects.filter(service=service).exclude(code__in=domain_codes).delete()
    AchievementDate.objects.filter(service=service).exclude(date__in=dates).delete()


# --------------------------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------------------------


_is_system = is_system


def _audit(*, actor, action: str, organisation, obj, detail: dict) -> None:
    if _is_system(actor):
        detail = {**detail, "system_actor": actor.name}
        actor = None
    audit_record(actor=actor, action=action, organisation=organisation, obj=obj, detail=detail)


# --------------------------------------------------------------------------------------------
# Offers: create
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
    if not _is_system(user) and any(
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
    by = None if _is_system(user) else user
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
    note = f"Offered by {user.name}" if _is_system(user) else ""
    OfferTransition.objects.bulk_create(
        [OfferTransition(offer=o, from_status="", to_status=OfferStatus.OFFERED, by=by, note=note) for o in offers]
    )
    automatic = service.provider_level == ProviderLevel.PCN
    for offer in offers:
        _audit(
            actor=user,
            action="offer_created",
            organisation=offer.commissioner,
            obj=offer,
            detail={"service": service.code, "provider": offer.provider.ods_code},
        )
        if automatic:
            _transition_one(offer=offer, actor=SystemActor("Network Contract DES"), action=_ACCEPT,
                            note=NCD_AUTOMATIC_NOTE)
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
# Offers: transitions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Action:
    method: str  # the FSM transition on ServiceOffer
    perm: str  # the rule the actor must satisfy
    done: str  # "accepted": for the audit action and notes
    refused: str  # why the role check failed


_ACCEPT = _Action(
    "accept", "participation.respond_to_offer", "accepted",
    "Only the Service Provider's Service Management users can accept this offer.",
)
_REJECT = _Action(
    "reject", "participation.respond_to_offer", "rejected",
    "Only the Service Provider's Service Management users can reject this offer.",
)
_WITHDRAW = _Action(
    "withdraw", "participation.manage_offer", "withdrawn",
    "Only the Commissioning Organisation's Commissioning Management users can withdraw this offer.",
)
_CANCEL = _Action(
    "cancel", "participation.manage_offer", "cancelled",
    "Only the Commissioning Organisation's Commissioning Management users can cancel this offer.",
)


def _state_error(offer: ServiceOffer, action: _Action) -> OfferStateError:
    if action is _CANCEL and offer.status == OfferStatus.OFFERED:
        return OfferStateError(
            "Only Approved or Rejected services can be cancelled. "
            "Services which have been Offered cannot be cancelled but may be Withdrawn."
        )
    return OfferStateError(f"This offer has already been {offer.get_status_display().lower()}.")


def _lock_offers(*, offer_ids: Sequence[int], actor) -> list[ServiceOffer]:
    return lock_in_id_order(
        ServiceOffer.objects.select_related("service", "provider", "commissioner"),
        offer_ids,
        actor=actor,
        may_see=lambda user, offer: rules.has_perm("participation.view_offer", user, offer),
        nothing_selected=OfferInvalid("Select at least one Quality Service offer."),
        not_found=OfferNotFound("The selected Quality Service offer could not be found."),
    )


def _transition_one(*, offer: ServiceOffer, actor, action: _Action, note: str) -> None:
    from_status = offer.status
    getattr(offer, action.method)()
    offer.save(update_fields=["status", "updated_at"])
    by = None if _is_system(actor) else actor
    OfferTransition.objects.create(offer=offer, from_status=from_status, to_status=offer.status, by=by, note=note)
    _audit(
        actor=actor,
        action=f"offer_{action.done}",
        organisation=offer.provider if action.perm == "participation.respond_to_offer" else offer.commissioner,
        obj=offer,
        detail={"from": from_status, "to": offer.status, "service": offer.service.code,
                "provider": offer.provider.ods_code},
    )


def _offers_transition(*, offer_ids: Sequence[int], actor, action: _Action, note: str = "") -> list[ServiceOffer]:
    offers = _lock_offers(offer_ids=offer_ids, actor=actor)
    many = len(offers) > 1
    # Check everything before changing anything: the request is all-or-nothing.
    for offer in offers:
        prefix = f"{offer.provider.name}, {offer.service.name}: " if many else ""
        if not _is_system(actor) and not rules.has_perm(action.perm, actor, offer):
            raise OfferPermissionError(prefix + action.refused)
        if not can_proceed(getattr(offer, action.method)):
            error = _state_error(offer, action)
            raise type(error)(prefix + error.message)
    if _is_system(actor) and not note:
        behalf = " on the provider's behalf" if action.perm == "participation.respond_to_offer" else ""
        note = f"{action.done.capitalize()}{behalf} by {actor.name}."
    for offer in offers:
        _transition_one(offer=offer, actor=actor, action=action, note=note)
        _notify(offer=offer, action=action)
    return offers


def _notify(*, offer: ServiceOffer, action: _Action) -> None:
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
