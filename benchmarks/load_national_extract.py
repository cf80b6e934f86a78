"""Benchmark: load a national QOF year-end GPES extract through the real path.

Sets up a fresh PostgreSQL database, loads the national organisation hierarchy (6,410 practices),
the QOF 2023/24 service from its shipped definition and an Approved offer for every practice,
then receives the national extract (benchmarks/generate_national_extract.py, ~3.5 million rows)
with ``extract_receive`` and lets real Celery worker subprocesses (Redis broker) load it.  In the
same run the same file is COPYed raw into an UNLOGGED table, for comparison.

The file is loaded several times, from the same fresh state each time (the load's tables
emptied, vacuumed, checkpointed):

- ``single``: one worker, the load one task in one transaction (the path of a file up to
  ``EXTRACT_BATCH_ROWS`` rows);
- ``batched, N worker(s)`` for each N of ``--workers`` (default 1 2): the batched path
  (achievement/ingest/batches.py: a plan, a chord of batches of practices, one final step),
  shared by N workers.

A worker is a Celery worker as docker-compose.yml deploys it: the prefork pool with
``--concurrency`` processes (default 2, this machine's cores).

Each run prints the seconds from receipt to Loaded, rows per second and the ratio to the raw COPY;
then from receipt to every payment calculated and stored and its declaration created (the
recalculations the load queues, run by the same workers), and its ratio to the raw COPY; the
machine's load average and each worker's peak memory (the largest VmHWM of its processes).  Workers log to files beside the extract; their phase timings are summarised.

    .venv/bin/python benchmarks/load_national_extract.py [--extract PATH] [--database NAME]
        [--redis redis://127.0.0.1:6379/3] [--workers 1 2] [--batch-rows 250000] [--no-single]
        [--concurrency 2] [--in-process]

Targets (issue 12): receipt to every payment calculated and declarations created, single path on
one worker, within 3x the raw COPY (aim 2x); worker memory under 1 GiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "nhsd-qof-2023-24"
sys.path.insert(0, str(ROOT))


def _recreate_database(base_url: str, name: str) -> None:
    import psycopg2

    if name in ("cqrs", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to recreate database {name!r}")
    conn = psycopg2.connect(f"{base_url}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _peak_rss_bytes(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) of a process, in bytes."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, amount, _unit = line.split()
                values[key] = int(amount) * 1024
    return values.get("VmHWM:", 0), values.get("VmRSS:", 0)


def _setup_catalogue() -> None:
    from django.core.management import call_command

    from accounts.models import Organisation, OrganisationKind
    from participation.models import OfferStatus, QualityService, ServiceOffer

    started = time.perf_counter()
    try:
        from accounts.loaders import organisations_load

        organisations_load(path=REFERENCE / "QOF_MANUAL_MAPPINGS.csv")
    except ImportError:  # before the organisation loader existed
        _organisations_directly()
    definition = ROOT / "participation" / "service_definitions" / "qof-2023-24.yaml"
    call_command("load_quality_service", str(definition), stdout=open(os.devnull, "w"))
    service = QualityService.objects.get(code="QOF2324")
    practices = list(Organisation.objects.filter(kind=OrganisationKind.PRACTICE).values_list("pk", "commissioner_id"))
    # Setup, not what is measured: Approved offers written directly (offer_service --accept sends
    # a message per offer).
    ServiceOffer.objects.bulk_create(
        [
            ServiceOffer(
                service=service,
                provider_id=pk,
                commissioner_id=commissioner_id,
                status=OfferStatus.APPROVED,
                start_date=service.financial_year.start_date,
                end_date=service.financial_year.end_date,
            )
            for pk, commissioner_id in practices
            if commissioner_id is not None
        ],
        batch_size=5000,
    )
    print(
        f"setup: {len(practices):,} practices, {service.indicators.count()} indicators, "
        f"{ServiceOffer.objects.filter(service=service).count():,} Approved offers "
        f"({time.perf_counter() - started:.1f}s)"
    )


def _organisations_directly() -> None:
    import csv

    from accounts.models import Organisation, OrganisationKind

    with (REFERENCE / "QOF_MANUAL_MAPPINGS.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    icbs = {r["STP_ODS_CODE"]: r["STP_NAME"] for r in rows}
    pcns = {r["PCN_ODS_CODE"]: r["PCN_NAME"] for r in rows}
    Organisation.objects.bulk_create([Organisation(ods_code=c, name=n, kind=OrganisationKind.ICB) for c, n in icbs.items()])
    icb_ids = dict(Organisation.objects.filter(kind=OrganisationKind.ICB).values_list("ods_code", "pk"))
    Organisation.objects.bulk_create([Organisation(ods_code=c, name=n, kind=OrganisationKind.PCN) for c, n in pcns.items()])
    pcn_ids = dict(Organisation.objects.filter(kind=OrganisationKind.PCN).values_list("ods_code", "pk"))
    Organisation.objects.bulk_create(
        [
            Organisation(
                ods_code=r["PRACTICE_CODE"],
                name=r["PRACTICE_NAME"],
                kind=OrganisationKind.PRACTICE,
                pcn_id=pcn_ids[r["PCN_ODS_CODE"]],
                commissioner_id=icb_ids[r["STP_ODS_CODE"]],
            )
            for r in rows
        ],
        batch_size=5000,
    )


def _raw_copy_seconds(path: Path) -> float:
    """The same file COPYed into an UNLOGGED table of text columns: the floor for a load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS benchmark_raw_extract")
        cursor.execute(
            "CREATE UNLOGGED TABLE benchmark_raw_extract ("
            + ", ".join(f"c{i} text" for i in range(12))
            + ")"
        )
    started = time.perf_counter()
    with connection.cursor() as cursor, path.open("rb") as f:
        cursor.copy_expert("COPY benchmark_raw_extract FROM STDIN WITH (FORMAT csv, HEADER true)", f, size=1 << 20)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM benchmark_raw_extract")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE benchmark_raw_extract")
    print(f"raw COPY into an UNLOGGED table: {rows:,} rows in {seconds:.1f}s")
    return seconds


