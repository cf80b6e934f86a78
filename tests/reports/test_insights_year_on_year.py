"""Reports > This year and last: a practice's achievement per indicator beside last year's for the
same indicator codes, said plainly where last year has no figure; pounds for money roles only;
the practice sees only itself; a fixed number of queries."""

# ruff: noqa: F811 - the tests take the imported ``world`` fixture by name
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.formatting import money
from participation.models import AchievementDate
from reports.insights import selectors
from reports.insights.year_on_year import NO_DENOMINATOR, NO_RESULTS, NOT_IN_SERVICE

from .insights_world import LAST_DATE, THIS_DATE, add_practices, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
URL = reverse("reports:year_on_year")


def _rows(response) -> dict:
    return {row.code: row for group in response.context["report"].groups for row in group.rows}


def test_last_years_service_of_the_same_kind_is_matched_by_month(world):
    this = AchievementDate.objects.get(service=world["qof"], date=THIS_DATE)
    last = selectors.previous_year_date(achievement_date=this)
    assert (last.service.code, last.date) == ("QOF2324", LAST_DATE)
    february = AchievementDate.objects.get(service=world["qof"], date__month=2)
    assert selectors.previous_year_date(achievement_date=february) is None  # 2023/24 has no February here


def test_the_practice_sees_each_indicator_beside_last_years_figure_for_its_code(client, world):
    client.force_login(world["declarer"])
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["provider"] == world["practice"]
    rows = _rows(response)
    assert (rows["VI001"].this_shown, rows["VI001"].last_shown) == ("93.10%", "88.00%")
    assert rows["VI001"].change == "Up 5.10 percentage points"
    assert (rows["AF006"].this_shown, rows["AF006"].last_shown, rows["AF006"].change) == ("75.00%", "75.00%", "No change")
    # New in 2024/25: said plainly.
    assert rows["AF001"].last_shown == NOT_IN_SERVICE and rows["QI013"].last_shown == NOT_IN_SERVICE
    this = world["calculations"]["practice"].indicators.get(indicator__code="VI001")
    last = world["calculations"]["practice_last"].indicators.get(indicator__code="VI001")
    assert (rows["VI001"].this_amount, rows["VI001"].last_amount) == (money(this.amount), money(last.amount))
    assert (rows["VI001"].this_points, rows["VI001"].last_points) == (f"{this.points:.2f}", "0.00")
    page = response.content.decode()
    assert "2023/24: 88.00%" in page and "2024/25: 93.10%" in page  # the chart's direct labels


def test_a_practice_without_results_last_year_is_told_so(client, world):
    client.force_login(world["commissioner"])
    response = client.get(f"{URL}?provider={world['practice3'].pk}")
    rows = _rows(response)
    assert rows["VI001"].this_shown == NO_DENOMINATOR
    assert rows["VI001"].last_shown == NO_RESULTS
    assert "last year has no figures to compare with" in response.content.decode()


def test_a_view_role_sees_points_never_pounds(client, world):
    client.force_login(world["viewer"])
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["report"].show_money is False
    assert "£" not in response.content.decode()
    assert all(row.this_amount is None and row.last_amount is None for row in _rows(response).values())


def test_a_practice_sees_only_itself(client, world):
    client.force_login(world["declarer"])
    response = client.get(URL)
    assert "provider" not in response.context["form"].fields  # nothing else to choose
    for provider in ("practice2", "other_practice"):
        assert client.get(f"{URL}?provider={world[provider].pk}").status_code == 404
    other_date = AchievementDate.objects.get(service=world["qof"], date__month=2)  # only another ICB's results
    assert client.get(f"{URL}?achievement_date={other_date.pk}").status_code == 404
    assert client.get(f"{URL}?provider=abc").status_code == 404


def test_a_commissioner_sees_its_providers_only(client, world):
    client.force_login(world["commissioner"])
    assert client.get(f"{URL}?provider={world['practice2'].pk}").status_code == 200
    assert client.get(f"{URL}?provider={world['other_practice'].pk}").status_code == 404
    page = client.get(URL).content.decode()
    assert "Other Surgery" not in page


def test_the_charts_are_labelled_images_with_their_tables(client, world):
    client.force_login(world["declarer"])
    page = client.get(URL).content.decode()
    svgs = re.findall(r"<svg class=\"cqrs-chart\"[^>]*>", page)
    assert len(svgs) == 2  # the two groups with percentages (Atrial fibrillation, Vaccination)
    assert all('role="img"' in svg and "aria-labelledby" in svg for svg in svgs)
    assert page.count('data-testid="year-on-year-table"') == 3
    assert " style=" not in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_queries_do_not_grow_with_the_number_of_providers(client, world):
    client.force_login(world["commissioner"])
    url = f"{URL}?provider={world['practice'].pk}"
    before = _queries(client, url)
    add_practices(world["icb"], world["pcn"], world["qof"], 12)
    assert _queries(client, url) == before
