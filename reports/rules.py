"""Who may open the reports (django-rules, built on ``accounts.permissions``); which rows each
report shows is ``reports.records.scope``'s to decide.

- Achievement Summary Report: a role that reads achievement results.
- Payments: Approval Management or Finance Management (a commissioner), or Finance View.
- Network organisation relationship: a commissioner role.
- Allocated Reports: a User Administrator (allocates its organisation's reports), or anyone who
  runs reports (sees which organisations allocated theirs to them).
"""

from __future__ import annotations

import rules as django_rules

from accounts import permissions
from accounts.models import Role

from .insights import rules as _insights_rules  # noqa: F401  (registers the insight screens' rules)
from .records import scope


@django_rules.predicate
def runs_achievement_summaries(user) -> bool:
    return permissions.has_any_role(user, scope.SUMMARY_ROLES)


@django_rules.predicate
def runs_payments(user) -> bool:
    return permissions.has_any_role(user, scope.PAYMENTS_ROLES)


@django_rules.predicate
def runs_network(user) -> bool:
    return permissions.has_any_role(user, scope.NETWORK_ROLES)


@django_rules.predicate
def sees_allocated_reports(user) -> bool:
    return permissions.has_any_role(user, scope.REPORT_ROLES | {Role.USER_ADMINISTRATOR})


@django_rules.predicate
def allocates_reports(user) -> bool:
    return permissions.has_any_role(user, {Role.USER_ADMINISTRATOR})


django_rules.set_perm("reports.view_achievement_summary", runs_achievement_summaries)
django_rules.set_perm("reports.view_payments", runs_payments)
django_rules.set_perm("reports.view_network", runs_network)
django_rules.set_perm("reports.view_allocated_reports", sees_allocated_reports)
django_rules.set_perm("reports.allocate_reports", allocates_reports)
