"""Manual entry and adjustment (job aids "manual entry" and "manual adjustment"): who may enter
what, when adjustment is refused, and the Work in Progress / Submit entry_rules.  The builders at the
top are shared with test_record_achievement.py and test_tick_box.py."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.errors import NotAllowed, NotFound
from accounts.models import Role
from achievement import entry_rules, selectors, services
from achievement.models import (
    Achievement,
    IndicatorValue,
    Submission,
    SubmissionSource,
    SubmissionStatus,
)
from declarations import services as declarations_services
from declarations.models import Declaration
from participation.models import AchievementDate, EntryKind, Indicator
from tests.achievement import factories
from tests.factories import member

# --- builders ------------------------------------------------------------------------------


def submit_snapshot(achievement: Achievement, values: dict[tuple[str, str], int], *, source=SubmissionSource.EXTRACT, notes=""):
    """A Submitted snapshot (as an extract or aggregation makes it) that becomes current."""
    now = timezone.now()
    submission = Submission.objects.create(
        achievement=achievement, status=SubmissionStatus.SUBMITTED, source=source, submitted_at=now, notes=notes
    )
    codes = {code for code, _ in values}
    indicators = {i.code: i.pk for i in Indicator.objects.filter(service_id=achievement.service_id, code__in=codes)}
    IndicatorValue.objects.bulk_create(
        [IndicatorValue(submission=submission, indicator_id=indicators[c], field_name=f, value=v) for (c, f), v in values.items()]
    )
    Submission.objects.filter(achievement=achievement, is_current=True).update(is_current=False, superseded_by=submission)
    submission.is_current = True
    submission.save(update_fields=["is_current"])
    return submission


def achievement_on(provider, service, date) -> Achievement:
    achievement_date = AchievementDate.objects.get(service=service, date=date)
    achievement, _ = Achievement.objects.get_or_create(
        provider=provider, achievement_date=achievement_date, defaults={"service": service}
    )
    return achievement


def key(service, code: str, field_name: str) -> tuple[int, str]:
    return (Indicator.objects.get(service=service, code=code).pk, field_name)


def states_for(user, achievement) -> dict[tuple[str, str], entry_rules.FieldState]:
    achievement = Achievement.objects.select_related("provider__pcn", "service", "achievement_date").get(pk=achievement.pk)
    indicators = list(Indicator.objects.filter(service_id=achievement.service_id).order_by("position"))
    data = selectors.entry_data(achievement=achievement, indicators=indicators)
    fields, _, _ = entry_rules.entry_states(user=user, data=data)
    return {(s.indicator.code, s.field_name): s for s in fields}


def save(user, achievement, values: dict[tuple[int, str], int | None], *, submit: bool, notes: str = "") -> Submission:
    group_id = Indicator.objects.get(pk=next(iter(values))[0]).group_id
    return services.achievement_values_save(
        user=user, achievement_id=achievement.pk, group_id=group_id, values=values, notes=notes, submit=submit
    )


FEBRUARY, MARCH = "2024-02-29", "2024-03-31"


def payment_moved_through(achievement: Achievement, *steps: str) -> Declaration:
    """Calculate the payment of ``achievement`` (on a payment date) for real, and move its
    declaration through ``steps`` ("declare", "approve", "finance_approve") with the real use
    cases, each by a new user holding the role: the provider's Declaration Management, then its
    ICB's Approval Management and Finance Management."""
    if not IndicatorValue.objects.filter(submission__achievement=achievement).exists():
        some_data = {("QI013", "Yes/No Flag"): 1} if achievement.service.code == "QOF2324" else {("CAN-02", "Numerator"): 45, ("CAN-02", "Denominator"): 50}
        submit_snapshot(achievement, some_data)
    declarations_services.calculation_recalculate(achievement_id=achievement.pk)
    declaration = Declaration.objects.get(achievement_id=achievement.pk)
    provider, icb = achievement.provider, achievement.provider.commissioner
    act = {
        "declare": lambda: declarations_services.declaration_declare(
            declaration_id=declaration.pk, user=member(provider, Role.DECLARATION_MANAGEMENT)
        ),
        "approve": lambda: declarations_services.declarations_approve(
            declaration_ids=[declaration.pk], user=member(icb, Role.APPROVAL_MANAGEMENT)
        ),
        "finance_approve": lambda: declarations_services.declarations_finance_approve(
            declaration_ids=[declaration.pk], user=member(icb, Role.FINANCE_MANAGEMENT)
        ),
    }
    for step in steps:
        act[step]()
    return Declaration.objects.get(pk=declaration.pk)


@pytest.fixture(autouse=True)
def recorded_list_sizes(world):
    """The practices' list sizes: the values entered are checked against them
    (achievement/plausibility.py)."""
    factories.list_sizes(world)


