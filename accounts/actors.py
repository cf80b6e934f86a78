"""Who acts, and taking the rows a transition acts on.

Shared by every app whose services transition state machines (offers, declarations).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class SystemActor:
    """A scripted actor: the ``offer_service`` command (national roll-outs, the Network Contract
    DES) and the demo seed.

    It is a distinct type, not a user: the web views always pass ``request.user``, so no request
    can reach this path; only code running on the server with the database credentials (a
    management command) can construct one.  What it does is recorded with ``by = None`` and a note
    naming it, and in the audit log with ``system_actor``.
    """

    name: str


def is_system(actor) -> bool:
    return isinstance(actor, SystemActor)


def lock_in_id_order(
    queryset: QuerySet[M],
    ids: Iterable[int],
    *,
    actor,
    may_see: Callable[[object, M], bool],
    nothing_selected: Exception,
    not_found: Exception,
) -> list[M]:
    """Lock the selected rows (``SELECT ... FOR UPDATE``) in id order, so two bulk requests
    cannot deadlock, and check that the actor may see every one of them.

    A row of another organisation is reported exactly like one that does not exist.
    """
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        raise nothing_selected
    rows = list(queryset.select_for_update(of=("self",)).filter(pk__in=wanted).order_by("pk"))
    if len(rows) != len(wanted) or not all(is_system(actor) or may_see(actor, row) for row in rows):
        raise not_found
    return rows
