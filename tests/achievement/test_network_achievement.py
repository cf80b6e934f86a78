"""Data Submission > Network Achievement: a PCN's achievement per indicator with each member
practice's contribution on that date, for the PCN's users and its commissioner (docs/adr/0020)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import pcn_membership
from accounts.models import OrganisationKind, Role
from achievement import services
from achievement.models import Achievement
from tests.achievement import factories
from tests.achievement.test_extracts import HEADER, row, write
from tests.factories import member

FEBRUARY, MARCH = dt.date(2024, 2, 29), factories.NCD_DATE


@pytest.fixture
def pcn2(world):
    return factories.organisation("U07032", OrganisationKind.PCN, "North Stockton PCN", commissioner=world["icb"])


def load(tmp_path, practices=(("A81001", 30, 40), ("A81002", 12, 20)), name="ncd.csv"):
    lines = [HEADER]
    for ach in ("20240229", "20240331"):
        for org, numerator, denominator in practices:
            lines += [
                row(service="NCD2324", org=org, ind="CAN-02", field="Numerator", value=str(numerator), ach=ach),
                row(service="NCD2324", org=org, ind="CAN-02", field="Denominator", value=str(denominator), ach=ach),
                row(service="NCD2324", org=org, ind="LISTSIZE", field="Registered Population", value="5000", ach=ach),
            ]
    extract = services.extract_receive(path=write(tmp_path, "\n".join(lines) + "\n", name))
    assert services.extract_load(extract_id=extract.pk).errors == []


def pcn_achievement(pcn, date) -> Achievement:
    return Achievement.objects.get(provider=pcn, achievement_date__date=date)


@pytest.fixture
def moved(ncd, world, pcn2, tmp_path):
    """Both practices' data loaded, then A81002 moved to North Stockton PCN from 01/03/2024."""
    load(tmp_path)
    pcn_membership.record_moves(wanted={world["A81002"].pk: pcn2.pk}, effective=dt.date(2024, 3, 1))
    return world


def test_the_pcn_lead_sees_each_member_practices_contribution_on_the_date(client, moved, ncd):
    factories._indicator(ncd, ncd.indicators.first().group, "CAIP-9", "yes_no", ["Yes/No Flag"], 9, entry="pcn")
    lead = member(moved["pcn"], Role.ACHIEVEMENT_ENTRY, email="lead@example.nhs.net")
    client.force_login(lead)

    listing = client.get(reverse("achievement:network_achievements")).content.decode()
    assert "29/02/2024" in listing and "31/03/2024" in listing and "Stockton PCN (U89141)" in listing
    assert "North Stockton PCN" not in listing  # not the lead's PCN

    february = client.get(reverse("achievement:network_achievement", args=[pcn_achievement(moved["pcn"], FEBRUARY).pk]))
    page = february.content.decode()
    assert "The Densham Surgery (A81001)" in page and "Queens Park Medical Centre (A81002)" in page
    # Only what the practices contribute: not the PCN's tick-box (COV-01) nor its own entries (CAIP-9).
    assert [i.code for i in february.context["detail"].indicators] == ["CAN-02"]
    assert february.context["detail"].indicators[0].total == [42, 60]
    assert february.context["detail"].indicators[0].pcn == {"Numerator": 42, "Denominator": 60}

    march = client.get(reverse("achievement:network_achievement", args=[pcn_achievement(moved["pcn"], MARCH).pk]))
    detail = march.context["detail"]
    assert [m.practice.ods_code for m in detail.members] == ["A81001"]
    assert detail.members[0].end is None
    assert [(m.practice.ods_code, figures) for m, figures in detail.indicators[0].practices] == [("A81001", [30, 40])]
    assert "Queens Park Medical Centre" not in march.content.decode()


def test_the_commissioner_sees_every_pcn_it_commissions_with_the_members_dates(client, moved, pcn2):
    commissioner = member(moved["icb"], Role.APPROVAL_MANAGEMENT, email="approver@example.nhs.net")
    client.force_login(commissioner)

    listing = client.get(reverse("achievement:network_achievements")).content.decode()
    assert "Stockton PCN (U89141)" in listing and "North Stockton PCN (U07032)" in listing
    page = client.get(reverse("achievement:network_achievement", args=[pcn_achievement(pcn2, MARCH).pk])).content.decode()
    assert "Queens Park Medical Centre (A81002)" in page and "01/03/2024" in page


def test_a_practice_user_or_another_pcns_user_sees_none_of_it(client, moved, pcn2):
    practice_user = member(moved["A81001"], Role.ACHIEVEMENT_ENTRY, email="practice@example.nhs.net")
    other_lead = member(pcn2, Role.VIEW, email="other@example.nhs.net")
    url = reverse("achievement:network_achievement", args=[pcn_achievement(moved["pcn"], MARCH).pk])

    client.force_login(practice_user)
    listing = client.get(reverse("achievement:network_achievements"))
    assert listing.status_code == 200 and "Stockton PCN" not in listing.content.decode()
    assert client.get(url).status_code == 404
    client.force_login(other_lead)
    assert client.get(url).status_code == 404
    # A practice's own NCD achievement is not a network achievement.
    practice_achievement = Achievement.objects.filter(provider=moved["A81001"]).first()
    client.force_login(member(moved["icb"], Role.COMMISSIONING_MANAGEMENT, email="cm@example.nhs.net"))
    assert client.get(reverse("achievement:network_achievement", args=[practice_achievement.pk])).status_code == 404


def test_a_member_with_no_data_for_the_date_reads_no_data(client, ncd, world, tmp_path):
    load(tmp_path, practices=(("A81001", 30, 40),))
    client.force_login(member(world["pcn"], Role.VIEW, email="viewer@example.nhs.net"))

    response = client.get(reverse("achievement:network_achievement", args=[pcn_achievement(world["pcn"], MARCH).pk]))

    detail = response.context["detail"]
    assert [(m.practice.ods_code, m.has_data) for m in detail.members] == [("A81002", False), ("A81001", True)]  # by name
    assert "No data" in response.content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_pages_run_a_fixed_number_of_queries_whatever_the_number_of_practices(client, ncd, world, tmp_path):
    load(tmp_path)
    commissioner = member(world["icb"], Role.APPROVAL_MANAGEMENT, email="approver@example.nhs.net")
    client.force_login(commissioner)
    detail_url = reverse("achievement:network_achievement", args=[pcn_achievement(world["pcn"], MARCH).pk])
    list_url = reverse("achievement:network_achievements")
    small = (_queries(client, list_url), _queries(client, detail_url))

    pcns = [world["pcn"]] + [
        factories.organisation(f"U0000{n}", OrganisationKind.PCN, f"PCN {n}", commissioner=world["icb"]) for n in (2, 3)
    ]
    more = []
    for number in range(4, 10):
        code = f"A8100{number}"
        world[code] = factories.organisation(code, OrganisationKind.PRACTICE, pcn=pcns[number % 3], commissioner=world["icb"])
        factories.approved_offer(ncd, world[code], world["icb"])
        more.append((code, number, 10))
    load(tmp_path, practices=(("A81001", 30, 40), ("A81002", 12, 20), *more), name="more.csv")

    assert (_queries(client, list_url), _queries(client, detail_url)) == small
