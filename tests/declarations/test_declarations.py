"""The Declaration state machine (issue 6): declare, approve, finance-approve; every illegal
transition; the send-back on recalculation; the locks after finance approval; concurrent
approval; "No Declaration/Approval Required"; the tasks and emails of the job aids."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connections

from accounts.errors import NotAllowed, NotFound
from accounts.models import AuditEvent, Message, Role, User
from achievement import entry_rules
from achievement import services as achievement_services
from achievement.models import Achievement
from declarations import history, rules, selectors, services, workflow
from declarations.models import Calculation, Declaration, DeclarationTransition
from declarations.models import DeclarationStatus as S
from declarations.workflow import (
    DeclarationInvalid,
    DeclarationNotFound,
    DeclarationPermissionError,
    DeclarationStateError,
    task_key,
)
from participation.models import AchievementDate, Indicator
from tests.factories import member

from .conftest import VALUES, declaration_for, fresh
from .factories import submit_values

pytestmark = pytest.mark.django_db

CHANGED = {**VALUES, "VI001": {"Numerator": 112, "Denominator": 116}}


def declare(declaration, user, **kwargs):
    return services.declaration_declare(declaration_id=declaration.pk, user=user, **kwargs)


def approve(declarations, user):
    return services.declarations_approve(declaration_ids=[d.pk for d in declarations], user=user)


def finance_approve(declarations, user):
    return services.declarations_finance_approve(declaration_ids=[d.pk for d in declarations], user=user)


def transitions(declaration):
    return list(DeclarationTransition.objects.filter(declaration=declaration).order_by("at", "pk"))


def shown(record):
    """A record's note as a role that may see money reads it in the history (the stored note
    itself holds words only: the amounts are data)."""
    assert "£" not in record.note
    return history.transition_note(record, show_money=True)


def tasks(organisation, role, *, open_only=True):
    found = Message.objects.filter(organisation=organisation, role=role, is_task=True)
    return found.filter(closed_at__isnull=True) if open_only else found


# --- creation ------------------------------------------------------------------------------------


def test_a_new_declaration_is_a_task_for_the_provider_closed_when_it_declares(orgs, people, qof):
    declaration = declaration_for(orgs["practice"], qof)

    (task,) = tasks(orgs["practice"], Role.DECLARATION_MANAGEMENT)
    assert task.subject == f"Achievement to declare: {qof.name}"
    assert task.link.endswith(f"/{declaration.pk}/")
    declare(declaration, people["declarer"])
    assert not tasks(orgs["practice"], Role.DECLARATION_MANAGEMENT).exists()


def test_a_recalculation_before_declaring_is_written_in_the_history(orgs, qof):
    declaration = declaration_for(orgs["practice"], qof)
    before = declaration.calculation.total_amount
    declaration_for(orgs["practice"], qof, CHANGED)

    declaration = fresh(declaration)
    assert declaration.status == S.AWAITING_PROVIDER
    last = transitions(declaration)[-1]
    assert (last.from_status, last.to_status, last.by) == (S.AWAITING_PROVIDER, S.AWAITING_PROVIDER, None)
    assert last.amount == declaration.calculation.total_amount != before
    assert shown(last).startswith("Recalculated after the achievement data changed")
    assert f"was {workflow.money(before)}" in shown(last)
    assert last.previous_amount == before


def test_a_payment_whose_recalculation_is_queued_is_not_approved_on_the_old_figures(orgs, people, declaration):
    from achievement import hooks

    declare(declaration, people["declarer"])
    # The achievement data changes; its recalculation is queued for after the commit.
    hooks.achievements_changed([declaration.achievement_id])

    with pytest.raises(DeclarationStateError, match="being recalculated"):
        approve([declaration], people["approver"])
    assert fresh(declaration).status == S.AWAITING_COMMISSIONER

    services.calculation_recalculate(achievement_id=declaration.achievement_id)  # the queued task runs
    approve([declaration], people["approver"])
    assert fresh(declaration).status == S.AWAITING_FINANCE


def test_a_provider_cannot_declare_a_payment_whose_recalculation_is_queued(orgs, people, declaration):
    from achievement import hooks

    hooks.achievements_changed([declaration.achievement_id])
    with pytest.raises(DeclarationStateError, match="being recalculated"):
        declare(declaration, people["declarer"])
    services.calculation_recalculate(achievement_id=declaration.achievement_id)
    declare(declaration, people["declarer"])
    assert fresh(declaration).status == S.AWAITING_COMMISSIONER


def test_a_service_with_no_declaration_required_asks_the_provider_for_nothing(orgs, qof):
    qof.no_declaration_required = True
    qof.save()
    declaration_for(orgs["practice"], qof)
    assert not tasks(orgs["practice"], Role.DECLARATION_MANAGEMENT, open_only=False).exists()



def test_the_first_calculation_of_a_payment_date_creates_a_declaration_awaiting_service_provider_approval(
    orgs, qof
):
    declaration = declaration_for(orgs["practice"], qof)

    assert declaration.status == S.AWAITING_PROVIDER
    assert declaration.get_status_display() == "Awaiting Service Provider Approval"
    assert (declaration.provider, declaration.service) == (orgs["practice"], qof)
    assert declaration.calculation.achievement_id == declaration.achievement_id
    (created,) = transitions(declaration)
    assert (created.from_status, created.to_status, created.by) == ("", S.AWAITING_PROVIDER, None)
    assert created.amount == declaration.calculation.total_amount
    assert created.note == workflow.CREATED_NOTE


def test_a_monthly_achievement_date_has_no_declaration(orgs, qof):
    achievement = submit_values(orgs["practice"], qof, VALUES, date=dt.date(2025, 2, 28), list_size=12_000)
    services.calculation_recalculate(achievement_id=achievement.pk)

    assert Calculation.objects.filter(achievement=achievement).exists()
    assert not Declaration.objects.exists()


def test_recalculating_again_keeps_one_declaration(orgs, qof, declaration):
    declaration_for(orgs["practice"], qof, CHANGED)

    assert Declaration.objects.count() == 1


def test_the_status_labels_are_the_job_aids(orgs):
    assert [label for _, label in S.choices] == [
        "Awaiting Service Provider Approval",
        "Awaiting Commissioning Organisation Approval",
        "Awaiting Finance Approval",
        "Financially Approved",
    ]


# --- declare ---------------------------------------------------------------------------------------


def test_the_provider_declares_and_the_approvers_get_a_task_and_an_email(
    orgs, people, declaration, django_capture_on_commit_callbacks
):
    people["approver2"].email_notifications = False
    people["approver2"].save()

    with django_capture_on_commit_callbacks(execute=True):
        declared = declare(declaration, people["declarer"], note="All checked.")

    declared = fresh(declared)
    assert declared.status == S.AWAITING_COMMISSIONER
    assert declared.amount_declared == declaration.calculation.total_amount
    assert declared.declared_by == people["declarer"]
    last = transitions(declared)[-1]
    assert (last.from_status, last.to_status, last.by, last.note) == (
        S.AWAITING_PROVIDER, S.AWAITING_COMMISSIONER, people["declarer"], "All checked."
    )
    assert AuditEvent.objects.filter(action="declaration_declared", actor=people["declarer"]).exists()
    (task,) = tasks(orgs["icb"], Role.APPROVAL_MANAGEMENT)
    assert task.task_key == task_key(declared, "approve")
    assert "available for approval" in task.body
    # Emails follow the notification preferences of the Approval Management holders.
    recipients = {address for email in mail.outbox for address in email.to}
    assert people["approver"].email in recipients
    assert people["both"].email in recipients
    assert people["approver2"].email not in recipients
    assert people["finance"].email not in recipients


def test_a_user_without_declaration_management_cannot_declare(orgs, declaration):
    entry_only = member(orgs["practice"], Role.ACHIEVEMENT_ENTRY)

    with pytest.raises(DeclarationPermissionError, match="Declaration Management"):
        declare(declaration, entry_only)
    assert fresh(declaration).status == S.AWAITING_PROVIDER


def test_another_practice_cannot_declare_it_and_does_not_even_find_it(orgs, declaration):
    other = member(orgs["other_practice"], *Role)

    with pytest.raises(DeclarationNotFound):
        declare(declaration, other)


def test_the_commissioner_cannot_declare_for_the_provider(orgs, people, declaration):
    with pytest.raises(DeclarationPermissionError):
        declare(declaration, people["both"])


def test_declaring_twice_is_refused_with_the_reason(people, declaration):
    declare(declaration, people["declarer"])

    with pytest.raises(DeclarationStateError, match="already been declared"):
        declare(declaration, people["declarer"])
    assert len(transitions(declaration)) == 2


def test_the_status_cannot_be_set_directly():
    declaration = Declaration()
    with pytest.raises(AttributeError):
        declaration.status = S.FINANCIALLY_APPROVED


# --- approve -------------------------------------------------------------------------------------


def test_approval_management_approves_finance_gets_a_task_and_the_provider_hears(
    orgs, people, declaration, django_capture_on_commit_callbacks
):
    declare(declaration, people["declarer"])
    with django_capture_on_commit_callbacks(execute=True):
        approve([declaration], people["approver"])

    approved = fresh(declaration)
    assert approved.status == S.AWAITING_FINANCE
    assert approved.amount_approved == approved.amount_declared
    assert approved.approved_by == people["approver"]
    assert not tasks(orgs["icb"], Role.APPROVAL_MANAGEMENT).exists()  # the approval task is done
    (finance_task,) = tasks(orgs["icb"], Role.FINANCE_MANAGEMENT)
    assert "available for finance approval" in finance_task.body
    provider_message = Message.objects.get(organisation=orgs["practice"], role=Role.DECLARATION_MANAGEMENT, is_task=False)
    assert "has been approved" in provider_message.subject
    assert people["finance"].email in {a for e in mail.outbox for a in e.to}


def test_approving_before_the_provider_declares_is_refused(people, declaration):
    with pytest.raises(DeclarationStateError, match="Awaiting Service Provider Approval"):
        approve([declaration], people["approver"])


def test_finance_management_alone_cannot_approve(people, declaration):
    declare(declaration, people["declarer"])

    with pytest.raises(DeclarationPermissionError, match="Approval Management"):
        approve([declaration], people["finance"])


def test_an_approver_of_another_icb_does_not_find_the_declaration(orgs, people, declaration):
    declare(declaration, people["declarer"])
    elsewhere = member(orgs["other_icb"], *Role)

    with pytest.raises(DeclarationNotFound):
        approve([declaration], elsewhere)
    assert fresh(declaration).status == S.AWAITING_COMMISSIONER


def test_nobody_approves_an_organisation_they_do_not_commission_whatever_their_roles(orgs, people, declaration):
    declare(declaration, people["declarer"])
    # Approval Management at another ICB, and every provider role at the practice itself.
    many_hats = member(orgs["other_icb"], Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT)
    member(orgs["practice"], Role.VIEW, Role.FINANCE_VIEW, Role.ACHIEVEMENT_ENTRY, user=many_hats)

    with pytest.raises(DeclarationPermissionError, match="Commissioning Organisation of this Service Provider"):
        approve([declaration], many_hats)


def test_a_superuser_without_a_role_cannot_approve(people, declaration):
    declare(declaration, people["declarer"])
    superuser = User.objects.create_superuser("root@example.nhs.net", "a-long-password-123")

    with pytest.raises(NotFound):
        approve([declaration], superuser)


def test_the_person_who_declared_cannot_approve(orgs, declaration):
    declarer_and_approver = member(orgs["practice"], Role.DECLARATION_MANAGEMENT)
    member(orgs["icb"], Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT, user=declarer_and_approver)
    declare(declaration, declarer_and_approver)

    with pytest.raises(DeclarationPermissionError, match="You declared this achievement"):
        approve([declaration], declarer_and_approver)
    assert fresh(declaration).status == S.AWAITING_COMMISSIONER


def test_approving_twice_says_it_has_already_been_approved(people, declaration):
    declare(declaration, people["declarer"])
    approve([declaration], people["approver"])

    with pytest.raises(DeclarationStateError, match="This declaration has already been approved."):
        approve([declaration], people["approver2"])


def test_approving_nothing_asks_to_select(people):
    with pytest.raises(DeclarationInvalid, match="Select at least one"):
        services.declarations_approve(declaration_ids=[], user=people["approver"])


# --- finance approve ------------------------------------------------------------------------------


def test_finance_management_finance_approves_and_the_provider_hears(orgs, people, declaration):
    declare(declaration, people["declarer"])
    approve([declaration], people["approver"])

    finance_approve([declaration], people["finance"])

    final = fresh(declaration)
    assert final.status == S.FINANCIALLY_APPROVED
    assert final.amount_finance_approved == final.amount_approved == final.amount_declared
    assert final.calculation.is_provisional is False
    assert not tasks(orgs["icb"], Role.FINANCE_MANAGEMENT).exists()
    assert Message.objects.filter(
        organisation=orgs["practice"], subject__contains="has been financially approved"
    ).exists()
    assert [t.to_status for t in transitions(final)] == [
        S.AWAITING_PROVIDER, S.AWAITING_COMMISSIONER, S.AWAITING_FINANCE, S.FINANCIALLY_APPROVED
    ]


def test_approval_management_alone_cannot_finance_approve(people, declaration):
    declare(declaration, people["declarer"])
    approve([declaration], people["approver"])

    with pytest.raises(DeclarationPermissionError, match="Finance Management"):
        finance_approve([declaration], people["approver"])


def test_finance_approval_before_approval_is_refused(people, declaration):
    declare(declaration, people["declarer"])

    with pytest.raises(DeclarationStateError, match="must be approved before finance approval"):
        finance_approve([declaration], people["finance"])


def test_finance_approving_twice_is_refused(people, declaration):
    declare(declaration, people["declarer"])
    approve([declaration], people["approver"])
    finance_approve([declaration], people["finance"])

    with pytest.raises(DeclarationStateError, match="already been financially approved"):
        finance_approve([declaration], people["finance"])


def test_a_finance_user_of_another_icb_does_not_find_it(orgs, people, declaration):
    declare(declaration, people["declarer"])
    approve([declaration], people["approver"])

    with pytest.raises(DeclarationNotFound):
        finance_approve([declaration], member(orgs["other_icb"], Role.FINANCE_MANAGEMENT))


def test_a_user_with_both_roles_approves_and_another_finance_approves(people, declaration):
    """Issue 11 (maker-checker): the approver never finance-approves what they approved."""
    declare(declaration, people["declarer"])

    approve([declaration], people["both"])
    finance_approve([declaration], people["finance"])

    assert fresh(declaration).status == S.FINANCIALLY_APPROVED


# --- bulk -------------------------------------------------------------------------------------------


def test_bulk_approval_is_all_or_nothing(orgs, people, qof):
    first = declaration_for(orgs["practice"], qof)
    second = declaration_for(orgs["practice2"], qof)
    member(orgs["practice2"], Role.DECLARATION_MANAGEMENT, user=people["declarer"])
    declare(first, people["declarer"])  # the second is not declared
    before = DeclarationTransition.objects.count(), Message.objects.count(), AuditEvent.objects.count()

    with pytest.raises(DeclarationStateError, match="Woodbridge Practice"):
        approve([first, second], people["approver"])

    assert fresh(first).status == S.AWAITING_COMMISSIONER
    assert (DeclarationTransition.objects.count(), Message.objects.count(), AuditEvent.objects.count()) == before

    declare(second, people["declarer"])
    approve([first, second], people["approver"])
    assert {fresh(first).status, fresh(second).status} == {S.AWAITING_FINANCE}
    assert DeclarationTransition.objects.filter(to_status=S.AWAITING_FINANCE).count() == 2


def test_bulk_approval_with_another_organisations_row_finds_nothing_and_changes_nothing(orgs, people, qof):
    mine = declaration_for(orgs["practice"], qof)
    theirs = declaration_for(orgs["other_practice"], qof)
    declare(mine, people["declarer"])
    declare(theirs, member(orgs["other_practice"], Role.DECLARATION_MANAGEMENT))

    with pytest.raises(DeclarationNotFound):
        approve([mine, theirs], people["approver"])
    assert fresh(mine).status == S.AWAITING_COMMISSIONER


# --- recalculation sends it back -----------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["declared", "approved"])
def test_a_changed_amount_before_finance_approval_sends_it_back_saying_why(orgs, people, qof, declaration, stage):
    declare(declaration, people["declarer"])
    declared_amount = fresh(declaration).amount_declared
    if stage == "approved":
        approve([declaration], people["approver"])

    declaration_for(orgs["practice"], qof, CHANGED)

    back = fresh(declaration)
    assert back.status == S.AWAITING_PROVIDER
    assert back.amount_declared is None and back.amount_approved is None
    last = transitions(back)[-1]
    assert last.to_status == S.AWAITING_PROVIDER and last.by is None
    assert last.amount == back.calculation.total_amount != declared_amount
    assert "must be declared again" in shown(last) and "VI001" in shown(last)
    assert last.previous_amount == declared_amount
    message = Message.objects.get(organisation=orgs["practice"], subject__contains="must be declared again")
    assert message.is_task and message.role == Role.DECLARATION_MANAGEMENT
    assert "recalculated" in message.body and "VI001" in message.body
    assert not tasks(orgs["icb"], Role.APPROVAL_MANAGEMENT).exists()
    assert not tasks(orgs["icb"], Role.FINANCE_MANAGEMENT).exists()

    # Declared again, the provider's task is done.
    declare(back, people["declarer"])
    assert not tasks(orgs["practice"], Role.DECLARATION_MANAGEMENT).exists()


def test_a_recalculation_that_does_not_change_the_amount_leaves_the_declaration(orgs, people, qof, declaration):
    declare(declaration, people["declarer"])

    declaration_for(orgs["practice"], qof, {**VALUES, "VI900": {"Value": 43}})  # a count is never paid

    assert fresh(declaration).status == S.AWAITING_COMMISSIONER
    assert fresh(declaration).calculation.version == 2


# --- locks after finance approval --------------------------------------------------------------------


@pytest.fixture
def financially_approved(people, declaration):
    declare(declaration, people["declarer"])
    approve([declaration], people["approver"])
    finance_approve([declaration], people["finance"])
    return fresh(declaration)


def test_after_finance_approval_data_submission_is_read_only(orgs, financially_approved):
    achievement = Achievement.objects.get(pk=financially_approved.achievement_id)
    entry = member(orgs["practice"], Role.ACHIEVEMENT_ENTRY)

    assert selectors.achievement_financially_approved(achievement_id=achievement.pk)
    assert selectors.achievement_declared(achievement_id=achievement.pk)
    assert entry_rules.adjustment_blocked_reason(achievement=achievement) == entry_rules.FINANCIALLY_APPROVED
    assert (
        entry_rules.achievement_entry_blocked_reason(user=entry, achievement=achievement)
        == entry_rules.FINANCIALLY_APPROVED
    )


def test_after_finance_approval_recalculation_refuses_to_change_the_calculation(orgs, qof, financially_approved):
    calculation = financially_approved.calculation

    submit_values(orgs["practice"], qof, CHANGED, list_size=12_000)  # behind the rules' back
    services.calculation_recalculate(achievement_id=financially_approved.achievement_id)

    after = Calculation.objects.get(pk=calculation.pk)
    assert (after.version, after.total_amount, after.inputs_hash) == (
        calculation.version, calculation.total_amount, calculation.inputs_hash
    )
    assert fresh(financially_approved).status == S.FINANCIALLY_APPROVED


def test_the_selectors_say_nothing_is_declared_before_declaration(declaration):
    assert not selectors.achievement_declared(achievement_id=declaration.achievement_id)
    assert not selectors.achievement_financially_approved(achievement_id=declaration.achievement_id)


# --- tick-boxes (job aid points 6-9) ----------------------------------------------------------------------


def _pcn_declaration(orgs, ncd, people):
    """The PCN's 31/03/2022 declaration, made by the PCN lead's tick-box Yes (its first data)."""
    march = AchievementDate.objects.get(service=ncd, date=dt.date(2022, 3, 31))
    cov = Indicator.objects.get(service=ncd, code="COV-01")
    Achievement.objects.create(provider=orgs["pcn"], service=ncd, achievement_date=march)
    from accounts.models import ListSize

    ListSize.objects.create(organisation=orgs["pcn"], date=march.date, size=48_000)
    achievement_services.tick_box_set(
        user=people["pcn_lead"], provider_id=orgs["pcn"].pk, indicator_id=cov.pk, achievement_date_id=march.pk, value=True
    )
    services.calculations_recalculate(achievement_ids=Achievement.objects.filter(provider=orgs["pcn"]).values_list("pk", flat=True))
    return Declaration.objects.get(provider=orgs["pcn"]), cov, march


def _tick(user, orgs, cov, march, value):
    achievement_services.tick_box_set(
        user=user, provider_id=orgs["pcn"].pk, indicator_id=cov.pk, achievement_date_id=march.pk, value=value
    )
    services.calculations_recalculate(achievement_ids=Achievement.objects.filter(provider=orgs["pcn"]).values_list("pk", flat=True))


def test_the_pcn_lead_changes_the_tick_box_until_the_pcn_declares(orgs, people, ncd):
    declaration, cov, march = _pcn_declaration(orgs, ncd, people)
    assert declaration.calculation.total_points == 220

    _tick(people["pcn_lead"], orgs, cov, march, False)  # allowed: not declared yet
    _tick(people["pcn_lead"], orgs, cov, march, True)
    declare(declaration, people["pcn_lead"])

    with pytest.raises(NotAllowed, match="declared"):
        _tick(people["pcn_lead"], orgs, cov, march, False)


def test_the_commissioner_changes_it_after_declaration_which_sends_it_back(orgs, people, ncd):
    declaration, cov, march = _pcn_declaration(orgs, ncd, people)
    declare(declaration, people["pcn_lead"])

    _tick(people["approver"], orgs, cov, march, False)

    back = fresh(declaration)
    assert back.status == S.AWAITING_PROVIDER
    assert back.calculation.total_points == 0
    assert "COV-01" in shown(transitions(back)[-1])


def test_nobody_changes_the_tick_box_after_finance_approval(orgs, people, ncd):
    declaration, cov, march = _pcn_declaration(orgs, ncd, people)
    declare(declaration, people["pcn_lead"])
    approve([declaration], people["approver"])
    finance_approve([declaration], people["finance"])

    with pytest.raises(NotAllowed, match="financially approved"):
        _tick(people["approver"], orgs, cov, march, False)


# --- services that skip steps -------------------------------------------------------------------------------


def test_no_declaration_required_is_declared_by_the_system_and_recorded(orgs, people, qof):
    qof.no_declaration_required = True
    qof.save()

    declaration = declaration_for(orgs["practice"], qof)

    assert declaration.status == S.AWAITING_COMMISSIONER
    assert declaration.declared_by is None and declaration.amount_declared == declaration.calculation.total_amount
    last = transitions(declaration)[-1]
    assert (last.by, last.note) == (None, workflow.NO_DECLARATION_NOTE)
    assert tasks(orgs["icb"], Role.APPROVAL_MANAGEMENT).count() == 1
    # A later change of amount sends it back, and it is declared again by the system.
    declaration_for(orgs["practice"], qof, CHANGED)
    assert fresh(declaration).status == S.AWAITING_COMMISSIONER
    assert [t.to_status for t in transitions(declaration)][-2:] == [S.AWAITING_PROVIDER, S.AWAITING_COMMISSIONER]


def test_no_approval_required_goes_from_declared_to_finance_and_is_recorded(orgs, people, qof):
    qof.no_approval_required = True
    qof.save()
    declaration = declaration_for(orgs["practice"], qof)

    declare(declaration, people["declarer"])

    after = fresh(declaration)
    assert after.status == S.AWAITING_FINANCE
    assert after.amount_approved == after.amount_declared and after.approved_by is None
    assert transitions(after)[-1].note == workflow.NO_APPROVAL_NOTE
    assert not tasks(orgs["icb"], Role.APPROVAL_MANAGEMENT).exists()
    assert tasks(orgs["icb"], Role.FINANCE_MANAGEMENT).count() == 1


def test_a_service_needing_neither_waits_only_for_finance(orgs, people, qof):
    qof.no_declaration_required = qof.no_approval_required = True
    qof.save()

    declaration = declaration_for(orgs["practice"], qof)

    assert declaration.status == S.AWAITING_FINANCE
    assert [t.note for t in transitions(declaration)][1:] == [workflow.NO_DECLARATION_NOTE, workflow.NO_APPROVAL_NOTE]


# --- records ---------------------------------------------------------------------------------------------


def test_transition_records_are_immutable(declaration):
    (record,) = transitions(declaration)
    with pytest.raises(ValueError):
        record.save()
    with pytest.raises(ValueError):
        record.delete()


def test_the_rules_are_registered_with_django_rules(people, declaration):
    import rules as django_rules

    assert django_rules.has_perm("declarations.declare", people["declarer"], declaration)
    assert not django_rules.has_perm("declarations.approve", people["declarer"], declaration)
    assert rules.can_manage_declarations(people["finance"]) and not rules.can_manage_declarations(people["declarer"])


# --- the admin -------------------------------------------------------------------------------------------------


def test_the_admin_is_read_only_even_for_a_superuser(client, people, declaration):
    from django.urls import reverse

    declare(declaration, people["declarer"])
    superuser = User.objects.create_superuser("admin-root@example.nhs.net", "a-long-password-123")
    client.force_login(superuser)
    change_url = reverse("admin:declarations_declaration_change", args=[declaration.pk])

    assert client.get(reverse("admin:declarations_declaration_changelist")).status_code == 200
    assert client.get(change_url).status_code == 200  # view only
    response = client.post(change_url, {"status": S.FINANCIALLY_APPROVED})
    assert response.status_code == 403
    assert client.post(reverse("admin:declarations_declaration_add"), {}).status_code == 403
    assert fresh(declaration).status == S.AWAITING_COMMISSIONER


def test_the_admin_shows_a_calculations_indicator_results_read_only(client, declaration):
    from django.urls import reverse

    client.force_login(User.objects.create_superuser("admin-root@example.nhs.net", "a-long-password-123"))
    change_url = reverse("admin:declarations_calculation_change", args=[declaration.calculation.pk])
    page = client.get(change_url).content.decode()
    assert "Indicator results" in page
    for result in declaration.calculation.indicators.select_related("indicator"):
        assert f"<td>{result.indicator}</td>" in page and f"<td>{result.amount}</td>" in page
    assert client.post(change_url, {}).status_code == 403


# --- two approvers at once (PostgreSQL row locks) ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_make_one_transition_and_the_other_is_told(orgs, people, qof):
    if connections["default"].vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    declaration = declaration_for(orgs["practice"], qof)
    declare(declaration, people["declarer"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve_as(user):
        try:
            barrier.wait()
            approve([declaration], user)
            outcomes.append("approved")
        except DeclarationStateError as error:
            outcomes.append(error.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve_as, args=(people[name],)) for name in ("approver", "approver2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["This declaration has already been approved.", "approved"]
    assert DeclarationTransition.objects.filter(declaration=declaration, to_status=S.AWAITING_FINANCE).count() == 1
    assert fresh(declaration).status == S.AWAITING_FINANCE


# --- maker-checker: the approver does not finance-approve (issue 11) -------------------------------------


def test_the_person_who_approved_cannot_finance_approve_whatever_their_roles(orgs, people, declaration):
    approver = people["both"]  # Approval Management and Finance Management at the ICB
    member(orgs["icb"], Role.USER_ADMINISTRATOR, Role.COMMISSIONING_MANAGEMENT, user=approver)
    declare(declaration, people["declarer"])
    approve([declaration], approver)

    with pytest.raises(DeclarationPermissionError, match="You approved this declaration"):
        finance_approve([declaration], approver)
    assert fresh(declaration).status == S.AWAITING_FINANCE
    assert not AuditEvent.objects.filter(action="declaration_finance_approved").exists()

    finance_approve([declaration], people["finance"])
    assert fresh(declaration).status == S.FINANCIALLY_APPROVED


def test_bulk_finance_approval_with_a_row_the_user_approved_approves_none_and_says_which(
    client_for, orgs, people, qof
):
    first = declaration_for(orgs["practice"], qof)
    second = declaration_for(orgs["practice2"], qof)
    member(orgs["practice2"], Role.DECLARATION_MANAGEMENT, user=people["declarer"])
    for row in (first, second):
        declare(row, people["declarer"])
    approve([first], people["approver"])
    approve([second], people["both"])  # the row "both" approved
    before = DeclarationTransition.objects.count(), Message.objects.count(), AuditEvent.objects.count()

    with pytest.raises(DeclarationPermissionError, match="Woodbridge Practice.*You approved this declaration"):
        finance_approve([first, second], people["both"])
    assert {fresh(first).status, fresh(second).status} == {S.AWAITING_FINANCE}
    assert (DeclarationTransition.objects.count(), Message.objects.count(), AuditEvent.objects.count()) == before

    # Declaration Management's Approve: the same refusal, told on the page, and nothing approved.
    from django.urls import reverse

    client = client_for(people["both"])
    response = client.post(reverse("declarations:approve_declarations"), {"declarations": [first.pk, second.pk]})
    assert response.status_code == 302
    assert "You approved this declaration" in client.get(response["Location"]).content.decode()
    assert {fresh(first).status, fresh(second).status} == {S.AWAITING_FINANCE}

    finance_approve([first, second], people["finance"])
    assert {fresh(first).status, fresh(second).status} == {S.FINANCIALLY_APPROVED}
