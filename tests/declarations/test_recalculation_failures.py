"""A recalculation that fails for one achievement never leaves its declaration stuck (issue 11,
section 1): the failure is recorded with the data version it failed on, the other achievements
of the batch are calculated, the last good figures stand, and the declaration page and the
refusal to declare or approve say why and who can correct the data.  And the periodic sweep
(section 5) recalculates every payment older than its data, but not a failure again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from achievement import entry_rules
from achievement.models import Achievement
from declarations import calculation_failures, services, tasks
from declarations.models import Calculation, CalculationFailure, IndicatorCalculation
from declarations.models import DeclarationStatus as S
from declarations.workflow import DeclarationStateError

from .conftest import VALUES, fresh
from .factories import submit_values

pytestmark = pytest.mark.django_db

# An Atrial Fibrillation register of a billion patients in a practice of 12,000 (as an extract
# could load it, bypassing the forms): the prevalence factor makes AF006 earn more than any
# stored amount can hold.  On PostgreSQL the write raised "numeric field overflow".
HUGE = {**VALUES, "AF001": {"Atrial Fibrillation Register": 1_000_000_000}}
CORRECTED = {**VALUES, "AF001": {"Atrial Fibrillation Register": 320}}


def change_data(provider, service, values):
    """Store a new current submission as an extract would, and mark the payment stale."""
    achievement = submit_values(provider, service, values, list_size=12_000)
    services.calculations_mark_stale(achievement_ids=[achievement.pk])
    return Achievement.objects.get(pk=achievement.pk)


@pytest.fixture
def failed(orgs, qof, declaration):
    """The declaration's data made huge, and recalculated in one batch with another practice's."""
    other = submit_values(orgs["practice2"], qof, VALUES, list_size=12_000)
    broken = change_data(orgs["practice"], qof, HUGE)
    services.calculations_recalculate(achievement_ids=[broken.pk, other.pk])
    return {"declaration": fresh(declaration), "broken": broken, "other": other, "good": declaration.calculation}


def test_an_overflowing_value_records_a_failure_and_the_rest_of_the_batch_is_calculated(failed):
    assert Calculation.objects.get(achievement=failed["other"]).total_amount > 0
    calculation = Calculation.objects.get(achievement=failed["broken"])
    good = failed["good"]
    # The last good figures stand, indicator results included.
    assert (calculation.version, calculation.total_amount, calculation.data_version) == (
        good.version, good.total_amount, good.data_version
    )
    assert IndicatorCalculation.objects.filter(calculation=calculation).count() == 5
    failure = CalculationFailure.objects.get(achievement=failed["broken"])
    assert failure.data_version == failed["broken"].data_version > calculation.data_version
    assert "AF006" in failure.reason and "beyond what any payment can be" in failure.reason
    assert "£" not in failure.reason
    assert not CalculationFailure.objects.filter(achievement=failed["other"]).exists()


def test_a_failure_beside_changed_payments_keeps_its_results_and_theirs_are_replaced(orgs, qof, declaration):
    """The indicator results are written as they are calculated, those they replace deleted first:
    a failure found meanwhile undoes that write and makes it again without the failed."""
    from .conftest import declaration_for

    other = declaration_for(orgs["practice2"], qof)
    before = {r.indicator_id: r.amount for r in IndicatorCalculation.objects.filter(calculation=other.calculation)}
    broken = change_data(orgs["practice"], qof, HUGE)
    changed = change_data(orgs["practice2"], qof, {**VALUES, "AF001": {"Atrial Fibrillation Register": 450}})
    new = submit_values(orgs["other_practice"], qof, VALUES, list_size=12_000)
    services.calculations_recalculate(achievement_ids=[broken.pk, changed.pk, new.pk])

    kept = Calculation.objects.get(achievement=broken)
    assert kept.version == declaration.calculation.version
    assert sorted(IndicatorCalculation.objects.filter(calculation=kept).values_list("amount", flat=True)) == sorted(
        IndicatorCalculation.objects.filter(calculation=declaration.calculation).values_list("amount", flat=True)
    )
    recalculated = Calculation.objects.get(achievement=changed)
    assert recalculated.pk == other.calculation.pk and recalculated.version == other.calculation.version + 1
    after = {r.indicator_id: r.amount for r in IndicatorCalculation.objects.filter(calculation=recalculated)}
    assert after.keys() == before.keys() and after != before  # replaced, not added to
    assert sum(after.values()) == recalculated.total_amount
    first = Calculation.objects.get(achievement=new)
    assert IndicatorCalculation.objects.filter(calculation=first).count() == 5
    assert sum(IndicatorCalculation.objects.filter(calculation=first).values_list("amount", flat=True)) == (
        first.total_amount
    )
    assert list(CalculationFailure.objects.values_list("achievement_id", flat=True)) == [broken.pk]


def test_the_recalculate_task_never_raises_for_a_failing_achievement(orgs, qof, declaration):
    broken = change_data(orgs["practice"], qof, HUGE)
    tasks.recalculate_many.delay([broken.pk])  # eager in the tests: raised DataError before
    assert CalculationFailure.objects.filter(achievement=broken).exists()


def test_data_the_engine_refuses_are_recorded_as_a_failure(orgs, qof, declaration):
    broken = change_data(orgs["practice"], qof, {**VALUES, "VI001": {"Numerator": 117, "Denominator": 116}})
    services.calculations_recalculate(achievement_ids=[broken.pk])
    assert CalculationFailure.objects.get(achievement=broken).reason.startswith(
        "The achievement data cannot be calculated"
    )


def test_declaring_a_failed_payment_is_refused_with_why_and_who_can_correct_it(failed, people):
    declaration = failed["declaration"]
    with pytest.raises(DeclarationStateError) as refused:
        services.declaration_declare(declaration_id=declaration.pk, user=people["declarer"])
    message = str(refused.value)
    assert "could not be recalculated" in message and "being recalculated" not in message
    assert "AF006" in message
    # The payment date's data are submitted: the adjustment rule closes the provider's entry.
    assert "Only the Commissioning Organisation can correct these data" in message
    assert fresh(declaration).status == S.AWAITING_PROVIDER


def test_approving_a_failed_payment_is_refused_with_the_failure(orgs, qof, people, declaration):
    services.declaration_declare(declaration_id=declaration.pk, user=people["declarer"])
    broken = change_data(orgs["practice"], qof, HUGE)
    services.calculations_recalculate(achievement_ids=[broken.pk])
    with pytest.raises(DeclarationStateError, match="could not be recalculated"):
        services.declarations_approve(declaration_ids=[declaration.pk], user=people["approver"])
    assert fresh(declaration).status == S.AWAITING_COMMISSIONER


def test_the_provider_corrects_data_its_entry_is_still_open_for(orgs, qof):
    february = submit_values(orgs["practice"], qof, VALUES, date=dt.date(2025, 2, 28), list_size=12_000)
    assert entry_rules.adjustment_blocked_reason(achievement=february) is None
    assert calculation_failures.who_corrects(february) == calculation_failures.PROVIDER_CORRECTS


def test_corrected_data_clear_the_failure_and_the_payment_can_be_declared(orgs, qof, people, failed):
    corrected = change_data(orgs["practice"], qof, CORRECTED)
    services.calculations_recalculate(achievement_ids=[corrected.pk])
    assert not CalculationFailure.objects.filter(achievement=corrected).exists()
    services.declaration_declare(declaration_id=failed["declaration"].pk, user=people["declarer"])
    assert fresh(failed["declaration"]).status == S.AWAITING_COMMISSIONER


@pytest.mark.parametrize("who", ["declarer", "approver"])
def test_the_declaration_page_tells_the_provider_and_the_commissioner_why(client_for, people, failed, who):
    declaration = failed["declaration"]
    page = client_for(people[who]).get(reverse("declarations:declaration_detail", args=[declaration.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="calculation-failure"' in text
    assert "This payment could not be recalculated" in text
    assert "AF006" in text and "Only the Commissioning Organisation can correct these data" in text
    assert "the last calculation" in text


def test_the_declaration_page_says_a_changed_payment_will_be_recalculated(client_for, orgs, qof, people, declaration):
    change_data(orgs["practice"], qof, CORRECTED)  # its recalculation is queued (or lost)
    text = client_for(people["declarer"]).get(
        reverse("declarations:declaration_detail", args=[declaration.pk])
    ).content.decode()
    assert 'data-testid="recalculation-pending"' in text and "will be recalculated shortly" in text
    assert 'data-testid="calculation-failure"' not in text


# --- the sweep (section 5) ------------------------------------------------------------------------


def test_the_sweep_recalculates_every_payment_older_than_its_data(orgs, qof, declaration):
    stale = change_data(orgs["practice"], qof, CORRECTED)  # its queued recalculation was lost
    never = submit_values(orgs["practice2"], qof, VALUES, list_size=12_000)
    services.calculations_mark_stale(achievement_ids=[never.pk])  # data, never calculated

    assert services.calculations_sweep() == 2

    for achievement in (stale, never):
        achievement.refresh_from_db()
        assert Calculation.objects.get(achievement=achievement).data_version == achievement.data_version
    assert services.calculations_sweep() == 0


def test_the_sweep_does_not_retry_a_failure_recorded_for_the_current_data(orgs, qof, failed):
    assert services.calculations_sweep() == 0
    assert CalculationFailure.objects.filter(achievement=failed["broken"]).exists()

    corrected = change_data(orgs["practice"], qof, CORRECTED)  # newer data: swept again
    assert services.calculations_sweep() == 1
    assert Calculation.objects.get(achievement=corrected).data_version == corrected.data_version


def test_the_sweep_task_runs_the_sweep(orgs, qof, declaration):
    stale = change_data(orgs["practice"], qof, CORRECTED)
    tasks.recalculation_sweep.delay()
    stale.refresh_from_db()
    assert Calculation.objects.get(achievement=stale).data_version == stale.data_version


def test_a_batch_that_fails_as_a_whole_is_recalculated_achievement_by_achievement(orgs, qof, monkeypatch):
    from declarations import workflow

    good = submit_values(orgs["practice2"], qof, VALUES, list_size=12_000)
    bad = submit_values(orgs["practice"], qof, VALUES, list_size=12_000)
    services.calculations_mark_stale(achievement_ids=[good.pk, bad.pk])
    real = workflow.declarations_after_recalculation

    def fails_for_bad(*, calculated, **kwargs):  # a fault outside one achievement's guards
        if any(achievement.pk == bad.pk for achievement, _ in calculated):
            raise RuntimeError("declarations could not be updated")
        return real(calculated=calculated, **kwargs)

    monkeypatch.setattr(workflow, "declarations_after_recalculation", fails_for_bad)

    tasks.recalculate_many.delay([bad.pk, good.pk])

    assert Calculation.objects.filter(achievement=good).exists()
    assert not Calculation.objects.filter(achievement=bad).exists()
    assert CalculationFailure.objects.get(achievement=bad).reason == calculation_failures.UNEXPECTED
