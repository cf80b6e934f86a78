"""The list-size check of an extract's rows (achievement/plausibility.py): every count of a group
(provider, achievement date) is not above its registered list size.

The list size is the file's own LISTSIZE row for the group when it has one (it is what the load
records), else the list size recorded on or before the date (as
``achievement.selectors.list_size_on``).  A LISTSIZE row usually follows the group's counts, so
the reader keeps a group's counts in ``Group.pending`` until its LISTSIZE row is read
(``check_against_file``: each count checked at its own line).  The counts of a group the file
gives no LISTSIZE row wait until the values are written (no query while the COPY is in
progress): ``settle`` then reads the recorded list sizes of those groups in one query.  A group
with counts and no list size at all is an error at its first count's line.
"""

from __future__ import annotations

from collections.abc import Iterable

from accounts.loaders import ErrorLog
from accounts.models import ListSize

from .catalogue import Group

LIST_SIZE_INDICATOR = "LISTSIZE"


def too_large(org_code: str, ind_code: str, field_name: str, ach_date: str, value: int, ceiling: int) -> str:
    return (
        f"{org_code} {ind_code} {field_name} on {ach_date}: {value:,} is too large: no value or list size "
        f"can be above {ceiling:,}."
    )


def above(group: Group, count: int, ind_code: str, field_name: str, size: int, source: str) -> str:
    return (
        f"{group.provider.ods_code} {ind_code} {field_name} on {group.date:%Y%m%d}: {count:,} is above the "
        f"registered list size {size:,} ({source})."
    )


def check_against_file(errors: ErrorLog, group: Group, line_no: int) -> None:
    """The file's LISTSIZE row for the group was read, at ``line_no``: check what waited."""
    size = group.list_size
    source = f"{LIST_SIZE_INDICATOR}, line {line_no}"
    for count, line, entry in group.pending:
        if count > size:
            errors.add(line, above(group, count, entry[4], entry[5], size, source))
    group.pending.clear()


def settle(errors: ErrorLog, groups: Iterable[Group]) -> None:
    """Check the counts of ``groups`` (the file gave them no LISTSIZE row) against their
    recorded list sizes; one query."""
    groups = [g for g in groups if g.pending and g.list_size is None and not g.list_size_refused]
    if not groups:
        return
    recorded: dict[int, list[tuple]] = {}
    rows = ListSize.objects.filter(
        organisation_id__in={g.provider.id for g in groups}, date__lte=max(g.date for g in groups)
    ).values_list("organisation_id", "date", "size")
    for organisation_id, date, size in rows:
        recorded.setdefault(organisation_id, []).append((date, size))
    for group in groups:
        known = [(date, size) for date, size in recorded.get(group.provider.id, ()) if date <= group.date]
        first_line = min(line for _, line, _ in group.pending)
        if not known:
            errors.add(
                first_line,
                f"{group.provider.ods_code} on {group.date:%Y%m%d}: the registered list size is not known: the "
                f"file has no {LIST_SIZE_INDICATOR} row for it and none is recorded, so its values cannot be "
                "checked against it.",
            )
            group.pending.clear()
            continue
        on, size = max(known)
        source = f"recorded on {on:%d/%m/%Y}; the file has no {LIST_SIZE_INDICATOR} row for it"
        for count, line, entry in group.pending:
            if count > size:
                errors.add(line, above(group, count, entry[4], entry[5], size, source))
        group.pending.clear()
