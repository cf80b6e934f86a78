"""Aspiration Management's forms: the Quality Service filter, the ticked rows, agreed points."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from accounts.inputs import id_or_none
from declarations.models import AspirationStatus
from participation.models import QualityService

STATUS_ALL = "all"
MAX_POINTS = Decimal("1000")


class _ServiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: QualityService) -> str:
        return obj.label


class AspirationFilterForm(forms.Form):
    service = _ServiceField(label="Quality Service", queryset=QualityService.objects.none(), empty_label=None)
    status = forms.ChoiceField(label="Status", required=False)

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["status"].choices = [(STATUS_ALL, "All statuses"), *AspirationStatus.choices]


class AspirationSelectionForm(forms.Form):
    """The ticked rows: ids only; the use case checks they are rows the user manages."""

    aspirations = forms.TypedMultipleChoiceField(
        coerce=int, error_messages={"required": "Select at least one aspiration payment."}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        posted = self.data.getlist("aspirations") if hasattr(self.data, "getlist") else []
        self.fields["aspirations"].choices = [(value, value) for value in posted if id_or_none(value) is not None]


class AgreePointsForm(forms.Form):
    """Aspiration points agreed with the Service Provider; empty clears them."""

    points = forms.CharField(
        label="Agreed aspiration points", required=False, max_length=12,
        help_text="Leave empty to calculate the aspiration from last year's achievement payment.",
    )

    def clean_points(self) -> Decimal | None:
        text = (self.cleaned_data.get("points") or "").strip()
        if not text:
            return None
        try:
            points = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError("Enter the points as a number, for example 350.5") from None
        if not points.is_finite() or points < 0 or points > MAX_POINTS or points != points.quantize(Decimal("0.01")):
            raise forms.ValidationError(f"Enter points from 0 to {MAX_POINTS:,} with at most 2 decimal places")
        return points.quantize(Decimal("0.01"))
