"""export_payments: the stored calculations of a service and date, one row per provider and
paid indicator, equal to an independent calculation, and nothing else on stdout."""

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import CommandError, call_command

from declarations import tasks
from tests.factories import PracticeFactory

from .factories import qof_2425, submit_values
from .test_calculation import PRACTICE_VALUES

pytestmark = pytest.mark.django_db

COLUMNS = ["QUALITY_SERVICE", "ORG_CODE", "ACH_DATE", "IND_CODE", "ACHIEVEMENT", "POINTS", "AMOUNT"]


def pounds(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


CPI_A = Decimal(12_000) / Decimal(9_964)
APDF_A = (Decimal(300) / Decimal(12_000)) / Decimal("0.0203")
CPI_B = Decimal(8_000) / Decimal(9_964)

# The independent calculation, written out: A81001 (the worked example practice, list 12,000) and
# A81002 (list 8,000: VI001 at 100%, an empty AF register, AF006 with a zero denominator, QI013 No).
EXPECTED = [
    ["QOF2425", "A81001", "20250331", "AF001", "", "5.00", pounds(5 * Decimal("220.62") * CPI_A * APDF_A)],
    [
        "QOF2425",
        "A81001",
        "20250331",
        "AF006",
        "75.00",
        "8.40",
        pounds(Decimal("8.4") * Decimal("220.62") * CPI_A * APDF_A),
    ],
    [
        "QOF2425",
        "A81001",
        "20250331",
        "VI001",
        "93.10",
        "10.55",
        pounds(Decimal("10.55") * Decimal("220.62") * CPI_A),
    ],
    ["QOF2425", "A81001", "20250331", "QI013", "", "37.00", pounds(37 * Decimal("220.62") * CPI_A)],
    ["QOF2425", "A81002", "20250331", "AF001", "", "0.00", "0.00"],
    ["QOF2425", "A81002", "20250331", "AF006", "", "0.00", "0.00"],
    ["QOF2425", "A81002", "20250331", "VI001", "100.00", "18.00", pounds(18 * Decimal("220.62") * CPI_B)],
    ["QOF2425", "A81002", "20250331", "QI013", "", "0.00", "0.00"],
]


@pytest.fixture
def calculated():
    qof = qof_2425()
    a = submit_values(PracticeFactory(ods_code="A81001"), qof, PRACTICE_VALUES, list_size=12_000)
    b = submit_values(
        PracticeFactory(ods_code="A81002"),
        qof,
        {
            "VI001": {"Numerator": 100, "Denominator": 100},
            "AF001": {"Atrial Fibrillation Register": 0},
            "AF006": {"Numerator": 0, "Denominator": 0},
            "QI013": {"Yes/No Flag": 0},
            "VI900": {"Value": 7},
        },
        list_size=8_000,
    )
    # a practice with no data, and another date, are not exported
    PracticeFactory(ods_code="A81003")
    c = submit_values(
        PracticeFactory(ods_code="A81004"), qof, PRACTICE_VALUES, date=qof.achievement_dates.first().date
    )
    tasks.recalculate_many.delay([a.pk, b.pk, c.pk])
    return qof


def export(*args: str, capsys) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_payments", *args, stdout=out, stderr=err)
    leaked = capsys.readouterr()
    assert leaked.out == "", "nothing may reach the process's stdout but the export"
    return out.getvalue(), err.getvalue()


def test_the_csv_export_equals_an_independent_calculation(calculated, capsys):
    assert EXPECTED[2][6] == "2803.14" and EXPECTED[0][6] == "1636.09" and EXPECTED[6][6] == "3188.41"

    out, err = export("--service", "QOF2425", "--achievement-date", "2025-03-31", capsys=capsys)

    lines = list(csv.reader(io.StringIO(out)))
    assert lines[0] == COLUMNS
    assert lines[1:] == EXPECTED
    assert "8 rows" in err


def test_the_json_export_is_a_list_of_objects_with_the_same_rows(calculated, capsys):
    out, _ = export(
        "--service", "QOF2425", "--achievement-date", "2025-03-31", "--format", "json", capsys=capsys
    )

    assert json.loads(out) == [dict(zip(COLUMNS, row, strict=True)) for row in EXPECTED]


def test_the_export_leaves_out_count_indicators(calculated, capsys):
    out, _ = export("--service", "QOF2425", "--achievement-date", "2025-03-31", capsys=capsys)

    assert "VI900" not in out


def test_an_unknown_service_or_date_is_an_error_on_stderr(calculated):
    with pytest.raises(CommandError, match="No Quality Service"):
        call_command("export_payments", "--service", "QOF1999", "--achievement-date", "2025-03-31")
    with pytest.raises(CommandError, match="has no achievement date"):
        call_command("export_payments", "--service", "QOF2425", "--achievement-date", "2025-01-31")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_payments", "--service", "QOF2425", "--achievement-date", "31/03/2025")


@pytest.mark.django_db(transaction=True)
def test_the_command_prints_only_the_export_on_stdout_of_a_real_process():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the subprocess reads the committed test database on PostgreSQL")
    import os
    import subprocess
    import sys
    from pathlib import Path

    qof = qof_2425()
    achievement = submit_values(PracticeFactory(ods_code="A81001"), qof, PRACTICE_VALUES, list_size=12_000)
    tasks.recalculate_task.delay(achievement.pk)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "cqrs_site.settings"}
    env.pop("REDIS_URL", None)

    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "export_payments",
            "--service",
            "QOF2425",
            "--achievement-date",
            "2025-03-31",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert list(csv.reader(io.StringIO(completed.stdout))) == [COLUMNS, *EXPECTED[:4]]
    assert "4 rows" in completed.stderr


