"""The Celery application.  Settings come from Django's, namespaced ``CELERY_``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqrs_site.settings")

app = Celery("cqrs_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
