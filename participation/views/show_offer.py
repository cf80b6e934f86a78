"""An offer's details, for either side: the service's domains, each expandable, and the way back to
the list the user came from."""

from __future__ import annotations

from django.urls import reverse
from django.views.generic import TemplateView

from accounts import permissions
from accounts.models import Role
from participation import selectors

from .links import url_with_query


class ShowOfferView(TemplateView):
    """The details of an offer; 404 (``OfferNotFound``, from the selector) for an offer of another
    organisation."""

    template_name = "participation/offer_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        offer = selectors.offer_detail(user=user, offer_id=self.kwargs["pk"])
        is_provider_side = permissions.has_role_in(user, offer.provider_id, {Role.SERVICE_MANAGEMENT}) or (
            not permissions.has_role_in(user, offer.commissioner_id, {Role.COMMISSIONING_MANAGEMENT})
        )
        if is_provider_side:
            back = url_with_query(
                reverse("participation:my_services"),
                financial_year=offer.service.financial_year_id,
                status=_filter_label(offer.get_status_display()),
            )
        else:
            back = url_with_query(
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
    """The Status filter an offer is listed under ("Cancelled" lists withdrawn offers too)."""
    return "Cancelled" if status_label == "Withdrawn" else status_label
