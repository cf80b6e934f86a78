"""Offered Services (commissioner, Commissioning Management): the services the user's ICBs have
offered, their providers by status, and Withdraw Service / Cancel Service."""

from __future__ import annotations

from django.urls import reverse
from django.views.generic import TemplateView

from accounts.inputs import id_or_none
from accounts.mixins import RoleRequiredMixin
from participation import selectors, services
from participation.forms import OfferedProvidersFilterForm, OfferedServicesFilterForm

from .links import url_with_query
from .offer_actions import ActOnTickedOffersView, OfferAction


class ListOfferedServicesView(RoleRequiredMixin, TemplateView):
    """Offered Services: the services offered in a financial year (the current one by default),
    optionally counting one cluster's providers only."""

    permission = "participation.create_offers"
    template_name = "participation/offered_services.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        year = selectors.financial_year_or_current(self.request.GET.get("financial_year"))
        clusters = selectors.cluster_choice_list(user=user)
        cluster = clusters.filter(pk=id_or_none(self.request.GET.get("cluster") or "")).first()
        context.update(
            page_title="Offered Services",
            filter_form=OfferedServicesFilterForm(
                initial={"financial_year": year, "cluster": cluster}, clusters=clusters
            ),
            financial_year=year,
            cluster=cluster,
            services=list(selectors.offered_service_list(user=user, financial_year=year, cluster=cluster)),
        )
        return context


class ListOfferedServiceProvidersView(RoleRequiredMixin, TemplateView):
    """One offered service: the Status drop-down lists its providers with checkboxes, narrowed to
    a cluster or a search (name or ODS code), in the Sort by order."""

    permission = "participation.create_offers"
    template_name = "participation/offered_service.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        service = selectors.offered_service(user=user, service_id=self.kwargs["service_pk"])
        clusters = selectors.cluster_choice_list(user=user)
        form = OfferedProvidersFilterForm(self.request.GET or None, clusters=clusters)
        filters = form.filters()
        status = filters["status"]
        context.update(
            page_title=service.name,
            service=service,
            status=status,
            filters=filters,
            status_form=form,
            offers=list(selectors.offered_service_providers(user=user, service=service, **filters)),
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
            detail="{service} has been withdrawn for {providers}.",
        ),
        "cancel": OfferAction(
            services.offers_cancel,
            question="Are you sure you want to cancel the Quality Service for the selected Service Provider(s)?",
            note=(
                "Selecting the Yes button will send a message that tells the Service Provider(s) that "
                "the Quality Service has been cancelled."
            ),
            success="You have successfully cancelled the Quality Service.",
            detail="{service} has been cancelled for {providers}.",
        ),
    }

    def scoped_offers(self):
        service = selectors.offered_service(user=self.request.user, service_id=self.kwargs["service_pk"])
        return selectors.offers_commissioned(user=self.request.user).filter(service=service)

    def hidden_fields(self) -> dict[str, str]:
        """The list's filters (Status, Cluster, search, Sort by), posted again with Yes and kept
        on the way back."""
        post = self.request.POST
        return {
            "status": post.get("status", "Offered"),
            **{name: post.get(name, "") for name in ("cluster", "q", "sort")},
        }

    def error_url(self) -> str:
        return url_with_query(
            reverse("participation:offered_service", args=[self.kwargs["service_pk"]]), **self.hidden_fields()
        )
