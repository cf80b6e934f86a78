"""PCN membership over time (docs/adr/0020-pcn-membership-over-time.md).

A practice is a member of one PCN at a time, from a start date to an end date (both included);
``Organisation.pcn`` is the current one.  A move (joining, leaving or changing PCN) takes effect
on a date: the open membership ends the day before and a new one starts on it.  Moves are recorded
by the mapping-file loader (``accounts.loaders``) and by a commissioner on a practice's page
(``practice_pcn_move``).

What a move means for achievement data (the PCN's Network Contract DES achievement is the sum of
its members' on each date) belongs to a higher app: it registers a listener here
(``register_move_listener``, in its ``AppConfig.ready()``), called with the moves in the
recording transaction.  Without one a move changes the memberships only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import permissions
from .errors import Invalid, NotAllowed, NotFound
from .models import Organisation, OrganisationKind, PcnMembership, Role

# Who may record a move on a practice's page: Commissioning Management at its ICB.
MOVE_ROLES = frozenset({Role.COMMISSIONING_MANAGEMENT})


@dataclass(frozen=True)
class PcnMove:
    """A practice's move, effective on ``effective``: from ``from_pcn_id`` (None: it was in no
    PCN) to ``to_pcn_id`` (None: it left its PCN)."""

    practice_id: int
    from_pcn_id: int | None
    to_pcn_id: int | None
    effective: dt.date


MoveListener = Callable[[Sequence[PcnMove], object], None]  # (moves, user or None)
_listeners: list[MoveListener] = []


def register_move_listener(listener: MoveListener) -> None:
    """Call ``listener(moves, user)`` whenever moves are recorded (in the recording transaction)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _moved(moves: Sequence[PcnMove], user) -> None:
    if moves:
        for listener in _listeners:
            listener(moves, user)


# Reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    practice_id: int
    pcn_id: int
    start: dt.date | None
    end: dt.date | None

    def covers(self, date: dt.date) -> bool:
        return (self.start is None or self.start <= date) and (self.end is None or self.end >= date)


class MembershipTable:
    """Memberships read once (two queries), asked many times: who was in which PCN on a date."""

    def __init__(self, spans: Iterable[Span]):
        self.by_practice: dict[int, list[Span]] = defaultdict(list)
        self.by_pcn: dict[int, list[Span]] = defaultdict(list)
        for span in spans:
            self.by_practice[span.practice_id].append(span)
            self.by_pcn[span.pcn_id].append(span)

    def pcn_on(self, practice_id: int, date: dt.date) -> int | None:
        return next((s.pcn_id for s in self.by_practice.get(practice_id, ()) if s.covers(date)), None)

    def members_on(self, pcn_id: int, date: dt.date) -> list[int]:
        return sorted({s.practice_id for s in self.by_pcn.get(pcn_id, ()) if s.covers(date)})


def membership_table(*, practice_ids: Iterable[int] | None = None, pcn_ids: Iterable[int] | None = None) -> MembershipTable:
    """The memberships of these practices, or of the practices ever in these PCNs (all when
    neither is given).  A practice with none recorded is a member of its current PCN throughout."""
    recorded = PcnMembership.objects.all()
    unrecorded = Organisation.objects.filter(kind=OrganisationKind.PRACTICE, pcn__isnull=False, pcn_memberships=None)
    if practice_ids is not None:
        practice_ids = list(practice_ids)
        recorded = recorded.filter(practice_id__in=practice_ids)
        unrecorded = unrecorded.filter(pk__in=practice_ids)
    if pcn_ids is not None:
        pcn_ids = list(pcn_ids)
        recorded = recorded.filter(pcn_id__in=pcn_ids)
        unrecorded = unrecorded.filter(pcn_id__in=pcn_ids)
    spans = [Span(*row) for row in recorded.values_list("practice_id", "pcn_id", "start", "end").iterator()]
    spans += [Span(pk, pcn_id, None, None) for pk, pcn_id in unrecorded.values_list("pk", "pcn_id").iterator()]
    return MembershipTable(spans)