@pytest.fixture
def practice(world):
    return world["A81001"]


@pytest.fixture
def entry_user(practice):
    return member(practice, Role.ACHIEVEMENT_ENTRY)


@pytest.fixture
def march(practice, qof):
    return achievement_on(practice, qof, MARCH)


@pytest.fixture
def february(practice, qof):
    return achievement_on(practice, qof, FEBRUARY)


# --- entry: which indicators take a New Value ---------------------------------------------


def test_a_value_supplied_by_the_gpes_extract_is_read_only(entry_user, march, qof):
    submit_snapshot(march, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50})

    states = states_for(entry_user, march)

    assert states[("AF006", "Numerator")].reason == entry_rules.SUPPLIED_BY_EXTRACT
    assert states[("AF006", "Denominator")].reason == entry_rules.SUPPLIED_BY_EXTRACT


def test_an_automatic_indicator_the_extract_did_not_supply_can_be_entered(entry_user, march, qof):
    submit_snapshot(march, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50})

    states = states_for(entry_user, march)

    assert states[("AF001", "Atrial Fibrillation Register")].editable
    assert states[("AF006", "AFIBPCADEC")].editable


def test_a_manual_indicator_can_be_entered_and_adjusted(entry_user, february, qof):
    Indicator.objects.filter(service=qof, code="QI013").update(entry=EntryKind.MANUAL)
    submit_snapshot(february, {("QI013", "Yes/No Flag"): 0}, source=SubmissionSource.MANUAL)

    state = states_for(entry_user, february)[("QI013", "Yes/No Flag")]

    assert state.editable and state.current == 0


def test_a_provider_without_automatic_extracts_enters_every_indicator(entry_user, practice, february, qof):
    practice.automatic_extracts = False
    practice.save()
    submit_snapshot(february, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50}, source=SubmissionSource.MANUAL)

    states = states_for(entry_user, february)

    assert all(state.editable for state in states.values())


def test_a_commissioning_organisation_entry_is_read_only(entry_user, march, qof):
    Indicator.objects.filter(service=qof, code="QI013").update(entry=EntryKind.COMMISSIONER)

    assert states_for(entry_user, march)[("QI013", "Yes/No Flag")].reason == entry_rules.COMMISSIONER_ENTRY


def test_data_set_as_a_commissioning_organisation_entry_cannot_be_adjusted(entry_user, practice, february, qof):
    practice.automatic_extracts = False
    practice.save()
    submit_snapshot(february, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50}, source=SubmissionSource.MANUAL)
    commissioner = member(practice.commissioner, Role.COMMISSIONING_MANAGEMENT)
    services.commissioner_values_save(
        user=commissioner, achievement_id=february.pk, group_id=Indicator.objects.get(service=qof, code="AF006").group_id,
        values={key(qof, "AF006", "Numerator"): 45}, submit=True,
    )

    states = states_for(entry_user, february)

    assert states[("AF006", "Numerator")].reason == entry_rules.COMMISSIONER_ENTRY
    assert states[("AF006", "Denominator")].editable  # the provider's own value: still adjustable
    assert states[("AF001", "Atrial Fibrillation Register")].editable  # no value yet: entry, not adjustment


def test_adjustment_is_refused_once_the_last_day_of_the_payment_period_is_submitted(entry_user, practice, february, march, qof):
    practice.automatic_extracts = False
    practice.save()
    submit_snapshot(february, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50}, source=SubmissionSource.MANUAL)
    assert states_for(entry_user, february)[("AF006", "Numerator")].editable

    submit_snapshot(march, {("AF006", "Numerator"): 45, ("AF006", "Denominator"): 50}, source=SubmissionSource.MANUAL)

    states = states_for(entry_user, february)
    assert states[("AF006", "Numerator")].reason == entry_rules.LAST_DAY_SUBMITTED.format(date="31/03/2024")
    assert states_for(entry_user, march)[("AF006", "Numerator")].reason == entry_rules.LAST_DAY_SUBMITTED.format(
        date="31/03/2024"
    )
    # A value never submitted can still be entered.
    assert states[("AF001", "Atrial Fibrillation Register")].editable


def test_work_in_progress_for_the_last_day_does_not_close_the_period(entry_user, practice, february, march, qof):
    practice.automatic_extracts = False
    practice.save()
    submit_snapshot(february, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50}, source=SubmissionSource.MANUAL)
    save(entry_user, march, {key(qof, "AF006", "Numerator"): 1, key(qof, "AF006", "Denominator"): 2}, submit=False)

    assert states_for(entry_user, february)[("AF006", "Numerator")].editable


