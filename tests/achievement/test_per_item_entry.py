"""Manual item-of-service claims (issue 16): where the definition says ``entry: manual``, the
practice enters the month's Count on Record Achievement, by the existing entry rules; the extract
carries an automatic service's Count and refuses a manual one's."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from accounts.models import Role
from achievement import entry_rules, selectors, services
from achievement.errors import AchievementEntryError, AchievementNotAllowed
from achievement.models import IndicatorValue, SubmissionSource
from participation.definitions import SHIPPED_DEFINITIONS_DIR, load_service_definition_file
from participation.models import AchievementDate
from participation.services import quality_service_load
from tests.factories import member

from . import factories

pytestmark = pytest.mark.django_db

OCTOBER = dt.date(2024, 10, 31)


def load_shipped(name: str):
    path = SHIPPED_DEFINITIONS_DIR / name
    return quality_service_load(
        definition=load_service_definition_file(path), source=yaml.safe_load(path.read_text(encoding="utf-8"))
    )


@pytest.fixture
def phlebotomy_world():
    world = factories.world()
    service = load_shipped("phlebotomy-ios-2024-25.yaml")
    factories.approved_offer(service, world["A81001"], world["icb"])
    user = member(world["A81001"], Role.ACHIEVEMENT_ENTRY, email="entry@example.nhs.net")
    date = AchievementDate.objects.get(service=service, date=OCTOBER)
    achievement, _ = services.achievement_add(user=user, provider_id=world["A81001"].pk, achievement_date_id=date.pk)
    indicator = service.indicators.get(code="PHLIOS01")
    return {"service": service, "user": user, "achievement": achievement, "indicator": indicator}


def test_an_item_of_service_needs_its_count():
    indicator = load_shipped("shingles-2024-25.yaml").indicators.get(code="SHI001")
    assert entry_rules.required_fields(indicator) == ("Count",)
    assert entry_rules.indicator_fields(indicator) == ("Count",)
    assert not entry_rules.indicator_submitted(indicator, {"Value": 3})
    assert entry_rules.indicator_submitted(indicator, {"Count": 0})


def test_the_practice_enters_and_submits_the_months_count(phlebotomy_world):
    w = phlebotomy_world
    submission = services.achievement_values_save(
        user=w["user"],
        achievement_id=w["achievement"].pk,
        group_id=w["indicator"].group_id,
        values={(w["indicator"].pk, "Count"): 212},
        notes="October's samples.",
        submit=True,
    )
    assert submission.is_current and submission.source == SubmissionSource.MANUAL
    assert IndicatorValue.objects.get(submission=submission, indicator=w["indicator"]).value == 212


def test_a_count_above_the_list_size_is_refused(phlebotomy_world):
    w = phlebotomy_world
    with pytest.raises(AchievementEntryError):
        services.achievement_values_save(
            user=w["user"],
            achievement_id=w["achievement"].pk,
            group_id=w["indicator"].group_id,
            values={(w["indicator"].pk, "Count"): factories.LIST_SIZES["A81001"] + 1},
            submit=True,
        )
    assert not w["achievement"].submissions.exists()


def test_the_extract_refuses_a_manual_claim(phlebotomy_world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "phlebotomy.csv"
    path.write_text(
        "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,DEFAULT_VALUES_USED,SUBMIT_USER_ID,"
        "SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION\n"
        "PHLIOS2425,Phlebotomy Item of Service 2024/25,A81001,20241031,PHLIOS01,Count,40,N,GPES,01/11/2024,00:00,Y\n",
        encoding="utf-8",
    )
    extract = services.extract_receive(path=path)
    extract = services.extract_load(extract_id=extract.pk)
    assert extract.status == "rejected"
    assert "entered manually by the practice" in extract.errors[0]["message"]


def test_a_submitted_months_count_is_final_for_the_practice(phlebotomy_world):
    """Each month of a monthly service is the last day of its own payment period, so once its
    count is submitted the practice cannot adjust it (job aid "manual adjustment"); the
    Commissioning Organisation can (Record Provider Achievement)."""
    w = phlebotomy_world
    save = dict(user=w["user"], achievement_id=w["achievement"].pk, group_id=w["indicator"].group_id, submit=True)
    services.achievement_values_save(values={(w["indicator"].pk, "Count"): 212}, **save)
    with pytest.raises(AchievementNotAllowed):
        services.achievement_values_save(values={(w["indicator"].pk, "Count"): 230}, **save)
    state = next(
        s
        for s in entry_rules.entry_states(
            user=w["user"],
            data=selectors.entry_data(
                achievement=w["achievement"], indicators=[w["indicator"]], wip_source=SubmissionSource.MANUAL
            ),
        )[0]
    )
    assert state.reason == entry_rules.LAST_DAY_SUBMITTED.format(date="31/10/2024")
