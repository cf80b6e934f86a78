"""Who may open the insight screens (django-rules, built on ``accounts.permissions``).

- Where the money is lost: a commissioner role (Commissioning, Approval or Finance Management)
  at an ICB; the page shows that ICB's providers only.
- This year and last: a role that reads achievement results (``declarations.rules.RESULTS_ROLES``);
  the page shows the providers the user may see (a practice itself, a commissioner its providers).

Pounds are shown per organisation by ``accounts.permissions.can_see_money``.
"""

from __future__ import annotations

import rules as django_rules

from accounts import permissions
from accounts.models import COMMISSIONER_ROLES
from declarations.rules import RESULTS_ROLES

MONEY_LOST_ROLES = COMMISSIONER_ROLES
YEAR_ON_YEAR_ROLES = RESULTS_ROLES


@django_rules.predicate
def holds_a_commissioner_role(user) -> bool:
    return permissions.has_any_role(user, MONEY_LOST_ROLES)


@django_rules.predicate
def holds_a_results_role(user) -> bool:
    return permissions.has_any_role(user, YEAR_ON_YEAR_ROLES)


# set_perm, not add_perm: this module may be imported again (by the views and the app's rules).
django_rules.set_perm("reports.view_money_lost", holds_a_commissioner_role)
django_rules.set_perm("reports.view_year_on_year", holds_a_results_role)
