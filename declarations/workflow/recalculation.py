"""What a recalculation does to the declarations of the payments it changed.

Called by ``declarations.services.calculations_recalculate`` in its transaction, with the
declarations locked after their achievements (the lock order every writer keeps; the use cases
lock declaration rows only, so no cycle can form, and a recalculation that changes a declared
amount commits before, or waits for, an approval of it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.utils import timezone

from accounts import transitions
from accounts.actors import SystemActor
from accounts.bulk import insert_rows, unsaved
from accounts.models import OrganisationKind
from accounts.pcn_membership import memberships_changed_after
from declarations import history
from declarations.models import Calculation, Declaration, DeclarationStatus, DeclarationTransition

from . import notifications
from .machine import CREATED_NOTE, DECLARATIONS, SEND_BACK_FIELDS
from .use_cases import amounts_to_declare, auto_steps

RECALCULATION = SystemActor("recalculation")
_DECLARED = (DeclarationStatus.AWAITING_COMMISSIONER, DeclarationStatus.AWAITING_FINANCE)

Amounts = Mapping[int, Mapping[str, Decimal]]  # £ per indicator code, by calculation id


def lock_for_recalculation(*, achievement_ids: Sequence[int]) -> dict[int, Declaration]:
    """The declarations of these achievements, locked (after their achievements: the lock order)."""
    return {
        d.achievement_id: d
        for d in Declaration.objects.select_for_update(of=("self",))
        .select_related("provider__commissioner", "service", "achievement_date")
        .defer("service__definition")  # the YAML a service was loaded from: large, not needed
        .filter(achievement_id__any=achievement_ids)
        .order_by("pk")
    }


def _new_declaration(achievement, calculation: Calculation, now) -> Declaration:
    return unsaved(
        Declaration,
        provider_id=calculation.provider_id,
        service=achievement.service,  # loaded with the achievement: no query per row
        achievement_date=achievement.achievement_date,
        achievement_id=achievement.pk,
        calculation=calculation,
        created_at=now,
        updated_at=now,
    )


def _declarations_create(created: list[Declaration], now) -> None:
    """The first calculation of a payment date: its declaration, Awaiting Service Provider
    Approval, recorded as created by the system."""
    if not created:
        return
    insert_rows(Declaration, created)
    insert_rows(
        DeclarationTransition,
        [
            unsaved(
                DeclarationTransition,
                declaration=d, from_status="", to_status=d.status, by=None, at=now, note=CREATED_NOTE,
                amount=d.calculation.total_amount,
            )
            for d in created
        ],
    )


def _recalculated_record(
    declaration: Declaration, calculation: Calculation, old: Amounts, new: Amounts, now
) -> DeclarationTransition | None:
    """Not declared yet: not a transition, but the history says why the amount to declare changed."""
    before = sum(old[calculation.pk].values(), Decimal(0))
    if before == calculation.total_amount:
        return None
    return DeclarationTransition(
        declaration=declaration,
        from_status=declaration.status,
        to_status=declaration.status,
        by=None,
        at=now,
        note=history.recalculation_note(history.RECALCULATED),
        amount=calculation.total_amount,
        previous_amount=before,
        detail=history.recalculation_detail(
            reason=history.RECALCULATED, old=old[calculation.pk], new=new.get(calculation.pk, {})
        ),
    )


def _reaggregated(declarations: list[Declaration]) -> set[int]:
    """The ids of these declared PCN payments whose PCN gained or lost a practice, on or before
    the achievement date, after they were declared (one query, none when there is no PCN's)."""
    pcn_level = [d for d in declarations if d.provider.kind == OrganisationKind.PCN]
    key = {d.pk: (d.provider_id, d.achievement_date.date, d.declared_at or d.created_at) for d in pcn_level}
    changed = memberships_changed_after(payments=key.values())
    return {pk for pk, payment in key.items() if payment in changed}


def _send_back(
    declaration: Declaration, calculation: Calculation, old: Amounts, new: Amounts, reason: str = history.SENT_BACK
) -> transitions.Step:
    """Declared, not financially approved, and the amount changed: back to Awaiting Service
    Provider Approval (in memory), with the amounts of why (``reason``: a history reason)."""
    declared = declaration.amount_declared
    from_status = declaration.status
    declaration.send_back()
    return transitions.Step(
        declaration,
        from_status,
        RECALCULATION,
        history.recalculation_note(reason),
        calculation.total_amount,
        record={
            "previous_amount": declared,
            "detail": history.recalculation_detail(
                reason=reason, old=old.get(calculation.pk, {}), new=new.get(calculation.pk, {})
            ),
        },
    )


def _sent_back_record(step: transitions.Step) -> DeclarationTransition:
    """The send-back's record as written (unsaved: only read, to tell the provider why)."""
    return DeclarationTransition(amount=step.amount, note=step.note, **step.record)


def _auto_steps_after(declarations: list[Declaration], now) -> None:
    """The new and sent-back declarations of a service that needs no declaration move on."""
    needs_auto = [d for d in declarations if d.service.no_declaration_required]
    if not needs_auto:
        return
    # New rows were built from ids: load what the auto steps and messages need.
    loaded = {
        d.pk: d
        for d in Declaration.objects.select_related(
            "provider__commissioner", "service", "achievement_date", "calculation"
        ).filter(pk__in=[d.pk for d in needs_auto])
    }
    auto_steps([loaded[d.pk] for d in needs_auto], now=now)


def declarations_after_recalculation(
    *,
    calculated: Sequence[tuple[object, Calculation]],
    declarations: dict[int, Declaration],
    old_amounts: Amounts,
    new_amounts: Amounts,
) -> None:
    """Called by ``calculations_recalculate`` (same transaction) with the (achievement, calculation)
    pairs it wrote and those achievements' declarations, locked.

    - The first calculation of a payment achievement date creates its Declaration, Awaiting
      Service Provider Approval (recorded, by the system);
    - a changed amount of a declaration not yet declared is written in its history (the amount
      to declare, and why it changed);
    - a changed amount of a declaration declared but not yet financially approved sends it back
      to Awaiting Service Provider Approval (recorded with the reason), closes the
      commissioner's open task and gives the provider a task saying why;
    - then the steps the service does not require are taken (``auto_steps``).
    ``old_amounts`` / ``new_amounts``: £ per indicator code by calculation id, to say what changed.
    """
    now = timezone.now()
    created: list[Declaration] = []
    recalculated: list[DeclarationTransition] = []
    sent_back: list[transitions.Step] = []
    to_send_back: list[tuple[Declaration, Calculation]] = []
    declared = [declarations[a.pk] for a, _ in calculated if a.pk in declarations and declarations[a.pk].status in _DECLARED]
    for achievement, calculation in calculated:
        if achievement.pk in declarations:
            declarations[achievement.pk].calculation = calculation
    # The amount each declared payment would be declared at now (less any aspiration paid).
    to_declare = amounts_to_declare(declared)
    for achievement, calculation in calculated:
        declaration = declarations.get(achievement.pk)
        if declaration is None:
            if achievement.achievement_date.is_payment_date:
                created.append(_new_declaration(achievement, calculation, now))
            continue
        declaration.calculation = calculation
        if declaration.status == DeclarationStatus.AWAITING_PROVIDER:
            if calculation.pk in old_amounts:
                record = _recalculated_record(declaration, calculation, old_amounts, new_amounts, now)
                if record is not None:
                    recalculated.append(record)
        elif declaration.status in _DECLARED and to_declare[declaration.pk] != declaration.amount_declared:
            to_send_back.append((declaration, calculation))
    reaggregated = _reaggregated([d for d, _ in to_send_back]) if to_send_back else set()
    for declaration, calculation in to_send_back:
        reason = history.REAGGREGATION if declaration.pk in reaggregated else history.SENT_BACK
        sent_back.append(_send_back(declaration, calculation, old_amounts, new_amounts, reason))

    _declarations_create(created, now)
    DeclarationTransition.objects.bulk_create(recalculated, batch_size=1000)
    transitions.record(sent_back, machine=DECLARATIONS, done="sent_back", fields=SEND_BACK_FIELDS)
    for step in sent_back:
        notifications.sent_back(step.row, _sent_back_record(step))
    _auto_steps_after([*created, *(step.row for step in sent_back)], now)
    notifications.ask_providers_to_declare(created)
