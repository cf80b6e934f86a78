"""PCN membership over time (docs/adr/0020): memberships with start and end dates, moves recorded
by a commissioner on a practice's page (authorised per object, audited) and by load_organisations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts import pcn_membership
from accounts.errors import Invalid, NotAllowed, NotFound
from accounts.loaders import OrganisationFileError, file_date, organisations_load
from accounts.models import AuditEvent, Organisation, PcnMembership, Role
from tests.accounts.test_load_organisations import FIXTURE, fixture_rows, write_csv
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, member

pytestmark = pytest.mark.django_db

APRIL = dt.date(2025, 4, 1)


@pytest.fixture
def orgs():
    icb = ICBFactory(ods_code="QHM", name="North East ICB")
    other_icb = ICBFactory(ods_code="QZZ", name="Other ICB")
    pcn = PCNFactory(ods_code="U89141", name="Stockton PCN", commissioner=icb)
    pcn2 = PCNFactory(ods_code="U07032", name="North Stockton PCN", commissioner=icb)
    far_pcn = PCNFactory(ods_code="U99999", name="Far PCN", commissioner=other_icb)
    practice = PracticeFactory(ods_code="A81001", name="The Densham Surgery", pcn=pcn, commissioner=icb)
    return {"icb": icb, "other_icb": other_icb, "pcn": pcn, "pcn2": pcn2, "far_pcn": far_pcn, "practice": practice}


@pytest.fixture
def commissioner(orgs):
    return member(orgs["icb"], Role.COMMISSIONING_MANAGEMENT, email="cm@example.nhs.net")


def spans(practice) -> list[tuple]:
    return list(
        PcnMembership.objects.filter(practice=practice).values_list("pcn__ods_code", "start", "end")
    )


# --- the membership on a date -------------------------------------------------------------------


def test_a_practice_with_no_membership_recorded_is_in_its_current_pcn_on_every_date(orgs):
    table = pcn_membership.membership_table(practice_ids=[orgs["practice"].pk])

    assert table.pcn_on(orgs["practice"].pk, dt.date(2020, 1, 1)) == orgs["pcn"].pk
    assert table.members_on(orgs["pcn"].pk, dt.date(2030, 1, 1)) == [orgs["practice"].pk]


def test_a_move_ends_the_membership_the_day_before_and_starts_the_new_one_on_the_date(orgs):
    practice = orgs["practice"]

    moves = pcn_membership.record_moves(wanted={practice.pk: orgs["pcn2"].pk}, effective=APRIL)

    assert moves == [pcn_membership.PcnMove(practice.pk, orgs["pcn"].pk, orgs["pcn2"].pk, APRIL)]
    assert spans(practice) == [("U89141", None, dt.date(2025, 3, 31)), ("U07032", APRIL, None)]
    practice.refresh_from_db()
    assert practice.pcn == orgs["pcn2"]  # the current PCN, kept in step
    table = pcn_membership.membership_table()
    assert table.pcn_on(practice.pk, dt.date(2025, 3, 31)) == orgs["pcn"].pk
    assert table.pcn_on(practice.pk, APRIL) == orgs["pcn2"].pk
    assert table.members_on(orgs["pcn"].pk, APRIL) == []
    assert list(PcnMembership.objects.on(dt.date(2025, 3, 31)).values_list("pcn__ods_code", flat=True)) == ["U89141"]


def test_leaving_and_joining_again(orgs):
    practice = orgs["practice"]
    pcn_membership.record_moves(wanted={practice.pk: None}, effective=APRIL)
    practice.refresh_from_db()
    assert practice.pcn is None
    assert pcn_membership.membership_table().pcn_on(practice.pk, APRIL) is None

    pcn_membership.record_moves(wanted={practice.pk: orgs["pcn"].pk}, effective=dt.date(2025, 7, 1))

    assert spans(practice) == [
        ("U89141", None, dt.date(2025, 3, 31)),
        ("U89141", dt.date(2025, 7, 1), None),
    ]
    table = pcn_membership.membership_table()
    assert table.pcn_on(practice.pk, dt.date(2025, 5, 1)) is None
    assert table.pcn_on(practice.pk, dt.date(2025, 7, 1)) == orgs["pcn"].pk


def test_a_move_not_after_the_current_membership_began_is_refused_and_writes_nothing(orgs):
    practice = orgs["practice"]
    pcn_membership.record_moves(wanted={practice.pk: orgs["pcn2"].pk}, effective=APRIL)
    before = spans(practice)

    with pytest.raises(pcn_membership.MovesRefused, match="after The Densham Surgery joined its current PCN"):
        pcn_membership.record_moves(wanted={practice.pk: orgs["pcn"].pk}, effective=APRIL)

    assert spans(practice) == before


def test_a_move_in_the_future_is_refused(orgs, client, commissioner):
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(pcn_membership.MovesRefused, match="is in the future"):
        pcn_membership.record_moves(wanted={orgs["practice"].pk: orgs["pcn2"].pk}, effective=tomorrow)
    client.force_login(commissioner)
    response = client.post(
        reverse("practice_pcn_move", args=["A81001"]),
        {"pcn": str(orgs["pcn2"].pk), "effective_day": str(tomorrow.day), "effective_month": str(tomorrow.month),
         "effective_year": str(tomorrow.year)},
    )
    assert "Date of the move must be the same as or before" in response.content.decode()
    assert not PcnMembership.objects.exists()


def test_a_practice_already_in_the_pcn_does_not_move(orgs):
    assert pcn_membership.record_moves(wanted={orgs["practice"].pk: orgs["pcn"].pk}, effective=APRIL) == []
    assert not PcnMembership.objects.exists()


def test_the_database_keeps_one_open_membership_per_practice(orgs):
    from django.db import IntegrityError, transaction

    PcnMembership.objects.create(practice=orgs["practice"], pcn=orgs["pcn"])
    with pytest.raises(IntegrityError), transaction.atomic():
        PcnMembership.objects.create(practice=orgs["practice"], pcn=orgs["pcn2"], start=APRIL)
    with pytest.raises(IntegrityError), transaction.atomic():
        PcnMembership.objects.create(practice=orgs["practice"], pcn=orgs["pcn2"], start=APRIL, end=dt.date(2025, 3, 1))


def test_the_membership_changes_after_a_declaration_are_found(orgs):
    before = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    pcn_membership.record_moves(wanted={orgs["practice"].pk: orgs["pcn2"].pk}, effective=APRIL)
    pcn, pcn2 = orgs["pcn"].pk, orgs["pcn2"].pk
    payments = [
        (pcn, dt.date(2025, 3, 31), before),  # left on 01/04: 31/03 is still its
        (pcn, dt.date(2025, 4, 30), before),
        (pcn2, dt.date(2025, 4, 30), before),
        (pcn2, dt.date(2025, 3, 31), before),
    ]

    assert pcn_membership.memberships_changed_after(payments=payments) == {payments[1], payments[2]}
    later = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
    assert pcn_membership.memberships_changed_after(payments=[(pcn2, dt.date(2025, 4, 30), later)]) == set()


def test_the_data_migration_opens_one_membership_per_practice_in_a_pcn(orgs):
    from django.apps import apps as django_apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    PracticeFactory(ods_code="A81003", name="No PCN Surgery", pcn=None, commissioner=orgs["icb"])
    (open_memberships,) = [
        operation
        for operation in MigrationLoader(connection).get_migration("accounts", "0004_pcn_membership").operations
        if hasattr(operation, "code")
    ]

    open_memberships.code(django_apps, None)

    assert spans(orgs["practice"]) == [("U89141", None, None)]
    assert PcnMembership.objects.count() == 1  # not for the practice in no PCN


# --- a commissioner records a move --------------------------------------------------------------


def test_a_commissioner_records_a_move_audited(orgs, commissioner):
    move = pcn_membership.practice_pcn_move(
        user=commissioner, practice_id=orgs["practice"].pk, pcn_id=orgs["pcn2"].pk, effective=APRIL
    )

    assert move.to_pcn_id == orgs["pcn2"].pk
    event = AuditEvent.objects.get(action="practice_pcn_moved")
    assert event.actor == commissioner and event.organisation == orgs["practice"]
    assert event.detail == {"practice": "A81001", "from_pcn": "U89141", "to_pcn": "U07032", "effective": "2025-04-01"}
    created = PcnMembership.objects.get(start=APRIL)
    assert created.created_by == commissioner
    assert PcnMembership.objects.get(end=dt.date(2025, 3, 31)).ended_by == commissioner


def test_only_the_practices_commissioning_management_records_a_move(orgs):
    practice_user = member(orgs["practice"], *Role, email="practice@example.nhs.net")
    approver = member(orgs["icb"], Role.APPROVAL_MANAGEMENT, email="approver@example.nhs.net")
    outsider = member(orgs["other_icb"], Role.COMMISSIONING_MANAGEMENT, email="other@example.nhs.net")
    kwargs = {"practice_id": orgs["practice"].pk, "pcn_id": orgs["pcn2"].pk, "effective": APRIL}

    for user in (practice_user, approver):
        with pytest.raises(NotAllowed):
            pcn_membership.practice_pcn_move(user=user, **kwargs)
    with pytest.raises(NotFound):
        pcn_membership.practice_pcn_move(user=outsider, **kwargs)
    assert not PcnMembership.objects.exists()
    assert not AuditEvent.objects.filter(action="practice_pcn_moved").exists()


def test_a_move_to_a_pcn_another_icb_commissions_or_to_the_same_pcn_is_refused(orgs, commissioner):
    practice = orgs["practice"]
    with pytest.raises(Invalid, match="Select a Primary Care Network your organisation commissions"):
        pcn_membership.practice_pcn_move(user=commissioner, practice_id=practice.pk, pcn_id=orgs["far_pcn"].pk, effective=APRIL)
    with pytest.raises(Invalid, match="already in Stockton PCN"):
        pcn_membership.practice_pcn_move(user=commissioner, practice_id=practice.pk, pcn_id=orgs["pcn"].pk, effective=APRIL)
    assert not PcnMembership.objects.exists()


def test_the_practice_page_shows_the_membership_and_the_move_form_to_the_commissioner(client, orgs, commissioner):
    practice_user = member(orgs["practice"], Role.VIEW, email="viewer@example.nhs.net")
    client.force_login(commissioner)
    page = client.get(reverse("organisation_detail", args=["A81001"])).content.decode()
    assert "PCN membership" in page and "Record a PCN move" in page

    response = client.post(
        reverse("practice_pcn_move", args=["A81001"]),
        {"pcn": str(orgs["pcn2"].pk), "effective_day": "1", "effective_month": "4", "effective_year": "2025"},
    )

    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "The Densham Surgery moved PCN from 01/04/2025" in page
    assert "North Stockton PCN (U07032)" in page and "31/03/2025" in page
    client.force_login(practice_user)
    page = client.get(reverse("organisation_detail", args=["A81001"])).content.decode()
    assert "PCN membership" in page and "Record a PCN move" not in page
    assert client.get(reverse("practice_pcn_move", args=["A81001"])).status_code == 403


def test_a_move_form_without_a_date_changes_nothing(client, orgs, commissioner):
    client.force_login(commissioner)
    response = client.post(reverse("practice_pcn_move", args=["A81001"]), {"pcn": str(orgs["pcn2"].pk)})

    assert response.status_code == 200
    assert "Enter date of the move" in response.content.decode()
    assert not PcnMembership.objects.exists()


def test_the_move_form_refusal_is_shown_on_the_page(client, orgs, commissioner):
    pcn_membership.record_moves(wanted={orgs["practice"].pk: orgs["pcn2"].pk}, effective=APRIL)
    client.force_login(commissioner)

    response = client.post(
        reverse("practice_pcn_move", args=["A81001"]),
        {"pcn": str(orgs["pcn"].pk), "effective_day": "1", "effective_month": "3", "effective_year": "2025"},
        follow=True,
    )

    assert "The move must take effect after The Densham Surgery joined its current PCN (01/04/2025)" in (
        response.content.decode()
    )


# --- load_organisations records moves -----------------------------------------------------------


def _later_file(tmp_path, name: str, changes: dict[str, tuple[str, str]]):
    """The fixture file with practices' PCNs changed: {practice: (PCN code, PCN name)}."""
    fieldnames, rows = fixture_rows()
    for row in rows:
        if row["PRACTICE_CODE"] in changes:
            row["PCN_ODS_CODE"], row["PCN_NAME"] = changes[row["PRACTICE_CODE"]]
    return write_csv(tmp_path / name, rows, fieldnames)


