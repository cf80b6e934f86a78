"""The Declaration use cases: declare, approve, finance-approve, and the steps a service skips.

Each goes through ``accounts.transitions``: lock the declaration rows in id order, check the
rule (``declarations.rules``), check the FSM says the transition is legal and the payment was
calculated from the current data, transition, record the immutable ``DeclarationTransition``
(who, when, from, to, note, amount) and the audit event, then the messages and tasks.  A bulk
request is all-or-nothing, and set-based: one UPDATE for every row, one INSERT of the records,
one of the audit events, one UPDATE closing the tasks answered and one INSERT of the messages,
whatever the number of rows (``tests/declarations/test_bulk_approve_queries.py``).

Two approvers at once: the second waits for the first's row lock, then finds the declaration
already approved and is told so ("This declaration has already been approved.").
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts import transitions
from accounts.actors import is_system
from accounts.services import tasks_close
from accounts.transitions import actor_user
from declarations.models import Calculation, Declaration, DeclarationStatus

from . import notifications
from .machine import (
    APPROVE,
    APPROVE_FIELDS,
    DECLARATIONS,
    DECLARE,
    DECLARE_FIELDS,
    FINANCE_APPROVE,
    NO_APPROVAL_NOTE,
    NO_DECLARATION_NOTE,
    SYSTEM,
    task_key,
)


def _declare_arguments(by, now, rows: Sequence[Declaration]):
    """The FSM ``declare``'s arguments: the figures of the calculation as it is now; the amount is
    the achievement payment to declare (``amounts_to_declare``: less the aspiration paid)."""
    amounts = amounts_to_declare(rows)

    def arguments(declaration: Declaration) -> dict:
        calculation = declaration.calculation
        return {"by": by, "at": now, "amount": amounts[declaration.pk], "points": calculation.total_points}

    return arguments


def amounts_to_declare(declarations: Sequence[Declaration]) -> dict[int, Decimal]:
    """The achievement payment each declaration (by id, its ``calculation`` the one to declare)
    is to be declared at: the calculated payment, less the aspiration paid by its achievement date
    where its service pays aspiration (issue 13: at year end the balance, negative when money is to
    be recovered).  One query per service and date that pays aspiration, none otherwise."""
    from declarations.aspiration.selectors import declaration_balances

    balances = declaration_balances(declarations)
    return {
        d.pk: balances[d.pk].balance if d.pk in balances else d.calculation.total_amount for d in declarations
    }


def _amount_declared(declaration: Declaration):
    return declaration.amount_declared


def _amount_approved(declaration: Declaration):
    return declaration.amount_approved


def auto_steps(declarations: list[Declaration], *, now) -> None:
    """Take the steps the Quality Service does not require, recorded as such, and notify.

    Awaiting Service Provider Approval with "No Declaration Required": declared by the system at
    the calculated amount; then Awaiting Commissioning Organisation Approval with "No Approval
    Required": approved by the system.  Finance approval is always a person's.
    """
    to_declare = [
        d for d in declarations if d.status == DeclarationStatus.AWAITING_PROVIDER and d.service.no_declaration_required
    ]
    declared = transitions.apply(
        to_declare,
        actor=SYSTEM,
        action=DECLARE,
        note=NO_DECLARATION_NOTE,
        arguments=_declare_arguments(None, now, to_declare),
        amount=_amount_declared,
    )
    transitions.record(declared, machine=DECLARATIONS, done=DECLARE.done, fields=DECLARE_FIELDS)
    approved = transitions.apply(
        [
            d
            for d in declarations
            if d.status == DeclarationStatus.AWAITING_COMMISSIONER and d.service.no_approval_required
        ],
        actor=SYSTEM,
        action=APPROVE,
        note=NO_APPROVAL_NOTE,
        arguments=lambda d: {"by": None, "at": now},
        amount=_amount_approved,
    )
    transitions.record(approved, machine=DECLARATIONS, done=APPROVE.done, fields=APPROVE_FIELDS)
    approved_ids = {step.row.pk for step in approved}
    notifications.declared_many([step.row for step in declared if step.row.pk not in approved_ids])
    tasks_close(task_keys=[task_key(step.row, "declare") for step in approved])
    notifications.approved_many([step.row for step in approved], automatically=True)


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
    rows = DECLARATIONS.lock([declaration_id], actor=user)
    transitions.check(rows, actor=user, action=DECLARE, machine=DECLARATIONS)
    (declaration,) = rows
    declaration.calculation = Calculation.objects.get(pk=declaration.calculation_id)
    if is_system(user) and not note:
        note = f"Declared on the Service Provider's behalf by {user.name}."
    now = timezone.now()
    steps = transitions.apply(
        rows,
        actor=user,
        action=DECLARE,
        note=note,
        arguments=_declare_arguments(actor_user(user), now, rows),
        amount=_amount_declared,
    )
    transitions.record(steps, machine=DECLARATIONS, done=DECLARE.done, fields=DECLARE_FIELDS)
    if declaration.service.no_approval_required:
        auto_steps([declaration], now=now)
    else:
        notifications.declared(declaration)
    return declaration


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
    now, by = timezone.now(), actor_user(user)
    return transitions.run(
        machine=DECLARATIONS,
        action=APPROVE,
        ids=declaration_ids,
        actor=user,
        note=note,
        arguments=lambda d: {"by": by, "at": now},
        amount=_amount_approved,
        # Every row gets the same values: one UPDATE, however many are approved.
        same={
            "status": DeclarationStatus.AWAITING_FINANCE,
            "approved_by": by,
            "approved_at": now,
            "amount_approved": F("amount_declared"),
        },
        notify_all=lambda rows: notifications.approved_many(rows, automatically=False),
    )


@transaction.atomic
def declarations_finance_approve(*, declaration_ids: Sequence[int], user, note: str = "") -> list[Declaration]:
    """Approve (Finance Management): Awaiting Finance Approval -> Financially Approved, for
    every selected declaration or none.

    Rules: Finance Management at the provider's commissioning ICB; not the declarer, nor the
    person who approved it, whatever roles they hold (``rules.finance_approve_refused_reason``,
    maker-checker); Awaiting Finance Approval.  After it, the achievement, tick-boxes and calculation are locked
    (``selectors.achievement_financially_approved``; ``calculations_recalculate`` refuses to
    change the calculation) and the calculation is no longer provisional.  The provider hears of it.
    """
    now, by = timezone.now(), actor_user(user)
    declarations = transitions.run(
        machine=DECLARATIONS,
        action=FINANCE_APPROVE,
        ids=declaration_ids,
        actor=user,
        note=note,
        arguments=lambda d: {"by": by, "at": now},
        amount=lambda d: d.amount_finance_approved,
        same={
            "status": DeclarationStatus.FINANCIALLY_APPROVED,
            "finance_approved_by": by,
            "finance_approved_at": now,
            "amount_finance_approved": F("amount_approved"),
        },
    )
    # The payment is final: its calculation is no longer provisional (and is locked).
    Calculation.objects.filter(pk__in=[d.calculation_id for d in declarations]).update(is_provisional=False)
    notifications.finance_approved_many(declarations)
    return declarations


@transaction.atomic
def declarations_declare(*, declaration_ids: Sequence[int], user, note: str = "") -> list[Declaration]:
    """Declare Achievement on Achievement > Declare: every ticked payment is declared, or none.

    The rules of ``declaration_declare`` for each row (Declaration Management at its provider;
    Awaiting Service Provider Approval; calculated from the current data), all checked before
    anything changes, and a refusal names the row.  Each is declared at its calculation's figures
    as they are after the row locks; the same notes go with every one.  Those of a service with
    "No Approval Required" move straight on to Awaiting Finance Approval, recorded as such.
    """
    rows = DECLARATIONS.lock(declaration_ids, actor=user)
    transitions.check(rows, actor=user, action=DECLARE, machine=DECLARATIONS)
    calculations = Calculation.objects.in_bulk([d.calculation_id for d in rows])
    for declaration in rows:
        declaration.calculation = calculations[declaration.calculation_id]
    if is_system(user) and not note:
        note = f"Declared on the Service Provider's behalf by {user.name}."
    now = timezone.now()
    steps = transitions.apply(
        rows,
        actor=user,
        action=DECLARE,
        note=note,
        arguments=_declare_arguments(actor_user(user), now, rows),
        amount=_amount_declared,
    )
    transitions.record(steps, machine=DECLARATIONS, done=DECLARE.done, fields=DECLARE_FIELDS)
    no_approval = [d for d in rows if d.service.no_approval_required]
    if no_approval:
        auto_steps(no_approval, now=now)
    notifications.declared_many([d for d in rows if not d.service.no_approval_required])
    return rows
