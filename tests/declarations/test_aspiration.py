"""Aspiration payments (issue 13): the worked example to the penny, agreed points, approval in
bulk with maker-checker, the instalments paid by a date, a negative balance, and the commands."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.errors import Conflict, Invalid, NotAllowed, NotFound
from accounts.models import ListSize
from achievement.models import Achievement
from declarations.aspiration import schedule, selectors, services
from declarations.models import Aspiration, AspirationStatus, AspirationTransition, Calculation, Declaration
from participation.models import AchievementDate, OfferStatus
from tests.participation.factories import offer

from .conftest import declaration_for
from .factories import QOF_DATE, qof_2425

pytestmark = pytest.mark.django_db

PREVIOUS_DATE = dt.date(2024, 3, 31)


def qof_2324_with_payments(payments: dict) -> object:
    """QOF 2023/24 at £213.43 a point, with each provider's year-end payment ({provider: £})."""
    service = qof_2425("QOF2324")
    service.value_per_point = Decimal("213.43")
    service.save()
    AchievementDate.objects.filter(service=service).delete()
    year_end = AchievementDate.objects.create(service=service, date=PREVIOUS_DATE, is_payment_date=True)
    for provider, amount in payments.items():
        achievement = Achievement.objects.create(provider=provider, service=service, achievement_date=year_end)
        Calculation.objects.create(
            achievement=achievement, provider=provider, service=service, achievement_date=year_end,
            total_amount=Decimal(amount), list_size=12_000, inputs_hash="previous",
        )
    return service


@pytest.fixture
def world(orgs, qof):
    qof.aspiration_percent, qof.aspiration_from = Decimal(80), "QOF2324"
    qof.save()
    previous = qof_2324_with_payments({orgs["practice"]: "120345.67", orgs["practice2"]: "0.10"})
    for key in ("practice", "practice2", "other_practice"):
        offer(qof, orgs[key], OfferStatus.APPROVED)
    return {"qof": qof, "previous": previous, **orgs}


def prepare(world) -> dict[str, Aspiration]:
    rows = services.aspirations_prepare(service=world["qof"], commissioner=world["icb"])
    return {a.provider.ods_code: a for a in rows}


def test_the_worked_example_to_the_penny(world):
    """80% x £120,345.67 (2023/24) x £220.62 / £213.43 = £99,519.89: 11 x £8,293.32 and £8,293.37."""
    aspirations = prepare(world)
    assert set(aspirations) == {"A81001", "A81017"}  # the other ICB's practice is not this ICB's
    mine = aspirations["A81001"]
    assert (mine.total, mine.monthly, mine.last_month) == (
        Decimal("99519.89"), Decimal("8293.32"), Decimal("8293.37"),
    )
    assert sum(mine.instalments) == mine.total
    assert mine.previous_payment == Decimal("120345.67") and mine.status == AspirationStatus.AWAITING_APPROVAL
    tiny = aspirations["A81017"]  # 80% x 0.10 x uplift = 0.08: the last month carries it all
    assert (tiny.total, tiny.monthly, tiny.last_month) == (Decimal("0.08"), Decimal("0.00"), Decimal("0.08"))
    record = AspirationTransition.objects.get(aspiration=mine)
    assert (record.to_status, record.amount, record.by) == (AspirationStatus.AWAITING_APPROVAL, mine.total, None)


def test_preparing_again_refreshes_only_what_awaits_approval(world, people):
    aspirations = prepare(world)
    services.aspirations_approve(aspiration_ids=[aspirations["A81001"].pk], user=people["approver"])
    Calculation.objects.filter(service=world["previous"]).update(total_amount=Decimal("1000.00"))
    again = prepare(world)
    assert again["A81001"].total == Decimal("99519.89")  # approved: unchanged
    assert again["A81017"].total == pence_of(Decimal("1000.00"))
    assert AspirationTransition.objects.filter(aspiration__service=world["qof"]).count() == 3  # 2 created, 1 approval


def pence_of(previous: Decimal) -> Decimal:
    exact = Decimal("0.8") * previous * Decimal("220.62") / Decimal("213.43")
    return exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_a_provider_without_a_calculation_last_year_aspires_to_nothing(world):
    Calculation.objects.filter(provider=world["practice2"]).delete()
    assert prepare(world)["A81017"].total == Decimal("0.00")


def test_agreed_points_use_this_years_point_value_and_cpi(world, people):
    """80% x 500 points x £220.62 x (12,000 / 9,964) = £106,280.21."""
    ListSize.objects.create(organisation=world["practice"], date=QOF_DATE, size=12_000)
    aspiration = prepare(world)["A81001"]
    services.aspirations_approve(aspiration_ids=[aspiration.pk], user=people["approver"])
    services.aspiration_agree_points(aspiration_id=aspiration.pk, user=people["approver"], points=Decimal(500))
    agreed = Aspiration.objects.get(pk=aspiration.pk)
    assert (agreed.agreed_points, agreed.total) == (Decimal("500.00"), Decimal("106280.21"))
    assert agreed.status == AspirationStatus.AWAITING_APPROVAL and agreed.approved_by is None  # approve again
    assert sum(agreed.instalments) == agreed.total
    services.aspiration_agree_points(aspiration_id=aspiration.pk, user=people["approver"], points=None)
    cleared = Aspiration.objects.get(pk=aspiration.pk)
    assert (cleared.agreed_points, cleared.total) == (None, Decimal("99519.89"))


