"""GPES extract files: validation and application, built for the national year-end load.

The layout is CQRS's indicator-values file (domain-notes.md "Extract layout"): one row per
organisation, achievement date, indicator and field.  List sizes arrive as rows with IND_CODE
``LISTSIZE`` and FIELD_NAME ``Registered Population``.

How it scales to ~3.5 million rows in one worker under 1 GiB (benchmarks/load_national_extract.py):

- The file is read once, streaming.  Lines without a quote are split directly (``csv`` parses
  the rest); a file that is not UTF-8 is rejected at the line of its first bad byte.  The
  catalogue, organisations and Approved offers are loaded into dicts once (``Catalogue``); what
  depends only on a row's group (service, organisation, date) or on its (indicator, field) pair
  is worked out once and cached, so a row costs a few dict lookups and no query.
- Cross-row rules are checked while streaming with small state: duplicates with a bitmap per
  (provider, achievement date) over the (indicator, field) pairs seen, Numerator against
  Denominator with the first of the pair kept only until its partner arrives.  Every error is
  reported at the line where it is found, so errors come in line order: the first 100 are kept,
  the rest counted.
- Rows are written as they are validated: on PostgreSQL straight into IndicatorValue's table with
  ``COPY`` (the validation runs inside the file-like object COPY reads from, so Python and the
  database work side by side on two cores); elsewhere with ``bulk_create`` in batches.  Once any
  error is found nothing more is written, and the caller rolls the whole load back.
- Submission ids are taken from the sequence in blocks while streaming (through a side
  connection: the main one is busy with the COPY); the Achievement and Submission rows are
  written after the values.  IndicatorValue is keyed by (submission, indicator, field) with no
  surrogate id, and its foreign keys are not database constraints: PostgreSQL checks a foreign
  key row by row, and the id's sequence and index cost as much again (measured on 3.5 million
  rows: 35 s with both, 13 s without the foreign keys, about 5 s with neither).  The loader
  checks every id against the catalogue before it writes it, and the ORM enforces
  CASCADE/PROTECT.

Readers never see a half-applied extract: ``apply_extract`` runs in the caller's transaction and
the new submissions become current (``is_current``) in the same transaction, so a killed worker
leaves nothing behind and the load can simply run again.

A file larger than ``EXTRACT_BATCH_ROWS`` is validated and staged by several workers in batches
of practices and applied by one final transaction: achievement/extract_batches.py, which runs
``ExtractReader``'s row loop over a batch's byte ranges (``_body``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from django.db import connection
from django.utils import timezone

from accounts.models import ListSize, Organisation, OrganisationKind
from participation.models import (
    AchievementDate,
    Indicator,
    OfferStatus,
    ProviderLevel,
    QualityService,
    ServiceOffer,
)

from .models import Achievement, IndicatorValue, Submission, SubmissionSource, SubmissionStatus

COLUMNS = (
    "QUALITY_SERVICE",
    "NAME",
    "ORG_CODE",
    "ACH_DATE",
    "IND_CODE",
    "FIELD_NAME",
    "VALUE",
    "DEFAULT_VALUES_USED",
    "SUBMIT_USER_ID",
    "SUBMIT_DATE",
    "SUBMIT_TIME",
    "LAST_SUBMISSION",
)
LIST_SIZE_INDICATOR = "LISTSIZE"
LIST_SIZE_FIELD = "Registered Population"
NUMERATOR = "Numerator"
DENOMINATOR = "Denominator"
MAX_ERRORS_SHOWN = 100
MAX_VALUE = 2**63 - 1
_FIELD_NAME_MAX = IndicatorValue._meta.get_field("field_name").max_length
logger = logging.getLogger(__name__)

_BULK_BATCH = 5_000
_ID_BLOCK = 1_000
PROGRESS_EVERY = 50_000


class ExtractInvalid(Exception):
    """The file breaks at least one rule; nothing of it may be applied."""

    def __init__(self, errors: ErrorLog):
        self.errors = errors
        super().__init__(f"{errors.count} error(s)")


@dataclass
class ErrorLog:
    """Every error found, in line order: the first ``MAX_ERRORS_SHOWN`` kept, the rest counted."""

    shown: list[dict] = field(default_factory=list)
    count: int = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_ERRORS_SHOWN:
            self.shown.append({"line": line, "message": message})

    def as_list(self) -> list[dict]:
        """The errors to store; a final entry says how many more were found."""
        more = self.count - len(self.shown)
        if more > 0:
            return [*self.shown, {"line": None, "message": f"and {more:,} more"}]
        return list(self.shown)

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass(frozen=True)
class ServiceEntry:
    id: int
    code: str
    provider_level: str
    indicators: dict[str, int]  # IND_CODE -> Indicator id
    dates: dict[dt.date, int]  # achievement date -> AchievementDate id


@dataclass(frozen=True)
class OrganisationEntry:
    id: int
    kind: str
    pcn_id: int | None


@dataclass
class Catalogue:
    """Everything a row is checked against, loaded once (a few thousand rows, never per row)."""

    services: dict[str, ServiceEntry]
    organisations: dict[str, OrganisationEntry]
    approved: set[tuple[int, int]]  # (service id, provider id) with an Approved offer

    @classmethod
    def load(cls) -> Catalogue:
        indicators: dict[int, dict[str, int]] = {}
        for service_id, code, pk in Indicator.objects.values_list("service_id", "code", "pk").iterator():
            indicators.setdefault(service_id, {})[code] = pk
        dates: dict[int, dict[dt.date, int]] = {}
        for service_id, date, pk in AchievementDate.objects.values_list("service_id", "date", "pk").iterator():
            dates.setdefault(service_id, {})[date] = pk
        services = {
            code: ServiceEntry(pk, code, level, indicators.get(pk, {}), dates.get(pk, {}))
            for pk, code, level in QualityService.objects.values_list("pk", "code", "provider_level")
        }
        organisations = {
            ods: OrganisationEntry(pk, kind, pcn_id)
            for pk, ods, kind, pcn_id in Organisation.objects.values_list("pk", "ods_code", "kind", "pcn_id").iterator()
        }
        approved = set(
            ServiceOffer.objects.filter(status=OfferStatus.APPROVED).values_list("service_id", "provider_id")
        )
        return cls(services, organisations, approved)


@dataclass
class Group:
    """The rows of one provider on one achievement date: they become one Submission."""

    service: ServiceEntry
    provider: OrganisationEntry
    date: dt.date
    date_id: int
    submission_id: int | None = None
    copy_prefix: str | None = None
    seen: bytearray = field(default_factory=bytearray)  # bitmap over (indicator, field) pairs
    rows: int = 0


class SubmissionIds:
    """Hands out the id of each group's new Submission while the values stream.

    On PostgreSQL ids are taken from the sequence in blocks and the rows are written afterwards
    (``write``): one statement per thousand groups instead of two per group.  Elsewhere the
    Achievement and Submission are created when the group is first seen.
    """

    def __init__(self, extract, *, now: dt.datetime):
        self.extract = extract
        self.now = now
        self.vendor = connection.vendor
        self._block: list[int] = []
        self._side = None
        self.groups: list[Group] = []

    def assign(self, group: Group) -> None:
        if self.vendor == "postgresql":
            if not self._block:
                self._block = self._reserve(_ID_BLOCK)
            group.submission_id = self._block.pop()
        else:
            achievement = _achievements_for([group])[(group.provider.id, group.date_id)]
            group.submission_id = self._new_submission(achievement, None).pk
        self.groups.append(group)

    def _reserve(self, count: int) -> list[int]:
        """Take ``count`` ids from Submission's sequence, through a side connection: the main one
        is busy with the COPY.  Sequences are not transactional, so the ids stay ours either way
        (a rolled-back load leaves a gap, nothing else)."""
        if self._side is None:
            import psycopg2

            self._side = psycopg2.connect(**connection.get_connection_params())
            self._side.autocommit = True
        with self._side.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Submission._meta.db_table, count],
            )
            ids = [row[0] for row in cursor.fetchall()]
        ids.reverse()
        return ids

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None

    def _new_submission(self, achievement_id: int, pk: int | None) -> Submission:
        submission = Submission(
            id=pk,
            achievement_id=achievement_id,
            status=SubmissionStatus.SUBMITTED,
            source=SubmissionSource.EXTRACT,
            extract=self.extract,
            created_by=self.extract.created_by,
            created_at=self.now,
            submitted_at=self.now,
        )
        if pk is None:
            submission.save()
        return submission

    def write(self) -> None:
        """Write the Achievement and Submission rows of the ids handed out (PostgreSQL)."""
        if self.vendor != "postgresql" or not self.groups:
            return
        achievements = _achievements_for(self.groups)
        Submission.objects.bulk_create(
            [
                self._new_submission(achievements[(g.provider.id, g.date_id)], g.submission_id)
                for g in self.groups
            ],
            batch_size=_BULK_BATCH,
        )


def _achievements_for(groups: Iterable[Group]) -> dict[tuple[int, int], int]:
    """The Achievement id of each (provider, achievement date), created where missing."""
    groups = list(groups)
    Achievement.objects.bulk_create(
        [Achievement(provider_id=g.provider.id, service_id=g.service.id, achievement_date_id=g.date_id) for g in groups],
        ignore_conflicts=True,
        batch_size=_BULK_BATCH,
    )
    date_ids = {g.date_id for g in groups}
    provider_ids = {g.provider.id for g in groups}
    found = Achievement.objects.filter(achievement_date_id__in=date_ids).values_list(
        "provider_id", "achievement_date_id", "pk"
    )
    if len(provider_ids) < 500:
        found = found.filter(provider_id__in=provider_ids)
    return {(provider_id, date_id): pk for provider_id, date_id, pk in found.iterator()}


def _first_undecodable_line(path: Path) -> int:
    """The number of the first line that is not UTF-8 (only looked for once decoding failed)."""
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


@dataclass
class LoadResult:
    rows: int
    groups: list[Group]
    list_sizes: dict[tuple[int, int, dt.date], tuple[int, int]]  # (service, org, date) -> (size, line)


# What a (service, IND_CODE, FIELD_NAME) is, decided once per pair rather than once per row:
# a value field (indicator id, bit, COPY middle part, fraction role), a LISTSIZE row, or an error.
_LIST_SIZE = ("list size",)
_NOT_FRACTION, _NUMERATOR, _DENOMINATOR = 0, 1, 2


class ExtractReader:
    """Validates the rows of an extract file and produces the values of the good ones.

    ``chunks()`` yields lists of lines in PostgreSQL COPY text format
    (``submission_id<TAB>indicator_id<TAB>field_name<TAB>value``), a few thousand at a time, until
    the first error is found; then it only validates.  Errors go to ``errors``; afterwards
    ``result`` holds the groups and list sizes.

    The row loop is the hot path of a national load (3.5 million rows): lines without a quote
    are split directly (``csv`` parses the others), and everything that depends only on the
    group (service, organisation, date) or on the (indicator, field) pair is worked out once and
    cached.  A quoted field may not span lines.
    """

    CHUNK_LINES = 4_000

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

    def chunks(self) -> Iterator[list[str]]:
        errors = self.errors
        add_error = errors.add
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as f:
                yield from self._rows(f)
        except UnicodeDecodeError:
            add_error(
                _first_undecodable_line(self.path), "The file is not UTF-8 encoded text (a CSV file is expected)."
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
        achievement/extract_batches.py).  ``whole_file``: a file without rows is an error."""
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

        for f, line_no in sources:
            for line in f:
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
                        found = groups[key] = self._group(key)
                    if type(found) is list:
                        group, group_errors = None, found
                        service = catalogue_services.get(service_code)
                        prefix = None
                    else:
                        group, group_errors = found, None
                        service = group.service
                        prefix = group.copy_prefix
                    pairs = None if service is None else self._pairs.setdefault(service.id, {})

                row_ok = True
                if group_errors is not None:
                    for message in group_errors:
                        add_error(line_no, message)
                    row_ok = False

                submit_ok = submit_dates.get(submit_date)
                if submit_ok is None:
                    submit_ok = submit_dates[submit_date] = _valid_submit_date(submit_date)
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
                    continue
                if entry is _LIST_SIZE:
                    if row_ok:
                        size_key = (service.id, group.provider.id, group.date)
                        first = list_sizes.get(size_key)
                        if first is not None:
                            add_error(
                                line_no,
                                f"{org_code} {ind_code} {field_name} on {ach_date} appears more than once "
                                f"(first at line {first[1]}).",
                            )
                        else:
                            list_sizes[size_key] = (int(value), line_no)
                    continue
                if group is None:
                    continue
                indicator_id, bit, middle, role = entry

                seen = group.seen
                byte, mask = bit >> 3, 1 << (bit & 7)
                if byte >= len(seen):
                    seen.extend(bytes(byte + 1 - len(seen)))
                if seen[byte] & mask:
                    add_error(line_no, f"{org_code} {ind_code} {field_name} on {ach_date} appears more than once.")
                    continue
                seen[byte] |= mask

                if role and row_ok:
                    fraction_key = (group.provider.id, group.date_id, indicator_id)
                    partner = pending_fraction.pop(fraction_key, None)
                    if partner is None:
                        pending_fraction[fraction_key] = (role, int(value), line_no)
                    elif partner[0] != role:
                        numerator, denominator = (int(value), partner[1]) if role == _NUMERATOR else (partner[1], int(value))
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
        """What rows with this IND_CODE and FIELD_NAME are for the service (see ``_LIST_SIZE``)."""
        if ind_code == LIST_SIZE_INDICATOR:
            if field_name != LIST_SIZE_FIELD:
                return f"A {LIST_SIZE_INDICATOR} row must have FIELD_NAME {LIST_SIZE_FIELD!r}, not {field_name!r}."
            return _LIST_SIZE
        indicator_id = service.indicators.get(ind_code)
        if indicator_id is None:
            return f"Unknown indicator {ind_code!r} for {service.code}."
        if not field_name or len(field_name) > _FIELD_NAME_MAX:
            return f"FIELD_NAME must be 1 to {_FIELD_NAME_MAX} characters."
        bit = self._bits.setdefault((indicator_id, field_name), len(self._bits))
        escaped = field_name.translate(_COPY_ESCAPES)
        self.field_names[escaped] = field_name
        role = {NUMERATOR: _NUMERATOR, DENOMINATOR: _DENOMINATOR}.get(field_name, _NOT_FRACTION)
        return (indicator_id, bit, f"{indicator_id}\t{escaped}\t", role)

    def _group(self, key: tuple[str, str, str]) -> Group | list[str]:
        """The group of a (service, organisation, achievement date), or the errors that stop it."""
        service_code, org_code, ach_date = key
        messages = []
        service = self.catalogue.services.get(service_code)
        organisation = self.catalogue.organisations.get(org_code)
        date = _parse_ach_date(ach_date)
        if service is None:
            messages.append(f"Unknown service {service_code!r}.")
        if organisation is None:
            messages.append(f"Unknown organisation {org_code!r}.")
        if date is None:
            messages.append(f"ACH_DATE {ach_date!r} is not a date in the form YYYYMMDD.")
        elif service is not None and date not in service.dates:
            messages.append(f"{ach_date} is not an achievement date of {service_code}.")
        if (
            service is not None
            and organisation is not None
            and (service.id, organisation.id) not in self.catalogue.approved
        ):
            messages.append(f"{org_code} has no Approved offer of {service_code}.")
        if messages:
            return messages
        return Group(service=service, provider=organisation, date=date, date_id=service.dates[date])


