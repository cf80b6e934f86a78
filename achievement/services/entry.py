"""Data Submission: Add New Achievement, and manual entry and adjustment of an achievement's
values (Save Work in Progress, Submit Achievement Data).  Who may enter what is decided by
achievement/entry_rules.py; these use cases enforce it and record the result."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind
from accounts.services import audit_record
from achievement import entry_rules, hooks, payments, plausibility, rules, selectors
from achievement.errors import AchievementEntryError, AchievementNotAllowed, AchievementNotFound
from achievement.models import Achievement, IndicatorValue, Submission, SubmissionSource
from participation.models import AchievementDate, Indicator, OfferStatus, ProviderLevel, ServiceOffer

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
            action="achievement_added",
            organisation=provider,
            obj=achievement,
            detail={"service": service.code, "achievement_date": f"{achievement_date.date:%Y-%m-%d}"},
        )
    return achievement, created


def _entry_state(*, user, achievement: Achievement):
    """Every indicator of the achievement and what this user may give a New Value."""
    indicators = list(
        Indicator.objects.filter(service_id=achievement.service_id).order_by("group_id", "position", "pk")
    )
    data = selectors.entry_data(achievement=achievement, indicators=indicators)
    field_states, _, achievement_reason = entry_rules.entry_states(user=user, data=data)
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
    payments.lock(achievement)  # "not financially approved" holds until this commits
    group_indicator_ids = set(
        Indicator.objects.filter(group_id=group_id, service_id=achievement.service_id).values_list("pk", flat=True)
    )
    if not group_indicator_ids:
        raise AchievementNotFound("No indicator group found")
    data, field_states, achievement_reason = _entry_state(user=user, achievement=achievement)
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
    if submission is None:
        submission = Submission.objects.create(
            achievement=achievement, source=SubmissionSource.MANUAL, created_by=user, created_at=now, notes=notes
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
            action="achievement_work_in_progress_saved",
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
    audit_record(
        actor=user,
        action="achievement_submitted",
        organisation=achievement.provider,
        obj=submission,
        detail={"achievement": achievement.pk, "changed": len(deltas), "superseded": getattr(data.current, "pk", None)},
    )
    hooks.achievements_changed([achievement.pk])
    return submission
