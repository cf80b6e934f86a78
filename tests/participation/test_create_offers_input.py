"""Nonsense in the Participation Management forms gets a clear message, never a 500, and changes
nothing; another ICB's practice cannot be slipped into an offer; an offer id that is not one of the
screen's is answered 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from participation.models import OfferStatus, ServiceOffer

from .factories import offer

pytestmark = pytest.mark.django_db

CHOOSE = reverse("participation:choose_providers")


@pytest.fixture
def commissioner_client(client, world, service):
    client.force_login(world.commissioner)
    session = client.session
    session["create_offers"] = {"service": service.pk, "start_date": "2024-04-01", "end_date": "2025-03-31",
                                "response_date": "2024-05-31", "target_date": "2025-03-31"}
    session.save()
    return client


@pytest.mark.parametrize("posted", [["abc"], ["1.5"], ["-1"], ["99999999999999999999999"], [""]])
def test_choose_providers_with_a_non_numeric_provider_is_a_form_error_not_a_500(commissioner_client, posted):
    response = commissioner_client.post(CHOOSE, {"providers": posted})
    assert response.status_code == 200
    assert response.context["selection"].errors
    assert "providers" not in commissioner_client.session["create_offers"]


def test_choose_providers_refuses_another_icbs_practice(commissioner_client, world):
    response = commissioner_client.post(CHOOSE, {"providers": [world.practices[0].pk, world.other_practice.pk]})
    assert response.status_code == 200
    assert response.context["selection"].errors
    assert "providers" not in commissioner_client.session["create_offers"]
    assert not ServiceOffer.objects.exists()


def test_review_offers_ignores_a_foreign_practice_put_in_the_session(commissioner_client, world, service):
    session = commissioner_client.session
    session["create_offers"] = {**session["create_offers"], "providers": [world.practices[0].pk,
                                                                          world.other_practice.pk]}
    session.save()
    commissioner_client.post(reverse("participation:review_offers"))
    assert list(ServiceOffer.objects.values_list("provider_id", flat=True)) == [world.practices[0].pk]


@pytest.mark.parametrize("day", ["\u00b2", "\u0663", "1\u00b9", "abc", "-1", "32"])
def test_create_offers_with_a_date_that_is_not_a_date_is_a_form_error_not_a_500(client, world, service, day):
    client.force_login(world.commissioner)
    response = client.post(
        reverse("participation:create_offers"),
        {
            "service": service.pk,
            "start_date_day": day, "start_date_month": "4", "start_date_year": "2024",
            "end_date_day": "31", "end_date_month": "3", "end_date_year": "2025",
            "response_date_day": "31", "response_date_month": "5", "response_date_year": "2024",
            "target_date_day": "31", "target_date_month": "3", "target_date_year": "2025",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["start_date"]
    assert "create_offers" not in client.session


@pytest.mark.parametrize("ticked", ["abc", "1.5", "-1", "\u00b2", ""])
@pytest.mark.parametrize("confirm", ["", "yes"])
def test_responding_with_an_offer_id_that_is_not_a_number_is_404(client, world, service, ticked, confirm):
    item = offer(service, world.practices[0])
    client.force_login(world.managers[0])
    response = client.post(
        reverse("participation:respond_to_offers"),
        {"action": "accept", "offers": [item.pk, ticked], "confirm": confirm},
    )
    assert response.status_code == 404
    assert ServiceOffer.objects.get(pk=item.pk).status == OfferStatus.OFFERED
