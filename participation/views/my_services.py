"""My Services (Service Provider, Service Management): the offers made to the user's providers,
and Accept Service / Reject Service."""

from __future__ import annotations

from django.urls import reverse
from django.views.generic import TemplateView

from accounts.mixins import RoleRequiredMixin
from participation import selectors, services
from participation.forms import MyServicesFilterForm

from .links import url_with_query
from .offer_actions import ActOnTickedOffersView, OfferAction


class ListMyServicesView(RoleRequiredMixin, TemplateView):
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


class RespondToOffersView(ActOnTickedOffersView):
    """Accept Service / Reject Service on the ticked offers, after a "Yes" confirmation.  An offer
    already answered (or withdrawn) is refused with the reason, back on My Services."""

    permission = "participation.view_my_services"
    nothing_ticked = "Select at least one Quality Service offer."
    actions = {
        "accept": OfferAction(
            services.offers_accept,
            question="Are you sure you wish to accept the selected Quality Service?",
            note="The offer will move to the Approved status.",
            success="The Quality Service has been successfully accepted.",
        ),
        "reject": OfferAction(
            services.offers_reject,
            question="Are you sure you wish to reject the selected Quality Service?",
            note=(
                "The Commissioning Organisation will receive a message informing them that you have "
                "rejected the offer."
            ),
            success="The Quality Service has been successfully rejected.",
        ),
    }

    def scoped_offers(self):
        return selectors.offers_received(user=self.request.user)

    def error_url(self) -> str:
        return url_with_query(
            reverse("participation:my_services"),
            financial_year=self.request.POST.get("financial_year"),
            status="Offered",
        )

    def hidden_fields(self) -> dict[str, str]:
        return {"financial_year": self.request.POST.get("financial_year", "")}
