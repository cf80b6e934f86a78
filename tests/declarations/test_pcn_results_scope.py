"""Issue 14, section 5: a PCN lead (roles only at the PCN) sees its member practices'
contributions to the PCN's services (the Network Contract DES), never the practices' own
services' payments: not in Achievement Results, not on an achievement's page, not on a
declaration's page.  Commissioners and the practice itself still see everything of theirs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Role
from declarations import selectors
from tests.factories import member

from .conftest import declaration_for
from .factories import submit_values

pytestmark = pytest.mark.django_db

@pytest.fixture
def scene(orgs, qof, ncd):
    qof_declaration = declaration_for(orgs["practice"], qof)
    ncd_contribution = submit_values(orgs["practice"], ncd, {}, date=dt.date(2022, 3, 31))
    return {"qof": qof_declaration, "ncd": ncd_contribution}


def _listed(user) -> set[tuple[str, str]]:
    return {(a.provider.ods_code, a.service.code) for a in selectors.achievement_list(user=user)}


def test_a_pcn_lead_sees_the_members_ncd_contribution_not_their_qof(orgs, people, scene):
    lead = people["pcn_lead"]
    assert _listed(lead) == {("A81001", "NCD2122")}
    with pytest.raises(selectors.NotFound):
        selectors.achievement_get(user=lead, achievement_id=scene["qof"].achievement_id)
    assert selectors.achievement_get(user=lead, achievement_id=scene["ncd"].pk).pk == scene["ncd"].pk
    with pytest.raises(selectors.NotFound):
        selectors.declaration_get(user=lead, declaration_id=scene["qof"].pk)


def test_the_pcn_leads_pages_show_no_practice_qof_payment(client_for, orgs, people, scene):
    client = client_for(people["pcn_lead"])
    results = client.get(reverse("declarations:results"), {"financial_year": ""})
    html = results.content.decode()
    assert results.status_code == 200
    assert [row["achievement"].service.code for row in results.context["rows"]] == ["NCD2122"]
    amount = f"{scene['qof'].calculation.total_amount:,.2f}"
    assert amount not in html
    assert client.get(reverse("declarations:achievement_results", args=[scene["qof"].achievement_id])).status_code == 404
    assert client.get(reverse("declarations:declaration_detail", args=[scene["qof"].pk])).status_code == 404


def test_the_practice_and_its_commissioner_still_see_the_qof_payment(orgs, people, scene):
    for user in (people["declarer"], people["approver"]):
        assert ("A81001", "QOF2425") in _listed(user)
        assert selectors.declaration_get(user=user, declaration_id=scene["qof"].pk).pk == scene["qof"].pk
    # A user at both the practice and its PCN sees both, through the practice.
    both = member(orgs["pcn"], Role.VIEW)
    member(orgs["practice"], Role.VIEW, user=both)
    assert _listed(both) == {("A81001", "QOF2425"), ("A81001", "NCD2122")}
