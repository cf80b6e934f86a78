"""Calculated payments: what each provider's achievement earns, per indicator, and in total.

A ``Calculation`` exists per ``Achievement`` once it has been calculated; its
``IndicatorCalculation`` rows hold the engine's result for every indicator of the service.  A
calculation is provisional until its declaration is financially approved.

``inputs_hash`` is the SHA-256 of every input the figures depend on (the values of the current
submission, tick-box answers, list size, the service's national figures and indicator rules), so
recalculating unchanged data writes nothing; ``version`` counts the recalculations that changed
the inputs.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import Organisation
from achievement.models import Achievement
from participation.models import AchievementDate, Indicator, QualityService


class Calculation(models.Model):
    achievement = models.OneToOneField(Achievement, on_delete=models.CASCADE, related_name="calculation")
    # Denormalised from the achievement so exports and lists filter without a join: copies of
    # the achievement's own keys, written with it, so the database checks the achievement (which
    # it keeps from being deleted) and not the copies (three checks a row at a national
    # recalculation's commit, 19,230 of them); Django's on_delete still protects (ADR 0017).
    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="calculations", db_constraint=False
    )
    # Indexed by the (service, achievement date) index below, which serves the service alone too.
    service = models.ForeignKey(
        QualityService, on_delete=models.PROTECT, related_name="calculations", db_index=False, db_constraint=False
    )
    achievement_date = models.ForeignKey(
        AchievementDate, on_delete=models.PROTECT, related_name="calculations", db_constraint=False
    )
    list_size = models.PositiveIntegerField(
        "Registered list size", null=True, blank=True, help_text="Empty when no list size was known"
    )
    cpi = models.DecimalField(
        "Contractor population index", max_digits=20, decimal_places=12, null=True, blank=True
    )
    total_points = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    is_provisional = models.BooleanField(default=True)
    inputs_hash = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)
    # The achievement's data_version these figures were calculated from.
    data_version = models.PositiveIntegerField(default=0)
    calculated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "achievement_date__date", "provider__name"]
        indexes = [models.Index(fields=["service", "achievement_date"])]

    def __str__(self) -> str:
        return f"{self.achievement} v{self.version}: £{self.total_amount}"


class CalculationFailure(models.Model):
    """Why the last recalculation of an achievement's payment failed, and on which data version.

    While it stands the last good ``Calculation`` is kept and shown, the declaration page says
    why (and who can correct the data), and declaring or approving is refused with this reason;
    the periodic sweep does not retry the same data version.  A recalculation that succeeds
    removes it.
    """

    achievement = models.OneToOneField(Achievement, on_delete=models.CASCADE, related_name="calculation_failure")
    # The achievement's data_version the recalculation failed on.
    data_version = models.PositiveIntegerField()
    reason = models.TextField(help_text="What the provider and the commissioner are told")
    error = models.TextField(blank=True, help_text="The technical detail, for the service's operators")
    failed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.achievement} failed on data version {self.data_version}: {self.reason}"


class IndicatorCalculation(models.Model):
    """The engine's result for one indicator of a calculation (``None``: does not apply)."""

    # Written ~500,000 at a time by a national recalculation (COPY, in the transaction that
    # writes their calculations): no database foreign-key checks (each cost an index probe and a
    # row lock at commit, two thirds of the write) and one index, the primary key's on
    # (calculation, indicator), with no surrogate id (its index and its sequence cost a third of
    # the COPY): an indicator's results are found through their calculations (by service and
    # date, or commissioner).  Django's on_delete still cascades and protects (ADR 0017).
    pk = models.CompositePrimaryKey("calculation_id", "indicator_id")
    calculation = models.ForeignKey(
        Calculation, on_delete=models.CASCADE, related_name="indicators", db_constraint=False, db_index=False
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    numerator = models.BigIntegerField(null=True, blank=True)
    denominator = models.BigIntegerField(null=True, blank=True)
    register = models.BigIntegerField(null=True, blank=True)
    value = models.BigIntegerField(
        null=True, blank=True, help_text="Count indicators: stored and shown, never paid"
    )
    answer = models.BooleanField("Yes/No", null=True, blank=True, help_text="Yes/No, tick-box and per-capita")
    achievement_percent = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    points = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    apdf = models.DecimalField(
        "Adjusted prevalence factor", max_digits=20, decimal_places=12, null=True, blank=True
    )
    patients_to_upper = models.PositiveIntegerField(null=True, blank=True)
    amount_at_stake = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = [
            "calculation",
            "indicator__group__domain__position",
            "indicator__group__position",
            "indicator__position",
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.points} points, £{self.amount}"


class DeclarationStatus(models.TextChoices):
    """The statuses of a payment declaration, as CQRS labels them."""

    AWAITING_PROVIDER = "awaiting_provider", "Awaiting Service Provider Approval"
    AWAITING_COMMISSIONER = "awaiting_commissioner", "Awaiting Commissioning Organisation Approval"
    AWAITING_FINANCE = "awaiting_finance", "Awaiting Finance Approval"
    FINANCIALLY_APPROVED = "financially_approved", "Financially Approved"


# While a declaration is in one of these, the provider's declaration stands (tick-box rule).
DECLARED_STATUSES = frozenset(
    {
        DeclarationStatus.AWAITING_COMMISSIONER,
        DeclarationStatus.AWAITING_FINANCE,
        DeclarationStatus.FINANCIALLY_APPROVED,
    }
)


class Declaration(models.Model):
    """The payment declaration of one provider, service and payment achievement date.

    Created with the first calculation of a payment date.  The transitions say what is legal:
    Awaiting Service Provider Approval -> (``declare``) Awaiting Commissioning Organisation
    Approval -> (``approve``) Awaiting Finance Approval -> (``finance_approve``) Financially
    Approved; a recalculation that changes the amount before finance approval returns it
    (``send_back``) to Awaiting Service Provider Approval.  Who may do what is in
    ``declarations.rules``; the use cases (locks, records, messages) in
    ``declarations.workflow``.
    """

    # Provider and service are indexed by the unique (provider, achievement date) constraint and the
    # (service, status) index, which serve them alone too: a national recalculation writes 6,410
    # declarations, each into every index.  Provider, service and date are the achievement's,
    # copied: the database checks the achievement, not the copies (as ``Calculation``'s).
    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="declarations", db_index=False, db_constraint=False
    )
    service = models.ForeignKey(
        QualityService, on_delete=models.PROTECT, related_name="declarations", db_index=False, db_constraint=False
    )
    achievement_date = models.ForeignKey(
        AchievementDate, on_delete=models.PROTECT, related_name="declarations", db_constraint=False
    )
    achievement = models.OneToOneField(Achievement, on_delete=models.PROTECT, related_name="declaration")
    calculation = models.OneToOneField(Calculation, on_delete=models.PROTECT, related_name="declaration")
    status = FSMField(  # indexed below, for equality only
        default=DeclarationStatus.AWAITING_PROVIDER,
        choices=DeclarationStatus.choices,
        protected=True,
    )
    amount_declared = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    points_declared = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    declared_at = models.DateTimeField(null=True, blank=True)
    amount_approved = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    amount_finance_approved = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    finance_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finance_approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "achievement_date__date", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "achievement_date"], name="one_declaration_per_payment_date")
        ]
        indexes = [models.Index(fields=["service", "status"]), models.Index(fields=["status"], name="declaration_status")]

    def __str__(self) -> str:
        return f"{self.service.code} {self.achievement_date} {self.provider.ods_code}: {self.get_status_display()}"

    def _clear_declaration(self) -> None:
        self.amount_declared = self.points_declared = self.declared_by = self.declared_at = None
        self.amount_approved = self.approved_by = self.approved_at = None

    @transition(field=status, source=DeclarationStatus.AWAITING_PROVIDER, target=DeclarationStatus.AWAITING_COMMISSIONER)
    def declare(self, *, by, at, amount, points) -> None:
        """The provider declares the calculated payment (or the service needs no declaration)."""
        self.declared_by, self.declared_at, self.amount_declared, self.points_declared = by, at, amount, points

    @transition(field=status, source=DeclarationStatus.AWAITING_COMMISSIONER, target=DeclarationStatus.AWAITING_FINANCE)
    def approve(self, *, by, at) -> None:
        """The commissioner's Approval Management approves what was declared."""
        self.approved_by, self.approved_at, self.amount_approved = by, at, self.amount_declared

    @transition(field=status, source=DeclarationStatus.AWAITING_FINANCE, target=DeclarationStatus.FINANCIALLY_APPROVED)
    def finance_approve(self, *, by, at) -> None:
        """The commissioner's Finance Management approves the payment: from now on it is locked."""
        self.finance_approved_by, self.finance_approved_at = by, at
        self.amount_finance_approved = self.amount_approved

    @transition(
        field=status,
        source=[DeclarationStatus.AWAITING_COMMISSIONER, DeclarationStatus.AWAITING_FINANCE],
        target=DeclarationStatus.AWAITING_PROVIDER,
    )
    def send_back(self) -> None:
        """A recalculation changed the amount before finance approval: it must be declared again."""
        self._clear_declaration()

    @property
    def is_declared(self) -> bool:
        return self.status in DECLARED_STATUSES

    @property
    def is_financially_approved(self) -> bool:
        return self.status == DeclarationStatus.FINANCIALLY_APPROVED


