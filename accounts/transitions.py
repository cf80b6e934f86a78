"""One way to move a state machine on: lock, check, transition, record, audit, notify.

Every use case that changes the state of a row (an offer accepted, a declaration approved, next
an aspiration approved) goes through these steps, in this order, inside the use case's
``transaction.atomic()``:

1. **lock** the rows (``SELECT ... FOR UPDATE``) in id order, so two bulk requests cannot
   deadlock; a row the actor may not see is reported exactly like one that does not exist
   (``Machine.lock``, over ``accounts.actors.lock_in_id_order``);
2. **check** every row before changing any (``check``): the role and organisation rule the use
   case gives (``Action.refused``; a ``SystemActor`` is not checked), then django-fsm's
   ``can_proceed`` (``Action.conflict`` says why not), then any further rule (``Action.also``).
   A bulk request is all or nothing; its refusal names the row (``Machine.label``);
3. **transition** each row in memory with the model's FSM method (``apply``), which says what
   is legal and sets the fields the transition owns;
4. **record** (``record``): the rows written set-based (one UPDATE when every row gets the same
   values, else one ``bulk_update``), one INSERT of the immutable transition records (who, when,
   from, to, note, and the amount where the machine records one), one INSERT of the audit events
   (one per row);
5. **notify**: the messages and tasks of the other side, written in the same transaction (so a
   refused or failed request leaves none); their emails go after the commit
   (``accounts.services.message_send``).  A bulk use case notifies the rows together
   (``notify_all``: one UPDATE closing the tasks answered, one INSERT of the messages,
   ``accounts.services.messages_send``), so a request's statements do not grow with its rows.

``run`` does all five for the plain case; a use case that needs something in between (reading
the figures to declare after the lock) calls the steps itself.  The rules stay where they are:
what is legal on the model's FSM, who may act in the app's rules module, the messages in the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from django_fsm import can_proceed

from .actors import is_system, lock_in_id_order
from .errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from .services import audit_record, audit_records

__all__ = ["Action", "Machine", "Step", "actor_user", "apply", "audit", "check", "record", "run"]


def actor_user(actor):
    """The user to record as ``by``: None for a ``SystemActor`` (the note or audit names it)."""
    return None if is_system(actor) else actor


def _audit_event(*, actor, action: str, organisation, obj, detail: dict) -> dict:
    """The audit event of what ``actor`` did; a ``SystemActor`` is named in the detail."""
    if is_system(actor):
        detail = {**detail, "system_actor": actor.name}
        actor = None
    return {"actor": actor, "action": action, "organisation": organisation, "obj": obj, "detail": detail}


def audit(*, actor, action: str, organisation, obj, detail: dict) -> None:
    """Put what ``actor`` did on record; a ``SystemActor`` is named in the detail."""
    audit_record(**_audit_event(actor=actor, action=action, organisation=organisation, obj=obj, detail=detail))


@dataclass(frozen=True)
class Machine:
    """A model's state machine as the services drive it: which rows an actor may take, and where
    and how its transitions are recorded and audited."""

    rows: Callable[[], QuerySet]  # the rows, with what the checks and messages read (select_related)
    may_see: Callable[[Any, Any], bool]  # (user, row): may the user see this row at all
    nothing_selected: Callable[[], Invalid]
    not_found: Callable[[], NotFound]
    record_model: type[Model]  # the immutable transition record (OfferTransition ...)
    subject: str  # the record's foreign key to the row ("offer")
    audit_name: str  # audit actions are "<audit_name>_<done>": "offer_accepted"
    audit_organisation: Callable[[Any], Any]  # whose audit log a row's events go to
    audit_detail: Callable[[Any], dict]  # what identifies the row in the audit detail
    label: Callable[[Any], str]  # how a bulk refusal names the row: "Practice, Service"
    records_amount: bool = False  # the record and the audit carry the transition's amount

    def lock(self, ids: Iterable[int], *, actor) -> list:
        """The selected rows, locked in id order; all must exist and be visible to the actor."""
        return lock_in_id_order(
            self.rows(),
            ids,
            actor=actor,
            may_see=self.may_see,
            nothing_selected=self.nothing_selected(),
            not_found=self.not_found(),
        )


@dataclass(frozen=True)
class Action:
    """One use case's transition: the FSM method and the rules that must hold first."""

    transition: str  # the FSM method on the model ("accept")
    done: str  # what it did, for the audit action: "accepted"
    refused: Callable[[Any, Any], str | None]  # (user, row): why the user may not; None: may
    not_allowed: type[NotAllowed]  # the app's error for a refusal of the role
    conflict: Callable[[Any], Conflict]  # why the row's state does not allow the transition
    also: Callable[[Any], None] | None = None  # a further rule of the row: raises a DomainError
    organisation: Callable[[Any], Any] | None = None  # the audit log, if not the machine's