def test_nothing_can_be_entered_once_the_payment_is_financially_approved(entry_user, practice, february, qof):
    practice.automatic_extracts = False
    practice.save()
    payment_moved_through(achievement_on(practice, qof, MARCH), "declare", "approve", "finance_approve")

    states = states_for(entry_user, february)

    assert {s.reason for s in states.values()} == {entry_rules.FINANCIALLY_APPROVED}
    with pytest.raises(services.AchievementEntryError, match="financially approved"):
        save(entry_user, february, {key(qof, "AF006", "Numerator"): 1}, submit=True)


def test_a_view_user_sees_every_value_read_only(practice, march, qof):
    viewer = member(practice, Role.VIEW)

    states = states_for(viewer, march)

    assert {s.reason for s in states.values()} == {entry_rules.VIEW_ONLY}
    with pytest.raises(services.AchievementEntryError, match="View access"):
        save(viewer, march, {key(qof, "AF001", "Atrial Fibrillation Register"): 3}, submit=True)


def test_the_network_contract_des_is_entered_by_the_pcn_not_by_its_practice(world, practice, ncd, entry_user):
    practice_achievement = achievement_on(practice, ncd, MARCH)
    pcn_user = member(world["pcn"], Role.ACHIEVEMENT_ENTRY)
    pcn_achievement = achievement_on(world["pcn"], ncd, MARCH)
    submit_snapshot(pcn_achievement, {("CAN-02", "Numerator"): 10}, source=SubmissionSource.AGGREGATION)

    assert {s.reason for s in states_for(entry_user, practice_achievement).values()} == {entry_rules.NCD_AT_PRACTICE}
    pcn_states = states_for(pcn_user, pcn_achievement)
    assert pcn_states[("CAN-02", "Numerator")].reason == entry_rules.SUPPLIED_BY_AGGREGATION
    assert pcn_states[("CAN-02", "Denominator")].editable


def test_a_read_only_field_posted_anyway_is_refused_and_nothing_is_saved(entry_user, march, qof):
    submit_snapshot(march, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50})

    with pytest.raises(NotAllowed):
        save(entry_user, march, {key(qof, "AF006", "Numerator"): 41}, submit=True)
    assert Submission.objects.filter(achievement=march).count() == 1


def test_another_organisations_user_cannot_write_by_id(world, march, qof):
    outsider = member(world["A81003"], Role.ACHIEVEMENT_ENTRY)

    with pytest.raises(NotFound):
        save(outsider, march, {key(qof, "AF001", "Atrial Fibrillation Register"): 3}, submit=True)
    with pytest.raises(NotFound):
        services.achievement_add(user=outsider, provider_id=march.provider_id, achievement_date_id=march.achievement_date_id)


# --- Work in Progress and Submit ------------------------------------------------------------


def test_save_work_in_progress_keeps_the_new_values_out_of_the_achievement(entry_user, march, qof, recalculation):
    register = key(qof, "AF001", "Atrial Fibrillation Register")

    wip = save(entry_user, march, {register: 12}, submit=False, notes="Waiting for the audit")

    assert wip.status == SubmissionStatus.WORK_IN_PROGRESS and not wip.is_current
    assert wip.notes == "Waiting for the audit"
    assert selectors.current_values(achievement_ids=[march.pk]) == {}
    assert recalculation.calls == []
    assert states_for(entry_user, march)[("AF001", "Atrial Fibrillation Register")].wip == 12


def test_saving_again_updates_the_one_work_in_progress(entry_user, march, qof):
    register = key(qof, "AF001", "Atrial Fibrillation Register")
    first = save(entry_user, march, {register: 12}, submit=False)

    second = save(entry_user, march, {register: 13}, submit=False)

    assert first.pk == second.pk
    assert Submission.objects.filter(achievement=march).count() == 1
    assert IndicatorValue.objects.get(submission=second).value == 13


def test_save_work_in_progress_is_refused_when_nothing_differs_from_the_last_submission(entry_user, march, qof):
    submit_snapshot(march, {("AF001", "Atrial Fibrillation Register"): 12}, source=SubmissionSource.MANUAL)
    Indicator.objects.filter(service=qof, code="AF001").update(entry=EntryKind.MANUAL)
    # (a manual value on the payment date is closed once submitted; use February, still open)
    february = achievement_on(march.provider, qof, FEBRUARY)
    submit_snapshot(february, {("AF001", "Atrial Fibrillation Register"): 12}, source=SubmissionSource.MANUAL)
    Submission.objects.filter(achievement=march).delete()

    with pytest.raises(services.AchievementEntryError) as refused:
        save(entry_user, february, {key(qof, "AF001", "Atrial Fibrillation Register"): 12}, submit=False)
    assert refused.value.message == services.NOTHING_DIFFERS_WIP
    with pytest.raises(services.AchievementEntryError) as refused:
        save(entry_user, february, {key(qof, "AF001", "Atrial Fibrillation Register"): 12}, submit=True)
    assert refused.value.message == services.NOTHING_DIFFERS_SUBMIT
    assert Submission.objects.filter(achievement=february).count() == 1


