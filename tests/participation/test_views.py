"""The Participation Management screens, read as the job aids read."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Message, Organisation, OrganisationKind, Role
from participation.models import OfferStatus, ServiceOffer

from .factories import offer, service_with_catalogue

pytestmark = pytest.mark.django_db


def _status(item):
    return ServiceOffer.objects.get(pk=item.pk).status


def _banner(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# My Services ------------------------------------------------------------------------------


def test_my_services_shows_offered_services_of_the_current_year_by_default(client, world, service):
    offered = offer(service, world.practices[0])
    offer(service_with_catalogue(code="OLD", financial_year=__import__(
        "participation.models", fromlist=["FinancialYear"]).FinancialYear.for_label("2023/24")), world.practices[0])
    client.force_login(world.managers[0])
    response = client.get(reverse("participation:my_services"))
    assert response.status_code == 200
    assert [o.pk for o in response.context["offers"]] == [offered.pk]
    content = response.content.decode()
    assert "Quality Service Status" in content
    assert "Accept Service" in content and "Reject Service" in content
    assert service.label in content


def test_my_services_shows_a_blank_panel_when_no_service_is_in_the_status(client, world, service):
    offer(service, world.practices[0])
    client.force_login(world.managers[0])
    response = client.get(reverse("participation:my_services"), {"status": "Rejected"})
    assert response.context["offers"] == []
    assert 'data-testid="blank-panel"' in response.content.decode()
    assert "Accept Service" not in response.content.decode()


def test_selecting_the_service_name_shows_its_domains_expandable(client, world, service):
    item = offer(service, world.practices[0])
    client.force_login(world.managers[0])
    response = client.get(reverse("participation:offer_detail", args=[item.pk]))
    content = response.content.decode()
    assert content.count('class="nhsuk-details nhsuk-expander"') == 2
    assert "Clinical" in content and "Public Health" in content
    assert "Back to Select a Quality Service" in content


def test_practice_accepts_a_service_after_the_yes_confirmation(client, world, service):
    item = offer(service, world.practices[0])
    client.force_login(world.managers[0])
    url = reverse("participation:respond_to_offers")
    confirm = client.post(url, {"action": "accept", "offers": [item.pk]})
    assert confirm.status_code == 200
    assert "Are you sure you wish to accept the selected Quality Service?" in confirm.content.decode()
    assert ">Yes</button>" in confirm.content.decode()
    assert _status(item) == OfferStatus.OFFERED  # nothing happens before "Yes"
    done = client.post(url, {"action": "accept", "offers": [item.pk], "confirm": "yes"}, follow=True)
    assert "The Quality Service has been successfully accepted." in _banner(done)
    assert _status(item) == OfferStatus.APPROVED
    assert not Message.objects.filter(organisation=world.icb).exists()


def test_practice_rejects_a_service_and_the_commissioner_has_a_message(client, world, service):
    item = offer(service, world.practices[0])
    client.force_login(world.managers[0])
    done = client.post(
        reverse("participation:respond_to_offers"),
        {"action": "reject", "offers": [item.pk], "confirm": "yes"},
        follow=True,
    )
    assert "The Quality Service has been successfully rejected." in _banner(done)
    assert Message.objects.filter(organisation=world.icb, role=Role.COMMISSIONING_MANAGEMENT).count() == 1


def test_accepting_a_withdrawn_offer_shows_why(client, world, service):
    item = offer(service, world.practices[0], status=OfferStatus.WITHDRAWN)
    client.force_login(world.managers[0])
    done = client.post(
        reverse("participation:respond_to_offers"),
        {"action": "accept", "offers": [item.pk], "confirm": "yes"},
        follow=True,
    )
    assert "This offer has already been withdrawn." in _banner(done)
    assert _status(item) == OfferStatus.WITHDRAWN


def test_responding_with_nothing_ticked_asks_to_select(client, world, service):
    client.force_login(world.managers[0])
    done = client.post(reverse("participation:respond_to_offers"), {"action": "accept"}, follow=True)
    assert "Select at least one Quality Service offer." in _banner(done)


# 404 across organisations -----------------------------------------------------------------


def test_another_organisations_offer_page_is_404(client, world, service):
    theirs = offer(service, world.other_practice)
    client.force_login(world.managers[0])
    assert client.get(reverse("participation:offer_detail", args=[theirs.pk])).status_code == 404
    client.force_login(world.commissioner)
    assert client.get(reverse("participation:offer_detail", args=[theirs.pk])).status_code == 404


def test_responding_to_another_organisations_offer_by_id_is_404(client, world, service):
    theirs = offer(service, world.other_practice)
    client.force_login(world.managers[0])
    response = client.post(
        reverse("participation:respond_to_offers"), {"action": "accept", "offers": [theirs.pk], "confirm": "yes"}
    )
    assert response.status_code == 404
    assert _status(theirs) == OfferStatus.OFFERED


def test_another_icbs_offered_service_is_404(client, world, service):
    theirs = offer(service, world.other_practice)
    client.force_login(world.commissioner)
    assert client.get(reverse("participation:offered_service", args=[service.pk])).status_code == 404
    response = client.post(
        reverse("participation:manage_offers", args=[service.pk]),
        {"action": "withdraw", "offers": [theirs.pk], "confirm": "yes"},
    )
    assert response.status_code == 404
    assert _status(theirs) == OfferStatus.OFFERED


def test_a_practice_cannot_open_the_commissioners_screens(client, world, service):
    client.force_login(world.managers[0])
    assert client.get(reverse("participation:offered_services")).status_code == 403
    assert client.get(reverse("participation:create_offers")).status_code == 403


def test_the_participation_tabs_appear_per_role(client, world):
    client.force_login(world.managers[0])
    content = client.get(reverse("participation:my_services")).content.decode()
    assert "My Services" in content and "Offered Services" not in content
    client.force_login(world.commissioner)
    content = client.get(reverse("participation:offered_services")).content.decode()
    assert "Create Offers" in content and "Offered Services" in content


# Offered Services -------------------------------------------------------------------------


def test_offered_services_lists_the_services_with_counts_per_status(client, world, service):
    offer(service, world.practices[0])
    offer(service, world.practices[1], status=OfferStatus.APPROVED)
    offer(service, world.practices[2], status=OfferStatus.WITHDRAWN)
    offer(service, world.other_practice)  # another ICB's: not counted
    client.force_login(world.commissioner)
    response = client.get(reverse("participation:offered_services"))
    [row] = response.context["services"]
    assert (row.offered_count, row.approved_count, row.rejected_count, row.cancelled_count) == (1, 1, 0, 1)


def test_the_status_drop_down_lists_providers_and_the_right_button(client, world, service):
    offer(service, world.practices[0])
    offer(service, world.practices[1], status=OfferStatus.APPROVED)
    client.force_login(world.commissioner)
    url = reverse("participation:offered_service", args=[service.pk])
    offered = client.get(url).content.decode()
    assert "Withdraw Service" in offered and "Cancel Service" not in offered
    assert world.practices[0].name in offered and world.practices[1].name not in offered
    approved = client.get(url, {"status": "Approved"}).content.decode()
    assert "Cancel Service" in approved and "Withdraw Service" not in approved
    assert world.practices[1].name in approved
    for label in ("Offered", "Approved", "Rejected", "Cancelled"):
        assert f'<option value="{label}"' in offered


def test_commissioner_withdraws_a_service_and_it_shows_under_cancelled(client, world, service):
    item = offer(service, world.practices[0])
    client.force_login(world.commissioner)
    url = reverse("participation:manage_offers", args=[service.pk])
    confirm = client.post(url, {"action": "withdraw", "offers": [item.pk], "status": "Offered"})
    assert (
        "Are you sure you want to withdraw the Quality Service for the selected Service Provider(s)?"
        in confirm.content.decode()
    )
    done = client.post(url, {"action": "withdraw", "offers": [item.pk], "status": "Offered", "confirm": "yes"},
                       follow=True)
    assert "You have successfully withdrawn the Quality Service." in _banner(done)
    cancelled = client.get(reverse("participation:offered_service", args=[service.pk]), {"status": "Cancelled"})
    assert [o.pk for o in cancelled.context["offers"]] == [item.pk]
    assert Message.objects.filter(organisation=world.practices[0], subject__contains="withdrawn").exists()


def test_commissioner_cancels_an_approved_service(client, world, service):
    item = offer(service, world.practices[0], status=OfferStatus.APPROVED)
    client.force_login(world.commissioner)
    done = client.post(
        reverse("participation:manage_offers", args=[service.pk]),
        {"action": "cancel", "offers": [item.pk], "status": "Approved", "confirm": "yes"},
        follow=True,
    )
    assert "You have successfully cancelled the Quality Service." in _banner(done)
    assert _status(item) == OfferStatus.CANCELLED


def test_cancelling_an_offered_service_is_refused_with_the_reason(client, world, service):
    item = offer(service, world.practices[0])
    client.force_login(world.commissioner)
    done = client.post(
        reverse("participation:manage_offers", args=[service.pk]),
        {"action": "cancel", "offers": [item.pk], "status": "Offered", "confirm": "yes"},
        follow=True,
    )
    assert "cannot be cancelled but may be Withdrawn" in _banner(done)
    assert _status(item) == OfferStatus.OFFERED


# Create Offers ----------------------------------------------------------------------------


def _date(prefix: str, day: int, month: int, year: int) -> dict:
    return {f"{prefix}_day": str(day), f"{prefix}_month": str(month), f"{prefix}_year": str(year)}


def test_create_offers_choose_review_confirm(client, world, service):
    client.force_login(world.commissioner)
    step1 = client.post(
        reverse("participation:create_offers"),
        {
            "service": service.pk,
            **_date("start_date", 1, 4, 2024),
            **_date("end_date", 31, 3, 2025),
            **_date("response_date", 31, 5, 2024),
            **_date("target_date", 31, 3, 2025),
        },
    )
    assert step1.status_code == 302 and step1.url == reverse("participation:choose_providers")
    providers_page = client.get(step1.url)
    assert "Select All" in providers_page.content.decode()
    assert {p.pk for p, _ in providers_page.context["providers"]} == {p.pk for p in world.practices}
    step2 = client.post(step1.url, {"select_all": "on"})
    assert step2.url == reverse("participation:review_offers")
    review = client.get(step2.url)
    assert all(p.name in review.content.decode() for p in world.practices)
    done = client.post(step2.url, follow=True)
    assert "The Quality Service has been successfully offered to 3 Service Provider(s)." in _banner(done)
    assert ServiceOffer.objects.filter(service=service, status=OfferStatus.OFFERED).count() == 3
    assert Message.objects.filter(is_task=True).count() == 3


def test_create_offers_refuses_dates_outside_the_financial_year(client, world, service):
    client.force_login(world.commissioner)
    response = client.post(
        reverse("participation:create_offers"),
        {
            "service": service.pk,
            **_date("start_date", 1, 4, 2024),
            **_date("end_date", 30, 4, 2025),
            **_date("response_date", 31, 5, 2024),
            **_date("target_date", 31, 3, 2025),
        },
    )
    assert response.status_code == 200
    assert "must be within the financial year 2024/25" in response.content.decode()


def test_choose_providers_filters_by_pcn(client, world, service):
    other_pcn = Organisation.objects.create(ods_code="U99999", name="Other PCN", kind=OrganisationKind.PCN,
                                            commissioner=world.icb)
    lone = Organisation.objects.create(ods_code="Z99999", name="Lone Surgery", kind=OrganisationKind.PRACTICE,
                                       commissioner=world.icb, pcn=other_pcn)
    client.force_login(world.commissioner)
    session = client.session
    session["create_offers"] = {"service": service.pk, "start_date": "2024-04-01", "end_date": "2025-03-31",
                                "response_date": "2024-05-31", "target_date": "2025-03-31"}
    session.save()
    response = client.get(reverse("participation:choose_providers"), {"pcn": other_pcn.pk})
    assert [p.pk for p, _ in response.context["providers"]] == [lone.pk]
    response = client.get(reverse("participation:choose_providers"), {"sub_icb": world.sub_icb.pk})
    assert {p.pk for p, _ in response.context["providers"]} == {p.pk for p in world.practices}


# Query counts: the same for 5 providers as for 500 -----------------------------------------


def _practices(world, count: int, start: int) -> list[Organisation]:
    return Organisation.objects.bulk_create(
        [
            Organisation(ods_code=f"Y{start + i:05d}", name=f"Bulk Practice {start + i}",
                         kind=OrganisationKind.PRACTICE, commissioner=world.icb, pcn=world.pcn,
                         parent=world.sub_icb)
            for i in range(count)
        ]
    )


def _offers(service, practices):
    year = service.financial_year
    ServiceOffer.objects.bulk_create(
        [ServiceOffer(service=service, provider=p, commissioner=p.commissioner, start_date=year.start_date,
                      end_date=year.end_date) for p in practices]
    )


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_offered_services_pages_run_the_same_queries_for_5_or_500_providers(client, world, service):
    client.force_login(world.commissioner)
    _offers(service, _practices(world, 5, 0))
    lists = reverse("participation:offered_services")
    providers = reverse("participation:offered_service", args=[service.pk])
    small = (_count_queries(client, lists), _count_queries(client, providers))
    _offers(service, _practices(world, 495, 5))
    large = (_count_queries(client, lists), _count_queries(client, providers))
    assert small == large
    assert client.get(providers).content.decode().count('name="offers"') == 500


def test_my_services_runs_the_same_queries_for_5_or_500_providers(client, world, service):
    manager = world.managers[0]
    client.force_login(manager)

    def grant(practices):
        Membership.objects.bulk_create(
            [Membership(user=manager, organisation=p, role=Role.SERVICE_MANAGEMENT) for p in practices]
        )
        _offers(service, practices)

    grant(_practices(world, 5, 0))
    url = reverse("participation:my_services")
    small = _count_queries(client, url)
    grant(_practices(world, 495, 5))
    large = _count_queries(client, url)
    assert small == large
    assert len(client.get(url).context["offers"]) == 500
