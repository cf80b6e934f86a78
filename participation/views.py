"""Participation Management screens (job aids: viewing, accepting, withdrawing and cancelling
offers; the My Services filter).  Thin: forms validate, selectors read, services write."""

from __future__ import annotations

import datetime as dt

import rules
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView, TemplateView, View

from accounts import permissions
from accounts.models import Organisation, Role

from . import selectors, services
from .errors import ParticipationError
from .forms import (
    FinancialYearFilterForm,
    MyServicesFilterForm,
    OfferDetailsForm,
    OfferSelectionForm,
    ProviderFilterForm,
    ProviderSelectionForm,
    StatusFilterForm,
)
from .models import QualityService

SESSION_KEY = "create_offers"


class _PermissionRequiredMixin:
    """The screen needs a CQRS role (rules, without Django's superuser shortcut)."""

    permission: str = ""

    def dispatch(self, request, *args, **kwargs):
        if not rules.has_perm(self.permission, request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _query(url: str, **params) -> str:
    from urllib.parse import urlencode

    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


# My Services (Service Provider, Service Management) -----------------------------------------


class ListMyServicesView(_PermissionRequiredMixin, TemplateView):
    """My Services: offers for the current financial year, Offered by default."""

    permission = "participation.view_my_services"
    template_name = "participation/my_services.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        year = selectors.financial_year_or_current(self.request.GET.get("financial_year"))
        status = self.request.GET.get("status")
        if status not in selectors.MY_SERVICES_STATUSES:
            status = "Offered"
        offers = list(selectors.my_service_list(user=self.request.user, financial_year=year, status=status))
        context.update(
            page_title="My Services",
            filter_form=MyServicesFilterForm(initial={"financial_year": year, "status": status}),
            financial_year=year,
            status=status,
            offers=offers,
            several_providers=len({o.provider_id for o in offers}) > 1,
            can_respond=status == "Offered",
        )
        return context


_RESPONSES = {
    "accept": (services.offers_accept, "accept", "The Quality Service has been successfully accepted."),
    "reject": (services.offers_reject, "reject", "The Quality Service has been successfully rejected."),
}


class RespondToOffersView(_PermissionRequiredMixin, View):
    """Accept Service / Reject Service on the ticked offers, after a "Yes" confirmation."""

    permission = "participation.view_my_services"
    http_method_names = ["post"]

    def post(self, request):
        action = request.POST.get("action")
        if action not in _RESPONSES:
            raise Http404("No such action")
        back = _query(
            reverse("participation:my_services"),
            financial_year=request.POST.get("financial_year"),
            status="Offered",
        )
        form = OfferSelectionForm(
            request.POST, offer_ids=list(selectors.offers_received(user=request.user).values_list("pk", flat=True))
        )
        if not form.is_valid():
            if "offers" in form.errors and request.POST.getlist("offers"):
                raise Http404("No such offer")  # another organisation's offer: as if it did not exist
            messages.error(request, "Select at least one Quality Service offer.")
            return HttpResponseRedirect(back)
        service_function, verb, success = _RESPONSES[action]
        offer_ids = form.cleaned_data["offers"]
        if request.POST.get("confirm") != "yes":
            offers = selectors.offers_received(user=request.user).filter(pk__in=offer_ids).select_related(
                "service", "provider"
            )
            return _confirmation(
                request,
                question=f"Are you sure you wish to {verb} the selected Quality Service?",
                note=(
                    "The Commissioning Organisation will receive a message informing them that you have "
                    "rejected the offer." if verb == "reject" else
                    "The offer will move to the Approved status."
                ),
                offers=offers,
                action=action,
                form_action=reverse("participation:respond_to_offers"),
                back=back,
                hidden={"financial_year": request.POST.get("financial_year", "")},
            )
        try:
            service_function(offer_ids=offer_ids, user=request.user)
        except Http404:
            raise
        except ParticipationError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(back)
        messages.success(request, success)
        return HttpResponseRedirect(back)


def _confirmation(request, *, question, note, offers, action, form_action, back, hidden):
    from django.template.response import TemplateResponse

    return TemplateResponse(
        request,
        "participation/confirm_offers.html",
        {
            "page_title": question,
            "question": question,
            "note": note,
            "offers": list(offers),
            "action": action,
            "form_action": form_action,
            "back": back,
            "hidden": hidden,
        },
    )


class ShowOfferView(TemplateView):
    """The details of an offer: the service's domains, each expandable; 404 for an offer of
    another organisation."""

    template_name = "participation/offer_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        offer = selectors.offer_detail(user=user, offer_id=self.kwargs["pk"])
        is_provider_side = permissions.has_role_in(user, offer.provider_id, {Role.SERVICE_MANAGEMENT}) or (
            not permissions.has_role_in(user, offer.commissioner_id, {Role.COMMISSIONING_MANAGEMENT})
        )
        if is_provider_side:
            back = _query(
                reverse("participation:my_services"),
                financial_year=offer.service.financial_year_id,
                status=_filter_label(offer.get_status_display()),
            )
        else:
            back = _query(
                reverse("participation:offered_service", args=[offer.service_id]),
                status=_filter_label(offer.get_status_display()),
            )
        context.update(
            page_title=offer.service.name,
            offer=offer,
            back_url=back,
            back_label="Back to Select a Quality Service" if is_provider_side else "Back to Offered Services",
        )
        return context


def _filter_label(status_label: str) -> str:
    return "Cancelled" if status_label == "Withdrawn" else status_label


# Offered Services (commissioner, Commissioning Management) -----------------------------------


class ListOfferedServicesView(_PermissionRequiredMixin, TemplateView):
    """Offered Services: the services offered in a financial year (the current one by default)."""

    permission = "participation.create_offers"
    template_name = "participation/offered_services.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        year = selectors.financial_year_or_current(self.request.GET.get("financial_year"))
        context.update(
            page_title="Offered Services",
            filter_form=FinancialYearFilterForm(initial={"financial_year": year}),
            financial_year=year,
            services=list(selectors.offered_service_list(user=self.request.user, financial_year=year)),
        )
        return context


class ListOfferedServiceProvidersView(_PermissionRequiredMixin, TemplateView):
    """One offered service: the Status drop-down lists its providers with checkboxes."""

    permission = "participation.create_offers"
    template_name = "participation/offered_service.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        service = selectors.offered_service(user=user, service_id=self.kwargs["service_pk"])
        status = self.request.GET.get("status")
        if status not in selectors.OFFERED_SERVICES_STATUSES:
            status = "Offered"
        context.update(
            page_title=service.name,
            service=service,
            status=status,
            status_form=StatusFilterForm(initial={"status": status}),
            offers=list(selectors.offered_service_providers(user=user, service=service, status=status)),
            can_withdraw=status == "Offered",
            can_cancel=status in ("Approved", "Rejected"),
        )
        return context


_MANAGEMENT = {
    "withdraw": (services.offers_withdraw, "withdraw", "withdrawn", "You have successfully withdrawn the Quality Service."),
    "cancel": (services.offers_cancel, "cancel", "cancelled", "You have successfully cancelled the Quality Service."),
}


class ManageOffersView(_PermissionRequiredMixin, View):
    """Withdraw Service / Cancel Service for the ticked providers, after a "Yes" confirmation."""

    permission = "participation.create_offers"
    http_method_names = ["post"]

    def post(self, request, service_pk: int):
        action = request.POST.get("action")
        if action not in _MANAGEMENT:
            raise Http404("No such action")
        service = selectors.offered_service(user=request.user, service_id=service_pk)
        status = request.POST.get("status", "Offered")
        back = _query(reverse("participation:offered_service", args=[service.pk]), status=status)
        offers_of_service = selectors.offers_commissioned(user=request.user).filter(service=service)
        form = OfferSelectionForm(request.POST, offer_ids=list(offers_of_service.values_list("pk", flat=True)))
        if not form.is_valid():
            if "offers" in form.errors and request.POST.getlist("offers"):
                raise Http404("No such offer")
            messages.error(request, "Select at least one Service Provider.")
            return HttpResponseRedirect(back)
        service_function, verb, done, success = _MANAGEMENT[action]
        offer_ids = form.cleaned_data["offers"]
        if request.POST.get("confirm") != "yes":
            return _confirmation(
                request,
                question=f"Are you sure you want to {verb} the Quality Service for the selected Service Provider(s)?",
                note=(
                    "Selecting the Yes button will send a message that tells the Service Provider(s) that "
                    f"the Quality Service has been {done}."
                ),
                offers=offers_of_service.filter(pk__in=offer_ids).select_related("service", "provider"),
                action=action,
                form_action=reverse("participation:manage_offers", args=[service.pk]),
                back=back,
                hidden={"status": status},
            )
        try:
            service_function(offer_ids=offer_ids, user=request.user)
        except Http404:
            raise
        except ParticipationError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(back)
        messages.success(request, success)
        return HttpResponseRedirect(back)


# Create Offers (commissioner, Commissioning Management) --------------------------------------


def _wizard(request) -> dict:
    return dict(request.session.get(SESSION_KEY) or {})


def _wizard_service(request, data: dict) -> QualityService | None:
    if not data.get("service"):
        return None
    return selectors.offerable_service_list().filter(pk=data["service"]).first()


class CreateOffersView(_PermissionRequiredMixin, FormView):
    """Create Offers, step 1: the Quality Service, the service start and end, response and target
    dates."""

    permission = "participation.create_offers"
    template_name = "participation/create_offers.html"
    form_class = OfferDetailsForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["services"] = selectors.offerable_service_list()
        return kwargs

    def get_initial(self):
        data = _wizard(self.request)
        return {k: data.get(k) for k in ("service", "start_date", "end_date", "response_date", "target_date")}

    def get_context_data(self, **kwargs):
        return super().get_context_data(page_title="Create Offers", **kwargs)

    def form_valid(self, form):
        data = {
            "service": form.cleaned_data["service"].pk,
            **{
                name: form.cleaned_data[name].isoformat()
                for name in ("start_date", "end_date", "response_date", "target_date")
            },
        }
        self.request.session[SESSION_KEY] = data
        return redirect("participation:choose_providers")


class ChooseProvidersView(_PermissionRequiredMixin, TemplateView):
    """Create Offers, step 2: choose providers, filtered by PCN or sub-ICB location, or Select All."""

    permission = "participation.create_offers"
    template_name = "participation/choose_providers.html"

    def dispatch(self, request, *args, **kwargs):
        self.data = _wizard(request)
        self.service = _wizard_service(request, self.data)
        if rules.has_perm(self.permission, request.user) and self.service is None:
            return redirect("participation:create_offers")
        return super().dispatch(request, *args, **kwargs)

    def _filters(self):
        user = self.request.user
        form = ProviderFilterForm(
            self.request.GET or None,
            pcns=selectors.commissioned_pcn_list(user=user),
            sub_icbs=selectors.sub_icb_list(user=user),
        )
        pcn = sub_icb = None
        if form.is_bound and form.is_valid():
            pcn, sub_icb = form.cleaned_data["pcn"], form.cleaned_data["sub_icb"]
        providers = list(
            selectors.offerable_provider_list(
                user=user,
                service=self.service,
                pcn_id=pcn.pk if pcn else None,
                sub_icb_id=sub_icb.pk if sub_icb else None,
            )
        )
        return form, providers

    def get(self, request, *args, **kwargs):
        form, providers = self._filters()
        return self.render_to_response(self._context(form, providers, ProviderSelectionForm(
            initial={"providers": self.data.get("providers", [])}, provider_ids=[p.pk for p in providers])))

    def post(self, request, *args, **kwargs):
        form, providers = self._filters()
        selection = ProviderSelectionForm(request.POST, provider_ids=[p.pk for p in providers])
        if not selection.is_valid():
            return self.render_to_response(self._context(form, providers, selection))
        self.data["providers"] = selection.cleaned_data["providers"]
        request.session[SESSION_KEY] = self.data
        return redirect("participation:review_offers")

    def _context(self, filter_form, providers, selection):
        raw = selection.data.getlist("providers") if selection.is_bound else selection.initial.get("providers", [])
        # A re-shown invalid post may hold anything: tick again only the ids that are numbers.
        chosen = {int(i) for i in raw if str(i).isascii() and str(i).isdigit()}
        return self.get_context_data(
            page_title="Create Offers",
            service=self.service,
            filter_form=filter_form,
            selection=selection,
            providers=[(p, p.pk in chosen) for p in providers],
            query=self.request.GET.urlencode(),
        )


class ReviewOffersView(_PermissionRequiredMixin, TemplateView):
    """Create Offers, step 3: review, then confirm."""

    permission = "participation.create_offers"
    template_name = "participation/review_offers.html"

    def dispatch(self, request, *args, **kwargs):
        self.data = _wizard(request)
        self.service = _wizard_service(request, self.data)
        if rules.has_perm(self.permission, request.user) and (self.service is None or not self.data.get("providers")):
            return redirect("participation:create_offers")
        return super().dispatch(request, *args, **kwargs)

    def _dates(self) -> dict[str, dt.date]:
        return {
            name: dt.date.fromisoformat(self.data[name])
            for name in ("start_date", "end_date", "response_date", "target_date")
        }

    def _providers(self):
        return Organisation.objects.filter(
            pk__in=self.data["providers"],
            commissioner_id__in=permissions.organisation_ids_with_role(
                self.request.user, {Role.COMMISSIONING_MANAGEMENT}
            ),
        ).select_related("pcn", "parent")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            page_title="Create Offers",
            service=self.service,
            dates=self._dates(),
            providers=list(self._providers()),
            automatic=self.service.is_network_contract_des,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        try:
            result = services.offer_create(
                user=request.user, service=self.service, providers=list(self._providers()), **self._dates()
            )
        except ParticipationError as error:
            messages.error(request, error.message)
            return redirect("participation:review_offers")
        request.session.pop(SESSION_KEY, None)
        count = len(result.offers)
        text = f"The Quality Service has been successfully offered to {count} Service Provider(s)."
        if result.skipped:
            text += f" {len(result.skipped)} already had it offered or approved and were left as they were."
        messages.success(request, text)
        status = "Approved" if self.service.is_network_contract_des else "Offered"
        return HttpResponseRedirect(
            _query(reverse("participation:offered_service", args=[self.service.pk]), status=status)
        )