def _practice_pcn_pairs() -> list[tuple[str, str]]:
    rows = fixture_rows()[1]
    return [(r["PRACTICE_CODE"], r["PCN_ODS_CODE"]) for r in rows if r["PCN_ODS_CODE"] != "U"]


def test_a_first_load_opens_a_membership_from_a_date_not_recorded_for_each_practice_in_a_pcn():
    organisations_load(path=FIXTURE)

    pairs = _practice_pcn_pairs()
    assert sorted(PcnMembership.objects.values_list("practice__ods_code", "pcn__ods_code")) == sorted(pairs)
    assert not PcnMembership.objects.exclude(start=None).exists()


def test_a_later_file_records_moves_on_the_date_in_its_name(tmp_path):
    organisations_load(path=FIXTURE)
    pairs = _practice_pcn_pairs()
    other, other_pcn = pairs[0]
    mover, old_pcn = next(pair for pair in pairs if pair[1] != other_pcn)
    later = _later_file(tmp_path, "QOF_MANUAL_MAPPINGS_2025-04-01.csv", {mover: (other_pcn, "Whatever PCN"), other: ("U", "Unallocated")})

    result = organisations_load(path=later)

    assert result.effective == APRIL
    assert sorted(result.practices_moved) == sorted([mover, other])
    assert spans(Organisation.objects.get(ods_code=mover)) == [
        (old_pcn, None, dt.date(2025, 3, 31)), (other_pcn, APRIL, None)
    ]
    assert spans(Organisation.objects.get(ods_code=other)) == [(other_pcn, None, dt.date(2025, 3, 31))]
    assert Organisation.objects.get(ods_code=other).pcn is None
    assert AuditEvent.objects.filter(action="organisations_loaded").first().detail["effective"] == "2025-04-01"

    # Loading it again changes nothing (idempotent).
    again = organisations_load(path=later)
    assert again.practices_moved == [] and PcnMembership.objects.count() == len(_practice_pcn_pairs()) + 1


