"""Benchmark: the render time of each records report for an ICB of 400 practices (issue 15:
under 1 s each), and the national Payments report (6,410 practices) prepared as a background
run.

    .venv/bin/python benchmarks/reports.py [--practices 400] [--national-practices 0] \\
        [--database-url postgres://root@127.0.0.1:5432/cqrs_bench_reports] \\
        [--redis-url redis://127.0.0.1:6379/15]

Builds, in a fresh PostgreSQL database (dropped and created: a name of its own), one ICB with N
practices in PCNs of 8 under a sub-ICB location, each with a calculated and declared payment
(``benchmarks.bulk_approve.build_world``); allocates the ICB's reports to the sub-ICB location;
then signs users in with the Django test client and times each report page and file (the best of
five after a warm-up), with its SQL query count: the Achievement Summary Report list and one
report and its CSV (practice and commissioner), Payments with its CSV and XLSX, Network
Organisation Relationship and its CSV, Allocated Reports.  With ``--national-practices M`` it
then adds an NHS England region above the ICB with M practices in all, and times the Payments
page of a regional finance user (too many rows for a page: it offers the background run) and the
run itself (``report_run_build``, the Celery task's body, here in-process).  Exit status 1 if a
page misses the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bulk_approve import build_world, fresh_database, setup_django  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/cqrs_bench_reports"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
TARGET_SECONDS = 1.0


def time_get(client, url: str, params: dict | None = None, repeats: int = 5) -> tuple[float, int, int, int]:
    """Best-of-``repeats`` seconds, median seconds, SQL queries and status of GET ``url``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url, params or {})  # warm: templates, imports, session
    timings = []
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, params or {})
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            timings.append(time.perf_counter() - started)
    return min(timings), statistics.median(timings), len(queries), response.status_code


def add_structure(world: dict) -> dict:
    """A sub-ICB location above the practices, its Finance Management user, the ICB's User
    Administrator, a practice's Declaration Management user; the ICB allocates its reports to
    the sub-ICB location."""
    from accounts.models import Membership, Organisation, OrganisationKind, Role, User
    from reports.records import allocations

    icb = world["icb"]
    location = Organisation.objects.create(ods_code="99B", name="Benchmark sub-ICB location", kind="sub_icb", parent=icb)
    Organisation.objects.filter(kind=OrganisationKind.PRACTICE, commissioner=icb).update(parent=location)
    practice = Organisation.objects.filter(kind=OrganisationKind.PRACTICE, commissioner=icb).order_by("ods_code").first()
    people = {}
    for key, email, organisation, role in (
        ("admin", "admin@bench.nhs.net", icb, Role.USER_ADMINISTRATOR),
        ("sub_icb", "subicb@bench.nhs.net", location, Role.FINANCE_MANAGEMENT),
        ("practice", "practice@bench.nhs.net", practice, Role.DECLARATION_MANAGEMENT),
    ):
        people[key] = User.objects.create_user(email, "bench-password-2026", full_name=key.title())
        Membership.objects.create(user=people[key], organisation=organisation, role=role)
    allocations.report_allocation_grant(user=people["admin"], organisation_id=icb.pk, allowed_organisation_id=location.pk)
    return {**world, **people, "sub_icb_location": location, "practice_org": practice}


def national(world: dict, practices: int) -> dict:
    """An NHS England region above the benchmark ICB and a second ICB with the rest of the
    ``practices``; a regional Finance Management user."""
    from accounts.models import Membership, Organisation, OrganisationKind, Role, User

    existing = Organisation.objects.filter(kind=OrganisationKind.PRACTICE).count()
    region = Organisation.objects.create(ods_code="Y99", name="Benchmark NHS England region", kind=OrganisationKind.REGION)
    Organisation.objects.filter(pk=world["icb"].pk).update(parent=region)
    if practices > existing:
        more = build_more(practices - existing, world["service"])
        Organisation.objects.filter(pk=more.pk).update(parent=region)
    user = User.objects.create_user("region@bench.nhs.net", "bench-password-2026", full_name="Regional Finance")
    Membership.objects.create(user=user, organisation=region, role=Role.FINANCE_MANAGEMENT)
    return {"region": region, "region_finance": user}


