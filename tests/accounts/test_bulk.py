"""``accounts.bulk``: ``unsaved``, the instance ``model(**values)`` makes, and ``insert_rows``, the
rows ``bulk_create`` writes, for the models a national recalculation writes by the thousand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.bulk import ids_take, insert_rows, unsaved
from accounts.models import AuditEvent, Message, Role
from declarations.models import Calculation, Declaration, DeclarationTransition
from participation.models import AchievementDate, QualityService
from tests.factories import PracticeFactory

NOW = timezone.now()


def _fields(instance) -> dict:
    return {name: value for name, value in instance.__dict__.items() if name != "_state"}


def _cached(instance) -> dict:
    return dict(instance._state.fields_cache)


@pytest.mark.parametrize(
    "model, values",
    [
        (Calculation, {"pk": 7, "achievement_id": 3, "provider_id": 1, "service_id": 2, "achievement_date_id": 4,
                       "list_size": 9_000, "cpi": None, "total_points": Decimal("1.50"), "total_amount": Decimal("2.25"),
                       "is_provisional": True, "inputs_hash": "x", "data_version": 1, "version": 1,
                       "calculated_at": NOW}),
        (DeclarationTransition, {"declaration_id": 5, "from_status": "", "to_status": "awaiting_provider", "by": None,
                                 "at": NOW, "note": "Created", "amount": Decimal("3.00")}),
        (Message, {"created_at": NOW, "organisation_id": 1, "role": "declaration_management", "subject": "s",
                   "body": "b", "link": "/l", "is_task": True, "task_key": "declaration:5:declare"}),
    ],
)
def test_an_unsaved_instance_is_the_one_the_model_makes(model, values):
    assert _fields(unsaved(model, **values)) == _fields(model(**values))
    assert unsaved(model, **values)._state.adding and unsaved(model, **values)._state.db is None


def test_related_objects_are_cached_as_the_model_caches_them():
    service, date = QualityService(pk=2, code="S"), AchievementDate(pk=4)
    calculation = Calculation(pk=9, total_amount=Decimal("1.00"))
    values = {"provider_id": 1, "service": service, "achievement_date": date, "achievement_id": 3,
              "calculation": calculation, "created_at": NOW, "updated_at": NOW}
    ours, django = unsaved(Declaration, **values), Declaration(**values)
    assert _fields(ours) == _fields(django)
    assert _cached(ours) == _cached(django)
    assert ours.calculation is calculation and ours.service is service and ours.status == django.status


def test_a_name_the_model_has_not_is_refused():
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        unsaved(Message, colour="red")


def test_a_callable_default_is_called_only_for_a_field_not_given():
    before = timezone.now()
    made = unsaved(Message, organisation_id=1, subject="s")
    assert before <= made.created_at <= timezone.now()
    assert unsaved(Message, organisation_id=1, subject="s", created_at=NOW).created_at == NOW
    assert set(_fields(made)) == set(_fields(Message(organisation_id=1, subject="s")))


# ``insert_rows``: on PostgreSQL, ids from the sequence and one COPY; the rows read back as
# ``bulk_create`` writes them, whatever COPY's text format would make of their characters.

_AWKWARD = ["plain", "tab\there", "new\nline", "back\\slash", "\\N", "carriage\rreturn", "quote's \"double\"", "£ é 中"]


def _audit_rows(tag: str) -> list[AuditEvent]:
    when = dt.datetime(2024, 3, 31, 23, 59, 58, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    return [
        AuditEvent(
            action=f"{tag}:{n}",
            object_type=text,
            object_id=text[:40],
            detail={"text": text, "n": n, "nested": {"list": [1, None, True, text]}} if n % 2 else {},
            ip_address=None if n % 3 else "::1",
            at=when + dt.timedelta(days=n),
        )
        for n, text in enumerate(_AWKWARD)
    ]


def _read_back(tag: str) -> list[tuple]:
    rows = AuditEvent.objects.filter(action__startswith=f"{tag}:").order_by("at")
    return [
        (row.action.split(":")[1], row.object_type, row.object_id, row.detail, row.ip_address, row.at, row.actor_id)
        for row in rows
    ]


@pytest.mark.django_db
def test_rows_copied_read_back_as_bulk_create_writes_them():
    ours, django = _audit_rows("copy"), _audit_rows("orm")
    insert_rows(AuditEvent, ours)
    AuditEvent.objects.bulk_create(django)
    assert _read_back("copy") == _read_back("orm")
    assert [row[1] for row in _read_back("copy")] == _AWKWARD  # "\\N" stays text, not NULL


@pytest.mark.django_db
def test_copied_rows_get_their_ids_from_the_sequence_in_order_and_are_saved_instances():
    rows = _audit_rows("ids")
    with CaptureQueriesContext(connection) as captured:
        insert_rows(AuditEvent, rows)
    ids = [row.pk for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(rows)
    assert dict(AuditEvent.objects.filter(pk__in=ids).values_list("pk", "action")) == {r.pk: r.action for r in rows}
    assert all(not row._state.adding and row._state.db == "default" for row in rows)
    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 2 and "nextval" in statements[0] and statements[1].startswith("COPY ")
    following = AuditEvent.objects.create(action="after")  # the sequence moved past the ids taken
    assert following.pk > max(ids)


@pytest.mark.django_db
def test_rows_whose_ids_are_given_are_copied_under_them():
    message = unsaved(
        Message, organisation=PracticeFactory(), role=Role.DECLARATION_MANAGEMENT, subject="s\tt", body="b\nc",
        is_task=True,
    )
    message.pk = ids_take(Message, count=1)[0]
    insert_rows(Message, [message])
    stored = Message.objects.get(pk=message.pk)
    assert (stored.role, stored.subject, stored.body, stored.is_task, stored.closed_at) == (
        "declaration_management", "s\tt", "b\nc", True, None
    )


@pytest.mark.django_db
def test_a_row_the_database_refuses_raises_djangos_error_and_writes_nothing():
    practice = PracticeFactory()
    good = unsaved(Message, organisation=practice, subject="fine")
    bad = unsaved(Message, organisation=practice, subject="x" * 201)  # beyond max_length
    with pytest.raises(DataError), transaction.atomic():
        insert_rows(Message, [good, bad])
    assert not Message.objects.filter(organisation=practice).exists()
    missing = unsaved(Message, organisation_id=practice.pk + 10_000, subject="nowhere")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Message, [missing])
        connection.check_constraints()  # the foreign key is checked at commit, as bulk_create's is


@pytest.mark.django_db
def test_conflicting_rows_are_skipped_when_asked():
    practice = PracticeFactory()
    first = unsaved(Message, organisation=practice, subject="first")
    insert_rows(Message, [first])
    again = unsaved(Message, organisation=practice, subject="again")
    again.pk = first.pk
    insert_rows(Message, [again], ignore_conflicts=True)
    assert list(Message.objects.filter(organisation=practice).values_list("subject", flat=True)) == ["first"]
