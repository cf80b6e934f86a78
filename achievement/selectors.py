"""Achievement reads: the contract the payment calculation (declarations) relies on.

Keep these names and signatures stable: ``current_values``, ``list_size_on``,
``tick_box_values``; plus the Extract Loads page's reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, QuerySet, Subquery

from accounts import permissions
from accounts.models import ListSize, Organisation, OrganisationKind
from accounts.pcn_membership import membership_table
from participation.models import (
    AchievementDate,
    FinancialYear,
    Indicator,
    IndicatorGroup,
    OfferStatus,
    ProviderLevel,
    QualityService,
)

from . import payments
from .commissioner_selectors import commissioner_entries, manual_entry_get
from .entry_rules import TICK_BOX_KINDS, indicator_submitted, tick_box_provider_id
from .errors import AchievementNotFound
from .models import (
    Achievement,
    CommissionerEntry,
    ExtractLoad,
    IndicatorValue,
    ManualEntryProvider,
    Submission,
    SubmissionSource,
    SubmissionStatus,
    TickBoxValue,
)
from .plausibility import ValueLimits, indicator_figures, service_ceiling
from .rules import READ_ROLES


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


def entry_list_size(*, provider, date: dt.date) -> int | None:
    """The list size values entered for ``provider`` on ``date`` are checked against: its own
    (``list_size_on``); for a PCN without one, the sum of its practices' (as the aggregation of
    their extracts records it); None when none is known."""
    own = list_size_on(provider_id=provider.pk, date=date)
    if own is not None or provider.kind != OrganisationKind.PCN:
        return own
    latest: dict[int, int] = {}
    rows = (
        ListSize.objects.filter(
            organisation__pcn_id=provider.pk, organisation__kind=OrganisationKind.PRACTICE, date__lte=date
        )
        .order_by("organisation_id", "-date")
        .values_list("organisation_id", "size")
    )
    for organisation_id, size in rows:
        latest.setdefault(organisation_id, size)
    return sum(latest.values()) if latest else None


def value_limits(*, achievement: Achievement) -> ValueLimits:
    """What the values entered in an achievement are checked against: the provider's list size
    on the achievement date and the service's ceiling (achievement/plausibility.py).  Two
    queries."""
    provider = achievement.provider
    date = achievement.achievement_date.date
    service = achievement.service
    indicators = Indicator.objects.filter(service_id=service.pk).select_related("group")
    return ValueLimits(
        list_size=entry_list_size(provider=provider, date=date),
        ceiling=service_ceiling(
            value_per_point=service.value_per_point,
            average_list_size=service.average_list_size,
            indicators=indicator_figures(indicators),
        ),
        whose=f"{provider.name} ({provider.ods_code}) on {date:%d/%m/%Y}",
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


def extract_load_get(*, extract_id: int) -> ExtractLoad:
    """An extract load (staff only), or ``AchievementNotFound``."""
    extract = ExtractLoad.objects.select_related("created_by").filter(pk=extract_id).first()
    if extract is None:
        raise AchievementNotFound("No such extract load")
    return extract


# --- Record Achievement (Data Submission) -------------------------------------------------
# Every read is scoped to the providers in which the user holds Achievement Entry or View
# (their own organisations: a PCN user sees the PCN's achievements, not its practices').


def record_provider_ids(*, user) -> set[int]:
    """The provider organisations whose achievement the user may read on Record Achievement."""
    return permissions.organisation_ids_with_role(user, READ_ROLES)


def record_service_list(*, user, financial_year=None):
    """The Quality Services the user's organisations participate in (an Approved offer), in a
    financial year: a practice's own services; for a PCN, its own and the PCN-level services
    (Network Contract DES) its member practices take part in, which are paid to the PCN."""
    provider_ids = record_provider_ids(user=user)
    services = QualityService.objects.filter(
        Q(offers__provider_id__in=provider_ids)
        | Q(offers__provider__pcn_id__in=provider_ids, provider_level=ProviderLevel.PCN),
        offers__status=OfferStatus.APPROVED,
    )
    if financial_year is not None:
        services = services.filter(financial_year=financial_year)
    return services.distinct().select_related("financial_year").order_by("payment_type", "name")


def record_financial_year_list(*, user):
    """The financial years of the services the user's organisations participate in, newest first."""
    return FinancialYear.objects.filter(
        pk__in=record_service_list(user=user).values("financial_year_id")
    ).order_by("-start_date")


