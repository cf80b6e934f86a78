"""A GPES extract loaded by a real Celery worker (a subprocess on Redis), as in production."""

from __future__ import annotations

import time

import pytest

from achievement import services
from achievement.models import ExtractLoad, ExtractStatus, IndicatorValue, Submission
from tests.achievement import factories
from tests.test_celery_worker import _log, redis_url, worker, worker_queue  # noqa: F401 - fixtures

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT_SECONDS = 90


def test_a_received_extract_is_loaded_by_a_real_worker(worker, fixture_path):  # noqa: F811
    world = factories.world(with_list_sizes=False)
    service = factories.qof_2324()
    for code in ("A81001", "A81002"):
        factories.approved_offer(service, world[code], world["icb"])

    extract = services.extract_receive(path=fixture_path("qof_valid.csv"))
    assert ExtractLoad.objects.get(pk=extract.pk).status == ExtractStatus.RECEIVED  # nothing ran here

    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        extract = ExtractLoad.objects.get(pk=extract.pk)
        if extract.status in (ExtractStatus.LOADED, ExtractStatus.REJECTED):
            break
        assert worker.poll() is None, f"the worker exited ({worker.returncode}):\n{_log(worker)}"
        time.sleep(0.25)
    else:
        pytest.fail(f"the worker did not load the extract within {TIMEOUT_SECONDS} s:\n{_log(worker)}")

    assert extract.status == ExtractStatus.LOADED, extract.errors
    assert Submission.objects.filter(is_current=True).count() == 2
    assert IndicatorValue.objects.count() == 10
    assert "achievement.tasks.extract_load_task" in _log(worker)

    # The load enqueues the recalculation after commit; the same worker calculates the payments.
    from declarations.models import Calculation
    from declarations.services import calculation_recalculate

    deadline = time.monotonic() + TIMEOUT_SECONDS
    while Calculation.objects.count() < 2:
        assert time.monotonic() < deadline, f"no calculated payments within {TIMEOUT_SECONDS} s:\n{_log(worker)}"
        assert worker.poll() is None, f"the worker exited ({worker.returncode}):\n{_log(worker)}"
        time.sleep(0.25)
    assert "declarations.tasks.recalculate_many" in _log(worker)
    for calculation in Calculation.objects.all():
        assert calculation.indicators.exists()
        # Recalculating in this process finds nothing to change: the worker got it right.
        again = calculation_recalculate(achievement_id=calculation.achievement_id)
        assert (again.version, again.total_amount) == (calculation.version, calculation.total_amount)
