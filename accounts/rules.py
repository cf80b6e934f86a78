"""Object permissions (django-rules), built on accounts.permissions.

Apps register their own permissions in their own ``rules.py``; this module holds the shared
predicates.
"""

import rules

from . import permissions
from .models import Role


@rules.predicate
def is_user_administrator(user, organisation=None) -> bool:
    if organisation is None:
        return permissions.has_any_role(user, {Role.USER_ADMINISTRATOR})
    return permissions.can_administer_organisation(user, organisation)


@rules.predicate
def can_see_organisation(user, organisation) -> bool:
    return organisation is not None and permissions.can_see_organisation(user, organisation)


rules.add_perm("accounts.view_organisation", can_see_organisation)
rules.add_perm("accounts.administer_users", is_user_administrator)


@rules.predicate
def can_manage_user(user, target) -> bool:
    return target is not None and permissions.can_administer_user(user, target)


@rules.predicate
def can_disable_user(user, target) -> bool:
    return target is not None and permissions.can_disable_user(user, target)


rules.add_perm("accounts.manage_user", can_manage_user)
rules.add_perm("accounts.disable_user", can_disable_user)
