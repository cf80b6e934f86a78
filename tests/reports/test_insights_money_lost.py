"""Reports > Where the money is lost: the commissioner's figures per indicator equal the stored
payment results, its providers only, a fixed number of queries, and charts a person can read."""

# ruff: noqa: F811 - the tests take the imported ``world`` fixture by name
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.formatting import money
from declarations.models import IndicatorCalculation
from participation.models import AchievementDate, IndicatorKind

from .insights_world import FEBRUARY, add_practices, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
URL = reverse("reports:money_lost")
INDICATOR_URL = reverse("reports:money_lost_indicator")


def _date(service):
    return AchievementDate.objects.get(service=service, is_payment_date=True)


def _rows(response) -> dict:
    return {row.code: row for row in response.context["report"].rows}


def _indicator_url(world, code: str, **extra) -> str:
    params = {
        "commissioner": world["icb"].pk,
        "achievement_date": _date(world["qof"]).pk,
        "indicator": world["qof"].indicators.get(code=code).pk,
        **extra,
    }
    return INDICATOR_URL + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def test_pounds_not_earned_per_indicator_are_the_stored_amounts_at_stake_of_the_icbs_providers(client, world):
    client.force_login(world["commissioner"])
    response = client.get(URL)
    assert response.status_code == 200
    rows = _rows(response)
    assert set(rows) == {"AF006", "VI001"}  # the indicators paid against thresholds
    ours = IndicatorCalculation.objects.filter(
        calculation__provider__commissioner=world["icb"], calculation__achievement_date=_date(world["qof"])
    )
    for code, row in rows.items():
        stored = ours.filter(indicator__code=code).aggregate(lost=Sum("amount_at_stake"), paid=Sum("amount"))
        assert row.not_earned == money(stored["lost"])
        assert row.earned == money(stored["paid"])
    # The worked example (docs/payment-rules.md): VI001 108/116 pays £2,803.14 at 10.55 points;
    # at the upper threshold it would pay 18 x 220.62 x 12,000 / 9,964 = £4,782.61.
    vi001 = world["calculations"]["practice"].indicators.get(indicator__code="VI001")
    assert (vi001.amount, vi001.amount_at_stake) == (Decimal("2803.14"), Decimal("1979.47"))
    assert rows["VI001"].not_earned == "£1,979.47"  # the other two reached it, or have no patients
    total = ours.filter(indicator__kind=IndicatorKind.FRACTION).aggregate(lost=Sum("amount_at_stake"))["lost"]
    assert response.context["report"].total_not_earned == money(total)
    assert response.context["report"].provider_count == 3


def test_indicators_are_ranked_by_pounds_not_earned(client, world):
    client.force_login(world["commissioner"])
    rows = client.get(URL).context["report"].rows
    lost = [Decimal(row.not_earned.replace("£", "").replace(",", "")) for row in rows]
    assert lost == sorted(lost, reverse=True)
    assert [row.rank for row in rows] == [1, 2]


def test_providers_are_counted_in_the_band_their_stored_result_is_in(client, world):
    client.force_login(world["commissioner"])
    rows = _rows(client.get(URL))
    # VI001: 93.10% some points; 100% all; no denominator apart.
    assert (rows["VI001"].no_points, rows["VI001"].some_points, rows["VI001"].reached) == (0, 1, 1)
    assert rows["VI001"].no_denominator == 1
    # AF006: 75% some; 30% (at or below 40%) none; 95% all.
    assert (rows["AF006"].no_points, rows["AF006"].some_points, rows["AF006"].reached) == (1, 1, 1)
    assert rows["AF006"].no_denominator == 0


def test_another_icbs_providers_are_never_counted_or_listed(client, world):
    client.force_login(world["commissioner"])
    page = client.get(URL).content.decode()
    assert "Other Surgery" not in page
    page = client.get(_indicator_url(world, "VI001")).content.decode()
    assert "Other Surgery" not in page and "The Densham Surgery" in page
    client.force_login(world["other_commissioner"])
    rows = _rows(client.get(URL))
    assert rows["VI001"].some_points + rows["VI001"].reached + rows["VI001"].no_points == 1


