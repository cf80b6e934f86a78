from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from participation.definitions import DENOMINATOR_FIELD, YES_NO_FIELD

from .entry_rules import fraction_errors
from .models import NoExtractReason
from .plausibility import MAX_LIST_SIZE, ValueLimits, value_errors

MAX_UPLOAD_BYTES = 2 * 1024**3  # a national year-end extract is about 450 MB


class UploadExtractForm(forms.Form):
    file = forms.FileField(
        label="GPES extract file",
        help_text="A CSV file in the CQRS indicator-values layout (QUALITY_SERVICE, NAME, ORG_CODE, ...).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("upload", "Upload extract"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError("The selected file is empty.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The selected file is larger than 2 GB.")
        return upload


# --- Record Achievement --------------------------------------------------------------------


class _FinancialYearField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.short_label  # "24/25", as the Data Submission filter shows it


class _ServiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label  # "DES— Annual—Network Contract DES 2024/25"


class _AchievementDateField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.date:%d/%m/%Y}{' (payment date)' if obj.is_payment_date else ''}"


class _ProviderField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.ods_code})"


class RecordAchievementFilterForm(forms.Form):
    """Record Achievement: "filter on any combination of Financial Year and Quality Service"."""

    financial_year = _FinancialYearField(label="Financial Year", queryset=None, empty_label=None)
    service = _ServiceField(label="Quality Service", queryset=None, empty_label="Select a Quality Service",
                            required=False)

    def __init__(self, *args, financial_years, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["financial_year"].queryset = financial_years
        self.fields["service"].queryset = services


class AddAchievementForm(forms.Form):
    """The Achievement Date drop-down and Add New Achievement (with the provider when the user
    enters achievement for several)."""

    achievement_date = _AchievementDateField(
        label="Achievement Date",
        queryset=None,
        empty_label="Select an Achievement Date",
        error_messages={"required": "Select an Achievement Date", "invalid_choice": "Select a valid Achievement Date"},
    )
    provider = _ProviderField(
        label="Service Provider",
        queryset=None,
        empty_label=None,
        error_messages={"required": "Select a Service Provider", "invalid_choice": "Select a Service Provider"},
    )

    def __init__(self, *args, achievement_dates, providers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["achievement_date"].queryset = achievement_dates
        self.fields["provider"].queryset = providers


class RecordProviderAchievementFilterForm(RecordAchievementFilterForm):
    """Record Provider Achievement: Financial Year, Quality Service and Service Provider."""

    provider = _ProviderField(label="Service Provider", queryset=None, empty_label="All Service Providers",
                              required=False)

    def __init__(self, *args, providers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers


class ManualEntryProviderForm(forms.Form):
    """A provider with no automatic extract for the service, and why (the job aid's reasons)."""

    provider = _ProviderField(
        label="Service Provider without automatic extracts",
        queryset=None,
        empty_label="Select a Service Provider",
        error_messages={"required": "Select a Service Provider", "invalid_choice": "Select a Service Provider"},
    )
    reason = forms.ChoiceField(
        label="Why the Service Provider has no automatic extract",
        choices=[("", "Select a reason"), *NoExtractReason.choices],
        error_messages={
            "required": "Select why the Service Provider has no automatic extract",
            "invalid_choice": "Select why the Service Provider has no automatic extract",
        },
    )

    def __init__(self, *args, providers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers


YES_NO_CHOICES = [("", "No change"), ("1", "Yes"), ("0", "No")]


class GroupValuesForm(forms.Form):
    """The New Values of an indicator group, and the submission notes.

    One field per enterable indicator field (``entry_rules.FieldState``); blank leaves the value as it
    is.  Validation as for extracts: whole numbers of 0 or more, a Numerator not above its
    Denominator (on the values the submission would hold), a Yes/No Flag only Yes or No, and,
    given ``limits``, every other value not above the provider's list size nor the service's
    ceiling (achievement/plausibility.py).  ``new_values()`` gives the service's
    ``{(indicator id, field name): value}``.
    """

    notes = forms.CharField(
        label="Submission notes",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Notes are visible to anyone who reviews the submission or makes a further submission "
        "for the same achievement date.",
    )

    def __init__(self, *args, states, indicators, base_values, limits: ValueLimits | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits  # the list size and ceiling the values are checked against (on a post)
        self.states = [s for s in states if s.editable]
        self.indicators = indicators
        self.base_values = base_values  # what the submission holds where no New Value is given
        for state in self.states:
            label = f"New value: {state.indicator.code} {state.field_name}"
            if state.field_name == YES_NO_FIELD:
                field = forms.TypedChoiceField(label=label, choices=YES_NO_CHOICES, coerce=int, empty_value=None,
                                               required=False)
            else:
                message = f"{state.indicator.code} {state.field_name} must be a whole number of 0 or more"
                ceiling = MAX_LIST_SIZE if limits is None else limits.ceiling
                field = forms.IntegerField(
                    label=label,
                    required=False,
                    min_value=0,
                    max_value=ceiling,
                    error_messages={
                        "invalid": message,
                        "min_value": message,
                        "max_value": f"{state.indicator.code} {state.field_name} is too large: "
                        f"no value or list size can be above {ceiling:,}",
                    },
                    widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input nhsuk-input--width-10"}),
                )
            self.fields[state.name] = field

    def clean(self):
        cleaned = super().clean()
        merged = dict(self.base_values)
        for state in self.states:
            value = cleaned.get(state.name)
            if value is not None:
                merged[state.key] = value
        by_key = {state.key: state for state in self.states}
        if self.limits is None:
            errors = fraction_errors(self.indicators, merged)
        else:
            entered = [
                s.key for s in self.states
                if cleaned.get(s.name) is not None and cleaned[s.name] != self.base_values.get(s.key)
            ]
            errors = value_errors(self.indicators, merged, changed=entered, limits=self.limits)
        for key, message in errors.items():
            state = by_key.get(key) or by_key.get((key[0], DENOMINATOR_FIELD))
            if state is not None and state.name not in self.errors:
                self.add_error(state.name, message)
            elif state is None:
                self.add_error(None, message)
        return cleaned

    def new_values(self) -> dict[tuple[int, str], int | None]:
        return {state.key: self.cleaned_data.get(state.name) for state in self.states}


class TickBoxForm(forms.Form):
    value = forms.TypedChoiceField(
        label="Yes/No", choices=[("1", "Yes"), ("0", "No")], coerce=lambda v: v == "1",
        error_messages={"required": "Select Yes or No", "invalid_choice": "Select Yes or No"},
    )
