"""Calculated payments: what each provider's achievement earns, per indicator, and in total.

A ``Calculation`` exists per ``Achievement`` once it has been calculated; its
``IndicatorCalculation`` rows hold the engine's result for every indicator of the service.  A
calculation is provisional until a declaration (a later issue) is financially approved.

``inputs_hash`` is the SHA-256 of every input the figures depend on (the values of the current
submission, tick-box answers, list size, the service's national figures and indicator rules), so
recalculating unchanged data writes nothing; ``version`` counts the recalculations that changed
the inputs.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import Organisation
from achievement.models import Achievement
from participation.models import AchievementDate, Indicator, QualityService


class Calculation(models.Model):
    achievement = models.OneToOneField(Achievement, on_delete=models.CASCADE, related_name="calculation")
    # Denormalised from the achievement so exports and lists filter without a join.
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="calculations")
    service = models.ForeignKey(QualityService, on_delete=models.PROTECT, related_name="calculations")
    achievement_date = models.ForeignKey(
        AchievementDate, on_delete=models.PROTECT, related_name="calculations"
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
    calculated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "achievement_date__date", "provider__name"]
        indexes = [models.Index(fields=["service", "achievement_date"])]

    def __str__(self) -> str:
        return f"{self.achievement} v{self.version}: £{self.total_amount}"


class IndicatorCalculation(models.Model):
    """The engine's result for one indicator of a calculation (``None``: does not apply)."""

    calculation = models.ForeignKey(Calculation, on_delete=models.CASCADE, related_name="indicators")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
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
        constraints = [
            models.UniqueConstraint(fields=["calculation", "indicator"], name="one_result_per_indicator")
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.points} points, £{self.amount}"
