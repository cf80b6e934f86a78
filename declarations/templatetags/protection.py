"""Income protection on Achievement Results (issue 13): beside each income-protected indicator,
its points in the protecting year's year-end calculation and this year's achievement side by
side, or that there was no such calculation (so it is paid on this year's achievement).
``{% load protection %}``; three queries whatever the number of indicators."""

from __future__ import annotations

from django import template

from declarations.selectors import protected_points
from participation.models import Indicator

register = template.Library()


@register.simple_tag(takes_context=True)
def income_protection(context) -> dict[str, dict]:
    """{indicator code: {"from": the protecting service's code, "last_year": its points or None}}
    for the income-protected indicators of the page's achievement (``achievement``, or the
    ``declaration``'s); empty when its service protects none."""
    achievement = context.get("achievement")
    if achievement is None and context.get("declaration") is not None:
        achievement = context["declaration"].achievement
    service = getattr(achievement, "service", None)
    if service is None or not service.protected_from:
        return {}
    codes = list(Indicator.objects.filter(service=service, income_protected=True).values_list("code", flat=True))
    if not codes:
        return {}
    points = protected_points(provider_ids=[achievement.provider_id], service=service)
    return {
        code: {"from": service.protected_from, "last_year": points.get((achievement.provider_id, code))}
        for code in codes
    }


@register.filter
def protection_of(protection: dict, code: str) -> dict | None:
    return protection.get(code) if protection else None