def build_more(practices: int, service):
    """A second ICB with ``practices`` practices, each with a calculated (undeclared) payment of
    the benchmark service, built as build_world builds them."""
    import datetime as dt

    from accounts.models import ListSize, Organisation, OrganisationKind
    from achievement.models import Achievement, IndicatorValue, Submission, SubmissionSource
    from declarations import services
    from participation.models import AchievementDate

    icb = Organisation.objects.create(ods_code="QBM", name="Benchmark second ICB", kind=OrganisationKind.ICB)
    pcns = Organisation.objects.bulk_create(
        [Organisation(ods_code=f"U{70000 + i:05d}", name=f"Second PCN {i}", kind=OrganisationKind.PCN, commissioner=icb)
         for i in range((practices + 7) // 8)]
    )
    orgs = Organisation.objects.bulk_create(
        [Organisation(ods_code=f"C{10000 + i:05d}", name=f"Second Practice {i:05d}", kind=OrganisationKind.PRACTICE,
                      pcn=pcns[i // 8], commissioner=icb) for i in range(practices)],
        batch_size=2000,
    )
    ListSize.objects.bulk_create([ListSize(organisation=o, date=dt.date(2025, 1, 1), size=7000) for o in orgs], batch_size=2000)
    date = AchievementDate.objects.get(service=service)
    achievements = Achievement.objects.bulk_create(
        [Achievement(provider=o, service=service, achievement_date=date) for o in orgs], batch_size=2000
    )
    submissions = Submission.objects.bulk_create(
        [Submission(achievement=a, source=SubmissionSource.EXTRACT, status="submitted", is_current=True) for a in achievements],
        batch_size=2000,
    )
    indicator = service.indicators.get()
    IndicatorValue.objects.bulk_create(
        [IndicatorValue(submission=s, indicator=indicator, field_name=field, value=value)
         for i, s in enumerate(submissions) for field, value in (("Numerator", 55 + i % 40), ("Denominator", 100))],
        batch_size=5000,
    )
    ids = [a.pk for a in achievements]
    for start in range(0, len(ids), 500):
        services.calculations_recalculate(achievement_ids=ids[start : start + 500])
    return icb


def analyze() -> None:
    """Fresh planner statistics, as autovacuum would leave them in a live database (bulk-built
    tables otherwise look empty to the planner, which then nests loops over thousands of rows)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=400)
    parser.add_argument("--national-practices", type=int, default=0)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()

    # The pages are drawn in-process: static files by name, with no collectstatic manifest needed.
    os.environ.setdefault("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
    fresh_database(args.database_url)
    setup_django(args.database_url, args.redis_url)
    from django.test import Client
    from django.urls import reverse

    from declarations.models import Declaration

    world = add_structure(build_world(practices=args.practices))
    analyze()
    service = world["service"]
    declaration = Declaration.objects.filter(provider=world["practice_org"]).get()
    summary = reverse("reports:achievement_summary", args=[declaration.achievement_id])
    payments = {"service": service.pk}
    checks = [
        ("practice", "Achievement Summary Report (one practice)", summary, None),
        ("practice", "Achievement Summary Report CSV", reverse("reports:achievement_summary_csv", args=[declaration.achievement_id]), None),
        ("finance", "Achievement Summary Report list (50 a page)", reverse("reports:achievement_summaries"), None),
        ("finance", "Achievement Summary Report (commissioner)", summary, None),
        ("finance", f"Payments ({args.practices} rows)", reverse("reports:payments"), payments),
        ("finance", "Payments CSV", reverse("reports:payments_csv"), payments),
        ("finance", "Payments XLSX", reverse("reports:payments_xlsx"), payments),
        ("sub_icb", "Payments, allocated to the sub-ICB location", reverse("reports:payments"), payments),
        ("approver", f"Network Organisation Relationship ({args.practices} practices)", reverse("reports:network"), None),
        ("approver", "Network Organisation Relationship CSV", reverse("reports:network_csv"), None),
        ("admin", "Allocated Reports", reverse("reports:allocated_reports"), None),
    ]
    clients: dict[str, Client] = {}
    ok = True
    print(f"reports for an ICB of {args.practices} practices (best of 5 after a warm-up; target < {TARGET_SECONDS:.0f} s):")
    for who, label, url, params in checks:
        client = clients.get(who)
        if client is None:
            client = clients[who] = Client()
            client.force_login(world[who])
        best, median, queries, status = time_get(client, url, params)
        passed = status == 200 and best < TARGET_SECONDS
        ok = ok and passed
        print(f"  {label:55} {best * 1000:7.1f} ms (median {median * 1000:7.1f} ms) {queries:3d} queries "
              f"status {status} -> {'OK' if passed else 'MISSED'}")

    if args.national_practices:
        from reports.models import ReportRun
        from reports.records import runs

        started = time.perf_counter()
        extra = national(world, args.national_practices)
        analyze()
        print(f"national: built to {args.national_practices} practices in {time.perf_counter() - started:.1f}s")
        client = Client()
        client.force_login(extra["region_finance"])
        best, median, queries, status = time_get(client, reverse("reports:payments"), payments, repeats=3)
        offered = "Prepare XLSX download" in client.get(reverse("reports:payments"), payments).content.decode()
        rows = Declaration.objects.filter(service=service).count()
        print(f"  Payments page, region ({rows} rows: too many for a page -> "
              f"{'background run offered' if offered else 'drawn'}): {best * 1000:.1f} ms, {queries} queries, status {status}")
        for file_format in ("xlsx", "csv"):
            run = ReportRun.objects.create(
                user=extra["region_finance"], report="payments", file_format=file_format, parameters={"service": service.pk}
            )
            started = time.perf_counter()
            run = runs.report_run_build(run_id=run.pk)
            seconds = time.perf_counter() - started
            size = Path(run.file_path).stat().st_size
            print(f"  national Payments {file_format.upper()} background run: {run.rows_total} rows in {seconds:.2f} s "
                  f"({size / 1024:.0f} KiB) -> {run.get_status_display()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
