"""Benchmark: the insight reports (issue 15) for an ICB of 400 practices, target under 1 second
each (a benchmark, not a timed test).

    .venv/bin/python benchmarks/reports_insights.py [--practices 400] [--runs 5] \\
        [--database-url postgres://root@127.0.0.1:5432/cqrs_bench_insights] \\
        [--redis-url redis://127.0.0.1:6379/12]

Builds, in a fresh PostgreSQL database (dropped and created: a name of its own), one ICB of N
practices in PCNs of 8 with the shipped QOF 2023/24 and 2024/25 definitions
(participation/service_definitions/), every practice's 31 March achievement of both years
submitted (deterministic values for every indicator's fields) and calculated through
``declarations.services.calculations_recalculate``, as in production, then ANALYZEd (the planner's
statistics, which autovacuum keeps in production; without them the bulk-loaded tables are
planned as empty).  Then signs a commissioner
in with the Django test client and times, after one warm-up request each, ``--runs`` requests of:
Where the money is lost (every QOF fraction indicator, N providers), one indicator's providers
(N rows), and This year and last for one practice; prints the median, the slowest, the queries
per page and the rows shown.  Exit status 1 if a median misses the target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bulk_approve import fresh_database, setup_django  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/cqrs_bench_insights"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
TARGET_SECONDS = 1.0
DEFINITIONS = ROOT / "participation" / "service_definitions"


def _load(name: str):
    import yaml

    from participation.definitions import load_service_definition_file
    from participation.services import quality_service_load

    path = DEFINITIONS / name
    return quality_service_load(
        definition=load_service_definition_file(path), source=yaml.safe_load(path.read_text(encoding="utf-8"))
    )


def _fields(indicator, seed: int) -> dict[str, int]:
    """Deterministic values for one indicator's fields, spread across its thresholds."""
    from participation.models import IndicatorKind

    if indicator.kind == IndicatorKind.FRACTION:
        denominator = 50 + seed % 400
        share = (seed * 37 + indicator.pk * 11) % 101  # 0..100%
        values = {"Numerator": denominator * share // 100, "Denominator": denominator}
        if indicator.register_field:
            values[indicator.register_field] = denominator + 20
        return values
    if indicator.kind == IndicatorKind.REGISTER:
        return {indicator.register_field or "Register": 20 + seed % 300}
    if indicator.kind == IndicatorKind.YES_NO:
        return {"Yes/No Flag": seed % 3 != 0}
    if indicator.kind == IndicatorKind.COUNT:
        return {"Value": seed % 50}
    return {}


def build_world(*, practices: int, log=print) -> dict:
    from accounts.models import ListSize, Membership, Organisation, OrganisationKind, Role, User
    from achievement.models import Achievement, IndicatorValue, Submission, SubmissionSource
    from declarations import services

    started = time.perf_counter()
    services_by_year = {label: _load(name) for label, name in (("2324", "qof-2023-24.yaml"), ("2425", "qof-2024-25.yaml"))}
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
                ods_code=f"B{80000 + i:05d}", name=f"Benchmark Practice {i:04d}", kind=OrganisationKind.PRACTICE,
                pcn=pcns[i // 8], commissioner=icb,
            )
            for i in range(practices)
        ]
    )
    for service in services_by_year.values():
        date = service.achievement_dates.get(is_payment_date=True)
        ListSize.objects.bulk_create(
            [ListSize(organisation=o, date=date.date, size=6000 + 10 * i) for i, o in enumerate(orgs)]
        )
        indicators = list(service.indicators.all())
        achievements = Achievement.objects.bulk_create(
            [Achievement(provider=o, service=service, achievement_date=date) for o in orgs]
        )
        submissions = Submission.objects.bulk_create(
            [Submission(achievement=a, source=SubmissionSource.EXTRACT, status="submitted", is_current=True) for a in achievements]
        )
        IndicatorValue.objects.bulk_create(
            [
                IndicatorValue(submission=s, indicator=indicator, field_name=field, value=int(value))
                for i, s in enumerate(submissions)
                for indicator in indicators
                for field, value in _fields(indicator, i).items()
            ],
            batch_size=5000,
        )
        ids = [a.pk for a in achievements]
        for start in range(0, len(ids), 100):
            services.calculations_recalculate(achievement_ids=ids[start : start + 100])
        log(f"{service.code}: {len(orgs)} practices calculated ({time.perf_counter() - started:.1f}s)")
    commissioner = User.objects.create_user("commissioner@bench.nhs.net", "bench-password-2026", full_name="Bench Commissioner")
    Membership.objects.create(user=commissioner, organisation=icb, role=Role.APPROVAL_MANAGEMENT)
    return {"icb": icb, "qof": services_by_year["2425"], "practice": orgs[0], "commissioner": commissioner}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=400)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()

    fresh_database(args.database_url)
    # The pages are measured, not the static files: no collectstatic manifest is needed.
    os.environ.setdefault("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
    setup_django(args.database_url, args.redis_url)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from participation.models import AchievementDate

    world = build_world(practices=args.practices, log=lambda text: print(text, file=sys.stderr))
    with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them in production
        cursor.execute("ANALYZE")
    date = AchievementDate.objects.get(service=world["qof"], date=dt.date(2025, 3, 31))
    indicator = world["qof"].indicators.filter(kind="fraction").order_by("pk").first()
    query = f"commissioner={world['icb'].pk}&achievement_date={date.pk}"
    pages = {
        "Where the money is lost": f"{reverse('reports:money_lost')}?{query}",
        f"Indicator {indicator.code}": f"{reverse('reports:money_lost_indicator')}?{query}&indicator={indicator.pk}",
        "This year and last": f"{reverse('reports:year_on_year')}?provider={world['practice'].pk}&achievement_date={date.pk}",
    }
    client = Client()
    client.force_login(world["commissioner"])
    results = {}
    for label, url in pages.items():
        response = client.get(url)  # warm: session, templates, imports
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        rows = html.count("<tr class=\"nhsuk-table__row\" data-")  # an indicator's or a provider's row
        timings = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - started)
            assert response.status_code == 200
        results[label] = (statistics.median(timings), max(timings), len(queries), rows)

    print(f"Insight reports: ICB of {args.practices} practices, QOF 2024/25 (and 2023/24), {args.runs} runs each, "
          f"Django test client, PostgreSQL")
    print(f"{'page':<28} {'median s':>9} {'slowest s':>10} {'queries':>8} {'rows':>6}")
    missed = False
    for label, (median, slowest, queries, rows) in results.items():
        print(f"{label:<28} {median:9.3f} {slowest:10.3f} {queries:8d} {rows:6d}")
        missed = missed or median >= TARGET_SECONDS
    print(f"target: under {TARGET_SECONDS:.1f} s each: {'MISSED' if missed else 'met'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
