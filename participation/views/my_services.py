"""My Services (Service Provider, Service Management): the offers made to the user's providers,
and Accept Service / Reject Service."""

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
from participation.forms import MyServicesFilterForm

from .confirm import confirmation, url_with_query


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


@dataclass(frozen=True)
class _Response:
    service: Any  # services.offers_accept / offers_reject
    verb: str
    note: str
    success: str


_RESPONSES = {
    "accept": _Response(
        services.offers_accept,
        "accept",
        "The offer will move to the Approved status.",
        "The Quality Service has been successfully accepted.",
    ),
    "reject": _Response(
        services.offers_reject,
        "reject",
        "The Commissioning Organisation will receive a message informing them that you have "
        "rejected the offer.",
        "The Quality Service has been successfully rejected.",
    ),
}


class RespondToOffersView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Accept Service / Reject Service on the ticked offers, after a "Yes" confirmation.  An offer
    already answered (or withdrawn) is refused with the reason, back on My Services."""

    permission = "participation.view_my_services"
    http_method_names = ["post"]

    def error_url(self) -> str:
        return url_with_query(
            reverse("participation:my_services"),
            financial_year=self.request.POST.get("financial_year"),
            status="Offered",
        )

    def post(self, request):
        response = _RESPONSES.get(request.POST.get("action"))
        if response is None:
            raise NotFound("No such action")
        back = self.error_url()
        ticked = request.POST.getlist("offers")
        if not ticked:
            messages.error(request, "Select at least one Quality Service offer.")
            return HttpResponseRedirect(back)
        offers = selectors.offers_selected(offers=selectors.offers_received(user=request.user), offer_ids=ticked)
        if request.POST.get("confirm") != "yes":
            return confirmation(
                request,
                question=f"Are you sure you wish to {response.verb} the selected Quality Service?",
                note=response.note,
                offers=offers.select_related("service", "provider"),
                action=request.POST["action"],
                form_action=reverse("participation:respond_to_offers"),
                back=back,
                hidden={"financial_year": request.POST.get("financial_year", "")},
            )
        response.service(offer_ids=sorted(offer.pk for offer in offers), user=request.user)
        messages.success(request, response.success)
        return HttpResponseRedirect(back)
