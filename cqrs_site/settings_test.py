"""Settings for the test suite: the real settings, with tasks eager by default (the worker test
switches them off), plain static storage served from the finders, and a fast password hasher.

Cache keys of one test run never meet those an earlier run left in a shared Redis (progress of
extract 4, say); worker subprocesses inherit the prefix through the environment."""

import os
import uuid

# Read by the settings below, so set before they are imported.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("CQRS_TEST_CACHE_PREFIX", f"test-{uuid.uuid4().hex[:12]}")

from .settings import *  # noqa: E402,F403
from .settings import CACHES, STORAGES  # noqa: E402

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {name: {**config, "KEY_PREFIX": os.environ["CQRS_TEST_CACHE_PREFIX"]} for name, config in CACHES.items()}
