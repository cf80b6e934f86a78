"""Offered Services (commissioner, Commissioning Management): the services the user's ICBs have
offered, their providers by status, and Withdraw Service / Cancel Service."""

from __future__ import annotations

from django.urls import reverse
from django.views.generic import TemplateView

from accounts.mixins import RoleRequiredMixin
from participation import selectors, services
from participation.forms import FinancialYearFilterForm, StatusFilterForm

from .links import url_with_query
from .offer_actions import ActOnTickedOffersView, OfferAction


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


class ManageOffersView(ActOnTickedOffersView):
    """Withdraw Service / Cancel Service for the ticked providers, after a "Yes" confirmation.  An
    offer in the wrong state (cancelling one still Offered) is refused with the reason."""

    permission = "participation.create_offers"
    nothing_ticked = "Select at least one Service Provider."
    actions = {
        "withdraw": OfferAction(
            services.offers_withdraw,
            question="Are you sure you want to withdraw the Quality Service for the selected Service Provider(s)?",
            note=(
                "Selecting the Yes button will send a message that tells the Service Provider(s) that "
                "the Quality Service has been withdrawn."
            ),
            success="You have successfully withdrawn the Quality Service.",
        ),
        "cancel": OfferAction(
            services.offers_cancel,
            question="Are you sure you want to cancel the Quality Service for the selected Service Provider(s)?",
            note=(
                "Selecting the Yes button will send a message that tells the Service Provider(s) that "
                "the Quality Service has been cancelled."
            ),
            success="You have successfully cancelled the Quality Service.",
        ),
    }

    def scoped_offers(self):
        service = selectors.offered_service(user=self.request.user, service_id=self.kwargs["service_pk"])
        return selectors.offers_commissioned(user=self.request.user).filter(service=service)

    def error_url(self) -> str:
        return url_with_query(
            reverse("participation:offered_service", args=[self.kwargs["service_pk"]]),
            status=self.request.POST.get("status", "Offered"),
        )

    def hidden_fields(self) -> dict[str, str]:
        return {"status": self.request.POST.get("status", "Offered")}
