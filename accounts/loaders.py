"""Loaders for accounts: the national organisation hierarchy from NHS Digital's mapping file.

The file is the layout of ``QOF_MANUAL_MAPPINGS.csv`` (NHS Digital QOF publication): one row per
GP practice with its PCN, sub-ICB location (columns ``CCG_*``), ICB (``STP_*``) and NHS England
region.  The whole file is validated before anything is written; a file with any error loads
nothing.

Reading and validating the file is ``accounts.mapping_file``; the errors it reports are
``accounts.load_errors`` (re-exported here, where the other loaders import ``ErrorLog``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .load_errors import MAX_ERRORS_SHOWN, ErrorLog, LoadError, OrganisationFileError
from .mapping_file import (
    LEVELS,
    REQUIRED_COLUMNS,
    UNALLOCATED_PCN,
    Wanted,
    decode,
    file_date,
    majority,
    parse,
)
from .models import Organisation, OrganisationKind
from .pcn_membership import MovesRefused, open_memberships_for, record_moves
from .services import audit_record

__all__ = [
    "MAX_ERRORS_SHOWN",
    "REQUIRED_COLUMNS",
    "UNALLOCATED_PCN",
    "ErrorLog",
    "KindCounts",
    "LoadError",
    "LoadResult",
    "OrganisationFileError",
    "file_date",
    "organisations_load",
]

_UPDATE_BATCH_SIZE = 1000


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
        default_factory=lambda: {kind: KindCounts() for _, _, kind in LEVELS}
    )
    practices_moved: list[str] = field(default_factory=list)
    rows: int = 0
    effective: dt.date | None = None  # the date the moves take effect

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())


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
    text, errors = decode(data)
    if errors:
        raise OrganisationFileError(errors)
    wanted, errors, rows = parse(text)
    if errors:
        raise OrganisationFileError(errors)
    for org in wanted.values():
        if org.kind == OrganisationKind.PCN:
            org.commissioner = majority(org.practice_icbs)
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


def _apply(wanted: dict[str, Wanted], result: LoadResult) -> None:
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
    for _, _, kind in LEVELS:
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
