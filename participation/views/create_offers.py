"""Create Offers (commissioner, Commissioning Management), three steps kept in the session: the
service and its dates, the providers, then review and confirm."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView, TemplateView

from accounts.inputs import id_or_none
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from participation import selectors, services
from participation.forms import OfferDetailsForm, ProviderFilterForm, ProviderSelectionForm

from .links import url_with_query

SESSION_KEY = "create_offers"
_DATES = ("start_date", "end_date", "response_date", "target_date")


class _LaterStep:
    """A step after the first: the choices of the earlier steps must be in the session, else back
    to step 1.  (After ``RoleRequiredMixin``: a user without the role gets 403, not a redirect.)"""

    needs_providers = False

    def dispatch(self, request, *args, **kwargs):
        self.data = dict(request.session.get(SESSION_KEY) or {})
        service_id = self.data.get("service")
        self.service = selectors.offerable_service_list().filter(pk=service_id).first() if service_id else None
        if self.service is None or (self.needs_providers and not self.data.get("providers")):
            return redirect("participation:create_offers")
        return super().dispatch(request, *args, **kwargs)


class CreateOffersView(RoleRequiredMixin, FormView):
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
        data = self.request.session.get(SESSION_KEY) or {}
        return {k: data.get(k) for k in ("service", *_DATES)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(page_title="Create Offers", **kwargs)

    def form_valid(self, form):
        self.request.session[SESSION_KEY] = {
            "service": form.cleaned_data["service"].pk,
            **{name: form.cleaned_data[name].isoformat() for name in _DATES},
        }
        return redirect("participation:choose_providers")


class ChooseProvidersView(RoleRequiredMixin, _LaterStep, TemplateView):
    """Create Offers, step 2: choose providers, filtered by PCN, sub-ICB location or cluster, or
    Select All."""

    permission = "participation.create_offers"
    template_name = "participation/choose_providers.html"

    def _filters(self):
        user = self.request.user
        form = ProviderFilterForm(
            self.request.GET or None,
            pcns=selectors.commissioned_pcn_list(user=user),
            sub_icbs=selectors.sub_icb_list(user=user),
            clusters=selectors.cluster_choice_list(user=user),
        )
        pcn = sub_icb = cluster = None
        if form.is_bound and form.is_valid():
            pcn, sub_icb, cluster = form.cleaned_data["pcn"], form.cleaned_data["sub_icb"], form.cleaned_data["cluster"]
        providers = list(
            selectors.offerable_provider_list(
                user=user,
                service=self.service,
                pcn_id=pcn.pk if pcn else None,
                sub_icb_id=sub_icb.pk if sub_icb else None,
                cluster_id=cluster.pk if cluster else None,
            )
        )
        return form, providers

    def get(self, request, *args, **kwargs):
        form, providers = self._filters()
        selection = ProviderSelectionForm(
            initial={"providers": self.data.get("providers", [])}, provider_ids=[p.pk for p in providers]
        )
        return self.render_to_response(self._context(form, providers, selection))

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
        # A re-shown invalid post may hold anything: tick again only the values that are ids.
        chosen = {number for number in map(id_or_none, raw) if number is not None}
        return self.get_context_data(
            page_title="Create Offers",
            service=self.service,
            filter_form=filter_form,
            selection=selection,
            providers=[(p, p.pk in chosen) for p in providers],
            query=self.request.GET.urlencode(),
        )


class ReviewOffersView(RoleRequiredMixin, DomainErrorsMixin, _LaterStep, TemplateView):
    """Create Offers, step 3: review, then confirm.  Dates or providers the service refuses are
    shown as the reason, on this page."""

    permission = "participation.create_offers"
    template_name = "participation/review_offers.html"
    needs_providers = True

    def _dates(self) -> dict[str, dt.date]:
        return {name: dt.date.fromisoformat(self.data[name]) for name in _DATES}

    def _providers(self):
        return selectors.chosen_provider_list(user=self.request.user, provider_ids=self.data["providers"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            page_title="Create Offers",
            service=self.service,
            dates=self._dates(),
            providers=list(self._providers()),
            automatic=self.service.is_network_contract_des,
            **kwargs,
        )

    def error_url(self) -> str:
        return reverse("participation:review_offers")

    def post(self, request, *args, **kwargs):
        result = services.offer_create(
            user=request.user, service=self.service, providers=list(self._providers()), **self._dates()
        )
        request.session.pop(SESSION_KEY, None)
        text = f"The Quality Service has been successfully offered to {len(result.offers)} Service Provider(s)."
        if result.skipped:
            text += f" {len(result.skipped)} already had it offered or approved and were left as they were."
        messages.success(request, text)
        status = "Approved" if self.service.is_network_contract_des else "Offered"
        return HttpResponseRedirect(
            url_with_query(reverse("participation:offered_service", args=[self.service.pk]), status=status)
        )
