"""Who may approve, finance-approve and agree the points of an aspiration (one place for each).

As declarations (``declarations.rules``, ADR 0014): Approval Management at the ICB that commissions
the provider approves and agrees points; Finance Management there finance-approves, and never the
person who approved it (maker-checker).  The provider reads its own schedule with a results role.
"""

from __future__ import annotations

import rules as django_rules

from accounts import permissions
from declarations.models import AspirationStatus
from declarations.rules import APPROVE_ROLES, FINANCE_ROLES, MANAGEMENT_ROLES, RESULTS_ROLES

NOT_APPROVER = (
    "Only the Approval Management users of the Commissioning Organisation of this Service Provider "
    "can approve this aspiration payment."
)
NOT_FINANCE = (
    "Only the Finance Management users of the Commissioning Organisation of this Service Provider "
    "can finance-approve this aspiration payment."
)
NOT_AGREER = (
    "Only the Approval Management users of the Commissioning Organisation of this Service Provider "
    "can agree aspiration points with it."
)
OWN_APPROVAL = (
    "You approved this aspiration payment, so you cannot finance-approve it: another user must finance-approve it."
)


def approve_refused_reason(user, aspiration) -> str | None:
    if not permissions.can_act_as_commissioner(user, aspiration.provider, APPROVE_ROLES):
        return NOT_APPROVER
    return None


def finance_approve_refused_reason(user, aspiration) -> str | None:
    if not permissions.can_act_as_commissioner(user, aspiration.provider, FINANCE_ROLES):
        return NOT_FINANCE
    if aspiration.approved_by_id is not None and aspiration.approved_by_id == getattr(user, "pk", None):
        return OWN_APPROVAL
    return None


def agree_points_refused_reason(user, aspiration) -> str | None:
    return None if approve_refused_reason(user, aspiration) is None else NOT_AGREER


def approve_action(user, aspiration) -> str:
    """What this user's Approve does to the aspiration: "approve", "finance_approve", or ""."""
    if aspiration.status == AspirationStatus.AWAITING_APPROVAL:
        return "approve" if approve_refused_reason(user, aspiration) is None else ""
    if aspiration.status == AspirationStatus.AWAITING_FINANCE:
        return "finance_approve" if finance_approve_refused_reason(user, aspiration) is None else ""
    return ""


@django_rules.predicate
def can_manage_aspirations(user) -> bool:
    """Aspiration Management (commissioner): Approval or Finance Management."""
    return permissions.has_any_role(user, MANAGEMENT_ROLES)


@django_rules.predicate
def can_read_aspiration_payments(user) -> bool:
    """Aspiration Payments (provider, under Achievement): a results role somewhere."""
    return permissions.has_any_role(user, RESULTS_ROLES)


@django_rules.predicate
def may_agree_points(user, aspiration) -> bool:
    return aspiration is not None and agree_points_refused_reason(user, aspiration) is None


django_rules.add_perm("declarations.manage_aspirations", can_manage_aspirations)
django_rules.add_perm("declarations.view_aspiration_payments", can_read_aspiration_payments)
django_rules.add_perm("declarations.agree_aspiration_points", may_agree_points)
