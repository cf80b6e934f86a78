"""Forms of the records reports: they validate input; the selectors scope it."""

from __future__ import annotations

from django import forms

from accounts.inputs import id_or_none
from declarations.forms import AchievementResultsFilterForm
from declarations.models import DeclarationStatus

from . import allocations, scope, selectors


class AchievementSummaryFilterForm(AchievementResultsFilterForm):
    """Financial Year, Quality Service, Service Provider, Achievement Date (Achievement Results'
    form) with the providers of the user's report scope (Allocated Reports included)."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["provider"].queryset = scope.report_providers(user=user, roles=scope.SUMMARY_ROLES).order_by("name")


class _OrganisationField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.ods_code})"


class _ServiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


class _DateField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.date:%d/%m/%Y}"


class PaymentsFilterForm(forms.Form):
    """Quality Service (required), Achievement Date (the service's payment dates; all of its
    financial year by default), Status, Sub-ICB Location, PCN."""

    service = _ServiceField(label="Quality Service", queryset=None, empty_label="Select a Quality Service")
    achievement_date = _DateField(
        label="Achievement Date", queryset=None, required=False, empty_label="All payment dates of the year"
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *DeclarationStatus.choices]
    )
    sub_icb = _OrganisationField(
        label="Sub-ICB Location", queryset=None, required=False, empty_label="All sub-ICB locations"
    )
    pcn = _OrganisationField(label="PCN", queryset=None, required=False, empty_label="All PCNs")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        services = selectors.payments_services(user=user)
        self.fields["service"].queryset = services
        service_id = self.data.get("service") if self.is_bound else None
        service_id = id_or_none(service_id)  # "²" or a 30-digit id is no service
        service = services.filter(pk=service_id).first() if service_id is not None else None
        self.fields["achievement_date"].queryset = selectors.payments_achievement_dates(service=service)
        self.fields["sub_icb"].queryset = selectors.payments_sub_icb_locations(user=user)
        self.fields["pcn"].queryset = selectors.payments_pcns(user=user)

    def parameters(self) -> dict:
        """The filters as ids (a background run's parameters)."""
        data = self.cleaned_data
        return {
            "service": data["service"].pk,
            "achievement_date": data["achievement_date"].pk if data.get("achievement_date") else None,
            "status": data.get("status") or "",
            "sub_icb": data["sub_icb"].pk if data.get("sub_icb") else None,
            "pcn": data["pcn"].pk if data.get("pcn") else None,
        }

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "service": data["service"],
            "achievement_date": data.get("achievement_date"),
            "status": data.get("status") or None,
            "sub_icb": data.get("sub_icb"),
            "pcn": data.get("pcn"),
        }


class GrantAllocationForm(forms.Form):
    organisation = _OrganisationField(
        label="Organisation whose reports are allocated", queryset=None, empty_label="Select an organisation"
    )
    allowed_organisation = _OrganisationField(
        label="Allow this organisation to run them", queryset=None, empty_label="Select an organisation"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        granting = allocations.granting_organisations(user=user)
        self.fields["organisation"].queryset = granting
        only = list(granting[:2])
        if len(only) == 1:  # the usual case: one organisation, already chosen
            self.initial.setdefault("organisation", only[0].pk)
        self.fields["allowed_organisation"].queryset = allocations.descendants(
            organisation_ids=list(granting.values_list("pk", flat=True))
        )


class RevokeAllocationForm(forms.Form):
    allocation = forms.IntegerField(widget=forms.HiddenInput)