def test_nothing_entered_and_no_previous_submission_saves_nothing(entry_user, march, qof):
    with pytest.raises(services.AchievementEntryError) as refused:
        save(entry_user, march, {key(qof, "AF001", "Atrial Fibrillation Register"): None}, submit=True)

    assert refused.value.message == services.NOTHING_ENTERED
    assert not Submission.objects.filter(achievement=march).exists()


def test_submit_makes_a_new_snapshot_copying_unchanged_values_and_superseding_the_last(entry_user, march, qof, recalculation):
    extract = submit_snapshot(march, {("AF006", "Numerator"): 40, ("AF006", "Denominator"): 50})

    submitted = save(entry_user, march, {key(qof, "AF001", "Atrial Fibrillation Register"): 60}, submit=True, notes="Register from the audit")

    extract = Submission.objects.get(pk=extract.pk)
    assert submitted.status == SubmissionStatus.SUBMITTED and submitted.is_current
    assert submitted.source == SubmissionSource.MANUAL and submitted.notes == "Register from the audit"
    assert extract.superseded_by_id == submitted.pk and not extract.is_current
    assert selectors.current_values(achievement_ids=[march.pk])[march.pk] == {
        "AF006": {"Numerator": 40, "Denominator": 50},
        "AF001": {"Atrial Fibrillation Register": 60},
    }
    assert recalculation.achievement_ids == {march.pk}


def test_submit_turns_the_work_in_progress_into_the_submission(entry_user, march, qof):
    register = key(qof, "AF001", "Atrial Fibrillation Register")
    wip = save(entry_user, march, {register: 12}, submit=False, notes="First go")

    submitted = save(entry_user, march, {register: 14}, submit=True, notes="Checked")

    assert submitted.pk == wip.pk and submitted.status == SubmissionStatus.SUBMITTED
    assert submitted.notes == "Checked" and submitted.submitted_at is not None
    assert not Submission.objects.filter(achievement=march, status=SubmissionStatus.WORK_IN_PROGRESS).exists()


def test_a_numerator_above_its_denominator_is_refused(entry_user, march, qof):
    with pytest.raises(services.AchievementEntryError, match="must not be above"):
        save(entry_user, march, {key(qof, "AF006", "Numerator"): 51, key(qof, "AF006", "Denominator"): 50}, submit=True)
    assert not Submission.objects.filter(achievement=march).exists()


def test_negative_values_are_refused_by_the_service(entry_user, march, qof):
    with pytest.raises(services.AchievementEntryError, match="whole numbers"):
        save(entry_user, march, {key(qof, "AF001", "Atrial Fibrillation Register"): -1}, submit=True)


# --- Add New Achievement ------------------------------------------------------------------


def test_add_new_achievement_creates_it_once(entry_user, practice, qof):
    date = AchievementDate.objects.get(service=qof, date=FEBRUARY)

    first, created = services.achievement_add(user=entry_user, provider_id=practice.pk, achievement_date_id=date.pk)
    again, created_again = services.achievement_add(user=entry_user, provider_id=practice.pk, achievement_date_id=date.pk)

    assert created and not created_again and first.pk == again.pk


def test_a_practice_does_not_add_a_network_contract_des_achievement(entry_user, practice, ncd):
    date = AchievementDate.objects.get(service=ncd, date=MARCH)

    with pytest.raises(services.AchievementEntryError, match="paid to your PCN"):
        services.achievement_add(user=entry_user, provider_id=practice.pk, achievement_date_id=date.pk)


def test_a_pcn_adds_the_network_contract_des_achievement_its_practices_take_part_in(world, ncd):
    pcn_user = member(world["pcn"], Role.ACHIEVEMENT_ENTRY)
    date = AchievementDate.objects.get(service=ncd, date=MARCH)

    achievement, created = services.achievement_add(user=pcn_user, provider_id=world["pcn"].pk, achievement_date_id=date.pk)

    assert created and achievement.provider == world["pcn"]


def test_a_provider_that_does_not_take_part_cannot_add(world, qof):
    user = member(world["A81003"], Role.ACHIEVEMENT_ENTRY)  # no QOF offer
    date = AchievementDate.objects.get(service=qof, date=MARCH)

    with pytest.raises(services.AchievementEntryError, match="does not take part"):
        services.achievement_add(user=user, provider_id=world["A81003"].pk, achievement_date_id=date.pk)
