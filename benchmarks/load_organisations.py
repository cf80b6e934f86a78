"""Benchmark: load the national organisation hierarchy (NHS Digital mapping file).

    DATABASE_URL=postgres://root@127.0.0.1:5432/cqrs_ops .venv/bin/python benchmarks/load_organisations.py [FILE]

FILE is NHS Digital's QOF mapping file (``QOF_MANUAL_MAPPINGS.csv`` of its public QOF metadata,
6,410 practices; the layout is in docs/design.md "File layouts").  It is optional input that the
repository does not ship: the default looks for it in ``../shared/reference/nhsd-qof-2023-24/``
beside the project, and the benchmark says so and stops when it is not there.

Times a load into empty tables (every organisation created), then a second, idempotent load of
the same file (every organisation unchanged), and prints rows per second for each.  It runs in a
throw-away test database created beside DATABASE_URL's (``test_<name>``, as the test runner
does) and dropped at the end, so the database you point it at is never written to.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = PROJECT_ROOT.parent / "shared" / "reference" / "nhsd-qof-2023-24" / "QOF_MANUAL_MAPPINGS.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE), help="mapping file (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of fresh + second load (default 3)")
    args = parser.parse_args()
    if not Path(args.file).exists():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2

    sys.path.insert(0, str(PROJECT_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqrs_site.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from accounts.loaders import organisations_load
    from accounts.models import Organisation, OrganisationKind

    setup_test_environment()
    database = connection.settings_dict["NAME"]
    test_database = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        fresh, again = [], []
        for _ in range(args.repeat):
            # Links are PROTECTed: empty the tables from the leaves up.
            for kind in reversed(OrganisationKind.values):
                Organisation.objects.filter(kind=kind).delete()
            start = time.perf_counter()
            first = organisations_load(path=args.file)
            fresh.append(time.perf_counter() - start)
            start = time.perf_counter()
            second = organisations_load(path=args.file)
            again.append(time.perf_counter() - start)
            assert second.changed == 0, "the second load changed something"
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)

    rows = first.rows
    organisations = sum(counts.total for counts in first.counts.values())
    print(f"file: {args.file}")
    print(f"database: {connection.vendor} {test_database} (beside {database}; dropped)")
    print(
        "loaded: "
        + ", ".join(f"{counts.created} {OrganisationKind(kind).label}" for kind, counts in first.counts.items())
    )
    print(f"{rows} practice rows, {organisations} organisations; {args.repeat} rounds, median (best)")
    for label, times in (("fresh load (all created)", fresh), ("second load (unchanged)", again)):
        median, best = statistics.median(times), min(times)
        print(
            f"  {label:<26} {median:6.3f} s ({best:.3f} s)  "
            f"{rows / median:8,.0f} rows/s ({rows / best:,.0f})  "
            f"{organisations / median:8,.0f} organisations/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
