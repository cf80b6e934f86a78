"""The Declaration Management CSV opens in a spreadsheet; a provider name that looks like
a formula must stay text (CSV injection), and the amounts stay exact numbers."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from declarations import services

from .conftest import fresh

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_a_provider_name_that_looks_like_a_formula_is_exported_as_text(client_for, orgs, people, declaration, name):
    services.declaration_declare(declaration_id=declaration.pk, user=people["declarer"])
    orgs["practice"].name = name
    orgs["practice"].save(update_fields=["name"])
    response = client_for(people["approver"]).get(reverse("declarations:export_declarations"), {"status": "all"})
    (row,) = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["Service Provider"] == "'" + name
    assert row["Calculated Amount"] == f"{fresh(declaration).calculation.total_amount:.2f}"
