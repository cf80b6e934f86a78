"""Network Contract DES: the PCN's achievement summed from its member practices' values, and the
values a PCN entered by hand carried forward over a later aggregation (docs/adr/0005-manual-entry.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from accounts.models import ListSize, Organisation, OrganisationKind, PcnMembership
from accounts.pcn_membership import PcnMove, membership_table
from achievement.models import Achievement, IndicatorValue, Submission, SubmissionSource, SubmissionStatus
from participation.models import AchievementDate, ProviderLevel

from .catalogue import Group, OrganisationEntry
from .copy import achievements_for, store_list_sizes, submitted, switch_current


def aggregate_to_pcns(*, extract, groups: list[Group], now: dt.datetime) -> list[int]:
    """Network Contract DES: each affected PCN's achievement is the sum of its member practices.

    For every PCN with a member practice in the extract, and every achievement date of it, a new
    Submission (source "PCN aggregation") holds, per indicator and field, the sum of the current
    values of the practices that were its members on that date (``accounts.pcn_membership``:
    membership over time, docs/adr/0020).  The service is offered to practices and paid to the
    PCN, so the PCN's Achievement is created whether or not the PCN holds an offer itself
    (project rule).  List sizes on that date are summed into the PCN's list size likewise.
    Returns the PCNs' achievement ids.
    """
    ncd = [g for g in groups if g.service.provider_level == ProviderLevel.PCN]
    if not ncd:
        return []
    table = membership_table(practice_ids={g.provider.id for g in ncd})
    targets = set()
    for g in ncd:
        pcn_id = table.pcn_on(g.provider.id, g.date)
        if pcn_id is not None:
            targets.add((pcn_id, g.service.id, g.date_id, g.date))
    if not targets:
        return []
    pcn_groups = _pcn_groups(targets)
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
    _insert_sums("pcn_sub.extract_id = %s AND pcn_sub.source = %s", [extract.pk, SubmissionSource.AGGREGATION])
    switch_current(extract_id=extract.pk, source=SubmissionSource.AGGREGATION)
    carry_manual_values_forward(extract=extract, now=now)
    _store_pcn_list_sizes({(g.provider.id, g.date) for g in pcn_groups})
    return list(achievements.values())


def _pcn_groups(targets) -> list[Group]:
    return [
        Group(service=_ServiceRef(service_id), provider=OrganisationEntry(pcn_id, OrganisationKind.PCN, None), date=date, date_id=date_id)
        for pcn_id, service_id, date_id, date in targets
    ]


def _insert_sums(where: str, params: list) -> None:
    """For each PCN aggregation submission ``where`` selects (alias ``pcn_sub``), insert the sums
    of the current values of the practices that were the PCN's members on the achievement date:
    recorded memberships, and for a practice with none recorded its current PCN."""
    qn = connection.ops.quote_name
    values, subs, ach, orgs, members, dates = (
        qn(IndicatorValue._meta.db_table),
        qn(Submission._meta.db_table),
        qn(Achievement._meta.db_table),
        qn(Organisation._meta.db_table),
        qn(PcnMembership._meta.db_table),
        qn(AchievementDate._meta.db_table),
    )
    start, end = qn("start"), qn("end")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {values} (submission_id, indicator_id, field_name, value)
            SELECT pcn_sub.id, v.indicator_id, v.field_name, SUM(v.value)
            FROM {subs} AS pcn_sub
            JOIN {ach} AS pcn_ach ON pcn_ach.id = pcn_sub.achievement_id
            JOIN {dates} AS ach_date ON ach_date.id = pcn_ach.achievement_date_id
            JOIN (
                SELECT m.practice_id, m.pcn_id, m.{start} AS since, m.{end} AS until FROM {members} AS m
                UNION ALL
                SELECT o.id, o.pcn_id, NULL, NULL FROM {orgs} AS o
                WHERE o.kind = %s AND o.pcn_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM {members} AS recorded WHERE recorded.practice_id = o.id)
            ) AS member
              ON member.pcn_id = pcn_ach.provider_id
             AND (member.since IS NULL OR member.since <= ach_date.date)
             AND (member.until IS NULL OR member.until >= ach_date.date)
            JOIN {ach} AS prac_ach
              ON prac_ach.provider_id = member.practice_id AND prac_ach.achievement_date_id = pcn_ach.achievement_date_id
            JOIN {subs} AS prac_sub ON prac_sub.achievement_id = prac_ach.id AND prac_sub.is_current
            JOIN {values} AS v ON v.submission_id = prac_sub.id
            WHERE {where}
            GROUP BY pcn_sub.id, v.indicator_id, v.field_name
            """,
            [OrganisationKind.PRACTICE, *params],
        )


def _store_pcn_list_sizes(pcn_dates: set[tuple[int, dt.date]]) -> None:
    """Each PCN's list size on each date: the sum of its members' on that date."""
    if not pcn_dates:
        return
    table = membership_table(pcn_ids={pcn for pcn, _ in pcn_dates})
    members = {(pcn, date): table.members_on(pcn, date) for pcn, date in pcn_dates}
    sizes = dict(
        ((org_id, date), size)
        for org_id, date, size in ListSize.objects.filter(
            organisation_id__in={p for practices in members.values() for p in practices},
            date__in={date for _, date in pcn_dates},
        ).values_list("organisation_id", "date", "size")
    )
    sums: dict[tuple[int, dt.date], int] = {}
    for (pcn_id, date), practices in members.items():
        found = [sizes[(p, date)] for p in practices if (p, date) in sizes]
        if found:
            sums[(pcn_id, date)] = sum(found)
    store_list_sizes(sums)


