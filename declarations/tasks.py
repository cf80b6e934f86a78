"""Celery tasks of the declarations app: thin, they take ids and call a service.

Recalculation is idempotent (unchanged inputs write nothing), so the tasks acknowledge late: a
worker killed mid-task leaves the message to be redelivered and done again (after the broker's
visibility timeout, hours later: ``recalculation_sweep`` recovers it within one sweep).
"""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnreachable

from . import services

logger = logging.getLogger(__name__)

# Achievements per task: a national recalculation (6,410 practices) is split into 16 tasks that
# the worker's processes share (Celery's prefork pool, one process a core: ``--concurrency``).  A
# batch's statements do not grow with its size (ADR 0017), so a few hundred make one task: large
# enough that the fixed cost of a batch is small beside its rows, small enough that the processes
# share a national recalculation evenly.
BATCH_SIZE = 400


def batches_of(ids: list[int]) -> list[list[int]]:
    """The batches ``recalculate_many`` fans ``ids`` out in, in order: ``BATCH_SIZE`` each, and a
    remainder of less than half a batch joins the last rather than making a task of a few (a
    national recalculation's last 10 achievements: a task, its fixed queries and a worker's turn
    for 10 rows, while the other processes wait at the end)."""
    chunks = [ids[start : start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]
    if len(chunks) > 1 and len(chunks[-1]) < BATCH_SIZE // 2:
        last = chunks.pop()
        chunks[-1] = chunks[-1] + last
    return chunks


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
    """Recalculate these achievements: in this task when a batch or fewer, else fanned out in
    batches, a task each, that the worker processes share."""
    ids = sorted(set(achievement_ids))
    batches = batches_of(ids)
    if len(batches) > 1:
        for batch in batches:
            recalculate_many.delay(batch)
        return 0
    return len(services.calculations_recalculate_isolating(achievement_ids=ids))


@shared_task(acks_late=True)
def recalculation_sweep() -> int:
    """Recalculate every payment older than its data (Celery beat runs it periodically)."""
    return services.calculations_sweep(batch_size=BATCH_SIZE)
