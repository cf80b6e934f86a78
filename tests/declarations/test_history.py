"""A declaration's history (``declarations.history``): the View role sees points only, never
pounds, on a declaration's page, including the history of a recalculation ("the payment is now
£X, not the £Y declared"); the records keep the amounts as data, the notes words only; records
written before the amounts were data read the same."""

from __future__ import annotations

import re

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from accounts.formatting import money
from accounts.models import Role
from declarations import history, services
from declarations.models import DeclarationTransition
from declarations.workflow import CREATED_NOTE
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


def test_the_record_keeps_the_amounts_as_data_and_the_note_in_words(people, sent_back):
    record = sent_back.transitions.order_by("-at", "-pk").first()
    assert "£" not in record.note and "must be declared again" in record.note
    assert record.amount == sent_back.calculation.total_amount
    assert record.previous_amount is not None and record.previous_amount != record.amount
    assert record.detail["reason"] == history.SENT_BACK
    assert [code for code, _, _ in record.detail["changes"]] == ["VI001"]


def test_the_view_role_reads_the_same_sentence_with_the_amounts_hidden(sent_back):
    record = sent_back.transitions.order_by("-at", "-pk").first()
    with_money = history.transition_note(record, show_money=True)
    without = history.transition_note(record, show_money=False)
    assert "£" not in without and without.count(history.AMOUNT_HIDDEN) == with_money.count("£")
    assert re.sub(r"-?£[\d,]+\.\d\d", history.AMOUNT_HIDDEN, with_money) == without


def test_a_record_written_before_the_amounts_were_data_reads_the_same(people, sent_back):
    """The migration moves the amounts a recalculation's note quoted into the record's fields."""
    (convert,) = [
        operation
        for operation in MigrationLoader(connection).get_migration("declarations", "0005_transition_amounts").operations
        if hasattr(operation, "code")
    ]
    record = sent_back.transitions.order_by("-at", "-pk").first()
    written = history.transition_note(record, show_money=True)
    DeclarationTransition.objects.filter(pk=record.pk).update(note=written, previous_amount=None, detail={})

    convert.code(django_apps, None)

    migrated = DeclarationTransition.objects.get(pk=record.pk)
    assert (migrated.note, migrated.previous_amount, migrated.detail) == (
        record.note, record.previous_amount, record.detail
    )
    assert history.transition_note(migrated, show_money=True) == written
    convert.reverse_code(django_apps, None)
    assert DeclarationTransition.objects.get(pk=record.pk).note == written


def test_a_note_without_a_recalculation_is_shown_as_written(people, declaration):
    services.declaration_declare(declaration_id=declaration.pk, user=people["declarer"], note="Checked twice")
    rows = history.history_rows(user=people["declarer"], declaration=declaration)
    assert [row["note"] for row in rows] == [CREATED_NOTE, "Checked twice"]
    assert rows[-1]["amount"] == money(fresh(declaration).amount_declared)