def pcns_reaggregate(*, targets: set[tuple[int, int, int, dt.date]], note: str, user=None, now: dt.datetime) -> list[int]:
    """Aggregate these (PCN id, service id, achievement date id, date) again from the practices
    that are their members on the date now (after a change of membership): a new current
    Submission (source "PCN aggregation", no extract) each, with ``note``; what the PCN entered by
    hand is carried forward over it as after an extract; list sizes summed again.  Returns the
    PCNs' achievement ids."""
    if not targets:
        return []
    pcn_groups = _pcn_groups(targets)
    achievements = achievements_for(pcn_groups)
    achievement_ids = [achievements[(g.provider.id, g.date_id)] for g in pcn_groups]
    new = Submission.objects.bulk_create(
        [
            Submission(
                achievement_id=achievement_id, status=SubmissionStatus.SUBMITTED, source=SubmissionSource.AGGREGATION,
                extract=None, created_at=now, submitted_at=now, created_by=user, notes=note,
            )
            for achievement_id in achievement_ids
        ]
    )
    new_ids = [submission.pk for submission in new]
    placeholders = ", ".join(["%s"] * len(new_ids))
    _insert_sums(f"pcn_sub.id IN ({placeholders})", new_ids)
    by_achievement = {submission.achievement_id: submission.pk for submission in new}
    for old_id, achievement_id in Submission.objects.filter(
        achievement_id__in=achievement_ids, is_current=True
    ).values_list("pk", "achievement_id"):
        Submission.objects.filter(pk=old_id).update(is_current=False, superseded_by_id=by_achievement[achievement_id])
    Submission.objects.filter(pk__in=new_ids).update(is_current=True)
    _carry_forward(
        predecessors=Submission.objects.filter(superseded_by_id__in=new_ids),
        extract=None,
        label="the PCN's re-aggregation after a change of its practices",
        now=now,
    )
    _store_pcn_list_sizes({(g.provider.id, g.date) for g in pcn_groups})
    return sorted(set(achievement_ids))


def pcn_members_moved(moves: Sequence[PcnMove], user=None) -> list[int]:
    """A practice joined, left or changed PCN (``accounts.pcn_membership``'s listener, in the
    recording transaction): each PCN it left or joined is aggregated again on every achievement
    date, on or after the move, of its Network Contract DES data, and the payments those
    achievements feed are recalculated (after the commit).  Returns the PCNs' achievement ids."""
    from achievement import hooks

    if not moves:
        return []
    by_practice = {move.practice_id: move for move in moves}
    dates = Achievement.objects.filter(
        provider_id__in=list(by_practice),
        service__provider_level=ProviderLevel.PCN,
        achievement_date__date__gte=min(move.effective for move in moves),
    ).values_list("provider_id", "service_id", "achievement_date_id", "achievement_date__date")
    targets: set[tuple[int, int, int, dt.date]] = set()
    for practice_id, service_id, date_id, date in dates:  # one query, whatever the number of moves
        move = by_practice[practice_id]
        if date >= move.effective:
            targets |= {(pcn, service_id, date_id, date) for pcn in (move.from_pcn_id, move.to_pcn_id) if pcn}
    if not targets:
        return []
    ids = pcns_reaggregate(targets=targets, note=_move_note(moves), user=user, now=timezone.now())
    hooks.achievements_changed(ids)
    return ids


def _move_note(moves: Sequence[PcnMove]) -> str:
    codes = dict(
        Organisation.objects.filter(
            pk__in={pk for m in moves for pk in (m.practice_id, m.from_pcn_id, m.to_pcn_id) if pk}
        ).values_list("pk", "ods_code")
    )
    parts = [
        f"{codes[m.practice_id]} {'from ' + codes[m.from_pcn_id] if m.from_pcn_id else 'joined'}"
        f"{' to ' + codes[m.to_pcn_id] if m.to_pcn_id else ' left'} on {m.effective:%d/%m/%Y}"
        for m in moves[:10]
    ]
    more = f" and {len(moves) - 10} more" if len(moves) > 10 else ""
    return f"Re-aggregated after a change of PCN membership: {'; '.join(parts)}{more}."


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
    return _carry_forward(
        predecessors=Submission.objects.filter(superseded_by__extract_id=extract.pk),
        extract=extract,
        label=f"the PCN aggregation of {extract.file_name}",
        now=now,
    )


def _carry_forward(*, predecessors, extract, label: str, now: dt.datetime) -> int:
    """``carry_manual_values_forward`` for the submissions ``predecessors`` selects (those the
    new aggregations superseded); the carried submissions are ``extract``'s (None: a
    re-aggregation)."""
    predecessors = list(
        predecessors.filter(
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
        submission = Submission(
            achievement_id=manual.achievement_id,
            status=SubmissionStatus.SUBMITTED,
            source=SubmissionSource.MANUAL,
            extract=extract,
            created_at=now,
            submitted_at=now,
            created_by=manual.created_by,
            notes=f"{len(carried)} manually entered value(s) carried forward over {label}.",
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

