"""Benchmark: ONE bulk-approve request of 500 declarations (issue 12: under 0.5 seconds, every row
transitioned and recorded, or none; issue 6 asked for 2 seconds).

    .venv/bin/python benchmarks/bulk_approve.py [--declarations 500] \\
        [--database-url postgres://root@127.0.0.1:5432/cqrs_bench_approve] \\
        [--redis-url redis://127.0.0.1:6379/12] [--profile]

Builds, in a fresh PostgreSQL database (dropped and created: use a name of its own), one ICB
with N practices, each with a calculated payment for a small practice-level service and its
declaration declared (Awaiting Commissioning Organisation Approval) through the services; then
signs an Approval Management user in with the Django test client and times ONE POST of Approve
with every row ticked, as the Declaration Management page sends it.  Settings are the project's
(``cqrs_site.settings``) with Celery on the Redis given (a database number of its own; no worker
needs to run: the emails the request enqueues are counted, then purged), so the request does
what it does in production.  It then checks that every row moved to Awaiting Finance Approval
with one transition record each, and prints the figures.  Exit status 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/cqrs_bench_approve"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
TARGET_SECONDS = 0.5
PAYMENT_DATE = dt.date(2025, 3, 31)


def fresh_database(url: str) -> None:
    """Drop and create the benchmark's own database (never the project's ``cqrs``)."""
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if name in ("cqrs", "postgres", "template0", "template1", "") or not name.startswith("cqrs_bench"):
        raise SystemExit(f"refusing to recreate database {name!r}: use a name starting cqrs_bench")
    params = {"host": parsed.hostname or "127.0.0.1", "port": parsed.port or 5432, "user": parsed.username}
    if parsed.password:
        params["password"] = parsed.password
    connection = psycopg2.connect(dbname="postgres", **params)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def setup_django(database_url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqrs_site.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_world(*, practices: int, declared: bool = True, log=print) -> dict:
    """One ICB ("QBN"), ``practices`` practices in PCNs of 8, a small practice-level service with
    one fraction indicator, every practice's achievement submitted and calculated (which creates
    its declaration) and, when ``declared``, declared on the practices' behalf."""
    from accounts.actors import SystemActor
    from accounts.models import ListSize, Membership, Organisation, OrganisationKind, Role, User
    from achievement.models import Achievement, IndicatorValue, Submission, SubmissionSource
    from declarations import services
    from declarations.models import Declaration
    from participation.models import (
        AchievementDate,
        Domain,
        FinancialYear,
        Indicator,
        IndicatorGroup,
        QualityService,
    )

    started = time.perf_counter()
    icb = Organisation.objects.create(ods_code="QBN", name="Benchmark Integrated Care Board", kind=OrganisationKind.ICB)
    pcns = Organisation.objects.bulk_create(
        [
            Organisation(ods_code=f"U{90000 + i:05d}", name=f"Benchmark PCN {i}", kind=OrganisationKind.PCN, commissioner=icb)
            for i in range((practices + 7) // 8)
        ]
    )
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(
                ods_code=f"B{80000 + i:05d}",
                name=f"Benchmark Practice {i:04d}",
                kind=OrganisationKind.PRACTICE,
                pcn=pcns[i // 8],
                commissioner=icb,
            )
            for i in range(practices)
        ]
    )
    ListSize.objects.bulk_create([ListSize(organisation=o, date=dt.date(2025, 1, 1), size=6000 + 10 * i) for i, o in enumerate(orgs)])
    service = QualityService.objects.create(
        code="BENCH2425",
        name="Benchmark Enhanced Service 2024/25",
        payment_type="LES",
        payment_frequency="Annual",
        financial_year=FinancialYear.for_label("2024/25"),
        provider_level="practice",
        value_per_point=Decimal("50.00"),
        average_list_size=9964,
    )
    domain = Domain.objects.create(service=service, code="B", name="Benchmark")
    group = IndicatorGroup.objects.create(service=service, domain=domain, code="B", name="Benchmark group")
    indicator = Indicator.objects.create(
        service=service, group=group, code="BEN001", name="Benchmark indicator", kind="fraction",
        points=Decimal(30), lower=Decimal(50), upper=Decimal(90), fields=["Numerator", "Denominator"],
    )
    date = AchievementDate.objects.create(service=service, date=PAYMENT_DATE, is_payment_date=True)
    achievements = Achievement.objects.bulk_create(
        [Achievement(provider=o, service=service, achievement_date=date) for o in orgs]
    )
    submissions = Submission.objects.bulk_create(
        [
            Submission(achievement=a, source=SubmissionSource.EXTRACT, status="submitted", is_current=True)
            for a in achievements
        ]
    )
    IndicatorValue.objects.bulk_create(
        [
            IndicatorValue(submission=s, indicator=indicator, field_name=field, value=value)
            for i, s in enumerate(submissions)
            for field, value in (("Numerator", 60 + i % 35), ("Denominator", 100))
        ],
        batch_size=5000,
    )
    ids = [a.pk for a in achievements]
    for start in range(0, len(ids), 200):
        services.calculations_recalculate(achievement_ids=ids[start : start + 200])
    if declared:
        seed = SystemActor("the benchmark")
        for pk in Declaration.objects.filter(service=service).order_by("pk").values_list("pk", flat=True):
            services.declaration_declare(declaration_id=pk, user=seed)
    approver = User.objects.create_user("approver@bench.nhs.net", "bench-password-2026", full_name="Bench Approver")
    finance = User.objects.create_user("finance@bench.nhs.net", "bench-password-2026", full_name="Bench Finance")
    Membership.objects.create(user=approver, organisation=icb, role=Role.APPROVAL_MANAGEMENT)
    Membership.objects.create(user=finance, organisation=icb, role=Role.FINANCE_MANAGEMENT)
    analyze()
    log(f"built {practices} practices with declarations in {time.perf_counter() - started:.1f}s")
    return {"icb": icb, "service": service, "approver": approver, "finance": finance}


