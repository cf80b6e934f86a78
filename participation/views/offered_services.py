"""Offered Services (commissioner, Commissioning Management): the services the user's ICBs have
offered, their providers by status, and Withdraw Service / Cancel Service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from accounts.errors import NotFound
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from participation import selectors, services
from participation.forms import FinancialYearFilterForm, StatusFilterForm

from .confirm import confirmation, url_with_query


class ListOfferedServicesView(RoleRequiredMixin, TemplateView):
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


class ListOfferedServiceProvidersView(RoleRequiredMixin, TemplateView):
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


@dataclass(frozen=True)
class _Management:
    service: Any  # services.offers_withdraw / offers_cancel
    verb: str
    done: str
    success: str


_MANAGEMENT = {
    "withdraw": _Management(
        services.offers_withdraw, "withdraw", "withdrawn", "You have successfully withdrawn the Quality Service."
    ),
    "cancel": _Management(
        services.offers_cancel, "cancel", "cancelled", "You have successfully cancelled the Quality Service."
    ),
}


class ManageOffersView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Withdraw Service / Cancel Service for the ticked providers, after a "Yes" confirmation.  An
    offer in the wrong state (cancelling one still Offered) is refused with the reason."""

    permission = "participation.create_offers"
    http_method_names = ["post"]

    def error_url(self) -> str:
        return url_with_query(
            reverse("participation:offered_service", args=[self.kwargs["service_pk"]]),
            status=self.request.POST.get("status", "Offered"),
        )

    def post(self, request, service_pk: int):
        management = _MANAGEMENT.get(request.POST.get("action"))
        if management is None:
            raise NotFound("No such action")
        service = selectors.offered_service(user=request.user, service_id=service_pk)
        back = self.error_url()
        ticked = request.POST.getlist("offers")
        if not ticked:
            messages.error(request, "Select at least one Service Provider.")
            return HttpResponseRedirect(back)
        offers = selectors.offers_selected(
            offers=selectors.offers_commissioned(user=request.user).filter(service=service), offer_ids=ticked
        )
        if request.POST.get("confirm") != "yes":
            return confirmation(
                request,
                question=(
                    f"Are you sure you want to {management.verb} the Quality Service for the selected "
                    "Service Provider(s)?"
                ),
                note=(
                    "Selecting the Yes button will send a message that tells the Service Provider(s) that "
                    f"the Quality Service has been {management.done}."
                ),
                offers=offers.select_related("service", "provider"),
                action=request.POST["action"],
                form_action=reverse("participation:manage_offers", args=[service.pk]),
                back=back,
                hidden={"status": request.POST.get("status", "Offered")},
            )
        management.service(offer_ids=sorted(offer.pk for offer in offers), user=request.user)
        messages.success(request, management.success)
        return HttpResponseRedirect(back)