def record_achievement_list(*, user, service) -> QuerySet:
    """Every achievement recorded for the service for the user's organisations (the job aid's
    achievement panel), newest date first, with its last submission's status (the Commissioning
    Organisation's unsubmitted Work in Progress is not the provider's)."""
    latest = (
        Submission.objects.filter(achievement_id=OuterRef("pk"))
        .exclude(status=SubmissionStatus.WORK_IN_PROGRESS, source=SubmissionSource.COMMISSIONER)
        .order_by("-created_at", "-id")
    )
    return (
        Achievement.objects.filter(service=service, provider_id__in=record_provider_ids(user=user))
        .select_related("provider", "achievement_date")
        .annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("-achievement_date__date", "provider__name")
    )


def record_achievement_get(*, user, achievement_id: int):
    """An achievement of one of the user's organisations, or ``AchievementNotFound`` (another
    organisation's achievement does not exist for them)."""
    achievement = (
        Achievement.objects.filter(pk=achievement_id, provider_id__in=record_provider_ids(user=user))
        .select_related("provider__pcn", "service__financial_year", "achievement_date")
        .first()
    )
    if achievement is None:
        raise AchievementNotFound("No achievement found")
    return achievement


def paid_to_pcn(*, achievement) -> tuple[bool, Organisation | None]:
    """Is this a practice's Network Contract DES achievement, which is not paid itself (its data
    are aggregated into its PCN's achievement, which is), and the PCN it was a member of on the
    achievement date (None: none).  No query for any other achievement; else two."""
    provider = achievement.provider
    if achievement.service.provider_level != ProviderLevel.PCN or provider.kind != OrganisationKind.PRACTICE:
        return False, None
    pcn_id = membership_table(practice_ids=[provider.pk]).pcn_on(provider.pk, achievement.achievement_date.date)
    return True, Organisation.objects.filter(pk=pcn_id).first() if pcn_id is not None else None


def achievement_calculation(*, achievement) -> payments.CalculatedPayment | None:
    """The achievement's calculated payment, or None: for a practice's Network Contract DES
    achievement, its PCN's (the payment is the PCN's).  Asked of the payments app through
    ``achievement.payments`` (none installed: None)."""
    return payments.calculated_payment(achievement)


