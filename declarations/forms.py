"""Forms of the Achievement tab.  They validate input; the selectors scope it."""

from __future__ import annotations

from django import forms

from accounts.inputs import id_or_none
from participation.models import AchievementDate, FinancialYear, QualityService

from . import claims, selectors
from .models import DeclarationStatus


class _FinancialYearField(forms.ModelChoiceField):
    def label_from_instance(self, obj: FinancialYear) -> str:
        return obj.label


class _ServiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: QualityService) -> str:
        return obj.label


class _ProviderField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.ods_code})"


class _AchievementDateField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AchievementDate) -> str:
        return f"{obj.date:%d/%m/%Y}{' (payment date)' if obj.is_payment_date else ''}"


class AchievementResultsFilterForm(forms.Form):
    """Achievement Results: Financial Year, Quality Service, Service Provider, Achievement Date.

    Each drop-down offers what the choices before it allow (no script: choose and select Show);
    providers are only those the user may see.
    """

    financial_year = _FinancialYearField(
        label="Financial Year",
        queryset=FinancialYear.objects.order_by("-start_date"),
        required=False,
        empty_label="All financial years",
    )
    service = _ServiceField(
        label="Quality Service",
        queryset=QualityService.objects.none(),
        required=False,
        empty_label="All Quality Services",
    )
    provider = _ProviderField(
        label="Service Provider", queryset=None, required=False, empty_label="All Service Providers"
    )
    achievement_date = _AchievementDateField(
        label="Achievement Date",
        queryset=AchievementDate.objects.none(),
        required=False,
        empty_label="All achievement dates",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = selectors.result_providers(user=user)
        year_id = self._raw_id("financial_year")
        services = QualityService.objects.select_related("financial_year").order_by("code")
        if year_id is not None:
            services = services.filter(financial_year_id=year_id)
        self.fields["service"].queryset = services
        service_id = self._raw_id("service")
        if service_id is not None:
            self.fields["achievement_date"].queryset = AchievementDate.objects.filter(service_id=service_id)

    def _raw_id(self, name: str) -> int | None:
        source = self.data if self.is_bound else self.initial
        value = source.get(name)
        if hasattr(value, "pk"):
            return value.pk
        return id_or_none(value)  # a 30-digit id is no id: it would overflow SQLite's INTEGER


# --- Declarations ---------------------------------------------------------------------------------

STATUS_ALL = "all"


class DeclarationManagementFilterForm(forms.Form):
    """Declaration Management: the Status and Quality Service filters of the job aid, and the
    Cluster of the user's ICB (issue 14: Service Provider Clusters), and the Month of a monthly
    service (issue 16: approve a month's claims for the ICB with Select All)."""

    status = forms.ChoiceField(label="Status", required=False)
    service = _ServiceField(
        label="Quality Service", queryset=QualityService.objects.none(), required=False, empty_label="All Quality Services"
    )
    cluster = forms.ChoiceField(label="Cluster", required=False)
    month = forms.ChoiceField(label="Month", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(STATUS_ALL, "All statuses"), *DeclarationStatus.choices]
        self.fields["service"].queryset = selectors.declaration_management_services(user=user)
        # Each select's choices read once (a ModelChoiceField's select counts its rows, then reads
        # them); a chosen service is still checked against the queryset.
        service = self.fields["service"]
        choice = service.iterator(service).choice
        service.choices = [("", service.empty_label), *(choice(obj) for obj in service.queryset)]
        self._clusters = {str(c.pk): c for c in selectors.declaration_management_clusters(user=user)}
        self.fields["cluster"].choices = [("", "All clusters"), *((pk, c.name) for pk, c in self._clusters.items())]
        self.fields["month"].choices = [("", "All months"), *claims.declaration_management_months(user=user)]

    def clean_cluster(self):
        return self._clusters.get(self.cleaned_data["cluster"])


class _TickedIds(forms.TypedMultipleChoiceField):
    def valid_value(self, value) -> bool:
        # The choices are what was posted: each value checked against them all made 500 ticked
        # rows 250,000 comparisons.  Any id is valid here; the view checks they are its rows.
        return id_or_none(value) is not None


class DeclarationSelectionForm(forms.Form):
    """The ticked rows: ids only; the view checks they are rows the user manages."""

    declarations = _TickedIds(coerce=int, error_messages={"required": "Select at least one declaration."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        posted = self.data.getlist("declarations") if hasattr(self.data, "getlist") else []
        self.fields["declarations"].choices = [(value, value) for value in posted if id_or_none(value) is not None]


class DeclareForm(forms.Form):
    note = forms.CharField(
        label="Declaration notes (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Visible to the Commissioning Organisation with the declaration.",
    )


class CommissionerTickBoxForm(forms.Form):
    indicator = forms.IntegerField(widget=forms.HiddenInput)
    value = forms.TypedChoiceField(
        label="Yes/No",
        choices=[("1", "Yes"), ("0", "No")],
        coerce=lambda v: v == "1",
        error_messages={"required": "Select Yes or No", "invalid_choice": "Select Yes or No"},
    )


# --- Monthly claims (issue 16) -------------------------------------------------------------------


class MonthlyClaimsFilterForm(forms.Form):
    """Monthly Claims: the Service Provider (of those the user may see) and its monthly Quality
    Service.  The view picks the first of each when none (or one not offered) is chosen."""

    provider = _ProviderField(label="Service Provider", queryset=None, required=False, empty_label=None)
    service = _ServiceField(label="Quality Service", queryset=QualityService.objects.none(), required=False,
                            empty_label=None)

    def __init__(self, *args, providers, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.fields["service"].queryset = services
