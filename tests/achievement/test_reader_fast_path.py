"""The extract reader's fast path (achievement/ingest/fast_rows.py) against its per-row loop: for
random small extracts, valid and broken in the ways a file can be, both read the file to the same
COPY lines in the same order, the same errors (line, message, order), the same groups, list sizes
and every other piece of state the load goes on with."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import ListSize
from achievement.ingest import fast_rows
from achievement.ingest.catalogue import Catalogue
from achievement.ingest.reader import ExtractReader
from achievement.ingest.stage import BatchReader
from participation.models import Indicator, IndicatorGroup
from tests.achievement import factories

HEADER = (
    "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,"
    "DEFAULT_VALUES_USED,SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION"
)
NAME = "Quality and Outcomes Framework 2023/24"
# (IND_CODE, FIELD_NAME, kind): a count, a fraction's part, a Yes/No Flag
FIELDS = [
    ("AF001", "Atrial Fibrillation Register", "count"),
    ("AF006", "Numerator", "numerator"),
    ("AF006", "Denominator", "denominator"),
    ("AF006", "AFIBPCADEC", "count"),
    ("AF006", "AFIBINV1", "count"),
    ("YN001", "Yes/No Flag", "yes_no"),
    ("YN001", "Tab\tand back\\slash", "count"),
]
GROUPS = [("A81001", "20240331"), ("A81002", "20240331"), ("A81001", "20240229"), ("A81002", "20240229")]


class _Ids:
    """Submission ids handed out in order (the reader's collaborator; the reader is real)."""

    def __init__(self):
        self.groups = []

    def assign(self, group):
        self.groups.append(group)
        group.submission_id = 1000 + len(self.groups)


class _SlowReader(ExtractReader):
    FAST = False


class _SlowBatchReader(BatchReader):
    FAST = False


@pytest.fixture
def catalogue(world, qof):
    group = IndicatorGroup.objects.get(service=qof, code="AF")
    Indicator.objects.create(
        service=qof, group=group, code="YN001", name="YN001", kind="yes_no", fields=["Yes/No Flag"], position=3, points=1
    )
    factories.approved_offer(qof, world["A81003"], world["icb"])
    # A81001's list size is recorded; A81002's is not (its counts without a LISTSIZE row are an error).
    ListSize.objects.create(organisation=world["A81001"], date=factories.LIST_SIZE_DATE, size=10_250)
    return Catalogue.load()


def line(org, date, ind, field, value, *, service="QOF2324", submit="02/04/2024"):
    return f"{service},{NAME},{org},{date},{ind},{field},{value},None,AUTOMATED,{submit},11:19:50,Y"


@st.composite
def group_lines(draw, org, date):
    size = draw(st.integers(100, 20_000))
    fields = draw(st.lists(st.sampled_from(FIELDS), unique=True, min_size=1))
    denominator = draw(st.integers(0, size))
    lines = []
    for ind, field, kind in fields:
        if kind == "yes_no":
            value = draw(st.sampled_from([0, 1]))
        elif kind == "denominator":
            value = denominator
        elif kind == "numerator":
            value = draw(st.integers(0, denominator))
        else:
            value = draw(st.integers(0, size))
        lines.append(line(org, date, ind, field, value))
    where = draw(st.sampled_from(["end", "end", "start", "middle", "none"]))
    list_size = line(org, date, "LISTSIZE", "Registered Population", size)
    if where == "end":
        lines.append(list_size)
    elif where == "start":
        lines.insert(0, list_size)
    elif where == "middle":
        lines.insert(len(lines) // 2, list_size)
    return lines


MUTATIONS = [
    "bad value", "unicode digit", "leading zeros", "unknown indicator", "manual indicator", "duplicate row",
    "numerator above", "count above list size", "above ceiling", "listsize twice", "listsize field",
    "quoted field", "bad quote", "blank line", "bad submit date", "too few columns", "too many columns",
    "unknown organisation", "no offer", "bad date", "yes no 2", "split group", "crlf", "no final newline",
    "other ending", "other ending", "other ending",
]


@st.composite
def extracts(draw):
    keys = draw(st.lists(st.sampled_from(GROUPS), unique=True, min_size=1, max_size=3))
    lines = [text for org, date in keys for text in draw(group_lines(org, date))]
    mutations = draw(st.lists(st.sampled_from(MUTATIONS), max_size=3))
    ending = "\n"
    for mutation in mutations:
        i = draw(st.integers(0, len(lines) - 1))
        fields = lines[i].split(",")
        if len(fields) != 12 and mutation not in ("blank line", "split group", "crlf", "no final newline"):
            continue  # a line already broken
        if mutation == "bad value":
            fields[6] = draw(st.sampled_from(["x", "-1", "", "1.5", " 7"]))
        elif mutation == "unicode digit":
            fields[6] = "\uff17"
        elif mutation == "leading zeros":
            fields[6] = "00" + fields[6]
        elif mutation == "unknown indicator":
            fields[4] = "ZZ999"
        elif mutation == "manual indicator":
            fields[4], fields[5] = "QI013", "Yes/No Flag"
        elif mutation == "duplicate row":
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
            continue
        elif mutation == "numerator above":
            fields[5], fields[6] = "Numerator", "19999"
        elif mutation == "count above list size":
            fields[6] = "20001"
        elif mutation == "above ceiling":
            fields[6] = "9" * 12
        elif mutation == "listsize twice":
            org, date = fields[2], fields[3]
            lines.insert(i, line(org, date, "LISTSIZE", "Registered Population", 15_000))
            continue
        elif mutation == "listsize field":
            fields[4], fields[5] = "LISTSIZE", "Population"
        elif mutation == "quoted field":
            fields[5] = f'"{fields[5]}"'
        elif mutation == "bad quote":
            fields[5] = 'a"b'
        elif mutation == "blank line":
            lines.insert(i, "")
            continue
        elif mutation == "bad submit date":
            fields[9] = draw(st.sampled_from(["31/02/2024", "2024-04-02", "2/4/2024"]))
        elif mutation == "too few columns":
            del fields[7]
        elif mutation == "too many columns":
            fields.insert(7, "extra")
        elif mutation == "unknown organisation":
            fields[2] = "Z99999"
        elif mutation == "no offer":
            fields[2] = "A81003"
        elif mutation == "bad date":
            fields[3] = "20240332"
        elif mutation == "yes no 2":
            fields[4], fields[5], fields[6] = "YN001", "Yes/No Flag", "2"
        elif mutation == "split group":  # a group's lines in two runs apart
            j = draw(st.integers(0, len(lines)))
            lines = lines[:i] + lines[j:] + lines[i:j] if i < j else lines[j:] + lines[:j]
            continue
        elif mutation == "other ending":  # valid: GPES varies these on a few rows of a practice
            fields[8], fields[10] = draw(st.sampled_from([("aaa100", "11:19:50"), ("AUTOMATED", "14:16:53")]))
        elif mutation == "crlf":
            ending = "\r\n"
            continue
        elif mutation == "no final newline":
            ending = None
            continue
        lines[i] = ",".join(fields)
    if ending is None:
        return HEADER + "\n" + "\n".join(lines)
    return ending.join([HEADER, *lines]) + ending


def _read(reader):
    copy_lines = [text for chunk in reader.chunks() for text in chunk]
    errors_as_found = list(reader.errors.shown)
    reader.finish()
    return copy_lines, errors_as_found


def _state(reader):
    def group_state(group):
        fields = dataclasses.asdict(group) if dataclasses.is_dataclass(group) else {}
        fields.pop("service", None)
        fields["provider"] = group.provider.ods_code
        fields["seen"] = bytes(group.seen)
        return fields

    groups = getattr(reader, "_groups", {})
    return {
        "rows": reader.result.rows,
        "groups": [group_state(g) for g in reader.result.groups],
        "all groups": {key: group_state(g) if not isinstance(g, list) else {"errors": g} for key, g in groups.items()},
        "list sizes": reader.result.list_sizes,
        "group keys": getattr(reader, "group_keys", None),
        "errors": (reader.errors.count, reader.errors.shown),
        "field names": reader.field_names,
        "bits": reader._bits,
        "pairs": reader._pairs,
        "rescan": [(g.provider.ods_code, g.date) for g in reader._rescan],
    }


def _compare(fast, slow):
    fast_lines, fast_found = _read(fast)
    slow_lines, slow_found = _read(slow)
    # The same lines; the fast path writes a run's in the order of the table's key (fast_rows.py).
    assert sorted(fast_lines) == sorted(slow_lines)
    assert [text.split("\t")[0] for text in fast_lines] == [text.split("\t")[0] for text in slow_lines]
    assert fast_found == slow_found
    fast_state, slow_state = _state(fast), _state(slow)
    fast_groups, slow_groups = fast_state.pop("all groups"), slow_state.pop("all groups")
    assert list(fast_groups) == list(slow_groups)
    differences = [
        (key, name, value, slow_groups[key][name])
        for key, group in fast_groups.items()
        for name, value in (group.items() if isinstance(group, dict) else [("errors", group)])
        if value != slow_groups[key][name]
    ]
    assert differences == []
    assert fast_state == slow_state
    return fast_lines


def _took(reader) -> None:
    event("the fast path took rows" if reader._fast and reader._fast.rows_taken else "the fast path took no row")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=extracts(), block=st.integers(1, 9))
def test_the_fast_path_reads_any_file_as_the_per_row_loop_does(catalogue, tmp_path, monkeypatch, text, block):
    monkeypatch.setattr(fast_rows, "BLOCK_LINES", block)
    path = tmp_path / "extract.csv"
    path.write_text(text, encoding="utf-8", newline="")
    fast = ExtractReader(path, catalogue, _Ids())
    slow = _SlowReader(path, catalogue, _Ids())
    _compare(fast, slow)
    _took(fast)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=extracts(), block=st.integers(1, 9), cut=st.integers(0, 100))
