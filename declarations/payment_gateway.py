"""The payments side of ``achievement.payments``: what Data Submission asks of declarations.

Registered in ``DeclarationsConfig.ready()``.  Each answer calls the service, selector or task
that owns it here; this module only adapts them to the interface achievement owns.
"""

from __future__ import annotations

from collections.abc import Sequence

from accounts.models import OrganisationKind
from achievement.models import Achievement
from achievement.payments import CalculatedPayment, PaymentState
from participation.models import ProviderLevel

from . import selectors, services, tasks
from .models import DECLARED_STATUSES, Calculation, DeclarationStatus


class DeclarationsPaymentGateway:
    def payment_state(self, achievement: Achievement) -> PaymentState:
        status = selectors._payment_declaration_status(achievement_id=achievement.pk)
        return PaymentState(
            declared=status in DECLARED_STATUSES,
            financially_approved=status == DeclarationStatus.FINANCIALLY_APPROVED,
        )

    def lock(self, achievement: Achievement) -> None:
        selectors.achievement_payment_lock(achievement_id=achievement.pk)

    def data_changed(self, achievement_ids: Sequence[int]) -> None:
        ids = sorted(set(achievement_ids))
        if not ids:
            return
        services.calculations_mark_stale(achievement_ids=ids)
        # After the commit; a broker error then is logged, not raised (tasks.QueuedAfterCommit).
        tasks.recalculate_many.delay_on_commit(ids)

    def calculated_payment(self, achievement: Achievement) -> CalculatedPayment | None:
        """For a practice's Network Contract DES achievement, its PCN's payment (the payment
        is the PCN's)."""
        if (
            achievement.service.provider_level == ProviderLevel.PCN
            and achievement.provider.kind == OrganisationKind.PRACTICE
            and achievement.provider.pcn_id is not None
        ):
            calculations = Calculation.objects.filter(
                provider_id=achievement.provider.pcn_id, achievement_date_id=achievement.achievement_date_id
            )
        else:
            calculations = Calculation.objects.filter(achievement_id=achievement.pk)
        totals = calculations.values_list("total_amount", "total_points").first()
        if totals is None:
            return None
        return CalculatedPayment(total_amount=totals[0], total_points=totals[1])
