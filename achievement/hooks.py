"""What other apps are told when achievement data changes.

Explicit calls from the services that change data (no signals): after an extract load, a
submission or a tick-box change, ``achievements_changed`` asks the declarations app to
recalculate the payments of those achievements once the transaction commits.  The declarations
app is imported lazily and is optional: when it has no ``recalculate_many`` task (an install
without it, or while it is being built) nothing is enqueued.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable

logger = logging.getLogger(__name__)


def _recalculate_task():
    try:
        tasks = importlib.import_module("declarations.tasks")
    except ImportError:
        return None
    return getattr(tasks, "recalculate_many", None)


def _mark_stale():
    try:
        services = importlib.import_module("declarations.services")
    except ImportError:
        return None
    return getattr(services, "calculations_mark_stale", None)


def achievements_changed(achievement_ids: Iterable[int]) -> None:
    """Mark the payments these achievements feed as awaiting recalculation (now, in the current
    transaction) and enqueue one recalculation of them, after the transaction commits."""
    ids = sorted(set(achievement_ids))
    if not ids:
        return
    mark_stale = _mark_stale()
    if mark_stale is not None:
        mark_stale(achievement_ids=ids)
    task = _recalculate_task()
    if task is None:
        logger.debug("No declarations.tasks.recalculate_many: %s achievement(s) not recalculated", len(ids))
        return
    task.delay_on_commit(ids)
