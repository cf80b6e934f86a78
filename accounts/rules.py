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
    return permissions.has_role_in(user, organisation, {Role.USER_ADMINISTRATOR}) or (
        permissions.can_act_as_commissioner(user, organisation, {Role.USER_ADMINISTRATOR})
    )


@rules.predicate
def can_see_organisation(user, organisation) -> bool:
    return organisation is not None and permissions.can_see_organisation(user, organisation)


rules.add_perm("accounts.view_organisation", can_see_organisation)
rules.add_perm("accounts.administer_users", is_user_administrator)
