"""Achievement Results (issue 14 §5): an indicator whose data have not been submitted reads as
missing, never as "no patients in the denominator"; a value the Commissioning Organisation
entered says so on its row."""

import pytest
from django.urls import reverse

from accounts.models import Role
from achievement.models import CommissionerEntry
from declarations import services
from declarations.presenters import NOT_EARNABLE, NOT_SUBMITTED
from participation.models import Indicator
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, member

from .factories import qof_2425, submit_values
from .test_calculation import PRACTICE_VALUES

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    icb = ICBFactory(ods_code="QHM")
    pcn = PCNFactory(ods_code="U89141", commissioner=icb)
    practice = PracticeFactory(ods_code="A81001", pcn=pcn, commissioner=icb)
    return {"icb": icb, "practice": practice, "qof": qof_2425()}


def rows_of(client, achievement):
    response = client.get(reverse("declarations:achievement_results", args=[achievement.pk]))
    assert response.status_code == 200
    rows = {row.code: row for group in response.context["results"].groups for row in group.rows}
    return rows, response.content.decode()


def test_an_indicator_not_submitted_reads_as_missing_not_as_not_earnable(world, client_for):
    values = {code: fields for code, fields in PRACTICE_VALUES.items() if code not in ("AF006", "QI013", "VI900")}
    achievement = submit_values(world["practice"], world["qof"], values, list_size=12_000)
    services.calculation_recalculate(achievement_id=achievement.pk)

    rows, page = rows_of(client_for(member(world["practice"], Role.FINANCE_VIEW)), achievement)

    assert rows["AF006"].not_submitted and not rows["AF006"].not_earnable
    assert rows["AF006"].achievement_shown == NOT_SUBMITTED
    assert rows["QI013"].not_submitted and rows["QI013"].answer is None  # not "No"
    assert rows["QI013"].achievement_shown == NOT_SUBMITTED
    assert rows["VI900"].achievement_shown == NOT_SUBMITTED
    assert not rows["VI001"].not_submitted
    assert NOT_SUBMITTED in page and NOT_EARNABLE not in page


def test_a_zero_denominator_is_still_not_earnable(world, client_for):
    values = {**PRACTICE_VALUES, "AF006": {"Numerator": 0, "Denominator": 0}}
    achievement = submit_values(world["practice"], world["qof"], values, list_size=12_000)
    services.calculation_recalculate(achievement_id=achievement.pk)

    rows, _ = rows_of(client_for(member(world["practice"], Role.FINANCE_VIEW)), achievement)

    assert rows["AF006"].not_earnable and not rows["AF006"].not_submitted
    assert rows["AF006"].achievement_shown == NOT_EARNABLE


def test_a_commissioning_organisation_entry_is_marked_on_its_row(world, client_for):
    achievement = submit_values(world["practice"], world["qof"], PRACTICE_VALUES, list_size=12_000)
    services.calculation_recalculate(achievement_id=achievement.pk)
    submission = achievement.submissions.get(is_current=True)
    CommissionerEntry.objects.create(
        achievement=achievement, indicator=Indicator.objects.get(service=world["qof"], code="AF006"),
        field_name="Numerator", value=150, submission=submission,
    )
    # A value the current submission no longer holds is no longer the commissioner's.
    CommissionerEntry.objects.create(
        achievement=achievement, indicator=Indicator.objects.get(service=world["qof"], code="VI001"),
        field_name="Numerator", value=99, submission=submission,
    )

    rows, page = rows_of(client_for(member(world["icb"], Role.APPROVAL_MANAGEMENT)), achievement)

    assert rows["AF006"].source_label == "Commissioning Organisation entry (Numerator)"
    assert rows["VI001"].source_label == ""
    assert 'data-testid="commissioner-entry"' in page


def test_the_declarations_page_names_a_commissioning_organisation_entry_too(world, client_for):
    achievement = submit_values(world["practice"], world["qof"], PRACTICE_VALUES, list_size=12_000)
    services.calculation_recalculate(achievement_id=achievement.pk)
    CommissionerEntry.objects.create(
        achievement=achievement, indicator=Indicator.objects.get(service=world["qof"], code="AF006"),
        field_name="Numerator", value=150, submission=achievement.submissions.get(is_current=True),
    )
    declaration = achievement.declaration

    response = client_for(member(world["icb"], Role.APPROVAL_MANAGEMENT)).get(
        reverse("declarations:declaration_detail", args=[declaration.pk])
    )

    assert response.status_code == 200
    rows = {row.code: row for group in response.context["results"].groups for row in group.rows}
    assert rows["AF006"].source_label == "Commissioning Organisation entry (Numerator)"
