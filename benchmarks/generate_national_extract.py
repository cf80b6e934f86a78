"""Write a national QOF 2023/24 year-end GPES extract for the benchmark.

One practice per row of NHS Digital's mapping file (QOF_MANUAL_MAPPINGS.csv, 6,410 practices),
each with the indicator fields of the public sample INDICATOR_VALUES.csv that GPES extracts (546
rows a practice: 543 for the 70 automatic published indicators and 3 for the management-information
components COPD009MI1-3, which the QOF definitions declare (stored, never paid); the six manually
entered Quality Improvement indicators are not extracted, and a load refuses their rows) plus a
LISTSIZE row: 3,506,270 rows in the CQRS indicator-values layout.  Values are random but plausible and
reproducible (``--seed``): list sizes around the national average, registers a few percent of
the list, every count below the list size, Numerator never above Denominator.

    python benchmarks/generate_national_extract.py OUT.csv [--practices N] [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "nhsd-qof-2023-24"
HEADER = (
    "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,"
    "DEFAULT_VALUES_USED,SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION"
)
SERVICE = "QOF2324"
SERVICE_NAME = "Quality and Outcomes Framework 2023/24"
ACH_DATE = "20240331"
TRAILER = "None,AUTOMATED,02/04/2024,11:19:50,Y"


def sample_fields(values_csv: Path, reference_control_csv: Path) -> list[tuple[str, str]]:
    """(IND_CODE, FIELD_NAME) in the order of the public sample, for the 70 published indicators
    GPES extracts and the management-information components COPD009MI1-3 (not indicators of their
    own: the QOF definitions declare them as management information, stored and never paid);
    not the six Quality Improvement indicators QI013-QI019, entered manually
    (AUTOMATIC_MANUAL_ENTRY M): GPES does not extract them, and a load refuses their rows."""
    with reference_control_csv.open(newline="", encoding="utf-8") as f:
        manual = {row["INDICATOR_CODE"] for row in csv.DictReader(f) if row["AUTOMATIC_MANUAL_ENTRY"] == "M"}
    with values_csv.open(newline="", encoding="utf-8") as f:
        return [(row["IND_CODE"], row["FIELD_NAME"]) for row in csv.DictReader(f) if row["IND_CODE"] not in manual]


def practice_codes(mappings_csv: Path, limit: int | None = None) -> list[str]:
    with mappings_csv.open(newline="", encoding="utf-8") as f:
        codes = [row["PRACTICE_CODE"] for row in csv.DictReader(f)]
    return codes[:limit] if limit else codes


def practice_rows(rng: random.Random, fields: list[tuple[str, str]]):
    """The (IND_CODE, FIELD_NAME, VALUE) rows of one practice."""
    list_size = max(1500, int(rng.gauss(9639, 4500)))
    registers: dict[str, int] = {}
    denominators: dict[str, int] = {}
    for ind_code, field_name in fields:
        group = ind_code.rstrip("0123456789")
        if field_name.endswith("Register"):
            value = registers.setdefault(group, int(list_size * rng.uniform(0.005, 0.15)))
        elif field_name == "Denominator":
            base = registers.get(group) or int(list_size * rng.uniform(0.02, 0.6))
            value = denominators[ind_code] = int(base * rng.uniform(0.8, 1.0))
        elif field_name == "Numerator":
            value = int(denominators.get(ind_code, 0) * rng.uniform(0.55, 1.0))
        elif field_name == "Yes/No Flag":
            value = 1 if rng.random() < 0.9 else 0
        else:
            value = rng.randint(0, 40)
        yield ind_code, field_name, value
    yield "LISTSIZE", "Registered Population", list_size


def generate(out: Path, *, practices: int | None = None, seed: int = 1) -> int:
    fields = sample_fields(REFERENCE / "INDICATOR_VALUES.csv", REFERENCE / "INDICATOR_REFERENCE_CONTROL.csv")
    codes = practice_codes(REFERENCE / "QOF_MANUAL_MAPPINGS.csv", practices)
    rng = random.Random(seed)
    written = 0
    prefix = f"{SERVICE},{SERVICE_NAME},"
    with out.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\n")
        for code in codes:
            rows = list(practice_rows(rng, fields))
            # Numerators were drawn before their denominators in sample order: draw again now.
            denominators = {ind: v for ind, fn, v in rows if fn == "Denominator"}
            lines = []
            for ind, field_name, value in rows:
                if field_name == "Numerator" and ind in denominators:
                    value = int(denominators[ind] * rng.uniform(0.55, 1.0))
                lines.append(f"{prefix}{code},{ACH_DATE},{ind},{field_name},{value},{TRAILER}\n")
            f.writelines(lines)
            written += len(lines)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--practices", type=int, default=None, help="only the first N practices")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = generate(args.out, practices=args.practices, seed=args.seed)
    size = args.out.stat().st_size
    print(
        f"wrote {rows:,} rows ({size / 1e6:.0f} MB) to {args.out} in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
