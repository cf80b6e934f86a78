"""Writes of the Declaration state machine: declare, approve, finance-approve, and what a
recalculation does to a declaration.

Every use case is one ``atomic()`` function: lock the declaration rows (``select_for_update``, in
id order, so two bulk requests cannot deadlock), check the actor may see them (else: not found,
as if they did not exist), check the rule (``declarations.rules``), check the FSM says the
transition is legal, and only then change anything: the transition, the immutable
``DeclarationTransition`` (who, when, from, to, note, amount), the audit event, and the messages
and tasks (``accounts.services.message_send``; emails go after the commit).  A bulk request is
all-or-nothing: one refused row refuses the request and nothing is written.

Two approvers at once: the second waits for the first's row lock, then finds the declaration
already approved and is told so ("This declaration has already been approved.").

Lock order with recalculation: ``calculations_recalculate`` locks Achievement rows and then
their Declaration rows; these use cases lock Declaration rows only, so no cycle can form, and a
recalculation that changes a declared amount commits before (or waits for) an approval of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from accounts import permissions
from accounts.actors import SystemActor, is_system, lock_in_id_order
from accounts.models import Role
from accounts.services import audit_record, message_send, task_close

from . import rules
from .models import Calculation, Declaration, DeclarationStatus, DeclarationTransition

logger = logging.getLogger(__name__)

CREATED_NOTE = "Calculated from the submitted achievement data."
NO_DECLARATION_NOTE = "No Declaration Required: this Quality Service does not need the Service Provider to declare it."
NO_APPROVAL_NOTE = (
    "No Approval Required: this Quality Service does not need the Commissioning Organisation's approval."
)
SYSTEM = SystemActor("CQRS")


# --- errors: each carries the message the user is shown ---------------------------------------


class DeclarationError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class DeclarationStateError(DeclarationError):
    """The declaration is not in the state the action applies to."""


class DeclarationPermissionError(DeclarationError, PermissionDenied):
    """The user may see the declaration but may not do this to it."""


class DeclarationNotFound(DeclarationError, Http404):
    """No such declaration, or one of an organisation the user cannot see: the same answer."""


class DeclarationInvalid(DeclarationError):
    """Nothing selected."""


# --- helpers ---------------------------------------------------------------------------------


def declaration_url(declaration: Declaration | int) -> str:
    pk = declaration if isinstance(declaration, int) else declaration.pk
    return reverse("declarations:declaration_detail", args=[pk])


def task_key(declaration: Declaration | int, step: str) -> str:
    """The key of the task asking for ``step`` ("declare", "approve", "finance_approve")."""
    pk = declaration if isinstance(declaration, int) else declaration.pk
    return f"declaration:{pk}:{step}"


def money(value: Decimal | None) -> str:
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"


_is_system = is_system


def _by(actor):
    return None if _is_system(actor) else actor


def _audit(*, actor, action: str, declaration: Declaration, detail: dict) -> None:
    detail = {
        "service": declaration.service.code,
        "provider": declaration.provider.ods_code,
        "achievement_date": f"{declaration.achievement_date.date:%Y-%m-%d}",
        **detail,
    }
    if _is_system(actor):
        detail["system_actor"] = actor.name
        actor = None
    audit_record(actor=actor, action=action, organisation=declaration.provider, obj=declaration, detail=detail)


def _describe(declaration: Declaration) -> str:
    return (
        f"{declaration.provider.name} ({declaration.provider.ods_code}), {declaration.service.label}, "
        f"achievement date {declaration.achievement_date.date:%d/%m/%Y}"
    )


@dataclass
class _Step:
    """One transition of one declaration, staged before anything is written."""

    declaration: Declaration
    from_status: str
    actor: object
    note: str
    amount: Decimal | None


def _write(steps: list[_Step], fields: Sequence[str], action: str, *, same: dict | None = None) -> None:
    """Save the staged transitions and record them: one INSERT for the records.

    ``same``: when every row gets the same values (expressions allowed, e.g. ``F``), one plain
    UPDATE of them; else a ``bulk_update`` of ``fields`` (whose CASE per row costs more to build).
    """
    if not steps:
        return
    now = timezone.now()
    by_pk: dict[int, Declaration] = {}
    for step in steps:
        step.declaration.updated_at = now
        by_pk[step.declaration.pk] = step.declaration
    if same is not None:
        Declaration.objects.filter(pk__in=list(by_pk)).update(**same, updated_at=now)
    else:
        Declaration.objects.bulk_update(list(by_pk.values()), [*fields, "status", "updated_at"], batch_size=1000)
    DeclarationTransition.objects.bulk_create(
        [
            DeclarationTransition(
                declaration=step.declaration,
                from_status=step.from_status,
                to_status=step.declaration.status,
                by=_by(step.actor),
                at=now,
                note=step.note,
                amount=step.amount,
            )
            for step in steps
        ],
        batch_size=1000,
    )
    for step in steps:
        _audit(
            actor=step.actor,
            action=f"declaration_{action}",
            declaration=step.declaration,
            detail={"from": step.from_status, "to": step.declaration.status, "amount": str(step.amount)},
        )


def _lock(*, declaration_ids: Iterable[int], actor) -> list[Declaration]:
    return lock_in_id_order(
        Declaration.objects.select_related(
            "provider__commissioner", "service", "achievement_date", "achievement", "calculation"
        ),
        declaration_ids,
        actor=actor,
        may_see=lambda user, declaration: permissions.can_see_organisation(user, declaration.provider),
        nothing_selected=DeclarationInvalid("Select at least one declaration."),
        not_found=DeclarationNotFound("The selected declaration could not be found."),
    )


_STATE_MESSAGES = {
    # (action, status) -> what the user is told
    ("declare", DeclarationStatus.AWAITING_COMMISSIONER): "This achievement has already been declared.",
    ("declare", DeclarationStatus.AWAITING_FINANCE): "This achievement has already been declared and approved.",
    ("declare", DeclarationStatus.FINANCIALLY_APPROVED): "This payment has already been financially approved.",
    ("approve", DeclarationStatus.AWAITING_PROVIDER): (
        "This declaration is Awaiting Service Provider Approval: the Service Provider has not declared it "
        "(or it was recalculated and must be declared again)."
    ),
    ("approve", DeclarationStatus.AWAITING_FINANCE): "This declaration has already been approved.",
    ("approve", DeclarationStatus.FINANCIALLY_APPROVED): "This declaration has already been financially approved.",
    ("finance_approve", DeclarationStatus.AWAITING_PROVIDER): (
        "This declaration is Awaiting Service Provider Approval: it must be declared and approved "
        "before finance approval."
    ),
    ("finance_approve", DeclarationStatus.AWAITING_COMMISSIONER): (
        "This declaration is Awaiting Commissioning Organisation Approval: it must be approved before finance approval."
    ),
    ("finance_approve", DeclarationStatus.FINANCIALLY_APPROVED): (
        "This declaration has already been financially approved."
    ),
}


RECALCULATION_PENDING = (
    "The achievement data changed after this payment was calculated and it is being recalculated. "
    "Try again in a moment."
)


def _check_calculated_from_current_data(declaration: Declaration, prefix: str) -> None:
    """Nobody declares or approves a payment whose recalculation is still queued."""
    if declaration.calculation.data_version != declaration.achievement.data_version:
        raise DeclarationStateError(prefix + RECALCULATION_PENDING)


def _state_error(action: str, declaration: Declaration, prefix: str) -> DeclarationStateError:
    message = _STATE_MESSAGES.get(
        (action, declaration.status), f"This declaration is {declaration.get_status_display()}."
    )
    return DeclarationStateError(prefix + message)


# --- notifications -----------------------------------------------------------------------------


def _notify_declared(declaration: Declaration) -> None:
    """Job aid: the commissioner's Approval Management users get a Home-screen task (and an email,
    per their notification preferences) that the declaration is available for approval."""
    task_close(task_key=task_key(declaration, "declare"))
    commissioner = declaration.provider.commissioner
    if commissioner is None:
        return
    message_send(
        organisation=commissioner,
        role=Role.APPROVAL_MANAGEMENT,
        subject=f"Achievement and payment declaration available for approval: {declaration.provider.name}",
        body=(
            f"{_describe(declaration)} has been declared ({money(declaration.amount_declared)}). "
            "The achievement and payment declaration is available for approval in Achievement > Declaration Management."
        ),
        link=declaration_url(declaration),
        is_task=True,
        task_key=task_key(declaration, "approve"),
    )


def _notify_approved(declaration: Declaration, *, automatically: bool) -> None:
    """Finance Management gets a task; the provider hears of the approval."""
    task_close(task_key=task_key(declaration, "approve"))
    commissioner = declaration.provider.commissioner
    if commissioner is not None:
        message_send(
            organisation=commissioner,
            role=Role.FINANCE_MANAGEMENT,
            subject=f"Achievement and payment declaration available for finance approval: {declaration.provider.name}",
            body=(
                f"{_describe(declaration)} has been approved ({money(declaration.amount_approved)}). "
                "The achievement and payment declaration is available for finance approval in "
                "Achievement > Declaration Management."
            ),
            link=declaration_url(declaration),
            is_task=True,
            task_key=task_key(declaration, "finance_approve"),
        )
    how = "needs no approval" if automatically else "has been approved by the Commissioning Organisation"
    message_send(
        organisation=declaration.provider,
        role=Role.DECLARATION_MANAGEMENT,
        subject=f"Your declaration of {declaration.service.name} has been approved",
        body=(
            f"Your achievement and payment declaration for {_describe(declaration)} ({money(declaration.amount_approved)}) "
            f"{how}. It is now Awaiting Finance Approval."
        ),
        link=declaration_url(declaration),
    )


def _notify_finance_approved(declaration: Declaration) -> None:
    task_close(task_key=task_key(declaration, "finance_approve"))
    message_send(
        organisation=declaration.provider,
        role=Role.DECLARATION_MANAGEMENT,
        subject=f"Your payment for {declaration.service.name} has been financially approved",
        body=(
            f"The payment for {_describe(declaration)} ({money(declaration.amount_finance_approved)}) has been "
            "financially approved. The achievement data, tick-boxes and calculation it is based on can no longer be changed."
        ),
        link=declaration_url(declaration),
    )


# --- the steps a service configuration skips --------------------------------------------------


def _auto_steps(declarations: list[Declaration], *, now) -> None:
    """Take the steps the Quality Service does not require, recorded as such, and notify.

    Awaiting Service Provider Approval with "No Declaration Required": declared by the system at
    the calculated amount; then Awaiting Commissioning Organisation Approval with "No Approval
    Required": approved by the system.  Finance approval is always a person's.
    """
    declared: list[_Step] = []
    for declaration in declarations:
        if declaration.status == DeclarationStatus.AWAITING_PROVIDER and declaration.service.no_declaration_required:
            calculation = declaration.calculation
            declaration.declare(by=None, at=now, amount=calculation.total_amount, points=calculation.total_points)
            declared.append(
                _Step(declaration, DeclarationStatus.AWAITING_PROVIDER, SYSTEM, NO_DECLARATION_NOTE,
                      declaration.amount_declared)
            )
    _write(declared, ["declared_by", "declared_at", "amount_declared", "points_declared"], "declared")
    approved: list[_Step] = []
    for declaration in declarations:
        if declaration.status == DeclarationStatus.AWAITING_COMMISSIONER and declaration.service.no_approval_required:
            declaration.approve(by=None, at=now)
            approved.append(
                _Step(declaration, DeclarationStatus.AWAITING_COMMISSIONER, SYSTEM, NO_APPROVAL_NOTE,
                      declaration.amount_approved)
            )
    _write(approved, ["approved_by", "approved_at", "amount_approved"], "approved")
    approved_ids = {step.declaration.pk for step in approved}
    for step in declared:
        if step.declaration.pk not in approved_ids:
            _notify_declared(step.declaration)
    for step in approved:
        task_close(task_key=task_key(step.declaration, "declare"))
        _notify_approved(step.declaration, automatically=True)


# --- the use cases -----------------------------------------------------------------------------


@transaction.atomic
def declaration_declare(*, declaration_id: int, user, note: str = "") -> Declaration:
    """Declare Achievement: the provider's Declaration Management declares the calculated payment.

    Rules: the declaration is of a provider where the user holds Declaration Management
    (``rules.declare_refused_reason``; one of an organisation the user cannot see is not found);
    it is Awaiting Service Provider Approval.  The amount and points declared are the
    calculation's at this moment (read after the row lock, so a recalculation committed first is
    what is declared).  It moves to Awaiting Commissioning Organisation Approval and the
    commissioner's Approval Management users get a task; with "No Approval Required" it moves
    straight on to Awaiting Finance Approval, recorded as such, and Finance Management gets the task.
    """
    (declaration,) = _lock(declaration_ids=[declaration_id], actor=user)
    if not _is_system(user):
        reason = rules.declare_refused_reason(user, declaration)
        if reason:
            raise DeclarationPermissionError(reason)
    if not can_proceed(declaration.declare):
        raise _state_error("declare", declaration, "")
    _check_calculated_from_current_data(declaration, "")
    calculation = Calculation.objects.get(pk=declaration.calculation_id)
    declaration.calculation = calculation
    now = timezone.now()
    from_status = declaration.status
    declaration.declare(by=_by(user), at=now, amount=calculation.total_amount, points=calculation.total_points)
    if _is_system(user) and not note:
        note = f"Declared on the Service Provider's behalf by {user.name}."
    _write(
        [_Step(declaration, from_status, user, note, declaration.amount_declared)],
        ["declared_by", "declared_at", "amount_declared", "points_declared"],
        "declared",
    )
    if declaration.service.no_approval_required:
        _auto_steps([declaration], now=now)
    else:
        _notify_declared(declaration)
    return declaration


def _approve_many(*, declaration_ids, user, note: str, action: str) -> list[Declaration]:
    declarations = _lock(declaration_ids=declaration_ids, actor=user)
    many = len(declarations) > 1
    refused_reason = rules.approve_refused_reason if action == "approve" else rules.finance_approve_refused_reason
    # Check everything before changing anything: the request is all-or-nothing.
    for declaration in declarations:
        prefix = f"{declaration.provider.name}, {declaration.service.name}: " if many else ""
        if not _is_system(user):
            reason = refused_reason(user, declaration)
            if reason:
                raise DeclarationPermissionError(prefix + reason)
        if not can_proceed(getattr(declaration, action)):
            raise _state_error(action, declaration, prefix)
        _check_calculated_from_current_data(declaration, prefix)
    now = timezone.now()
    steps = []
    for declaration in declarations:
        from_status = declaration.status
        getattr(declaration, action)(by=_by(user), at=now)
        amount = declaration.amount_approved if action == "approve" else declaration.amount_finance_approved
        steps.append(_Step(declaration, from_status, user, note, amount))
    by = _by(user)
    if action == "approve":
        _write(steps, (), "approved", same={
            "status": DeclarationStatus.AWAITING_FINANCE, "approved_by": by, "approved_at": now,
            "amount_approved": F("amount_declared"),
        })
        for declaration in declarations:
            _notify_approved(declaration, automatically=False)
    else:
        _write(steps, (), "finance_approved", same={
            "status": DeclarationStatus.FINANCIALLY_APPROVED, "finance_approved_by": by,
            "finance_approved_at": now, "amount_finance_approved": F("amount_approved"),
        })
        # The payment is final: its calculation is no longer provisional (and is locked).
        Calculation.objects.filter(pk__in=[d.calculation_id for d in declarations]).update(is_provisional=False)
        for declaration in declarations:
            _notify_finance_approved(declaration)
    return declarations


@transaction.atomic
def declarations_approve(*, declaration_ids: Sequence[int], user, note: str = "") -> list[Declaration]:
    """Approve (Approval Management): Awaiting Commissioning Organisation Approval -> Awaiting
    Finance Approval, for every selected declaration or none.

    Rules: each is of a provider commissioned by an ICB where the user holds Approval Management,
    whatever other roles they hold (``rules.approve_refused_reason``); the user did not declare
    it; it is Awaiting Commissioning Organisation Approval (else, e.g. a second approver: "This
    declaration has already been approved.").  The amount approved is the amount declared.
    Finance Management gets a task per declaration; the provider hears of the approval.
    """
    return _approve_many(declaration_ids=declaration_ids, user=user, note=note, action="approve")


@transaction.atomic
def declarations_finance_approve(*, declaration_ids: Sequence[int], user, note: str = "") -> list[Declaration]:
    """Approve (Finance Management): Awaiting Finance Approval -> Financially Approved, for
    every selected declaration or none.

    Rules: Finance Management at the provider's commissioning ICB; not the declarer; Awaiting
    Finance Approval.  After it, the achievement, tick-boxes and calculation are locked
    (``selectors.achievement_financially_approved``; ``calculations_recalculate`` refuses to
    change the calculation) and the calculation is no longer provisional.  The provider hears of it.
    """
    return _approve_many(declaration_ids=declaration_ids, user=user, note=note, action="finance_approve")


def declaration_declare_many(*, declaration_ids: Sequence[int], user, note: str = "") -> list[Declaration]:
    """Declare several (the demo seed on providers' behalf): one ``declaration_declare`` each."""
    return [declaration_declare(declaration_id=pk, user=user, note=note) for pk in sorted(declaration_ids)]


# --- what a recalculation does -----------------------------------------------------------------


def lock_for_recalculation(*, achievement_ids: Sequence[int]) -> dict[int, Declaration]:
    """The declarations of these achievements, locked (after their achievements: the lock order)."""
    return {
        d.achievement_id: d
        for d in Declaration.objects.select_for_update(of=("self",))
        .select_related("provider__commissioner", "service", "achievement_date")
        .filter(achievement_id__in=achievement_ids)
        .order_by("pk")
    }


def _changes_text(old: dict[str, Decimal], new: dict[str, Decimal]) -> str:
    changes = [
        f"{code} {money(old.get(code, Decimal(0)))} -> {money(new.get(code, Decimal(0)))}"
        for code in sorted(set(old) | set(new))
        if old.get(code, Decimal(0)) != new.get(code, Decimal(0))
    ]
    return "; ".join(changes)


def declarations_after_recalculation(
    *,
    calculated: Sequence[tuple[object, Calculation]],
    declarations: dict[int, Declaration],
    old_amounts: dict[int, dict[str, Decimal]],
    new_amounts: dict[int, dict[str, Decimal]],
) -> None:
    """Called by ``calculations_recalculate`` (same transaction) with the (achievement, calculation)
    pairs it wrote and those achievements' declarations, locked.

    - The first calculation of a payment achievement date creates its Declaration, Awaiting
      Service Provider Approval (recorded, by the system);
    - a changed amount of a declaration declared but not yet financially approved sends it back
      to Awaiting Service Provider Approval (recorded with the reason), closes the
      commissioner's open task and gives the provider a task saying why;
    - then the steps the service does not require are taken (``_auto_steps``).
    ``old_amounts`` / ``new_amounts``: £ per indicator code by calculation id, to say what changed.
    """
    now = timezone.now()
    created: list[Declaration] = []
    sent_back: list[_Step] = []
    recalculated: list[DeclarationTransition] = []
    for achievement, calculation in calculated:
        declaration = declarations.get(achievement.pk)
        if declaration is None:
            if not achievement.achievement_date.is_payment_date:
                continue
            created.append(
                Declaration(
                    provider_id=calculation.provider_id,
                    service_id=calculation.service_id,
                    achievement_date_id=calculation.achievement_date_id,
                    achievement_id=achievement.pk,
                    calculation=calculation,
                    created_at=now,
                    updated_at=now,
                )
            )
            continue
        declaration.calculation = calculation
        if declaration.status == DeclarationStatus.AWAITING_PROVIDER and calculation.pk in old_amounts:
            # Not a transition, but the history says why the amount to declare changed.
            before = sum(old_amounts[calculation.pk].values(), Decimal(0))
            if before != calculation.total_amount:
                changes = _changes_text(old_amounts[calculation.pk], new_amounts.get(calculation.pk, {}))
                recalculated.append(
                    DeclarationTransition(
                        declaration=declaration,
                        from_status=declaration.status,
                        to_status=declaration.status,
                        by=None,
                        at=now,
                        note=(
                            f"Recalculated after the achievement data changed: the payment is now "
                            f"{money(calculation.total_amount)}, was {money(before)}"
                            + (f" ({changes})" if changes else "")
                            + "."
                        ),
                        amount=calculation.total_amount,
                    )
                )
            continue
        if declaration.status not in (DeclarationStatus.AWAITING_COMMISSIONER, DeclarationStatus.AWAITING_FINANCE):
            continue
        if calculation.total_amount == declaration.amount_declared:
            continue
        declared = declaration.amount_declared
        from_status = declaration.status
        changes = _changes_text(old_amounts.get(calculation.pk, {}), new_amounts.get(calculation.pk, {}))
        note = (
            f"Recalculated after the achievement data changed: the payment is now {money(calculation.total_amount)}, "
            f"not the {money(declared)} declared"
            + (f" ({changes})" if changes else "")
            + ". It must be declared again."
        )
        declaration.send_back()
        sent_back.append(_Step(declaration, from_status, SystemActor("recalculation"), note, calculation.total_amount))

    if created:
        Declaration.objects.bulk_create(created, batch_size=1000)
        DeclarationTransition.objects.bulk_create(
            [
                DeclarationTransition(
                    declaration=d,
                    from_status="",
                    to_status=d.status,
                    by=None,
                    at=now,
                    note=CREATED_NOTE,
                    amount=d.calculation.total_amount,
                )
                for d in created
            ],
            batch_size=1000,
        )
    DeclarationTransition.objects.bulk_create(recalculated, batch_size=1000)
    _write(
        sent_back,
        ["amount_declared", "points_declared", "declared_by", "declared_at", "amount_approved", "approved_by",
         "approved_at"],
        "sent_back",
    )
    for step in sent_back:
        declaration = step.declaration
        task_close(task_key=task_key(declaration, "approve"))
        task_close(task_key=task_key(declaration, "finance_approve"))
        message_send(
            organisation=declaration.provider,
            role=Role.DECLARATION_MANAGEMENT,
            subject=f"Your declaration of {declaration.service.name} must be declared again",
            body=(
                f"The payment for {_describe(declaration)} was recalculated after its achievement data changed "
                "(a new extract, a manual adjustment or a tick-box change), before it was financially approved. "
                f"{step.note} The declaration has been returned to Awaiting Service Provider Approval."
            ),
            link=declaration_url(declaration),
            is_task=not declaration.service.no_declaration_required,
            task_key=task_key(declaration, "declare"),
        )
    needs_auto = [
        d
        for d in [*created, *(s.declaration for s in sent_back)]
        if d.service.no_declaration_required
    ]
    if needs_auto:
        # ``created`` rows were built from ids: load what the auto steps and messages need.
        loaded = {
            d.pk: d
            for d in Declaration.objects.select_related(
                "provider__commissioner", "service", "achievement_date", "calculation"
            ).filter(pk__in=[d.pk for d in needs_auto])
        }
        _auto_steps([loaded[d.pk] for d in needs_auto], now=now)
    _ask_providers_to_declare([d.pk for d in created])


def _ask_providers_to_declare(declaration_ids: Sequence[int]) -> None:
    """A new declaration is a Home-screen task for the provider's Declaration Management
    holders (closed when they declare), unless the service needs no declaration."""
    if not declaration_ids:
        return
    new = Declaration.objects.select_related("provider", "service", "achievement_date", "calculation").filter(
        pk__in=declaration_ids, service__no_declaration_required=False
    )
    for declaration in new:
        message_send(
            organisation=declaration.provider,
            role=Role.DECLARATION_MANAGEMENT,
            subject=f"Achievement to declare: {declaration.service.name}",
            body=(
                f"A provisional payment has been calculated for {_describe(declaration)}: "
                f"{money(declaration.calculation.total_amount)}. Review the Achievement Summary and "
                "declare it (Declare Achievement) for your Commissioning Organisation to approve."
            ),
            link=declaration_url(declaration),
            is_task=True,
            task_key=task_key(declaration, "declare"),
        )
