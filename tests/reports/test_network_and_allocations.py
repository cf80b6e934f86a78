"""Reports > Network Organisation Relationship and Allocated Reports: their rows, scope, CSV,
queries, and the allocation rules (only the User Administrator, only a descendant, revocable,
audited)."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.errors import Conflict, Invalid, NotFound
from accounts.models import AuditEvent, Role
from accounts.navigation import tab_labels_for, tabs_for
from reports.models import ReportAllocation
from reports.records import allocations
from tests.factories import PCNFactory, PracticeFactory, member

pytestmark = pytest.mark.django_db


def _network(client) -> list[tuple[str, str]]:
    return [(r.pcn_code, r.practice_code) for r in client.get(reverse("reports:network")).context["rows"]]


def test_the_network_report_lists_the_pcns_and_their_practices(client_for, orgs, people):
    lonely = PCNFactory(ods_code="U80000", name="A PCN with no practice", commissioner=orgs["icb"])
    client = client_for(people["approver"])
    assert _network(client) == [("U80000", ""), ("U89141", "A81001"), ("U89141", "A81017")]
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("reports:network_csv")).content.decode())))
    assert [r["Practice ODS Code"] for r in rows] == ["", "A81001", "A81017"]
    assert rows[1]["Sub-ICB Location"] == "Tees Valley (16C)"
    assert rows[1]["Member From"] == "Not recorded"  # a membership from before they were recorded
    assert lonely.name in client.get(reverse("reports:network")).content.decode()


def test_nobody_sees_another_organisations_network(client_for, orgs, people):
    assert _network(client_for(people["other_finance"])) == [("U99999", "Z99999")]
    assert _network(client_for(people["sub_icb_finance"])) == []
    assert client_for(people["declarer"]).get(reverse("reports:network")).status_code == 403
    allocations.report_allocation_grant(
        user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk
    )
    assert [p for _, p in _network(client_for(people["sub_icb_finance"]))] == ["A81001", "A81017"]


def test_network_queries_do_not_grow_with_the_rows(client_for, orgs, people):
    client = client_for(people["approver"])
    client.get(reverse("reports:network"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("reports:network"))
    for _ in range(6):
        PracticeFactory(pcn=PCNFactory(commissioner=orgs["icb"]), commissioner=orgs["icb"])
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("reports:network"))
    assert len(response.context["rows"]) == 8
    assert len(many) == len(few)


def test_a_user_administrator_allocates_and_revokes_on_the_audit_log(client_for, orgs, people):
    client = client_for(people["admin"])
    page = client.get(reverse("reports:allocated_reports"))
    choices = [o.ods_code for o in page.context["grant_form"].fields["allowed_organisation"].queryset]
    assert "16C" in choices and "U89141" in choices and "A81001" not in choices and "QZZ" not in choices

    response = client.post(
        reverse("reports:grant_allocation"), {"organisation": orgs["icb"].pk, "allowed_organisation": orgs["sub_icb"].pk}
    )
    assert response.status_code == 302
    allocation = ReportAllocation.objects.get()
    assert allocation.granted_by == people["admin"] and allocation.is_active
    assert AuditEvent.objects.filter(action="report_allocation_granted", object_id=str(allocation.pk)).exists()
    assert "Tees Valley" in client.get(reverse("reports:allocated_reports")).content.decode()
    assert "NHS North East ICB" in client_for(people["sub_icb_finance"]).get(reverse("reports:allocated_reports")).content.decode()

    client = client_for(people["admin"])
    client.post(reverse("reports:revoke_allocation"), {"allocation": allocation.pk})
    allocation.refresh_from_db()
    assert allocation.revoked_by == people["admin"] and not allocation.is_active
    assert AuditEvent.objects.filter(action="report_allocation_revoked", object_id=str(allocation.pk)).exists()


def test_allocation_rules(orgs, people):
    grant = allocations.report_allocation_grant
    with pytest.raises(NotFound):  # not their organisation
        grant(user=people["finance"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk)
    with pytest.raises(Invalid):  # not under the ICB
        grant(user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["other_icb"].pk)
    with pytest.raises(Invalid):  # never a single practice
        grant(user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["practice"].pk)
    allocation = grant(user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk)
    with pytest.raises(Conflict):
        grant(user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk)
    other_admin = member(orgs["other_icb"], Role.USER_ADMINISTRATOR)
    with pytest.raises(NotFound):  # another organisation's allocation does not exist for them
        allocations.report_allocation_revoke(user=other_admin, allocation_id=allocation.pk)
    allocations.report_allocation_revoke(user=people["admin"], allocation_id=allocation.pk)
    with pytest.raises(Conflict):
        allocations.report_allocation_revoke(user=people["admin"], allocation_id=allocation.pk)
    # Granted again after the revocation: a new record, the old one kept.
    grant(user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk)
    assert ReportAllocation.objects.count() == 2


def test_another_administrator_cannot_revoke_by_post(client_for, orgs, people):
    allocation = allocations.report_allocation_grant(
        user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk
    )
    other_admin = member(orgs["other_icb"], Role.USER_ADMINISTRATOR)
    client = client_for(other_admin)
    assert client.post(reverse("reports:revoke_allocation"), {"allocation": allocation.pk}).status_code == 404
    assert "Tees Valley" not in client.get(reverse("reports:allocated_reports")).content.decode()
    assert client_for(people["declarer"]).post(reverse("reports:grant_allocation"), {}).status_code == 403


def test_the_reports_tab_per_role(orgs, people):
    def subtabs(user):
        tab = next((t for t in tabs_for(user) if t.label == "Reports"), None)
        return [] if tab is None else [s.label for s in tab.subtabs]

    records = {"Achievement Summary Report", "Payments", "Network Organisation Relationship", "Allocated Reports"}

    def ours(user):  # the insight sub-tabs are tested with the insights
        return [label for label in subtabs(user) if label in records]

    assert ours(people["declarer"]) == ["Achievement Summary Report", "Allocated Reports"]
    assert ours(people["finance"]) == [
        "Achievement Summary Report", "Payments", "Network Organisation Relationship", "Allocated Reports"
    ]
    assert ours(people["admin"]) == ["Allocated Reports"]
    assert "Reports" in tab_labels_for(people["viewer"])


def test_allocated_reports_queries_do_not_grow_with_the_allocations(client_for, orgs, people):
    from accounts.models import Organisation, OrganisationKind

    client = client_for(people["admin"])
    allocations.report_allocation_grant(
        user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=orgs["sub_icb"].pk
    )
    client.get(reverse("reports:allocated_reports"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("reports:allocated_reports"))
    for i in range(5):
        location = Organisation.objects.create(
            ods_code=f"1{i}D", name=f"Location {i}", kind=OrganisationKind.SUB_ICB, parent=orgs["icb"]
        )
        allocations.report_allocation_grant(
            user=people["admin"], organisation_id=orgs["icb"].pk, allowed_organisation_id=location.pk
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("reports:allocated_reports"))
    assert len(response.context["allocations"]) == 6
    assert len(many) == len(few)
