"""The rules of Data Submission: what may be entered, adjusted and ticked, and why not (one place
for each rule).

Job aids "manual entry", "manual adjustment" and "the tick-box indicator";
docs/adr/0005-manual-entry.md records how they are read.

Words used here:

- *entry*: giving a value to a field that has none in the last submission;
- *adjustment*: changing a value the last submission holds.

Entry is allowed, to a holder of Achievement Entry at the provider, for (``field_blocked_reason``):

- a manual indicator (``entry: manual``), or any indicator of a provider without automatic
  extracts (``Organisation.automatic_extracts`` False);
- an automatic indicator whose value the latest GPES extract (or, for a PCN, the latest
  aggregation of its practices' extracts) did not supply: the job aids' "technical issue that
  prevents automatic extracts", and the first job aid's "enter the missing indicator data".
  A value the extract supplied is never entered by hand.

It is refused for a Commissioning Organisation entry, a PCN-set indicator at a practice, the
Network Contract DES at a practice (its achievement is the PCN's: the PCN enters), and a payment
that has been financially approved.  Adjustment is further limited by
``adjustment_blocked_reason``.

A provider marked by its commissioner as having no automatic extract for the service
(``ManualEntryProvider``) enters every indicator, as one without automatic extracts does.

The Commissioning Organisation (Commissioning Management at the provider's ICB, Record Provider
Achievement: ``commissioner=True``) enters and adjusts any field of any date until the payment is
financially approved: the provider's limits (the extract supplied it, the last day of the payment
period is submitted, a commissioner-set indicator) are not its limits.  What it sets is a
*Commissioning Organisation entry* (``CommissionerEntry``), which the provider then may not adjust.
A practice's Network Contract DES is entered on its PCN's achievement, as the PCN does, and a
PCN-set indicator stays the PCN's.  docs/adr/0019-commissioner-entries-and-manual-providers.md.

Who holds which role, and the django-rules permissions (``achievement.*``), are in
``achievement.rules``; the state of the payment is asked through ``achievement.payments``.

The fields an indicator shows and needs (and ``TICK_BOX_KINDS``, ``fraction_errors``) are
``achievement.entry_fields``, re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts import permissions
from accounts.models import Organisation, OrganisationKind
from participation.models import AchievementDate, EntryKind, Indicator, ProviderLevel

from . import payments
from .entry_fields import (
    TICK_BOX_KINDS,
    fraction_errors,
    indicator_fields,
    indicator_submitted,
    required_fields,
)
from .models import Achievement, Submission, SubmissionStatus
from .rules import COMMISSIONER_TICK_BOX_ROLES, READ_ROLES, can_enter, can_enter_as_commissioner, can_read

__all__ = [
    "COMMISSIONER_ENTRY",
    "DECLARED",
    "FINANCIALLY_APPROVED",
    "LAST_DAY_SUBMITTED",
    "NCD_AT_PRACTICE",
    "NCD_AT_PRACTICE_COMMISSIONER",
    "NO_ENTRY_ROLE",
    "NOT_A_TICK_BOX",
    "NOT_COMMISSIONER",
    "PCN_SETS_IT",
    "SUPPLIED_BY_AGGREGATION",
    "SUPPLIED_BY_EXTRACT",
    "TICK_BOX_KINDS",
    "VIEW_ONLY",
    "FieldState",
    "TickBoxState",
    "achievement_entry_blocked_reason",
    "adjustment_blocked_reason",
    "entry_states",
    "field_blocked_reason",
    "fraction_errors",
    "indicator_fields",
    "indicator_submitted",
    "required_fields",
    "tick_box_blocked_reason",
    "tick_box_provider_id",
]

# Why a field is read-only: the words the page shows beside it.
VIEW_ONLY = "You have View access: the values are read-only."
NO_ENTRY_ROLE = "You do not hold the Achievement Entry role for this organisation."
NCD_AT_PRACTICE = (
    "The Network Contract DES is paid to your PCN: its achievement is the aggregation of its "
    "practices' data, and missing data are entered by the PCN."
)
PCN_SETS_IT = "This indicator is set by the PCN."
SUPPLIED_BY_EXTRACT = "Supplied by the GPES extract: it cannot be entered manually."
SUPPLIED_BY_AGGREGATION = "Supplied by the GPES extracts of the PCN's practices: it cannot be entered manually."
COMMISSIONER_ENTRY = "The achievement data are set as a Commissioning Organisation entry."
NOT_COMMISSIONER = (
    "You do not hold the Commissioning Management role at the Commissioning Organisation of this provider."
)
NCD_AT_PRACTICE_COMMISSIONER = (
    "The Network Contract DES is paid to the practice's PCN: enter its achievement data on the PCN's achievement."
)
FINANCIALLY_APPROVED = "A payment has been financially approved based on the submitted achievement data."
LAST_DAY_SUBMITTED = "Achievement data have already been submitted for the last day of the payment period ({date})."
DECLARED = "The PCN has declared the payment: only the Commissioning Organisation can change it now."
NOT_A_TICK_BOX = "This indicator is not a tick-box indicator."


@dataclass(frozen=True)
class _AdjustmentFacts:
    financially_approved: bool
    last_day: AchievementDate | None
    last_day_submitted: bool


def _adjustment_facts(achievement: Achievement) -> _AdjustmentFacts:
    """The achievement-level facts of the adjustment rules: two queries, memoised on the
    achievement object so a page asks them once whatever the number of indicators."""
    cached = getattr(achievement, "_cqrs_adjustment_facts", None)
    if cached is not None:
        return cached
    date = achievement.achievement_date
    dates = AchievementDate.objects.filter(service_id=achievement.service_id)
    # The last day of the payment period: the first payment date on or after this date (the
    # service's last date when none is marked).
    last_day = dates.filter(date__gte=date.date, is_payment_date=True).order_by("date").first()
    if last_day is None:
        last_day = dates.order_by("-date").first()
    last_day_submitted = last_day is not None and Submission.objects.filter(
        achievement__provider_id=achievement.provider_id,
        achievement__achievement_date_id=last_day.pk,
        status=SubmissionStatus.SUBMITTED,
    ).exists()
    facts = _AdjustmentFacts(
        financially_approved=payments.is_financially_approved(achievement),
        last_day=last_day,
        last_day_submitted=last_day_submitted,
    )
    achievement._cqrs_adjustment_facts = facts
    return facts


def adjustment_blocked_reason(
    *,
    achievement: Achievement,
    indicator: Indicator | None = None,
    commissioner_entry: bool = False,
) -> str | None:
    """Why submitted data of this achievement (of this indicator) may not be adjusted; None if
    they may.

    Job aid "manual adjustment": providers may update manually submitted data providing
    (1) achievement data have not already been submitted for the last day of the payment period
    (the first payment date on or after the achievement date; the payment date's own data
    included: once it is submitted the period is closed), (2) no payment has been financially
    approved based on them (the job aid's "has been" read as "has not been"; asked of the
    payments app through ``achievement.payments``), and (3) the data are not set as a
    Commissioning Organisation entry (the indicator's ``entry`` is ``commissioner``, or
    ``commissioner_entry``: the commissioner set this value, ``CommissionerEntry``).
    """
    facts = _adjustment_facts(achievement)
    if facts.financially_approved:
        return FINANCIALLY_APPROVED
    if facts.last_day_submitted:
        return LAST_DAY_SUBMITTED.format(date=f"{facts.last_day.date:%d/%m/%Y}")
    if indicator is not None and indicator.entry == EntryKind.COMMISSIONER:
        return COMMISSIONER_ENTRY
    if commissioner_entry:
        return COMMISSIONER_ENTRY
    return None


# --- what may be entered ------------------------------------------------------------------


def achievement_entry_blocked_reason(*, user, achievement: Achievement, commissioner: bool = False) -> str | None:
    """Why this user may enter nothing at all in this achievement (None: field by field);
    ``commissioner``: as its Commissioning Organisation (Record Provider Achievement)."""
    if commissioner:
        if not can_enter_as_commissioner(user, achievement.provider):
            return NOT_COMMISSIONER
        if (
            achievement.service.provider_level == ProviderLevel.PCN
            and achievement.provider.kind == OrganisationKind.PRACTICE
        ):
            return NCD_AT_PRACTICE_COMMISSIONER
        if _adjustment_facts(achievement).financially_approved:
            return FINANCIALLY_APPROVED
        return None
    if not can_enter(user, achievement.provider_id):
        return VIEW_ONLY if can_read(user, achievement.provider_id) else NO_ENTRY_ROLE
    if (
        achievement.service.provider_level == ProviderLevel.PCN
        and achievement.provider.kind == OrganisationKind.PRACTICE
    ):
        return NCD_AT_PRACTICE
    if _adjustment_facts(achievement).financially_approved:
        return FINANCIALLY_APPROVED
    return None


def field_blocked_reason(
    *,
    achievement: Achievement,
    indicator: Indicator,
    has_value: bool,
    supplied_automatically: bool,
    achievement_reason: str | None,
    commissioner_entry: bool = False,
    manual_entry: bool = False,
    commissioner: bool = False,
) -> str | None:
    """Why one field of an indicator is read-only for this user; None when it can be given a New
    Value.  ``has_value``: the last submission holds it (a change is an adjustment);
    ``supplied_automatically``: the latest extract or aggregation holds it;
    ``achievement_reason``: ``achievement_entry_blocked_reason`` for the user, asked once;
    ``commissioner_entry``: the value is a Commissioning Organisation entry; ``manual_entry``:
    the provider has no automatic extract for the service (``ManualEntryProvider``);
    ``commissioner``: the user enters as the Commissioning Organisation."""
    if achievement_reason is not None:
        return achievement_reason
    if indicator.entry == EntryKind.PCN and achievement.provider.kind != OrganisationKind.PCN:
        return PCN_SETS_IT
    if commissioner:
        return None  # any field, entry or adjustment, until financial approval (achievement_reason)
    if indicator.entry == EntryKind.COMMISSIONER or commissioner_entry:
        return COMMISSIONER_ENTRY
    automatic = achievement.provider.automatic_extracts and not manual_entry
    if indicator.entry == EntryKind.AUTOMATIC and automatic and supplied_automatically:
        if achievement.provider.kind == OrganisationKind.PCN:
            return SUPPLIED_BY_AGGREGATION
        return SUPPLIED_BY_EXTRACT
    if has_value:
        return adjustment_blocked_reason(achievement=achievement, indicator=indicator)
    return None


@dataclass(frozen=True)
class FieldState:
    """One field of an indicator on the group page: its values and whether it takes a New Value."""

    indicator: Indicator
    field_name: str
    current: int | None  # in the last submission
    wip: int | None  # in the open Work in Progress
    reason: str | None  # why it is read-only; None: it takes a New Value
    position: int = 0  # among the indicator's fields
    # The value is a Commissioning Organisation entry: who set it and when ("" and None if not).
    commissioner_entry: bool = False
    entered_by: str = ""
    entered_at: object = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.indicator.pk, self.field_name)

    @property
    def name(self) -> str:
        """The New Value's form field name."""
        return f"new-{self.indicator.pk}-{self.position}"

    @property
    def editable(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class TickBoxState:
    indicator: Indicator
    value: bool
    reason: str | None


def entry_states(*, user, data, commissioner: bool = False) -> tuple[list[FieldState], list[TickBoxState], str | None]:
    """Decide, for every field of ``data.indicators`` (``selectors.EntryData``), whether this
    user may give it a New Value and why not; likewise each tick-box.  ``commissioner``: the
    user enters as the Commissioning Organisation (Record Provider Achievement).  No query
    beyond the memoised adjustment facts and the user's memberships, whatever the number of
    indicators.  Returns (field states, tick-box states, the achievement-wide reason if nothing
    is enterable)."""
    achievement = data.achievement
    achievement_reason = achievement_entry_blocked_reason(user=user, achievement=achievement, commissioner=commissioner)
    marks = getattr(data, "commissioner_entries", {}) or {}
    manual_entry = getattr(data, "manual_entry", None) is not None
    fields: list[FieldState] = []
    tick_boxes: list[TickBoxState] = []
    tick_box_provider = None
    for indicator in data.indicators:
        if indicator.kind in TICK_BOX_KINDS:
            if tick_box_provider is None:
                tick_box_provider = (
                    achievement.provider
                    if data.tick_box_provider_id == achievement.provider_id
                    else achievement.provider.pcn  # a practice's NCD: the PCN's tick-box
                )
            tick_boxes.append(
                TickBoxState(
                    indicator=indicator,
                    value=data.tick_boxes.get(indicator.code, False),
                    reason=tick_box_blocked_reason(
                        user=user, provider=tick_box_provider, indicator=indicator, achievement=achievement
                    ),
                )
            )
            continue
        for position, name in enumerate(indicator_fields(indicator)):
            key = (indicator.pk, name)
            current = data.current_values.get(key)
            mark = marks.get(key)
            fields.append(
                FieldState(
                    indicator=indicator,
                    field_name=name,
                    current=current,
                    wip=data.wip_values.get(key),
                    position=position,
                    reason=field_blocked_reason(
                        achievement=achievement,
                        indicator=indicator,
                        has_value=current is not None,
                        supplied_automatically=key in data.automatic_values,
                        achievement_reason=achievement_reason,
                        commissioner_entry=mark is not None,
                        manual_entry=manual_entry,
                        commissioner=commissioner,
                    ),
                    commissioner_entry=mark is not None,
                    entered_by=(mark.entered_by.get_full_name() if mark and mark.entered_by else ""),
                    entered_at=mark.entered_at if mark else None,
                )
            )
    return fields, tick_boxes, achievement_reason


# --- tick-box indicators -----------------------------------------------------------------


def tick_box_provider_id(achievement: Achievement) -> int:
    """Whose tick-box an achievement shows: the PCN's for a practice's Network Contract DES
    achievement (the PCN sets it), else the provider's own."""
    if (
        achievement.service.provider_level == ProviderLevel.PCN
        and achievement.provider.kind == OrganisationKind.PRACTICE
        and achievement.provider.pcn_id is not None
    ):
        return achievement.provider.pcn_id
    return achievement.provider_id


def tick_box_blocked_reason(*, user, provider: Organisation, indicator: Indicator, achievement: Achievement | None) -> str | None:
    """Why this user may not change the tick-box; None when they may.

    Tick-box job aid: the PCN user (Achievement Entry at the PCN that sets it) changes it until
    the PCN declares; the Commissioning Organisation (Commissioning or Approval Management at
    the provider's ICB) until the payment is financially approved; the practice sees it
    read-only.  (The payment's state is asked once, through ``achievement.payments``.)
    """
    if indicator.kind not in TICK_BOX_KINDS:
        return NOT_A_TICK_BOX
    is_provider = can_enter(user, provider)
    is_commissioner = permissions.can_act_as_commissioner(user, provider, COMMISSIONER_TICK_BOX_ROLES)
    if not (is_provider or is_commissioner):
        if provider.kind == OrganisationKind.PCN and permissions.has_any_role(user, READ_ROLES):
            return PCN_SETS_IT
        return VIEW_ONLY if can_read(user, provider) else NO_ENTRY_ROLE
    if achievement is not None:
        payment = payments.payment_state(achievement)
        if payment.financially_approved:
            return FINANCIALLY_APPROVED
        if not is_commissioner and payment.declared:
            return DECLARED
    return None
