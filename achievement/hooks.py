"""What other apps are told when achievement data change.

Explicit calls from the services that change data (no signals): after an extract load, a
submission or a tick-box change, ``achievements_changed`` tells the payments app (through
``achievement.payments``) that those achievements' data changed: it marks their payments as
awaiting recalculation in the current transaction and recalculates them once it commits.
Without a payments app nothing is recalculated.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import payments


def achievements_changed(achievement_ids: Iterable[int]) -> None:
    """Mark the payments these achievements feed as awaiting recalculation (now, in the current
    transaction) and enqueue one recalculation of them, after the transaction commits."""
    ids = sorted(set(achievement_ids))
    if ids:
        payments.data_changed(ids)
