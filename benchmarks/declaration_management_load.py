"""Benchmark: the Declaration Management page of an ICB with 400 practices under 20 concurrent
users, beside the Home page in the same run (issue 6; issue 12: p50 and p95 within 2x the Home
page's, exit status 1 if not).

    .venv/bin/python benchmarks/declaration_management_load.py [--practices 400] [--connections 20] \\
        [--duration 15] [--rounds 1] [--workers 4] [--port 8765] \\
        [--database-url postgres://root@127.0.0.1:5432/cqrs_bench_load]

Builds a fresh PostgreSQL database (dropped and created: a name of its own) with one ICB of N
practices, each with a declaration Awaiting Commissioning Organisation Approval (so the page,
with its default Status filter, lists all N rows with a checkbox each and their totals), signs an
Approval Management user in by creating a session, starts gunicorn with the project's settings
(``cqrs_site.wsgi``, DEBUG off) on 127.0.0.1 only, checks both pages answer 200 (and the page
really lists N rows), then runs ``wrk`` (Debian: ``apt-get install -y wrk``) with the session
cookie: Declaration Management, then Home, each for ``--duration`` seconds with ``--connections``
concurrent connections, and prints p50/p95/p99 latency and requests per second for each.  With
``--rounds N`` the two pages alternate N times and each page's percentiles are of all its rounds'
requests (the machine's other load then falls on both alike).
Bounded in time (every subprocess has a timeout); gunicorn is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bulk_approve import build_world, fresh_database, setup_django  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/cqrs_bench_load"
HOST = "127.0.0.1"
TARGET_RATIO = 2.0  # issue 12: p50 and p95 within 2x the Home page's, in the same run

# wrk's summary: the percentiles it does not print by itself (p95), and the counts.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT p50_us=%d p95_us=%d p99_us=%d requests=%d errors=%d duration_us=%d\\n",
    latency:percentile(50.0), latency:percentile(95.0), latency:percentile(99.0),
    summary.requests, errors, summary.duration))
  -- every latency recorded (microseconds) with its count, so that rounds can be merged
  local found = {}
  for i = 1, #latency do
    local value, count = latency(i)
    found[#found + 1] = value .. ":" .. count
  end
  io.write("LATENCIES " .. table.concat(found, ",") .. "\\n")
end
"""


def session_cookie(user) -> str:
    """A signed-in session for ``user``, as the sign-in view would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(3600)
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def fetch(url: str, cookie: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - 127.0.0.1 only
        return response.status, response.read().decode()


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer at {url}")


def run_wrk(url: str, cookie: str, *, connections: int, duration: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        completed = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
             "-H", f"Cookie: {cookie}", "-s", script.name, url],
            capture_output=True, text=True, timeout=duration + 60, check=True,
        )
    finally:
        os.unlink(script.name)
    match = re.search(r"RESULT (.*)", completed.stdout)
    if match is None:
        raise SystemExit(f"wrk gave no result:\n{completed.stdout}\n{completed.stderr}")
    figures = {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    latencies = re.search(r"LATENCIES (.*)", completed.stdout)
    figures["latencies"] = Counter(
        {int(v): int(c) for v, c in (pair.split(":") for pair in latencies.group(1).split(",") if pair)}
        if latencies else {}
    )
    return figures


def merged(rounds: list[dict]) -> dict:
    """The figures of several rounds of one page: percentiles of all their requests together."""
    if len(rounds) == 1:
        return rounds[0]
    latencies = sum((r["latencies"] for r in rounds), Counter())
    ordered = sorted(latencies.items())
    total = sum(latencies.values())

    def percentile(p: float) -> int:
        wanted, seen = total * p / 100, 0
        for value, count in ordered:
            seen += count
            if seen >= wanted:
                return value
        return ordered[-1][0] if ordered else 0

    requests = sum(r["requests"] for r in rounds)
    duration = sum(r["duration_us"] for r in rounds)
    return {
        "p50_us": percentile(50), "p95_us": percentile(95), "p99_us": percentile(99),
        "requests": requests, "errors": sum(r["errors"] for r in rounds), "duration_us": duration,
        "rps": requests / (duration / 1e6),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=400)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the pages this many times, each for --duration seconds a round, "
                        "and merge each page's rounds (on a shared machine both pages then meet the same load)")
    parser.add_argument("--workers", type=int, default=min(8, max(2, os.cpu_count() or 2)))
    parser.add_argument("--threads", type=int, default=4, help="wrk threads")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    fresh_database(args.database_url)
    setup_django(args.database_url, args.redis_url)
    from cqrs_site.celery import app

    world = build_world(practices=args.practices, log=lambda text: print(text, file=sys.stderr))
    app.control.purge()  # the approvers' task emails the declarations enqueued
    cookie = session_cookie(world["approver"])
    from django.db import connections

    connections.close_all()

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DEBUG": "false",
        "ALLOWED_HOSTS": HOST,
        "CONN_MAX_AGE": "60",
        "DJANGO_SETTINGS_MODULE": "cqrs_site.settings",
    }
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "cqrs_site.wsgi", "--bind", f"{HOST}:{args.port}",
         "--workers", str(args.workers), "--log-level", "warning", "--timeout", "60"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    base = f"http://{HOST}:{args.port}"
    management = f"{base}/declarations/declaration-management/"
    home = f"{base}/"
    try:
        wait_for(f"{base}/sign-in/")
        for url in (management, home):
            status, body = fetch(url, cookie)
            if status != 200:
                raise SystemExit(f"{url} answered {status}")
        rows = body_rows = fetch(management, cookie)[1].count('name="declarations"')
        if rows != args.practices:
            raise SystemExit(f"Declaration Management lists {body_rows} rows, expected {args.practices}")
        results = {}
        loads = [_loadavg()]
        rounds: dict[str, list[dict]] = {"Declaration Management": [], "Home": []}
        for _ in range(args.rounds):
            for label, url in (("Declaration Management", management), ("Home", home)):
                rounds[label].append(
                    run_wrk(url, cookie, connections=args.connections, duration=args.duration, threads=args.threads)
                )
        results = {label: merged(runs) for label, runs in rounds.items()}
        loads.append(_loadavg())
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)

    print(f"load average: {loads[0]} before the runs, {loads[1]} after (/proc/loadavg)")
    print(f"Declaration Management load: ICB of {args.practices} practices ({rows} rows on the page), "
          f"{args.connections} concurrent connections, {args.duration}s each"
          f"{f' x {args.rounds} rounds, alternating' if args.rounds > 1 else ''}, gunicorn {args.workers} workers, 127.0.0.1")
    print(f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'requests':>9} {'errors':>7}")
    for label, r in results.items():
        print(f"{label:<24} {r['p50_us'] / 1000:8.1f} {r['p95_us'] / 1000:8.1f} {r['p99_us'] / 1000:8.1f} "
              f"{r['rps']:8.1f} {r['requests']:9d} {r['errors']:7d}")
    dm, home = results["Declaration Management"], results["Home"]
    p50, p95 = dm["p50_us"] / home["p50_us"], dm["p95_us"] / home["p95_us"]
    ok = p50 <= TARGET_RATIO and p95 <= TARGET_RATIO and dm["errors"] == home["errors"] == 0
    print(f"Declaration Management / Home: p50 {p50:.2f}x, p95 {p95:.2f}x "
          f"(target within {TARGET_RATIO:.0f}x) -> {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
