"""Forms of Participation Management.  They validate input; the services do the work."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from accounts.fields import DateInputField

from .models import FinancialYear, QualityService
from .selectors import MY_SERVICES_STATUSES, OFFERED_SERVICES_STATUSES, PROVIDER_SORTS


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


def _cluster_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(label="Cluster", queryset=None, required=False, empty_label="All clusters")


class ProviderFilterForm(forms.Form):
    """Create Offers, step 2: narrow the providers to a PCN, a sub-ICB location or a cluster."""

    pcn = forms.ModelChoiceField(label="PCN", queryset=None, required=False, empty_label="All PCNs")
    sub_icb = forms.ModelChoiceField(
        label="Sub-ICB location", queryset=None, required=False, empty_label="All sub-ICB locations"
    )
    cluster = _cluster_field()

    def __init__(self, *args, pcns, sub_icbs, clusters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pcn"].queryset = pcns
        self.fields["sub_icb"].queryset = sub_icbs
        self.fields["cluster"].queryset = clusters
        self.helper = _get_helper("Filter", "filter")


class OfferedServicesFilterForm(FinancialYearFilterForm):
    """Offered Services: the financial year, and a cluster (the counts are of its providers)."""

    cluster = _cluster_field()

    def __init__(self, *args, clusters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = clusters


class OfferedProvidersFilterForm(forms.Form):
    """An offered service's providers: Status, Cluster, a search by name or ODS code, Sort by."""

    status = forms.ChoiceField(label="Status", choices=[(s, s) for s in OFFERED_SERVICES_STATUSES], initial="Offered")
    cluster = _cluster_field()
    q = forms.CharField(label="Search by Service Provider name or ODS code", required=False, max_length=100)
    sort = forms.ChoiceField(
        label="Sort by", choices=[(key, label) for key, (label, _) in PROVIDER_SORTS.items()], initial="name"
    )

    def __init__(self, *args, clusters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = clusters
        self.helper = _get_helper("Show", "show")

    def filters(self) -> dict:
        """The valid filters; a value that is not a choice falls back to its default."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "status": cleaned.get("status") or "Offered",
            "cluster": cleaned.get("cluster"),
            "query": cleaned.get("q") or "",
            "sort": cleaned.get("sort") or "name",
        }


class ClusterForm(forms.Form):
    """Service Provider Clusters: a cluster's name (and, for a user at several ICBs, whose)."""

    name = forms.CharField(label="Cluster name", max_length=100)
    commissioner = forms.ModelChoiceField(label="Commissioning Organisation", queryset=None)

    def __init__(self, *args, commissioners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if commissioners is None or len(commissioners) < 2:
            del self.fields["commissioner"]
        else:
            self.fields["commissioner"].queryset = commissioners


class ProviderSearchForm(forms.Form):
    """Service Provider Clusters: find the providers to add, by name or ODS code."""

    q = forms.CharField(label="Search by Service Provider name or ODS code", required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _get_helper("Search", "search")


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
