"""The Celery application.  Settings come from Django's, namespaced ``CELERY_``.

Celery beat (the ``beat`` service of docker-compose.yml) runs the recalculation sweep every
``RECALCULATION_SWEEP_SECONDS`` (default 60): it recalculates every payment older than its data,
so a recalculation lost with the broker down or a worker killed is done within one sweep.
"""

import gc
import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqrs_site.settings")

RECALCULATION_SWEEP_SECONDS = float(os.environ.get("RECALCULATION_SWEEP_SECONDS", "60"))

app = Celery("cqrs_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = {
    "recalculation-sweep": {
        "task": "declarations.tasks.recalculation_sweep",
        "schedule": RECALCULATION_SWEEP_SECONDS,
        # A sweep not started before the next is due is dropped: sweeps never pile up.
        "options": {"expires": RECALCULATION_SWEEP_SECONDS},
    },
}
app.autodiscover_tasks()


@worker_init.connect
def _warm_before_the_pool_forks(**kwargs) -> None:
    """Done once in the worker's main process, before the prefork pool forks its processes (which
    inherit it), what each process would otherwise do on its first task: the URL patterns
    resolved (every app's views imported: 0.45 s), which a recalculation's messages reverse; then
    the objects alive frozen (``gc.freeze``)."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 - the property populates the resolver
    # What is alive now (Django, the apps, the URL patterns: most of a process's objects) lives
    # as long as the process: moved out of the collector's generations, so that the full
    # collections the recalculation's many objects set off do not walk it again each time
    # (12% of a national recalculation's worker CPU, and its slowest batches; ADR 0017).  Before
    # the fork, which also spares the pool processes' copies of those pages.
    gc.collect()
    gc.freeze()
