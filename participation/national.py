"""The national figures in force for a service's payments (issue 13 §4; docs/adr/0021).

A QOF payment depends on two national figures: the average list size (the CPI's denominator)
and each prevalence-weighted group's national prevalence (the APDF's).  The definition carries
estimates of both; once every practice's year-end data are in, a National Administrator sets the
real ones (``declarations.national.national_figures_set``), derived from those data by
``achievement.national``.  This module is what the payment calculation reads: the figures in
force for a (service, achievement date), or None while none are set (then the definition's
figures apply and the payment is "provisional: national figures not yet set").

Every figure is an exact ``Fraction`` (a ratio of the stored sums, never rounded), as every ratio
inside the engine is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

from .models import IndicatorGroup, NationalFigures, NationalRegister, ProviderLevel, QualityService

# The words the payment screens show beside a payment that still uses the definition's figures.
NOT_YET_SET = "provisional: national figures not yet set"


@dataclass(frozen=True)
class FiguresInForce:
    """The national figures set for a (service, achievement date): what the calculation reads in
    place of ``QualityService.average_list_size`` and ``IndicatorGroup.national_prevalence``."""

    figures_id: int
    service_id: int
    achievement_date_id: int
    practices: int
    list_size_total: int
    registers: Mapping[str, int] = field(default_factory=dict)  # group code -> national register
    set_at: dt.datetime | None = None
    set_by_name: str = ""

    @property
    def average_list_size(self) -> Fraction:
        """Sum of the practices' list sizes / number of practices, exact."""
        return Fraction(self.list_size_total, self.practices)

    @property
    def prevalence(self) -> Mapping[str, Fraction]:
        """Each prevalence-weighted group's national prevalence (group code -> register / list), exact."""
        return MappingProxyType(
            {code: Fraction(register, self.list_size_total) for code, register in self.registers.items()}
        )


def _in_force(rows: Iterable[NationalFigures]) -> dict[int, FiguresInForce]:
    """The latest setting per achievement date among ``rows`` (newest first), with its registers
    (one query)."""
    latest: dict[int, NationalFigures] = {}
    for figures in rows:
        latest.setdefault(figures.achievement_date_id, figures)
    registers: dict[int, dict[str, int]] = {figures.pk: {} for figures in latest.values()}
    for figures_id, code, total in NationalRegister.objects.filter(figures_id__in=registers).values_list(
        "figures_id", "group__code", "register_total"
    ):
        registers[figures_id][code] = total
    return {
        date_id: FiguresInForce(
            figures_id=figures.pk,
            service_id=figures.service_id,
            achievement_date_id=date_id,
            practices=figures.practices,
            list_size_total=figures.list_size_total,
            registers=MappingProxyType(registers[figures.pk]),
            set_at=figures.set_at,
            set_by_name=figures.set_by.get_full_name() if figures.set_by_id else "",
        )
        for date_id, figures in latest.items()
    }


def national_figures_in_force(*, service_id: int, achievement_date_id: int) -> FiguresInForce | None:
    """The national figures set for this service and achievement date, or None while none are
    (the definition's then apply).  Two queries."""
    rows = NationalFigures.objects.filter(service_id=service_id, achievement_date_id=achievement_date_id).select_related(
        "set_by"
    )[:1]
    return _in_force(rows).get(achievement_date_id)


def national_figures_by_date(*, service_id: int) -> dict[int, FiguresInForce]:
    """Every achievement date's figures in force for a service (achievement date id -> figures),
    for a batch calculation of many providers.  Two queries whatever the number of dates."""
    rows = NationalFigures.objects.filter(service_id=service_id).select_related("set_by").order_by(
        "achievement_date_id", "-set_at", "-pk"
    )
    return _in_force(rows)


def uses_national_figures(service: QualityService) -> bool:
    """Does this service's payment depend on national figures a National Administrator sets?
    A practice-level service with prevalence-weighted groups (QOF).  One query."""
    return (
        service.provider_level == ProviderLevel.PRACTICE
        and IndicatorGroup.objects.filter(service=service, national_prevalence__isnull=False).exists()
    )


def national_figures_pending(*, service: QualityService, achievement_date_id: int) -> bool:
    """Is a payment of this service and date still on the definition's figures (shown as
    ``NOT_YET_SET``)?  At most two queries."""
    return (
        uses_national_figures(service)
        and not NationalFigures.objects.filter(service=service, achievement_date_id=achievement_date_id).exists()
    )


def national_figures_pending_pairs(*, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of these (service id, achievement date id) pairs, those whose payments are still on the
    definition's figures (``national_figures_pending`` for a page of rows).  Two queries whatever
    the number of pairs."""
    pairs = set(pairs)
    if not pairs:
        return set()
    using = set(
        QualityService.objects.filter(
            pk__in={service_id for service_id, _ in pairs},
            provider_level=ProviderLevel.PRACTICE,
            groups__national_prevalence__isnull=False,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    wanted = {pair for pair in pairs if pair[0] in using}
    if not wanted:
        return set()
    already = set(
        NationalFigures.objects.filter(
            service_id__in={service_id for service_id, _ in wanted},
            achievement_date_id__in={date_id for _, date_id in wanted},
        )
        .values_list("service_id", "achievement_date_id")
        .distinct()
    )
    return wanted - already