class DeclarationTransition(models.Model):
    """An immutable record of one declaration transition: who, when, from, to, note, amount.

    ``by`` is empty for what the system did (created with the first calculation, sent back by a
    recalculation, a step the service does not require); the note says which.  Amounts are data,
    never text in the note: ``amount`` (the payment the transition is about), ``previous_amount``
    (what a recalculation replaced: the amount declared, or the amount to declare) and ``detail``
    (a recalculation's reason and £ per indicator before and after).  What each role is shown of
    them is ``declarations.history``'s to decide.
    """

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=30, choices=DeclarationStatus.choices, blank=True)
    to_status = models.CharField(max_length=30, choices=DeclarationStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    previous_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status} at {self.at:%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Transition records are immutable")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Transition records are immutable")


# ---------------------------------------------------------------------------------------------
# Aspiration payments (issue 13, ADR 0022)
# ---------------------------------------------------------------------------------------------


class AspirationStatus(models.TextChoices):
    """An aspiration's approval, as a declaration's: Approval Management, then Finance Management."""

    AWAITING_APPROVAL = "awaiting_approval", "Awaiting Commissioning Organisation Approval"
    AWAITING_FINANCE = "awaiting_finance", "Awaiting Finance Approval"
    APPROVED = "approved", "Financially Approved"


