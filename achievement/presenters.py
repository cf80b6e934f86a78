"""Shape what the achievement templates show (they decide nothing): Extract Loads, and Record
Achievement's panel, achievement summary and group page."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

from accounts.formatting import money
from participation.definitions import YES_NO_FIELD

from .entry_rules import FieldState, TickBoxState
from .models import Achievement, ExtractLoad, ExtractStatus, SubmissionStatus
from .services import extract_progress

IN_PROGRESS = (ExtractStatus.RECEIVED, ExtractStatus.VALIDATING)


@dataclass(frozen=True)
class ExtractLoadRow:
    extract: ExtractLoad
    status_label: str
    rows_done: int
    rows_total: int
    in_progress: bool

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


def extract_load_row(extract: ExtractLoad) -> ExtractLoadRow:
    return ExtractLoadRow(
        extract=extract,
        status_label=extract.get_status_display(),
        rows_done=extract_progress(extract),
        rows_total=extract.rows_total,
        in_progress=extract.status in IN_PROGRESS,
    )


# --- Record Achievement --------------------------------------------------------------------


@dataclass(frozen=True)
class Screens:
    """Which Data Submission screens an achievement is shown on: the provider's Record
    Achievement, or the commissioner's Record Provider Achievement (the same pages, their own
    URLs, entering as the Commissioning Organisation)."""

    commissioner: bool
    list: str  # URL names
    detail: str
    group: str
    tick_box: str
    list_label: str

    def list_url(self, achievement) -> str:
        params = {"financial_year": achievement.service.financial_year_id, "service": achievement.service_id}
        if self.commissioner:
            params["provider"] = achievement.provider_id
        return f"{reverse(self.list)}?{urlencode(params)}"


PROVIDER_SCREENS = Screens(
    commissioner=False,
    list="achievement:record_achievement",
    detail="achievement:record_achievement_detail",
    group="achievement:group_detail",
    tick_box="achievement:group_tick_box",
    list_label="Record Achievement",
)
COMMISSIONER_SCREENS = Screens(
    commissioner=True,
    list="achievement:record_provider_achievement",
    detail="achievement:record_provider_achievement_detail",
    group="achievement:record_provider_group_detail",
    tick_box="achievement:record_provider_group_tick_box",
    list_label="Record Provider Achievement",
)


def submission_status_label(status: str | None) -> str:
    if status is None:
        return "No data submitted"
    return SubmissionStatus(status).label


@dataclass(frozen=True)
class DateRow:
    """A valid achievement date beside the drop-down; payment dates highlighted yellow."""

    label: str
    is_payment_date: bool
    recorded: bool


@dataclass(frozen=True)
class AchievementPanelRow:
    achievement: Achievement
    date_label: str
    is_payment_date: bool
    provider_label: str
    status_label: str
    last_at: object
    url: str


def achievement_panel_rows(achievements, screens: Screens = PROVIDER_SCREENS) -> list[AchievementPanelRow]:
    return [
        AchievementPanelRow(
            achievement=a,
            date_label=f"{a.achievement_date.date:%d/%m/%Y}",
            is_payment_date=a.achievement_date.is_payment_date,
            provider_label=f"{a.provider.name} ({a.provider.ods_code})",
            status_label=submission_status_label(getattr(a, "last_status", None)),
            last_at=getattr(a, "last_at", None),
            url=reverse(screens.detail, args=[a.pk]),
        )
        for a in achievements
    ]


@dataclass(frozen=True)
class GroupRow:
    code: str
    name: str
    url: str
    submitted: int
    total: int

    @property
    def complete(self) -> bool:
        return self.submitted == self.total

    @property
    def indicators_submitted(self) -> str:
        return f"{self.submitted} of {self.total}"


@dataclass
class SubDomainBlock:
    name: str
    groups: list[GroupRow] = field(default_factory=list)


@dataclass
class DomainBlock:
    name: str
    sub_domains: list[SubDomainBlock] = field(default_factory=list)


@dataclass(frozen=True)
class AchievementSummary:
    """The achievement page: its Indicator Groups by domain and sub-domain, each with its
    "indicators submitted" n of m, the incomplete ones flagged; and the calculated payment."""

    domains: list[DomainBlock]
    incomplete: list[GroupRow]
    payment: str | None
    points: str | None
    calculated: bool
    # A practice's Network Contract DES achievement is not paid itself: its data are aggregated
    # into its PCN's achievement, which is (the PCN's name; "" otherwise).
    paid_to_pcn: str = ""


def achievement_summary(
    *,
    achievement,
    groups,
    counts,
    calculation,
    show_money: bool,
    screens: Screens = PROVIDER_SCREENS,
    paid_to_pcn: tuple[bool, object] = (False, None),
) -> AchievementSummary:
    """``calculation``: the achievement's calculated payment.  ``paid_to_pcn``
    (``selectors.paid_to_pcn``): (True, the PCN on the date or None) for a practice's Network
    Contract DES achievement, which has no payment of its own (the PCN is paid, from the
    aggregation): it is shown as not calculated, saying whose payment it feeds, as Achievement
    Results shows it, never with the PCN's amount as the practice's."""
    domains: dict[int, DomainBlock] = {}
    incomplete = []
    for group in groups:
        submitted, total = counts.get(group.pk, (0, 0))
        row = GroupRow(
            code=group.code,
            name=group.name,
            url=reverse(screens.group, args=[achievement.pk, group.pk]),
            submitted=submitted,
            total=total,
        )
        block = domains.setdefault(group.domain_id, DomainBlock(group.domain.name))
        if not block.sub_domains or block.sub_domains[-1].name != group.sub_domain:
            block.sub_domains.append(SubDomainBlock(group.sub_domain))
        block.sub_domains[-1].groups.append(row)
        if not row.complete:
            incomplete.append(row)
    pcn = ""
    if paid_to_pcn[0]:
        calculation = None
        found = paid_to_pcn[1]
        pcn = f"{found.name} ({found.ods_code})" if found is not None else "its PCN"
    return AchievementSummary(
        domains=list(domains.values()),
        incomplete=incomplete,
        payment=money(calculation.total_amount) if calculation is not None and show_money else None,
        points=f"{calculation.total_points:.2f}" if calculation is not None else None,
        calculated=calculation is not None,
        paid_to_pcn=pcn,
    )


def _shown(field_name: str, value: int | None) -> str:
    if value is None:
        return ""
    if field_name == YES_NO_FIELD:
        return "Yes" if value > 0 else "No"
    return f"{value:,}"


COMMISSIONER_ENTRY_LABEL = "Commissioning Organisation entry"


@dataclass(frozen=True)
class FieldRow:
    state: FieldState
    label: str
    current: str
    form_field: object  # the bound New Value field, when enterable
    # "Commissioning Organisation entry" (with who and when) when the commissioner set the value.
    source_label: str = ""


@dataclass(frozen=True)
class TickBoxRow:
    state: TickBoxState
    value_label: str
    form_action: str


@dataclass
class IndicatorBlock:
    code: str
    name: str
    kind_label: str
    fields: list[FieldRow] = field(default_factory=list)
    tick_box: TickBoxRow | None = None

    @property
    def reasons(self) -> list[str]:
        """Why fields are read-only, each once."""
        seen = []
        for row in self.fields:
            if row.state.reason and row.state.reason not in seen:
                seen.append(row.state.reason)
        return seen


@dataclass(frozen=True)
class HistoryRow:
    status: str  # the stored value: its tag's colour comes from accounts.status_tags
    status_label: str
    source_label: str
    at: object
    by: str
    notes: str
    is_current: bool


def _source_label(state: FieldState) -> str:
    if not state.commissioner_entry:
        return ""
    who = f" by {state.entered_by}" if state.entered_by else ""
    when = f" on {state.entered_at:%d/%m/%Y}" if state.entered_at else ""
    return f"Entered{who}{when}"


def indicator_blocks(
    *, achievement, indicators, field_states, tick_box_states, form, screens: Screens = PROVIDER_SCREENS
) -> list[IndicatorBlock]:
    blocks = {i.pk: IndicatorBlock(i.code, i.name, i.get_kind_display()) for i in indicators}
    for state in field_states:
        blocks[state.indicator.pk].fields.append(
            FieldRow(
                state=state,
                label=state.field_name,
                current=_shown(state.field_name, state.current),
                form_field=form[state.name] if form is not None and state.name in form.fields else None,
                source_label=_source_label(state),
            )
        )
    for state in tick_box_states:
        blocks[state.indicator.pk].tick_box = TickBoxRow(
            state=state,
            value_label="Yes" if state.value else "No",
            form_action=reverse(screens.tick_box, args=[achievement.pk, state.indicator.pk]),
        )
    return list(blocks.values())


def history_rows(submissions) -> list[HistoryRow]:
    return [
        HistoryRow(
            status=s.status,
            status_label=s.get_status_display(),
            source_label=s.get_source_display(),
            at=s.submitted_at or s.created_at,
            by=s.created_by.get_full_name() if s.created_by else "GPES",
            notes=s.notes,
            is_current=s.is_current,
        )
        for s in submissions
    ]


@dataclass(frozen=True)
class ManualEntryRow:
    """A provider marked as having no automatic extract for the service, and who marked it."""

    pk: int
    provider_label: str
    reason_label: str
    set_by: str
    set_at: object


def manual_entry_rows(marks) -> list[ManualEntryRow]:
    return [
        ManualEntryRow(
            pk=m.pk,
            provider_label=f"{m.provider.name} ({m.provider.ods_code})",
            reason_label=m.get_reason_display(),
            set_by=m.set_by.get_full_name() if m.set_by else "",
            set_at=m.set_at,
        )
        for m in marks
    ]
