"""What the Declare and Declaration Management screens show of each declaration, prepared for
their templates (which decide nothing): the rows (from model instances, or from the dicts of
``selectors.declaration_management_rows`` without building any), the facts ``declarations.rules``
decides a row's action from, and the page's totals.

Pounds are only ever put in a row built with ``show_money=True`` (Declaration Management's rows
always show money: Approval and Finance Management may see it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from accounts.formatting import money
from participation.models import QualityService

from .models import DeclarationStatus


@dataclass(frozen=True)
class DeclarationRow:
    """One row of Declare or Declaration Management."""

    pk: int
    url: str
    provider: str
    ods_code: str
    service: str
    achievement_date: str
    status: str
    status_key: str  # the stored status: its tag colour is accounts.status_tags
    points: str
    calculated: str | None
    declared: str | None
    approved: str | None
    selectable: bool
    action: str  # "approve", "finance_approve" or ""
    finance_approved: str | None = None  # Declaration Management's Financially Approved column
    aspiration_paid: str = "-"  # issue 13: the aspiration paid by the date ("-": the service pays none)
    balance: str = "-"  # the calculated payment less the aspiration paid (negative: to be recovered)

    @property
    def select_label(self) -> str:
        """The row's checkbox, for screen readers."""
        return f"Select {self.provider}, {self.service}"


def declaration_row(declaration, *, url: str, show_money: bool, action: str = "") -> DeclarationRow:
    calculation = declaration.calculation
    return DeclarationRow(
        pk=declaration.pk,
        url=url,
        provider=declaration.provider.name,
        ods_code=declaration.provider.ods_code,
        service=declaration.service.label,
        achievement_date=f"{declaration.achievement_date.date:%d/%m/%Y}",
        status=declaration.get_status_display(),
        status_key=declaration.status,
        points=f"{calculation.total_points:.2f}",
        calculated=money(calculation.total_amount) if show_money else None,
        declared=(money(declaration.amount_declared) or "-") if show_money else None,
        approved=(money(declaration.amount_approved) or "-") if show_money else None,
        selectable=bool(action),
        action=action,
        finance_approved=(money(declaration.amount_finance_approved) or "-") if show_money else None,
    )


@dataclass(frozen=True)
class _Provider:
    commissioner_id: int | None


@dataclass(frozen=True)
class DeclarationFacts:
    """What ``declarations.rules`` reads of a declaration to say who may approve it, from a row of
    ``selectors.declaration_management_rows`` (Declaration Management builds no model instances:
    for 400 rows of five tables they cost more than the query)."""

    status: str
    declared_by_id: int | None
    approved_by_id: int | None
    provider: _Provider

    @classmethod
    def of(cls, values: dict) -> DeclarationFacts:
        return cls(
            status=values["status"],
            declared_by_id=values["declared_by_id"],
            approved_by_id=values["approved_by_id"],
            provider=_Provider(values["provider__commissioner_id"]),
        )


def declaration_management_rows(values: Iterable[dict], *, url, action) -> list[DeclarationRow]:
    """Declaration Management's rows (money shown: Approval and Finance Management may see it)
    from ``selectors.declaration_management_rows``; ``url(pk)`` is a row's link, ``action(facts)``
    what the user's Approve does to it (``rules.approve_action``)."""
    labels: dict[int, str] = {}
    dates: dict = {}  # the few achievement dates of a page, each written once
    statuses = dict(DeclarationStatus.choices)
    rows = []
    for v in values:
        date = v["achievement_date__date"]
        written = dates.get(date)
        if written is None:
            written = dates[date] = f"{date:%d/%m/%Y}"
        service_id = v["service_id"]
        label = labels.get(service_id)
        if label is None:
            label = labels[service_id] = QualityService(
                payment_type=v["service__payment_type"],
                payment_frequency=v["service__payment_frequency"],
                name=v["service__name"],
            ).label
        chosen = action(DeclarationFacts.of(v))
        rows.append(
            DeclarationRow(
                pk=v["pk"],
                url=url(v["pk"]),
                provider=v["provider__name"],
                ods_code=v["provider__ods_code"],
                service=label,
                achievement_date=written,
                status=statuses[v["status"]],
                status_key=v["status"],
                points=f"{v['calculation__total_points']:.2f}",
                calculated=money(v["calculation__total_amount"]),
                declared=money(v["amount_declared"]) or "-",
                approved=money(v["amount_approved"]) or "-",
                selectable=bool(chosen),
                action=chosen,
                finance_approved=money(v["amount_finance_approved"]) or "-",
            )
        )
    return rows


def declaration_management_totals(values: Sequence[dict]) -> dict:
    """The totals of Declaration Management's rows, from the rows the page read (the sums
    ``selectors.declaration_totals`` makes in SQL, without a second query): exact Decimal sums."""
    zero = Decimal("0.00")

    def total(field: str) -> Decimal:
        return sum((v[field] for v in values if v[field] is not None), zero)

    return {
        "count": len(values),
        "calculated": total("calculation__total_amount"),
        "declared": total("amount_declared"),
        "approved": total("amount_approved"),
        "finance_approved": total("amount_finance_approved"),
    }
