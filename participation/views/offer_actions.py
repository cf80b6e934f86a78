"""What My Services and Offered Services share: an action on the ticked offers (accept, reject,
withdraw, cancel), after an "Are you sure" page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.views.generic import View

from accounts.errors import NotFound
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from participation import selectors
from participation.models import ServiceOffer


@dataclass(frozen=True)
class OfferAction:
    """One button of a list screen: the service it calls and the words of its pages."""

    service: Callable[..., object]  # e.g. services.offers_accept(offer_ids=..., user=...)
    question: str  # the heading of the confirmation page
    note: str  # what follows a Yes
    success: str  # the banner once done
    # A second sentence of the banner naming what was done: "{service}" and "{providers}" filled in.
    detail: str = ""


def providers_named(offers: list[ServiceOffer], *, shown: int = 3) -> str:
    """"The Densham Surgery (A81001) and Woodbridge Practice (A81017)"; past ``shown``, "and N others"."""
    names = [f"{offer.provider.name} ({offer.provider.ods_code})" for offer in offers]
    if len(names) > shown:
        rest = len(names) - shown
        return f"{', '.join(names[:shown])} and {rest} other{'s' if rest > 1 else ''}"
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return names[0] if names else ""


class ActOnTickedOffersView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Post only: the ``action`` on the ticked offers, once the user said Yes on the confirmation
    page (which posts the same choice again with ``confirm=yes``).

    Nothing ticked: ``nothing_ticked`` is shown back on the list.  An id that is not one of the
    screen's offers: 404 (``selectors.offers_selected``).  An offer in the wrong state: the service's
    reason is shown back on the list (``DomainErrorsMixin``, ``error_url`` being the list).
    """

    http_method_names = ["post"]
    actions: dict[str, OfferAction] = {}
    nothing_ticked = ""

    def scoped_offers(self) -> QuerySet[ServiceOffer]:
        """The offers the screen lists: only those can be ticked."""
        raise NotImplementedError

    def hidden_fields(self) -> dict[str, str]:
        """The list's filters, posted again with Yes."""
        return {}

    def post(self, request, *args, **kwargs):
        action = self.actions.get(request.POST.get("action"))
        if action is None:
            raise NotFound("No such action")
        scoped = self.scoped_offers()
        back = self.error_url()
        ticked = request.POST.getlist("offers")
        if not ticked:
            messages.error(request, self.nothing_ticked)
            return HttpResponseRedirect(back)
        offers = selectors.offers_selected(offers=scoped, offer_ids=ticked)
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "participation/confirm_offers.html",
                {
                    "page_title": action.question,
                    "question": action.question,
                    "note": action.note,
                    "offers": list(offers.select_related("service", "provider")),
                    "action": request.POST["action"],
                    "form_action": request.path,
                    "back": back,
                    "hidden": self.hidden_fields(),
                },
            )
        chosen = list(offers.select_related("service", "provider").order_by("provider__name", "pk"))
        action.service(offer_ids=sorted(offer.pk for offer in chosen), user=request.user)
        text = action.success
        if action.detail and chosen:
            text += " " + action.detail.format(service=chosen[0].service.name, providers=providers_named(chosen))
        messages.success(request, text)
        return HttpResponseRedirect(back)
