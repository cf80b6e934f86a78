"""`load_organisations`: the NHS Digital mapping file loads the national hierarchy, idempotently,
and a malformed file is rejected whole with every error, line numbered."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.loaders import OrganisationFileError, organisations_load
from accounts.models import AuditEvent, Organisation, OrganisationKind
from tests.factories import PCNFactory

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "organisations.csv"
# Optional: NHS Digital's national mapping file (6,410 practices), not shipped with the repository;
# looked for beside the project, and its test is skipped when it is not there.
NATIONAL_FILE = PROJECT_ROOT.parent / "shared" / "reference" / "nhsd-qof-2023-24" / "QOF_MANUAL_MAPPINGS.csv"

pytestmark = pytest.mark.django_db

Kind = OrganisationKind


def fixture_rows() -> tuple[list[str], list[dict[str, str]]]:
    with FIXTURE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_csv(path: Path, rows: list[dict[str, str]], fieldnames: list[str] | None = None) -> Path:
    fieldnames = fieldnames or fixture_rows()[0]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def organisations_snapshot() -> list[tuple]:
    return list(
        Organisation.objects.order_by("ods_code").values_list(
            "ods_code", "name", "kind", "parent__ods_code", "pcn__ods_code", "commissioner__ods_code"
        )
    )


def org(code: str) -> Organisation:
    return Organisation.objects.select_related("parent", "pcn", "commissioner").get(ods_code=code)


def counts_by_kind() -> dict[str, int]:
    """Per kind the mapping file loads (not NHS England, the national organisation, which it never names)."""
    return {kind: Organisation.objects.filter(kind=kind).count() for kind in Kind if kind != Kind.NATIONAL}


def assert_rejected(path: Path, *expected: str) -> OrganisationFileError:
    """The file is rejected with errors containing each expected text, and the DB is unchanged."""
    before = organisations_snapshot()
    with pytest.raises(OrganisationFileError) as caught:
        organisations_load(path=path)
    messages = [str(error) for error in caught.value.errors]
    for text in expected:
        assert any(text in message for message in messages), (text, messages)
    assert organisations_snapshot() == before
    return caught.value


# The fixture loads --------------------------------------------------------------------------


def test_the_fixture_loads_every_organisation_with_the_right_counts():
    result = organisations_load(path=FIXTURE)

    assert counts_by_kind() == {Kind.REGION: 2, Kind.ICB: 2, Kind.SUB_ICB: 3, Kind.PCN: 4, Kind.PRACTICE: 15}
    assert {kind: counts.created for kind, counts in result.counts.items()} == {
        Kind.REGION: 2, Kind.ICB: 2, Kind.SUB_ICB: 3, Kind.PCN: 4, Kind.PRACTICE: 15,
    }
    assert result.rows == 15
    assert AuditEvent.objects.filter(action="organisations_loaded").count() == 1


def test_the_fixture_links_practices_pcns_sub_icb_locations_icbs_and_regions():
    organisations_load(path=FIXTURE)

    practice = org("A81001")
    assert practice.name == "THE DENSHAM SURGERY"
    assert practice.kind == Kind.PRACTICE
    assert practice.pcn.ods_code == "U89141"
    assert practice.parent.ods_code == "16C"
    assert practice.commissioner.ods_code == "QHM"

    pcn = org("U89141")
    assert (pcn.kind, pcn.name, pcn.commissioner.ods_code) == (Kind.PCN, "STOCKTON PCN", "QHM")
    assert sorted(pcn.member_practices.values_list("ods_code", flat=True)) == [
        "A81001", "A81017", "A81025", "A81046",
    ]
    sub_icb = org("16C")
    assert (sub_icb.kind, sub_icb.parent.ods_code) == (Kind.SUB_ICB, "QHM")
    icb = org("QHM")
    assert (icb.kind, icb.name) == (Kind.ICB, "NHS North East and North Cumbria Integrated Care Board")
    assert icb.parent.ods_code == "Y63"
    assert org("Y63").kind == Kind.REGION and org("Y63").parent is None


def test_a_practice_in_no_pcn_is_loaded_without_one():
    organisations_load(path=FIXTURE)

    practice = org("A82019")  # PCN code "U", "Unallocated" in NHS Digital's file
    assert practice.pcn is None
    assert practice.commissioner.ods_code == "QHM"
    assert not Organisation.objects.filter(ods_code="U").exists()


def test_a_merged_sub_icb_location_with_a_five_character_code_is_loaded():
    organisations_load(path=FIXTURE)

    practice = org("E85005")
    assert practice.name == "THE SURGERY, DR DASGUPTA & PARTNERS"  # quoted, with a comma
    assert practice.parent.ods_code == "W2U3Z"
    assert practice.parent.parent.ods_code == "QRV"
    assert practice.commissioner.ods_code == "QRV"


def test_a_load_takes_a_handful_of_queries_not_one_per_row(django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        organisations_load(path=FIXTURE)
    with django_assert_max_num_queries(4):
        organisations_load(path=FIXTURE)


# Idempotent -----------------------------------------------------------------------------------


def test_a_second_load_changes_nothing():
    organisations_load(path=FIXTURE)
    before = organisations_snapshot()

    result = organisations_load(path=FIXTURE)

    assert organisations_snapshot() == before
    assert result.changed == 0
    assert {kind: counts.unchanged for kind, counts in result.counts.items()} == {
        Kind.REGION: 2, Kind.ICB: 2, Kind.SUB_ICB: 3, Kind.PCN: 4, Kind.PRACTICE: 15,
    }
    assert AuditEvent.objects.filter(action="organisations_loaded").count() == 1


def test_the_command_prints_counts_and_nothing_changes_the_second_time():
    first, second = _run_command(FIXTURE), _run_command(FIXTURE)

    assert "GP practice" in first and "15 created" in first
    for line in second.splitlines()[1:6]:
        assert " 0 created" in line and " 0 updated" in line, second
    assert "Nothing changed." in second


def _run_command(path: Path) -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_organisations", str(path), stdout=out)
    return out.getvalue()


# Changes in the file ----------------------------------------------------------------------------


def test_a_practice_listed_under_another_pcn_moves_to_it(tmp_path):
    organisations_load(path=FIXTURE)
    fieldnames, rows = fixture_rows()
    for row in rows:
        if row["PRACTICE_CODE"] == "A81001":
            row["PCN_ODS_CODE"], row["PCN_NAME"] = "U07032", "NORTH STOCKTON PCN"

    result = organisations_load(path=write_csv(tmp_path / "moved.csv", rows, fieldnames))

    assert org("A81001").pcn.ods_code == "U07032"
    assert result.practices_moved == ["A81001"]
    assert result.counts[Kind.PRACTICE].updated == 1
    assert result.counts[Kind.PRACTICE].unchanged == 14
    assert result.counts[Kind.PCN].created == 0
    assert "A81001" not in org("U89141").member_practices.values_list("ods_code", flat=True)


def test_a_renamed_practice_is_updated(tmp_path):
    organisations_load(path=FIXTURE)
    fieldnames, rows = fixture_rows()
    rows[0]["PRACTICE_NAME"] = "THE DENSHAM SURGERY (NEW NAME)"

    result = organisations_load(path=write_csv(tmp_path / "renamed.csv", rows, fieldnames))

    assert org(rows[0]["PRACTICE_CODE"]).name == "THE DENSHAM SURGERY (NEW NAME)"
    assert result.counts[Kind.PRACTICE].updated == 1
    assert result.practices_moved == []


def test_a_pcn_is_commissioned_by_the_icb_of_most_of_its_practices(tmp_path):
    fieldnames, rows = fixture_rows()
    north_west_london = {k: v for k, v in rows[-1].items() if not k.startswith(("PRACTICE", "PCN"))}
    for row in rows:
        if row["PRACTICE_CODE"] == "A81001":  # Stockton PCN: 3 practices in QHM, now 1 in QRV
            row.update(north_west_london)
        if row["PCN_ODS_CODE"] == "U73163":  # now 2 practices in QRV, 1 in QHM
            row["PCN_ODS_CODE"], row["PCN_NAME"] = "U07032", "NORTH STOCKTON PCN"
    # North Stockton PCN: A81002, A81006, A81067 (QHM) and E85005, E85048, E85748 (QRV): a tie
    write_csv(tmp_path / "mixed.csv", rows, fieldnames)

    organisations_load(path=tmp_path / "mixed.csv")

    assert org("U89141").commissioner.ods_code == "QHM"
    assert org("A81001").commissioner.ods_code == "QRV"  # a practice follows its own ICB
    assert org("U07032").commissioner.ods_code == "QHM"  # a tie goes to the lowest ICB code


# Rejected files --------------------------------------------------------------------------------


@pytest.fixture
def loaded():
    organisations_load(path=FIXTURE)


def test_a_bad_ods_code_is_rejected_with_its_line_and_reason(tmp_path, loaded):
    fieldnames, rows = fixture_rows()
    rows[2]["PRACTICE_CODE"] = "A8100"
    rows[4]["PCN_ODS_CODE"] = "X07032"
    rows[6]["STP_ODS_CODE"] = "XHM"
    rows[0]["PRACTICE_NAME"] = "RENAMED, BUT THE FILE IS BAD"

    error = assert_rejected(
        write_csv(tmp_path / "bad.csv", rows, fieldnames),
        "line 4: PRACTICE_CODE 'A8100' is not a valid ODS code for a GP practice",
        "line 6: PCN_ODS_CODE 'X07032' is not a valid ODS code for a Primary Care Network",
        "line 8: STP_ODS_CODE 'XHM' is not a valid ODS code for an Integrated Care Board",
    )
    assert len(error.errors) == 3


def test_a_missing_column_is_rejected(tmp_path, loaded):
    fieldnames, rows = fixture_rows()
    fieldnames.remove("PCN_NAME")

    assert_rejected(write_csv(tmp_path / "no-pcn-name.csv", rows, fieldnames), "line 1: missing column PCN_NAME")


def test_an_empty_required_value_is_rejected(tmp_path, loaded):
    fieldnames, rows = fixture_rows()
    rows[1]["PRACTICE_NAME"] = " "
    rows[3]["CCG_ODS_CODE"] = ""

    assert_rejected(
        write_csv(tmp_path / "blank.csv", rows, fieldnames),
        "line 3: PRACTICE_NAME is empty",
        "line 5: CCG_ODS_CODE is empty",
    )


def test_a_practice_listed_twice_is_rejected(tmp_path, loaded):
    fieldnames, rows = fixture_rows()
    rows.append(dict(rows[0], PCN_ODS_CODE="U07032", PCN_NAME="NORTH STOCKTON PCN"))

    assert_rejected(
        write_csv(tmp_path / "twice.csv", rows, fieldnames),
        "line 17: practice A81001 is listed twice (first on line 2)",
    )


def test_a_sub_icb_location_under_two_icbs_is_rejected(tmp_path, loaded):
    fieldnames, rows = fixture_rows()
    rows[5]["STP_ODS_CODE"] = "QRV"

    assert_rejected(
        write_csv(tmp_path / "two-icbs.csv", rows, fieldnames),
        "line 7: CCG_ODS_CODE 16C is under QRV here but under QHM on line 2",
    )


def test_an_empty_file_is_rejected(tmp_path, loaded):
    (tmp_path / "empty.csv").write_bytes(b"")
    assert_rejected(tmp_path / "empty.csv", "line 1: the file is empty")

    (tmp_path / "header.csv").write_text(",".join(fixture_rows()[0]) + "\r\n")
    assert_rejected(tmp_path / "header.csv", "line 2: the file lists no practices")


def test_a_file_that_is_not_utf8_is_rejected(tmp_path, loaded):
    data = FIXTURE.read_bytes().replace(b"QUEENS PARK", "QUEENS PARK CAFÉ".encode("latin-1"))
    data = data.replace(b"ALMA MEDICAL", "ÁLMA MEDICAL".encode("latin-1"))
    (tmp_path / "latin1.csv").write_bytes(data)

    error = assert_rejected(
        tmp_path / "latin1.csv",
        "line 3: not UTF-8 (byte 0xC9 at column 23)",
        "line 12: not UTF-8 (byte 0xC1 at column 8)",
    )
    assert len(error.errors) == 2


def test_every_error_is_reported_the_first_hundred_shown_then_a_count(tmp_path, loaded):
    fieldnames, rows = fixture_rows()
    many = [dict(rows[0], PRACTICE_CODE=f"bad{n}") for n in range(150)]

    error = assert_rejected(write_csv(tmp_path / "many.csv", many, fieldnames), "line 151: PRACTICE_CODE")

    assert len(error.errors) == 150
    summary = error.summary().splitlines()
    assert len(summary) == 101
    assert summary[0].startswith("line 2: ")
    assert summary[-1] == "... and 50 more errors (150 in all)"


def test_a_code_already_held_by_another_kind_is_rejected(tmp_path, loaded):
    PCNFactory(ods_code="U99999", name="A PCN", commissioner=None)
    fieldnames, rows = fixture_rows()
    rows[0]["PRACTICE_CODE"] = "U99999"

    assert_rejected(
        write_csv(tmp_path / "kind.csv", rows, fieldnames),
        "line 2: U99999 is already a Primary Care Network in the database, not a GP practice",
    )


def test_the_command_rejects_a_bad_file_with_the_errors(tmp_path):
    fieldnames, rows = fixture_rows()
    rows[2]["PRACTICE_CODE"] = "A8100"
    path = write_csv(tmp_path / "bad.csv", rows, fieldnames)

    with pytest.raises(CommandError, match=r"(?s)nothing was loaded.*line 4: PRACTICE_CODE 'A8100'"):
        call_command("load_organisations", str(path))
    assert Organisation.objects.count() == 0


def test_the_command_exits_non_zero_with_the_errors_on_stderr(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "cqrs_site.settings_test"}

    completed = subprocess.run(
        [sys.executable, "manage.py", "load_organisations", str(tmp_path / "empty.csv")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )

    assert completed.returncode != 0
    assert "line 1: the file is empty" in completed.stderr
    assert completed.stdout == ""


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or ""
    host = settings.get("HOST") or "127.0.0.1"
    return f"postgres://{user}@{host}:{settings.get('PORT') or 5432}/{settings['NAME']}"


# The national file -------------------------------------------------------------------------------


@pytest.mark.skipif(not NATIONAL_FILE.exists(), reason="the NHS Digital national mapping file is not present")
def test_the_national_file_loads_every_practice_pcn_and_icb(django_assert_max_num_queries):
    from django.db import connection

    # SQLite caps a statement at 999 variables, so Django splits the bulk writes into batches of
    # about 130 rows: 58 of organisations and 51 of PCN memberships for the 7,840 organisations.
    with django_assert_max_num_queries(15 if connection.vendor == "postgresql" else 125):
        result = organisations_load(path=NATIONAL_FILE)

    # 1,276 PCN codes in the file, one of them "U" (Unallocated: 101 practices in no PCN).
    assert counts_by_kind() == {
        Kind.REGION: 7, Kind.ICB: 42, Kind.SUB_ICB: 106, Kind.PCN: 1275, Kind.PRACTICE: 6410,
    }
    assert Organisation.objects.filter(kind=Kind.PRACTICE, pcn__isnull=True).count() == 101
    assert not Organisation.objects.filter(kind=Kind.PRACTICE, commissioner__isnull=True).exists()
    assert not Organisation.objects.filter(kind=Kind.PCN, commissioner__isnull=True).exists()
    assert result.counts[Kind.PRACTICE].created == 6410
    # Coast and Country PCN has two practices in Cornwall (QT6) and two in Devon (QJK).
    assert org("U41591").commissioner.ods_code == "QJK"

    again = organisations_load(path=NATIONAL_FILE)
    assert again.changed == 0
    assert again.counts[Kind.PRACTICE].unchanged == 6410
