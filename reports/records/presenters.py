"""What the records reports show, shaped for their templates and exports (which decide nothing).

The Achievement Summary Report's indicator rows are Achievement Results' own
(``declarations.presenters.AchievementResults``), so its figures are the screen's to the penny;
its history is composed by ``declarations.history`` (amounts hidden unless the reader may see
money).  Pounds are put in a presenter only when ``show_money``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from accounts.formatting import money
from declarations.history import transition_note
from declarations.models import DeclarationStatus
from declarations.presenters import AchievementResults


@dataclass(frozen=True)
class Step:
    """Who declared / approved / financially approved, when, and the amount (money roles)."""

    label: str
    by: str | None
    at: dt.datetime | None
    amount: str | None


@dataclass(frozen=True)
class AchievementSummaryReport:
    achievement: object
    declaration: object | None
    status: str | None
    status_key: str | None
    results: AchievementResults | None
    indicator_results: tuple  # the stored IndicatorCalculation rows (the CSV's raw figures)
    sections: tuple[SummarySection, ...]
    steps: tuple[Step, ...]
    history: tuple[dict, ...]
    show_money: bool
    generated_at: dt.datetime

    @classmethod
    def build(cls, *, achievement, indicator_results, transitions, show_money: bool, generated_at) -> AchievementSummaryReport:
        calculation = getattr(achievement, "calculation", None)
        declaration = getattr(achievement, "declaration", None)
        results = None
        indicator_results = tuple(indicator_results)
        if calculation is not None:
            results = AchievementResults.build(
                calculation=calculation, results=indicator_results, show_money=show_money
            )
        steps: tuple[Step, ...] = ()
        if declaration is not None:
            steps = (
                _step("Declared", declaration.declared_by, declaration.declared_at, declaration.amount_declared, show_money),
                _step("Approved", declaration.approved_by, declaration.approved_at, declaration.amount_approved, show_money),
                _step(
                    "Financially approved",
                    declaration.finance_approved_by,
                    declaration.finance_approved_at,
                    declaration.amount_finance_approved,
                    show_money,
                ),
            )
        history = tuple(
            {
                "at": t.at,
                "from": DeclarationStatus(t.from_status).label if t.from_status else "",
                "to": DeclarationStatus(t.to_status).label,
                "by": t.by.get_full_name() if t.by else "CQRS",
                "note": transition_note(t, show_money=show_money),
                "amount": money(t.amount) if show_money and t.amount is not None else None,
            }
            for t in transitions
        )
        return cls(
            achievement=achievement,
            declaration=declaration,
            status=declaration.get_status_display() if declaration else None,
            status_key=declaration.status if declaration else None,
            results=results,
            indicator_results=indicator_results,
            sections=_sections(results),
            steps=steps,
            history=history,
            show_money=show_money,
            generated_at=generated_at,
        )


def values_shown(row) -> str:
    """The Values cell: what the provider supplied for the indicator."""
    if row.denominator is not None or row.numerator is not None:
        return f"{row.numerator if row.numerator is not None else '-'} of {row.denominator if row.denominator is not None else '-'}"
    if row.register is not None:
        return f"Register {row.register}"
    if row.answer:
        return row.answer
    if row.value is not None:
        return str(row.value)
    return "-"


@dataclass(frozen=True)
class SummarySection:
    domain: str
    name: str
    rows: tuple  # (IndicatorResultRow, values shown)


def _sections(results: AchievementResults | None) -> tuple[SummarySection, ...]:
    if results is None:
        return ()
    return tuple(
        SummarySection(group.domain, group.name, tuple((row, values_shown(row)) for row in group.rows))
        for group in results.groups
    )


def _step(label, by, at, amount, show_money: bool) -> Step:
    return Step(
        label=label,
        by=by.get_full_name() if by else ("CQRS" if at else None),
        at=at,
        amount=money(amount) if show_money else None,
    )


# --- Payments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRow:
    """One provider's payment for one achievement date: raw values for the exports, the
    formatted ones for the page."""

    declaration_id: int
    provider: str
    ods_code: str
    pcn: str
    sub_icb: str
    service: str
    achievement_date: dt.date
    status: str
    status_key: str
    calculated: Decimal | None
    declared: Decimal | None
    declared_at: dt.datetime | None
    approved: Decimal | None
    approved_at: dt.datetime | None
    finance_approved: Decimal | None
    finance_approved_at: dt.datetime | None

    @property
    def shown(self) -> dict:
        return {
            "calculated": money(self.calculated) or "-",
            "declared": money(self.declared) or "-",
            "approved": money(self.approved) or "-",
            "finance_approved": money(self.finance_approved) or "-",
        }


def payment_row(declaration) -> PaymentRow:
    provider = declaration.provider
    return PaymentRow(
        declaration_id=declaration.pk,
        provider=provider.name,
        ods_code=provider.ods_code,
        pcn=provider.pcn.ods_code if provider.pcn_id else "",
        sub_icb=provider.parent.ods_code if provider.parent_id and provider.parent.kind == "sub_icb" else "",
        service=declaration.service.code,
        achievement_date=declaration.achievement_date.date,
        status=declaration.get_status_display(),
        status_key=declaration.status,
        calculated=declaration.calculation.total_amount,
        declared=declaration.amount_declared,
        declared_at=declaration.declared_at,
        approved=declaration.amount_approved,
        approved_at=declaration.approved_at,
        finance_approved=declaration.amount_finance_approved,
        finance_approved_at=declaration.finance_approved_at,
    )


def payment_totals_shown(totals: dict) -> dict:
    return {key: value if key == "count" else money(value) for key, value in totals.items()}


# --- Network organisation relationship ----------------------------------------------------------


@dataclass(frozen=True)
class NetworkRow:
    pcn_name: str
    pcn_code: str
    practice_name: str
    practice_code: str
    sub_icb: str
    member_from: str  # dd/mm/yyyy, or NOT_RECORDED
    member_to: str  # dd/mm/yyyy; "" while still a member


NOT_RECORDED = "Not recorded"


def _date(value) -> str:
    return f"{value:%d/%m/%Y}" if value else NOT_RECORDED


def network_rows(*, practices, pcns, memberships=()) -> list[NetworkRow]:
    """One row per PCN membership of each practice, past and current, with its dates
    (``memberships``: the recorded ones, docs/adr/0020); a practice with none recorded is a row
    under its current PCN from a date not recorded; practices with no PCN last, and a row for each
    PCN with no practice in scope."""
    by_practice: dict[int, list] = {}
    for membership in memberships:
        by_practice.setdefault(membership.practice_id, []).append(membership)
    keyed: list[tuple[tuple, NetworkRow]] = []
    with_practices: set[int] = set()
    for practice in practices:
        sub_icb = f"{practice.parent.name} ({practice.parent.ods_code})" if practice.parent_id else ""
        spans = [(m.pcn, m.start, m.end) for m in by_practice.get(practice.pk, ())]
        if not spans:
            spans = [(practice.pcn, None, None)]
        for pcn, start, end in spans:
            if pcn is not None:
                with_practices.add(pcn.pk)
            row = NetworkRow(
                pcn_name=pcn.name if pcn else "No PCN",
                pcn_code=pcn.ods_code if pcn else "",
                practice_name=practice.name,
                practice_code=practice.ods_code,
                sub_icb=sub_icb,
                member_from=_date(start) if pcn else NOT_RECORDED,
                member_to=(f"{end:%d/%m/%Y}" if end else "") if pcn else NOT_RECORDED,
            )
            keyed.append(((pcn is None, row.pcn_name, row.practice_name, start or dt.date.min), row))
    for pcn in pcns:
        if pcn.pk not in with_practices:
            row = NetworkRow(pcn.name, pcn.ods_code, "", "", "", NOT_RECORDED, NOT_RECORDED)
            keyed.append(((False, pcn.name, "", dt.date.min), row))
    keyed.sort(key=lambda item: item[0])
    return [row for _, row in keyed]
