"""The list-size check of an extract's rows (achievement/plausibility.py): every count of a group
(provider, achievement date) is not above its registered list size.

The list size is the file's own LISTSIZE row for the group when it has one (it is what the load
records), else the list size recorded on or before the date (as
``achievement.selectors.list_size_on``).  A count read once the group's list size is known is
checked at its line.  A LISTSIZE row usually follows its group's counts: until it is read the
reader keeps only the largest count (``Group.pending_max``: no memory nor time per row beyond a
comparison).  When that largest count is above the list size, the file will be rejected: the
group's rows are read again (``rescan``, only then) so that every count above it is reported at
its own line.  The groups the file gives no LISTSIZE row are settled after the values are written
(no query while the COPY is in progress): their recorded list sizes in one query; a group with
counts and no list size at all is an error at its first count's line.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from accounts.models import ListSize

from .catalogue import Group

if TYPE_CHECKING:
    from .reader import ExtractReader

LIST_SIZE_INDICATOR = "LISTSIZE"


def too_large(org_code: str, ind_code: str, field_name: str, ach_date: str, value: int, ceiling: int) -> str:
    return (
        f"{org_code} {ind_code} {field_name} on {ach_date}: {value:,} is too large: no value or list size "
        f"can be above {ceiling:,}."
    )


def above(group: Group, count: int, ind_code: str, field_name: str, size: int, line: int | None) -> str:
    if group.list_size is not None:
        source = f"{LIST_SIZE_INDICATOR}, line {line}"
    else:
        source = f"recorded on {group.recorded_on:%d/%m/%Y}; the file has no {LIST_SIZE_INDICATOR} row for it"
    return (
        f"{group.provider.ods_code} {ind_code} {field_name} on {group.date:%Y%m%d}: {count:,} is above the "
        f"registered list size {size:,} ({source})."
    )


def settle(reader: ExtractReader, groups: dict) -> None:
    """After the rows: the groups without a LISTSIZE row against their recorded list sizes (one
    query), then every group whose largest early count is above its list size read again."""
    errors = reader.errors
    unknown = [
        g for g in groups.values()
        if type(g) is Group and g.list_size is None and g.pending_max >= 0 and not g.list_size_refused
    ]
    if unknown:
        recorded: dict[int, list[tuple]] = {}
        rows = ListSize.objects.filter(
            organisation_id__in={g.provider.id for g in unknown}, date__lte=max(g.date for g in unknown)
        ).values_list("organisation_id", "date", "size")
        for organisation_id, date, size in rows:
            recorded.setdefault(organisation_id, []).append((date, size))
        for group in unknown:
            known = [(date, size) for date, size in recorded.get(group.provider.id, ()) if date <= group.date]
            if not known:
                errors.add(
                    group.first_count_line,
                    f"{group.provider.ods_code} on {group.date:%Y%m%d}: the registered list size is not known: "
                    f"the file has no {LIST_SIZE_INDICATOR} row for it and none is recorded, so its values "
                    "cannot be checked against it.",
                )
                continue
            group.recorded_on, group.recorded_size = max(known)
            if group.pending_max > group.recorded_size:
                reader._rescan.append(group)
    if reader._rescan:
        rescan(reader, reader._rescan)


def rescan(reader: ExtractReader, bad: list[Group]) -> None:
    """Read the file again for the rows of ``bad`` groups (the file is rejected: this is only
    to report each count above the list size at its line)."""
    wanted = {id(g) for g in bad}
    groups = {key: g for key, g in reader._groups.items() if type(g) is Group and id(g) in wanted}
    from .layout import COLUMNS

    pick, pairs, columns = reader._pick, reader._pairs, len(COLUMNS)
    seen: set[tuple] = set()
    with reader.path.open(encoding="utf-8-sig", newline="") as f:
        f.readline()  # the header
        for line_no, line in enumerate(f, start=2):
            try:
                row = next(csv.reader([line], strict=True)) if '"' in line else line.rstrip("\r\n").split(",")
            except csv.Error:
                continue
            if len(row) != columns:
                continue
            service_code, org_code, ach_date, ind_code, field_name, value, _ = pick(row)
            group = groups.get((service_code, org_code, ach_date))
            if group is None or not (value.isdigit() and value.isascii()):
                continue
            entry = pairs.get(group.service.id, {}).get((ind_code, field_name))
            # A count's entry: (indicator id, bit, COPY part, role, IND_CODE, FIELD_NAME), role -1
            # for a Yes/No Flag; a str is an error, a 1-tuple a LISTSIZE row.
            if type(entry) is not tuple or len(entry) != 6 or entry[3] < 0 or (id(group), entry[0], entry[5]) in seen:
                continue
            seen.add((id(group), entry[0], entry[5]))
            if group.list_size is not None and line_no > group.list_size_line:
                continue  # checked when it was read
            count = int(value)
            size = group.list_size if group.list_size is not None else group.recorded_size
            if size < count <= group.service.ceiling:
                reader.errors.add(line_no, above(group, count, ind_code, field_name, size, group.list_size_line))
