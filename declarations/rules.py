"""Who may declare, approve and finance-approve a payment declaration (one place for each rule).

Built on ``accounts.permissions`` (memberships cached per user, so asking about many rows costs
one query).  Roles alone are never enough: each rule names the organisation the role must be
held in, so nobody approves a declaration of an organisation they do not commission whatever
their roles, and a Django superuser has no shortcut (ADR 0007).

- Declare: Declaration Management at the provider (the practice; the PCN for the Network
  Contract DES).
- Approve: Approval Management at the ICB that commissions the provider, and not the person who
  declared it.
- Finance-approve: Finance Management at that ICB, and neither the person who declared it nor the
  person who approved it, whatever roles they hold (maker-checker, ADR 0014: a user who holds both
  commissioner roles approves, and another user finance-approves).
"""

from __future__ import annotations

import rules as django_rules

from accounts import permissions
from accounts.models import Role
from achievement.rules import COMMISSIONER_TICK_BOX_ROLES

from .models import DeclarationStatus

# Who may read achievement results (the Achievement tab's readers, provider and commissioner).
RESULTS_ROLES = frozenset(
    {
        Role.ACHIEVEMENT_ENTRY,
        Role.VIEW,
        Role.FINANCE_VIEW,
        Role.DECLARATION_MANAGEMENT,
        Role.APPROVAL_MANAGEMENT,
        Role.FINANCE_MANAGEMENT,
        Role.COMMISSIONING_MANAGEMENT,
    }
)
DECLARE_ROLES = frozenset({Role.DECLARATION_MANAGEMENT})
APPROVE_ROLES = frozenset({Role.APPROVAL_MANAGEMENT})
FINANCE_ROLES = frozenset({Role.FINANCE_MANAGEMENT})
MANAGEMENT_ROLES = APPROVE_ROLES | FINANCE_ROLES

# What a refused user is told.
NOT_DECLARER = "Only the Service Provider's Declaration Management users can declare this achievement."
NOT_APPROVER = (
    "Only the Approval Management users of the Commissioning Organisation of this Service Provider "
    "can approve this declaration."
)
NOT_FINANCE = (
    "Only the Finance Management users of the Commissioning Organisation of this Service Provider "
    "can finance-approve this declaration."
)
OWN_DECLARATION = "You declared this achievement, so you cannot approve it: another user must approve it."
OWN_APPROVAL = (
    "You approved this declaration, so you cannot finance-approve it: another user must finance-approve it."
)


def _is_declarer(user, declaration) -> bool:
    return declaration.declared_by_id is not None and declaration.declared_by_id == getattr(user, "pk", None)


def declare_refused_reason(user, declaration) -> str | None:
    if not permissions.has_role_in(user, declaration.provider_id, DECLARE_ROLES):
        return NOT_DECLARER
    return None


def approve_refused_reason(user, declaration) -> str | None:
    if not permissions.can_act_as_commissioner(user, declaration.provider, APPROVE_ROLES):
        return NOT_APPROVER
    if _is_declarer(user, declaration):
        return OWN_DECLARATION
    return None


def finance_approve_refused_reason(user, declaration) -> str | None:
    if not permissions.can_act_as_commissioner(user, declaration.provider, FINANCE_ROLES):
        return NOT_FINANCE
    if _is_declarer(user, declaration):
        return OWN_DECLARATION
    if declaration.approved_by_id is not None and declaration.approved_by_id == user.pk:
        return OWN_APPROVAL
    return None


def approve_action(user, declaration) -> str:
    """What this user's Approve does to the declaration: "approve", "finance_approve", or ""."""
    if declaration.status == DeclarationStatus.AWAITING_COMMISSIONER:
        return "approve" if approve_refused_reason(user, declaration) is None else ""
    if declaration.status == DeclarationStatus.AWAITING_FINANCE:
        return "finance_approve" if finance_approve_refused_reason(user, declaration) is None else ""
    return ""


# --- django-rules --------------------------------------------------------------------------


@django_rules.predicate
def holds_a_results_role(user) -> bool:
    """The Achievement Results screens: a results role somewhere."""
    return permissions.has_any_role(user, RESULTS_ROLES)


@django_rules.predicate
def can_manage_declarations(user) -> bool:
    """The Declaration Management screen (commissioner): Approval or Finance Management."""
    return permissions.has_any_role(user, MANAGEMENT_ROLES)


@django_rules.predicate
def can_declare_anything(user) -> bool:
    """The Declare screen (provider): Declaration Management somewhere."""
    return permissions.has_any_role(user, DECLARE_ROLES)


@django_rules.predicate
def may_declare(user, declaration) -> bool:
    return declaration is not None and declare_refused_reason(user, declaration) is None


@django_rules.predicate
def may_approve(user, declaration) -> bool:
    return declaration is not None and approve_refused_reason(user, declaration) is None


@django_rules.predicate
def may_finance_approve(user, declaration) -> bool:
    return declaration is not None and finance_approve_refused_reason(user, declaration) is None


@django_rules.predicate
def commissions_the_provider_for_tick_boxes(user, declaration) -> bool:
    """The commissioner's tick-box control on a declaration page: a commissioner tick-box role at
    the ICB that commissions the provider (whether the answer may still change is
    ``achievement.rules.tick_box_blocked_reason``)."""
    return declaration is not None and permissions.can_act_as_commissioner(
        user, declaration.provider, COMMISSIONER_TICK_BOX_ROLES
    )


# Screens
django_rules.add_perm("declarations.view_results", holds_a_results_role)
django_rules.add_perm("declarations.set_national_figures", django_rules.predicate(permissions.is_national_administrator))
django_rules.add_perm("declarations.view_declare", can_declare_anything)
django_rules.add_perm("declarations.manage_declarations", can_manage_declarations)
# One declaration
django_rules.add_perm("declarations.declare", may_declare)
django_rules.add_perm("declarations.approve", may_approve)
django_rules.add_perm("declarations.finance_approve", may_finance_approve)
django_rules.add_perm("declarations.set_tick_box", commissions_the_provider_for_tick_boxes)
