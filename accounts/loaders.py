"""Loaders for accounts: the national organisation hierarchy from NHS Digital's mapping file.

The file is the layout of ``QOF_MANUAL_MAPPINGS.csv`` (NHS Digital QOF publication): one row per
GP practice with its PCN, sub-ICB location (columns ``CCG_*``), ICB (``STP_*``) and NHS England
region.  The whole file is validated before anything is written; a file with any error loads
nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .models import Organisation, OrganisationKind, ods_code_error
from .pcn_membership import MovesRefused, open_memberships_for, record_moves
from .services import audit_record

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
_LEVELS = (
    ("REGION_ODS_CODE", "REGION_NAME", OrganisationKind.REGION),
    ("STP_ODS_CODE", "STP_NAME", OrganisationKind.ICB),
    ("CCG_ODS_CODE", "CCG_NAME", OrganisationKind.SUB_ICB),
    ("PCN_ODS_CODE", "PCN_NAME", OrganisationKind.PCN),
    ("PRACTICE_CODE", "PRACTICE_NAME", OrganisationKind.PRACTICE),
)

# NHS Digital writes PCN code "U" (name "Unallocated") for a practice that is in no PCN.
UNALLOCATED_PCN = "U"

MAX_ERRORS_SHOWN = 100
_NAME_MAX_LENGTH = Organisation._meta.get_field("name").max_length
_UPDATE_BATCH_SIZE = 1000


@dataclass(frozen=True)
class LoadError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ErrorLog:
    """The errors of a loaded file, in line order: the first ``limit`` kept, every one counted.

    The one "first 100 errors" log of the project's file loaders (this one, and the GPES extract
    loader of the achievement app, which keeps only what it shows of millions of rows)."""

    shown: list[dict] = field(default_factory=list)  # {"line": ..., "message": ...}
    count: int = 0
    limit: int = MAX_ERRORS_SHOWN

    def add(self, line: int | None, message: str) -> None:
        self.count += 1
        if len(self.shown) < self.limit:
            self.shown.append({"line": line, "message": message})

    @property
    def more(self) -> int:
        """How many errors were counted but not kept."""
        return self.count - len(self.shown)

    def as_list(self) -> list[dict]:
        """The errors to store; a final entry says how many more were found."""
        if self.more > 0:
            return [*self.shown, {"line": None, "message": f"and {self.more:,} more"}]
        return list(self.shown)

    @classmethod
    def merged(cls, parts: Iterable[tuple[list[dict], int]]) -> ErrorLog:
        """The logs of several parts of one file, as ``(shown, count)``, as one log: in line
        order, the first ``limit`` kept, every one counted.  (Each part kept its own first
        ``limit``, so the first ``limit`` of all are among them.)"""
        parts = list(parts)
        log = cls()
        log.shown = sorted((e for shown, _ in parts for e in shown), key=lambda e: e["line"])[: log.limit]
        log.count = sum(count for _, count in parts)
        return log

    def __bool__(self) -> bool:
        return self.count > 0


class OrganisationFileError(Exception):
    """The file is malformed; ``errors`` holds every problem found, with its line number."""

    def __init__(self, errors: list[LoadError]):
        self.errors = errors
        super().__init__(self.summary())

    def summary(self, limit: int = MAX_ERRORS_SHOWN) -> str:
        log = ErrorLog(limit=limit)
        for error in self.errors:
            log.add(error.line, error.reason)
        lines = [str(LoadError(e["line"], e["message"])) for e in log.shown]
        if log.more > 0:
            lines.append(f"... and {log.more} more errors ({log.count} in all)")
        return "\n".join(lines)


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class LoadResult:
    """What a load did, per organisation kind, plus the practices that changed PCN."""

    counts: dict[str, KindCounts] = field(
        default_factory=lambda: {kind: KindCounts() for _, _, kind in _LEVELS}
    )
    practices_moved: list[str] = field(default_factory=list)
    rows: int = 0
    effective: dt.date | None = None  # the date the moves take effect

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())


@dataclass
class _Wanted:
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


def _decode(data: bytes) -> tuple[str | None, list[LoadError]]:
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


def _parse(text: str) -> tuple[dict[str, _Wanted], list[LoadError], int]:
    """Validate the whole file; return what it describes keyed by ODS code, every error, and the
    number of practice rows."""
    errors: list[LoadError] = []
    wanted: dict[str, _Wanted] = {}
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


def _parse_row(line: int, row: dict[str, str], wanted: dict[str, _Wanted]) -> list[LoadError]:
    errors = []
    for code_column, name_column, kind in _LEVELS:
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

    region, icb, sub_icb, pcn, practice = (row[code_column] for code_column, _, _ in _LEVELS)
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
    for code_column, name_column, kind in _LEVELS:
        code = row[code_column] if kind != OrganisationKind.PCN else pcn
        if code is None:
            continue
        org = wanted.get(code)
        if org is None:
            org = wanted[code] = _Wanted(kind=kind, code=code, line=line, **links[kind])
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


def _majority(icbs: Counter) -> str:
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


def organisations_load(*, path: str | Path, effective: dt.date | None = None) -> LoadResult:
    """Create or update every organisation in an NHS Digital mapping file (idempotent).

    Rules: the file is validated whole first and rejected with every error (line numbered) if
    anything is wrong, writing nothing; a practice's PCN, sub-ICB location and commissioner (its
    ICB) follow the file, so a practice listed under a new PCN moves to it; a PCN's commissioner is
    the ICB of most of its practices; organisations missing from the file are left as they are.

    PCN membership over time (docs/adr/0020): a practice already loaded that the file lists in
    another PCN, in a PCN for the first time (joining) or as Unallocated (leaving) moves on
    ``effective`` (default: the file's date, ``file_date``): its membership ends the day before,
    the new one starts that day, and its PCNs' Network Contract DES achievement on and after it is
    re-aggregated.  A move that would not be after the practice joined its current PCN is an
    error of the file.  A practice the file creates is a member of its PCN from a date not
    recorded.
    """
    data = Path(path).read_bytes()
    text, errors = _decode(data)
    if errors:
        raise OrganisationFileError(errors)
    wanted, errors, rows = _parse(text)
    if errors:
        raise OrganisationFileError(errors)
    for org in wanted.values():
        if org.kind == OrganisationKind.PCN:
            org.commissioner = _majority(org.practice_icbs)
    result = LoadResult(rows=rows, effective=effective or file_date(path))
    with transaction.atomic():
        _apply(wanted, result)
        if result.changed:
            audit_record(
                action="organisations_loaded",
                detail={
                    "file": Path(path).name,
                    "practices_moved": len(result.practices_moved),
                    "effective": f"{result.effective:%Y-%m-%d}",
                    **{kind: vars(counts) for kind, counts in result.counts.items()},
                },
            )
    return result


def _apply(wanted: dict[str, _Wanted], result: LoadResult) -> None:
    existing = {
        org.ods_code: org
        for org in Organisation.objects.select_for_update().filter(ods_code__in=list(wanted))
    }
    conflicts = [
        LoadError(
            org.line,
            f"{org.code} is already a {existing[org.code].get_kind_display()} in the database, "
            f"not a {OrganisationKind(org.kind).label}",
        )
        for org in wanted.values()
        if org.code in existing and existing[org.code].kind != org.kind
    ]
    if conflicts:
        raise OrganisationFileError(sorted(conflicts, key=lambda error: error.line))

    ids = {code: org.pk for code, org in existing.items()}
    moves: dict[int, int | None] = {}  # practice id -> its PCN from the effective date
    created_practices: list[tuple[int, int | None]] = []  # (id, PCN id)
    managed_fields = {
        OrganisationKind.REGION: ["name"],
        OrganisationKind.ICB: ["name", "parent_id"],
        OrganisationKind.SUB_ICB: ["name", "parent_id"],
        OrganisationKind.PCN: ["name", "commissioner_id"],
        OrganisationKind.PRACTICE: ["name", "parent_id", "pcn_id", "commissioner_id"],
    }
    # Top down, so that every link points at a row that already has an id.
    for _, _, kind in _LEVELS:
        fields = managed_fields[kind]
        counts = result.counts[kind]
        to_create, to_update = [], []
        for org in (o for o in wanted.values() if o.kind == kind):
            values = {
                "name": org.name,
                "parent_id": ids[org.parent] if org.parent else None,
                "pcn_id": ids[org.pcn] if org.pcn else None,
                "commissioner_id": ids[org.commissioner] if org.commissioner else None,
            }
            current = existing.get(org.code)
            if current is None:
                to_create.append(Organisation(ods_code=org.code, kind=kind, **values))
                continue
            changed = [name for name in fields if getattr(current, name) != values[name]]
            if not changed:
                counts.unchanged += 1
                continue
            if kind == OrganisationKind.PRACTICE and "pcn_id" in changed:
                # A move: recorded with its date below (record_moves sets the PCN).
                result.practices_moved.append(org.code)
                moves[current.pk] = values["pcn_id"]
            for name in fields:
                if name != "pcn_id":
                    setattr(current, name, values[name])
            to_update.append(current)
        created = Organisation.objects.bulk_create(to_create)
        _remember_ids(ids, created)
        if kind == OrganisationKind.PRACTICE:
            created_practices = [(ids[org.ods_code], org.pcn_id) for org in to_create]
        updated_fields = [name.removesuffix("_id") for name in fields if name != "pcn_id"]
        if to_update:
            Organisation.objects.bulk_update(to_update, updated_fields, batch_size=_UPDATE_BATCH_SIZE)
        counts.created += len(created)
        counts.updated += len(to_update)
    open_memberships_for(practice_pcns=created_practices)
    try:
        record_moves(wanted=moves, effective=result.effective)
    except MovesRefused as refused:
        code_of = {pk: code for code, pk in ids.items()}
        raise OrganisationFileError(
            sorted(
                (LoadError(wanted[code_of[pk]].line, f"PRACTICE_CODE {code_of[pk]}: {reason}") for pk, reason in refused.refusals.items()),
                key=lambda error: error.line,
            )
        ) from refused


def _remember_ids(ids: dict[str, int], created: Iterable[Organisation]) -> None:
    created = list(created)
    if created and created[0].pk is None:  # a backend that cannot return ids from bulk inserts
        codes = [org.ods_code for org in created]
        ids.update(Organisation.objects.filter(ods_code__in=codes).values_list("ods_code", "pk"))
    else:
        ids.update((org.ods_code, org.pk) for org in created)
