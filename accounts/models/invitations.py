"""Invitations: registration links for new users (ADR 0003) and invitations of existing accounts
to take roles at an organisation (ADR 0014)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .organisations import Organisation
from .roles import Role


class RegistrationInvitation(models.Model):
    """A registration link emailed to a user a User Administrator added (ADR 0003).

    The link carries a signed (invitation id, nonce); only a hash of the nonce is stored, so the
    table cannot be turned back into working links.  A link works once, until ``expires_at``;
    sending a new link revokes the earlier ones.  A user with a pending invitation (not used,
    not revoked) has not registered yet.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    nonce_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "used_at", "revoked_at"])]

    def __str__(self) -> str:
        return f"Registration link for {self.user} ({self.created_at:%d/%m/%Y})"

    @property
    def is_pending(self) -> bool:
        return self.used_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class OrganisationInvitation(models.Model):
    """An invitation to an existing account to take roles at an organisation (maker-checker,
    ADR 0014): an administrator proposes, the account's owner accepts or declines, signed in.  The
    memberships are created only on acceptance.  Single use; a newer invitation to the same
    organisation replaces a pending one (``replaced_at``); it expires at ``expires_at``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_invitations"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    roles = models.JSONField(default=list)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "accepted_at", "declined_at", "replaced_at"])]

    def __str__(self) -> str:
        return f"Invitation of {self.user} to {self.organisation} ({self.created_at:%d/%m/%Y})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.declined_at is None and self.replaced_at is None

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def role_labels(self) -> list[str]:
        return [Role(role).label for role in self.roles if role in Role.values]
