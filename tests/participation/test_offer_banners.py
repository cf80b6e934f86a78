"""The withdraw and cancel banners name the Quality Service and the providers (issue 14, section
5), after the job aid's sentence."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Organisation
from participation.models import OfferStatus
from participation.views.offer_actions import providers_named

from .factories import offer

pytestmark = pytest.mark.django_db


def _banner(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_the_withdraw_banner_names_the_provider(client, world, service):
    item = offer(service, world.practices[0])
    client.force_login(world.commissioner)
    done = client.post(
        reverse("participation:manage_offers", args=[service.pk]),
        {"action": "withdraw", "offers": [item.pk], "status": "Offered", "confirm": "yes"},
        follow=True,
    )
    practice = world.practices[0]
    assert _banner(done) == (
        "You have successfully withdrawn the Quality Service. "
        f"{service.name} has been withdrawn for {practice.name} ({practice.ods_code})."
    )


def test_the_cancel_banner_names_every_provider_up_to_three(client, world, service):
    items = [offer(service, p, status=OfferStatus.APPROVED) for p in world.practices]
    client.force_login(world.commissioner)
    done = client.post(
        reverse("participation:manage_offers", args=[service.pk]),
        {"action": "cancel", "offers": [i.pk for i in items], "status": "Approved", "confirm": "yes"},
        follow=True,
    )
    banner = _banner(done)
    assert banner.startswith("You have successfully cancelled the Quality Service. ")
    for practice in world.practices:
        assert f"{practice.name} ({practice.ods_code})" in banner


def test_providers_named_lists_three_then_counts_the_others(world, service):
    more = [Organisation(name=f"P{i}", ods_code=f"X{i}") for i in range(5)]
    offers = [type("O", (), {"provider": p})() for p in more]
    assert providers_named(offers[:1]) == "P0 (X0)"
    assert providers_named(offers[:2]) == "P0 (X0) and P1 (X1)"
    assert providers_named(offers) == "P0 (X0), P1 (X1), P2 (X2) and 2 others"
