"""Achievement > Declare as the job aid has it (issue 14 section 4): every payment awaiting the
provider's declaration with a checkbox, Select All, Notes and Declare Achievement, all or nothing;
the confirmation message; the Payment Declaration History; maker-checker still holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.errors import NotAllowed
from accounts.models import Message, Role
from declarations import services
from declarations.models import DeclarationStatus as S
from declarations.models import DeclarationTransition
from declarations.views.declare import DECLARED, NOTHING_TICKED, declared_message
from declarations.workflow.use_cases import declarations_declare
from tests.factories import member

from .conftest import declaration_for, fresh
from .factories import qof_2425

pytestmark = pytest.mark.django_db

DECLARE = reverse("declarations:declare")


@pytest.fixture
def three(orgs, qof):
    """Three payments of the practice awaiting its declaration."""
    return [
        declaration_for(orgs["practice"], qof),
        declaration_for(orgs["practice"], qof_2425("QOF2425B")),
        declaration_for(orgs["practice"], qof_2425("QOF2425C")),
    ]


def _page(client, response=None) -> str:
    response = response if response is not None else client.get(DECLARE)
    if response.status_code == 302:
        response = client.get(response["Location"])
    return response.content.decode()


def test_declare_lists_every_payment_with_a_checkbox_select_all_notes_and_the_button(client_for, people, three):
    html = _page(client_for(people["declarer"]))
    for declaration in three:
        assert f'name="declarations" type="checkbox" value="{declaration.pk}"' in " ".join(html.split())
    assert "Select All" in html and "Declaration notes (optional)" in html and ">Declare Achievement<" in html
    assert "Payment Declaration History" in html and "No payment has been declared yet." in html


def test_a_practice_declares_three_payments_at_once(client_for, people, orgs, three):
    client = client_for(people["declarer"])
    response = client.post(DECLARE, {"declarations": [d.pk for d in three], "note": "Checked against our register."})
    assert response.status_code == 302
    html = _page(client, response)
    assert declared_message(3) in html
    assert "successfully submitted and are awaiting approval by the Commissioning Organisation" in html
    for declaration in three:
        declaration = fresh(declaration)
        assert declaration.status == S.AWAITING_COMMISSIONER
        assert declaration.declared_by == people["declarer"]
        assert declaration.amount_declared == declaration.calculation.total_amount
        record = DeclarationTransition.objects.get(declaration=declaration, to_status=S.AWAITING_COMMISSIONER)
        assert record.note == "Checked against our register." and record.by == people["declarer"]
    tasks = Message.objects.filter(organisation=orgs["icb"], role=Role.APPROVAL_MANAGEMENT, is_task=True)
    assert tasks.count() == 3
    # The history panel lists them with who declared them; nothing is left to declare.
    assert "nothing-to-declare" in html
    history = html.split('data-testid="declaration-history-panel"')[1]
    assert history.count("data-declaration=") == 3 and people["declarer"].full_name in history


def test_one_payment_declared_says_the_job_aids_message(client_for, people, three):
    client = client_for(people["declarer"])
    html = _page(client, client.post(DECLARE, {"declarations": [three[0].pk]}))
    assert DECLARED in html
    assert "successfully submitted and is awaiting approval by the Commissioning Organisation" in DECLARED
    assert [fresh(d).status for d in three] == [S.AWAITING_COMMISSIONER, S.AWAITING_PROVIDER, S.AWAITING_PROVIDER]


def test_all_or_nothing_one_already_declared_refuses_the_lot_and_names_it(client_for, people, three):
    services.declaration_declare(declaration_id=three[1].pk, user=people["declarer"])
    client = client_for(people["declarer"])
    html = _page(client, client.post(DECLARE, {"declarations": [d.pk for d in three]}))
    assert "This achievement has already been declared." in html
    assert [fresh(d).status for d in three] == [S.AWAITING_PROVIDER, S.AWAITING_COMMISSIONER, S.AWAITING_PROVIDER]
    assert DeclarationTransition.objects.filter(to_status=S.AWAITING_COMMISSIONER).count() == 1


def test_another_practices_payment_among_the_ticked_is_404_and_nothing_changes(client_for, people, orgs, three):
    theirs = declaration_for(orgs["other_practice"], three[0].service)
    client = client_for(people["declarer"])
    assert client.post(DECLARE, {"declarations": [three[0].pk, theirs.pk]}).status_code == 404
    assert client.post(DECLARE, {"declarations": [three[0].pk, "1e3"]}).status_code == 404
    assert fresh(three[0]).status == S.AWAITING_PROVIDER and fresh(theirs).status == S.AWAITING_PROVIDER


def test_a_pcn_lead_cannot_declare_a_member_practices_payment(client_for, people, three):
    client = client_for(people["pcn_lead"])
    assert client.post(DECLARE, {"declarations": [three[0].pk]}).status_code == 403
    assert fresh(three[0]).status == S.AWAITING_PROVIDER


def test_nothing_ticked_or_notes_too_long_is_told_and_changes_nothing(client_for, people, three):
    client = client_for(people["declarer"])
    assert NOTHING_TICKED in _page(client, client.post(DECLARE, {"note": "No ticks"}))
    response = client.post(DECLARE, {"declarations": [three[0].pk], "note": "x" * 2001})
    assert response.status_code == 200
    assert "Ensure this value has at most 2000 characters" in response.content.decode().split('data-testid="note-error"')[1]
    assert all(fresh(d).status == S.AWAITING_PROVIDER for d in three)


def test_maker_checker_holds_for_a_bulk_declaration(orgs, people, three):
    both = member(orgs["practice"], Role.DECLARATION_MANAGEMENT, email="both-sides@example.nhs.net")
    member(orgs["icb"], Role.APPROVAL_MANAGEMENT, user=both)
    declarations_declare(declaration_ids=[d.pk for d in three], user=both)
    with pytest.raises(NotAllowed, match="You declared this achievement"):
        services.declarations_approve(declaration_ids=[three[0].pk], user=both)
    services.declarations_approve(declaration_ids=[d.pk for d in three], user=people["approver"])
    assert all(fresh(d).status == S.AWAITING_FINANCE for d in three)


def test_the_declare_page_runs_the_same_queries_for_one_or_three_payments(client_for, people, orgs, qof):
    client = client_for(people["declarer"])
    first = declaration_for(orgs["practice"], qof)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(DECLARE).status_code == 200
        return len(queries)

    services.declaration_declare(declaration_id=first.pk, user=people["declarer"])
    declaration_for(orgs["practice"], qof_2425("QOF2425B"))
    small = count()
    for code in ("QOF2425C", "QOF2425D"):
        declaration = declaration_for(orgs["practice"], qof_2425(code))
        services.declaration_declare(declaration_id=declaration.pk, user=people["declarer"])
    declaration_for(orgs["practice"], qof_2425("QOF2425E"))
    assert count() == small
