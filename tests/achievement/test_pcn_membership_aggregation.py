"""Network Contract DES aggregation uses the PCN membership on each achievement date, and a move
re-aggregates the PCNs the practice left and joined (docs/adr/0020)."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts import pcn_membership
from accounts.models import ListSize, OrganisationKind, PcnMembership
from achievement import selectors, services
from achievement.models import Achievement, Submission, SubmissionSource
from tests.achievement import factories
from tests.achievement.test_extracts import HEADER, row, write

FEBRUARY, MARCH = dt.date(2024, 2, 29), factories.NCD_DATE


@pytest.fixture
def pcn2(world):
    return factories.organisation("U07032", OrganisationKind.PCN, "North Stockton PCN", commissioner=world["icb"])


def load(path):
    extract = services.extract_receive(path=path)
    return services.extract_load(extract_id=extract.pk)


def ncd_file(tmp_path, name="ncd.csv"):
    """Both practices' CAN-02 on 29/02/2024 and 31/03/2024 (A81001 30/40, A81002 12/20) and list sizes."""
    lines = [HEADER]
    for ach in ("20240229", "20240331"):
        for org, numerator, denominator, size in (("A81001", 30, 40, 10250), ("A81002", 12, 20, 7400)):
            lines += [
                row(service="NCD2324", org=org, ind="CAN-02", field="Numerator", value=str(numerator), ach=ach),
                row(service="NCD2324", org=org, ind="CAN-02", field="Denominator", value=str(denominator), ach=ach),
                row(service="NCD2324", org=org, ind="LISTSIZE", field="Registered Population", value=str(size), ach=ach),
            ]
    return write(tmp_path, "\n".join(lines) + "\n", name)


def pcn_values(pcn, date) -> dict:
    achievement = Achievement.objects.filter(provider=pcn, achievement_date__date=date).first()
    if achievement is None:
        return {}
    return selectors.current_values(achievement_ids=[achievement.pk]).get(achievement.pk, {})


def test_each_date_is_summed_over_the_practices_that_were_members_on_it(ncd, world, pcn2, tmp_path):
    pcn_membership.record_moves(wanted={world["A81002"].pk: pcn2.pk}, effective=dt.date(2024, 3, 1))

    load(ncd_file(tmp_path))

    # February: A81002 was still in Stockton PCN; March: in North Stockton PCN.
    assert pcn_values(world["pcn"], FEBRUARY) == {"CAN-02": {"Numerator": 42, "Denominator": 60}}
    assert pcn_values(world["pcn"], MARCH) == {"CAN-02": {"Numerator": 30, "Denominator": 40}}
    assert pcn_values(pcn2, FEBRUARY) == {}
    assert pcn_values(pcn2, MARCH) == {"CAN-02": {"Numerator": 12, "Denominator": 20}}
    assert selectors.list_size_on(provider_id=world["pcn"].pk, date=MARCH) == 10250
    assert selectors.list_size_on(provider_id=world["pcn"].pk, date=FEBRUARY) == 17650
    assert selectors.list_size_on(provider_id=pcn2.pk, date=MARCH) == 7400


def test_a_move_after_the_load_re_aggregates_both_pcns_and_recalculates_them(ncd, world, pcn2, tmp_path, recalculation):
    load(ncd_file(tmp_path))
    assert pcn_values(world["pcn"], MARCH) == {"CAN-02": {"Numerator": 42, "Denominator": 60}}
    recalculation.calls.clear()

    pcn_membership.record_moves(wanted={world["A81002"].pk: pcn2.pk}, effective=dt.date(2024, 3, 1))

    assert pcn_values(world["pcn"], FEBRUARY) == {"CAN-02": {"Numerator": 42, "Denominator": 60}}  # before the move
    assert pcn_values(world["pcn"], MARCH) == {"CAN-02": {"Numerator": 30, "Denominator": 40}}
    assert pcn_values(pcn2, MARCH) == {"CAN-02": {"Numerator": 12, "Denominator": 20}}
    old_pcn_march = Achievement.objects.get(provider=world["pcn"], achievement_date__date=MARCH)
    new_pcn_march = Achievement.objects.get(provider=pcn2, achievement_date__date=MARCH)
    current = old_pcn_march.submissions.get(is_current=True)
    assert current.source == SubmissionSource.AGGREGATION and current.extract_id is None
    assert current.notes == "Re-aggregated after a change of PCN membership: A81002 from U89141 to U07032 on 01/03/2024."
    assert current.supersedes.get().extract_id is not None  # the extract's aggregation, kept as history
    assert recalculation.achievement_ids == {old_pcn_march.pk, new_pcn_march.pk}
    assert ListSize.objects.get(organisation=world["pcn"], date=MARCH).size == 10250
    assert ListSize.objects.get(organisation=pcn2, date=MARCH).size == 7400


def test_a_move_after_every_achievement_date_changes_no_aggregation(ncd, world, pcn2, tmp_path, recalculation):
    load(ncd_file(tmp_path))
    submissions = Submission.objects.count()
    recalculation.calls.clear()

    pcn_membership.record_moves(wanted={world["A81002"].pk: pcn2.pk}, effective=dt.date(2024, 4, 1))

    assert Submission.objects.count() == submissions
    assert recalculation.calls == []
    assert PcnMembership.objects.filter(practice=world["A81002"]).count() == 2


def test_a_later_extract_after_a_move_keeps_the_membership_of_each_date(ncd, world, pcn2, tmp_path):
    load(ncd_file(tmp_path))
    pcn_membership.record_moves(wanted={world["A81002"].pk: pcn2.pk}, effective=dt.date(2024, 3, 1))

    load(_changed(tmp_path))

    assert pcn_values(world["pcn"], FEBRUARY) == {"CAN-02": {"Numerator": 43, "Denominator": 60}}
    assert pcn_values(pcn2, MARCH) == {"CAN-02": {"Numerator": 12, "Denominator": 20}}


def _changed(tmp_path):
    """A81001's February numerator one higher; A81002's March values again."""
    lines = [
        HEADER,
        row(service="NCD2324", org="A81001", ind="CAN-02", field="Numerator", value="31", ach="20240229"),
        row(service="NCD2324", org="A81001", ind="CAN-02", field="Denominator", value="40", ach="20240229"),
        row(service="NCD2324", org="A81002", ind="CAN-02", field="Numerator", value="12", ach="20240331"),
        row(service="NCD2324", org="A81002", ind="CAN-02", field="Denominator", value="20", ach="20240331"),
    ]
    return write(tmp_path, "\n".join(lines) + "\n", "changed.csv")
