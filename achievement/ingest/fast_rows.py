"""The fast path of the extract reader's row loop (achievement/ingest/reader.py, docs/adr/0025):
a run of consecutive lines of one valid group (QUALITY_SERVICE, ORG_CODE, ACH_DATE) checked at
once with C-level builtins, its COPY lines made in bulk.

A file in the standard column order is read in blocks of lines, cut into runs of lines that
begin with the same four fields.  A run is taken when every line is that beginning, IND_CODE,
FIELD_NAME and VALUE, and the first line's last five fields or (a few lines) its own: proved by
making the lines again from those parts (so 12 columns, a newline, no quote); and when the group
is valid, no error found yet, every VALUE digits, SUBMIT_DATE valid, the run's sequence of pairs
has a good plan (value fields and at most one LISTSIZE row, no pair twice: worked out once per
service and sequence), no pair already read for the group, Yes/No 1 or 0, counts within the
ceiling and the list size (and the early counts' largest not above the run's LISTSIZE), one
LISTSIZE per group, Numerator not above Denominator (in the run, or a partner waiting from an
earlier run of the group).

Nothing changes until every check has passed; then the run leaves exactly the per-row loop's
state (the group's bitmap, rows, list size, largest early count and its line, waiting fractions,
submission id) and its COPY lines are returned in the order of IndicatorValue's key (indicator,
field name): the table keeps no order, and PostgreSQL writes them a fifth faster so.  Anything
else goes to the per-row loop unchanged: every error comes from the same code, at the same line,
in the same order, by construction.  The only work done on a run given up is what the loop does
first and caches anyway: the group of a key, each pair's meaning (looked up in row order).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import compress, islice, repeat
from operator import add, getitem, itemgetter, le, not_
from typing import TYPE_CHECKING

from .catalogue import Group
from .layout import _NUMERATOR, LIST_SIZE_FIELD, MAX_VALUE
from .list_sizes import LIST_SIZE_INDICATOR

if TYPE_CHECKING:
    from .reader import ExtractReader

BLOCK_LINES = 4_096
MAX_PLANS = 256
# QUALITY_SERVICE, ORG_CODE, ACH_DATE, IND_CODE, FIELD_NAME, VALUE, SUBMIT_DATE in COLUMNS
_STANDARD_PICK = (0, 2, 3, 4, 5, 6, 9)


def standard_order(pick) -> bool:
    """Whether the header's columns are in the standard order (the only order the fast path reads)."""
    return pick(list(range(12))) == _STANDARD_PICK


def _taker(indexes: list[int]):
    """``values -> tuple of values[i] for i in indexes`` (C-level for 2 or more)."""
    if len(indexes) == 1:
        i = indexes[0]
        return lambda values: (values[i],)
    if not indexes:
        return lambda values: ()
    return itemgetter(*indexes)


@dataclass
class Plan:
    """What a run with a given sequence of (IND_CODE, FIELD_NAME) is, for a service."""

    list_size_at: int  # position of the LISTSIZE row in the run, -1 if none
    middles: list[str]  # COPY middle part of each value row (the rows other than LISTSIZE)
    run_mask: int  # the value rows' bits
    yes_no: list[bool] | None  # value rows that are Yes/No Flags (None: none is)
    counts_before: list[bool]  # value rows that are counts, before the LISTSIZE row
    counts_after: list[bool]  # ... after it
    first_count: int  # position in the run of the first count, -1 if none before LISTSIZE
    numerators: object  # value rows -> numerators of the Numerator/Denominator pairs in the run
    denominators: object
    paired: bool
    unpaired: list[tuple[int, int, int, int]]  # (value row, indicator id, role, position in run)
    splittable: bool  # the COPY lines can be made as one string cut at its newlines
    order: object  # value rows -> the values in key order (indicator, field name), None if they are


def _ending(line: str) -> str | None:
    """The line's last five fields with the comma before them and its newline."""
    fields = line.rsplit(",", 5)
    ending = line[len(fields[0]):]
    return ending if len(fields) == 6 and ending[-1] == "\n" else None