def test_agreeing_points_needs_a_list_size_and_the_commissioners_approver(world, people):
    aspiration = prepare(world)["A81001"]
    with pytest.raises(Invalid, match="No registered list size"):
        services.aspiration_agree_points(aspiration_id=aspiration.pk, user=people["approver"], points=Decimal(10))
    with pytest.raises(NotAllowed, match="can agree aspiration points"):  # the PCN sees its practice
        services.aspiration_agree_points(aspiration_id=aspiration.pk, user=people["pcn_lead"], points=None)
    with pytest.raises(NotAllowed):
        services.aspiration_agree_points(aspiration_id=aspiration.pk, user=people["finance"], points=None)


def test_bulk_approval_then_finance_approval_by_another_user(world, people):
    ids = [a.pk for a in prepare(world).values()]
    services.aspirations_approve(aspiration_ids=ids, user=people["both"])
    with pytest.raises(NotAllowed, match="another user must finance-approve"):
        services.aspirations_finance_approve(aspiration_ids=ids, user=people["both"])
    with pytest.raises(Conflict, match="already been approved"):
        services.aspirations_approve(aspiration_ids=ids, user=people["approver"])
    services.aspirations_finance_approve(aspiration_ids=ids, user=people["finance"])
    assert set(Aspiration.objects.values_list("status", flat=True)) == {AspirationStatus.APPROVED}
    records = AspirationTransition.objects.filter(aspiration_id__in=ids).exclude(from_status="")
    assert {(r.to_status, r.by_id) for r in records} == {
        (AspirationStatus.AWAITING_FINANCE, people["both"].pk),
        (AspirationStatus.APPROVED, people["finance"].pk),
    }
    with pytest.raises(Conflict, match="financially approved"):
        services.aspiration_agree_points(aspiration_id=ids[0], user=people["approver"], points=None)


def test_another_icbs_approver_cannot_approve(world, people, orgs):
    from accounts.models import Role
    from tests.factories import member

    outsider = member(orgs["other_icb"], Role.APPROVAL_MANAGEMENT, email="outsider@example.nhs.net")
    ids = [a.pk for a in prepare(world).values()]
    with pytest.raises(NotFound):
        services.aspirations_approve(aspiration_ids=ids, user=outsider)
    assert not Aspiration.objects.exclude(status=AspirationStatus.AWAITING_APPROVAL).exists()


def test_instalments_paid_by_a_date_and_all_twelve_at_the_year_end(world, people):
    aspiration = prepare(world)["A81001"]
    start = world["qof"].financial_year.start_date
    assert schedule.due_dates(start)[0] == dt.date(2024, 4, 30) and schedule.due_dates(start)[-1] == QOF_DATE
    provider_ids = [world["practice"].pk]
    assert selectors.aspiration_paid(provider_ids=provider_ids, service=world["qof"], on=QOF_DATE) == {}  # unapproved
    services.aspirations_approve(aspiration_ids=[aspiration.pk], user=people["approver"])
    services.aspirations_finance_approve(aspiration_ids=[aspiration.pk], user=people["finance"])
    paid = selectors.aspiration_paid(provider_ids=provider_ids, service=world["qof"], on=dt.date(2024, 6, 30))
    assert paid == {world["practice"].pk: Decimal("8293.32") * 3}
    paid = selectors.aspiration_paid(provider_ids=provider_ids, service=world["qof"], on=QOF_DATE)
    assert paid == {world["practice"].pk: Decimal("99519.89")}


def approve_all(world, people):
    ids = [a.pk for a in prepare(world).values()]
    services.aspirations_approve(aspiration_ids=ids, user=people["approver"])
    services.aspirations_finance_approve(aspiration_ids=ids, user=people["finance"])


def test_a_negative_balance_is_money_to_be_recovered(world, people):
    approve_all(world, people)
    declaration = declaration_for(world["practice"], world["qof"])
    balance = selectors.declaration_balances([declaration])[declaration.pk]
    assert balance.calculated == declaration.calculation.total_amount
    assert balance.aspiration_paid == Decimal("99519.89")
    assert balance.balance == balance.calculated - Decimal("99519.89") and balance.balance < 0
    assert balance.to_recover


