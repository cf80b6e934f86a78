"""Object permissions of Participation Management (django-rules), built on accounts.permissions.

Services and views ask ``rules.has_perm(...)`` (not ``user.has_perm``) so that a Django superuser
does not silently act for a practice or an ICB: acting on an offer needs the CQRS role.
"""

import rules

from accounts import permissions
from accounts.models import COMMISSIONER_ROLES, PROVIDER_ROLES, Role


@rules.predicate
def holds_service_management_at_provider(user, offer) -> bool:
    return offer is not None and permissions.has_role_in(user, offer.provider_id, {Role.SERVICE_MANAGEMENT})


@rules.predicate
def holds_commissioning_management_at_commissioner(user, offer) -> bool:
    return offer is not None and permissions.has_role_in(
        user, offer.commissioner_id, {Role.COMMISSIONING_MANAGEMENT}
    )


@rules.predicate
def holds_a_role_at_either_side(user, offer) -> bool:
    if offer is None:
        return False
    return permissions.has_role_in(user, offer.provider_id, PROVIDER_ROLES) or permissions.has_role_in(
        user, offer.commissioner_id, COMMISSIONER_ROLES
    )


@rules.predicate
def holds_commissioning_management(user) -> bool:
    return permissions.has_any_role(user, {Role.COMMISSIONING_MANAGEMENT})


@rules.predicate
def holds_service_management(user) -> bool:
    return permissions.has_any_role(user, {Role.SERVICE_MANAGEMENT})


# Provider side: accept or reject (job aid "viewing and accepting offers").
rules.add_perm("participation.respond_to_offer", holds_service_management_at_provider)
# Commissioner side: withdraw an Offered offer, cancel an Approved/Rejected one.
rules.add_perm("participation.manage_offer", holds_commissioning_management_at_commissioner)
rules.add_perm("participation.view_offer", holds_a_role_at_either_side)
# Screens: Create Offers / Offered Services, and My Services.
rules.add_perm("participation.create_offers", holds_commissioning_management)
rules.add_perm("participation.view_my_services", holds_service_management)
# Service Provider Clusters (each cluster is checked against the user's ICBs by the selectors/services).
rules.add_perm("participation.manage_clusters", holds_commissioning_management)
