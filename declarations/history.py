"""A declaration's history as each role sees it: the transition records, with their amounts.

A transition record keeps its amounts as data (``amount``, ``previous_amount``, and in ``detail``
the per-indicator changes a recalculation made); its ``note`` is words only, never money.  This
presenter composes what a reader is shown: a role that may see money gets the amounts ("the
payment is now £2,803.14, not the £2,750.00 declared (VI001 £10.00 -> £62.14)"), the View role
the same sentence with every amount hidden.  The message that tells the provider of a send-back
uses the same sentence (``recalculation_text``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from accounts import permissions
from accounts.formatting import money

from . import selectors
from .models import Declaration, DeclarationStatus, DeclarationTransition

AMOUNT_HIDDEN = "[amount hidden]"

# The reasons a recalculation writes a record (``detail["reason"]``).
RECALCULATED = "recalculated"  # not yet declared: the amount to declare changed
SENT_BACK = "sent_back"  # declared, not financially approved: it must be declared again
# Declared, not financially approved, and a practice joined or left the PCN after it was declared
# (its NCD achievement was aggregated again from the members on the date, docs/adr/0020).
REAGGREGATION = "sent_back_reaggregation"
AWAITING_REAGGREGATION = "Awaiting reaggregation: a practice joined or left the PCN after this payment was declared."

_RECALCULATED_NOTE = "Recalculated after the achievement data changed."
_NOTES = {
    RECALCULATED: _RECALCULATED_NOTE,
    SENT_BACK: f"{_RECALCULATED_NOTE} It must be declared again.",
    REAGGREGATION: f"{AWAITING_REAGGREGATION} It must be declared again.",
}


def recalculation_detail(*, reason: str, old: Mapping[str, Decimal], new: Mapping[str, Decimal]) -> dict:
    """What a recalculation changed, as the record's ``detail``: £ per indicator code, before and
    after, for the indicators whose amount changed (in code order)."""
    zero = Decimal(0)
    changes = [
        [code, str(old.get(code, zero)), str(new.get(code, zero))]
        for code in sorted(set(old) | set(new))
        if old.get(code, zero) != new.get(code, zero)
    ]
    return {"reason": reason, "changes": changes}


def recalculation_note(reason: str) -> str:
    """The record's note for a recalculation: the words, no money."""
    return _NOTES[reason]


def recalculation_text(
    *, reason: str, amount: Decimal | None, previous: Decimal | None, changes, show_money: bool
) -> str:
    """The sentence a recalculation's record reads as, with the amounts or with them hidden."""

    def pounds(value) -> str:
        if not show_money:
            return AMOUNT_HIDDEN
        return money(None if value is None else Decimal(value)) or "-"

    listed = "; ".join(f"{code} {pounds(was)} -> {pounds(now)}" for code, was, now in changes)
    listed = f" ({listed})" if listed else ""
    if reason == REAGGREGATION:
        return (
            f"{AWAITING_REAGGREGATION} Recalculated from the PCN's members on the achievement date: the payment "
            f"is now {pounds(amount)}, not the {pounds(previous)} declared{listed}. It must be declared again."
        )
    if reason == SENT_BACK:
        return (
            f"Recalculated after the achievement data changed: the payment is now {pounds(amount)}, "
            f"not the {pounds(previous)} declared{listed}. It must be declared again."
        )
    return (
        f"Recalculated after the achievement data changed: the payment is now {pounds(amount)}, "
        f"was {pounds(previous)}{listed}."
    )


def transition_note(transition: DeclarationTransition, *, show_money: bool) -> str:
    """A record's note as a reader sees it: a recalculation's sentence composed from its amounts
    (hidden unless ``show_money``), any other note as it was written."""
    reason = (transition.detail or {}).get("reason")
    if reason not in _NOTES:
        return transition.note
    return recalculation_text(
        reason=reason,
        amount=transition.amount,
        previous=transition.previous_amount,
        changes=transition.detail.get("changes", []),
        show_money=show_money,
    )


def history_rows(*, user, declaration: Declaration) -> list[dict]:
    """The declaration's History table for ``user``: when, from, to, by, note, and the amount for
    roles that may see money (None otherwise)."""
    show_money = permissions.can_see_money(user, declaration.provider)
    return [
        {
            "at": t.at,
            "from": DeclarationStatus(t.from_status).label if t.from_status else "",
            "to": DeclarationStatus(t.to_status).label,
            "by": t.by.get_full_name() if t.by else "CQRS",
            "note": transition_note(t, show_money=show_money),
            "amount": money(t.amount) if show_money and t.amount is not None else None,
        }
        for t in selectors.declaration_transitions(declaration=declaration)
    ]
