"""Calculated payments (issue 4, section 3): stored achievement in, stored calculation out,
equal to an independent calculation written out by hand; idempotent and serialised."""

import datetime as dt
import threading
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection

from achievement.models import Achievement
from declarations import services, tasks
from declarations.engine import rule_from_definition
from declarations.models import Calculation, IndicatorCalculation
from participation.definitions import GroupDef, IndicatorDef
from participation.models import Indicator
from tests.factories import PCNFactory, PracticeFactory

from .factories import ncd_2122, qof_2425, set_tick_box, submit_values

pytestmark = pytest.mark.django_db

PENNY = Decimal("0.01")
CPI = Decimal(12_000) / Decimal(9_964)  # list 12,000 over the national average 9,964
AF_APDF = (Decimal(300) / Decimal(12_000)) / Decimal("0.0203")  # AF register 300: 2.5% against 2.03%

PRACTICE_VALUES = {
    "VI001": {"Numerator": 108, "Denominator": 116},
    "AF001": {"Atrial Fibrillation Register": 300},
    "AF006": {"Numerator": 150, "Denominator": 200, "AFIBPCADEC": 3},
    "QI013": {"Yes/No Flag": 1},
    "VI900": {"Value": 42},
}


def pounds(value: Decimal) -> Decimal:
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def results(calculation: Calculation) -> dict[str, IndicatorCalculation]:
    return {row.indicator.code: row for row in calculation.indicators.select_related("indicator")}


@pytest.fixture
def qof():
    return qof_2425()


@pytest.fixture
def practice():
    return PracticeFactory(ods_code="A81001")


def test_a_calculation_from_stored_values_equals_the_worked_examples(qof, practice):
    achievement = submit_values(practice, qof, PRACTICE_VALUES, list_size=12_000)

    calculation = services.calculation_recalculate(achievement_id=achievement.pk)

    rows = results(calculation)
    # VI001, the worked example of docs/payment-rules.md: 108 / 116 = 93.10%, 10.55 points, £2,803.14
    assert rows["VI001"].achievement_percent == Decimal("93.10")
    assert rows["VI001"].points == Decimal("10.55")
    assert rows["VI001"].amount == pounds(Decimal("10.55") * Decimal("220.62") * CPI) == Decimal("2803.14")
    assert rows["VI001"].patients_to_upper == 4
    assert rows["VI001"].amount_at_stake == Decimal("4782.61") - Decimal("2803.14")
    assert rows["VI001"].apdf == 1
    # AF: a prevalence group weighted by its register (AF001's register field), 75% -> 8.40 points
    assert rows["AF001"].points == Decimal("5.00")
    assert rows["AF001"].amount == pounds(5 * Decimal("220.62") * CPI * AF_APDF) == Decimal("1636.09")
    assert rows["AF006"].achievement_percent == Decimal("75.00")
    assert rows["AF006"].points == Decimal("8.40")
    assert (
        rows["AF006"].amount
        == pounds(Decimal("8.40") * Decimal("220.62") * CPI * AF_APDF)
        == Decimal("2748.63")
    )
    assert rows["AF006"].apdf == AF_APDF.quantize(Decimal("0.000000000001"))
    # QI013: Yes earns full points, not prevalence-weighted
    assert rows["QI013"].points == Decimal("37.00")
    assert rows["QI013"].amount == pounds(37 * Decimal("220.62") * CPI) == Decimal("9830.92")
    # a count indicator is stored with no points and no money
    assert rows["VI900"].points == 0 and rows["VI900"].amount == 0
    # totals are sums of the rounded indicator figures
    assert calculation.total_points == Decimal("10.55") + 5 + Decimal("8.40") + 37 == Decimal("60.95")
    assert (
        calculation.total_amount
        == Decimal("2803.14") + Decimal("1636.09") + Decimal("2748.63") + Decimal("9830.92")
        == Decimal("17018.78")
    )
    assert calculation.list_size == 12_000
    assert calculation.cpi == CPI.quantize(Decimal("0.000000000001"))
    assert calculation.is_provisional
    assert (calculation.provider, calculation.service) == (practice, qof)
    assert calculation.achievement_date.date == dt.date(2025, 3, 31)


