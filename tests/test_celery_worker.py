"""A real Celery worker (a subprocess on Redis) emails a Message Centre message.

Everywhere else in the suite tasks run eagerly, in-process.  This test sends the real task
through the real broker to a real ``celery worker`` that reads and writes the test database, so
it proves the production wiring: ``delay_on_commit``, the broker, the worker's Django set-up and
its database connection.  The worker consumes a queue of its own, so it never takes another test
run's tasks, and is stopped when the test ends.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from accounts.models import Membership, Message, Organisation, OrganisationKind, Role, User
from accounts.services import message_send
from cqrs_site.celery import app

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 60

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def _test_database_url() -> str:
    """The database pytest-django created for this run, as a URL for the worker."""
    db = connection.settings_dict
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{quote(db['NAME'])}"


@pytest.fixture
def redis_url() -> str:
    url = settings.REDIS_URL
    if not url:
        pytest.skip("REDIS_URL is not set: there is no broker for a real worker")
    if not _redis_reachable(url):
        pytest.skip(f"Redis is not reachable at {url}")
    if connection.vendor != "postgresql":
        pytest.skip("a worker in another process needs a database server (set DATABASE_URL to PostgreSQL)")
    return url


@pytest.fixture
def worker_queue(redis_url):
    """A queue name of this test's own; the app sends to it, not eagerly, while the test runs."""
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    saved = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue")}
    app.conf.update(task_always_eager=False, task_default_queue=queue)
    try:
        yield queue
    finally:
        app.conf.update(saved)
        _forget(redis_url, [queue, *redis_keys_matching(redis_url, f"_kombu.binding*{queue}")])


def redis_keys_matching(url: str, pattern: str) -> list[str]:
    import redis

    return [key.decode() for key in redis.Redis.from_url(url).scan_iter(match=pattern)]


def _forget(url: str, keys: list[str]) -> None:
    import redis

    if keys:
        redis.Redis.from_url(url).delete(*keys)


@pytest.fixture
def worker(redis_url, worker_queue, tmp_path):
    """A `celery -A cqrs_site worker` subprocess consuming only ``worker_queue``."""
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cqrs_site.settings_test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Tasks the worker itself enqueues (a load's recalculation) stay on this test's queue.
        "CELERY_TASK_DEFAULT_QUEUE": worker_queue,
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "cqrs_site", "worker",
        "--pool=solo", "--queues", worker_queue, "--hostname", f"{worker_queue}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    process.log_path = log_path
    try:
        yield process
    finally:
        _stop(process)
        task_ids = re.findall(r"Task [\w.]+\[([0-9a-f-]{36})\]", log_path.read_text(errors="replace"))
        _forget(redis_url, [f"celery-task-meta-{task_id}" for task_id in set(task_ids)])


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task in hand, then exit
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _log(process) -> str:
    return process.log_path.read_text(errors="replace")[-4000:]


def test_a_real_worker_emails_a_message_to_the_organisations_members(worker):
    practice = Organisation.objects.create(ods_code="A81001", name="THE DENSHAM SURGERY", kind=OrganisationKind.PRACTICE)
    user = User.objects.create_user("practice-manager@example.nhs.net", "a-long-test-password")
    Membership.objects.create(user=user, organisation=practice, role=Role.SERVICE_MANAGEMENT)

    with transaction.atomic():
        message = message_send(
            organisation=practice,
            subject="Offer rejected",
            body="The commissioner has been told.",
            link="/messages/",
        )
    # Sent on commit to the worker: nothing ran in this process.
    message.refresh_from_db()
    assert message.emailed_at is None

    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.emailed_at is not None:
            break
        assert worker.poll() is None, f"the worker exited ({worker.returncode}):\n{_log(worker)}"
        time.sleep(0.25)
    else:
        pytest.fail(f"the worker did not email the message within {TIMEOUT_SECONDS} s:\n{_log(worker)}")

    assert message.emailed_to == 1
    assert Message.objects.filter(pk=message.pk, emailed_at__isnull=False).count() == 1
    assert "accounts.tasks.message_email" in _log(worker)