def test_the_fast_path_reads_a_batch_as_the_per_row_loop_does(catalogue, tmp_path, monkeypatch, text, block, cut):
    """A batch's byte ranges (achievement/ingest/stage.py): two ranges cut at a line."""
    monkeypatch.setattr(fast_rows, "BLOCK_LINES", block)
    path = tmp_path / "extract.csv"
    path.write_text(text, encoding="utf-8", newline="")
    data = path.read_bytes()
    starts = [i + 1 for i, byte in enumerate(data) if byte == 10]  # the start of each line after the first
    if len(starts) < 2:
        return
    middle = starts[cut % (len(starts) - 1)]
    ranges = [(starts[0], middle, 1), (middle, len(data), data[:middle].count(b"\n"))]
    fast = BatchReader(path, ranges, catalogue, _Ids())
    slow = _SlowBatchReader(path, ranges, catalogue, _Ids())
    _compare(fast, slow)
    _took(fast)


def test_a_clean_file_is_taken_by_the_fast_path_with_the_lines_of_the_per_row_loop(catalogue, tmp_path, monkeypatch):
    """Three groups, two of them in two runs apart, runs split across blocks, a line with its own
    SUBMIT_USER_ID and SUBMIT_TIME."""
    monkeypatch.setattr(fast_rows, "BLOCK_LINES", 4)
    lines = []
    for org, date in GROUPS[:3]:
        lines += [line(org, date, ind, field, 3) for ind, field, kind in FIELDS if kind != "yes_no"]
        lines += [line(org, date, "YN001", "Yes/No Flag", 1), line(org, date, "LISTSIZE", "Registered Population", 900)]
    lines = lines[:3] + lines[9:] + lines[3:9]
    lines[5] = lines[5].replace("AUTOMATED,02/04/2024,11:19:50", "aaa100,02/04/2024,14:16:53")
    path = tmp_path / "extract.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    fast = ExtractReader(path, catalogue, _Ids())
    copy_lines = _compare(fast, _SlowReader(path, catalogue, _Ids()))
    assert fast._fast.rows_taken == len(lines)
    assert len(copy_lines) == len(lines) - 3 and not fast.errors
    assert sum(text.endswith("\tTab\\tand back\\\\slash\t3\n") for text in copy_lines) == 3


def test_the_fast_path_gives_a_run_with_an_error_to_the_per_row_loop(catalogue, tmp_path):
    lines = [line("A81001", "20240331", "AF006", "Numerator", 30), line("A81001", "20240331", "AF006", "Denominator", 20)]
    path = tmp_path / "extract.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    fast = ExtractReader(path, catalogue, _Ids())
    _compare(fast, _SlowReader(path, catalogue, _Ids()))
    assert fast._fast.rows_taken == 0
    assert [e["line"] for e in fast.errors.shown] == [3]
