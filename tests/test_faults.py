"""No recalculation is ever lost (issue 11, section 5): faults a payment system must survive, with
real processes.

- Redis stopped during a submission and started again: the submission succeeds, and the payment
  is current within one sweep of Celery beat.
- A worker killed with SIGKILL mid-recalculation: its message stays unacknowledged (acks_late)
  and would come back only after the broker's visibility timeout, hours later; the sweep on
  another worker finishes the recalculation.
- PostgreSQL restarted while a worker is idle: simulated by terminating the worker's database
  connections (``pg_terminate_backend``), which is what a restart does to them, because
  restarting the shared PostgreSQL server would break every other test run using it; the
  worker's next task succeeds.

Each test runs its own ``redis-server`` on a free port (stopping the shared Redis would break
other runs) and real ``celery worker`` subprocesses against the test database.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.urls import reverse

from accounts.models import Role
from achievement import entry_rules
from achievement.models import Achievement
from cqrs_site.celery import app
from declarations import services, tasks
from declarations.models import Calculation
from participation.models import AchievementDate, Indicator, IndicatorGroup
from tests.achievement import factories as achievement_factories
from tests.declarations.conftest import VALUES
from tests.declarations.factories import qof_2425, submit_values
from tests.factories import PracticeFactory, member
from tests.test_celery_worker import _test_database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SWEEP_SECONDS = 2
TIMEOUT_SECONDS = 45  # a worker starting on a busy machine, then one sweep
CHANGED = {**VALUES, "VI001": {"Numerator": 112, "Denominator": 116}}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, without persistence: stopped, it loses every message."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while not self._reachable():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def _reachable(self) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def _app_connections_reset() -> None:
    """Drop the test process's broker connections, so the next message uses ``broker_url``."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._after_fork()


@pytest.fixture
def broker(tmp_path):
    """A private Redis, and this process's Celery app sending to it (not eagerly)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    if connection.vendor != "postgresql":
        pytest.skip("a worker in another process needs a database server (set DATABASE_URL to PostgreSQL)")
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=redis_server.url, task_always_eager=False, task_default_queue="celery")
    _app_connections_reset()
    try:
        yield redis_server
    finally:
        app.conf.update(saved)
        _app_connections_reset()
        redis_server.stop()


@pytest.fixture
def start_worker(broker, tmp_path):
    """``start_worker(name, beat=False, **env)``: a `celery worker` subprocess on the private
    Redis and the test database (with Celery beat embedded, sweeping every SWEEP_SECONDS)."""
    started: list[subprocess.Popen] = []

    def start(name: str, *, beat: bool = False, **extra_env: str) -> subprocess.Popen:
        log_path = tmp_path / f"worker-{name}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cqrs_site.settings_test",
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": broker.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_TASK_DEFAULT_QUEUE": "celery",
            "CONN_MAX_AGE": "0",
            "RECALCULATION_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "cqrs_site", "worker", "--pool=solo",
            "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel=INFO",
        ]
        if beat:
            command += ["--beat", "--schedule", str(tmp_path / f"beat-{name}")]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        process.log_path = log_path
        started.append(process)
        _wait(lambda: "ready." in _log(process), process, "the worker did not start")
        return process

    yield start
    for process in started:
        _kill(process)


def _kill(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _log(process: subprocess.Popen) -> str:
    return process.log_path.read_text(errors="replace")


def _wait(condition, process: subprocess.Popen, failure: str, timeout: float = TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"{failure}: the worker exited ({process.returncode}):\n{_log(process)[-4000:]}"
        assert time.monotonic() < deadline, f"{failure} within {timeout} s:\n{_log(process)[-4000:]}"
        time.sleep(0.2)


def _is_current(achievement_id: int) -> bool:
    achievement = Achievement.objects.get(pk=achievement_id)
    calculation = Calculation.objects.filter(achievement_id=achievement_id).first()
    return calculation is not None and calculation.data_version == achievement.data_version


def _stale_payment(qof=None) -> Achievement:
    """A practice's QOF payment, calculated, whose data then changed without a recalculation."""
    qof = qof or qof_2425()
    practice = PracticeFactory()
    achievement = submit_values(practice, qof, VALUES, list_size=12_000)
    services.calculations_recalculate(achievement_ids=[achievement.pk])
    submit_values(practice, qof, CHANGED, list_size=12_000)
    services.calculations_mark_stale(achievement_ids=[achievement.pk])
    assert not _is_current(achievement.pk)
    return achievement


# --- Redis stopped during a submission --------------------------------------------------------------


