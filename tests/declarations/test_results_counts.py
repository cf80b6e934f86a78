"""Counts of patients are shown with thousands separators on an achievement's results (issue 14,
section 5): "44,500 of 50,000", "3,500" patients to the upper threshold, and in the totals."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from declarations import services
from tests.factories import member

from .factories import qof_2425, submit_values

pytestmark = pytest.mark.django_db

LARGE = {
    "VI001": {"Numerator": 44_500, "Denominator": 50_000},  # 89%: 48,000 reach the upper 96%
    "AF001": {"Atrial Fibrillation Register": 1_300},
    "AF006": {"Numerator": 1_000, "Denominator": 1_200},
    "QI013": {"Yes/No Flag": 1},
    "VI900": {"Value": 42},
}


def test_patient_counts_have_thousands_separators(orgs, client_for):
    achievement = submit_values(orgs["practice"], qof_2425(), LARGE, list_size=60_000)
    services.calculation_recalculate(achievement_id=achievement.pk)
    user = member(orgs["practice"], Role.DECLARATION_MANAGEMENT)

    response = client_for(user).get(reverse("declarations:achievement_results", args=[achievement.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    vi001 = html.split('data-indicator="VI001"', 1)[1].split("</tr>", 1)[0]
    assert "(44,500 of 50,000)" in vi001
    assert ">3,500<" in vi001.replace("</span>", ">")
    total = response.context["results"].total_patients_to_upper
    assert total >= 3_500 and f"{total:,} more patient" in html
