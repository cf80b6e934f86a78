"""achievement.payments: what Data Submission asks of payments, answered by the declarations app's
gateway (registered in DeclarationsConfig.ready()), or by nobody."""

from __future__ import annotations

from decimal import Decimal

from achievement import payments
from achievement.models import Achievement
from declarations.payment_gateway import DeclarationsPaymentGateway
from tests.achievement.test_entry_rules import FEBRUARY, MARCH, achievement_on, payment_moved_through


def test_the_declarations_app_registers_its_gateway():
    assert isinstance(payments.gateway(), DeclarationsPaymentGateway)


def test_without_a_payments_app_nothing_is_declared_locked_calculated_or_recalculated(
    world, qof, monkeypatch, recalculation
):
    monkeypatch.setattr(payments, "_gateway", payments.NO_PAYMENTS)
    achievement = achievement_on(world["A81001"], qof, MARCH)
    payment_moved_through(achievement, "declare", "approve", "finance_approve")  # unseen without a gateway

    assert payments.payment_state(achievement) == payments.PaymentState(declared=False, financially_approved=False)
    assert payments.calculated_payment(achievement) is None
    payments.lock(achievement)
    payments.data_changed([achievement.pk])
    assert recalculation.calls == []


def test_the_state_follows_the_declaration_in_one_query_per_question(world, qof, django_assert_num_queries):
    march = achievement_on(world["A81001"], qof, MARCH)
    february = achievement_on(world["A81001"], qof, FEBRUARY)
    assert payments.payment_state(february) == payments.NOT_DECLARED  # nothing calculated yet

    payment_moved_through(march, "declare")
    with django_assert_num_queries(1):
        state = payments.payment_state(february)  # February's data feed March's payment
    assert state == payments.PaymentState(declared=True, financially_approved=False)

    payment_moved_through(march, "approve", "finance_approve")
    assert payments.is_financially_approved(february)


def test_a_data_change_marks_the_payment_stale_now_and_recalculates_after_commit(world, qof, recalculation):
    march = achievement_on(world["A81001"], qof, MARCH)
    payment_moved_through(march)
    version = Achievement.objects.get(pk=march.pk).data_version

    payments.data_changed([march.pk, march.pk])

    assert Achievement.objects.get(pk=march.pk).data_version == version + 1
    assert recalculation.calls == [[march.pk]]


def test_a_practices_network_contract_des_shows_its_pcns_calculated_payment(world, ncd):
    pcn_achievement = achievement_on(world["pcn"], ncd, MARCH)
    declaration = payment_moved_through(pcn_achievement)

    shown = payments.calculated_payment(achievement_on(world["A81001"], ncd, MARCH))

    assert shown == payments.CalculatedPayment(
        total_amount=declaration.calculation.total_amount, total_points=declaration.calculation.total_points
    )
    assert isinstance(shown.total_amount, Decimal)
