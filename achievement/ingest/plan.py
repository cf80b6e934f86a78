"""The plan of a batched load: where a large extract is cut into batches of whole organisations.

A batch is a byte range (or several) of the stored file with the number of the line before it,
so errors carry the original file's line numbers, and nothing is copied.  All the rows of an
organisation, and with them every duplicate, Numerator/Denominator and LISTSIZE check, must be
in one batch: GPES writes files grouped by organisation, so the file is cut by offsets where the
organisation changes (``plan_by_offsets``), and the finish checks it; a file that is not so
grouped is planned again by a scan of every line (``plan_batches``).  A file that cannot be
split safely (a bad header, no rows, bytes that are not UTF-8, a bare carriage return) is left
to the single load (None), which reports its errors exactly as before.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from achievement.models import ExtractLoad

from .layout import COLUMNS

UTF8_BOM = b"\xef\xbb\xbf"


def batch_rows() -> int:
    """Rows per batch, and the size above which a file is loaded in batches: the setting
    ``EXTRACT_BATCH_ROWS``, else the environment variable of that name; 0 (the default) loads
    every extract in one task, the fastest on one machine.  Deployments with workers on several
    machines set it (e.g. 250,000)."""
    value = getattr(settings, "EXTRACT_BATCH_ROWS", None) or os.environ.get("EXTRACT_BATCH_ROWS")
    return max(0, int(value or 0))


def wanted(extract: ExtractLoad) -> bool:
    """Load this extract in batches?  Batching is on, the file is larger than one batch, and the
    database is PostgreSQL (the staging relies on Submission ids from a sequence and on COPY)."""
    rows = batch_rows()
    return connection.vendor == "postgresql" and rows > 0 and extract.rows_total > rows


@dataclass
class Batch:
    ranges: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, line before)
    rows: int = 0  # lines, blank ones included (the batch's reader counts the rows)


def _columns(header: bytes) -> tuple[int, int, int] | None:
    """The positions of QUALITY_SERVICE, ORG_CODE and ACH_DATE, or None for a header the single
    load should report on."""
    try:
        text = header.removeprefix(UTF8_BOM).decode("utf-8")
        names = [name.strip() for name in next(csv.reader([text], strict=True))]
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    if sorted(names) != sorted(COLUMNS):
        return None
    return tuple(names.index(name) for name in ("QUALITY_SERVICE", "ORG_CODE", "ACH_DATE"))


def _fields(line: bytes, splits: int) -> list[bytes]:
    """The first ``splits`` fields of a line as the reader will see them (bytes)."""
    if b'"' in line:
        try:
            return [value.encode("utf-8") for value in next(csv.reader([line.decode("utf-8")], strict=True))]
        except (UnicodeDecodeError, csv.Error, StopIteration):
            return []
    return line.rstrip(b"\r\n").split(b",", splits)


_BLOCK = 8 << 20


def plan_by_offsets(path: Path, rows_per_batch: int) -> list[Batch] | None:
    """Split the file at about every ``rows_per_batch`` rows, each cut moved forward to where the
    organisation changes: the coordinator reads a few lines per batch plus one pass at C speed
    (newlines counted for the line numbers, UTF-8 and carriage returns checked).  Right for a
    file grouped by organisation, as GPES writes them; the finish checks that no group landed in
    two batches and otherwise has the file planned again by ``plan_batches``.  None when the
    single load should take the file."""
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.readline()
        columns = _columns(header)
        if columns is None:
            return None
        i_org = columns[1]
        splits = max(columns) + 1
        body_start = len(header)
        sample = f.read(1 << 20)
        if sample.count(b"\n") == 0:
            return None
        line_bytes = len(sample) / sample.count(b"\n")
        count = max(1, math.ceil((size - body_start) / (rows_per_batch * line_bytes)))
        cuts = [body_start]
        for k in range(1, count):
            position = body_start + k * (size - body_start) // count
            if position <= cuts[-1]:
                continue
            f.seek(position - 1)
            f.readline()  # to the start of the next whole line
            cut = f.tell()
            first = f.readline()
            org = _fields(first, splits)[i_org : i_org + 1]
            while True:
                cut_candidate = f.tell()
                line = f.readline()
                if not line:
                    cut = size
                    break
                if _fields(line, splits)[i_org : i_org + 1] != org:
                    cut = cut_candidate
                    break
            if cuts[-1] < cut < size:
                cuts.append(cut)
        cuts.append(size)

        # One pass in blocks that end at a line end: newlines before each cut, and the checks.
        f.seek(body_start)
        position, newlines, line_before = body_start, 0, {}
        pending = sorted(set(cuts))
        while True:
            block = f.read(_BLOCK)
            if not block:
                break
            if not block.endswith(b"\n"):
                block += f.readline()
            if not block.isascii():
                try:
                    block.decode("utf-8")
                except UnicodeDecodeError:
                    return None
            if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
                return None  # a bare carriage return ends a line in text mode: not split here
            end = position + len(block)
            while pending and pending[0] < end:
                cut = pending.pop(0)
                line_before[cut] = 1 + newlines + block.count(b"\n", 0, cut - position)
            newlines += block.count(b"\n")
            position = end
        for cut in pending:
            line_before[cut] = 1 + newlines
    batches = [
        Batch(ranges=[(start, end, line_before[start])], rows=line_before[end] - line_before[start])
        for start, end in zip(cuts, cuts[1:], strict=False)
        if end > start
    ]
    return batches or None


def plan_batches(path: Path, rows_per_batch: int) -> list[Batch] | None:
    """Split the file into batches of whole organisations wherever their rows are, or None when
    the single load should take it (see the module docstring).  One pass over every line in
    Python (about 0.75 s a million rows): used when ``plan_by_offsets`` cut a group in two."""
    with path.open("rb") as f:
        header = f.readline()
        columns = _columns(header)
        if columns is None:
            return None  # the single load reports the header's errors
        i_org = columns[1]
        splits = max(columns) + 1

        batches: list[Batch] = []
        batch_of_org: dict[bytes, int] = {}
        current: Batch | None = None
        current_index = -1
        range_index = -1
        range_start = offset = len(header)
        range_line = line_no = 1
        for line in f:
            line_no += 1
            if not line.isascii():
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return None
            if b"\r" in line and (line.count(b"\r") > 1 or not line.endswith(b"\r\n")):
                return None  # a bare carriage return ends a line in text mode: not split here
            row = _fields(line, splits)
            org = row[i_org] if len(row) >= splits else None
            index = batch_of_org.get(org) if org is not None else current_index
            if index is None or index < 0:
                if current is None or current.rows >= rows_per_batch:
                    current = Batch()
                    batches.append(current)
                    current_index = len(batches) - 1
                index = current_index
                if org is not None:
                    batch_of_org[org] = index
            batches[index].rows += 1
            if index != range_index:
                if range_index >= 0:
                    batches[range_index].ranges.append((range_start, offset, range_line))
                range_index, range_start, range_line = index, offset, line_no - 1
            offset += len(line)
        if range_index < 0:
            return None  # no rows: the single load says so
        batches[range_index].ranges.append((range_start, offset, range_line))
    if sum(len(b.ranges) for b in batches) > 4 * len(batches) + 1_000:
        return None  # organisations scattered over the file: not worth splitting
    return batches


