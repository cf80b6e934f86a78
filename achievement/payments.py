"""What Data Submission needs to know of payments: a small interface achievement owns.

The rules of Data Submission depend on the payment its data feed (nothing is entered once it is
financially approved; after the PCN declares only the commissioner changes a tick-box), and a
change of the data must reach the payment.  Payments are made by the declarations app, which
sits above achievement (``[tool.importlinter]`` in pyproject.toml): achievement may not import
it.  So achievement says here what it asks of payments (``PaymentGateway``), and declarations
implements it and registers it in ``DeclarationsConfig.ready()``.

With no gateway registered (achievement installed without declarations) the answers are those
of ``NoPayments``: nothing is declared or approved, there is nothing to lock, and a change of
data has nothing to recalculate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .models import Achievement


@dataclass(frozen=True)
class PaymentState:
    """The state of the payment an achievement's data feed, as Data Submission needs it."""

    declared: bool = False  # the provider's declaration stands (declared, not sent back)
    financially_approved: bool = False


NOT_DECLARED = PaymentState()


@dataclass(frozen=True)
class CalculatedPayment:
    """The calculated payment shown with an achievement."""

    total_amount: Decimal
    total_points: Decimal


class PaymentGateway(Protocol):
    def payment_state(self, achievement: Achievement) -> PaymentState:
        """The state of the payment this achievement's data feed (for a practice's Network
        Contract DES achievement: its PCN's payment), in one query."""
        ...

    def lock(self, achievement: Achievement) -> None:
        """Lock that payment (inside the caller's transaction) before a change of the data
        checks its state, so a declaration or approval in flight commits first."""
        ...

    def data_changed(self, achievement_ids: Sequence[int]) -> None:
        """The data of these achievements changed (in the current transaction): mark their
        payments as awaiting recalculation now, and recalculate them once it commits.  Never
        raises after the commit (the broker down): a payment left stale is recalculated by the
        payments app's periodic sweep."""
        ...

    def calculated_payment(self, achievement: Achievement) -> CalculatedPayment | None:
        """The payment calculated from this achievement's data, or None."""
        ...


class NoPayments:
    """The answers without a payments app: nothing declared, approved or calculated; nothing to
    lock or recalculate."""

    def payment_state(self, achievement: Achievement) -> PaymentState:
        return NOT_DECLARED

    def lock(self, achievement: Achievement) -> None:
        return None

    def data_changed(self, achievement_ids: Sequence[int]) -> None:
        return None

    def calculated_payment(self, achievement: Achievement) -> CalculatedPayment | None:
        return None


NO_PAYMENTS = NoPayments()
_gateway: PaymentGateway = NO_PAYMENTS


def register(gateway: PaymentGateway) -> None:
    """Make ``gateway`` the one achievement asks (the payments app, in its AppConfig.ready())."""
    global _gateway
    _gateway = gateway


def gateway() -> PaymentGateway:
    """The registered gateway; ``NO_PAYMENTS`` when none is."""
    return _gateway


def payment_state(achievement: Achievement) -> PaymentState:
    return _gateway.payment_state(achievement)


def is_declared(achievement: Achievement) -> bool:
    return payment_state(achievement).declared


def is_financially_approved(achievement: Achievement) -> bool:
    return payment_state(achievement).financially_approved


def lock(achievement: Achievement) -> None:
    _gateway.lock(achievement)


def data_changed(achievement_ids: Sequence[int]) -> None:
    _gateway.data_changed(achievement_ids)


def calculated_payment(achievement: Achievement) -> CalculatedPayment | None:
    return _gateway.calculated_payment(achievement)
