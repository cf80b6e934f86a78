"""The Celery application.  Settings come from Django's, namespaced ``CELERY_``.

Celery beat (the ``beat`` service of docker-compose.yml) runs the recalculation sweep every
``RECALCULATION_SWEEP_SECONDS`` (default 60): it recalculates every payment older than its data,
so a recalculation lost with the broker down or a worker killed is done within one sweep.
"""

import os

from celery import Celery

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
