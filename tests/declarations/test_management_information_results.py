"""Achievement Results shows a management-information indicator's value and pays it nothing
(issue 13 §1)."""

from __future__ import annotations

import re

from django.urls import reverse

from accounts.models import Role
from achievement.models import Achievement
from declarations.models import IndicatorCalculation
from participation.models import IndicatorGroup
from tests.factories import member

from .conftest import declaration_for
from .factories import indicator

MI_FIELD = "Chronic Obstructive Pulmonary Disease Register"


def test_the_results_show_the_value_and_no_payment(orgs, qof, client_for):
    group = IndicatorGroup.objects.get(service=qof, code="AF")
    indicator(qof, group, "COPD009MI1", "management_information", fields=[MI_FIELD], position=9)
    declaration = declaration_for(
        orgs["practice"],
        qof,
        {"AF001": {"Atrial Fibrillation Register": 300}, "COPD009MI1": {MI_FIELD: 4321}},
        list_size=12_000,
    )
    result = IndicatorCalculation.objects.get(calculation=declaration.calculation, indicator__code="COPD009MI1")
    assert (result.value, result.points, result.amount) == (4321, 0, 0)

    reader = member(orgs["icb"], Role.FINANCE_MANAGEMENT, email="money@example.nhs.net")
    achievement = Achievement.objects.get(pk=declaration.achievement_id)
    page = client_for(reader).get(reverse("declarations:achievement_results", args=[achievement.pk])).content.decode()

    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*COPD009MI1(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
    ]
    # (each cell carries its column's heading for narrow screens)
    assert "Achievement 4321" in cells
    assert "Points -" in cells and "Payment -" in cells  # never paid, no points
