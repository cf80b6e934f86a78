"""National figures: what the National Administrator sees and sets (issue 13 §4; docs/adr/0021).

- ``national_figures_status``: the definition's figures, those derived from the year-end data now
  (with the number of practices), those in force, whether the data changed since they were set,
  and how far the recalculation of the payments has gone.
- ``national_figures_set``: set the derived figures (a new immutable ``NationalFigures`` row),
  audited, and recalculate every payment of the service and date through the workers.

It lives in declarations because setting the figures recalculates payments; the figures in force
are read from ``participation.national`` and derived by ``achievement.national``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import transaction
from django.db.models import F, Q

from accounts import permissions
from accounts.actors import is_system
from accounts.errors import Invalid, NotAllowed, NotFound
from accounts.inputs import id_or_none
from accounts.models import Organisation, OrganisationKind, Role
from accounts.services import audit_record
from achievement.models import Achievement
from achievement.national import DerivedFigures, national_figures_derive, weighted_groups
from participation.models import AchievementDate, NationalFigures, NationalRegister, QualityService
from participation.national import FiguresInForce, national_figures_in_force, uses_national_figures

from . import services, tasks
from .models import DeclarationStatus

AUDIT_ACTION = "national_figures_set"
NOT_PERMITTED = "Only a National Administrator can set the national figures."
NOT_USED = "{service} does not use national figures: its payments depend on no national prevalence."
NO_DATA = (
    "No practice's year-end data for {date} have been loaded yet (a current submission and a "
    "registered list size), so there is nothing to derive the national figures from."
)
UNCHANGED = "The national figures in force are those the year-end data give now: there is nothing to set."


def can_set(user) -> bool:
    return permissions.is_national_administrator(user)


def _percent(value: Fraction | Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{Decimal(value.numerator) / Decimal(value.denominator) * 100:.4f}%" if isinstance(
        value, Fraction
    ) else f"{value * 100:.4f}%"


def _list_size(value: Fraction | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, Fraction):
        return f"{Decimal(value.numerator) / Decimal(value.denominator):,.2f}"
    return f"{value:,}"


@dataclass(frozen=True)
class FigureRow:
    """One line of the comparison: the average list size, or one register's prevalence."""

    code: str
    name: str
    definition: str
    derived: str
    in_force: str  # "-" while none are set
    changed: bool  # the year-end data now give another figure than the one in force


@dataclass(frozen=True)
class NationalFiguresStatus:
    service: QualityService
    achievement_date: AchievementDate
    derived: DerivedFigures
    in_force: FiguresInForce | None
    rows: tuple[FigureRow, ...]
    recalculated: int  # payments of the service and date calculated on their current inputs
    to_recalculate: int  # payments of the service and date (not financially approved)

    @property
    def is_set(self) -> bool:
        return self.in_force is not None

    @property
    def changed_since_set(self) -> bool:
        """Set, and a later extract changed what the year-end data give: set them again."""
        return self.in_force is not None and any(row.changed for row in self.rows)

    @property
    def recalculating(self) -> bool:
        return self.recalculated < self.to_recalculate

    @property
    def percent_recalculated(self) -> int:
        return 100 if not self.to_recalculate else self.recalculated * 100 // self.to_recalculate


def _payments(*, service_id: int, achievement_date_id: int):
    """The achievements whose payment setting the figures recalculates: every calculated one of
    the service and date, except a financially approved payment (never recalculated)."""
    return Achievement.objects.filter(
        service_id=service_id, achievement_date_id=achievement_date_id, calculation__isnull=False
    ).exclude(declaration__status=DeclarationStatus.FINANCIALLY_APPROVED)


def national_figures_status(*, service: QualityService, achievement_date: AchievementDate) -> NationalFiguresStatus:
    """The comparison the National Administrator sees (a fixed number of queries: about eight)."""
    groups = weighted_groups(service_id=service.pk)
    derived = national_figures_derive(achievement_date=achievement_date, group_ids=[g.pk for g in groups])
    in_force = national_figures_in_force(service_id=service.pk, achievement_date_id=achievement_date.pk)
    rows = [
        FigureRow(
            code="List size",
            name="National average list size",
            definition=_list_size(service.average_list_size),
            derived=_list_size(derived.average_list_size),
            in_force=_list_size(in_force.average_list_size) if in_force else "-",
            changed=in_force is not None
            and (in_force.practices, in_force.list_size_total) != (derived.practices, derived.list_size_total),
        )
    ]
    for group in groups:
        set_register = in_force.registers.get(group.code) if in_force else None
        rows.append(
            FigureRow(
                code=group.code,
                name=group.name,
                definition=_percent(group.national_prevalence),
                derived=_percent(derived.prevalence(group.pk)),
                in_force=_percent(in_force.prevalence.get(group.code)) if in_force else "-",
                changed=in_force is not None
                and (set_register, in_force.list_size_total)
                != (derived.registers.get(group.pk, 0), derived.list_size_total),
            )
        )
    payments = _payments(service_id=service.pk, achievement_date_id=achievement_date.pk)
    return NationalFiguresStatus(
        service=service,
        achievement_date=achievement_date,
        derived=derived,
        in_force=in_force,
        rows=tuple(rows),
        recalculated=payments.filter(calculation__data_version__gte=F("data_version")).count(),
        to_recalculate=payments.count(),
    )