def test_a_submission_while_redis_is_down_succeeds_and_the_payment_is_current_within_one_sweep(
    broker, start_worker, client_for
):
    world = achievement_factories.world()
    achievement_factories.list_sizes(world)
    qof = achievement_factories.qof_2324()
    practice = world["A81001"]
    entry_user = member(practice, Role.ACHIEVEMENT_ENTRY)
    march = Achievement.objects.create(
        provider=practice, service=qof, achievement_date=AchievementDate.objects.get(service=qof, date=dt.date(2024, 3, 31))
    )
    group = IndicatorGroup.objects.get(service=qof, code="AF")
    register = Indicator.objects.get(service=qof, code="AF001")
    field = f"new-{register.pk}-{entry_rules.indicator_fields(register).index('Atrial Fibrillation Register')}"
    worker = start_worker("sweeper", beat=True)

    broker.stop()
    response = client_for(entry_user).post(
        reverse("achievement:group_detail", args=[march.pk, group.pk]), {field: "61", "action": "submit"}
    )

    # The submission committed and the user is told so; its recalculation could not be queued.
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert response["Location"] == reverse("achievement:record_achievement_detail", args=[march.pk])
    march.refresh_from_db()
    assert march.data_version == 1 and march.submissions.filter(is_current=True).exists()
    assert not _is_current(march.pk)

    broker.start()  # empty: the message was never sent
    _wait(lambda: _is_current(march.pk), worker, "the payment was not recalculated by the sweep")
    assert "declarations.tasks.recalculation_sweep" in _log(worker)


# --- a worker killed mid-recalculation ----------------------------------------------------------------


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_recalculation_is_recovered_by_the_sweep_on_another_worker(broker, start_worker):
    achievement = _stale_payment()
    killed = start_worker("killed")

    with transaction.atomic():
        # This test holds the achievement's row: the worker's recalculation waits on it.
        Achievement.objects.select_for_update().get(pk=achievement.pk)
        task_id = tasks.recalculate_many.delay([achievement.pk]).id
        _wait(_waiting_on_a_lock, killed, "the worker did not start the recalculation")
        _kill(killed, signal.SIGKILL)
    assert f"recalculate_many[{task_id}] received" in _log(killed)
    assert f"recalculate_many[{task_id}] succeeded" not in _log(killed)

    # acks_late: the message is neither acknowledged nor lost, but it comes back only after the
    # broker's visibility timeout (hours): nothing recalculates it before then but the sweep.
    assert broker.client().hlen("unacked") == 1
    assert not _is_current(achievement.pk)

    other = start_worker("other", beat=True)
    _wait(lambda: _is_current(achievement.pk), other, "the sweep did not recalculate the payment")
    assert "declarations.tasks.recalculation_sweep" in _log(other)
    assert task_id not in _log(other)  # the killed task was not redelivered: the sweep did it
    assert Calculation.objects.get(achievement=achievement).version == 2


# --- PostgreSQL restarted while a worker is idle ---------------------------------------------------


def _on_the_server(*statements: str) -> None:
    """Run statements about the test database from the server's maintenance database (the
    database itself cannot refuse connections while this one is open to it)."""
    import psycopg2

    db = connection.settings_dict
    server = psycopg2.connect(
        dbname="postgres", user=db.get("USER") or None, password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None, port=db.get("PORT") or None,
    )
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement, {"name": db["NAME"]})
    finally:
        server.close()


def _database_restart_begins() -> None:
    """What a PostgreSQL restart does to the worker: its connections die, and until the server
    is back nobody connects.  Done to this run's own test database only (every other connection
    to it is the worker's, and this test's own is kept to check the figures): restarting the
    shared server would break every other test run."""
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    _on_the_server(
        f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %(name)s "
        f"AND pid <> {connection.cursor().connection.info.backend_pid}",
    )


def _database_restart_ends() -> None:
    _on_the_server(f"ALTER DATABASE {connection.ops.quote_name(connection.settings_dict['NAME'])} WITH ALLOW_CONNECTIONS true")


def test_a_worker_idle_while_postgresql_restarts_runs_its_next_task(broker, start_worker):
    qof = qof_2425()
    first, second = _stale_payment(qof), _stale_payment(qof)
    # Persistent connections, as an operator may set them for speed.
    worker = start_worker("idle", CONN_MAX_AGE="600")
    first_task = tasks.recalculate_many.delay([first.pk]).id
    _wait(lambda: f"{first_task}] succeeded" in _log(worker), worker, "the first recalculation did not run")
    assert _is_current(first.pk)

    _database_restart_begins()
    try:
        during = tasks.recalculate_many.delay([second.pk]).id
        _wait(lambda: f"{during}] raised" in _log(worker), worker, "the task sent during the restart did not fail")
    finally:
        _database_restart_ends()
    assert not _is_current(second.pk)

    # The worker lived through it; its next task connects afresh, and the sweep recalculates
    # what the failed task left stale.
    after = tasks.recalculation_sweep.delay().id
    _wait(lambda: f"{after}] succeeded" in _log(worker), worker, "the worker did not run its next task")
    assert _is_current(second.pk)