def _parse_ach_date(text: str) -> dt.date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _valid_submit_date(text: str) -> bool:
    """SUBMIT_DATE is DD/MM/YYYY when present (the sample always carries it)."""
    if text == "":
        return True
    try:
        dt.datetime.strptime(text, "%d/%m/%Y")
    except ValueError:
        return False
    return len(text) == 10


# --- writing the values ------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _CopySource(io.RawIOBase):
    """A file-like object COPY reads from: each read validates the next rows of the extract."""

    def __init__(self, chunks: Iterator[list[str]]):
        self._chunks = chunks

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        for lines in self._chunks:
            return "".join(lines).encode("utf-8")
        return b""


def write_values(reader: ExtractReader) -> None:
    """Stream the validated values into IndicatorValue (COPY on PostgreSQL)."""
    chunks = reader.chunks()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(IndicatorValue._meta.db_table)
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {table} (submission_id, indicator_id, field_name, value) FROM STDIN",
                _CopySource(chunks),
                size=65536,
            )
        return
    field_names = reader.field_names
    for lines in chunks:
        batch = []
        for line in lines:
            submission_id, indicator_id, field_name, value = line[:-1].split("\t")
            batch.append(
                IndicatorValue(
                    submission_id=int(submission_id),
                    indicator_id=int(indicator_id),
                    field_name=field_names[field_name],
                    value=int(value),
                )
            )
        IndicatorValue.objects.bulk_create(batch, batch_size=_BULK_BATCH)


