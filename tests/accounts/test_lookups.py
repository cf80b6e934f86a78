"""``field__any``: membership of a list of ids, one array parameter on PostgreSQL (``IN``
elsewhere), the same rows as ``field__in``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from tests.factories import ICBFactory, PracticeFactory

pytestmark = pytest.mark.django_db


def test_any_finds_what_in_finds_on_a_key_and_a_foreign_key():
    icb, other = ICBFactory(), ICBFactory()
    practices = [PracticeFactory(commissioner=icb) for _ in range(3)] + [PracticeFactory(commissioner=other)]
    ids = [p.pk for p in practices[:2]] + [10**9]
    assert set(Organisation.objects.filter(pk__any=ids)) == set(Organisation.objects.filter(pk__in=ids))
    assert set(Organisation.objects.filter(commissioner_id__any={icb.pk})) == set(practices[:3])
    assert set(Organisation.objects.filter(commissioner__any=[icb.pk])) == set(practices[:3])
    assert not Organisation.objects.filter(pk__any=[]).exists()


def test_the_ids_go_as_one_parameter_on_postgresql():
    ids = list(range(1, 401))
    with CaptureQueriesContext(connection) as captured:
        list(Organisation.objects.filter(pk__any=ids))
    sql = captured.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "=ANY(ARRAY[1,2,3" in sql.replace(" ", "")
        assert " IN (" not in sql
    else:
        assert " IN (" in sql


def test_anything_but_ids_is_refused():
    with pytest.raises(ValueError):
        list(Organisation.objects.filter(pk__any=["1; DROP TABLE x"]))
