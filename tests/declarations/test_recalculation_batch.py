"""Recalculation set by set (issue 12, ADR 0017): the statements of a recalculation batch do not
grow with the number of achievements in it, whether the payments are new, changed or unchanged,
and recalculating unchanged data writes nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from achievement import calculation_inputs
from achievement.models import Achievement
from declarations import calculation, services
from declarations.models import Calculation, Declaration
from participation.models import AchievementDate
from tests.factories import PCNFactory, PracticeFactory

from .factories import ncd_2122, qof_2425, set_tick_box, submit_values

pytestmark = pytest.mark.django_db

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)", re.IGNORECASE)


def values(n: int) -> dict[str, dict[str, int]]:
    return {
        "VI001": {"Numerator": 100 + n, "Denominator": 120 + n},
        "AF001": {"Atrial Fibrillation Register": 300 + n},
        "AF006": {"Numerator": 150, "Denominator": 200 + n, "AFIBPCADEC": 3},
        "QI013": {"Yes/No Flag": n % 2},
        "VI900": {"Value": n},
    }


def practices_with_data(service, count: int, *, first: int) -> list[int]:
    return [
        submit_values(PracticeFactory(), service, values(first + n), list_size=9_000 + 100 * n).pk
        for n in range(count)
    ]


def statements(ids: list[int]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        services.calculations_recalculate(achievement_ids=ids)
    return [query["sql"] for query in captured.captured_queries]


def test_a_batch_runs_the_same_statements_for_2_or_8_achievements_new_changed_or_unchanged():
    qof = qof_2425()
    few, many = practices_with_data(qof, 2, first=0), practices_with_data(qof, 8, first=10)

    new_few, new_many = statements(few), statements(many)
    assert len(new_few) == len(new_many)
    assert Calculation.objects.filter(achievement_id__in=few + many).count() == 10
    assert Declaration.objects.filter(achievement_id__in=few + many).count() == 10  # 31 March: a payment date

    unchanged_few, unchanged_many = statements(few), statements(many)
    assert len(unchanged_few) == len(unchanged_many)
    assert not [sql for sql in unchanged_few + unchanged_many if WRITES.match(sql)], "unchanged data wrote"

    for n, pk in enumerate(few + many):  # every one changes
        achievement = Calculation.objects.get(achievement_id=pk).achievement
        submit_values(achievement.provider, qof, values(100 + n), list_size=9_500)
    changed_few, changed_many = statements(few), statements(many)
    assert len(changed_few) == len(changed_many)
    assert set(Calculation.objects.filter(achievement_id__in=few + many).values_list("version", flat=True)) == {2}


def test_tick_box_answers_are_read_for_the_whole_batch_at_once():
    ncd = ncd_2122()
    pcns = [PCNFactory() for _ in range(8)]
    date = dt.date(2022, 3, 31)
    for pcn in pcns:
        set_tick_box(pcn, ncd, "COV-01", date, True)
    achievement_date = AchievementDate.objects.get(service=ncd, date=date)
    ids = [Achievement.objects.create(provider=pcn, service=ncd, achievement_date=achievement_date).pk for pcn in pcns]

    assert len(statements(ids[:2])) == len(statements(ids[2:]))
    assert Calculation.objects.filter(achievement_id__in=ids).count() == 8


def test_the_databases_digest_changes_with_any_value_the_rules_read_and_not_otherwise():
    qof = qof_2425()
    names = calculation.service_rules(qof).plan.field_names
    assert {"Numerator", "Denominator", "Atrial Fibrillation Register", "Yes/No Flag", "Value"} <= names
    assert "AFIBPCADEC" not in names  # stored and shown, read by no rule
    [pk] = practices_with_data(qof, 1, first=0)
    before = calculation_inputs.values_digests(achievement_ids=[pk], field_names=names)[pk]
    achievement = Achievement.objects.get(pk=pk)

    submit_values(achievement.provider, qof, values(0), list_size=9_000)  # a new submission, same values
    assert calculation_inputs.values_digests(achievement_ids=[pk], field_names=names)[pk] == before

    unread = values(0)
    unread["AF006"]["AFIBPCADEC"] = 4  # a field no rule reads: the same figures
    submit_values(achievement.provider, qof, unread, list_size=9_000)
    assert calculation_inputs.values_digests(achievement_ids=[pk], field_names=names)[pk] == before

    changed = values(0)
    changed["AF006"]["Numerator"] = 151
    submit_values(achievement.provider, qof, changed, list_size=9_000)
    assert calculation_inputs.values_digests(achievement_ids=[pk], field_names=names)[pk] != before


@pytest.mark.django_db(transaction=True)
def test_a_tasks_batches_run_two_at_a_time_each_in_its_own_transaction(monkeypatch):
    """``recalculate_many`` with more than a batch: its batches are recalculated two at a time in
    threads of their own (each its own connection and transaction) and give what one at a time
    gives; a task with more than its span fans out."""
    from declarations import tasks

    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    monkeypatch.setattr(tasks, "BATCHES_A_TASK", 2)
    qof = qof_2425()
    ids = practices_with_data(qof, 7, first=0)
    threads: set[str] = set()
    recalculate = services.calculations_recalculate_isolating

    def spy(*, achievement_ids):
        import threading

        threads.add(threading.current_thread().name)
        return recalculate(achievement_ids=achievement_ids)

    monkeypatch.setattr(services, "calculations_recalculate_isolating", spy)

    assert services.calculations_recalculate_overlapping(batches=[ids[:2], ids[2:4]]) == 4
    assert {name.startswith("recalculation") for name in threads} == {True}  # not this thread
    tasks.recalculate_many.apply(args=[ids])  # 7 > 2 x 2: fans out (eager), the rest in batches

    calculations = Calculation.objects.filter(achievement_id__in=ids)
    assert calculations.count() == 7 and set(calculations.values_list("version", flat=True)) == {1}
    expected = {
        pk: services.calculations_recalculate(achievement_ids=[pk])[pk].total_amount for pk in ids
    }  # unchanged: the same figures, nothing written
    assert dict(calculations.values_list("achievement_id", "total_amount")) == expected


def test_inside_a_callers_transaction_the_batches_run_one_at_a_time():
    qof = qof_2425()
    ids = practices_with_data(qof, 4, first=0)
    assert services.calculations_recalculate_overlapping(batches=[ids[:2], ids[2:]]) == 4
    assert Calculation.objects.filter(achievement_id__in=ids).count() == 4
