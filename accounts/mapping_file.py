"""Reading NHS Digital's organisation mapping file: decoding, validating every row and what the
file describes, organisation by organisation (nothing is written here; ``accounts.loaders``
writes it).

The file is the layout of ``QOF_MANUAL_MAPPINGS.csv`` (NHS Digital QOF publication): one row per
GP practice with its PCN, sub-ICB location (columns ``CCG_*``), ICB (``STP_*``) and NHS England
region.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .load_errors import LoadError
from .models import Organisation, OrganisationKind, ods_code_error

REQUIRED_COLUMNS = (
    "PRACTICE_CODE",
    "PRACTICE_NAME",
    "PCN_ODS_CODE",
    "PCN_NAME",
    "CCG_ODS_CODE",
    "CCG_NAME",
    "STP_ODS_CODE",
    "STP_NAME",
    "REGION_ODS_CODE",
    "REGION_NAME",
)

# (code column, name column, kind) for each organisation a row names, from the top down.
LEVELS = (
    ("REGION_ODS_CODE", "REGION_NAME", OrganisationKind.REGION),
    ("STP_ODS_CODE", "STP_NAME", OrganisationKind.ICB),
    ("CCG_ODS_CODE", "CCG_NAME", OrganisationKind.SUB_ICB),
    ("PCN_ODS_CODE", "PCN_NAME", OrganisationKind.PCN),
    ("PRACTICE_CODE", "PRACTICE_NAME", OrganisationKind.PRACTICE),
)

# NHS Digital writes PCN code "U" (name "Unallocated") for a practice that is in no PCN.
UNALLOCATED_PCN = "U"

_NAME_MAX_LENGTH = Organisation._meta.get_field("name").max_length


@dataclass
class Wanted:
    """One organisation as the file describes it."""

    kind: str
    code: str
    names: Counter = field(default_factory=Counter)
    line: int = 0  # where it first appears
    parent: str | None = None
    pcn: str | None = None
    commissioner: str | None = None
    practice_icbs: Counter = field(default_factory=Counter)  # a PCN's practices' ICBs

    @property
    def name(self) -> str:
        # The most common spelling wins (the national file names one PCN two ways).
        return self.names.most_common(1)[0][0]


def decode(data: bytes) -> tuple[str | None, list[LoadError]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    errors = []
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(
                LoadError(number, f"not UTF-8 (byte 0x{raw[exc.start]:02X} at column {exc.start + 1})")
            )
    return None, errors


def parse(text: str) -> tuple[dict[str, Wanted], list[LoadError], int]:
    """Validate the whole file; return what it describes keyed by ODS code, every error, and the
    number of practice rows."""
    errors: list[LoadError] = []
    wanted: dict[str, Wanted] = {}
    if not text.strip():
        return wanted, [LoadError(1, "the file is empty")], 0

    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column.strip() for column in next(reader)]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        return wanted, [LoadError(1, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")], 0
    seen_columns: set[str] = set()
    for column in header:
        if column in seen_columns:
            errors.append(LoadError(1, f"column {column} appears twice"))
        seen_columns.add(column)
    position = {column: header.index(column) for column in REQUIRED_COLUMNS}

    rows = 0
    try:
        for fields in reader:
            line = reader.line_num
            if not any(value.strip() for value in fields):
                continue  # a blank line (the file's trailing newline, say)
            rows += 1
            if len(fields) != len(header):
                errors.append(LoadError(line, f"expected {len(header)} fields, found {len(fields)}"))
                continue
            errors.extend(_parse_row(line, {c: fields[i].strip() for c, i in position.items()}, wanted))
    except csv.Error as exc:
        errors.append(LoadError(reader.line_num, f"not valid CSV ({exc})"))
    if rows == 0 and not errors:
        errors.append(LoadError(2, "the file lists no practices"))
    return wanted, errors, rows


def _parse_row(line: int, row: dict[str, str], wanted: dict[str, Wanted]) -> list[LoadError]:
    errors = []
    for code_column, name_column, kind in LEVELS:
        code, name = row[code_column], row[name_column]
        if not code:
            errors.append(LoadError(line, f"{code_column} is empty"))
        elif not (kind == OrganisationKind.PCN and code == UNALLOCATED_PCN):
            reason = ods_code_error(kind, code)
            if reason:
                errors.append(LoadError(line, f"{code_column} {reason}"))
        if not name:
            errors.append(LoadError(line, f"{name_column} is empty"))
        elif len(name) > _NAME_MAX_LENGTH:
            errors.append(LoadError(line, f"{name_column} is longer than {_NAME_MAX_LENGTH} characters"))
    if errors:
        return errors

    region, icb, sub_icb, pcn, practice = (row[code_column] for code_column, _, _ in LEVELS)
    if pcn == UNALLOCATED_PCN:
        pcn = None

    existing = wanted.get(practice)
    if existing is not None and existing.kind == OrganisationKind.PRACTICE:
        return [LoadError(line, f"practice {practice} is listed twice (first on line {existing.line})")]

    links = {
        OrganisationKind.REGION: {},
        OrganisationKind.ICB: {"parent": region},
        OrganisationKind.SUB_ICB: {"parent": icb},
        OrganisationKind.PCN: {},
        OrganisationKind.PRACTICE: {"parent": sub_icb, "pcn": pcn, "commissioner": icb},
    }
    for code_column, name_column, kind in LEVELS:
        code = row[code_column] if kind != OrganisationKind.PCN else pcn
        if code is None:
            continue
        org = wanted.get(code)
        if org is None:
            org = wanted[code] = Wanted(kind=kind, code=code, line=line, **links[kind])
        elif org.kind != kind:
            label = OrganisationKind(org.kind).label
            errors.append(LoadError(line, f"{code_column} {code} is a {label} on line {org.line}"))
            continue
        elif org.parent != links[kind].get("parent", org.parent):
            # The hierarchy is a tree: a sub-ICB location has one ICB, an ICB one region.
            errors.append(
                LoadError(
                    line,
                    f"{code_column} {code} is under {links[kind]['parent']} here "
                    f"but under {org.parent} on line {org.line}",
                )
            )
            continue
        org.names[row[name_column]] += 1
    if pcn is not None and not errors:
        wanted[pcn].practice_icbs[icb] += 1
    return errors


def majority(icbs: Counter) -> str:
    # Most practices wins; a tie goes to the lowest ICB code, so the answer does not depend on
    # the order of the rows.
    return min(icbs.items(), key=lambda item: (-item[1], item[0]))[0]


_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


def file_date(path: str | Path) -> dt.date:
    """The date a mapping file describes: a date in its name (``..._2025-04-01.csv`` or
    ``..._20250401.csv``), else the day it was last modified."""
    path = Path(path)
    for match in _NAME_DATE.finditer(path.name):
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            continue
    return dt.datetime.fromtimestamp(path.stat().st_mtime).date()
