"""National figures derived from the year-end data (issue 13 §4; docs/adr/0021).

The practices taking part on an achievement date are those with a current submission of the
service for that date and a registered list size recorded on or before it.  From their data:

- national average list size = sum of their list sizes / number of practices;
- a prevalence-weighted group's national prevalence = sum of their registers (the group's register
  indicator's register field; absent counts as 0, as in the payment) / sum of their list sizes.

Both are kept as the sums (exact ratios, never rounded).  A fixed number of queries whatever the
number of practices: three.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce
from operator import or_

from django.db.models import OuterRef, Q, Subquery, Sum

from accounts.models import ListSize, OrganisationKind
from participation.definitions import DEFAULT_REGISTER_FIELD
from participation.models import AchievementDate, Indicator, IndicatorGroup, IndicatorKind

from .models import Achievement, IndicatorValue, Submission


@dataclass(frozen=True)
class DerivedFigures:
    """The sums the national figures are ratios of, from the practices' year-end data."""

    practices: int
    list_size_total: int
    registers: Mapping[int, int] = field(default_factory=dict)  # group id -> sum of the practices' registers

    @property
    def average_list_size(self) -> Fraction | None:
        return Fraction(self.list_size_total, self.practices) if self.practices else None

    def prevalence(self, group_id: int) -> Fraction | None:
        if not self.list_size_total:
            return None
        return Fraction(self.registers.get(group_id, 0), self.list_size_total)


def weighted_groups(*, service_id: int) -> list[IndicatorGroup]:
    """The service's prevalence-weighted groups (those with a national prevalence), in order."""
    return list(
        IndicatorGroup.objects.filter(service_id=service_id, national_prevalence__isnull=False).order_by(
            "domain__position", "position", "pk"
        )
    )


def _register_fields(*, service_id: int, group_ids: list[int]) -> dict[int, tuple[int, str]]:
    """indicator id -> (group id, the FIELD_NAME carrying the group's register)."""
    carriers = Indicator.objects.filter(service_id=service_id, group_id__in=group_ids).filter(
        Q(kind=IndicatorKind.REGISTER) | Q(kind=IndicatorKind.FRACTION) & ~Q(register_field="")
    )
    fields: dict[int, tuple[int, str]] = {}
    seen: set[int] = set()
    for pk, group_id, register_field in carriers.order_by("position", "pk").values_list("pk", "group_id", "register_field"):
        if group_id not in seen:  # one register indicator a group (the schema's rule)
            seen.add(group_id)
            fields[pk] = (group_id, register_field or DEFAULT_REGISTER_FIELD)
    return fields


def national_figures_derive(*, achievement_date: AchievementDate, group_ids: list[int] | None = None) -> DerivedFigures:
    """The sums of the practices taking part on this achievement date (see the module)."""
    date = achievement_date.date
    latest_size = Subquery(
        ListSize.objects.filter(organisation_id=OuterRef("provider_id"), date__lte=date)
        .order_by("-date")
        .values("size")[:1]
    )
    current = Submission.objects.filter(achievement=OuterRef("pk"), is_current=True).values("pk")[:1]
    taking_part = (
        Achievement.objects.filter(
            achievement_date=achievement_date, provider__kind=OrganisationKind.PRACTICE
        )
        .annotate(list_size=latest_size, submission_id=Subquery(current))
        .filter(list_size__isnull=False, submission_id__isnull=False)
    )
    # (current submission id, list size) of each practice taking part
    sizes = list(taking_part.values_list("submission_id", "list_size"))
    if group_ids is None:
        group_ids = [group.pk for group in weighted_groups(service_id=achievement_date.service_id)]
    registers = dict.fromkeys(group_ids, 0)
    fields = _register_fields(service_id=achievement_date.service_id, group_ids=group_ids)
    if sizes and fields:
        wanted = reduce(
            or_, (Q(indicator_id=pk, field_name=name) for pk, (_, name) in fields.items())
        )
        # the fact table's primary key (submission, indicator, field name) answers this directly
        totals = (
            IndicatorValue.objects.filter(
                wanted, submission_id__in=[pk for pk, _ in sizes], indicator_id__in=list(fields)
            )
            .values("indicator_id")
            .annotate(total=Sum("value"))
            .values_list("indicator_id", "total")
        )
        for indicator_id, total in totals:
            registers[fields[indicator_id][0]] = int(total or 0)
    return DerivedFigures(
        practices=len(sizes), list_size_total=sum(size for _, size in sizes), registers=registers
    )


@dataclass(frozen=True)
class FiguresChange:
    """A service and date whose national figures are set, which an extract's data now change."""

    service_id: int
    service_name: str
    achievement_date_id: int
    date: object  # datetime.date
    changed: tuple[str, ...]  # "List size" and the codes of the registers whose figure differs


def national_figures_changes(*, extract_id: int) -> list[FiguresChange]:
    """Once set, national figures do not change silently: for each service and date this extract
    loaded data for whose figures are set, the figures its data now give differently (an empty
    list when none).  A few queries a (service, date) the extract touched: one for a year-end
    extract."""
    from participation.national import national_figures_in_force

    pairs = (
        Submission.objects.filter(extract_id=extract_id)
        .values_list("achievement__service_id", "achievement__achievement_date_id")
        .distinct()
        .order_by()
    )
    changes = []
    for service_id, date_id in pairs:
        in_force = national_figures_in_force(service_id=service_id, achievement_date_id=date_id)
        if in_force is None:
            continue
        achievement_date = AchievementDate.objects.select_related("service").get(pk=date_id)
        groups = weighted_groups(service_id=service_id)
        derived = national_figures_derive(achievement_date=achievement_date, group_ids=[g.pk for g in groups])
        changed = []
        if (derived.practices, derived.list_size_total) != (in_force.practices, in_force.list_size_total):
            changed.append("List size")
        changed += [
            g.code
            for g in groups
            if (derived.registers.get(g.pk, 0), derived.list_size_total)
            != (in_force.registers.get(g.code), in_force.list_size_total)
        ]
        if changed:
            changes.append(
                FiguresChange(
                    service_id=service_id,
                    service_name=achievement_date.service.name,
                    achievement_date_id=date_id,
                    date=achievement_date.date,
                    changed=tuple(changed),
                )
            )
    return changes
