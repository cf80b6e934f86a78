"""Organisations (ODS codes and the links between them), practices' PCN memberships over time
and providers' list sizes."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


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
