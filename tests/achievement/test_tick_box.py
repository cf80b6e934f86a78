"""The tick-box indicator (job aid, COV-01 / NCD009): the PCN user's Yes/No drop-down, the
practice's read-only view, the default No, carry forward, who may change it, each change
recorded and recalculated."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.errors import NotAllowed, NotFound
from accounts.models import Role
from achievement import entry_rules, selectors, services
from achievement.models import TickBoxChange, TickBoxValue
from participation.models import AchievementDate, Indicator
from tests.achievement.test_entry_rules import FEBRUARY, MARCH, achievement_on, payment_moved_through
from tests.factories import member


@pytest.fixture
def cov01(ncd):
    return Indicator.objects.get(service=ncd, code="COV-01")


@pytest.fixture
def dates(ncd):
    return {d.date.isoformat(): d for d in AchievementDate.objects.filter(service=ncd)}


@pytest.fixture
def pcn_lead(world):
    return member(world["pcn"], Role.ACHIEVEMENT_ENTRY, Role.DECLARATION_MANAGEMENT)


@pytest.fixture
def practice_user(world):
    return member(world["A81001"], Role.ACHIEVEMENT_ENTRY)


def answer(world, cov01, date) -> bool:
    return selectors.tick_box_values(
        provider_id=world["pcn"].pk, achievement_date_id=date.pk, indicator_ids=[cov01.pk]
    )["COV-01"]


def set_tick_box(user, world, cov01, date, value):
    return services.tick_box_set(
        user=user, provider_id=world["pcn"].pk, indicator_id=cov01.pk, achievement_date_id=date.pk, value=value
    )


def test_the_tick_box_defaults_to_no_when_the_pcn_has_not_set_it(world, cov01, dates):
    assert answer(world, cov01, dates[MARCH]) is False


def test_a_yes_carries_forward_to_the_next_achievement_date(world, cov01, dates, pcn_lead):
    set_tick_box(pcn_lead, world, cov01, dates[FEBRUARY], True)

    assert answer(world, cov01, dates[FEBRUARY]) is True
    assert answer(world, cov01, dates[MARCH]) is True


def test_a_carried_yes_stands_unless_changed_to_no(world, cov01, dates, pcn_lead):
    set_tick_box(pcn_lead, world, cov01, dates[FEBRUARY], True)

    set_tick_box(pcn_lead, world, cov01, dates[MARCH], False)

    assert answer(world, cov01, dates[FEBRUARY]) is True
    assert answer(world, cov01, dates[MARCH]) is False


def test_each_change_is_recorded_with_who_when_old_and_new(world, cov01, dates, pcn_lead):
    set_tick_box(pcn_lead, world, cov01, dates[MARCH], True)
    set_tick_box(pcn_lead, world, cov01, dates[MARCH], False)

    changes = list(TickBoxChange.objects.order_by("at", "pk").values_list("by_id", "old_value", "new_value"))
    assert changes == [(pcn_lead.pk, False, True), (pcn_lead.pk, True, False)]
    assert TickBoxValue.objects.get().set_by == pcn_lead


def test_a_change_recalculates_this_date_and_the_later_ones(world, ncd, cov01, dates, pcn_lead, recalculation):
    february = achievement_on(world["pcn"], ncd, FEBRUARY)
    march = achievement_on(world["pcn"], ncd, MARCH)

    set_tick_box(pcn_lead, world, cov01, dates[FEBRUARY], True)

    assert recalculation.achievement_ids == {february.pk, march.pk}


def test_setting_the_answer_already_shown_changes_nothing(world, cov01, dates, pcn_lead):
    set_tick_box(pcn_lead, world, cov01, dates[FEBRUARY], True)

    with pytest.raises(services.AchievementEntryError, match="already Yes"):
        set_tick_box(pcn_lead, world, cov01, dates[MARCH], True)  # carried forward already
    assert TickBoxChange.objects.count() == 1


def test_the_practice_cannot_change_its_pcns_tick_box(world, cov01, dates, practice_user):
    with pytest.raises(NotFound):  # the PCN is not one of the practice user's organisations
        set_tick_box(practice_user, world, cov01, dates[MARCH], True)
    assert not TickBoxValue.objects.exists()


def test_a_pcn_view_user_cannot_change_it(world, cov01, dates):
    viewer = member(world["pcn"], Role.VIEW)

    with pytest.raises(NotAllowed):
        set_tick_box(viewer, world, cov01, dates[MARCH], True)


def test_the_commissioner_can_change_it(world, cov01, dates):
    commissioner = member(world["icb"], Role.APPROVAL_MANAGEMENT)

    set_tick_box(commissioner, world, cov01, dates[MARCH], True)

    assert answer(world, cov01, dates[MARCH]) is True


def test_after_the_pcn_declares_only_the_commissioner_can_change_it(world, ncd, cov01, dates, pcn_lead):
    payment_moved_through(achievement_on(world["pcn"], ncd, MARCH), "declare")

    with pytest.raises(NotAllowed):
        set_tick_box(pcn_lead, world, cov01, dates[MARCH], True)
    set_tick_box(member(world["icb"], Role.COMMISSIONING_MANAGEMENT), world, cov01, dates[MARCH], True)


def test_nobody_changes_it_once_the_payment_is_financially_approved(world, ncd, cov01, dates):
    payment_moved_through(achievement_on(world["pcn"], ncd, MARCH), "declare", "approve", "finance_approve")

    with pytest.raises(NotAllowed):
        set_tick_box(member(world["icb"], Role.APPROVAL_MANAGEMENT), world, cov01, dates[MARCH], True)


def test_another_organisations_user_cannot_set_it(world, cov01, dates):
    outsider = member(world["A81003"], Role.ACHIEVEMENT_ENTRY)

    with pytest.raises(NotFound):
        set_tick_box(outsider, world, cov01, dates[MARCH], True)


# --- the screens --------------------------------------------------------------------------


def _group_url(achievement, cov01):
    return reverse("achievement:group_detail", args=[achievement.pk, cov01.group_id])


def test_the_pcn_user_sees_a_yes_no_drop_down(client_for, world, ncd, cov01, pcn_lead):
    achievement = achievement_on(world["pcn"], ncd, MARCH)

    html = client_for(pcn_lead).get(_group_url(achievement, cov01)).content.decode()

    assert 'name="value"' in html and ">Yes</option>" in html and ">No</option>" in html
    assert reverse("achievement:group_tick_box", args=[achievement.pk, cov01.pk]) in html


def test_the_practice_sees_the_pcns_answer_read_only(client_for, world, ncd, cov01, dates, pcn_lead, practice_user):
    set_tick_box(pcn_lead, world, cov01, dates[MARCH], True)
    achievement = achievement_on(world["A81001"], ncd, MARCH)

    html = client_for(practice_user).get(_group_url(achievement, cov01)).content.decode()

    assert 'name="value"' not in html
    assert 'data-testid="tick-box-value">Yes<' in html
    assert entry_rules.PCN_SETS_IT in html


def test_the_drop_down_changes_the_answer_with_a_message(client_for, world, ncd, cov01, pcn_lead, recalculation):
    achievement = achievement_on(world["pcn"], ncd, MARCH)
    client = client_for(pcn_lead)

    response = client.post(reverse("achievement:group_tick_box", args=[achievement.pk, cov01.pk]), {"value": "1"}, follow=True)

    assert "COV-01 has been changed to Yes" in response.content.decode()
    assert TickBoxValue.objects.get().value is True
    assert recalculation.achievement_ids == {achievement.pk}


def test_a_practice_posting_to_the_drop_down_is_refused(client_for, world, ncd, cov01, practice_user):
    achievement = achievement_on(world["A81001"], ncd, MARCH)

    response = client_for(practice_user).post(
        reverse("achievement:group_tick_box", args=[achievement.pk, cov01.pk]), {"value": "1"}
    )

    assert response.status_code in (403, 404)
    assert not TickBoxValue.objects.exists()


def test_another_organisation_cannot_post_to_the_drop_down_by_id(client_for, world, ncd, cov01):
    achievement = achievement_on(world["pcn"], ncd, MARCH)
    outsider = member(world["A81003"], Role.ACHIEVEMENT_ENTRY, Role.VIEW)

    response = client_for(outsider).post(
        reverse("achievement:group_tick_box", args=[achievement.pk, cov01.pk]), {"value": "1"}
    )

    assert response.status_code == 404
    assert not TickBoxValue.objects.exists()
