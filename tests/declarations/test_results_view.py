"""Achievement Results (Achievement tab): per indicator, achievement against the thresholds, points,
£ for the roles that may see money, patients and £ to the upper threshold; scoped; fixed queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from declarations import services
from participation.models import Indicator, IndicatorGroup
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, member

from .factories import indicator, qof_2425, submit_values
from .test_calculation import PRACTICE_VALUES

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    icb = ICBFactory(ods_code="QHM")
    pcn = PCNFactory(ods_code="U89141", commissioner=icb)
    practice = PracticeFactory(ods_code="A81001", pcn=pcn, commissioner=icb)
    qof = qof_2425()
    achievement = submit_values(practice, qof, PRACTICE_VALUES, list_size=12_000)
    services.calculation_recalculate(achievement_id=achievement.pk)
    return {"icb": icb, "pcn": pcn, "practice": practice, "qof": qof, "achievement": achievement}


def results_url(achievement) -> str:
    return reverse("declarations:achievement_results", args=[achievement.pk])


@pytest.mark.parametrize(
    "where, role",
    [
        ("practice", Role.DECLARATION_MANAGEMENT),
        ("practice", Role.FINANCE_VIEW),
        ("icb", Role.APPROVAL_MANAGEMENT),
        ("icb", Role.FINANCE_MANAGEMENT),
    ],
)
def test_roles_that_may_see_money_see_points_and_pounds(world, client_for, where, role):
    user = member(world[where], role)

    response = client_for(user).get(results_url(world["achievement"]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Provisional" in page
    assert "10.55 of 18.00" in page  # VI001 points
    assert "93.10%" in page and "89% to 96%" in page
    assert "£2,803.14" in page  # VI001, the worked example
    assert "£1,979.47" in page  # VI001 at stake: 4 more patients reach 96%
    assert "£17,018.78" in page  # the total
    assert 'role="img"' in page and "against a lower threshold of 89%" in page


# Not a PCN's user: a PCN sees its members' contributions to its services only (test_pcn_results_scope).
@pytest.mark.parametrize("where, role", [("practice", Role.VIEW)])
def test_view_sees_points_only(world, client_for, where, role):
    user = member(world[where], role)

    response = client_for(user).get(results_url(world["achievement"]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "10.55 of 18.00" in page and "60.95 of" in page
    assert "£" not in page
    assert "2,803.14" not in page and "17,018.78" not in page and "1,979.47" not in page
    assert response.context["results"].total_amount is None


def test_an_achievement_of_an_organisation_the_user_cannot_see_is_not_found(world, client_for):
    other_practice = member(PracticeFactory(ods_code="B82001"), Role.DECLARATION_MANAGEMENT)
    other_icb = member(ICBFactory(ods_code="QOX"), Role.APPROVAL_MANAGEMENT)
    other_pcn = member(PCNFactory(ods_code="U00002", commissioner=world["icb"]), Role.ACHIEVEMENT_ENTRY)

    for user in (other_practice, other_icb, other_pcn):
        assert client_for(user).get(results_url(world["achievement"])).status_code == 404


def test_an_unknown_achievement_is_not_found(world, client_for):
    user = member(world["practice"], Role.VIEW)

    assert (
        client_for(user).get(reverse("declarations:achievement_results", args=[999_999])).status_code == 404
    )


def test_users_without_a_results_role_are_refused(world, client_for):
    user = member(world["practice"], Role.SERVICE_MANAGEMENT)

    assert client_for(user).get(reverse("declarations:results")).status_code == 403


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_results_page_makes_a_fixed_number_of_queries_whatever_the_number_of_indicators(
    world, client_for
):
    client = client_for(member(world["practice"], Role.DECLARATION_MANAGEMENT))
    url = results_url(world["achievement"])
    client.get(url)  # warm the session and caches
    before = _queries(client, url)

    qof = world["qof"]
    group = IndicatorGroup.objects.get(service=qof, code="VI")
    values = dict(PRACTICE_VALUES)
    for n in range(30):
        indicator(qof, group, f"VI{100 + n}", "fraction", points=3, lower=40, upper=80, position=10 + n)
        values[f"VI{100 + n}"] = {"Numerator": 50 + n, "Denominator": 100}
    submit_values(world["practice"], qof, values)
    services.calculation_recalculate(achievement_id=world["achievement"].pk)
    assert Indicator.objects.filter(service=qof).count() == 35

    assert _queries(client, url) == before


def test_the_list_shows_the_achievements_the_user_may_see_with_their_totals(world, client_for):
    hidden = submit_values(
        PracticeFactory(ods_code="B82001"), world["qof"], PRACTICE_VALUES, list_size=12_000
    )
    services.calculation_recalculate(achievement_id=hidden.pk)
    user = member(world["icb"], Role.APPROVAL_MANAGEMENT)

    response = client_for(user).get(
        reverse("declarations:results"), {"financial_year": world["qof"].financial_year_id}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "A81001" in page and "B82001" not in page
    assert "£17,018.78" in page and "Provisional" in page
    assert results_url(world["achievement"]) in page


def test_the_list_shows_no_pounds_to_view(world, client_for):
    user = member(world["practice"], Role.VIEW)

    page = (
        client_for(user).get(reverse("declarations:results"), {"service": world["qof"].pk}).content.decode()
    )

    assert "60.95" in page and "£" not in page


def test_the_achievement_tab_links_to_achievement_results(world, client_for):
    user = member(world["practice"], Role.VIEW)

    page = client_for(user).get(reverse("declarations:results")).content.decode()

    assert f'href="{reverse("declarations:results")}"' in page
    assert "Achievement Results" in page


def test_a_not_earnable_indicator_and_a_count_are_shown_without_a_chart(world, client_for):
    values = {**PRACTICE_VALUES, "AF006": {"Numerator": 0, "Denominator": 0}}
    submit_values(world["practice"], world["qof"], values)
    services.calculation_recalculate(achievement_id=world["achievement"].pk)
    user = member(world["practice"], Role.FINANCE_VIEW)

    response = client_for(user).get(results_url(world["achievement"]))

    rows = {row.code: row for group in response.context["results"].groups for row in group.rows}
    assert rows["AF006"].not_earnable and rows["AF006"].chart is None
    assert rows["VI900"].value == 42 and rows["VI900"].chart is None
    assert rows["QI013"].answer == "Yes"
    assert rows["VI001"].chart.reached == "between"
    assert Decimal(rows["VI001"].chart.lower_x) == Decimal("178.0")
    assert "Not earnable" in response.content.decode()


def test_a_financially_approved_result_shows_no_money_still_at_stake(world, client_for):
    from declarations.models import Calculation

    user = member(world["practice"], Role.DECLARATION_MANAGEMENT)
    page = client_for(user).get(results_url(world["achievement"])).content.decode()
    assert "Still at stake" in page  # provisional: what more achievement would earn
    Calculation.objects.filter(achievement=world["achievement"]).update(is_provisional=False)
    page = client_for(user).get(results_url(world["achievement"])).content.decode()
    assert "Still at stake" not in page and "Still to achieve" not in page and "financially approved" in page


def test_a_non_payment_dates_amount_does_not_read_as_a_payment(world, client_for):
    from participation.models import AchievementDate

    user = member(world["practice"], Role.DECLARATION_MANAGEMENT)
    page = client_for(user).get(results_url(world["achievement"])).content.decode()
    assert "Total payment" in page and "Achievement value to date" not in page  # 31 March: a payment date
    AchievementDate.objects.filter(pk=world["achievement"].achievement_date_id).update(is_payment_date=False)
    page = client_for(user).get(results_url(world["achievement"])).content.decode()
    assert "Total payment" not in page and "Achievement value to date" in page and "is not a payment date" in page
