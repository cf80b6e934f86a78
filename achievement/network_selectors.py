"""Data Submission > Network Achievement: a PCN's Network Contract DES achievement per indicator
with each member practice's contribution on the achievement date (docs/adr/0020).

Scoped: a PCN's own users (Achievement Entry, Declaration Management, View or Finance View at the
PCN) and the commissioner's (a commissioner role at the ICB that commissions the PCN).  Each read runs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from accounts import permissions
from accounts.models import Organisation, OrganisationKind
from accounts.pcn_membership import membership_table
from participation.definitions import TICK_BOX_KINDS
from participation.models import EntryKind, ProviderLevel

from .errors import AchievementNotFound
from .models import Achievement
from .rules import NETWORK_COMMISSIONER_ROLES, NETWORK_PROVIDER_ROLES
from .selectors import current_values


def network_pcns(*, user) -> QuerySet[Organisation]:
    """The PCNs the user works for (a provider role at the PCN) or commissions (a commissioner
    role at its ICB)."""
    own = permissions.organisation_ids_with_role(user, NETWORK_PROVIDER_ROLES)
    commissioning = permissions.organisation_ids_with_role(user, NETWORK_COMMISSIONER_ROLES)
    if not own and not commissioning:
        return Organisation.objects.none()
    return Organisation.objects.filter(Q(pk__in=own) | Q(commissioner_id__in=commissioning), kind=OrganisationKind.PCN)


def network_achievement_list(*, user) -> QuerySet[Achievement]:
    """The Network Contract DES (PCN-level) achievements of the user's PCNs, newest date first."""
    return (
        Achievement.objects.filter(
            provider__in=network_pcns(user=user), service__provider_level=ProviderLevel.PCN
        )
        .select_related("provider", "service", "achievement_date")
        .order_by("-achievement_date__date", "provider__name", "service__name", "pk")
    )


def network_achievement_get(*, user, achievement_id: int) -> Achievement:
    """One of them, or ``AchievementNotFound``."""
    achievement = (
        network_achievement_list(user=user).select_related("service__financial_year").filter(pk=achievement_id).first()
    )
    if achievement is None:
        raise AchievementNotFound("No achievement found")
    return achievement


@dataclass
class Contribution:
    practice: Organisation
    start: object  # date or None (not recorded)
    end: object
    values: dict[str, dict[str, int]]  # indicator code -> field -> value; {} without data
    has_data: bool


@dataclass
class IndicatorRows:
    code: str
    name: str
    fields: list[str]
    pcn: dict[str, int | None]
    practices: list[tuple[Contribution, list[int | None]]] = field(default_factory=list)
    total: list[int | None] = field(default_factory=list)


@dataclass
class NetworkAchievement:
    achievement: Achievement
    members: list[Contribution]
    indicators: list[IndicatorRows]


def network_achievement_detail(*, achievement: Achievement) -> NetworkAchievement:
    """The PCN's current values per indicator and field, and each practice that was a member on
    the achievement date with its own current values for the same date (fixed queries: the
    memberships, the practices, their achievements, the values, the indicators)."""
    date = achievement.achievement_date.date
    pcn_id = achievement.provider_id
    table = membership_table(pcn_ids=[pcn_id])
    spans = {s.practice_id: s for s in table.by_pcn.get(pcn_id, ()) if s.covers(date)}
    practices = {p.pk: p for p in Organisation.objects.filter(pk__in=list(spans)).order_by("name")}
    practice_achievements = dict(
        Achievement.objects.filter(
            provider_id__in=list(spans), achievement_date_id=achievement.achievement_date_id
        ).values_list("provider_id", "pk")
    )
    values = current_values(achievement_ids=[achievement.pk, *practice_achievements.values()])
    members = [
        Contribution(
            practice=practice,
            start=spans[pk].start,
            end=spans[pk].end,
            values=values.get(practice_achievements.get(pk), {}),
            has_data=practice_achievements.get(pk) in values,
        )
        for pk, practice in practices.items()
    ]
    pcn_values = values.get(achievement.pk, {})
    indicators = []
    for indicator in achievement.service.indicators.order_by("position", "code"):
        if indicator.kind in TICK_BOX_KINDS or indicator.entry == EntryKind.PCN or not indicator.fields:
            continue  # the PCN's own (a tick-box, or entered by the PCN): no practice contributes
        rows = IndicatorRows(
            code=indicator.code,
            name=indicator.name,
            fields=list(indicator.fields),
            pcn={f: pcn_values.get(indicator.code, {}).get(f) for f in indicator.fields},
        )
        totals = [0] * len(rows.fields)
        for member in members:
            own = member.values.get(indicator.code, {})
            figures = [own.get(f) for f in rows.fields]
            rows.practices.append((member, figures))
            totals = [t + (v or 0) for t, v in zip(totals, figures, strict=True)]
        rows.total = totals
        indicators.append(rows)
    return NetworkAchievement(achievement=achievement, members=members, indicators=indicators)
