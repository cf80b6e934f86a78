"""The reads the payment calculation relies on, and the recalculation hook."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import ListSize
from achievement import hooks, payments, selectors, services
from achievement.models import Achievement, TickBoxValue
from participation.models import AchievementDate, Indicator
from tests.achievement import factories


def test_current_values_reads_every_achievement_in_one_query(qof, fixture_path, django_assert_num_queries):
    services.extract_load(extract_id=services.extract_receive(path=fixture_path("qof_valid.csv")).pk)
    ids = list(Achievement.objects.values_list("pk", flat=True))

    with django_assert_num_queries(1):
        values = selectors.current_values(achievement_ids=ids)

    assert set(values) == set(ids)
    assert all(v["AF006"]["Denominator"] in (110, 70) for v in values.values())
    assert selectors.current_values(achievement_ids=[]) == {}


def test_list_size_on_is_the_latest_on_or_before_the_date(world):
    practice = world["A81001"]
    ListSize.objects.create(organisation=practice, date=dt.date(2024, 1, 31), size=9_000)
    ListSize.objects.create(organisation=practice, date=dt.date(2024, 3, 31), size=9_100)

    assert selectors.list_size_on(provider_id=practice.pk, date=dt.date(2024, 2, 29)) == 9_000
    assert selectors.list_size_on(provider_id=practice.pk, date=dt.date(2024, 3, 31)) == 9_100
    assert selectors.list_size_on(provider_id=practice.pk, date=dt.date(2023, 12, 31)) is None


@pytest.fixture
def tick_box(ncd):
    return Indicator.objects.get(service=ncd, code="COV-01")


def _dates(service):
    return {d.date.month: d for d in AchievementDate.objects.filter(service=service)}


def test_a_tick_box_defaults_to_no(ncd, world, tick_box):
    march = _dates(ncd)[3]

    assert selectors.tick_box_values(
        provider_id=world["pcn"].pk, achievement_date_id=march.pk, indicator_ids=[tick_box.pk]
    ) == {"COV-01": False}


def test_a_yes_for_february_carries_forward_to_march_unless_march_is_set(ncd, world, tick_box):
    dates = _dates(ncd)
    pcn = world["pcn"]
    TickBoxValue.objects.create(provider=pcn, indicator=tick_box, achievement_date=dates[2], value=True)
    ask = {"provider_id": pcn.pk, "achievement_date_id": dates[3].pk, "indicator_ids": [tick_box.pk]}

    assert selectors.tick_box_values(**ask) == {"COV-01": True}

    TickBoxValue.objects.create(provider=pcn, indicator=tick_box, achievement_date=dates[3], value=False)
    assert selectors.tick_box_values(**ask) == {"COV-01": False}


def test_a_yes_does_not_carry_forward_for_an_indicator_that_does_not(ncd, world, tick_box):
    Indicator.objects.filter(pk=tick_box.pk).update(carry_forward=False)
    dates = _dates(ncd)
    TickBoxValue.objects.create(provider=world["pcn"], indicator=tick_box, achievement_date=dates[2], value=True)

    assert selectors.tick_box_values(
        provider_id=world["pcn"].pk, achievement_date_id=dates[3].pk, indicator_ids=[tick_box.pk]
    ) == {"COV-01": False}


def test_achievements_changed_enqueues_one_recalculation_after_commit(db, recalculation):
    hooks.achievements_changed([3, 1, 3, 2])
    hooks.achievements_changed([])

    assert recalculation.calls == [[1, 2, 3]]


def test_achievements_changed_does_nothing_without_the_declarations_task(db, monkeypatch, recalculation):
    monkeypatch.setattr(payments, "_gateway", payments.NO_PAYMENTS)  # achievement without declarations

    hooks.achievements_changed([1])  # no error, nothing to call
    assert recalculation.calls == []


def test_the_hook_finds_the_declarations_task_when_it_exists():
    from declarations.payment_gateway import DeclarationsPaymentGateway

    assert isinstance(payments.gateway(), DeclarationsPaymentGateway)


@pytest.mark.usefixtures("world")
def test_factories_give_a_pcn_of_two_practices(world):
    assert set(world["pcn"].member_practices.values_list("ods_code", flat=True)) == {"A81001", "A81002"}
    assert factories.QOF_DATE == dt.date(2024, 3, 31)
