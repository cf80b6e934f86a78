"""Forms of Participation Management.  They validate input; the services do the work."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from accounts.fields import DateInputField

from .models import FinancialYear, QualityService
from .selectors import MY_SERVICES_STATUSES, OFFERED_SERVICES_STATUSES


class _ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: QualityService) -> str:
        return obj.label


class _FinancialYearField(forms.ModelChoiceField):
    def label_from_instance(self, obj: FinancialYear) -> str:
        return obj.label


def _get_helper(button: str, name: str) -> FormHelper:
    helper = FormHelper()
    helper.form_method = "get"
    helper.add_input(Submit(name, button, css_class="nhsuk-button--secondary"))
    return helper


class FinancialYearFilterForm(forms.Form):
    """Offered Services: "filtered by financial year", the current one by default."""

    financial_year = _FinancialYearField(
        label="Financial Year", queryset=FinancialYear.objects.order_by("-start_date"), empty_label=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _get_helper("Show", "show")


class MyServicesFilterForm(FinancialYearFilterForm):
    """My Services: the financial year and the Quality Service Status filter (Offered by default)."""

    status = forms.ChoiceField(
        label="Quality Service Status", choices=[(s, s) for s in MY_SERVICES_STATUSES], initial="Offered"
    )


class StatusFilterForm(forms.Form):
    """The Status drop-down of an offered service."""

    status = forms.ChoiceField(label="Status", choices=[(s, s) for s in OFFERED_SERVICES_STATUSES], initial="Offered")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _get_helper("Show", "show")


class OfferDetailsForm(forms.Form):
    """Create Offers, step 1: the Quality Service and its dates."""

    service = _ServiceChoiceField(label="Quality Service", queryset=QualityService.objects.none(),
                                  empty_label="Select a Quality Service")
    start_date = DateInputField(label="Service start date", help_text="For example, 1 4 2024")
    end_date = DateInputField(label="Service end date", help_text="For example, 31 3 2025")
    response_date = DateInputField(label="Response date", help_text="The date by which providers should respond")
    target_date = DateInputField(label="Target date")

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.helper = FormHelper()
        self.helper.add_input(Submit("continue", "Continue"))

    def clean(self):
        cleaned = super().clean()
        service = cleaned.get("service")
        if service is None:
            return cleaned
        year = service.financial_year
        for name in ("start_date", "end_date", "response_date", "target_date"):
            value = cleaned.get(name)
            if value is not None and not (year.start_date <= value <= year.end_date):
                self.add_error(
                    name,
                    f"{self.fields[name].label} must be within the financial year {year.label} "
                    f"({year.start_date:%d/%m/%Y} to {year.end_date:%d/%m/%Y})",
                )
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "Service end date must be the same as or after the service start date")
        return cleaned


class ProviderFilterForm(forms.Form):
    """Create Offers, step 2: narrow the providers to a PCN or a sub-ICB location."""

    pcn = forms.ModelChoiceField(label="PCN", queryset=None, required=False, empty_label="All PCNs")
    sub_icb = forms.ModelChoiceField(
        label="Sub-ICB location", queryset=None, required=False, empty_label="All sub-ICB locations"
    )

    def __init__(self, *args, pcns, sub_icbs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pcn"].queryset = pcns
        self.fields["sub_icb"].queryset = sub_icbs
        self.helper = _get_helper("Filter", "filter")


class ProviderSelectionForm(forms.Form):
    """Create Offers, step 2: the providers ticked, or Select All (every provider listed)."""

    select_all = forms.BooleanField(label="Select All", required=False)
    providers = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, provider_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.provider_ids = provider_ids
        self.fields["providers"].choices = [(pk, str(pk)) for pk in provider_ids]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("select_all"):
            cleaned["providers"] = list(self.provider_ids)
        if not cleaned.get("providers"):
            raise forms.ValidationError("Select at least one Service Provider.")
        return cleaned
