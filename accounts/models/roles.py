"""Roles as CQRS names them, the commissioner and provider sets of them, and memberships: a user
holding a role in an organisation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .organisations import Organisation


class Role(models.TextChoices):
    """Roles as CQRS names them (docs/design.md "Users and roles")."""

    COMMISSIONING_MANAGEMENT = "commissioning_management", "Commissioning Management"
    APPROVAL_MANAGEMENT = "approval_management", "Approval Management"
    FINANCE_MANAGEMENT = "finance_management", "Finance Management"
    USER_ADMINISTRATOR = "user_administrator", "User Administrator"
    SERVICE_MANAGEMENT = "service_management", "Service Management"
    ACHIEVEMENT_ENTRY = "achievement_entry", "Achievement Entry"
    DECLARATION_MANAGEMENT = "declaration_management", "Declaration Management"
    VIEW = "view", "View"
    FINANCE_VIEW = "finance_view", "Finance View"
    NATIONAL_ADMINISTRATOR = "national_administrator", "National Administrator"  # NHS England (issue 13)


COMMISSIONER_ROLES = frozenset(
    {Role.COMMISSIONING_MANAGEMENT, Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT}
)
PROVIDER_ROLES = frozenset(
    {Role.SERVICE_MANAGEMENT, Role.ACHIEVEMENT_ENTRY, Role.DECLARATION_MANAGEMENT, Role.VIEW, Role.FINANCE_VIEW}
)


class Membership(models.Model):
    """A user holds a role in an organisation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="one_membership_per_role")
        ]
        ordering = ["organisation__name", "role"]

    def __str__(self) -> str:
        return f"{self.user} - {self.get_role_display()} at {self.organisation}"