@transaction.atomic
def national_figures_set(*, actor, service_id: int, achievement_date_id: int) -> NationalFigures:
    """Set the national figures of a service and achievement date to those its practices'
    year-end data give now, and recalculate every payment of that service and date.

    Only a National Administrator (or the ``national_figures`` command's system actor).  Refused
    with the reason, changing nothing: a service without national figures, no year-end data, or
    figures already those in force.  Audited.  The payments are marked stale in this transaction
    (so none is declared or approved on the old figures meanwhile) and recalculated by the workers
    after the commit, in batches (``declarations.tasks.recalculate_many``).
    """
    if not (is_system(actor) or can_set(actor)):
        raise NotAllowed(NOT_PERMITTED)
    service = QualityService.objects.select_for_update().filter(pk=service_id).first()
    achievement_date = AchievementDate.objects.filter(pk=achievement_date_id, service_id=service_id).first()
    if service is None or achievement_date is None:
        raise NotFound("No such service and achievement date.")
    if not uses_national_figures(service):
        raise Invalid(NOT_USED.format(service=service.code))
    groups = weighted_groups(service_id=service.pk)
    derived = national_figures_derive(achievement_date=achievement_date, group_ids=[g.pk for g in groups])
    if not derived.practices:
        raise Invalid(NO_DATA.format(date=f"{achievement_date.date:%d/%m/%Y}"))
    in_force = national_figures_in_force(service_id=service.pk, achievement_date_id=achievement_date.pk)
    codes = {group.pk: group.code for group in groups}
    if in_force is not None and (in_force.practices, in_force.list_size_total, dict(in_force.registers)) == (
        derived.practices,
        derived.list_size_total,
        {codes[group_id]: total for group_id, total in derived.registers.items()},
    ):
        raise Invalid(UNCHANGED)
    figures = NationalFigures.objects.create(
        service=service,
        achievement_date=achievement_date,
        practices=derived.practices,
        list_size_total=derived.list_size_total,
        set_by=None if is_system(actor) else actor,
    )
    NationalRegister.objects.bulk_create(
        NationalRegister(figures=figures, group_id=group_id, register_total=total)
        for group_id, total in derived.registers.items()
    )
    ids = list(
        _payments(service_id=service.pk, achievement_date_id=achievement_date.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    audit_record(
        actor=None if is_system(actor) else actor,
        action=AUDIT_ACTION,
        # NHS England's: its User Administrators read it in their Audit Log
        organisation=None
        if is_system(actor)
        else Organisation.objects.filter(
            kind=OrganisationKind.NATIONAL,
            memberships__user=actor,
            memberships__role=Role.NATIONAL_ADMINISTRATOR,
        ).first(),
        obj=figures,
        detail={
            "service": service.code,
            "achievement_date": achievement_date.date.isoformat(),
            "practices": derived.practices,
            "list_size_total": derived.list_size_total,
            "registers": {codes[group_id]: total for group_id, total in derived.registers.items()},
            "previous": in_force.figures_id if in_force else None,
            "payments_recalculated": len(ids),
            **({"system_actor": actor.name} if is_system(actor) else {}),
        },
    )
    if ids:
        services.calculations_mark_stale(achievement_ids=ids)
        tasks.recalculate_many.delay_on_commit(ids)
    return figures


def national_figures_date_list(*, user) -> list[tuple[QualityService, AchievementDate]]:
    """The (service, payment date) pairs whose national figures a National Administrator sets:
    the payment dates of every practice-level service with prevalence-weighted groups.  Two
    queries."""
    if not can_set(user):
        raise NotAllowed(NOT_PERMITTED)
    dates = (
        AchievementDate.objects.filter(is_payment_date=True, service__provider_level="practice")
        .filter(Q(service__groups__national_prevalence__isnull=False))
        .select_related("service__financial_year")
        .distinct()
        .order_by("-date", "service__code")
    )
    return [(date.service, date) for date in dates]


def national_figures_get(*, user, service_id: int, achievement_date_id: int) -> tuple[QualityService, AchievementDate]:
    if not can_set(user):
        raise NotAllowed(NOT_PERMITTED)
    if id_or_none(service_id) is None or id_or_none(achievement_date_id) is None:  # no row can have it
        raise NotFound("No such service and achievement date.")
    achievement_date = (
        AchievementDate.objects.filter(pk=achievement_date_id, service_id=service_id)
        .select_related("service__financial_year")
        .first()
    )
    if achievement_date is None or not uses_national_figures(achievement_date.service):
        raise NotFound("No such service and achievement date.")
    return achievement_date.service, achievement_date