def run(*args) -> tuple[list[list[str]], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return list(csv.reader(io.StringIO(out.getvalue()))), err.getvalue()


def test_the_aspiration_command_prints_and_approves_through_the_system_actor(world):
    rows, _ = run("aspiration", "--service", "QOF2425", "--commissioner", "qhm")
    assert rows == [
        ["QUALITY_SERVICE", "ORG_CODE", "ASPIRATION_TOTAL", "MONTHLY", "LAST_MONTH"],
        ["QOF2425", "A81001", "99519.89", "8293.32", "8293.37"],
        ["QOF2425", "A81017", "0.08", "0.00", "0.08"],
    ]
    assert not Aspiration.objects.filter(status=AspirationStatus.APPROVED).exists()
    run("aspiration", "--service", "QOF2425", "--commissioner", "QHM", "--approve")
    assert set(Aspiration.objects.values_list("status", flat=True)) == {AspirationStatus.APPROVED}
    records = AspirationTransition.objects.exclude(from_status="")
    assert records.count() == 4 and not records.exclude(by=None).exists()
    assert all("the aspiration command" in r.note for r in records)
    with pytest.raises(CommandError, match="No ICB"):
        run("aspiration", "--service", "QOF2425", "--commissioner", "QXX")
    with pytest.raises(CommandError, match="has no aspiration"):
        run("aspiration", "--service", "QOF2324", "--commissioner", "QHM")


def test_export_payments_summary_nets_off_the_aspiration_paid(world, people):
    approve_all(world, people)
    declaration = declaration_for(world["practice"], world["qof"])
    calculated = declaration.calculation.total_amount
    rows, _ = run("export_payments", "--service", "QOF2425", "--achievement-date", "2025-03-31", "--summary")
    assert rows == [
        ["QUALITY_SERVICE", "ORG_CODE", "ACH_DATE", "ACHIEVEMENT_PAYMENT", "ASPIRATION_PAID", "BALANCE"],
        ["QOF2425", "A81001", "20250331", f"{calculated:.2f}", "99519.89", f"{calculated - Decimal('99519.89'):.2f}"],
    ]
    february, _ = run("export_payments", "--service", "QOF2425", "--achievement-date", "2025-02-28", "--summary")
    assert february == [february[0]]  # no calculation on 28 February: no rows


def test_paid_by_date_for_many_rows_in_two_queries(world, people, django_assert_num_queries):
    approve_all(world, people)
    practice, practice2, qof = world["practice"], world["practice2"], world["qof"]
    with django_assert_num_queries(2):
        paid = selectors.PaidByDate(service_ids=[qof.pk, world["previous"].pk])
    with django_assert_num_queries(0):
        assert paid.paid(practice.pk, qof.pk, QOF_DATE) == Decimal("99519.89")
        assert paid.paid(practice.pk, qof.pk, dt.date(2024, 5, 31)) == Decimal("8293.32") * 2
        assert paid.paid(practice2.pk, qof.pk, QOF_DATE) == Decimal("0.08")
        assert paid.paid(world["other_practice"].pk, qof.pk, QOF_DATE) == Decimal("0.00")  # none approved
        assert paid.paid(practice.pk, world["previous"].pk, QOF_DATE) is None  # no aspiration there

    start = qof.financial_year.start_date
    with django_assert_num_queries(1):
        known = selectors.PaidByDate(starts={qof.pk: start})
    assert known.paid(practice.pk, qof.pk, QOF_DATE) == Decimal("99519.89")
    with django_assert_num_queries(0):
        assert selectors.PaidByDate(starts={}).paid(practice.pk, qof.pk, QOF_DATE) is None


def test_at_year_end_the_practice_declares_the_balance_and_an_unchanged_recalculation_keeps_it(world, people):
    """Declared: the calculated payment less the aspiration paid (here negative: to be recovered);
    recalculating the same data does not send it back; a changed calculation does, and the
    payment is declared again at the new balance."""
    from declarations import services as payments
    from declarations.models import DeclarationStatus

    from .factories import submit_values

    approve_all(world, people)
    declaration = declaration_for(world["practice"], world["qof"])
    calculated = declaration.calculation.total_amount

    declared = payments.declaration_declare(declaration_id=declaration.pk, user=people["declarer"])

    assert declared.amount_declared == calculated - Decimal("99519.89") < 0
    payments.calculation_recalculate(achievement_id=declaration.achievement_id)  # the same data
    assert Declaration.objects.get(pk=declaration.pk).status == DeclarationStatus.AWAITING_COMMISSIONER

    submit_values(world["practice"], world["qof"], {"VI001": {"Numerator": 116, "Denominator": 116}}, list_size=12_000)
    payments.calculation_recalculate(achievement_id=declaration.achievement_id)
    sent_back = Declaration.objects.get(pk=declaration.pk)
    assert sent_back.status == DeclarationStatus.AWAITING_PROVIDER
    again = payments.declaration_declare(declaration_id=declaration.pk, user=people["declarer"])
    assert again.amount_declared == Calculation.objects.get(pk=again.calculation_id).total_amount - Decimal("99519.89")