# --- applying a valid extract ------------------------------------------------------------


def switch_current(*, extract_id: int, source: str) -> None:
    """Make this extract's submissions (of ``source``) current; the previous ones superseded.

    Two statements in the caller's transaction: readers see the old values until it commits.
    """
    table = connection.ops.quote_name(Submission._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS old SET is_current = %s, superseded_by_id = new.id
            FROM {table} AS new
            WHERE new.extract_id = %s AND new.source = %s
              AND old.achievement_id = new.achievement_id AND old.is_current AND old.id <> new.id
            """,
            [False, extract_id, source],
        )
        cursor.execute(
            f"UPDATE {table} SET is_current = %s WHERE extract_id = %s AND source = %s",
            [True, extract_id, source],
        )


def store_list_sizes(list_sizes: dict[tuple[int, dt.date], int]) -> None:
    """A LISTSIZE row is the provider's registered list size on the achievement date."""
    if not list_sizes:
        return
    ListSize.objects.bulk_create(
        [ListSize(organisation_id=org_id, date=date, size=size) for (org_id, date), size in list_sizes.items()],
        update_conflicts=True,
        unique_fields=["organisation", "date"],
        update_fields=["size"],
        batch_size=_BULK_BATCH,
    )


def aggregate_to_pcns(*, extract, groups: list[Group], now: dt.datetime) -> list[int]:
    """Network Contract DES: each affected PCN's achievement is the sum of its member practices.

    For every PCN with a member practice in the extract, and every achievement date of it, a new
    Submission (source "PCN aggregation") holds, per indicator and field, the sum of the current
    values of the PCN's practices on that date.  The service is offered to practices and paid to
    the PCN, so the PCN's Achievement is created whether or not the PCN holds an offer itself
    (project rule).  List sizes on that date are summed into the PCN's list size likewise.
    Returns the PCNs' achievement ids.
    """
    targets = {
        (g.provider.pcn_id, g.service.id, g.date_id, g.date)
        for g in groups
        if g.service.provider_level == ProviderLevel.PCN and g.provider.pcn_id is not None
    }
    if not targets:
        return []
    pcn_groups = [
        Group(service=_ServiceRef(service_id), provider=OrganisationEntry(pcn_id, OrganisationKind.PCN, None), date=date, date_id=date_id)
        for pcn_id, service_id, date_id, date in targets
    ]
    achievements = _achievements_for(pcn_groups)
    Submission.objects.bulk_create(
        [
            Submission(
                achievement_id=achievements[(g.provider.id, g.date_id)],
                status=SubmissionStatus.SUBMITTED,
                source=SubmissionSource.AGGREGATION,
                extract=extract,
                created_by=extract.created_by,
                created_at=now,
                submitted_at=now,
            )
            for g in pcn_groups
        ]
    )
    qn = connection.ops.quote_name
    values, subs, ach, orgs = (
        qn(IndicatorValue._meta.db_table),
        qn(Submission._meta.db_table),
        qn(Achievement._meta.db_table),
        qn(Organisation._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {values} (submission_id, indicator_id, field_name, value)
            SELECT pcn_sub.id, v.indicator_id, v.field_name, SUM(v.value)
            FROM {subs} AS pcn_sub
            JOIN {ach} AS pcn_ach ON pcn_ach.id = pcn_sub.achievement_id
            JOIN {orgs} AS practice ON practice.pcn_id = pcn_ach.provider_id AND practice.kind = %s
            JOIN {ach} AS prac_ach
              ON prac_ach.provider_id = practice.id AND prac_ach.achievement_date_id = pcn_ach.achievement_date_id
            JOIN {subs} AS prac_sub ON prac_sub.achievement_id = prac_ach.id AND prac_sub.is_current
            JOIN {values} AS v ON v.submission_id = prac_sub.id
            WHERE pcn_sub.extract_id = %s AND pcn_sub.source = %s
            GROUP BY pcn_sub.id, v.indicator_id, v.field_name
            """,
            [OrganisationKind.PRACTICE, extract.pk, SubmissionSource.AGGREGATION],
        )
    switch_current(extract_id=extract.pk, source=SubmissionSource.AGGREGATION)
    carry_manual_values_forward(extract=extract, now=now)

    pcn_dates = {(g.provider.id, g.date) for g in pcn_groups}
    sums: dict[tuple[int, dt.date], int] = {}
    member_sizes = ListSize.objects.filter(
        organisation__pcn_id__in={pcn for pcn, _ in pcn_dates},
        organisation__kind=OrganisationKind.PRACTICE,
        date__in={date for _, date in pcn_dates},
    ).values_list("organisation__pcn_id", "date", "size")
    for pcn_id, date, size in member_sizes:
        if (pcn_id, date) in pcn_dates:
            sums[(pcn_id, date)] = sums.get((pcn_id, date), 0) + size
    store_list_sizes(sums)
    return list(achievements.values())


@dataclass(frozen=True)
class _ServiceRef:
    id: int
    provider_level: str = ProviderLevel.PCN


def carry_manual_values_forward(*, extract, now: dt.datetime) -> int:
    """Keep what a PCN entered by hand when this extract's aggregation still lacks those fields.

    The PCN enters a field its practices' extracts do not supply (ADR 0005) as a manual
    submission over the aggregation.  A later aggregation supersedes that submission; for every
    field it still lacks, the manually entered value is carried forward: a new manual
    submission (this extract's, current) holds the aggregation's values and the carried ones,
    and supersedes the aggregation, which stays the latest automatic submission, so the carried
    fields stay the PCN's to adjust.  "Manually entered" are the fields of the superseded manual
    submission that the automatic submission it was made over did not hold (a value the
    practices once supplied and no longer do is not carried).  Returns how many submissions
    carried values forward.
    """
    predecessors = list(
        Submission.objects.filter(
            superseded_by__extract_id=extract.pk,
            superseded_by__source=SubmissionSource.AGGREGATION,
            source=SubmissionSource.MANUAL,
            status=SubmissionStatus.SUBMITTED,
        ).select_related("superseded_by")
    )
    def keys(submission_id: int) -> set[tuple[int, str]]:
        return set(IndicatorValue.objects.filter(submission_id=submission_id).values_list("indicator_id", "field_name"))

    carried_count = 0
    for manual in predecessors:
        aggregation = manual.superseded_by
        earlier_automatic = (
            Submission.objects.filter(
                achievement_id=manual.achievement_id,
                source__in=(SubmissionSource.EXTRACT, SubmissionSource.AGGREGATION),
                status=SubmissionStatus.SUBMITTED,
                pk__lt=manual.pk,
            )
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        lacking = keys(manual.pk) - keys(aggregation.pk)
        if earlier_automatic is not None:
            lacking -= keys(earlier_automatic)
        if not lacking:
            continue
        carried = [
            (indicator_id, field_name, value)
            for indicator_id, field_name, value in IndicatorValue.objects.filter(submission_id=manual.pk).values_list(
                "indicator_id", "field_name", "value"
            )
            if (indicator_id, field_name) in lacking
        ]
        submission = Submission.objects.create(
            achievement_id=manual.achievement_id,
            status=SubmissionStatus.SUBMITTED,
            source=SubmissionSource.MANUAL,
            extract=extract,
            created_by=manual.created_by,
            created_at=now,
            submitted_at=now,
            notes=(
                f"{len(carried)} manually entered value(s) carried forward over the PCN aggregation of "
                f"{extract.file_name}."
            ),
        )
        IndicatorValue.objects.bulk_create(
            [
                IndicatorValue(submission=submission, indicator_id=v.indicator_id, field_name=v.field_name, value=v.value)
                for v in IndicatorValue.objects.filter(submission_id=aggregation.pk)
            ]
            + [
                IndicatorValue(submission=submission, indicator_id=i, field_name=f, value=v)
                for i, f, v in carried
            ]
        )
        Submission.objects.filter(pk=aggregation.pk).update(is_current=False, superseded_by=submission)
        Submission.objects.filter(pk=submission.pk).update(is_current=True)
        carried_count += 1
    return carried_count


def affected_achievement_ids(*, extract_id: int) -> list[int]:
    """The achievements this extract made new current submissions for (practices and PCNs)."""
    return list(
        Submission.objects.filter(extract_id=extract_id, is_current=True).values_list("achievement_id", flat=True)
    )


def apply_extract(*, extract, path: Path, progress: Callable[[int], None] | None = None) -> LoadResult:
    """Validate the file and apply it, in the caller's transaction.

    Raises ``ExtractInvalid`` (with every error) when any row breaks a rule; the caller rolls
    back what was written.  Otherwise each provider and achievement date in the file gets a new
    Submitted submission that supersedes the current one, list sizes are stored, and Network
    Contract DES values are aggregated to the PCNs.
    """
    now = timezone.now()
    timer = _PhaseTimer(extract.pk)
    catalogue = Catalogue.load()
    timer.done("catalogue")
    ids = SubmissionIds(extract, now=now)
    reader = ExtractReader(path, catalogue, ids, progress=progress)
    try:
        write_values(reader)
    finally:
        ids.close()
    timer.done("validate and write values")
    if reader.errors:
        raise ExtractInvalid(reader.errors)
    result = reader.result
    ids.write()
    timer.done("achievements and submissions")
    switch_current(extract_id=extract.pk, source=SubmissionSource.EXTRACT)
    timer.done("switch current")
    store_list_sizes({(org_id, date): size for (_, org_id, date), (size, _) in result.list_sizes.items()})
    aggregate_to_pcns(extract=extract, groups=result.groups, now=now)
    timer.done("list sizes and PCN aggregation")
    return result


class _PhaseTimer:
    """Logs how long each phase of a load took (INFO, logger achievement.extracts)."""

    def __init__(self, extract_id: int):
        self.extract_id = extract_id
        self.last = time.perf_counter()

    def done(self, phase: str) -> None:
        now = time.perf_counter()
        logger.info("Extract %s: %s in %.2fs", self.extract_id, phase, now - self.last)
        self.last = now