@dataclass
class Step:
    """One row's transition, staged in memory before anything is written."""

    row: Any
    from_status: str
    actor: Any
    note: str
    amount: Decimal | None = None
    record: Mapping[str, Any] = field(default_factory=dict)  # further fields of the record


def check(rows: Sequence, *, actor, action: Action, machine: Machine) -> None:
    """Check every row before anything changes: the request is all or nothing.  When several rows
    are checked, the refusal says which ("Practice, Service: ...")."""
    many = len(rows) > 1
    for row in rows:
        try:
            if not is_system(actor):
                reason = action.refused(actor, row)
                if reason:
                    raise action.not_allowed(reason)
            if not can_proceed(getattr(row, action.transition)):
                raise action.conflict(row)
            if action.also is not None:
                action.also(row)
        except DomainError as error:
            if not many:
                raise
            raise type(error)(f"{machine.label(row)}: {error.message}") from None


def apply(
    rows: Iterable,
    *,
    actor,
    action: Action,
    note: str = "",
    arguments: Callable[[Any], dict] | None = None,
    amount: Callable[[Any], Decimal | None] | None = None,
) -> list[Step]:
    """Run the FSM transition on each row (in memory) and stage its record.

    ``arguments(row)``: the keyword arguments of the FSM method; ``amount(row)``: the amount the
    record carries, read after the transition."""
    steps = []
    for row in rows:
        from_status = row.status
        getattr(row, action.transition)(**(arguments(row) if arguments else {}))
        steps.append(Step(row, from_status, actor, note, amount(row) if amount else None))
    return steps


def record(
    steps: Sequence[Step],
    *,
    machine: Machine,
    done: str,
    fields: Sequence[str] = (),
    same: dict | None = None,
    organisation: Callable[[Any], Any] | None = None,
    now=None,
) -> None:
    """Write the staged transitions: the rows, one INSERT of their records, one INSERT of their
    audit events (one per row).  Every row has an ``updated_at``, set to ``now``.

    ``same``: the values every row gets (expressions such as ``F`` allowed): one plain UPDATE of
    them and the status.  Else, when only the status changes and every row reaches the same one,
    one UPDATE too; otherwise a ``bulk_update`` of ``fields`` and the status.
    """
    if not steps:
        return
    now = now or timezone.now()
    model = type(steps[0].row)
    rows = {}
    for step in steps:
        step.row.updated_at = now
        rows[step.row.pk] = step.row
    statuses = {step.row.status for step in steps}
    if same is None and not fields and len(statuses) == 1:
        same = {"status": statuses.pop()}
    if same is not None:
        model.objects.filter(pk__in=list(rows)).update(**same, updated_at=now)
    else:
        model.objects.bulk_update(list(rows.values()), [*fields, "status", "updated_at"], batch_size=1000)
    machine.record_model.objects.bulk_create(
        [
            machine.record_model(
                **{machine.subject: step.row},
                from_status=step.from_status,
                to_status=step.row.status,
                by=actor_user(step.actor),
                at=now,
                note=step.note,
                **({"amount": step.amount} if machine.records_amount else {}),
                **step.record,
            )
            for step in steps
        ],
        batch_size=1000,
    )
    organisation = organisation or machine.audit_organisation
    events = []
    for step in steps:
        detail = {**machine.audit_detail(step.row), "from": step.from_status, "to": step.row.status}
        if machine.records_amount:
            detail["amount"] = str(step.amount)
        events.append(
            _audit_event(actor=step.actor, action=f"{machine.audit_name}_{done}",
                         organisation=organisation(step.row), obj=step.row, detail=detail)
        )
    audit_records(events=events)


def run(
    *,
    machine: Machine,
    action: Action,
    ids: Iterable[int],
    actor,
    note: str = "",
    arguments: Callable[[Any], dict] | None = None,
    amount: Callable[[Any], Decimal | None] | None = None,
    same: dict | None = None,
    notify: Callable[[Any], None] | None = None,
    notify_all: Callable[[list], None] | None = None,
    now=None,
) -> list:
    """Lock, check, transition, record, audit and notify: the whole use case on the selected rows.
    Returns the rows, transitioned.  Call it inside the use case's ``transaction.atomic()``.

    ``notify(row)`` tells people of one row; ``notify_all(rows)`` of all of them at once (set-based:
    the statements of a bulk request then do not grow with its rows)."""
    rows = machine.lock(ids, actor=actor)
    check(rows, actor=actor, action=action, machine=machine)
    steps = apply(rows, actor=actor, action=action, note=note, arguments=arguments, amount=amount)
    record(steps, machine=machine, done=action.done, same=same, organisation=action.organisation, now=now)
    if notify is not None:
        for row in rows:
            notify(row)
    if notify_all is not None:
        notify_all(rows)
    return rows
