"""Users, organisations, memberships (roles), the Message Centre and the audit log.

The models live in one module per job; this package re-exports them, so ``accounts.models`` is
still where callers (and the migrations) find them:

- ``users``: users and their manager;
- ``organisations``: organisations, ODS codes, PCN memberships over time and list sizes;
- ``roles``: roles and memberships (a user's role at an organisation);
- ``messages``: the Message Centre;
- ``audit``: the audit log;
- ``invitations``: registration links and invitations to an organisation.
"""

from __future__ import annotations

from .audit import AuditEvent
from .invitations import OrganisationInvitation, RegistrationInvitation
from .messages import Message, MessageRead
from .organisations import (
    ODS_CODE_PATTERNS,
    ListSize,
    Organisation,
    OrganisationKind,
    OrganisationQuerySet,
    PcnMembership,
    PcnMembershipQuerySet,
    ods_code_error,
)
from .roles import COMMISSIONER_ROLES, PROVIDER_ROLES, Membership, Role
from .users import User, UserManager

__all__ = [
    "COMMISSIONER_ROLES",
    "ODS_CODE_PATTERNS",
    "PROVIDER_ROLES",
    "AuditEvent",
    "ListSize",
    "Membership",
    "Message",
    "MessageRead",
    "Organisation",
    "OrganisationInvitation",
    "OrganisationKind",
    "OrganisationQuerySet",
    "PcnMembership",
    "PcnMembershipQuerySet",
    "RegistrationInvitation",
    "Role",
    "User",
    "UserManager",
    "ods_code_error",
]
