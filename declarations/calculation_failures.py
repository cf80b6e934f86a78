"""Recalculations that failed: recorded, shown on the declaration, and the reason for refusing
to declare or approve until the data are corrected.

A recalculation fails for one achievement when its stored data cannot be calculated (the engine
refuses them) or give figures no payment can be (beyond what the stored amounts hold).  The
failure is recorded with the data version it failed on; the last good calculation stands.  Who
can correct the data follows the job aid "manual adjustment": the Service Provider while its
adjustment rule allows, else the Commissioning Organisation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.utils import timezone

from achievement import entry_rules
from achievement.models import Achievement

from .models import CalculationFailure

logger = logging.getLogger(__name__)

UNEXPECTED = "The payment could not be recalculated because of an error in CQRS. The service desk has been told."
PROVIDER_CORRECTS = "The Service Provider can correct the achievement data in Data Submission."
COMMISSIONER_CORRECTS = (
    "Only the Commissioning Organisation can correct these data. "
    "The Service Provider can no longer adjust them: {reason}"
)
REFUSED = "This payment could not be recalculated from the current achievement data. {reason} {who}"


def failure_record(*, achievement: Achievement, reason: str, error: str = "") -> CalculationFailure:
    """Record (or replace) the failure of this achievement's recalculation on its current data
    version; logged for the operators."""
    logger.error(
        "Achievement %s not recalculated (data version %s): %s %s",
        achievement.pk,
        achievement.data_version,
        reason,
        error,
    )
    failure, _ = CalculationFailure.objects.update_or_create(
        achievement_id=achievement.pk,
        defaults={
            "data_version": achievement.data_version,
            "reason": reason,
            "error": error[:4000],
            "failed_at": timezone.now(),
        },
    )
    return failure


def failures_clear(*, achievement_ids: Iterable[int]) -> None:
    """These achievements were recalculated (or found unchanged): their failures no longer stand."""
    ids = list(achievement_ids)
    if ids:
        CalculationFailure.objects.filter(achievement_id__in=ids).delete()


def current_failure(achievement: Achievement) -> CalculationFailure | None:
    """The failure recorded for the achievement's current data, if its recalculation failed."""
    return CalculationFailure.objects.filter(
        achievement_id=achievement.pk, data_version=achievement.data_version
    ).first()


def who_corrects(achievement: Achievement) -> str:
    """Who can correct the data: the provider, unless the job aid's adjustment rule closes its
    entry (the last day of the payment period submitted, a Commissioning Organisation entry)."""
    reason = entry_rules.adjustment_blocked_reason(achievement=achievement)
    if reason is None:
        return PROVIDER_CORRECTS
    return COMMISSIONER_CORRECTS.format(reason=reason)


def refusal(achievement: Achievement) -> str | None:
    """Why a payment is not declared or approved while its recalculation failed on the current
    data (None: no failure recorded for them)."""
    failure = current_failure(achievement)
    if failure is None:
        return None
    return REFUSED.format(reason=failure.reason, who=who_corrects(achievement))