@pytest.mark.parametrize("param", ["commissioner", "achievement_date", "indicator"])
def test_another_organisations_id_in_the_url_is_not_found(client, world, param):
    other = {
        "commissioner": world["other_icb"].pk,
        "achievement_date": AchievementDate.objects.get(service=world["qof"], date=FEBRUARY).pk,
        "indicator": world["last_qof"].indicators.get(code="VI001").pk,  # another service's indicator
    }[param]
    client.force_login(world["commissioner"])
    assert client.get(_indicator_url(world, "VI001", **{param: other})).status_code == 404
    if param != "indicator":
        assert client.get(f"{URL}?{param}={other}").status_code == 404


def test_a_provider_or_a_view_role_cannot_open_it(client, world):
    for user in ("declarer", "viewer"):
        client.force_login(world[user])
        assert client.get(URL).status_code == 403
        assert client.get(_indicator_url(world, "VI001")).status_code == 403


def test_the_providers_furthest_from_the_upper_threshold_come_first_and_link_to_their_results(client, world):
    client.force_login(world["commissioner"])
    response = client.get(_indicator_url(world, "AF006"))
    assert response.status_code == 200
    rows = response.context["report"].rows
    assert [(r.rank, r.ods_code, r.achievement) for r in rows] == [
        (1, "A81017", "30.00%"), (2, "A81001", "75.00%"), (3, "A81025", "95.00%")
    ]
    stored = world["calculations"]["practice2"].indicators.get(indicator__code="AF006")
    assert rows[0].not_earned == money(stored.amount_at_stake)
    assert rows[2].gap == "Reached" and rows[2].patients_to_upper == "0"
    results_url = reverse("declarations:achievement_results", args=[world["calculations"]["practice2"].achievement_id])
    assert rows[0].results_url == results_url
    assert f'href="{results_url}"' in response.content.decode()
    vi001 = client.get(_indicator_url(world, "VI001")).context["report"].rows
    assert [(r.rank, r.ods_code) for r in vi001][-1] == (None, "A81025")  # no patients: last, unranked


def test_the_histogram_counts_every_provider_with_patients(client, world):
    client.force_login(world["commissioner"])
    report = client.get(_indicator_url(world, "AF006")).context["report"]
    assert {b.label: b.count for b in report.bins if b.count} == {"30% to 35%": 1, "75% to 80%": 1, "95% to 100%": 1}
    assert [t.label for t in report.histogram.thresholds] == ["Lower 40%", "Upper 90%"]


def test_the_charts_are_labelled_images_without_inline_style(client, world):
    client.force_login(world["commissioner"])
    for url in (URL, _indicator_url(world, "VI001")):
        page = client.get(url).content.decode()
        svgs = re.findall(r"<svg class=\"cqrs-chart\"[^>]*>", page)
        assert svgs
        for svg in svgs:
            assert 'role="img"' in svg
            title_id, desc_id = re.search(r'aria-labelledby="([^" ]+) ([^"]+)"', svg).groups()
            assert f'<title id="{title_id}">' in page and f'<desc id="{desc_id}">' in page
        assert " style=" not in page
        assert "css/charts.css" in page
        assert "<caption" in page  # the same figures in a table


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_queries_do_not_grow_with_the_number_of_providers(client, world):
    client.force_login(world["commissioner"])
    urls = (URL, _indicator_url(world, "VI001"))
    before = [_queries(client, url) for url in urls]
    add_practices(world["icb"], world["pcn"], world["qof"], 12)
    after = [_queries(client, url) for url in urls]
    assert after == before
    assert client.get(URL).context["report"].provider_count == 15


def test_without_money_the_report_holds_no_pounds_and_ranks_by_points_not_earned(world):
    from reports.insights import presenters, selectors

    date = _date(world["qof"])
    summaries = selectors.indicator_summary_list(commissioner=world["icb"], achievement_date=date)
    report = presenters.money_lost_report(
        summaries=summaries, commissioner_id=world["icb"].pk, achievement_date=date, provider_count=3, show_money=False
    )
    assert report.total_not_earned is None and report.total_earned is None
    assert all(row.not_earned is None and row.earned is None for row in report.rows)
    lost = [Decimal(row.points_not_earned) for row in report.rows]
    assert lost == sorted(lost, reverse=True)
    assert all("£" not in bar.value_text for bar in report.ranked_chart.bars)