def _odd_endings(lines: list[str], ending: str) -> dict[int, str] | None:
    """The lines that do not end as ``ending`` and their own endings (GPES varies SUBMIT_USER_ID
    or SUBMIT_TIME on a few rows of a practice); None if one has no ending or too many vary."""
    ends = list(map(str.endswith, lines, repeat(ending)))
    if False not in ends:
        return {}
    odd = {i: _ending(lines[i]) for i in compress(range(len(lines)), map(not_, ends))}
    if len(odd) > 16 + len(lines) // 8 or None in odd.values():
        return None
    return odd


def _cut(lines: list[str], text: str, beginning: str, ending: str, odd: dict[int, str]):
    """``(IND_CODE, FIELD_NAME, VALUE)`` of every line, proved by making the lines again from
    the beginning, those and the endings (``ending``, or the line's own in ``odd``)."""
    k = len(lines)
    start = len(beginning)
    middles = list(map(getitem, lines, repeat(slice(start, -len(ending)))))
    endings = repeat(ending, k)
    if odd:
        endings = [ending] * k
        for i, own in odd.items():
            middles[i] = lines[i][start: len(lines[i]) - len(own)]
            endings[i] = own
    flat = ",".join(middles).split(",")
    if len(flat) != 3 * k:
        return None
    inds, pair_fields, values = flat[0::3], flat[1::3], flat[2::3]
    again = [","] * (7 * k)
    again[0::7] = repeat(beginning, k)
    again[1::7] = inds
    again[3::7] = pair_fields
    again[5::7] = values
    again[6::7] = endings
    if "".join(again) != text:
        return None
    return inds, pair_fields, values


