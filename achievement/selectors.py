"""Achievement reads: the contract the payment calculation (declarations) relies on.

Keep these names and signatures stable: ``current_values``, ``list_size_on``,
``tick_box_values``; plus the Extract Loads page's reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import ListSize
from participation.models import AchievementDate, Indicator

from .models import ExtractLoad, IndicatorValue, TickBoxValue


def current_values(*, achievement_ids: Iterable[int]) -> dict[int, dict[str, dict[str, int]]]:
    """The current submission's values: {achievement id: {indicator code: {field name: value}}}.

    One query.  An achievement without a current submission is absent from the result.
    """
    ids = list(achievement_ids)
    values: dict[int, dict[str, dict[str, int]]] = {}
    if not ids:
        return values
    rows = IndicatorValue.objects.filter(
        submission__achievement_id__in=ids, submission__is_current=True
    ).values_list("submission__achievement_id", "indicator__code", "field_name", "value")
    for achievement_id, code, field_name, value in rows.iterator(chunk_size=10_000):
        values.setdefault(achievement_id, {}).setdefault(code, {})[field_name] = value
    return values


def list_size_on(*, provider_id: int, date: dt.date) -> int | None:
    """The provider's registered list size: the latest one recorded on or before ``date``."""
    return (
        ListSize.objects.filter(organisation_id=provider_id, date__lte=date)
        .order_by("-date")
        .values_list("size", flat=True)
        .first()
    )


def tick_box_values(
    *, provider_id: int, achievement_date_id: int, indicator_ids: Iterable[int]
) -> dict[str, bool]:
    """Yes/No per tick-box indicator code on an achievement date.

    The value set for this date; else, for an indicator that carries forward, a Yes set on an
    earlier achievement date of the same service stands (unless a later date before this one
    has an explicit value, which then decides); else No (job aids: "defaults to No").
    """
    achievement_date = AchievementDate.objects.get(pk=achievement_date_id)
    indicators = {
        pk: (code, carry_forward)
        for pk, code, carry_forward in Indicator.objects.filter(pk__in=list(indicator_ids)).values_list(
            "pk", "code", "carry_forward"
        )
    }
    answers = {code: False for code, _ in indicators.values()}
    rows = (
        TickBoxValue.objects.filter(
            provider_id=provider_id,
            indicator_id__in=indicators,
            achievement_date__service_id=achievement_date.service_id,
            achievement_date__date__lte=achievement_date.date,
        )
        .order_by("indicator_id", "-achievement_date__date")
        .values_list("indicator_id", "achievement_date_id", "value")
    )
    decided: set[int] = set()
    for indicator_id, date_id, value in rows:
        if indicator_id in decided:
            continue
        decided.add(indicator_id)  # the latest explicit value on or before the date decides
        code, carry_forward = indicators[indicator_id]
        answers[code] = value if date_id == achievement_date_id else (value and carry_forward)
    return answers


def extract_load_list() -> QuerySet[ExtractLoad]:
    """The Extract Loads page (staff only): newest first."""
    return ExtractLoad.objects.select_related("created_by").defer("errors")