def test_the_export_of_a_loaded_gpes_extract_equals_an_independent_calculation(
    tmp_path, settings, capsys, django_capture_on_commit_callbacks
):
    """The real path: load_gpes_extract -> achievements_changed -> recalculate_many -> export."""
    from participation.models import OfferStatus, ServiceOffer
    from tests.factories import ICBFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    qof = qof_2425()
    icb = ICBFactory(ods_code="QHM")
    for code in ("A81001", "A81002"):
        ServiceOffer.objects.create(
            service=qof,
            provider=PracticeFactory(ods_code=code, commissioner=icb),
            commissioner=icb,
            status=OfferStatus.APPROVED,
            start_date=qof.financial_year.start_date,
            end_date=qof.financial_year.end_date,
        )
    values = {
        "A81001": {**PRACTICE_VALUES, "LISTSIZE": {"Registered Population": 12_000}},
        "A81002": {
            "VI001": {"Numerator": 100, "Denominator": 100},
            "AF001": {"Atrial Fibrillation Register": 0},
            "AF006": {"Numerator": 0, "Denominator": 0},
            "QI013": {"Yes/No Flag": 0},
            "VI900": {"Value": 7},
            "LISTSIZE": {"Registered Population": 8_000},
        },
    }
    lines = [
        "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,DEFAULT_VALUES_USED,"
        "SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION"
    ]
    for org, indicators in values.items():
        for code, fields in indicators.items():
            for field, value in fields.items():
                lines.append(
                    f"QOF2425,Quality and Outcomes Framework 2024/25,{org},20250331,{code},{field},{value},"
                    "None,AUTOMATED,02/04/2025,11:19:50,Y"
                )
    path = tmp_path / "extract.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_gpes_extract", str(path), "--wait", stdout=io.StringIO(), stderr=io.StringIO())
    capsys.readouterr()

    out, _ = export("--service", "QOF2425", "--achievement-date", "2025-03-31", capsys=capsys)
    assert list(csv.reader(io.StringIO(out))) == [COLUMNS, *EXPECTED]
