"""A stand-in for the achievement selectors the calculation reads, used only until the ingestion
work lands ``achievement.selectors`` (the contract in issue 4): the conftest installs these
functions where the real module lacks them, so the declarations tests run either way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from accounts.models import ListSize
from achievement.models import IndicatorValue, TickBoxValue
from participation.models import AchievementDate, Indicator


def current_values(*, achievement_ids: Iterable[int]) -> dict[int, dict[str, dict[str, int]]]:
    values: dict[int, dict[str, dict[str, int]]] = {}
    rows = IndicatorValue.objects.filter(
        submission__achievement_id__in=list(achievement_ids), submission__is_current=True
    ).values_list("submission__achievement_id", "indicator__code", "field_name", "value")
    for achievement_id, code, field_name, value in rows:
        values.setdefault(achievement_id, {}).setdefault(code, {})[field_name] = value
    return values


def list_size_on(*, provider_id: int, date: dt.date) -> int | None:
    row = ListSize.objects.filter(organisation_id=provider_id, date__lte=date).order_by("-date").first()
    return None if row is None else row.size


def tick_box_values(
    *, provider_id: int, achievement_date_id: int, indicator_ids: Iterable[int]
) -> dict[str, bool]:
    """Yes/No per indicator code: the value set for this date, else a carried-forward Yes, else No."""
    achievement_date = AchievementDate.objects.get(pk=achievement_date_id)
    answers: dict[str, bool] = {}
    for indicator in Indicator.objects.filter(pk__in=list(indicator_ids)):
        rows = TickBoxValue.objects.filter(
            provider_id=provider_id, indicator=indicator, achievement_date__date__lte=achievement_date.date
        ).order_by("-achievement_date__date")
        latest = rows.first()
        if latest is None:
            answers[indicator.code] = False
        elif latest.achievement_date_id == achievement_date_id:
            answers[indicator.code] = latest.value
        else:
            answers[indicator.code] = latest.value and indicator.carry_forward
    return answers
