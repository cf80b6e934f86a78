"""Benchmark: recalculate every practice's payment through real Celery workers, 1 worker then 2.

    DATABASE_URL=postgres://root@127.0.0.1:5432/cqrs_national \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python benchmarks/recalculate_national.py --service QOF2324 --achievement-date 2024-03-31

reads a database where a national extract has been loaded (benchmarks/load_national_extract.py)
and, for each worker count, deletes the stored calculations, enqueues one
``declarations.tasks.recalculate_many`` with every achievement of the service and date (it fans
out into batches the workers share), waits for the last calculation and prints calculations per
second and end-to-end seconds; then it enqueues the same again, which must write nothing
(unchanged inputs), and prints that too.

With ``--synthetic N`` it first builds a synthetic national database when the one given has no
achievement for the service and date: N practices (8 to a PCN, 150 to an ICB), QOF2324 from
participation/service_definitions/qof-2023-24.yaml, random but consistent values for every
indicator (numerator <= denominator, registers from a random prevalence) and a list size each.
The database is created and migrated if it does not exist.

The workers are real ``celery worker`` subprocesses (``--concurrency`` pool processes each, default
1; docker-compose.yml deploys a worker with 2, one a core of this machine) on the Redis given (use a
database number of its own, so no other worker takes the tasks), with connections kept between tasks
(``CONN_MAX_AGE`` 60, as docker-compose.yml deploys them).  Figures go to stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/cqrs_calc_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
QOF_DEFINITION = ROOT / "participation" / "service_definitions" / "qof-2023-24.yaml"


def _ensure_database(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    params = {"host": parsed.hostname or "127.0.0.1", "port": parsed.port or 5432, "user": parsed.username}
    if parsed.password:
        params["password"] = parsed.password
    connection = psycopg2.connect(dbname="postgres", **params)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}", file=sys.stderr)
    connection.close()


def _setup(database_url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "cqrs_site.settings"
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------
# A synthetic national database
# ---------------------------------------------------------------------------------------------


def _synthetic_build(*, practices: int, service_code: str, date: dt.date, seed: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from accounts.models import ListSize, Organisation, OrganisationKind
    from achievement.models import Achievement, IndicatorValue, Submission, SubmissionSource
    from declarations.calculation import register_field_of
    from participation.definitions import DENOMINATOR_FIELD, NUMERATOR_FIELD, VALUE_FIELD, YES_NO_FIELD
    from participation.models import AchievementDate, IndicatorKind, QualityService

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not QualityService.objects.filter(code=service_code).exists():
        call_command("load_quality_service", str(QOF_DEFINITION), stdout=sys.stderr)
    service = QualityService.objects.get(code=service_code)
    achievement_date = AchievementDate.objects.get(service=service, date=date)
    indicators = list(service.indicators.select_related("group"))
    rng = random.Random(seed)

    with transaction.atomic():
        icbs = Organisation.objects.bulk_create(
            Organisation(
                ods_code=f"Q{i // 26 % 10}{chr(65 + i % 26)}",
                name=f"Synthetic ICB {i}",
                kind=OrganisationKind.ICB,
            )
            for i in range((practices + 149) // 150)
        )
        pcns = Organisation.objects.bulk_create(
            Organisation(
                ods_code=f"U{90000 + i:05d}",
                name=f"Synthetic PCN {i}",
                kind=OrganisationKind.PCN,
                commissioner=icbs[i * 8 // 150],
            )
            for i in range((practices + 7) // 8)
        )
        orgs = Organisation.objects.bulk_create(
            Organisation(
                ods_code=f"Z{i:05d}",
                name=f"Synthetic Practice {i}",
                kind=OrganisationKind.PRACTICE,
                pcn=pcns[i // 8],
                commissioner=pcns[i // 8].commissioner,
            )
            for i in range(practices)
        )
        sizes = {org.pk: max(1_000, int(rng.gauss(9_964, 4_000))) for org in orgs}
        ListSize.objects.bulk_create(
            ListSize(organisation_id=pk, date=date, size=size) for pk, size in sizes.items()
        )
        achievements = Achievement.objects.bulk_create(
            Achievement(provider=org, service=service, achievement_date=achievement_date) for org in orgs
        )
        submissions = Submission.objects.bulk_create(
            Submission(achievement=a, source=SubmissionSource.EXTRACT, status="submitted", is_current=True)
            for a in achievements
        )
        values: list[IndicatorValue] = []
        for submission, achievement in zip(submissions, achievements, strict=True):
            list_size = sizes[achievement.provider_id]
            for indicator in indicators:
                fields: dict[str, int] = {}
                register_field = register_field_of(indicator)
                prevalence = float(indicator.group.national_prevalence or 0.05)
                register = int(list_size * prevalence * rng.uniform(0.5, 1.5))
                if indicator.kind == IndicatorKind.FRACTION:
                    denominator = int(register * rng.uniform(0.6, 1.0)) if rng.random() > 0.02 else 0
                    fields[DENOMINATOR_FIELD] = denominator
                    fields[NUMERATOR_FIELD] = int(denominator * rng.uniform(0.3, 1.0))
                    if register_field:
                        fields[register_field] = register
                elif indicator.kind == IndicatorKind.REGISTER:
                    fields[register_field] = register
                elif indicator.kind == IndicatorKind.YES_NO:
                    fields[YES_NO_FIELD] = int(rng.random() < 0.9)
                elif indicator.kind == IndicatorKind.COUNT:
                    fields[VALUE_FIELD] = rng.randint(0, 500)
                values.extend(
                    IndicatorValue(submission=submission, indicator=indicator, field_name=name, value=value)
                    for name, value in fields.items()
                )
        IndicatorValue.objects.bulk_create(values, batch_size=10_000)
    print(
        f"built a synthetic database: {practices} practices, {len(values)} indicator values "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


# ---------------------------------------------------------------------------------------------
# Workers and the measurement
# ---------------------------------------------------------------------------------------------


def _start_workers(count: int, env: dict[str, str], tag: str, concurrency: int = 1) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "cqrs_site",
                    "worker",
                    "--concurrency",
                    str(concurrency),
                    "--pool",
                    "prefork",
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--hostname",
                    f"bench-{tag}-{n}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return workers


def _wait_for_workers(app, count: int, tag: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        ours = [name for reply in replies for name in reply if name.startswith(f"bench-{tag}-")]
        if len(ours) >= count:
            return
    raise RuntimeError(f"{count} worker(s) did not start within {timeout} s")


def _stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _wait_idle(app, wait_until) -> None:
    """Until the broker's queue is empty and no worker has a task in hand."""
    import redis

    broker = redis.Redis.from_url(app.conf.broker_url)

    def idle() -> bool:
        if broker.llen("celery"):
            return False
        active = app.control.inspect(timeout=1.0).active() or {}
        return not any(active.values())

    wait_until(idle, "the workers to be idle")


