"""Once set, national figures do not change silently (issue 13 §4): a later extract that changes
what the year-end data give shows the difference on its page and asks to set them again; the
figures in force stay those set."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import OrganisationKind
from achievement import services
from achievement.models import ExtractStatus
from achievement.national import national_figures_changes
from participation.definitions import SHIPPED_DEFINITIONS_DIR
from participation.models import AchievementDate, QualityService
from participation.national import national_figures_in_force
from tests.achievement import factories

HEADER = (
    "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,"
    "DEFAULT_VALUES_USED,SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION"
)
COPD = "Chronic Obstructive Pulmonary Disease Register"


def extract(tmp_path, name: str, rows: list[tuple[str, str, str, int]]) -> int:
    lines = [HEADER] + [
        f"QOF2324,Quality and Outcomes Framework 2023/24,{org},20240331,{ind},{field},{value},"
        "None,AUTOMATED,02/04/2024,11:19:50,Y"
        for org, ind, field, value in rows
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = services.extract_load(extract_id=services.extract_receive(path=path).pk)
    assert (loaded.status, loaded.error_count) == (ExtractStatus.LOADED, 0), loaded.errors
    return loaded.pk


@pytest.fixture
def qof(db):
    call_command("load_quality_service", str(SHIPPED_DEFINITIONS_DIR / "qof-2023-24.yaml"))
    service = QualityService.objects.get(code="QOF2324")
    icb = factories.organisation("QHM", OrganisationKind.ICB, "An ICB")
    for code in ("A81001", "A81002"):
        factories.approved_offer(service, factories.organisation(code, OrganisationKind.PRACTICE, commissioner=icb), icb)
    return service


def year_end(tmp_path, a81001_copd: int, name: str) -> int:
    return extract(
        tmp_path,
        name,
        [
            ("A81001", "COPD015", COPD, a81001_copd),
            ("A81001", "LISTSIZE", "Registered Population", 10_000),
            ("A81002", "COPD015", COPD, 100),
            ("A81002", "LISTSIZE", "Registered Population", 8_000),
        ],
    )


def test_a_later_extract_shows_the_difference_and_asks_to_set_them_again(qof, tmp_path, client):
    first = year_end(tmp_path, 200, "first.csv")
    date = AchievementDate.objects.get(service=qof, date=dt.date(2024, 3, 31))
    assert national_figures_changes(extract_id=first) == []  # nothing set yet: nothing to compare
    call_command("national_figures", "--service", "QOF2324", "--achievement-date", "2024-03-31", "--set")
    assert national_figures_in_force(service_id=qof.pk, achievement_date_id=date.pk).registers["COPD"] == 300

    later = year_end(tmp_path, 260, "later.csv")

    [change] = national_figures_changes(extract_id=later)
    assert (change.service_id, change.achievement_date_id, change.changed) == (qof.pk, date.pk, ("COPD",))
    client.force_login(factories.staff_user())
    page = client.get(reverse("achievement:extract_load", args=[later])).content.decode()
    assert "National figures changed" in page and "a different COPD" in page
    assert reverse("declarations:national_figures_detail", args=[qof.pk, date.pk]) in page
    # the figures in force stay those set until a National Administrator sets them again
    assert national_figures_in_force(service_id=qof.pk, achievement_date_id=date.pk).registers["COPD"] == 300
