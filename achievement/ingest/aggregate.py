"""Network Contract DES: the PCN's achievement summed from its member practices' values, and the
values a PCN entered by hand carried forward over a later aggregation (docs/adr/0005-manual-entry.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from accounts.models import ListSize, Organisation, OrganisationKind
from achievement.models import Achievement, IndicatorValue, Submission, SubmissionSource, SubmissionStatus
from participation.models import ProviderLevel

from .catalogue import Group, OrganisationEntry
from .copy import achievements_for, store_list_sizes, submitted, switch_current


def aggregate_to_pcns(*, extract, groups: list[Group], now: dt.datetime) -> list[int]:
    """Network Contract DES: each affected PCN's achievement is the sum of its member practices.

    For every PCN with a member practice in the extract, and every achievement date of it, a new
    Submission (source "PCN aggregation") holds, per indicator and field, the sum of the current
    values of the PCN's practices on that date.  The service is offered to practices and paid to
    the PCN, so the PCN's Achievement is created whether or not the PCN holds an offer itself
    (project rule).  List sizes on that date are summed into the PCN's list size likewise.
    Returns the PCNs' achievement ids.
    """
    targets = {
        (g.provider.pcn_id, g.service.id, g.date_id, g.date)
        for g in groups
        if g.service.provider_level == ProviderLevel.PCN and g.provider.pcn_id is not None
    }
    if not targets:
        return []
    pcn_groups = [
        Group(service=_ServiceRef(service_id), provider=OrganisationEntry(pcn_id, OrganisationKind.PCN, None), date=date, date_id=date_id)
        for pcn_id, service_id, date_id, date in targets
    ]
    achievements = achievements_for(pcn_groups)
    Submission.objects.bulk_create(
        [
            submitted(
                achievement_id=achievements[(g.provider.id, g.date_id)],
                source=SubmissionSource.AGGREGATION,
                extract=extract,
                now=now,
            )
            for g in pcn_groups
        ]
    )
    qn = connection.ops.quote_name
    values, subs, ach, orgs = (
        qn(IndicatorValue._meta.db_table),
        qn(Submission._meta.db_table),
        qn(Achievement._meta.db_table),
        qn(Organisation._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {values} (submission_id, indicator_id, field_name, value)
            SELECT pcn_sub.id, v.indicator_id, v.field_name, SUM(v.value)
            FROM {subs} AS pcn_sub
            JOIN {ach} AS pcn_ach ON pcn_ach.id = pcn_sub.achievement_id
            JOIN {orgs} AS practice ON practice.pcn_id = pcn_ach.provider_id AND practice.kind = %s
            JOIN {ach} AS prac_ach
              ON prac_ach.provider_id = practice.id AND prac_ach.achievement_date_id = pcn_ach.achievement_date_id
            JOIN {subs} AS prac_sub ON prac_sub.achievement_id = prac_ach.id AND prac_sub.is_current
            JOIN {values} AS v ON v.submission_id = prac_sub.id
            WHERE pcn_sub.extract_id = %s AND pcn_sub.source = %s
            GROUP BY pcn_sub.id, v.indicator_id, v.field_name
            """,
            [OrganisationKind.PRACTICE, extract.pk, SubmissionSource.AGGREGATION],
        )
    switch_current(extract_id=extract.pk, source=SubmissionSource.AGGREGATION)
    carry_manual_values_forward(extract=extract, now=now)

    pcn_dates = {(g.provider.id, g.date) for g in pcn_groups}
    sums: dict[tuple[int, dt.date], int] = {}
    member_sizes = ListSize.objects.filter(
        organisation__pcn_id__in={pcn for pcn, _ in pcn_dates},
        organisation__kind=OrganisationKind.PRACTICE,
        date__in={date for _, date in pcn_dates},
    ).values_list("organisation__pcn_id", "date", "size")
    for pcn_id, date, size in member_sizes:
        if (pcn_id, date) in pcn_dates:
            sums[(pcn_id, date)] = sums.get((pcn_id, date), 0) + size
    store_list_sizes(sums)
    return list(achievements.values())


@dataclass(frozen=True)
class _ServiceRef:
    id: int
    provider_level: str = ProviderLevel.PCN


def carry_manual_values_forward(*, extract, now: dt.datetime) -> int:
    """Keep what a PCN entered by hand when this extract's aggregation still lacks those fields.

    The PCN enters a field its practices' extracts do not supply (ADR 0005) as a manual
    submission over the aggregation.  A later aggregation supersedes that submission; for every
    field it still lacks, the manually entered value is carried forward: a new manual
    submission (this extract's, current) holds the aggregation's values and the carried ones,
    and supersedes the aggregation, which stays the latest automatic submission, so the carried
    fields stay the PCN's to adjust.  "Manually entered" are the fields of the superseded manual
    submission that the automatic submission it was made over did not hold (a value the
    practices once supplied and no longer do is not carried).  Returns how many submissions
    carried values forward.
    """
    predecessors = list(
        Submission.objects.filter(
            superseded_by__extract_id=extract.pk,
            superseded_by__source=SubmissionSource.AGGREGATION,
            source=SubmissionSource.MANUAL,
            status=SubmissionStatus.SUBMITTED,
        ).select_related("superseded_by")
    )
    def keys(submission_id: int) -> set[tuple[int, str]]:
        return set(IndicatorValue.objects.filter(submission_id=submission_id).values_list("indicator_id", "field_name"))

    carried_count = 0
    for manual in predecessors:
        aggregation = manual.superseded_by
        earlier_automatic = (
            Submission.objects.filter(
                achievement_id=manual.achievement_id,
                source__in=(SubmissionSource.EXTRACT, SubmissionSource.AGGREGATION),
                status=SubmissionStatus.SUBMITTED,
                pk__lt=manual.pk,
            )
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        lacking = keys(manual.pk) - keys(aggregation.pk)
        if earlier_automatic is not None:
            lacking -= keys(earlier_automatic)
        if not lacking:
            continue
        carried = [
            (indicator_id, field_name, value)
            for indicator_id, field_name, value in IndicatorValue.objects.filter(submission_id=manual.pk).values_list(
                "indicator_id", "field_name", "value"
            )
            if (indicator_id, field_name) in lacking
        ]
        submission = submitted(
            achievement_id=manual.achievement_id,
            source=SubmissionSource.MANUAL,
            extract=extract,
            now=now,
            created_by=manual.created_by,
            notes=(
                f"{len(carried)} manually entered value(s) carried forward over the PCN aggregation of "
                f"{extract.file_name}."
            ),
        )
        submission.save()
        IndicatorValue.objects.bulk_create(
            [
                IndicatorValue(submission=submission, indicator_id=v.indicator_id, field_name=v.field_name, value=v.value)
                for v in IndicatorValue.objects.filter(submission_id=aggregation.pk)
            ]
            + [
                IndicatorValue(submission=submission, indicator_id=i, field_name=f, value=v)
                for i, f, v in carried
            ]
        )
        Submission.objects.filter(pk=aggregation.pk).update(is_current=False, superseded_by=submission)
        Submission.objects.filter(pk=submission.pk).update(is_current=True)
        carried_count += 1
    return carried_count

