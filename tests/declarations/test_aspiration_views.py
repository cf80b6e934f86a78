"""Aspiration Management (commissioner), one aspiration (agreed points) and Aspiration Payments
(provider), and the balance on Declare: pages, bulk approval, refusals, fixed query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ListSize, Role
from declarations.models import Aspiration, AspirationStatus
from participation.models import OfferStatus
from tests.factories import PracticeFactory, member
from tests.participation.factories import offer

from .conftest import declaration_for
from .factories import QOF_DATE
from .test_aspiration import qof_2324_with_payments

pytestmark = pytest.mark.django_db
MANAGEMENT = reverse("declarations:aspiration_management")


@pytest.fixture
def world(orgs, qof):
    qof.aspiration_percent, qof.aspiration_from = Decimal(80), "QOF2324"
    qof.save()
    qof_2324_with_payments({orgs["practice"]: "120345.67", orgs["practice2"]: "60000.00"})
    for key in ("practice", "practice2"):
        offer(qof, orgs[key], OfferStatus.APPROVED)
    return {"qof": qof, **orgs}


def calculate(client, user, world):
    client.force_login(user)
    return client.post(reverse("declarations:calculate_aspirations"), {"service": world["qof"].pk}, follow=True)


def test_the_commissioner_calculates_and_approves_in_bulk_then_finance_approves(client, world, people):
    response = calculate(client, people["approver"], world)
    assert "Aspiration payments calculated for 2 Service Providers." in response.content.decode()
    page = client.get(MANAGEMENT).content.decode()
    assert "£99,519.89" in page and "£8,293.32" in page and "Awaiting Commissioning Organisation Approval" in page
    ids = list(Aspiration.objects.values_list("pk", flat=True))
    response = client.post(reverse("declarations:approve_aspirations"), {"aspirations": ids}, follow=True)
    assert "The aspiration payments have been successfully approved." in response.content.decode()
    assert set(Aspiration.objects.values_list("status", flat=True)) == {AspirationStatus.AWAITING_FINANCE}
    client.force_login(people["finance"])
    client.post(reverse("declarations:approve_aspirations"), {"aspirations": ids})
    assert set(Aspiration.objects.values_list("status", flat=True)) == {AspirationStatus.APPROVED}
    schedule = client.get(MANAGEMENT).content.decode()
    assert "Monthly aspiration schedule" in schedule and "31/03/2025" in schedule


def test_the_approver_cannot_finance_approve_their_own_approval(client, world, people):
    calculate(client, people["both"], world)
    ids = list(Aspiration.objects.values_list("pk", flat=True))
    client.post(reverse("declarations:approve_aspirations"), {"aspirations": ids})
    response = client.post(reverse("declarations:approve_aspirations"), {"aspirations": ids}, follow=True)
    assert "another user must finance-approve it" in response.content.decode()
    assert set(Aspiration.objects.values_list("status", flat=True)) == {AspirationStatus.AWAITING_FINANCE}


def test_the_management_list_runs_a_fixed_number_of_queries(client, world, people):
    calculate(client, people["approver"], world)
    client.get(MANAGEMENT)  # warm caches
    with CaptureQueriesContext(connection) as few:
        client.get(MANAGEMENT)
    for n in range(5):
        practice = PracticeFactory(ods_code=f"B8100{n}", commissioner=world["icb"], pcn=world["pcn"])
        offer(world["qof"], practice, OfferStatus.APPROVED)
    calculate(client, people["approver"], world)
    with CaptureQueriesContext(connection) as many:
        client.get(MANAGEMENT)
    assert Aspiration.objects.count() == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_agreeing_points_on_the_aspiration_page(client, world, people):
    calculate(client, people["approver"], world)
    aspiration = Aspiration.objects.get(provider=world["practice"])
    ListSize.objects.create(organisation=world["practice"], date=QOF_DATE, size=12_000)
    url = reverse("declarations:aspiration_detail", args=[aspiration.pk])
    bad = client.post(url, {"points": "lots"})
    assert bad.status_code == 200 and "Enter the points as a number" in bad.content.decode()
    response = client.post(url, {"points": "500"}, follow=True)
    assert "£106,280.21" in response.content.decode()
    assert Aspiration.objects.get(pk=aspiration.pk).agreed_points == Decimal("500.00")
    client.force_login(people["declarer"])  # the practice sees it, but may not agree points
    page = client.get(url).content.decode()
    assert "£106,280.21" in page and "Save agreed points" not in page
    assert client.post(url, {"points": "1"}).status_code == 403
    assert Aspiration.objects.get(pk=aspiration.pk).agreed_points == Decimal("500.00")


def test_the_practice_sees_its_own_schedule_only(client, world, people):
    calculate(client, people["approver"], world)
    client.force_login(people["declarer"])
    page = client.get(reverse("declarations:aspiration_payments")).content.decode()
    assert "The Densham Surgery" in page and "£8,293.37" in page and "Woodbridge Practice" not in page
    other = Aspiration.objects.get(provider=world["practice2"])
    assert client.get(reverse("declarations:aspiration_detail", args=[other.pk])).status_code == 404
    outsider = member(world["other_practice"], Role.DECLARATION_MANAGEMENT, email="o@example.nhs.net")
    client.force_login(outsider)
    assert client.get(reverse("declarations:aspiration_management")).status_code == 403


def test_declare_shows_calculated_aspiration_paid_and_a_negative_balance_to_recover(client, world, people):
    calculate(client, people["approver"], world)
    ids = list(Aspiration.objects.values_list("pk", flat=True))
    client.post(reverse("declarations:approve_aspirations"), {"aspirations": ids})
    client.force_login(people["finance"])
    client.post(reverse("declarations:approve_aspirations"), {"aspirations": ids})
    declaration = declaration_for(world["practice"], world["qof"])
    calculated = declaration.calculation.total_amount
    client.force_login(people["declarer"])
    page = client.get(reverse("declarations:declare")).content.decode()
    assert "£99,519.89" in page and f"£{calculated:,.2f}" in page
    recovered = Decimal("99519.89") - calculated
    assert f"-£{recovered:,.2f}" in page and f"£{recovered:,.2f} to be recovered" in page
    detail = client.get(reverse("declarations:declaration_detail", args=[declaration.pk])).content.decode()
    assert "Aspiration paid" in detail and f"-£{recovered:,.2f}" in detail


def test_the_providers_schedule_runs_a_fixed_number_of_queries(client, world, people, orgs):
    calculate(client, people["approver"], world)
    manager = member(orgs["practice"], Role.VIEW, email="viewer@example.nhs.net")
    client.force_login(manager)
    url = reverse("declarations:aspiration_payments")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    from .factories import qof_2425

    ncd_like = qof_2425("QOF2526")  # another service with aspiration for the same practice
    ncd_like.aspiration_percent, ncd_like.aspiration_from = Decimal(70), "QOF2223"
    ncd_like.save()
    offer(ncd_like, orgs["practice"], OfferStatus.APPROVED)
    from declarations.aspiration import services

    services.aspirations_prepare(service=ncd_like, commissioner=orgs["icb"])
    with CaptureQueriesContext(connection) as two:
        page = client.get(url).content.decode()
    assert page.count('data-testid="aspiration-payment"') == 2
    assert len(two.captured_queries) == len(one.captured_queries)


def test_declaration_management_and_its_csv_show_aspiration_paid_and_balance(client, world, people):
    import csv
    import io

    calculate(client, people["approver"], world)
    ids = list(Aspiration.objects.values_list("pk", flat=True))
    client.post(reverse("declarations:approve_aspirations"), {"aspirations": ids})
    client.force_login(people["finance"])
    client.post(reverse("declarations:approve_aspirations"), {"aspirations": ids})
    declaration = declaration_for(world["practice"], world["qof"])
    calculated = declaration.calculation.total_amount
    client.force_login(people["approver2"])
    page = client.get(reverse("declarations:declaration_management"), {"status": "all"}).content.decode()
    assert "Aspiration paid" in page and "£99,519.89" in page
    assert f"-£{Decimal('99519.89') - calculated:,.2f}" in page
    response = client.get(reverse("declarations:export_declarations"), {"status": "all"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][-2:] == ["Aspiration Paid", "Balance"]
    mine = next(r for r in rows if r[2] == "A81001")
    assert mine[-2:] == ["99519.89", f"{calculated - Decimal('99519.89'):.2f}"]