def practice_memberships(*, practice: Organisation) -> list[PcnMembership]:
    """The practice's memberships, earliest first, with their PCNs (one query)."""
    return list(PcnMembership.objects.filter(practice=practice).select_related("pcn"))


def move_pcn_choices(*, user, practice: Organisation):
    """The PCNs a commissioner may move ``practice`` to: those its ICB commissions."""
    return Organisation.objects.pcns().filter(commissioner_id=practice.commissioner_id).order_by("name", "pk")


def can_move_practice(user, practice: Organisation) -> bool:
    return practice.kind == OrganisationKind.PRACTICE and permissions.can_act_as_commissioner(
        user, practice, MOVE_ROLES
    )


# Writing ---------------------------------------------------------------------------------------


class MovesRefused(Invalid):
    """Some moves cannot be recorded; ``refusals``: the reason by practice id."""

    def __init__(self, refusals: dict[int, str]):
        self.refusals = refusals
        reasons = list(refusals.values())
        more = f" And {len(reasons) - 5} more." if len(reasons) > 5 else ""
        super().__init__(" ".join(reasons[:5]) + more)


def _refusal(practice: Organisation, current: PcnMembership | None, last_end: dt.date | None, effective: dt.date) -> str | None:
    if current is not None and current.start is not None and effective <= current.start:
        return (
            f"The move must take effect after {practice.name} joined its current PCN "
            f"({current.start:%d/%m/%Y})."
        )
    if current is None and last_end is not None and effective <= last_end:
        return f"The move must take effect after {practice.name} left its last PCN ({last_end:%d/%m/%Y})."
    return None


def record_moves(*, wanted: dict[int, int | None], effective: dt.date, user=None, now: dt.datetime | None = None) -> list[PcnMove]:
    """Record that each practice (id) is in the PCN (id, or None for none) from ``effective``.

    The caller's transaction; the practices are locked.  A practice already there is left
    alone; a practice without recorded memberships gets its history first (its current PCN
    from a date not recorded).  Ends the open membership the day before ``effective``, opens the
    new one on it, and sets ``Organisation.pcn``.  Raises ``MovesRefused`` (nothing written) when a
    move would not be after the practice's current membership began, or ``effective`` is in the
    future (``Organisation.pcn`` is the PCN of today).  Tells the listeners.
    """
    now = now or timezone.now()
    if effective > timezone.localdate(now):
        raise MovesRefused({pk: f"The date of the move ({effective:%d/%m/%Y}) is in the future." for pk in wanted})
    practices = {
        p.pk: p for p in Organisation.objects.select_for_update().filter(pk__in=list(wanted), kind=OrganisationKind.PRACTICE)
    }
    moving = {pk: pcn for pk, pcn in wanted.items() if pk in practices and practices[pk].pcn_id != pcn}
    if not moving:
        return []
    memberships: dict[int, list[PcnMembership]] = defaultdict(list)
    for membership in PcnMembership.objects.select_for_update().filter(practice_id__in=list(moving)).order_by("pk"):
        memberships[membership.practice_id].append(membership)

    errors: dict[int, str] = {}
    moves, to_create, to_end = [], [], []
    for pk, pcn_id in moving.items():
        practice = practices[pk]
        rows = memberships.get(pk, [])
        if not rows and practice.pcn_id is not None:
            # Never recorded: the current PCN, from a date not recorded.
            rows = [PcnMembership(practice_id=pk, pcn_id=practice.pcn_id, created_at=now)]
            to_create.append(rows[0])
        current = next((m for m in rows if m.end is None), None)
        last_end = max((m.end for m in rows if m.end is not None), default=None)
        refusal = _refusal(practice, current, last_end, effective)
        if refusal:
            errors[pk] = refusal
            continue
        if current is not None:
            current.end = effective - dt.timedelta(days=1)
            current.ended_at, current.ended_by = now, user
            if current.pk is not None:
                to_end.append(current)
        if pcn_id is not None:
            to_create.append(PcnMembership(practice_id=pk, pcn_id=pcn_id, start=effective, created_at=now, created_by=user))
        moves.append(PcnMove(pk, practice.pcn_id, pcn_id, effective))
        practice.pcn_id = pcn_id
    if errors:
        raise MovesRefused(errors)
    PcnMembership.objects.bulk_update(to_end, ["end", "ended_at", "ended_by"], batch_size=1000)
    PcnMembership.objects.bulk_create(to_create, batch_size=1000)
    Organisation.objects.bulk_update([practices[m.practice_id] for m in moves], ["pcn"], batch_size=1000)
    _moved(moves, user)
    return moves


