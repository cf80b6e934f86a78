"""Users, organisations, memberships (roles), the Message Centre and the audit log."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    email_notifications = models.BooleanField(
        "Email me when a message or task arrives in my Message Centre", default=True
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class OrganisationKind(models.TextChoices):
    REGION = "region", "NHS England region"
    ICB = "icb", "Integrated Care Board"
    SUB_ICB = "sub_icb", "Sub-ICB location"
    PCN = "pcn", "Primary Care Network"
    PRACTICE = "practice", "GP practice"
    NATIONAL = "national", "NHS England"  # sets the national figures (National Administrator)


# ODS code formats per kind (NHS Digital's Organisation Data Service).
ODS_CODE_PATTERNS: dict[str, re.Pattern[str]] = {
    OrganisationKind.PRACTICE: re.compile(r"^[A-Z]\d{5}$"),
    OrganisationKind.PCN: re.compile(r"^U\d{5}$"),
    # "16C"; merged locations have five-character codes such as "W2U3Z".
    OrganisationKind.SUB_ICB: re.compile(r"^(\d{2}[A-Z0-9]|[A-Z]\d[A-Z]\d[A-Z])$"),
    OrganisationKind.ICB: re.compile(r"^Q[A-Z0-9]{2}$"),
    OrganisationKind.REGION: re.compile(r"^Y\d{2}$"),
    OrganisationKind.NATIONAL: re.compile(r"^X\d{2}$"),  # NHS England is X24
}


def ods_code_error(kind: str, code: str) -> str | None:
    """Why ``code`` is not a valid ODS code for an organisation of ``kind`` (None when it is)."""
    pattern = ODS_CODE_PATTERNS.get(kind)
    if pattern is None:
        return f"unknown organisation kind {kind!r}"
    if not pattern.match(code or ""):
        label = OrganisationKind(kind).label
        article = "an" if label[0] in "AEIOU" else "a"
        return f"{code!r} is not a valid ODS code for {article} {label}"
    return None


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def practices(self) -> OrganisationQuerySet:
        return self.filter(kind=OrganisationKind.PRACTICE)

    def pcns(self) -> OrganisationQuerySet:
        return self.filter(kind=OrganisationKind.PCN)

    def providers(self) -> OrganisationQuerySet:
        return self.filter(kind__in=[OrganisationKind.PRACTICE, OrganisationKind.PCN])


class Organisation(models.Model):
    """An NHS organisation identified by its ODS code.

    Links: a practice belongs to a PCN (``pcn``) and a sub-ICB location (``parent``); practices
    and PCNs are commissioned by an ICB (``commissioner``); a sub-ICB location's parent is its
    ICB and an ICB's parent its NHS England region.
    """

    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=OrganisationKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    pcn = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="member_practices",
        limit_choices_to={"kind": OrganisationKind.PCN},
    )
    commissioner = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commissioned",
        limit_choices_to={"kind": OrganisationKind.ICB},
    )
    # Whether the provider's clinical system supplies automatic (GPES) extracts.
    automatic_extracts = models.BooleanField(default=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "commissioner"]), models.Index(fields=["pcn"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"

    def clean(self) -> None:
        error = ods_code_error(self.kind, self.ods_code)
        if error:
            raise ValidationError({"ods_code": error})

    @property
    def is_provider(self) -> bool:
        return self.kind in (OrganisationKind.PRACTICE, OrganisationKind.PCN)


class PcnMembershipQuerySet(models.QuerySet["PcnMembership"]):
    def on(self, date) -> PcnMembershipQuerySet:
        """The memberships that cover ``date``."""
        return self.filter(models.Q(start__isnull=True) | models.Q(start__lte=date)).filter(
            models.Q(end__isnull=True) | models.Q(end__gte=date)
        )


class PcnMembership(models.Model):
    """A practice's membership of a PCN from ``start`` to ``end``, both days included
    (docs/adr/0020-pcn-membership-over-time.md).

    ``start`` None: a member since before memberships were recorded; ``end`` None: still a
    member.  A practice has at most one open membership, which is its ``Organisation.pcn`` (the
    current PCN, kept in step by the services that record a move, ``accounts.pcn_membership``).
    A practice with no membership recorded (one created by hand, not by the loader) counts as a
    member of its current PCN on every date.
    """

    practice = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="pcn_memberships",
        limit_choices_to={"kind": OrganisationKind.PRACTICE},
    )
    pcn = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="practice_memberships",
        limit_choices_to={"kind": OrganisationKind.PCN},
    )
    start = models.DateField("Member from", null=True, blank=True)
    end = models.DateField("Member to", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)  # when the end was recorded
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = PcnMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["practice", models.F("start").asc(nulls_first=True), "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice"], condition=models.Q(end__isnull=True), name="one_open_pcn_membership"
            ),
            models.CheckConstraint(
                condition=models.Q(start__isnull=True) | models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
                name="pcn_membership_ends_after_it_starts",
            ),
        ]
        indexes = [models.Index(fields=["pcn", "start"]), models.Index(fields=["practice", "start"])]

    def __str__(self) -> str:
        start = f"{self.start:%d/%m/%Y}" if self.start else "not recorded"
        end = f"{self.end:%d/%m/%Y}" if self.end else "now"
        return f"{self.practice_id} in {self.pcn_id} from {start} to {end}"

    def covers(self, date) -> bool:
        return (self.start is None or self.start <= date) and (self.end is None or self.end >= date)


class ListSize(models.Model):
    """A provider's registered list size (patients) on a date."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="list_sizes")
    date = models.DateField()
    size = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "date"], name="one_list_size_per_date")]
        ordering = ["organisation", "-date"]

    def __str__(self) -> str:
        return f"{self.organisation.ods_code} {self.date:%d/%m/%Y}: {self.size}"


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


class Message(models.Model):
    """A message or task in the Message Centre, addressed to an organisation's holders of a role.

    ``task_key`` identifies the action a task asks for (e.g. ``offer:42``) so the service that
    performs the action can close it.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=30, choices=Role.choices, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField("Task Summary link", max_length=300, blank=True)
    is_task = models.BooleanField(default=False)
    task_key = models.CharField(max_length=100, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set by the email task (a Celery worker) once the message has gone out by email.
    emailed_at = models.DateTimeField(null=True, blank=True)
    emailed_to = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "role"])]

    def __str__(self) -> str:
        return self.subject


class MessageRead(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_reads")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="one_read_per_user")]

    def __str__(self) -> str:
        return f"{self.user} read {self.message} at {self.read_at:%d/%m/%Y %H:%M}"


class AuditEvent(models.Model):
    """An append-only record of who did what, when (sign-ins, denials, administration)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=60, db_index=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.action} by {self.actor or 'system'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only")


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
