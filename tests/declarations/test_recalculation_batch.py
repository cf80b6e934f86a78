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
from achievement.models import Achievement, IndicatorValue
from declarations import calculation, services
from declarations.models import Calculation, Declaration
from participation.models import AchievementDate
from tests.factories import PCNFactory, PracticeFactory

from .factories import ncd_2122, qof_2425, set_tick_box, submit_values

pytestmark = pytest.mark.django_db

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|COPY)", re.IGNORECASE)


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
    copies = [sql.split(" (")[0] for sql in new_many if sql.startswith("COPY ")]
    assert copies == [  # each table's rows in one COPY (accounts.bulk.copy_in), logged as any statement
        'COPY "declarations_indicatorcalculation"', 'COPY "declarations_calculation"',
        'COPY "declarations_declaration"', 'COPY "declarations_declarationtransition"', 'COPY "accounts_message"',
    ]
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


def test_the_values_read_are_those_stored_by_field_name():
    """``current_values``: each current value keyed by indicator and field name (PostgreSQL sends
    each achievement's keys and values as two arrays)."""
    qof = qof_2425()
    names = calculation.service_rules(qof).plan.field_names
    [pk] = practices_with_data(qof, 1, first=30)
    stored = {
        (indicator_id, field): value
        for indicator_id, field, value in IndicatorValue.objects.filter(
            submission__achievement_id=pk, submission__is_current=True, field_name__in=names
        ).values_list("indicator_id", "field_name", "value")
    }
    keys = calculation_inputs.FieldKeys.of(names)
    values = calculation_inputs.current_values(achievement_ids=[pk, pk + 10_000], keys=keys)
    assert set(values) == {pk}
    assert {(i, f): v for i, named in keys.nested(values[pk]).items() for f, v in named.items()} == stored
    assert all(values[pk][keys.key(i, f)] == v for (i, f), v in stored.items())
    assert stored and any(f == "Numerator" for _, f in stored)


def test_a_remainder_of_less_than_half_a_batch_joins_the_last(monkeypatch):
    from declarations import tasks

    monkeypatch.setattr(tasks, "BATCH_SIZE", 4)
    assert tasks.batches_of(list(range(9))) == [[0, 1, 2, 3], [4, 5, 6, 7, 8]]
    assert tasks.batches_of(list(range(10))) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert tasks.batches_of(list(range(5))) == [[0, 1, 2, 3, 4]]  # one task: not fanned out
    assert tasks.batches_of(list(range(3))) == [[0, 1, 2]] and tasks.batches_of([]) == []


def test_a_task_of_more_than_a_batch_fans_out_a_task_a_batch(monkeypatch):
    """``recalculate_many`` with more than a batch: one task a batch (the worker's processes share
    them), each its own transaction; the figures are those of one at a time."""
    from declarations import tasks

    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    qof = qof_2425()
    ids = practices_with_data(qof, 7, first=0)
    batches: list[list[int]] = []
    recalculate = services.calculations_recalculate_isolating

    def spy(*, achievement_ids):
        batches.append(list(achievement_ids))
        return recalculate(achievement_ids=achievement_ids)

    monkeypatch.setattr(services, "calculations_recalculate_isolating", spy)
    tasks.recalculate_many.apply(args=[list(reversed(ids))])  # eager: the fanned-out tasks run here

    assert batches == [sorted(ids)[i : i + 2] for i in range(0, 7, 2)]
    calculations = Calculation.objects.filter(achievement_id__in=ids)
    assert calculations.count() == 7 and set(calculations.values_list("version", flat=True)) == {1}
    expected = {
        pk: services.calculations_recalculate(achievement_ids=[pk])[pk].total_amount for pk in ids
    }  # unchanged: the same figures, nothing written
    assert dict(calculations.values_list("achievement_id", "total_amount")) == expected


def test_the_keys_a_payment_copies_are_its_achievements():
    """Calculations and declarations copy their achievement's provider, service and date (their
    database checks are the achievement's: ADR 0017): a national batch, a PCN's payment too."""
    from django.db.models import F, Q

    qof = qof_2425()
    ids = practices_with_data(qof, 3, first=40)
    services.calculations_recalculate(achievement_ids=ids)
    ncd, pcn, date = ncd_2122(), PCNFactory(), dt.date(2022, 3, 31)
    set_tick_box(pcn, ncd, "COV-01", date, True)
    on = AchievementDate.objects.get(service=ncd, date=date)
    services.calculations_recalculate(
        achievement_ids=[Achievement.objects.create(provider=pcn, service=ncd, achievement_date=on).pk]
    )
    differs = (
        ~Q(provider_id=F("achievement__provider_id"))
        | ~Q(service_id=F("achievement__service_id"))
        | ~Q(achievement_date_id=F("achievement__achievement_date_id"))
    )
    assert Calculation.objects.count() == Declaration.objects.count() == 4
    assert not Calculation.objects.filter(differs).exists()
    assert not Declaration.objects.filter(differs).exists()


def test_the_digest_read_with_the_values_is_the_digest_read_alone():
    """An achievement never calculated has its values and their digest read at once; later its
    digest alone decides whether it changed: the two must agree."""
    qof = qof_2425()
    names = calculation.service_rules(qof).plan.field_names
    ids = practices_with_data(qof, 2, first=60)
    keys = calculation_inputs.FieldKeys.of(names)
    values, digests = calculation_inputs.values_and_digests(achievement_ids=ids, keys=keys)
    assert digests == calculation_inputs.values_digests(achievement_ids=ids, field_names=names)
    assert values == calculation_inputs.current_values(achievement_ids=ids, keys=keys) and set(values) == set(ids)