def submission_list(*, achievement_id: int) -> list:
    """Every submission of an achievement, newest first, with who made it: one query."""
    return list(
        Submission.objects.filter(achievement_id=achievement_id)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def submission_values(
    *, submission_ids: Iterable[int], indicator_ids: Iterable[int] | None = None
) -> dict[int, dict[tuple[int, str], int]]:
    """Values of these submissions: {submission id: {(indicator id, field name): value}}; one query."""
    ids = [pk for pk in submission_ids if pk is not None]
    result: dict[int, dict[tuple[int, str], int]] = {pk: {} for pk in ids}
    if not ids:
        return result
    rows = IndicatorValue.objects.filter(submission_id__in=ids)
    if indicator_ids is not None:
        rows = rows.filter(indicator_id__in=list(indicator_ids))
    for submission_id, indicator_id, field_name, value in rows.values_list(
        "submission_id", "indicator_id", "field_name", "value"
    ):
        result[submission_id][(indicator_id, field_name)] = value
    return result


def service_catalogue(*, service_id: int) -> tuple[list, list]:
    """A service's indicator groups (with domain) and indicators, in catalogue order: two queries."""
    groups = list(
        IndicatorGroup.objects.filter(service_id=service_id)
        .select_related("domain")
        .order_by("domain__position", "position", "pk")
    )
    indicators = list(
        Indicator.objects.filter(service_id=service_id).order_by("group_id", "position", "pk")
    )
    return groups, indicators


def group_get(*, achievement, group_id: int):
    """An indicator group of the achievement's service (with its domain), or
    ``AchievementNotFound``."""
    group = (
        IndicatorGroup.objects.filter(pk=group_id, service_id=achievement.service_id)
        .select_related("domain")
        .first()
    )
    if group is None:
        raise AchievementNotFound("No indicator group found")
    return group


def group_indicators(*, group_id: int) -> list:
    return list(Indicator.objects.filter(group_id=group_id).order_by("position", "pk"))


@dataclass
class EntryData:
    """What the entry rules and the group page need about an achievement's values: loaded in a
    fixed number of queries whatever the number of indicators (``entry_data``)."""

    achievement: Achievement
    indicators: list[Indicator]
    submissions: list[Submission]
    current: Submission | None  # the last submission (Submitted, current)
    wip: Submission | None  # the open Work in Progress, if any
    automatic: Submission | None  # the latest GPES extract or PCN aggregation
    current_values: dict[tuple[int, str], int] = field(default_factory=dict)
    wip_values: dict[tuple[int, str], int] = field(default_factory=dict)
    automatic_values: dict[tuple[int, str], int] = field(default_factory=dict)
    tick_boxes: dict[str, bool] = field(default_factory=dict)
    tick_box_provider_id: int | None = None
    # The fields set by the Commissioning Organisation that the last submission still holds.
    commissioner_entries: dict[tuple[int, str], CommissionerEntry] = field(default_factory=dict)
    # The provider has no automatic extract for the service (its data are entered by hand).
    manual_entry: ManualEntryProvider | None = None


def entry_data(
    *, achievement: Achievement, indicators: list[Indicator], wip_source: str = SubmissionSource.MANUAL
) -> EntryData:
    """The submissions of an achievement and the values of ``indicators`` in its last
    submission, its open Work in Progress (the provider's, or with ``wip_source`` COMMISSIONER
    the Commissioning Organisation's) and its latest automatic one; the tick-box answers; the
    Commissioning Organisation entries the last submission holds; the provider's manual-entry
    mark for the service.

    Queries: submissions (1), values (1), Commissioning Organisation entries (1), manual-entry
    mark (1), and, when a tick-box indicator is among them, the tick-box selector's (3).
    """
    submissions = submission_list(achievement_id=achievement.pk)
    current = next((s for s in submissions if s.is_current), None)
    wip = next(
        (s for s in submissions if s.status == SubmissionStatus.WORK_IN_PROGRESS and s.source == wip_source), None
    )
    automatic = next(
        (
            s
            for s in submissions
            if s.source in (SubmissionSource.EXTRACT, SubmissionSource.AGGREGATION)
            and s.status == SubmissionStatus.SUBMITTED
        ),
        None,
    )
    wanted = [s.pk for s in (current, wip, automatic) if s is not None]
    values = submission_values(submission_ids=set(wanted), indicator_ids=[i.pk for i in indicators])
    data = EntryData(
        achievement=achievement,
        indicators=indicators,
        submissions=submissions,
        current=current,
        wip=wip,
        automatic=automatic,
        current_values=values.get(current.pk, {}) if current else {},
        wip_values=values.get(wip.pk, {}) if wip else {},
        automatic_values=values.get(automatic.pk, {}) if automatic else {},
    )
    data.commissioner_entries = commissioner_entries(achievement_id=achievement.pk, current_values=data.current_values)
    data.manual_entry = manual_entry_get(provider_id=achievement.provider_id, service_id=achievement.service_id)
    tick_box_ids = [i.pk for i in indicators if i.kind in TICK_BOX_KINDS]
    data.tick_box_provider_id = tick_box_provider_id(achievement)
    if tick_box_ids:
        data.tick_boxes = tick_box_values(
            provider_id=data.tick_box_provider_id,
            achievement_date_id=achievement.achievement_date_id,
            indicator_ids=tick_box_ids,
        )
    return data


def completeness(*, achievement: Achievement, groups: list, indicators: list[Indicator]) -> dict[int, tuple[int, int]]:
    """"Indicators submitted" per group: {group id: (submitted, total)} from the last submission;
    one query.  A tick-box indicator always counts as submitted (it defaults to No)."""
    values = current_values(achievement_ids=[achievement.pk]).get(achievement.pk, {})
    counts = {group.pk: [0, 0] for group in groups}
    for indicator in indicators:
        count = counts.setdefault(indicator.group_id, [0, 0])
        count[1] += 1
        if indicator_submitted(indicator, values.get(indicator.code)):
            count[0] += 1
    return {pk: (done, total) for pk, (done, total) in counts.items()}
