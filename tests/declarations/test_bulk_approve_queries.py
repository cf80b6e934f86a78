"""A bulk Approve is set-based (issue 12): the statements of one request do not grow with the
number of declarations ticked, and every row is still recorded (who, when), audited and notified."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent, Message, Role
from declarations import services
from declarations.models import Declaration, DeclarationTransition
from declarations.models import DeclarationStatus as S
from declarations.workflow import task_key
from tests.factories import PracticeFactory, member

from .conftest import declaration_for

pytestmark = pytest.mark.django_db

APPROVE = reverse("declarations:approve_declarations")


def _declared(orgs, qof, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        practice = PracticeFactory(pcn=orgs["pcn"], commissioner=orgs["icb"])
        declaration = declaration_for(practice, qof)
        services.declaration_declare(declaration_id=declaration.pk, user=member(practice, Role.DECLARATION_MANAGEMENT))
        ids.append(declaration.pk)
    return ids


def _post(client, ids) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(APPROVE, {"declarations": ids})
    assert response.status_code == 302
    return len(queries)


def test_approving_2_or_8_declarations_runs_the_same_queries(client_for, orgs, people, qof):
    few, many = _declared(orgs, qof, 2), _declared(orgs, qof, 8)
    client = client_for(people["approver"])
    client.get(reverse("declarations:declaration_management"))  # warm the session
    approve = {len(ids): _post(client, ids) for ids in (few, many)}
    client = client_for(people["finance"])
    client.get(reverse("declarations:declaration_management"))
    finance_approve = {len(ids): _post(client, ids) for ids in (few, many)}

    assert approve[2] == approve[8], approve
    assert finance_approve[2] == finance_approve[8], finance_approve
    assert approve[8] <= 25 and finance_approve[8] <= 25, (approve, finance_approve)
    assert set(Declaration.objects.filter(pk__in=few + many).values_list("status", flat=True)) == {
        S.FINANCIALLY_APPROVED
    }


def test_a_bulk_approval_records_audits_and_notifies_every_row(client_for, orgs, people, qof):
    ids = _declared(orgs, qof, 3)

    client_for(people["approver"]).post(APPROVE, {"declarations": ids})

    records = DeclarationTransition.objects.filter(declaration_id__in=ids, to_status=S.AWAITING_FINANCE)
    assert sorted(r.declaration_id for r in records) == sorted(ids)
    assert {r.by_id for r in records} == {people["approver"].pk}
    assert all(r.at is not None and r.amount is not None for r in records)
    audited = AuditEvent.objects.filter(action="declaration_approved", object_id__in=[str(pk) for pk in ids])
    assert sorted(int(e.object_id) for e in audited) == sorted(ids)
    assert {e.actor_id for e in audited} == {people["approver"].pk}
    assert all(e.detail["from"] == S.AWAITING_COMMISSIONER and e.detail["to"] == S.AWAITING_FINANCE for e in audited)
    # Each declaration: its approval task closed, a finance task opened, its provider told.
    for pk in ids:
        assert not Message.objects.filter(task_key=task_key(pk, "approve"), closed_at__isnull=True).exists()
        assert Message.objects.filter(
            task_key=task_key(pk, "finance_approve"), role=Role.FINANCE_MANAGEMENT, organisation=orgs["icb"]
        ).count() == 1
    told = Message.objects.filter(role=Role.DECLARATION_MANAGEMENT, subject__contains="has been approved")
    assert told.count() == 3
