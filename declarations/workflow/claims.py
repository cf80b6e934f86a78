"""Monthly claims (issue 16): declaring several months at once, and approving a month for an ICB.

Both are the existing use cases (``use_cases.declaration_declare`` and ``declarations_approve``),
run over a selection, every one or none: each month's payment is still its own declaration, with
its own record, task and message.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from declarations.errors import DeclarationInvalid
from declarations.models import Declaration

from .use_cases import declaration_declare, declarations_approve

NOTHING_SELECTED = "Select at least one month to declare."
NOTHING_TO_APPROVE = "No claim of this month is awaiting your approval."


@transaction.atomic
def claims_declare(*, declaration_ids: Sequence[int], user, note: str = "") -> list[Declaration]:
    """Declare Achievement for each selected month's payment, every one or none (in id order, so
    two declarers lock the rows in the same order).  The rules are ``declaration_declare``'s: the
    user's Declaration Management at the provider, each Awaiting Service Provider Approval, each
    calculated from the current data."""
    ids = sorted(set(declaration_ids))
    if not ids:
        raise DeclarationInvalid(NOTHING_SELECTED)
    return [declaration_declare(declaration_id=pk, user=user, note=note) for pk in ids]


@transaction.atomic
def claims_month_approve(*, declaration_ids: Sequence[int], user, note: str = "") -> list[Declaration]:
    """Approve a month for the ICB: every declaration of the month awaiting the user's approval
    (``claims.month_declaration_ids_to_approve``), every one or none, by the rules of
    ``declarations_approve`` (Approval Management at the commissioning ICB, not the declarer)."""
    if not declaration_ids:
        raise DeclarationInvalid(NOTHING_TO_APPROVE)
    return declarations_approve(declaration_ids=declaration_ids, user=user, note=note)
