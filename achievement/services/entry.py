"""Data Submission: Add New Achievement, and manual entry and adjustment of an achievement's
values (Save Work in Progress, Submit Achievement Data), by the provider (Record Achievement) or
by its Commissioning Organisation (Record Provider Achievement); the commissioner's marking of a
provider with no automatic extract for a service.  Who may enter what is decided by
achievement/entry_rules.py; these use cases enforce it and record the result."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind
from accounts.services import audit_record
from achievement import entry_rules, hooks, payments, plausibility, rules, selectors
from achievement.errors import AchievementEntryError, AchievementNotAllowed, AchievementNotFound
from achievement.models import (
    Achievement,
    CommissionerEntry,
    IndicatorValue,
    ManualEntryProvider,
    NoExtractReason,
    Submission,
    SubmissionSource,
)
from participation.models import (
    AchievementDate,
    Indicator,
    OfferStatus,
    ProviderLevel,
    QualityService,
    ServiceOffer,
)

NOTHING_DIFFERS_WIP = (
    "The data are not different from the previous submission, so they have not been saved as work in progress."
)
NOTHING_DIFFERS_SUBMIT = "The data are not different from the previous submission, so they have not been submitted."
NOTHING_ENTERED = "Enter the achievement data in the New Values fields before you save or submit them."


def provider_takes_part(*, service, provider) -> bool:
    """Does the provider take part in the service: an Approved offer; for a PCN-level service
    (Network Contract DES, offered to practices, paid to the PCN), the PCN of a practice that
    holds one (or the PCN itself)."""
    approved = ServiceOffer.objects.filter(service=service, status=OfferStatus.APPROVED)
    if service.provider_level == ProviderLevel.PCN:
        if provider.kind != OrganisationKind.PCN:
            return False
        return approved.filter(Q(provider=provider) | Q(provider__pcn=provider)).exists()
    return approved.filter(provider=provider).exists()


@transaction.atomic
def achievement_add(*, user, provider_id: int, achievement_date_id: int) -> tuple[Achievement, bool]:
    """Add New Achievement: the provider's achievement for an achievement date, created when
    absent (returned with ``created``).

    Rules: the user holds Achievement Entry at the provider (another organisation's provider is
    not found: 404); the date is one of the service's valid dates; the provider takes part in the
    service; a Network Contract DES achievement is added by the PCN (it is paid to the PCN and
    aggregated from its practices), never by a practice.  Concurrent adds of the same date make
    one achievement (the unique provider/date constraint decides).
    """
    if not rules.can_read(user, provider_id):
        raise AchievementNotFound("No such provider")
    if not rules.can_enter(user, provider_id):
        raise AchievementNotAllowed
    provider = Organisation.objects.get(pk=provider_id)
    return _add(user=user, provider=provider, achievement_date_id=achievement_date_id, action="achievement_added")


@transaction.atomic
def commissioner_achievement_add(*, user, provider_id: int, achievement_date_id: int) -> tuple[Achievement, bool]:
    """Add New Achievement on Record Provider Achievement: as ``achievement_add``, for a provider
    the user's ICB commissions, where the user holds Commissioning Management (another provider
    is not found: 404)."""
    provider = Organisation.objects.providers().filter(pk=provider_id).first()
    if provider is None or not rules.can_enter_as_commissioner(user, provider):
        raise AchievementNotFound("No such provider")
    return _add(
        user=user, provider=provider, achievement_date_id=achievement_date_id, action="achievement_added_by_commissioner"
    )


def _add(*, user, provider, achievement_date_id: int, action: str) -> tuple[Achievement, bool]:
    achievement_date = AchievementDate.objects.select_related("service").filter(pk=achievement_date_id).first()
    if achievement_date is None:
        raise AchievementEntryError("Select a valid Achievement Date for the Quality Service.")
    service = achievement_date.service
    if service.provider_level == ProviderLevel.PCN and provider.kind == OrganisationKind.PRACTICE:
        raise AchievementEntryError(entry_rules.NCD_AT_PRACTICE)
    if not provider_takes_part(service=service, provider=provider):
        raise AchievementEntryError(f"{provider.name} does not take part in {service.label}.")
    achievement, created = Achievement.objects.get_or_create(
        provider=provider,
        achievement_date=achievement_date,
        defaults={"service": service, "created_by": user},
    )
    if created:
        audit_record(
            actor=user,
            action=action,
            organisation=provider,
            obj=achievement,
            detail={"service": service.code, "achievement_date": f"{achievement_date.date:%Y-%m-%d}"},
        )
    return achievement, created


def _entry_state(*, user, achievement: Achievement, commissioner: bool):
    """Every indicator of the achievement and what this user may give a New Value."""
    indicators = list(
        Indicator.objects.filter(service_id=achievement.service_id).order_by("group_id", "position", "pk")
    )
    data = selectors.entry_data(
        achievement=achievement,
        indicators=indicators,
        wip_source=SubmissionSource.COMMISSIONER if commissioner else SubmissionSource.MANUAL,
    )
    field_states, _, achievement_reason = entry_rules.entry_states(user=user, data=data, commissioner=commissioner)
    return data, field_states, achievement_reason


@transaction.atomic
def achievement_values_save(
    *,
    user,
    achievement_id: int,
    group_id: int,
    values: dict[tuple[int, str], int | None],
    notes: str = "",
    submit: bool,
) -> Submission:
    """Save Work in Progress (``submit`` False) or Submit Achievement Data (True) for a group.

    ``values``: the group's New Values by (indicator id, field name); None leaves a field as it
    is.  Rules (job aids "manual entry" and "manual adjustment"):

    - only fields ``entry_rules.entry_states`` finds enterable for this user may be given a value
      (another organisation's achievement: 404; a read-only field: refused);
    - whole numbers of 0 or more, a Numerator not above its Denominator (as for extracts); a
      Yes/No Flag 1 or 0; every other value entered not above the provider's list size on the
      date (known: else refused, saying so) nor the service's ceiling (achievement/plausibility.py);
    - saved or submitted only when the data differ from the previous submission (or there is
      none); otherwise refused and nothing is saved;
    - an achievement has at most one Work in Progress, holding the New Values that differ from
      the last submission (every group's), and its submission notes;
    - submitting makes a new Submitted snapshot holding every value: the last submission's,
      copied, with the New Values over them; it becomes current and supersedes the last one,
      which is kept with its notes; the Work in Progress, if any, is the submission submitted;
    - submitting recalculates the payment (``hooks.achievements_changed``, after the commit).

    Concurrent saves of the same achievement are serialised by a row lock on the Achievement.
    """
    achievement = (
        Achievement.objects.select_for_update(of=("self",))
        .select_related("provider__pcn", "service", "achievement_date")
        .filter(pk=achievement_id)
        .first()
    )
    if achievement is None or not rules.can_read(user, achievement.provider_id):
        raise AchievementNotFound("No achievement found")
    return _values_save(
        user=user, achievement=achievement, group_id=group_id, values=values, notes=notes, submit=submit,
        commissioner=False,
    )


@transaction.atomic
def commissioner_values_save(
    *,
    user,
    achievement_id: int,
    group_id: int,
    values: dict[tuple[int, str], int | None],
    notes: str = "",
    submit: bool,
) -> Submission:
    """Save Work in Progress or Submit on Record Provider Achievement: the Commissioning
    Organisation enters or adjusts a provider's values (any field, any date) until the payment
    is financially approved (``entry_rules`` with ``commissioner=True``).

    As ``achievement_values_save`` (the same checks, snapshots and recalculation), with these
    differences: the user holds Commissioning Management at the provider's ICB (another
    provider's achievement: 404); the commissioner's Work in Progress is its own, apart from the
    provider's; the submission's source is "Commissioning Organisation entry"; and every value
    it changes becomes a Commissioning Organisation entry (``CommissionerEntry``: who, when, the
    value), which the provider may not adjust.  Every change is audited.
    """
    achievement = (
        Achievement.objects.select_for_update(of=("self",))
        .select_related("provider__pcn", "service", "achievement_date")
        .filter(pk=achievement_id)
        .first()
    )
    if achievement is None or not rules.can_enter_as_commissioner(user, achievement.provider):
        raise AchievementNotFound("No achievement found")
    return _values_save(
        user=user, achievement=achievement, group_id=group_id, values=values, notes=notes, submit=submit,
        commissioner=True,
    )


def _values_save(
    *,
    user,
    achievement: Achievement,
    group_id: int,
    values: dict[tuple[int, str], int | None],
    notes: str,
    submit: bool,
    commissioner: bool,
) -> Submission:
    payments.lock(achievement)  # "not financially approved" holds until this commits
    group_indicator_ids = set(
        Indicator.objects.filter(group_id=group_id, service_id=achievement.service_id).values_list("pk", flat=True)
    )
    if not group_indicator_ids:
        raise AchievementNotFound("No indicator group found")
    data, field_states, achievement_reason = _entry_state(
        user=user, achievement=achievement, commissioner=commissioner
    )
    if achievement_reason is not None:
        raise AchievementEntryError(achievement_reason)
    editable = {state.key: state for state in field_states if state.editable}
    posted = {key: value for key, value in values.items() if value is not None}
    for key, value in posted.items():
        if key[0] not in group_indicator_ids or key not in editable:
            raise AchievementNotAllowed("This field is read-only.")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise AchievementEntryError("New Values must be whole numbers of 0 or more.")

    current = data.current_values
    # The Work in Progress's New Values, still enterable, with this group's replaced by the post.
    deltas = {
        key: value
        for key, value in data.wip_values.items()
        if key in editable and key[0] not in group_indicator_ids
    }
    deltas.update(posted)
    deltas = {key: value for key, value in deltas.items() if current.get(key) != value}

    merged = {**current, **deltas}
    errors = plausibility.value_errors(
        [i for i in data.indicators if i.pk in group_indicator_ids or any(k[0] == i.pk for k in deltas)],
        merged,
        changed=deltas,
        limits=selectors.value_limits(achievement=achievement),
    )
    if errors:
        raise AchievementEntryError(next(iter(errors.values())))
    if not deltas:
        if data.current is None and not current:
            raise AchievementEntryError(NOTHING_ENTERED)
        raise AchievementEntryError(NOTHING_DIFFERS_SUBMIT if submit else NOTHING_DIFFERS_WIP)

    submission = data.wip
    now = timezone.now()
    source = SubmissionSource.COMMISSIONER if commissioner else SubmissionSource.MANUAL
    prefix = "commissioner_" if commissioner else ""
    if submission is None:
        submission = Submission.objects.create(
            achievement=achievement, source=source, created_by=user, created_at=now, notes=notes
        )
    else:
        IndicatorValue.objects.filter(submission=submission).delete()
        submission.notes = notes
    if not submit:
        IndicatorValue.objects.bulk_create(
            [IndicatorValue(submission=submission, indicator_id=i, field_name=f, value=v) for (i, f), v in deltas.items()]
        )
        submission.save(update_fields=["notes"])
        audit_record(
            actor=user,
            action=f"{prefix}achievement_work_in_progress_saved",
            organisation=achievement.provider,
            obj=submission,
            detail={"achievement": achievement.pk, "values": len(deltas)},
        )
        return submission

    IndicatorValue.objects.bulk_create(
        [IndicatorValue(submission=submission, indicator_id=i, field_name=f, value=v) for (i, f), v in merged.items()]
    )
    submission.submit()
    submission.submitted_at = now
    submission.created_by = user
    submission.save(update_fields=["status", "submitted_at", "notes", "created_by"])
    if data.current is not None:
        Submission.objects.filter(pk=data.current.pk).update(is_current=False, superseded_by=submission)
    submission.is_current = True
    submission.save(update_fields=["is_current"])
    detail = {"achievement": achievement.pk, "changed": len(deltas), "superseded": getattr(data.current, "pk", None)}
    if commissioner:
        _mark_commissioner_entries(user=user, achievement=achievement, submission=submission, deltas=deltas, now=now)
        detail["values"] = {f"{i}:{f}": [current.get((i, f)), v] for (i, f), v in sorted(deltas.items())}
    audit_record(
        actor=user,
        action=f"{prefix}achievement_submitted",
        organisation=achievement.provider,
        obj=submission,
        detail=detail,
    )
    hooks.achievements_changed([achievement.pk])
    return submission


def _mark_commissioner_entries(*, user, achievement, submission, deltas, now) -> None:
    """Every value the commissioner changed becomes (or stays, with its new value) a
    Commissioning Organisation entry."""
    CommissionerEntry.objects.bulk_create(
        [
            CommissionerEntry(
                achievement=achievement,
                indicator_id=indicator_id,
                field_name=field_name,
                value=value,
                submission=submission,
                entered_by=user,
                entered_at=now,
            )
            for (indicator_id, field_name), value in deltas.items()
        ],
        update_conflicts=True,
        unique_fields=["achievement", "indicator", "field_name"],
        update_fields=["value", "submission", "entered_by", "entered_at"],
    )


# --- providers with no automatic extract ----------------------------------------------------


def _commissioned_provider(*, user, provider_id: int) -> Organisation:
    provider = Organisation.objects.providers().filter(pk=provider_id).first()
    if provider is None or not rules.can_enter_as_commissioner(user, provider):
        raise AchievementNotFound("No such provider")
    return provider


@transaction.atomic
def manual_entry_provider_set(*, user, provider_id: int, service_id: int, reason: str) -> ManualEntryProvider:
    """Mark a provider as having no automatic extract for a service (Record Provider
    Achievement): its data for the service are then entered by hand, and a GPES extract row for
    them is refused with the reason.  The user holds Commissioning Management at the provider's
    ICB (else 404); the provider takes part in the service (or, for a PCN-level service, a
    practice whose rows the extract carries or the PCN).  Marking again changes the reason.
    Audited with who, when and the reason."""
    provider = _commissioned_provider(user=user, provider_id=provider_id)
    service = QualityService.objects.filter(pk=service_id).first()
    if service is None:
        raise AchievementNotFound("No such Quality Service")
    if reason not in NoExtractReason.values:
        raise AchievementEntryError("Select why the Service Provider has no automatic extract.")
    takes_part = ServiceOffer.objects.filter(service=service, status=OfferStatus.APPROVED, provider=provider).exists()
    if not takes_part and not provider_takes_part(service=service, provider=provider):
        raise AchievementEntryError(f"{provider.name} does not take part in {service.label}.")
    mark = ManualEntryProvider.objects.select_for_update().filter(provider=provider, service=service).first()
    previous = None if mark is None else mark.reason
    if mark is not None and mark.reason == reason:
        raise AchievementEntryError(
            f"{provider.name} ({provider.ods_code}) is already marked as having no automatic extract for this reason."
        )
    if mark is None:
        mark = ManualEntryProvider(provider=provider, service=service)
    mark.reason, mark.set_by, mark.set_at = reason, user, timezone.now()
    mark.save()
    audit_record(
        actor=user,
        action="manual_entry_provider_set",
        organisation=provider,
        obj=mark,
        detail={"service": service.code, "reason": reason, "previous_reason": previous},
    )
    return mark


@transaction.atomic
def manual_entry_provider_remove(*, user, manual_entry_id: int) -> ManualEntryProvider:
    """Unmark: the provider's data for the service come from GPES extracts again.  Audited."""
    mark = (
        ManualEntryProvider.objects.select_for_update(of=("self",))
        .select_related("provider", "service")
        .filter(pk=manual_entry_id)
        .first()
    )
    if mark is None or not rules.can_enter_as_commissioner(user, mark.provider):
        raise AchievementNotFound("No such manual-entry provider")
    audit_record(
        actor=user,
        action="manual_entry_provider_removed",
        organisation=mark.provider,
        obj=mark,
        detail={"service": mark.service.code, "reason": mark.reason},
    )
    mark.delete()
    return mark