def _busy_seconds() -> tuple[float, float]:
    """(busy, all) core-seconds of this machine since boot (/proc/stat: every process, the
    database's included); (0, 0) where there is no /proc."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return (sum(fields[:8]) - idle) / ticks, sum(fields[:8]) / ticks


def _vacuum() -> None:
    from django.db import connection

    previous = connection.get_autocommit()
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        # Every run from a checkpoint: one falling inside a run (the previous run's writes filled
        # max_wal_size) slowed it by a third, with the full-page images it makes the next writes log.
        cursor.execute("CHECKPOINT")
    connection.set_autocommit(previous)


def _run(*, app, ids: list[int], workers: int, env: dict[str, str], concurrency: int = 1) -> dict[str, float]:
    from celery import group
    from django.db import connection

    from accounts.models import Message
    from achievement.models import Achievement
    from declarations.models import Calculation, Declaration, DeclarationTransition
    from declarations.tasks import batches_of, recalculate_many

    # From nothing: the payments' declarations (and their histories) go first, as they protect
    # their calculations; and the providers' tasks the last run created (a table that grew by
    # 6,410 messages a run slowed each run by the size of its indexes).
    Message.objects.filter(task_key__startswith="declaration:", organisation__achievements__pk__in=ids).delete()
    DeclarationTransition.objects.filter(declaration__achievement_id__in=ids).delete()
    Declaration.objects.filter(achievement_id__in=ids).delete()
    Calculation.objects.filter(achievement_id__in=ids).delete()
    _vacuum()  # the deleted rows cleared now, not by autovacuum in the middle of the measurement
    app.control.purge()
    tag = f"{workers}w{os.getpid()}"
    processes = _start_workers(workers, env, tag, concurrency)
    try:
        _wait_for_workers(app, workers, tag)

        def wait_until(predicate, what: str, timeout: float = 3_600) -> float:
            started = time.perf_counter()
            while not predicate():
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"timed out waiting for {what}")
                time.sleep(0.05)
            return time.perf_counter()

        busy_before, all_before = _busy_seconds()
        started = time.perf_counter()
        recalculate_many.delay(ids)
        # Polled by the last achievement of each batch (a batch commits all or nothing): a few
        # index probes every 50 ms, then the whole count once.  The poll's own cost is not the
        # workers' (a count by an IN list of 6,410 ids cost PostgreSQL 10-20 ms every 50 ms; one by
        # the achievement date, 2 ms: 4% of a core, on a machine whose busy time is measured).
        date_id = Achievement.objects.filter(pk=ids[0]).values_list("achievement_date_id", flat=True).get()
        lasts = [batch[-1] for batch in batches_of(ids)]
        wait_until(lambda: Calculation.objects.filter(achievement_id__in=lasts).count() >= len(lasts), "calculations")
        finished = wait_until(
            lambda: Calculation.objects.filter(achievement_date_id=date_id).count() >= len(ids), "calculations"
        )
        seconds = finished - started
        busy_after, all_after = _busy_seconds()
        busy = busy_after - busy_before
        cores_busy = busy / (seconds or 1)
        declared_seconds = wait_until(
            lambda: Declaration.objects.filter(achievement_date_id=date_id).count() >= len(ids), "declarations"
        ) - started
        load_average = os.getloadavg()
        # The providers' tasks' emails, queued by the recalculation, are the workers' next work:
        # timed on their own, so that the unchanged run below is not measured behind them.
        started = time.perf_counter()
        _wait_idle(app, wait_until)
        emails_seconds = time.perf_counter() - started

        # Unchanged inputs: the same batches again must write nothing (a group, so the results
        # backend tells when the last one is done).
        before = dict(Calculation.objects.filter(achievement_id__in=ids).values_list("pk", "version"))
        latest = max(Calculation.objects.values_list("calculated_at", flat=True))
        chunks = batches_of(ids)
        started = time.perf_counter()
        group(recalculate_many.s(chunk) for chunk in chunks).apply_async().get(timeout=3_600)
        unchanged_seconds = time.perf_counter() - started
        after = dict(Calculation.objects.filter(achievement_id__in=ids).values_list("pk", "version"))
        assert after == before, "recalculating unchanged inputs changed a calculation"
        assert max(Calculation.objects.values_list("calculated_at", flat=True)) == latest
    finally:
        _stop_workers(processes)
        connection.close()
    return {
        "seconds": seconds,
        "declared_seconds": declared_seconds,
        "emails_seconds": emails_seconds,
        "unchanged_seconds": unchanged_seconds,
        "load_average": load_average,
        "busy": busy,
        "cores_busy": cores_busy,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", default="QOF2324")
    parser.add_argument("--achievement-date", default="2024-03-31", type=dt.date.fromisoformat)
    parser.add_argument(
        "--synthetic", type=int, metavar="N", help="build N synthetic practices if there is no data"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes of each worker")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    if not database_url.startswith("postgres"):
        parser.error("the benchmark needs PostgreSQL (DATABASE_URL=postgres://...)")
    if urlparse(database_url).path.lstrip("/") == "cqrs":
        parser.error("refusing to benchmark in the database named cqrs (it deletes calculations)")
    _ensure_database(database_url)
    _setup(database_url, redis_url)

    from django.core.management import call_command

    from achievement.models import Achievement
    from cqrs_site.celery import app
    from participation.models import QualityService

    call_command("migrate", verbosity=0)
    ids = list(
        Achievement.objects.filter(
            service__code=args.service,
            achievement_date__date=args.achievement_date,
            provider__kind="practice",
            submissions__is_current=True,
        ).values_list("pk", flat=True)
    )
    if not ids and args.synthetic:
        _synthetic_build(
            practices=args.synthetic, service_code=args.service, date=args.achievement_date, seed=args.seed
        )
        return main(argv)
    if not ids:
        parser.error(
            f"no achievement of {args.service} on {args.achievement_date}: load one, or pass --synthetic N"
        )

    indicators = QualityService.objects.get(code=args.service).indicators.count()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "cqrs_site.settings",
        "LOG_LEVEL": "WARNING",
        # Connections kept between tasks, as docker-compose.yml deploys the worker: a new
        # connection a task (CONN_MAX_AGE 0) costs each batch its connection and a cold backend.
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
    }
    print(
        f"recalculate_national: {len(ids)} practices x {indicators} indicators of {args.service} "
        f"on {args.achievement_date:%d/%m/%Y}"
    )
    figures = {}
    for workers in args.workers:
        figures[workers] = run = _run(app=app, ids=ids, workers=workers, env=env, concurrency=args.concurrency)
        print(
            f"  {workers} worker(s) x {args.concurrency} process(es): {len(ids) / run['seconds']:8.1f} calculations/s, "
            f"end-to-end {run['seconds']:7.2f} s (declarations created: {run['declared_seconds']:.2f} s; "
            f"then the emails of their tasks: {run['emails_seconds']:.2f} s); "
            f"unchanged again: {run['unchanged_seconds']:6.2f} s, no writes; "
            f"load average {' '.join(f'{x:.2f}' for x in run['load_average'])}; "
            f"machine busy {run['busy']:.1f} core-s ({run['cores_busy']:.2f} of {os.cpu_count()} cores)"
        )
    if 1 in figures and 2 in figures:
        print(f"  speed-up 2 workers / 1 worker: {figures[1]['seconds'] / figures[2]['seconds']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