def test_the_effective_option_and_a_refused_move_line_numbered(tmp_path, capsys):
    organisations_load(path=FIXTURE)
    mover, pcn = _practice_pcn_pairs()[0]
    elsewhere = next(code for _, code in _practice_pcn_pairs() if code != pcn)
    first = _later_file(tmp_path, "first.csv", {mover: (elsewhere, "Elsewhere PCN")})
    call_command("load_organisations", str(first), "--effective", "2025-04-01")
    out = capsys.readouterr().out
    assert "practices moved to another PCN: 1, effective 01/04/2025" in out

    back = _later_file(tmp_path, "back.csv", {})  # back to its first PCN, but dated before it joined
    with pytest.raises(OrganisationFileError, match=rf"PRACTICE_CODE {mover}: The move must take effect after"):
        organisations_load(path=back, effective=dt.date(2025, 3, 1))
    assert Organisation.objects.get(ods_code=mover).pcn.ods_code == elsewhere


def test_the_files_date_is_in_its_name_or_the_day_it_was_modified(tmp_path):
    named = tmp_path / "mappings_20250401.csv"
    named.write_text("x")
    assert file_date(named) == APRIL
    plain = tmp_path / "mappings.csv"
    plain.write_text("x")
    assert file_date(plain) == dt.date.today()
