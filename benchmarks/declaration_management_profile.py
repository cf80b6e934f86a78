"""Benchmark: the Declaration Management page of an ICB with N practices rendered in process
(no server, no concurrency), beside the Home page: the time of one request each, and where it
goes (issue 12: the page's p50 and p95 under load within 2x the Home page's).

    .venv/bin/python benchmarks/declaration_management_profile.py [--practices 400] [--repeat 20] \\
        [--profile] [--reuse] [--database-url postgres://root@127.0.0.1:5432/cqrs_bench_dm_profile]

Builds (unless ``--reuse``, which takes the database as a previous run left it) a fresh
PostgreSQL database with one ICB of N practices, each with a declaration Awaiting Commissioning
Organisation Approval (``benchmarks.bulk_approve.build_world``, as the load benchmark), signs the
Approval Management user in with the Django test client (DEBUG off) and GETs each page
``--repeat`` times after a warm-up, printing the median and the 95th percentile in ms and the
number of SQL queries.  ``--profile`` adds a cProfile of the Declaration Management requests:
the 25 functions with the most cumulative and the most own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bulk_approve import build_world, fresh_database, setup_django  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/cqrs_bench_dm_profile"


def timed(client, url: str, repeat: int) -> tuple[list[float], list[float], int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: templates, imports, the session
    times, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        body = client.get(url).content.decode()
    return times, cpu, len(queries), body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="take the database as a previous run left it")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()

    if not args.reuse:
        fresh_database(args.database_url)
    setup_django(args.database_url, args.redis_url)
    from django.conf import settings
    from django.test import Client

    from accounts.models import User

    settings.DEBUG = False
    if args.reuse:
        approver = User.objects.get(email="approver@bench.nhs.net")
    else:
        from cqrs_site.celery import app

        approver = build_world(practices=args.practices, log=lambda text: print(text, file=sys.stderr))["approver"]
        app.control.purge()  # the approvers' task emails the declarations enqueued
    client = Client()
    client.force_login(approver)
    management, home = "/declarations/declaration-management/", "/"

    results = {}
    for label, url in (("Declaration Management", management), ("Home", home)):
        times, cpu, queries, body = timed(client, url, args.repeat)
        results[label] = (times, cpu, queries)
        if label == "Declaration Management":
            rows = body.count('name="declarations"')
    print(f"In process, {args.repeat} requests each after a warm-up; Declaration Management lists {rows} rows")
    print(f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}; "
          "CPU: this process's (Django's side, not PostgreSQL's)")
    print(f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'queries':>8}")
    for label, (times, cpu, queries) in results.items():
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        print(f"{label:<24} {statistics.median(times):8.1f} {p95:8.1f} {statistics.median(cpu):8.1f} {queries:8d}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            client.get(management)
        profiler.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(25)
            print(f"--- Declaration Management x{args.repeat}, by {order} ---")
            print(out.getvalue().split("\n\n", 2)[-1].rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
