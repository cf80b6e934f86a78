"""Reading a GPES extract: every row validated, streaming, and the good ones turned into lines
for COPY.

The layout is CQRS's indicator-values file: one row per organisation, achievement date, indicator
and field, in the columns ``COLUMNS`` (header first, in any order).  List sizes arrive as rows
with IND_CODE ``LISTSIZE`` and FIELD_NAME ``Registered Population``.

The file is read once.  Lines without a quote are split directly (``csv`` parses the rest); a
file that is not UTF-8 is rejected at the line of its first bad byte.  Cross-row rules are
checked while streaming with small state: duplicates with a bitmap per (provider, achievement
date) over the (indicator, field) pairs seen, Numerator against Denominator with the first of
the pair kept only until its partner arrives.  Every error is reported at the line where it is
found, so errors come in line order: the first 100 are kept, the rest counted (``ErrorLog``).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from accounts.loaders import ErrorLog

from .catalogue import Catalogue, Group, LoadResult, ServiceEntry, valid_submit_date
from .fast_rows import FastRows, standard_order
from .layout import (  # COLUMNS, LIST_SIZE_FIELD and ExtractInvalid: also the reader's words
    _LIST_SIZE,
    _NUMERATOR,
    COLUMNS,
    LIST_SIZE_FIELD,
    MAX_VALUE,
    PROGRESS_EVERY,
    ExtractInvalid,
    first_undecodable_line,
    pair_entry,
)
from .list_sizes import LIST_SIZE_INDICATOR, above, settle, too_large

if TYPE_CHECKING:
    from .copy import SubmissionIds

__all__ = ["COLUMNS", "LIST_SIZE_FIELD", "ExtractInvalid", "ExtractReader"]


class ExtractReader:
    """Validates the rows of an extract file and produces the values of the good ones.

    ``chunks()`` yields lists of lines in PostgreSQL COPY text format
    (``submission_id<TAB>indicator_id<TAB>field_name<TAB>value``), a few thousand at a time, until
    the first error is found; then it only validates.  Errors go to ``errors``; afterwards
    ``result`` holds the groups and list sizes.

    The row loop is the hot path of a national load (3.5 million rows).  Runs of lines of one
    clean group are taken by the fast path (``fast_rows.py``, docs/adr/0025); the rest come to
    the per-row loop, which splits lines without a quote directly (``csv`` parses the others)
    and works out once and caches what depends only on the group or on the (indicator, field)
    pair.  A quoted field may not span lines.
    """

    CHUNK_LINES = 4_000
    FAST = True  # runs of one clean group checked at once (fast_rows.py); False: every row here

    def __init__(
        self,
        path: Path,
        catalogue: Catalogue,
        ids: SubmissionIds,
        *,
        progress: Callable[[int], None] | None = None,
    ):
        self.path = path
        self.catalogue = catalogue
        self.ids = ids
        self.progress = progress or (lambda rows: None)
        self.errors = ErrorLog()
        self.result = LoadResult(0, [], {})
        self.field_names: dict[str, str] = {}  # COPY-escaped field name -> field name
        self._pairs: dict[int, dict[tuple[str, str], tuple | str]] = {}
        self._bits: dict[tuple[int, str], int] = {}
        self._rescan: list[Group] = []  # groups with a count above the list size read before it

    def chunks(self) -> Iterator[list[str]]:
        errors = self.errors
        add_error = errors.add
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as f:
                yield from self._rows(f)
        except UnicodeDecodeError:
            add_error(
                first_undecodable_line(self.path), "The file is not UTF-8 encoded text (a CSV file is expected)."
            )

    def _header(self, f) -> Callable | None:
        add_error = self.errors.add
        first = f.readline()
        if not first.strip():
            add_error(1, "The file is empty.")
            return None
        try:
            header = [name.strip() for name in next(csv.reader([first], strict=True))]
        except csv.Error as exc:
            add_error(1, f"The file is not a CSV file ({exc}).")
            return None
        missing = [name for name in COLUMNS if name not in header]
        extra = [name for name in header if name not in COLUMNS]
        if missing:
            add_error(1, f"Missing column(s): {', '.join(missing)}.")
        if extra:
            add_error(1, f"Unexpected column(s): {', '.join(extra) or '(blank)'}.")
        if not missing and not extra and len(set(header)) != len(header):
            add_error(1, "A column appears twice in the header.")
        if self.errors:
            return None
        wanted = ("QUALITY_SERVICE", "ORG_CODE", "ACH_DATE", "IND_CODE", "FIELD_NAME", "VALUE", "SUBMIT_DATE")
        return itemgetter(*(header.index(name) for name in wanted))

    def _rows(self, f) -> Iterator[list[str]]:
        pick = self._header(f)
        if pick is None:
            return
        yield from self._body(pick, [(f, 1)], whole_file=True)

    def _body(self, pick: Callable, sources: Iterable[tuple[Iterable[str], int]], *, whole_file: bool):
        """The row loop over ``sources``: (lines, number of the line before the first) each, in
        file order (one source for a whole file; a batch's byte ranges otherwise, see
        achievement/ingest/stage.py).  ``whole_file``: a file without rows is an error."""
        errors = self.errors
        add_error = errors.add
        columns = len(COLUMNS)
        catalogue_services = self.catalogue.services
        groups: dict[tuple[str, str, str], Group | list[str]] = {}
        list_sizes: dict[tuple[int, int, dt.date], tuple[int, int]] = {}
        pending_fraction: dict[tuple[int, int, int], tuple[int, int, int]] = {}
        submit_dates: dict[str, bool] = {}
        progress = self.progress
        assign = self.ids.assign
        pair_of = self._pair
        chunk_lines = self.CHUNK_LINES

        out: list[str] = []
        append = out.append
        last_service = last_org = last_date = None
        group: Group | None = None
        group_errors: list[str] | None = None
        service: ServiceEntry | None = None
        pairs: dict | None = None
        prefix: str | None = None
        rows = 0
        next_progress = PROGRESS_EVERY

        fast = None
        if self.FAST and standard_order(pick):
            fast = FastRows(self, groups, list_sizes, pending_fraction, submit_dates)
        self._fast = fast
        for f, first_line in sources:
            # Runs of one clean group are taken by the fast path (fast_rows.py); the rest of the
            # lines come here, to the per-row loop.
            for lines, line_no, fast_rows, fast_lines in fast.segments(f, first_line) if fast else [(f, first_line, 0, None)]:
                if fast_lines is not None:
                    last_service = last_org = last_date = None  # the group's state is read again below
                    rows += fast_rows
                    if rows >= next_progress:
                        progress(rows)
                        next_progress += PROGRESS_EVERY
                    if fast_lines:
                        out += fast_lines
                        if len(out) >= chunk_lines:
                            yield out
                            out = []
                            append = out.append
                    continue
                for line in lines:
                    line_no += 1
                    if '"' in line:
                        try:
                            row = next(csv.reader([line], strict=True))
                        except csv.Error as exc:
                            rows += 1
                            add_error(line_no, f"The row is not valid CSV ({exc}); a quoted field may not span lines.")
                            continue
                    else:
                        row = line.rstrip("\r\n").split(",")
                    if len(row) != columns:
                        if len(row) == 1 and not row[0].strip():
                            continue  # a blank line
                        rows += 1
                        add_error(line_no, f"Expected {columns} columns, found {len(row)}.")
                        continue
                    rows += 1
                    if rows >= next_progress:
                        progress(rows)
                        next_progress += PROGRESS_EVERY
                    service_code, org_code, ach_date, ind_code, field_name, value, submit_date = pick(row)

                    if org_code != last_org or ach_date != last_date or service_code != last_service:
                        last_service, last_org, last_date = service_code, org_code, ach_date
                        key = (service_code, org_code, ach_date)
                        found = groups.get(key)
                        if found is None:
                            found = groups[key] = self.catalogue.group_for(key)
                        if type(found) is list:
                            group, group_errors = None, found
                            service = catalogue_services.get(service_code)
                            prefix = None
                        else:
                            group, group_errors = found, None
                            service = group.service
                            prefix = group.copy_prefix
                        pairs = None if service is None else self._pairs.setdefault(service.id, {})
                        ceiling = 0 if service is None else service.ceiling
                        size = None if group is None else group.list_size
                        pending_max = -1 if group is None else group.pending_max

                    row_ok = True
                    if group_errors is not None:
                        for message in group_errors:
                            add_error(line_no, message)
                        row_ok = False

                    submit_ok = submit_dates.get(submit_date)
                    if submit_ok is None:
                        submit_ok = submit_dates[submit_date] = valid_submit_date(submit_date)
                    if not submit_ok:
                        add_error(line_no, f"SUBMIT_DATE {submit_date!r} is not a date in the form DD/MM/YYYY.")
                        row_ok = False

                    if not (value.isdigit() and value.isascii()) or (len(value) > 18 and int(value) > MAX_VALUE):
                        add_error(line_no, f"VALUE {value!r} is not a whole number of 0 or more.")
                        row_ok = False

                    if pairs is None:
                        continue  # unknown service: nothing more can be checked
                    pair_key = (ind_code, field_name)
                    entry = pairs.get(pair_key)
                    if entry is None:
                        entry = pairs[pair_key] = pair_of(service, ind_code, field_name)
                    if type(entry) is str:
                        add_error(line_no, entry)
                        if group is not None and ind_code == LIST_SIZE_INDICATOR:
                            group.list_size_refused = True  # its list size is not "unknown": it is wrong
                        continue
                    if entry is _LIST_SIZE:
                        if not row_ok and group is not None:
                            group.list_size_refused = True
                        if row_ok:
                            size_key = (service.id, group.provider.id, group.date)
                            first = list_sizes.get(size_key)
                            size = int(value)
                            if first is not None:
                                add_error(
                                    line_no,
                                    f"{org_code} {ind_code} {field_name} on {ach_date} appears more than once "
                                    f"(first at line {first[1]}).",
                                )
                            elif size > ceiling:
                                add_error(line_no, too_large(org_code, ind_code, field_name, ach_date, size, ceiling))
                                group.list_size_refused = True
                            else:
                                list_sizes[size_key] = (size, line_no)
                                group.list_size, group.list_size_line = size, line_no
                                if group.pending_max > size:  # a count before it is above it
                                    self._rescan.append(group)
                        continue
                    if group is None:
                        continue
                    indicator_id, bit, middle, role, _, _ = entry

                    seen = group.seen
                    byte, mask = bit >> 3, 1 << (bit & 7)
                    if byte >= len(seen):
                        seen.extend(bytes(byte + 1 - len(seen)))
                    if seen[byte] & mask:
                        add_error(line_no, f"{org_code} {ind_code} {field_name} on {ach_date} appears more than once.")
                        continue
                    seen[byte] |= mask

                    if row_ok:
                        # What the value can be (achievement/plausibility.py): a Yes/No Flag 1 or 0;
                        # a count not above the ceiling nor the list size (the file's LISTSIZE for the
                        # group; until it is read, the largest count is kept: list_sizes.py).
                        if role < 0:  # a Yes/No Flag
                            if value != "1" and value != "0" and int(value) > 1:
                                add_error(
                                    line_no,
                                    f"{org_code} {ind_code} {field_name} on {ach_date}: VALUE {value!r} is not "
                                    "1 (Yes) or 0 (No).",
                                )
                                row_ok = False
                        else:
                            count = int(value)
                            if count > ceiling:
                                add_error(line_no, too_large(org_code, ind_code, field_name, ach_date, count, ceiling))
                                row_ok = False
                            elif size is None:
                                if count > pending_max:
                                    if pending_max < 0:
                                        group.first_count_line = line_no
                                    pending_max = group.pending_max = count
                            elif count > size:
                                add_error(line_no, above(group, count, ind_code, field_name, size, group.list_size_line))
                                row_ok = False

                            if role and row_ok:
                                fraction_key = (group.provider.id, group.date_id, indicator_id)
                                partner = pending_fraction.pop(fraction_key, None)
                                if partner is None:
                                    pending_fraction[fraction_key] = (role, count, line_no)
                                elif partner[0] != role:
                                    numerator, denominator = (count, partner[1]) if role == _NUMERATOR else (partner[1], count)
                                    if numerator > denominator:
                                        add_error(
                                            line_no,
                                            f"{org_code} {ind_code} on {ach_date}: Numerator {numerator} is above "
                                            f"Denominator {denominator} (line {partner[2]}).",
                                        )

                    if row_ok and not errors.count:
                        if prefix is None:
                            assign(group)
                            prefix = group.copy_prefix = f"{group.submission_id}\t"
                        group.rows += 1
                        append(prefix + middle + value + "\n")
                        if len(out) >= chunk_lines:
                            yield out
                            out = []
                            append = out.append

        self._pick, self._groups = pick, groups  # for ``finish``
        if out and not errors.count:
            yield out
        if whole_file and rows == 0 and not errors:
            add_error(2, "The file is empty: it has a header but no rows.")
        progress(rows)
        self.group_keys = list(groups)  # every (service, organisation, date) seen, valid or not
        self.result = LoadResult(
            rows,
            [g for g in groups.values() if type(g) is Group and g.submission_id is not None],
            list_sizes,
        )

    def _pair(self, service: ServiceEntry, ind_code: str, field_name: str) -> tuple | str:
        """What rows with this IND_CODE and FIELD_NAME are for the service (``layout.pair_entry``)."""
        return pair_entry(service, ind_code, field_name, bits=self._bits, field_names=self.field_names)

    def finish(self) -> None:
        """After the values are written: check the counts of the groups the file gave no
        LISTSIZE row against their recorded list sizes (one query), and put the errors in line
        order.  ``write_values`` calls it."""
        groups = getattr(self, "_groups", None)
        if groups is not None:
            settle(self, groups)
        self.errors.shown.sort(key=lambda e: e["line"] or 0)

