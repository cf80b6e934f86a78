"""``accounts.bulk.unsaved``: the instance ``model(**values)`` makes, for the models a national
recalculation writes by the thousand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.bulk import unsaved
from accounts.models import Message
from declarations.models import Calculation, Declaration, DeclarationTransition
from participation.models import AchievementDate, QualityService

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