class FastRows:
    """The fast path over the blocks of one ``ExtractReader._body`` call, sharing its state."""

    def __init__(self, reader: ExtractReader, groups: dict, list_sizes: dict, pending_fraction: dict, submit_dates: dict):
        from .catalogue import valid_submit_date

        self.reader = reader
        self.errors = reader.errors
        self.groups = groups
        self.list_sizes = list_sizes
        self.pending_fraction = pending_fraction
        self.submit_dates = submit_dates
        self.valid_submit_date = valid_submit_date
        self.list_size_key = (LIST_SIZE_INDICATOR, LIST_SIZE_FIELD)
        self.plans: dict[tuple, Plan | None] = {}
        self.rows_taken = 0  # rows the fast path took (the rest went to the per-row loop)

    def segments(self, f: Iterable[str], line_no: int) -> Iterator[tuple[list[str] | None, int, int, list[str] | None]]:
        """The lines of ``f`` as segments ``(lines, line before, rows, COPY lines)``: ``lines``
        for the per-row loop, or ``None`` with the run's row count and COPY lines when the fast
        path took it.  Lazy: a run is looked at only once the segments before it are processed.
        A block ends at the end of a run (the unfinished last run is read with the next block)."""
        it = iter(f)
        errors = self.errors
        carry: list[str] = []
        while True:
            block = carry
            kept = len(block)
            try:
                block.extend(islice(it, BLOCK_LINES))
            except UnicodeDecodeError:
                if block:  # the lines before the bad byte, as the per-row loop would have read them
                    yield block, line_no, 0, None
                raise
            if not block:
                return
            end_of_file = len(block) - kept < BLOCK_LINES
            n = len(block)
            a = 0
            carry = []
            while a < n:
                if errors.count:
                    yield block[a:], line_no + a, 0, None
                    a = n
                    break
                b, beginning = self._run_end(block, a)
                if b == n and a > 0 and not end_of_file:
                    carry = block[a:]
                    break
                lines = None if beginning is None else self._run(block[a:b], beginning, line_no + a)
                if lines is None:
                    yield block[a:b], line_no + a, 0, None
                else:
                    self.rows_taken += b - a
                    yield None, line_no + a, b - a, lines
                a = b
            line_no += a

    @staticmethod
    def _run_end(block: list[str], a: int) -> tuple[int, list[str] | None]:
        """The end of the lines from ``a`` that begin as line ``a`` does (its first four fields),
        found by bisection (``_run`` proves it), and those fields."""
        line = block[a]
        fields = line.split(",", 4)
        if len(fields) < 5:
            return a + 1, None
        beginning = line[: len(line) - len(fields[4])]
        n = len(block)
        if block[n - 1].startswith(beginning):
            return n, fields
        lo, hi = a, n - 1  # block[lo] begins so, block[hi] does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if block[mid].startswith(beginning):
                lo = mid
            else:
                hi = mid
        return hi, fields

    def _run(self, lines: list[str], fields: list[str], before: int) -> list[str] | None:
        """The COPY lines of ``lines`` (lines ``before + 1``...), every state change made; or None
        (nothing changed) for the per-row loop to read them."""
        # Every line: the beginning, IND_CODE, FIELD_NAME, VALUE, and its last five fields (as
        # the first line's, or, for a few lines, their own).
        first = lines[0]
        beginning = first[: len(first) - len(fields[4])]
        text = "".join(lines)
        ending = _ending(first)
        if ending is None or '"' in text:
            return None
        odd = _odd_endings(lines, ending)
        cut = None if odd is None else _cut(lines, text, beginning, ending, odd)
        if cut is None:
            return None
        inds, pair_fields, values = cut

        # Every line has 12 fields: the per-row loop would look the group up at the first.
        key = (fields[0], fields[2], fields[3])
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = self.reader.catalogue.group_for(key)
        if type(group) is not Group:
            return None
        service = group.service
        if service.ceiling > MAX_VALUE:  # a count could then be too large for the column
            return None

        digits = "".join(values)
        if not (digits.isdigit() and digits.isascii() and all(values)):
            return None
        for submit_date in {own.split(",")[3] for own in (ending, *odd.values())}:
            ok = self.submit_dates.get(submit_date)
            if ok is None:
                ok = self.submit_dates[submit_date] = self.valid_submit_date(submit_date)
            if not ok:
                return None

        signature = (service.id, ",".join(inds), ",".join(pair_fields))
        plans = self.plans
        if signature in plans:
            plan = plans[signature]
        else:
            if len(plans) >= MAX_PLANS:
                plans.clear()
            plan = plans[signature] = self._plan(service, inds, pair_fields)
        if plan is None:
            return None
        return self._apply(group, plan, values, before)

    def _apply(self, group: Group, plan: Plan, values: list[str], before: int) -> list[str] | None:
        p = plan.list_size_at
        if p >= 0:
            if group.list_size is not None:
                return None
            list_size_value = values[p]
            values = values[:p] + values[p + 1:]
        run_mask = plan.run_mask
        seen = group.seen
        seen_int = int.from_bytes(seen, "little") if seen else 0
        if seen_int & run_mask:  # a pair already read for the group
            return None
        numbers = list(map(int, values))
        if plan.yes_no is not None and max(compress(numbers, plan.yes_no)) > 1:
            return None
        ceiling = group.service.ceiling
        size = group.list_size
        pending_max, first_count_line = group.pending_max, group.first_count_line
        before_max = max(compress(numbers, plan.counts_before), default=-1)
        if size is not None:  # read earlier: every count is checked against it (no LISTSIZE here)
            if before_max > min(size, ceiling):
                return None
        else:
            if before_max >= 0:
                if before_max > ceiling:
                    return None
                if pending_max < 0:
                    first_count_line = before + 1 + plan.first_count
                pending_max = max(pending_max, before_max)
            if p >= 0:
                size = int(list_size_value)
                size_key = (group.service.id, group.provider.id, group.date)
                if size > ceiling or size_key in self.list_sizes or pending_max > size:
                    return None
                if max(compress(numbers, plan.counts_after), default=-1) > size:
                    return None
        if plan.paired and not all(map(le, plan.numerators(numbers), plan.denominators(numbers))):
            return None
        done: list[tuple] = []
        waiting: dict[tuple, tuple[int, int, int]] = {}
        if plan.unpaired:
            provider_id, date_id = group.provider.id, group.date_id
            pending_fraction = self.pending_fraction
            for i, indicator_id, role, position in plan.unpaired:
                fraction_key = (provider_id, date_id, indicator_id)
                partner = pending_fraction.get(fraction_key)
                if partner is None:
                    waiting[fraction_key] = (role, numbers[i], before + 1 + position)
                    continue
                if partner[0] == role:
                    return None
                count = numbers[i]
                numerator, denominator = (count, partner[1]) if role == _NUMERATOR else (partner[1], count)
                if numerator > denominator:
                    return None
                done.append(fraction_key)

        # Every check passed: the state the per-row loop would leave.
        if p >= 0:
            line = before + 1 + p
            self.list_sizes[size_key] = (size, line)
            group.list_size, group.list_size_line = size, line
        group.pending_max, group.first_count_line = pending_max, first_count_line
        for fraction_key in done:
            del self.pending_fraction[fraction_key]
        self.pending_fraction.update(waiting)
        m = len(values)
        if not m:
            return []
        new_seen = seen_int | run_mask
        seen[:] = new_seen.to_bytes(max(len(seen), ((new_seen.bit_length() - 1) >> 3) + 1), "little")
        group.rows += m
        prefix = group.copy_prefix
        if prefix is None:
            self.reader.ids.assign(group)
            prefix = group.copy_prefix = f"{group.submission_id}\t"
        if plan.order is not None:
            values = plan.order(values)
        if plan.splittable:
            parts = ["\n" + prefix] * (3 * m)
            parts[0::3] = plan.middles
            parts[1::3] = values
            parts[-1] = "\n"
            return (prefix + "".join(parts)).splitlines(True)
        return list(map(add, map(add, repeat(prefix, m), plan.middles), map(add, values, repeat("\n", m))))

    def _plan(self, service, inds: list[str], pair_fields: list[str]) -> Plan | None:
        """What a run with this sequence of pairs is (None: not for the fast path).  Looks each
        pair up in row order, as the per-row loop would for the run's lines."""
        reader = self.reader
        pairs = reader._pairs.setdefault(service.id, {})
        keys = list(zip(inds, pair_fields, strict=True))
        for pair in dict.fromkeys(keys):
            if pair not in pairs:
                pairs[pair] = reader._pair(service, *pair)
        at = [i for i, ind in enumerate(inds) if ind == LIST_SIZE_INDICATOR]
        if len(at) > 1 or (at and keys[at[0]] != self.list_size_key):
            return None
        p = at[0] if at else -1
        value_keys = keys[:p] + keys[p + 1:] if at else keys
        entries = [pairs[pair] for pair in value_keys]
        if not all(type(entry) is tuple and len(entry) == 6 for entry in entries):
            return None
        bits = [entry[1] for entry in entries]
        if len(set(bits)) != len(bits):
            return None
        roles = [entry[3] for entry in entries]
        split = p if at else len(entries)
        position = [i if i < split else i + 1 for i in range(len(entries))]
        counts_before = [role >= 0 and i < split for i, role in enumerate(roles)]
        firsts = [position[i] for i, is_count in enumerate(counts_before) if is_count]
        waiting: dict[int, int] = {}
        numerators, denominators = [], []
        for i, entry in enumerate(entries):
            if entry[3] <= 0:
                continue
            j = waiting.pop(entry[0], None)
            if j is None:
                waiting[entry[0]] = i
            elif roles[j] == roles[i]:
                return None
            else:
                numerators.append(i if roles[i] == _NUMERATOR else j)
                denominators.append(j if roles[i] == _NUMERATOR else i)
        # The lines in the order of IndicatorValue's primary key (submission, indicator, field
        # name; byte order, as the C and C.UTF-8 collations): PostgreSQL then adds each to the
        # right of its index instead of searching it (a national load's COPY: 4.9 s -> 4.0 s).
        order = sorted(range(len(entries)), key=lambda i: (entries[i][0], entries[i][5].encode()))
        middles = [entries[i][2] for i in order]
        return Plan(
            list_size_at=p,
            middles=middles,
            run_mask=sum(1 << bit for bit in bits),
            yes_no=[role < 0 for role in roles] if any(role < 0 for role in roles) else None,
            counts_before=counts_before,
            counts_after=[role >= 0 and i >= split for i, role in enumerate(roles)],
            first_count=firsts[0] if firsts else -1,
            numerators=_taker(numerators),
            denominators=_taker(denominators),
            paired=bool(numerators),
            unpaired=[(i, entries[i][0], roles[i], position[i]) for i in waiting.values()],
            splittable=all(len(("0" + middle + "0").splitlines()) == 1 for middle in middles),
            order=None if order == sorted(order) else _taker(order),
        )
