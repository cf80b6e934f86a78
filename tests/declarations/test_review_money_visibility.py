"""Review: the View role sees points only, never pounds, on a declaration's page, including the
history notes a recalculation writes ("the payment is now £X, not the £Y declared")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from declarations import history, services
from tests.factories import member

from .conftest import VALUES, declaration_for, fresh

pytestmark = pytest.mark.django_db

CHANGED = {**VALUES, "VI001": {"Numerator": 112, "Denominator": 116}}


@pytest.fixture
def sent_back(orgs, people, qof, declaration):
    services.declaration_declare(declaration_id=declaration.pk, user=people["declarer"])
    declaration_for(orgs["practice"], qof, CHANGED)
    back = fresh(declaration)
    assert "£" in history.transition_note(back.transitions.order_by("-at", "-pk").first(), show_money=True)
    return back


def test_a_view_user_sees_no_pounds_in_the_declaration_history(client_for, orgs, sent_back):
    viewer = member(orgs["practice"], Role.VIEW, email="viewer@example.nhs.net")
    response = client_for(viewer).get(reverse("declarations:declaration_detail", args=[sent_back.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "£" not in content and "&pound;" not in content
    assert "must be declared again" in content  # the reason is still told, without the amounts


def test_a_declaration_manager_still_sees_the_amounts_in_the_history(client_for, people, sent_back):
    response = client_for(people["declarer"]).get(reverse("declarations:declaration_detail", args=[sent_back.pk]))
    note = history.transition_note(sent_back.transitions.order_by("-at", "-pk").first(), show_money=True)
    assert note.split("(")[0].strip() in response.content.decode()