class Aspiration(models.Model):
    """A provider's aspiration payments for a service: ``percent`` of its year-end achievement
    payment in the service the definition names (``previous_payment``, uplifted by the change in
    the value of a point), or of the points the commissioner agreed with it (``agreed_points``),
    paid in twelve monthly instalments (``monthly`` x 11 and ``last_month``).

    Awaiting Commissioning Organisation Approval -> (``approve``) Awaiting Finance Approval ->
    (``finance_approve``) Financially Approved.  Agreeing points before finance approval returns it
    (``send_back``) to Awaiting Commissioning Organisation Approval; once financially approved its
    amounts are locked.  Who may do what is in ``declarations.aspiration.rules``.
    """

    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="aspirations")
    service = models.ForeignKey(QualityService, on_delete=models.PROTECT, related_name="aspirations")
    status = FSMField(
        default=AspirationStatus.AWAITING_APPROVAL, choices=AspirationStatus.choices, protected=True, db_index=True
    )
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    previous_payment = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True,
        help_text="The year-end achievement payment in the aspiration's from service; empty: none calculated",
    )
    agreed_points = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True,
        help_text="Aspiration points the commissioner agreed with the provider (they replace the previous payment)",
    )
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    monthly = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    last_month = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    finance_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finance_approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "provider__name"]
        constraints = [models.UniqueConstraint(fields=["provider", "service"], name="one_aspiration_per_service")]
        indexes = [models.Index(fields=["service", "status"])]

    def __str__(self) -> str:
        return f"{self.service.code} aspiration {self.provider.ods_code}: £{self.total}"

    @property
    def instalments(self) -> tuple:
        """The twelve monthly payments, April to March."""
        return (self.monthly,) * 11 + (self.last_month,)

    @property
    def is_approved(self) -> bool:
        return self.status == AspirationStatus.APPROVED

    @transition(field=status, source=AspirationStatus.AWAITING_APPROVAL, target=AspirationStatus.AWAITING_FINANCE)
    def approve(self, *, by, at) -> None:
        """Approval Management approves the aspiration."""
        self.approved_by, self.approved_at = by, at

    @transition(field=status, source=AspirationStatus.AWAITING_FINANCE, target=AspirationStatus.APPROVED)
    def finance_approve(self, *, by, at) -> None:
        """Finance Management approves it: its instalments are paid, and its amounts locked."""
        self.finance_approved_by, self.finance_approved_at = by, at

    @transition(
        field=status,
        source=[AspirationStatus.AWAITING_APPROVAL, AspirationStatus.AWAITING_FINANCE],
        target=AspirationStatus.AWAITING_APPROVAL,
    )
    def agree_points(self, *, points, total, monthly, last_month) -> None:
        """The commissioner agrees aspiration points (or clears them): the amounts change, so any
        approval so far is undone."""
        self.agreed_points, self.total, self.monthly, self.last_month = points, total, monthly, last_month
        self.approved_by = self.approved_at = None


class AspirationTransition(models.Model):
    """An immutable record of one aspiration transition: who, when, from, to, note, the total."""

    aspiration = models.ForeignKey(Aspiration, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=30, choices=AspirationStatus.choices, blank=True)
    to_status = models.CharField(max_length=30, choices=AspirationStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status} at {self.at:%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Transition records are immutable")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Transition records are immutable")
