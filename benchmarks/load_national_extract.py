"""Benchmark: load a national QOF year-end GPES extract through the real path.

Sets up a fresh PostgreSQL database, loads the national organisation hierarchy (6,410 practices),
the QOF 2023/24 service from its shipped definition and an Approved offer for every practice,
then receives the national extract (benchmarks/generate_national_extract.py, ~3.5 million rows)
with ``extract_receive`` and lets a real Celery worker subprocess (Redis broker) load it.  In the
same run the same file is COPYed raw into an UNLOGGED table, for comparison.  Prints rows per
second, the worker's peak memory (VmHWM of the worker process, ``--pool=solo`` so the task runs
in it), end-to-end seconds (receipt to Loaded) and the ratio to the raw COPY.

    .venv/bin/python benchmarks/load_national_extract.py [--extract PATH] [--database NAME]
        [--redis redis://127.0.0.1:6379/3] [--in-process]

Targets: end-to-end within 3x the raw COPY; worker memory under 1 GiB.
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


def _start_worker(env: dict) -> subprocess.Popen:
    worker = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "cqrs_site",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"benchmark-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    from cqrs_site.celery import app

    deadline = time.time() + 60
    while time.time() < deadline:
        if worker.poll() is not None:
            raise SystemExit("the Celery worker exited at start")
        if app.control.ping(timeout=1.0):
            return worker
    raise SystemExit("the Celery worker did not answer")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extract", type=Path, default=Path(tempfile.gettempdir()) / "cqrs-national-extract.csv")
    parser.add_argument("--database", default="cqrs_bench_ingest")
    parser.add_argument("--postgres", default="postgres://root@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--in-process", action="store_true", help="load in this process (no worker): profiling")
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
        "LOG_LEVEL": "INFO",  # the load's phase timings (logger achievement.extracts)
    }
    os.environ.update(env)
    _recreate_database(args.postgres, args.database)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _setup_catalogue()

    from achievement import services
    from achievement.models import ExtractLoad, ExtractStatus, IndicatorValue, Submission
    from cqrs_site.celery import app

    app.control.purge()
    raw_seconds = _raw_copy_seconds(args.extract)

    worker = None if args.in_process else _start_worker(env)
    try:
        started = time.perf_counter()
        extract = services.extract_receive(path=args.extract)
        received = time.perf_counter() - started
        picked_up = None
        if args.in_process:
            services.extract_load(extract_id=extract.pk)
        while True:
            extract = ExtractLoad.objects.get(pk=extract.pk)
            if extract.status in (ExtractStatus.LOADED, ExtractStatus.REJECTED):
                break
            if picked_up is None and extract.status == ExtractStatus.VALIDATING:
                picked_up = time.perf_counter() - started
            if worker is not None and worker.poll() is not None:
                raise SystemExit("the worker died")
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        peak, rss = _peak_rss_bytes(worker.pid if worker else os.getpid())
    finally:
        if worker is not None:
            app.control.purge()  # the recalculations the load queued are not measured here
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(120)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        shutil.rmtree(media, ignore_errors=True)

    if extract.status != ExtractStatus.LOADED:
        print(f"extract Rejected: {extract.error_count} error(s): {extract.errors[:5]}")
        return 1
    rows = extract.rows_done
    print(
        f"loaded: {rows:,} rows, {Submission.objects.filter(is_current=True).count():,} current submissions, "
        f"{IndicatorValue.objects.count():,} indicator values"
    )
    print(f"receipt (hash + store): {received:.1f}s; Validating after {picked_up or 0:.1f}s")
    print(f"end-to-end: {seconds:.1f}s ({rows / seconds:,.0f} rows/second)")
    print(f"raw COPY: {raw_seconds:.1f}s; ratio end-to-end / raw COPY: {seconds / raw_seconds:.2f}x (target <= 3x)")
    who = "this process" if args.in_process else "worker"
    print(f"peak memory ({who}, VmHWM): {peak / 2**20:,.0f} MiB (target < 1024 MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