def open_memberships_for(*, practice_pcns: Iterable[tuple[int, int | None]], now: dt.datetime | None = None) -> int:
    """Open a membership (from a date not recorded) for each new practice (id, PCN id) in a PCN:
    the practices the loader created.  One statement.  Returns how many."""
    now = now or timezone.now()
    rows = [PcnMembership(practice_id=pk, pcn_id=pcn_id, created_at=now) for pk, pcn_id in practice_pcns if pcn_id]
    return len(PcnMembership.objects.bulk_create(rows)) if rows else 0


@transaction.atomic
def practice_pcn_move(*, user, practice_id: int, pcn_id: int | None, effective: dt.date) -> PcnMove:
    """A commissioner records that a practice joins, leaves or changes PCN from ``effective``.

    Authorised per object: Commissioning Management at the practice's ICB; the PCN must be one
    that ICB commissions.  Audited.  The achievement data follow (the listeners): each PCN's
    Network Contract DES achievement on and after the date is re-aggregated and recalculated.
    """
    from .services import audit_record

    practice = Organisation.objects.filter(pk=practice_id, kind=OrganisationKind.PRACTICE).first()
    if practice is None or not permissions.can_see_organisation(user, practice):
        raise NotFound("The practice could not be found.")
    if not can_move_practice(user, practice):
        raise NotAllowed("Only the practice's Commissioning Organisation (Commissioning Management) can record a PCN move.")
    pcn = None
    if pcn_id is not None:
        pcn = move_pcn_choices(user=user, practice=practice).filter(pk=pcn_id).first()
        if pcn is None:
            raise Invalid("Select a Primary Care Network your organisation commissions.")
    if practice.pcn_id == pcn_id:
        raise Invalid(
            f"{practice.name} is already in {pcn.name}." if pcn else f"{practice.name} is already in no PCN."
        )
    moves = record_moves(wanted={practice.pk: pcn_id}, effective=effective, user=user)
    move = moves[0]
    audit_record(
        actor=user,
        action="practice_pcn_moved",
        organisation=practice,
        obj=practice,
        detail={
            "practice": practice.ods_code,
            "from_pcn": _code(move.from_pcn_id),
            "to_pcn": pcn.ods_code if pcn else None,
            "effective": f"{effective:%Y-%m-%d}",
        },
    )
    return move


def _code(pk: int | None) -> str | None:
    if pk is None:
        return None
    return Organisation.objects.filter(pk=pk).values_list("ods_code", flat=True).first()


def memberships_changed_after(*, payments: Iterable[tuple[int, dt.date, dt.datetime]]) -> set[tuple[int, dt.date, dt.datetime]]:
    """Of these (PCN id, achievement date, since), those whose membership on that date was changed
    (a practice joined or left on or before it) after ``since``: one query."""
    payments = list(payments)
    if not payments:
        return set()
    earliest = min(since for _, _, since in payments)
    rows = PcnMembership.objects.filter(pcn_id__in={pcn for pcn, _, _ in payments}).filter(
        Q(created_at__gt=earliest, start__isnull=False) | Q(ended_at__gt=earliest)
    ).values_list("pcn_id", "start", "created_at", "end", "ended_at")
    changes: dict[int, list[tuple]] = defaultdict(list)
    for pcn_id, *change in rows:
        changes[pcn_id].append(change)

    def changed(pcn_id: int, date: dt.date, since: dt.datetime) -> bool:
        return any(
            (start is not None and created > since and start <= date)
            or (end is not None and ended is not None and ended > since and end < date)
            for start, created, end, ended in changes.get(pcn_id, ())
        )

    return {p for p in payments if changed(*p)}
