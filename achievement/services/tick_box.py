"""Tick-box indicators: Yes or No for a provider and achievement date, set by the PCN user or
the Commissioning Organisation (tick-box job aid), each change recorded and recalculated."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import Organisation
from accounts.services import audit_record
from achievement import entry_rules, hooks, payments, rules, selectors
from achievement.errors import AchievementEntryError, AchievementNotAllowed, AchievementNotFound
from achievement.models import Achievement, TickBoxChange, TickBoxValue
from participation.models import AchievementDate, Indicator


@transaction.atomic
def tick_box_set(
    *, user, provider_id: int, indicator_id: int, achievement_date_id: int, value: bool
) -> TickBoxValue | None:
    """Set a tick-box indicator to Yes or No for a provider and achievement date.

    Rules (tick-box job aid): the PCN user changes it until the PCN declares, the Commissioning
    Organisation until the payment is financially approved, the practice never
    (``entry_rules.tick_box_blocked_reason``); a provider the user cannot see is not found (404).  A
    value that changes nothing (the answer already shown, set or carried forward) is refused.
    Each change is recorded (``TickBoxChange``: who, when, the answer shown before, the new one)
    and recalculates the provider's achievements of the service on this date and the later
    ones, which a Yes carries forward to.  Concurrent changes are serialised by a row lock.
    """
    provider = Organisation.objects.filter(pk=provider_id).first()
    if provider is None or not (
        rules.can_read(user, provider)
        or permissions.can_act_as_commissioner(user, provider, rules.COMMISSIONER_TICK_BOX_ROLES)
    ):
        raise AchievementNotFound("No such provider")
    indicator = Indicator.objects.filter(pk=indicator_id).first()
    achievement_date = AchievementDate.objects.filter(pk=achievement_date_id).first()
    if indicator is None or achievement_date is None or achievement_date.service_id != indicator.service_id:
        raise AchievementNotFound("No such tick-box indicator")
    # Serialise changes.  FOR NO KEY UPDATE: rows that only refer to the organisation (audit
    # events, messages: their deferred foreign-key checks take FOR KEY SHARE at commit) are not
    # blocked, so a finance approval in flight cannot deadlock with the declaration lock below.
    Organisation.objects.select_for_update(no_key=True).filter(pk=provider.pk).first()
    achievement = Achievement.objects.filter(provider=provider, achievement_date=achievement_date).first()
    if achievement is not None:
        payments.lock(achievement)  # "not declared / not approved" holds until this commits
    reason = entry_rules.tick_box_blocked_reason(user=user, provider=provider, indicator=indicator, achievement=achievement)
    if reason is not None:
        raise AchievementNotAllowed(reason)
    shown = selectors.tick_box_values(
        provider_id=provider.pk, achievement_date_id=achievement_date.pk, indicator_ids=[indicator.pk]
    )[indicator.code]
    if shown == value:
        raise AchievementEntryError(f"{indicator.code} is already {'Yes' if value else 'No'}: nothing has changed.")
    now = timezone.now()
    tick_box, _ = TickBoxValue.objects.update_or_create(
        provider=provider,
        indicator=indicator,
        achievement_date=achievement_date,
        defaults={"value": value, "set_by": user, "set_at": now},
    )
    TickBoxChange.objects.create(tick_box=tick_box, old_value=shown, new_value=value, by=user, at=now)
    audit_record(
        actor=user,
        action="tick_box_changed",
        organisation=provider,
        obj=tick_box,
        detail={"indicator": indicator.code, "date": f"{achievement_date.date:%Y-%m-%d}", "old": shown, "new": value},
    )
    hooks.achievements_changed(
        Achievement.objects.filter(
            provider=provider, service_id=indicator.service_id, achievement_date__date__gte=achievement_date.date
        ).values_list("pk", flat=True)
    )
    return tick_box