def test_recalculating_the_same_data_twice_changes_nothing(qof, practice, django_assert_max_num_queries):
    achievement = submit_values(practice, qof, PRACTICE_VALUES, list_size=12_000)
    first = services.calculation_recalculate(achievement_id=achievement.pk)
    row_ids = set(first.indicators.values_list("pk", flat=True))

    with django_assert_max_num_queries(20) as captured:
        again = services.calculation_recalculate(achievement_id=achievement.pk)

    writes = [
        q["sql"] for q in captured.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == []
    again.refresh_from_db()
    assert again.pk == first.pk and again.version == 1
    assert again.calculated_at == first.calculated_at and again.inputs_hash == first.inputs_hash
    assert set(again.indicators.values_list("pk", flat=True)) == row_ids


def test_a_new_current_submission_changes_the_figures(qof, practice):
    achievement = submit_values(practice, qof, PRACTICE_VALUES, list_size=12_000)
    first = services.calculation_recalculate(achievement_id=achievement.pk)

    submit_values(practice, qof, {**PRACTICE_VALUES, "VI001": {"Numerator": 112, "Denominator": 116}})
    second = services.calculation_recalculate(achievement_id=achievement.pk)

    assert second.pk == first.pk and second.version == 2 and second.inputs_hash != first.inputs_hash
    vi001 = results(second)["VI001"]
    assert vi001.points == Decimal("18.00")
    assert vi001.amount == pounds(18 * Decimal("220.62") * CPI) == Decimal("4782.61")
    assert vi001.patients_to_upper == 0 and vi001.amount_at_stake == 0
    assert second.total_amount == Decimal("17018.78") - Decimal("2803.14") + Decimal("4782.61")
    assert IndicatorCalculation.objects.filter(calculation=second).count() == 5


def test_a_new_list_size_changes_the_figures(qof, practice):
    achievement = submit_values(practice, qof, PRACTICE_VALUES, list_size=12_000)
    services.calculation_recalculate(achievement_id=achievement.pk)

    submit_values(practice, qof, PRACTICE_VALUES, list_size=9_964)
    calculation = services.calculation_recalculate(achievement_id=achievement.pk)

    assert calculation.version == 2 and calculation.cpi == 1
    assert results(calculation)["VI001"].amount == pounds(Decimal("10.55") * Decimal("220.62"))


def test_prevalence_groups_use_the_group_register_for_every_indicator(qof, practice):
    values = {**PRACTICE_VALUES, "AF001": {"Atrial Fibrillation Register": 600}}
    achievement = submit_values(practice, qof, values, list_size=12_000)

    rows = results(services.calculation_recalculate(achievement_id=achievement.pk))

    doubled = AF_APDF * 2  # 600 on the register: 5% against 2.03%
    assert rows["AF006"].amount == pounds(Decimal("8.40") * Decimal("220.62") * CPI * doubled)
    assert rows["AF001"].amount == pounds(5 * Decimal("220.62") * CPI * doubled)
    assert rows["AF006"].apdf == rows["AF001"].apdf == doubled.quantize(Decimal("0.000000000001"))


def test_a_group_without_its_register_earns_no_money_but_shows_its_points(qof, practice):
    values = {code: fields for code, fields in PRACTICE_VALUES.items() if code != "AF001"}
    achievement = submit_values(practice, qof, values, list_size=12_000)

    rows = results(services.calculation_recalculate(achievement_id=achievement.pk))

    assert rows["AF006"].points == Decimal("8.40") and rows["AF006"].amount == 0
    assert rows["AF001"].points == 0


def test_no_list_size_means_no_money(qof, practice):
    achievement = submit_values(practice, qof, PRACTICE_VALUES)

    calculation = services.calculation_recalculate(achievement_id=achievement.pk)

    assert calculation.list_size is None and calculation.total_amount == 0
    assert calculation.total_points == Decimal("60.95")


def test_an_achievement_without_data_is_not_calculated(qof, practice):
    achievement = Achievement.objects.create(
        provider=practice, service=qof, achievement_date=qof.achievement_dates.get(is_payment_date=True)
    )

    assert services.calculation_recalculate(achievement_id=achievement.pk) is None
    assert not Calculation.objects.exists()


def test_the_rule_of_a_stored_indicator_is_the_rule_of_its_definition(qof):
    for indicator in Indicator.objects.filter(service=qof).select_related("group"):
        definition = IndicatorDef(
            code=indicator.code,
            name=indicator.name,
            kind=indicator.kind,
            points=indicator.points,
            lower=indicator.lower,
            upper=indicator.upper,
            rate=indicator.rate,
            national_prevalence=indicator.national_prevalence,
        )
        group = GroupDef(
            code=indicator.group.code,
            name=indicator.group.name,
            national_prevalence=indicator.group.national_prevalence,
        )
        assert rule_from_definition(indicator, indicator.group) == rule_from_definition(definition, group)


def test_recalculate_many_task_calculates_every_achievement_in_batches(qof, monkeypatch):
    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    achievements = [
        submit_values(PracticeFactory(), qof, PRACTICE_VALUES, list_size=12_000) for _ in range(5)
    ]

    tasks.recalculate_many.delay([a.pk for a in achievements])  # eager in the tests

    assert Calculation.objects.count() == 5
    assert set(Calculation.objects.values_list("total_amount", flat=True)) == {Decimal("17018.78")}


def test_corrupt_stored_data_skips_that_achievement_and_not_the_rest_of_the_batch(qof, caplog):
    good = submit_values(PracticeFactory(), qof, PRACTICE_VALUES, list_size=12_000)
    corrupt = submit_values(
        PracticeFactory(), qof, {"VI001": {"Numerator": 117, "Denominator": 116}}, list_size=12_000
    )

    calculations = services.calculations_recalculate(achievement_ids=[corrupt.pk, good.pk])

    assert set(calculations) == {good.pk}
    assert not Calculation.objects.filter(achievement=corrupt).exists()
    assert f"Achievement {corrupt.pk} not recalculated" in caplog.text


def test_recalculate_task_calculates_one_achievement(qof, practice):
    achievement = submit_values(practice, qof, PRACTICE_VALUES, list_size=12_000)

    tasks.recalculate_task.delay(achievement.pk)

    assert Calculation.objects.get(achievement=achievement).total_amount == Decimal("17018.78")


# ---------------------------------------------------------------------------------------------
# Tick-box and per-capita indicators (PCN level, Network Contract DES)
# ---------------------------------------------------------------------------------------------

FEB, MAR = dt.date(2022, 2, 28), dt.date(2022, 3, 31)


@pytest.fixture
def ncd():
    return ncd_2122()


@pytest.fixture
def pcn():
    return PCNFactory(ods_code="U89141")


def pcn_achievement(pcn, ncd, date, list_size=48_000):
    # the aggregation of the practices' values gives the PCN a submission of its own
    return submit_values(pcn, ncd, {}, date=date, list_size=list_size)


def test_a_tick_box_defaults_to_no(ncd, pcn):
    achievement = pcn_achievement(pcn, ncd, MAR)
    set_tick_box(pcn, ncd, "CAIP-1", MAR, True)  # some data, so there is a calculation

    rows = results(services.calculation_recalculate(achievement_id=achievement.pk))

    assert rows["COV-01"].points == 0 and rows["COV-01"].amount == 0


def test_a_tick_box_yes_earns_full_points_and_carries_forward(ncd, pcn):
    set_tick_box(pcn, ncd, "COV-01", FEB, True)
    set_tick_box(pcn, ncd, "CAIP-1", FEB, True)
    february = pcn_achievement(pcn, ncd, FEB)
    march = pcn_achievement(pcn, ncd, MAR, list_size=50_000)

    feb_rows = results(services.calculation_recalculate(achievement_id=february.pk))
    mar_rows = results(services.calculation_recalculate(achievement_id=march.pk))

    # COV-01: 220 points at £200, PCN list 48,000 against the national average 48,000
    assert feb_rows["COV-01"].points == Decimal("220.00")
    assert feb_rows["COV-01"].amount == Decimal("44000.00")
    # carried forward to 31 March, where the PCN's list is 50,000
    assert mar_rows["COV-01"].points == Decimal("220.00")
    assert mar_rows["COV-01"].amount == pounds(220 * Decimal(200) * Decimal(50_000) / Decimal(48_000))
    # per capita: £0.395 x the PCN's list, no points
    assert mar_rows["CAIP-1"].points == 0
    assert mar_rows["CAIP-1"].amount == pounds(Decimal("0.395") * 50_000) == Decimal("19750.00")


def test_a_tick_box_changed_to_no_before_the_next_date_stops_the_carry_forward(ncd, pcn):
    set_tick_box(pcn, ncd, "COV-01", FEB, True)
    set_tick_box(pcn, ncd, "CAIP-1", MAR, True)
    march = pcn_achievement(pcn, ncd, MAR)
    assert results(services.calculation_recalculate(achievement_id=march.pk))["COV-01"].points == 220

    set_tick_box(pcn, ncd, "COV-01", MAR, False)
    calculation = services.calculation_recalculate(achievement_id=march.pk)

    assert calculation.version == 2
    assert results(calculation)["COV-01"].points == 0


def test_a_practice_achievement_of_a_pcn_service_recalculates_the_pcn(ncd, pcn):
    practice = PracticeFactory(pcn=pcn)
    set_tick_box(pcn, ncd, "COV-01", MAR, True)
    practice_achievement = submit_values(practice, ncd, {}, date=MAR, list_size=8_000)
    pcn_achievement_ = pcn_achievement(pcn, ncd, MAR)

    calculation = services.calculation_recalculate(achievement_id=practice_achievement.pk)

    assert calculation.achievement_id == pcn_achievement_.pk
    assert not Calculation.objects.filter(provider=practice).exists()


# ---------------------------------------------------------------------------------------------
# Concurrency: two recalculations of the same provider at once
# ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_recalculations_of_the_same_provider_are_serialised():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    qof = qof_2425()
    achievement = submit_values(PracticeFactory(), qof, PRACTICE_VALUES, list_size=12_000)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def recalculate():
        try:
            barrier.wait()
            services.calculation_recalculate(achievement_id=achievement.pk)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=recalculate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    calculation = Calculation.objects.get(achievement=achievement)
    assert calculation.version == 1
    assert calculation.indicators.count() == 5
    assert calculation.total_amount == Decimal("17018.78")