def analyze() -> None:
    """The planner's statistics of the tables just filled, as autovacuum would soon gather them (a
    freshly built database has none: PostgreSQL then guesses one row a table, and joins 400
    declarations to their providers by scanning the ICB's practices 400 times)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def purge_queue() -> int:
    from cqrs_site.celery import app

    return app.control.purge() or 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declarations", type=int, default=500)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--profile", action="store_true", help="cProfile the request: the 40 costliest functions")
    args = parser.parse_args()

    fresh_database(args.database_url)
    setup_django(args.database_url, args.redis_url)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import Message
    from declarations.models import Declaration, DeclarationStatus, DeclarationTransition

    world = build_world(practices=args.declarations)
    purge_queue()
    ids = list(
        Declaration.objects.filter(
            service=world["service"], status=DeclarationStatus.AWAITING_COMMISSIONER
        ).values_list("pk", flat=True)
    )
    assert len(ids) == args.declarations, len(ids)
    client = Client()
    client.force_login(world["approver"])
    client.get(reverse("declarations:declaration_management"))  # warm: session, templates, imports
    messages_before = Message.objects.count()

    profiler = cProfile.Profile() if args.profile else None
    with CaptureQueriesContext(connection) as queries:
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        response = client.post(reverse("declarations:approve_declarations"), {"declarations": ids})
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started

    moved = Declaration.objects.filter(pk__in=ids, status=DeclarationStatus.AWAITING_FINANCE).count()
    recorded = DeclarationTransition.objects.filter(
        declaration_id__in=ids, to_status=DeclarationStatus.AWAITING_FINANCE
    ).count()
    messages = Message.objects.count() - messages_before
    enqueued = purge_queue()
    ok = response.status_code == 302 and moved == recorded == len(ids) and seconds < TARGET_SECONDS
    print(f"bulk approve: {len(ids)} declarations in ONE request: {seconds:.3f} s "
          f"(target < {TARGET_SECONDS} s) -> {'OK' if ok else 'MISSED'}")
    print(f"  status {response.status_code}; transitioned {moved}/{len(ids)}; transition records {recorded}; "
          f"messages and tasks {messages}; email tasks enqueued {enqueued}; SQL queries {len(queries)}")
    print(f"  CPU of this process (Django's side, not PostgreSQL's) {cpu:.3f} s; "
          f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    if profiler:
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(40)
            print(f"--- the request, by {order} ---")
            print(out.getvalue().split("\n\n", 2)[-1].rstrip())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
