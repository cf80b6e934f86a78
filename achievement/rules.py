"""Who may read and enter achievement: the roles of Record Achievement and the django-rules
permissions (``achievement.*``, found by ``rules.apps.AutodiscoverRulesConfig``).

What each field, adjustment and tick-box allows, and why not, is in ``achievement.entry_rules``.
"""

from __future__ import annotations

import rules

from accounts import permissions
from accounts.models import Organisation, Role

# Record Achievement: Achievement Entry writes, View reads.
ENTRY_ROLES = frozenset({Role.ACHIEVEMENT_ENTRY})
READ_ROLES = frozenset({Role.ACHIEVEMENT_ENTRY, Role.VIEW})
# Commissioner roles that may change a tick-box until the payment is financially approved
# (tick-box job aid, point 7).
COMMISSIONER_TICK_BOX_ROLES = frozenset({Role.COMMISSIONING_MANAGEMENT, Role.APPROVAL_MANAGEMENT})
# Record Provider Achievement: the commissioner enters and adjusts its providers' data, and marks
# a provider as having no automatic extract for a service.
COMMISSIONER_ENTRY_ROLES = frozenset({Role.COMMISSIONING_MANAGEMENT})


def can_read(user, provider: Organisation | int) -> bool:
    return permissions.has_role_in(user, provider, READ_ROLES)


def can_enter(user, provider: Organisation | int) -> bool:
    return permissions.has_role_in(user, provider, ENTRY_ROLES)


def can_enter_as_commissioner(user, provider: Organisation) -> bool:
    """Does the user hold Commissioning Management at the ICB that commissions ``provider``?"""
    return permissions.can_act_as_commissioner(user, provider, COMMISSIONER_ENTRY_ROLES)


@rules.predicate
def holds_a_record_achievement_role(user) -> bool:
    return permissions.has_any_role(user, READ_ROLES)


@rules.predicate
def may_read_achievement(user, achievement) -> bool:
    return achievement is not None and can_read(user, achievement.provider_id)


@rules.predicate
def may_enter_achievement(user, achievement) -> bool:
    return achievement is not None and can_enter(user, achievement.provider_id)


@rules.predicate
def holds_a_commissioner_entry_role(user) -> bool:
    return permissions.has_any_role(user, COMMISSIONER_ENTRY_ROLES)


rules.add_perm("achievement.view_record_achievement", holds_a_record_achievement_role)
rules.add_perm("achievement.view_record_provider_achievement", holds_a_commissioner_entry_role)
rules.add_perm("achievement.view_achievement", may_read_achievement)
rules.add_perm("achievement.enter_achievement", may_enter_achievement)


# Data Submission > Network Achievement: a PCN's users and its commissioner's (the page shows the
# PCNs the user works for or commissions: achievement.network_selectors).
NETWORK_PROVIDER_ROLES = frozenset({Role.ACHIEVEMENT_ENTRY, Role.DECLARATION_MANAGEMENT, Role.VIEW, Role.FINANCE_VIEW})
NETWORK_COMMISSIONER_ROLES = frozenset(
    {Role.COMMISSIONING_MANAGEMENT, Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT}
)
NETWORK_ROLES = NETWORK_PROVIDER_ROLES | NETWORK_COMMISSIONER_ROLES


@rules.predicate
def holds_a_network_achievement_role(user) -> bool:
    return permissions.has_any_role(user, NETWORK_ROLES)


rules.add_perm("achievement.view_network_achievement", holds_a_network_achievement_role)