def _tree_peak_bytes(pid: int) -> int:
    """The largest VmHWM of a worker and its pool processes."""
    peaks = [_peak_rss_bytes(pid)[0]]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            peaks.append(_peak_rss_bytes(int(child))[0])
        except OSError:
            pass
    return max(peaks)


def _start_workers(env: dict, count: int, log_dir: Path, label: str, concurrency: int = 2) -> list[subprocess.Popen]:
    """``count`` workers, each a Celery worker of ``concurrency`` pool processes (prefork, as
    docker-compose.yml deploys it: one process a core).  The load is one task in one process; the
    recalculations it queues are shared by the worker's processes."""
    from cqrs_site.celery import app

    workers = []
    for number in range(count):
        name = f"benchmark-{os.getpid()}-{label}-{number}@%h"
        log = (log_dir / f"worker-{label}-{number}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "celery"),
                    "-A",
                    "cqrs_site",
                    "worker",
                    "--pool=prefork",
                    f"--concurrency={concurrency}",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    name,
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        workers[-1].log_path = log.name
    deadline = time.time() + 120
    while time.time() < deadline:
        if any(w.poll() is not None for w in workers):
            raise SystemExit("a Celery worker exited at start")
        if len(app.control.ping(timeout=1.0)) >= count:
            return workers
    raise SystemExit("the Celery workers did not answer")


def _stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(120)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _reset_load_state() -> None:
    """Empty what a load writes, so every run starts from the same state."""
    from django.db import connection

    from accounts.models import AuditEvent, ListSize, Message
    from achievement.models import Achievement, ExtractLoad, IndicatorValue, Submission
    from declarations.models import (
        Calculation,
        CalculationFailure,
        Declaration,
        DeclarationTransition,
        IndicatorCalculation,
    )

    models = (
        IndicatorValue, Submission, Achievement, ExtractLoad, ListSize, IndicatorCalculation, Calculation,
        CalculationFailure, DeclarationTransition, Declaration, Message,
    )
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE")
        cursor.execute(
            f"DELETE FROM {connection.ops.quote_name(AuditEvent._meta.db_table)} WHERE action LIKE 'extract%%'"
        )
    previous = connection.get_autocommit()
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    connection.set_autocommit(previous)


def _phase_lines(workers: list[subprocess.Popen]) -> list[str]:
    """The load's own log lines (phase timings, batches) from the workers' logs."""
    lines = []
    for worker in workers:
        for line in Path(worker.log_path).read_text(errors="replace").splitlines():
            text = line.split("] ", 1)[-1]
            if text.startswith("Extract ") or ("extract_load_task" in text and "succeeded" in text):
                lines.append(f"    [{Path(worker.log_path).stem}] {text[:150]}")
    return lines


def _run(
    label: str, *, extract_path: Path, env: dict, workers: int, batch_rows: int, log_dir: Path, concurrency: int
) -> dict:
    """Load the file once through ``workers`` worker processes; figures of the run."""
    from achievement import services
    from achievement.models import Achievement, ExtractLoad, ExtractStatus, IndicatorValue, Submission
    from cqrs_site.celery import app
    from declarations.models import Calculation, Declaration

    _reset_load_state()
    app.control.purge()
    run_env = {**env, "EXTRACT_BATCH_ROWS": str(batch_rows)}
    os.environ["EXTRACT_BATCH_ROWS"] = str(batch_rows)  # the receipt's process decides nothing, but agrees
    processes = _start_workers(
        run_env, workers, log_dir, label.replace(" ", "-").replace(",", ""), concurrency=concurrency
    )
    try:
        started = time.perf_counter()
        extract = services.extract_receive(path=extract_path)
        while True:
            extract = ExtractLoad.objects.get(pk=extract.pk)
            if extract.status in (ExtractStatus.LOADED, ExtractStatus.REJECTED):
                break
            if any(p.poll() is not None for p in processes):
                raise SystemExit("a worker died")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        # Then the job: every payment calculated and stored, and its declaration created (the
        # recalculations the load queued, run by the same workers).
        paid_seconds = None
        if extract.status == ExtractStatus.LOADED:
            expected = Achievement.objects.filter(submissions__is_current=True).count()
            while not (
                Calculation.objects.count() >= expected and Declaration.objects.count() >= expected
            ):
                if any(p.poll() is not None for p in processes):
                    raise SystemExit("a worker died")
                time.sleep(0.05)
            paid_seconds = time.perf_counter() - started
        peaks = [_tree_peak_bytes(p.pid) for p in processes]
        load_average = os.getloadavg()
    finally:
        app.control.purge()  # the task emails the declarations queued are not measured here
        _stop_workers(processes)
    if extract.status != ExtractStatus.LOADED:
        raise SystemExit(f"{label}: extract Rejected: {extract.error_count} error(s): {extract.errors[:5]}")
    from achievement.models import ExtractBatchPlan

    plan = ExtractBatchPlan.objects.filter(extract=extract).order_by("-id").first()
    batches = plan.batch_count if plan else 1
    return {
        "label": label,
        "workers": workers,
        "batches": batches,
        "rows": extract.rows_done,
        "seconds": seconds,
        "paid_seconds": paid_seconds,
        "calculations": Calculation.objects.count(),
        "load_average": load_average,
        "peaks": peaks,
        "current": Submission.objects.filter(is_current=True).count(),
        "values": IndicatorValue.objects.count(),
        "phases": _phase_lines(processes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extract", type=Path, default=Path(tempfile.gettempdir()) / "cqrs-national-extract.csv")
    parser.add_argument("--database", default="cqrs_bench_ingest")
    parser.add_argument("--postgres", default="postgres://root@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2], help="batched runs with N workers each")
    parser.add_argument("--batch-rows", type=int, default=250_000, help="EXTRACT_BATCH_ROWS of the batched runs")
    parser.add_argument("--no-single", action="store_true", help="skip the single-task run")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="pool processes of each worker (2: as docker-compose.yml deploys it)"
    )
    parser.add_argument("--in-process", action="store_true", help="one single load in this process (profiling)")
    args = parser.parse_args(argv)

    if not args.extract.exists():
        from benchmarks.generate_national_extract import generate

        print(f"generating {args.extract} ...")
        generate(args.extract)

    media = Path(tempfile.mkdtemp(prefix="cqrs-bench-media-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"{args.postgres}/{args.database}",
        "REDIS_URL": args.redis,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "cqrs_site.settings",
        "MEDIA_ROOT": str(media),
        "LOG_LEVEL": "INFO",  # the load's phase timings (loggers achievement.ingest.*)
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),  # as docker-compose.yml deploys the workers
    }
    os.environ.update(env)
    _recreate_database(args.postgres, args.database)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _setup_catalogue()

    from cqrs_site.celery import app

    app.control.purge()
    raw_seconds = _raw_copy_seconds(args.extract)

    if args.in_process:
        from achievement import services
        from achievement.models import ExtractLoad

        os.environ["EXTRACT_BATCH_ROWS"] = str(10**12)
        started = time.perf_counter()
        extract = services.extract_receive(path=args.extract)
        extract = services.extract_load(extract_id=extract.pk)
        seconds = time.perf_counter() - started
        rows = ExtractLoad.objects.get(pk=extract.pk).rows_done
        print(f"in-process single load: {seconds:.1f}s, {rows / seconds:,.0f} rows/s, {seconds / raw_seconds:.2f}x raw")
        print(f"peak memory (this process, VmHWM): {_peak_rss_bytes(os.getpid())[0] / 2**20:,.0f} MiB")
        shutil.rmtree(media, ignore_errors=True)
        return 0

    plans = [] if args.no_single else [("single", 1, 10**12)]
    plans += [(f"batched, {n} worker{'s' if n > 1 else ''}", n, args.batch_rows) for n in args.workers]
    results = []
    try:
        for label, workers, batch_rows in plans:
            print(f"--- {label} ...", flush=True)
            result = _run(
                label,
                extract_path=args.extract,
                env=env,
                workers=workers,
                batch_rows=batch_rows,
                log_dir=media,
                concurrency=args.concurrency,
            )
            results.append(result)
            for line in result["phases"]:
                print(line)
            _print_run(result, raw_seconds)
    finally:
        shutil.rmtree(media, ignore_errors=True)

    print()
    print(f"raw COPY into an UNLOGGED table: {raw_seconds:.1f}s")
    print(
        f"{'run':<22} {'batches':>7} {'loaded s':>8} {'rows/s':>10} {'x raw COPY':>10} {'paid s':>7} "
        f"{'x raw COPY':>10} {'peak worker RSS (MiB)':>22}  load average"
    )
    for r in results:
        peaks = "/".join(f"{p / 2**20:,.0f}" for p in r["peaks"])
        print(
            f"{r['label']:<22} {r['batches']:>7} {r['seconds']:>8.1f} {r['rows'] / r['seconds']:>10,.0f} "
            f"{r['seconds'] / raw_seconds:>9.2f}x {r['paid_seconds']:>7.1f} {r['paid_seconds'] / raw_seconds:>9.2f}x "
            f"{peaks:>22}  {' '.join(f'{x:.2f}' for x in r['load_average'])}"
        )
    print(
        "targets: extract received -> every payment calculated and stored -> declarations created (paid) "
        "<= 3x raw COPY (aim 2x); worker memory < 1024 MiB"
    )
    return 0


def _print_run(r: dict, raw_seconds: float) -> None:
    peaks = ", ".join(f"{p / 2**20:,.0f} MiB" for p in r["peaks"])
    print(
        f"{r['label']}: {r['rows']:,} rows in {r['batches']} batch(es), {r['current']:,} current submissions, "
        f"{r['values']:,} indicator values\n"
        f"  loaded {r['seconds']:.1f}s ({r['rows'] / r['seconds']:,.0f} rows/second), "
        f"{r['seconds'] / raw_seconds:.2f}x the raw COPY; {r['calculations']:,} payments calculated and declarations "
        f"created at {r['paid_seconds']:.1f}s, {r['paid_seconds'] / raw_seconds:.2f}x the raw COPY; "
        f"peak worker memory (VmHWM): {peaks}; load average {' '.join(f'{x:.2f}' for x in r['load_average'])}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
