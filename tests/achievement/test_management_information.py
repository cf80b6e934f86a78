"""Management-information indicators (issue 13 §1): the QOF extract layout carries COPD009MI1-3
rows beside the paid indicators; the shipped QOF definitions declare them, so a real year-end
extract loads; they are stored and never paid; a row for an indicator no definition knows is
still refused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import OrganisationKind
from achievement import services
from achievement.models import ExtractStatus, IndicatorValue
from participation.definitions import SHIPPED_DEFINITIONS_DIR
from participation.models import Indicator, IndicatorKind, QualityService
from tests.achievement import factories

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = PROJECT_ROOT.parent / "shared" / "reference" / "nhsd-qof-2023-24"
GENERATOR = PROJECT_ROOT / "benchmarks" / "generate_national_extract.py"
MI_CODES = ("COPD009MI1", "COPD009MI2", "COPD009MI3")
MI_FIELD = "Chronic Obstructive Pulmonary Disease Register"
HEADER = (
    "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,"
    "DEFAULT_VALUES_USED,SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION"
)


def row(org: str, ind: str, field: str, value: int) -> str:
    return (
        f"QOF2324,Quality and Outcomes Framework 2023/24,{org},20240331,{ind},{field},{value},"
        "None,AUTOMATED,02/04/2024,11:19:50,Y"
    )


@pytest.fixture
def shipped_qof(db) -> QualityService:
    call_command("load_quality_service", str(SHIPPED_DEFINITIONS_DIR / "qof-2023-24.yaml"), stdout=None)
    return QualityService.objects.get(code="QOF2324")


def _practices(service: QualityService, codes: list[str]) -> None:
    icb = factories.organisation("QHM", OrganisationKind.ICB, "An ICB")
    for code in codes:
        practice = factories.organisation(code, OrganisationKind.PRACTICE, commissioner=icb)
        factories.approved_offer(service, practice, icb)


def test_the_shipped_qof_definitions_declare_the_management_information_of_the_layout(shipped_qof):
    rows = Indicator.objects.filter(service=shipped_qof, kind=IndicatorKind.MANAGEMENT_INFORMATION)
    assert sorted(rows.values_list("code", "points", "group__code")) == [
        (code, 0, "COPD") for code in MI_CODES
    ]
    assert all(indicator.fields == [MI_FIELD] for indicator in rows)


def test_an_extract_with_management_information_rows_loads_and_stores_them(shipped_qof, tmp_path):
    _practices(shipped_qof, ["A81001"])
    lines = [
        HEADER,
        row("A81001", "COPD015", MI_FIELD, 210),
        *(row("A81001", code, MI_FIELD, value) for code, value in zip(MI_CODES, (12, 7, 3), strict=True)),
        row("A81001", "LISTSIZE", "Registered Population", 9_800),
    ]
    path = tmp_path / "extract.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    extract = services.extract_load(extract_id=services.extract_receive(path=path).pk)

    assert (extract.status, extract.error_count) == (ExtractStatus.LOADED, 0), extract.errors
    stored = dict(
        IndicatorValue.objects.filter(indicator__code__in=MI_CODES).values_list("indicator__code", "value")
    )
    assert stored == {"COPD009MI1": 12, "COPD009MI2": 7, "COPD009MI3": 3}


def test_a_row_for_an_indicator_the_definition_does_not_know_is_still_refused(shipped_qof, tmp_path):
    _practices(shipped_qof, ["A81001"])
    path = tmp_path / "extract.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                row("A81001", "COPD009MI1", MI_FIELD, 4),
                row("A81001", "COPD009MI9", MI_FIELD, 4),
                row("A81001", "LISTSIZE", "Registered Population", 9_800),
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    extract = services.extract_load(extract_id=services.extract_receive(path=path).pk)

    assert extract.status == ExtractStatus.REJECTED
    assert [(e["line"], e["message"]) for e in extract.errors] == [
        (3, "Unknown indicator 'COPD009MI9' for QOF2324.")
    ]
    assert not IndicatorValue.objects.exists()


@pytest.mark.skipif(not REFERENCE.exists(), reason="the NHS Digital reference layout is not present")
def test_the_national_extract_with_the_layouts_management_information_rows_loads(shipped_qof, tmp_path):
    """The benchmark's national extract (the public sample's layout, every row but the hand-entered
    QI indicators), for the first practices of the national mapping file."""
    spec = importlib.util.spec_from_file_location("generate_national_extract", GENERATOR)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    codes = generator.practice_codes(REFERENCE / "QOF_MANUAL_MAPPINGS.csv", 3)
    _practices(shipped_qof, codes)
    path = tmp_path / "national.csv"
    written = generator.generate(path, practices=3, seed=7)
    assert sum(MI_CODES[0] in line for line in path.read_text(encoding="utf-8").splitlines()) == 3

    extract = services.extract_load(extract_id=services.extract_receive(path=path).pk)

    assert (extract.status, extract.error_count) == (ExtractStatus.LOADED, 0), extract.errors[:3]
    assert extract.rows_done == written
    assert IndicatorValue.objects.filter(indicator__code__in=MI_CODES).count() == 3 * len(MI_CODES)


def test_record_achievement_shows_the_management_information_values(shipped_qof, tmp_path, client):
    from accounts.models import Organisation, Role
    from achievement.models import Achievement
    from participation.models import IndicatorGroup
    from tests.factories import member

    _practices(shipped_qof, ["A81001"])
    lines = [
        HEADER,
        row("A81001", "COPD015", MI_FIELD, 210),
        *(row("A81001", code, MI_FIELD, value) for code, value in zip(MI_CODES, (1234, 567, 89), strict=True)),
        row("A81001", "LISTSIZE", "Registered Population", 9_800),
    ]
    path = tmp_path / "extract.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    services.extract_load(extract_id=services.extract_receive(path=path).pk)
    achievement = Achievement.objects.get(provider__ods_code="A81001")
    group = IndicatorGroup.objects.get(service=shipped_qof, code="COPD")
    client.force_login(member(Organisation.objects.get(ods_code="A81001"), Role.VIEW, email="viewer@example.nhs.net"))

    page = client.get(reverse("achievement:group_detail", args=[achievement.pk, group.pk])).content.decode()

    starts = [page.index(f"{code}:") for code in MI_CODES] + [page.index("Submissions for")]
    for (code, value), start, end in zip(zip(MI_CODES, ("1,234", "567", "89"), strict=True), starts, starts[1:], strict=False):
        assert f"{MI_FIELD}" in page[start:end] and f">{value}<" in page[start:end].replace(" ", "").replace("\n", ""), code
