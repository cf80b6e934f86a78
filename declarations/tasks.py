"""Celery tasks of the declarations app: thin, they take ids and call a service.

Recalculation is idempotent (unchanged inputs write nothing), so the tasks acknowledge late: a
worker killed mid-task leaves the message to be redelivered and done again (after the broker's
visibility timeout, hours later: ``recalculation_sweep`` recovers it within one sweep).
"""

from __future__ import annotations

import logging
import os
from functools import partial

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnreachable

from . import services

logger = logging.getLogger(__name__)

# Achievements per task: a national recalculation is split into tasks of this size that several
# workers share.  A batch's statements do not grow with its size (ADR 0017), so a few hundred
# make one task: large enough that the fixed cost of a batch is small beside its rows, small
# enough that two workers share a national recalculation evenly.
BATCH_SIZE = 400
# Batches a task runs, two at a time in threads (``services.calculations_recalculate_overlapping``):
# one worker then keeps Python and PostgreSQL busy together, so a national recalculation (6,410
# practices) is 3 tasks.  A deployment with more workers than that, and the cores for them, sets
# ``RECALCULATION_BATCHES_A_TASK`` lower (1: a task a batch, no threads) so that they share it.
BATCHES_A_TASK = max(1, int(os.environ.get("RECALCULATION_BATCHES_A_TASK", "8")))


@shared_task(acks_late=True)
def recalculate_task(achievement_id: int) -> None:
    services.calculation_recalculate(achievement_id=achievement_id)


class QueuedAfterCommit(DjangoTask):
    """A task queued once the change it follows has committed (``delay_on_commit``).  The broker
    unreachable then (Redis down) must not fail the change, which stands: it is logged, and the
    periodic ``recalculation_sweep`` does the work."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(partial(self._delay_or_log, args, kwargs))

    def _delay_or_log(self, args, kwargs) -> None:
        try:
            self.delay(*args, **kwargs)
        except BrokerUnreachable:
            logger.warning("%s%r not queued (the broker is unreachable): the sweep will do it", self.name, args, exc_info=True)


@shared_task(base=QueuedAfterCommit, acks_late=True)
def recalculate_many(achievement_ids: list[int]) -> int:
    """Recalculate these achievements: in this task when few, else fanned out in batches."""
    ids = sorted(set(achievement_ids))
    span = BATCH_SIZE * BATCHES_A_TASK
    if len(ids) > span:
        for start in range(0, len(ids), span):
            recalculate_many.delay(ids[start : start + span])
        return 0
    return services.calculations_recalculate_overlapping(
        batches=[ids[start : start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]
    )


@shared_task(acks_late=True)
def recalculation_sweep() -> int:
    """Recalculate every payment older than its data (Celery beat runs it periodically)."""
    return services.calculations_sweep(batch_size=BATCH_SIZE)
