"""The Quality Service catalogue and service offers (Participation Management)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import Organisation

from .definitions import kinds


class FinancialYear(models.Model):
    """An NHS financial year, 1 April to 31 March, labelled "2024/25"."""

    label = models.CharField(max_length=7, unique=True)
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return self.label

    @property
    def short_label(self) -> str:
        """"24/25", as the Data Submission filter shows it."""
        return f"{self.label[2:4]}/{self.label[5:7]}"

    @classmethod
    def for_label(cls, label: str) -> FinancialYear:
        start_year = int(label[:4])
        year, _ = cls.objects.get_or_create(
            label=label,
            defaults={"start_date": dt.date(start_year, 4, 1), "end_date": dt.date(start_year + 1, 3, 31)},
        )
        return year

    @classmethod
    def current(cls, today: dt.date | None = None) -> FinancialYear | None:
        """The financial year shown by default: the latest one that has started."""
        today = today or timezone.localdate()
        return cls.objects.filter(start_date__lte=today).order_by("-start_date").first()


class ProviderLevel(models.TextChoices):
    PRACTICE = kinds.PRACTICE_LEVEL, "Practice"
    PCN = kinds.PCN_LEVEL, "PCN"


class QualityService(models.Model):
    """A Quality Service (QOF, the Network Contract DES, an enhanced service) for one year."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    payment_type = models.CharField(max_length=20)
    payment_frequency = models.CharField(max_length=30)
    financial_year = models.ForeignKey(FinancialYear, on_delete=models.PROTECT, related_name="services")
    provider_level = models.CharField(max_length=10, choices=ProviderLevel.choices)
    no_declaration_required = models.BooleanField(default=False)
    no_approval_required = models.BooleanField(default=False)
    value_per_point = models.DecimalField(max_digits=10, decimal_places=2)
    average_list_size = models.PositiveIntegerField()
    protected_from = models.CharField(
        max_length=20, blank=True, help_text="The service whose year end protects the income-protected indicators"
    )
    aspiration_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="Empty: no aspiration payments"
    )
    aspiration_from = models.CharField(
        max_length=20, blank=True, help_text="The service whose year-end payment the aspiration is a share of"
    )
    definition = models.JSONField(default=dict, help_text="The YAML definition the service was loaded from")
    definition_hash = models.CharField(max_length=64, blank=True)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["financial_year__start_date", "payment_type", "name"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The drop-down label of the job aids: "DES— Annual—Network Contract DES 2024/25"."""
        return f"{self.payment_type}— {self.payment_frequency}—{self.name}"

    @property
    def is_monthly(self) -> bool:
        """Paid month by month: one achievement date a month, each a payment date (issue 16)."""
        return self.payment_frequency == kinds.MONTHLY

    @property
    def is_network_contract_des(self) -> bool:
        return self.provider_level == ProviderLevel.PCN


class Domain(models.Model):
    service = models.ForeignKey(QualityService, on_delete=models.CASCADE, related_name="domains")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["service", "position"]
        constraints = [models.UniqueConstraint(fields=["service", "code"], name="unique_domain_code")]

    def __str__(self) -> str:
        return self.name


class IndicatorGroup(models.Model):
    service = models.ForeignKey(QualityService, on_delete=models.CASCADE, related_name="groups")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="groups")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    sub_domain = models.CharField(max_length=200, blank=True)
    national_prevalence = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["domain__position", "position"]
        constraints = [models.UniqueConstraint(fields=["service", "code"], name="unique_group_code")]

    def __str__(self) -> str:
        return self.name


class IndicatorKind(models.TextChoices):
    """The kinds of ``participation.definitions.kinds`` (where the sets of them live:
    ``TICK_BOX_KINDS``, ``POINT_KINDS``...), with the labels the screens show."""

    FRACTION = kinds.FRACTION, "Fraction"
    REGISTER = kinds.REGISTER, "Register"
    YES_NO = kinds.YES_NO, "Yes/No"
    TICK_BOX = kinds.TICK_BOX, "Tick-box"
    COUNT = kinds.COUNT, "Count"
    PER_CAPITA = kinds.PER_CAPITA, "Per capita"
    PER_ITEM = kinds.PER_ITEM, "Per item"
    MANAGEMENT_INFORMATION = kinds.MANAGEMENT_INFORMATION, "Management information"


class EntryKind(models.TextChoices):
    AUTOMATIC = kinds.AUTOMATIC, "Automatic (GPES)"
    MANUAL = kinds.MANUAL, "Manual"
    PCN = kinds.PCN, "PCN"
    COMMISSIONER = kinds.COMMISSIONER, "Commissioning Organisation"


class Indicator(models.Model):
    service = models.ForeignKey(QualityService, on_delete=models.CASCADE, related_name="indicators")
    group = models.ForeignKey(IndicatorGroup, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(max_length=20)
    name = models.TextField()
    kind = models.CharField(max_length=24, choices=IndicatorKind.choices)
    points = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    lower = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    upper = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    register_field = models.CharField(max_length=100, blank=True)
    national_prevalence = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    rate = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    amount_per_item = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Per item: pounds an item"
    )
    max_items = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per item: the most items paid per provider and achievement date"
    )
    entry = models.CharField(max_length=12, choices=EntryKind.choices, default=EntryKind.AUTOMATIC)
    carry_forward = models.BooleanField(default=False)
    fields = models.JSONField(default=list, help_text="FIELD_NAMEs the indicator carries")
    income_protected = models.BooleanField(
        default=False, help_text="Paid at its points in the year end of the service's protected_from"
    )
    protected_code = models.CharField(
        max_length=20, blank=True, help_text="Its code in the protecting service, when renumbered"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["group__domain__position", "group__position", "position"]
        constraints = [models.UniqueConstraint(fields=["service", "code"], name="unique_indicator_code")]

    def __str__(self) -> str:
        return self.code


class AchievementDate(models.Model):
    """A date achievement is reported for; payment dates are highlighted yellow."""

    service = models.ForeignKey(QualityService, on_delete=models.CASCADE, related_name="achievement_dates")
    date = models.DateField()
    is_payment_date = models.BooleanField(default=False)

    class Meta:
        ordering = ["service", "date"]
        constraints = [models.UniqueConstraint(fields=["service", "date"], name="unique_achievement_date")]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y}"


class OfferStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    CANCELLED = "cancelled", "Cancelled"


# The Status filter's "Cancelled" lists withdrawn offers too (job aid: withdrawing an offer).
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "Offered": (OfferStatus.OFFERED,),
    "Approved": (OfferStatus.APPROVED,),
    "Rejected": (OfferStatus.REJECTED,),
    "Cancelled": (OfferStatus.CANCELLED, OfferStatus.WITHDRAWN),
}


class ServiceOffer(models.Model):
    """A commissioner's offer of a Quality Service to a provider (practice or PCN).

    The transitions say what is legal: Offered -> Approved (accept) | Rejected (reject) |
    Withdrawn (withdraw); Approved | Rejected -> Cancelled (cancel).
    """

    service = models.ForeignKey(QualityService, on_delete=models.PROTECT, related_name="offers")
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="offers_received")
    commissioner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="offers_made")
    status = FSMField(default=OfferStatus.OFFERED, choices=OfferStatus.choices, protected=True, db_index=True)
    start_date = models.DateField("Service start date")
    end_date = models.DateField("Service end date")
    response_date = models.DateField("Response date", null=True, blank=True)
    target_date = models.DateField("Target date", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "provider__name"]
        constraints = [
            # A provider has at most one live (Offered or Approved) offer of a service.
            models.UniqueConstraint(
                fields=["service", "provider"],
                condition=Q(status__in=["offered", "approved"]),
                name="one_live_offer_per_provider",
            )
        ]
        indexes = [models.Index(fields=["commissioner", "service", "status"])]
        permissions = [
            ("respond_to_offer", "Can accept or reject an offer"),
            ("manage_offer", "Can withdraw or cancel an offer"),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} to {self.provider.ods_code} ({self.get_status_display()})"

    @transition(field=status, source=OfferStatus.OFFERED, target=OfferStatus.APPROVED)
    def accept(self) -> None:
        """The provider accepts; the offer is automatically approved."""

    @transition(field=status, source=OfferStatus.OFFERED, target=OfferStatus.REJECTED)
    def reject(self) -> None:
        """The provider rejects the offer."""

    @transition(field=status, source=OfferStatus.OFFERED, target=OfferStatus.WITHDRAWN)
    def withdraw(self) -> None:
        """The commissioner withdraws an offer the provider has not answered."""

    @transition(field=status, source=[OfferStatus.APPROVED, OfferStatus.REJECTED], target=OfferStatus.CANCELLED)
    def cancel(self) -> None:
        """The commissioner cancels an accepted or rejected offer."""


class OfferTransition(models.Model):
    """An immutable record of one offer transition: who, when, from, to, note."""

    offer = models.ForeignKey(ServiceOffer, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=OfferStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OfferStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status} at {self.at:%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Transition records are immutable")
        return super().save(*args, **kwargs)


class ProviderCluster(models.Model):
    """A commissioner's named group of the providers it commissions (Service Provider Clusters),
    used to narrow Create Offers, Offered Services and Declaration Management to a cluster."""

    commissioner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="provider_clusters")
    name = models.CharField("Cluster name", max_length=100)
    providers = models.ManyToManyField(Organisation, blank=True, related_name="clusters")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["commissioner", "name"], name="unique_cluster_name_per_commissioner")
        ]

    def __str__(self) -> str:
        return self.name


class NationalFigures(models.Model):
    """The national figures of a service on an achievement date, as a National Administrator set
    them from the year-end data of every practice taking part (issue 13): the average list size
    (the CPI's denominator) and each prevalence-weighted group's national prevalence (the APDF's).

    Kept as the sums they are ratios of, so each figure is exact, never rounded: average list size
    = ``list_size_total`` / ``practices``; a group's prevalence = its ``NationalRegister.register_total``
    / ``list_size_total``.  Every setting is a new row (immutable, with who and when): the latest
    is in force (``participation.national``); until one exists, payments use the definition's.
    """

    service = models.ForeignKey(QualityService, on_delete=models.PROTECT, related_name="national_figures")
    achievement_date = models.ForeignKey(AchievementDate, on_delete=models.PROTECT, related_name="national_figures")
    practices = models.PositiveIntegerField(help_text="The practices whose year-end data the figures come from")
    list_size_total = models.PositiveBigIntegerField(help_text="The sum of those practices' list sizes")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-set_at", "-pk"]
        indexes = [models.Index(fields=["service", "achievement_date", "-set_at"])]
        verbose_name_plural = "national figures"

    def __str__(self) -> str:
        return f"{self.service.code} {self.achievement_date}: set {self.set_at:%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("National figures are immutable: set them again instead")
        return super().save(*args, **kwargs)


class NationalRegister(models.Model):
    """One prevalence-weighted group's register total in a setting of ``NationalFigures``."""

    figures = models.ForeignKey(NationalFigures, on_delete=models.CASCADE, related_name="registers")
    group = models.ForeignKey(IndicatorGroup, on_delete=models.PROTECT, related_name="+")
    register_total = models.PositiveBigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["figures", "group"], name="one_national_register_per_group")]

    def __str__(self) -> str:
        return f"{self.group.code}: {self.register_total}"
