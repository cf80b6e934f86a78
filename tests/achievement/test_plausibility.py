"""Issue 11, section 1: implausible figures cannot make or freeze a payment.

Every value, entered on a form or loaded from a GPES extract, is checked against what it can be
(achievement/plausibility.py): a count not above the provider's list size on the date, nothing
above the service's ceiling (1,000,000,000 overflowed the stored amounts), a Yes/No Flag 1 or 0;
a GPES row of an indicator entered by hand is refused.  Nothing is saved when a check fails."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import ListSize, Role
from achievement import entry_rules, plausibility, selectors, services
from achievement.ingest.catalogue import Catalogue
from achievement.models import Achievement, ExtractStatus, IndicatorValue, Submission
from declarations import engine
from declarations.models import Calculation, Declaration, IndicatorCalculation
from participation.definitions import load_service_definition_file
from participation.models import EntryKind, Indicator, IndicatorGroup
from tests.achievement import factories
from tests.achievement.test_entry_rules import MARCH, achievement_on
from tests.achievement.test_extracts import messages, receive_and_load, row, valid_lines, write
from tests.factories import member

DEFINITIONS = Path(__file__).resolve().parents[2] / "participation" / "service_definitions"
CEILING = "99,999,999"  # the test services' ceiling: MAX_LIST_SIZE (their payments are small)


@pytest.fixture
def practice(world):
    return world["A81001"]


@pytest.fixture
def entry_user(practice):
    return member(practice, Role.ACHIEVEMENT_ENTRY)


@pytest.fixture
def march(world, practice, qof):
    factories.list_sizes(world)  # A81001: 10,250 since 01/04/2023
    return achievement_on(practice, qof, MARCH)


def field_name(achievement, code, field):
    indicator = Indicator.objects.get(service_id=achievement.service_id, code=code)
    return f"new-{indicator.pk}-{entry_rules.indicator_fields(indicator).index(field)}"


def key(service, code, field):
    return (Indicator.objects.get(service=service, code=code).pk, field)


def post(client, achievement, values: dict[tuple[str, str], str], group="AF"):
    group_id = IndicatorGroup.objects.get(service_id=achievement.service_id, code=group).pk
    data = {"action": "submit", **{field_name(achievement, c, f): v for (c, f), v in values.items()}}
    return client.post(reverse("achievement:group_detail", args=[achievement.pk, group_id]), data)


def field_error(response, achievement, code, field) -> str:
    """The error shown at the field (the form's), as text."""
    form = response.context["form"]
    return " ".join(form.errors.get(field_name(achievement, code, field), []))


# --- the ceiling: from the stored field sizes --------------------------------------------------


def test_the_ceiling_restates_the_stored_field_sizes():
    for model, name in ((Calculation, "cpi"), (IndicatorCalculation, "apdf")):
        column = model._meta.get_field(name)
        assert 10 ** (column.max_digits - column.decimal_places) == plausibility.MAX_DECIMAL_20_12
    for model, name in ((Calculation, "total_amount"), (IndicatorCalculation, "amount"), (Declaration, "amount_declared")):
        column = model._meta.get_field(name)
        largest = Decimal(10 ** (column.max_digits - column.decimal_places)) - Decimal(1).scaleb(-column.decimal_places)
        assert largest == plausibility.MAX_AMOUNT
    assert plausibility.MAX_LIST_SIZE == 99_999_999


@pytest.mark.parametrize("name", sorted(p.name for p in DEFINITIONS.glob("*.yaml")))
def test_a_payment_at_a_shipped_services_ceiling_fits_every_stored_column(name):
    """Every count at the ceiling (list size, registers, Numerators and Denominators), every
    Yes: the engine's figures fit their columns; 1,000,000,000 is above every ceiling."""
    service = load_service_definition_file(DEFINITIONS / name)
    figures = [
        plausibility.RuleFigures(i.kind, i.points, i.national_prevalence or g.national_prevalence, i.rate)
        for d in service.domains for g in d.groups for i in g.indicators
    ]
    ceiling = plausibility.service_ceiling(
        value_per_point=service.value_per_point, average_list_size=service.average_list_size, indicators=figures
    )
    assert ceiling < 1_000_000_000
    context = engine.ProviderContext(
        list_size=ceiling,
        value_per_point=service.value_per_point,
        average_list_size=service.average_list_size,
        group_registers={g.code: ceiling for d in service.domains for g in d.groups},
    )
    pairs = [
        (
            engine.rule_from_definition(i, g),
            engine.IndicatorValues(numerator=ceiling, denominator=ceiling, register=ceiling, yes=True, value=ceiling)
            if i.kind == "fraction"
            else engine.IndicatorValues(register=ceiling) if i.kind == "register"
            else engine.IndicatorValues(value=ceiling) if i.kind == "count"
            else engine.IndicatorValues(yes=True),
        )
        for d in service.domains for g in d.groups for i in g.indicators
    ]
    result = engine.payment_calculate(indicators=pairs, context=context)
    assert result.total_amount <= plausibility.MAX_AMOUNT
    for indicator in result.indicators:
        assert indicator.apdf is None or indicator.apdf < plausibility.MAX_DECIMAL_20_12
        assert indicator.cpi is None or indicator.cpi < plausibility.MAX_DECIMAL_20_12
        assert indicator.patients_to_upper is None or indicator.patients_to_upper <= plausibility.MAX_POSITIVE_INTEGER


# --- on the form (Record Achievement) ------------------------------------------------------------


def test_a_value_of_1_000_000_000_is_refused_at_its_field_and_nothing_is_saved(client_for, entry_user, march, recalculation):
    response = post(client_for(entry_user), march, {("AF001", "Atrial Fibrillation Register"): "1000000000"})

    assert response.status_code == 200
    assert f"AF001 Atrial Fibrillation Register is too large: no value or list size can be above {CEILING}" in (
        field_error(response, march, "AF001", "Atrial Fibrillation Register")
    )
    assert not Submission.objects.exists()
    assert recalculation.calls == []


def test_a_value_of_1_000_000_000_is_refused_by_the_service_too(entry_user, march, qof):
    with pytest.raises(services.AchievementEntryError, match="too large"):
        services.achievement_values_save(
            user=entry_user, achievement_id=march.pk, group_id=Indicator.objects.get(service=qof, code="AF001").group_id,
            values={key(qof, "AF001", "Atrial Fibrillation Register"): 1_000_000_000}, submit=True,
        )
    assert not Submission.objects.exists()


def test_a_denominator_above_the_list_size_is_refused_at_its_field(client_for, entry_user, march):
    response = post(client_for(entry_user), march, {("AF006", "Numerator"): "10", ("AF006", "Denominator"): "10251"})

    assert field_error(response, march, "AF006", "Denominator") == (
        "AF006 Denominator (10,251) must not be above the registered list size of The Densham Surgery (A81001) "
        "on 31/03/2024 (10,250)"
    )
    assert not Submission.objects.exists()


def test_a_register_or_count_above_the_list_size_is_refused_and_at_it_accepted(client_for, entry_user, march):
    client = client_for(entry_user)
    response = post(client, march, {("AF001", "Atrial Fibrillation Register"): "10251", ("AF006", "AFIBPCADEC"): "10251"})
    assert "must not be above the registered list size" in field_error(response, march, "AF001", "Atrial Fibrillation Register")
    assert "must not be above the registered list size" in field_error(response, march, "AF006", "AFIBPCADEC")
    assert not Submission.objects.exists()

    response = post(client, march, {("AF001", "Atrial Fibrillation Register"): "10250"})
    assert response.status_code == 302
    assert Submission.objects.get(is_current=True).values.get(field_name="Atrial Fibrillation Register").value == 10_250


def test_the_list_size_on_the_date_is_the_latest_recorded_on_or_before_it(client_for, entry_user, march, practice):
    ListSize.objects.create(organisation=practice, date=dt.date(2024, 3, 31), size=9_000)

    response = post(client_for(entry_user), march, {("AF001", "Atrial Fibrillation Register"): "9001"})

    assert "(9,000)" in field_error(response, march, "AF001", "Atrial Fibrillation Register")


def test_without_a_list_size_the_form_says_what_is_missing_instead_of_guessing(client_for, entry_user, march):
    ListSize.objects.all().delete()

    response = post(client_for(entry_user), march, {("AF001", "Atrial Fibrillation Register"): "12"})

    assert " ".join(response.context["form"].non_field_errors()).startswith(
        "The registered list size of The Densham Surgery (A81001) on 31/03/2024 is not known yet"
    )
    assert "is not known yet" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_yes_no_flag_is_yes_or_no_only(client_for, entry_user, march, qof):
    response = post(client_for(entry_user), march, {("QI013", "Yes/No Flag"): "137"})
    assert "Select a valid choice" in field_error(response, march, "QI013", "Yes/No Flag")

    with pytest.raises(services.AchievementEntryError, match=r"QI013 Yes/No Flag must be Yes \(1\) or No \(0\)"):
        services.achievement_values_save(
            user=entry_user, achievement_id=march.pk, group_id=Indicator.objects.get(service=qof, code="QI013").group_id,
            values={key(qof, "QI013", "Yes/No Flag"): 137}, submit=True,
        )
    assert not Submission.objects.exists()


# --- a PCN: its list size is the sum of its practices' -------------------------------------------


@pytest.fixture
def pcn_march(world, ncd):
    factories.list_sizes(world)  # 10,250 + 7,400 (+ A81003, in no PCN)
    return achievement_on(world["pcn"], ncd, MARCH)


def _pcn_save(world, achievement, ncd, denominator):
    user = member(world["pcn"], Role.ACHIEVEMENT_ENTRY)
    return services.achievement_values_save(
        user=user, achievement_id=achievement.pk, group_id=Indicator.objects.get(service=ncd, code="CAN-02").group_id,
        values={key(ncd, "CAN-02", "Numerator"): denominator, key(ncd, "CAN-02", "Denominator"): denominator},
        submit=True,
    )


def test_a_pcn_denominator_above_the_sum_of_its_practices_list_sizes_is_refused(world, ncd, pcn_march):
    assert selectors.entry_list_size(provider=world["pcn"], date=factories.NCD_DATE) == 17_650
    with pytest.raises(services.AchievementEntryError, match=r"Stockton PCN \(U89141\) on 31/03/2024 \(17,650\)"):
        _pcn_save(world, pcn_march, ncd, 17_651)
    with pytest.raises(services.AchievementEntryError, match="too large"):
        _pcn_save(world, pcn_march, ncd, 1_000_000_000)
    assert not Submission.objects.exists()

    _pcn_save(world, pcn_march, ncd, 17_650)
    assert Submission.objects.filter(achievement=pcn_march, is_current=True).exists()


def test_a_pcns_own_list_size_stands_before_the_sum(world, ncd, pcn_march):
    ListSize.objects.create(organisation=world["pcn"], date=factories.NCD_DATE, size=15_000)
    with pytest.raises(services.AchievementEntryError, match=r"\(15,000\)"):
        _pcn_save(world, pcn_march, ncd, 15_001)


# --- in a GPES extract ---------------------------------------------------------------------------
# qof_valid.csv: A81001 on lines 2-7 (AF001 register 120, AF006 90/110 and two PCA counts, LISTSIZE
# 10,250 on line 7), A81002 on lines 8-13 (LISTSIZE 7,400 on line 13).


def _replace(lines, number, text):
    lines = list(lines)
    lines[number - 1] = text
    return lines


def _without(lines, number):
    return [line for i, line in enumerate(lines, start=1) if i != number]


REGISTER = {"ind": "AF001", "field": "Atrial Fibrillation Register"}
NOT_KNOWN = (
    "A81001 on 20240331: the registered list size is not known: the file has no LISTSIZE row for it and none is "
    "recorded, so its values cannot be checked against it."
)
EXTRACT_RULES = {
    "a value of 1,000,000,000": (
        lambda ls: _replace(ls, 2, row(**REGISTER, value="1000000000")),
        [(2, f"A81001 AF001 Atrial Fibrillation Register on 20240331: 1,000,000,000 is too large: no value or list "
             f"size can be above {CEILING}.")],
    ),
    "a list size of 1,000,000,000": (
        lambda ls: _replace(ls, 7, row(ind="LISTSIZE", field="Registered Population", value="1000000000")),
        [(7, f"A81001 LISTSIZE Registered Population on 20240331: 1,000,000,000 is too large: no value or list size "
             f"can be above {CEILING}.")],
    ),
    "a Denominator above the file's list size": (
        lambda ls: _replace(ls, 4, row(field="Denominator", value="10251")),
        [(4, "A81001 AF006 Denominator on 20240331: 10,251 is above the registered list size 10,250 "
             "(LISTSIZE, line 7).")],
    ),
    "a register above the file's list size": (
        lambda ls: _replace(ls, 7, row(ind="LISTSIZE", field="Registered Population", value="115")),
        [(2, "A81001 AF001 Atrial Fibrillation Register on 20240331: 120 is above the registered list size 115 "
             "(LISTSIZE, line 7).")],
    ),
    "a count after the file's list size": (
        lambda ls: [*ls, row(org="A81002", field="AFIBPCAPU", value="7401")],
        [(14, "A81002 AF006 AFIBPCAPU on 20240331: 7,401 is above the registered list size 7,400 (LISTSIZE, line 13).")],
    ),
    "no list size in the file nor recorded": (lambda ls: _without(ls, 7), [(2, NOT_KNOWN)]),
    "a Yes/No Flag of 137 (an automatic Yes/No)": (
        lambda ls: [*ls, row(ind="QI013", field="Yes/No Flag", value="137")],
        [(14, "A81001 QI013 Yes/No Flag on 20240331: VALUE '137' is not 1 (Yes) or 0 (No).")],
    ),
    "a row of an indicator entered by hand": (
        lambda ls: [*ls, row(ind="QI013", field="Yes/No Flag", value="1")],
        [(14, "QI013 is entered manually by the practice in CQRS: GPES does not extract it, and a load must not "
              "overwrite what was entered by hand.")],
    ),
}


def assert_nothing_applied(list_sizes_before: int = 0):
    assert not Achievement.objects.exists()
    assert not Submission.objects.exists()
    assert not IndicatorValue.objects.exists()
    assert ListSize.objects.count() == list_sizes_before


@pytest.fixture(params=["single", "batched"])
def load_mode(request, settings):
    if request.param == "batched":
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("batched loads need PostgreSQL")
        settings.EXTRACT_BATCH_ROWS = 2  # each practice a batch of its own
    return request.param


@pytest.mark.parametrize("rule", EXTRACT_RULES)
def test_an_implausible_extract_row_is_refused_at_its_line_and_nothing_is_applied(rule, qof, tmp_path, fixture_path, load_mode):
    if "automatic Yes/No" in rule:
        Indicator.objects.filter(service=qof, code="QI013").update(entry=EntryKind.AUTOMATIC)
    change, expected = EXTRACT_RULES[rule]

    extract = receive_and_load(write(tmp_path, "\n".join(change(valid_lines(fixture_path))) + "\n"))

    assert extract.status == ExtractStatus.REJECTED
    assert messages(extract) == expected
    assert extract.error_count == len(expected)
    assert_nothing_applied()


def test_without_a_listsize_row_the_recorded_list_size_is_used(qof, world, tmp_path, fixture_path, load_mode):
    ListSize.objects.create(organisation=world["A81001"], date=dt.date(2024, 1, 31), size=115)
    lines = _without(valid_lines(fixture_path), 7)

    extract = receive_and_load(write(tmp_path, "\n".join(lines) + "\n"))

    assert messages(extract) == [
        (2, "A81001 AF001 Atrial Fibrillation Register on 20240331: 120 is above the registered list size 115 "
            "(recorded on 31/01/2024; the file has no LISTSIZE row for it).")
    ]
    assert_nothing_applied(list_sizes_before=1)

    ListSize.objects.filter(organisation=world["A81001"]).update(size=120)
    lines = _replace(lines, 5, row(field="AFIBPCADEC", value="5"))  # another file (the same one is not loaded twice)
    extract = receive_and_load(write(tmp_path, "\n".join(lines) + "\n", "again.csv"))
    assert extract.status == ExtractStatus.LOADED


def test_the_files_own_list_size_stands_before_a_smaller_recorded_one(qof, world, fixture_path, load_mode):
    ListSize.objects.create(organisation=world["A81001"], date=dt.date(2024, 1, 31), size=50)

    extract = receive_and_load(fixture_path("qof_valid.csv"))

    assert extract.status == ExtractStatus.LOADED
    assert selectors.list_size_on(provider_id=world["A81001"].pk, date=factories.QOF_DATE) == 10_250


def test_every_implausible_row_of_a_group_is_reported(qof, tmp_path, fixture_path):
    lines = _replace(valid_lines(fixture_path), 7, row(ind="LISTSIZE", field="Registered Population", value="5"))

    extract = receive_and_load(write(tmp_path, "\n".join(lines) + "\n"))

    assert [line for line, _ in messages(extract)] == [2, 3, 4]  # the register, Numerator and Denominator
    assert_nothing_applied()


def test_a_manual_indicators_rows_never_overwrite_what_the_practice_declared(qof, world, entry_user, tmp_path, fixture_path):
    factories.list_sizes(world)
    march = achievement_on(world["A81001"], qof, MARCH)
    services.achievement_values_save(
        user=entry_user, achievement_id=march.pk, group_id=Indicator.objects.get(service=qof, code="QI013").group_id,
        values={key(qof, "QI013", "Yes/No Flag"): 0}, submit=True,
    )
    lines = [*valid_lines(fixture_path), row(ind="QI013", field="Yes/No Flag", value="1")]

    extract = receive_and_load(write(tmp_path, "\n".join(lines) + "\n"))

    assert extract.status == ExtractStatus.REJECTED
    assert "GPES does not extract it" in messages(extract)[0][1]
    assert selectors.current_values(achievement_ids=[march.pk])[march.pk]["QI013"] == {"Yes/No Flag": 0}


def test_the_catalogue_knows_who_enters_each_indicator_and_each_services_ceiling(qof, ncd):
    catalogue = Catalogue.load()
    assert catalogue.services["QOF2324"].entered == {"QI013": EntryKind.MANUAL}
    assert catalogue.services["QOF2324"].ceiling == plausibility.MAX_LIST_SIZE
    # The Network Contract DES sums a PCN's practices (two here): each practice gets its share.
    assert catalogue.services["NCD2324"].entered == {"COV-01": EntryKind.PCN}
    assert catalogue.services["NCD2324"].ceiling == plausibility.MAX_LIST_SIZE // 2


# --- a hand-entered population that weights the payment by prevalence ---------------------------


def test_the_pcn_leads_hi03_of_the_whole_list_is_refused_and_the_payment_stands(db, client_for):
    """The issue's reproduction on the demo world: the PCN lead entered HI-03 (learning disability
    health checks, weighted by its own national prevalence of 0.55%) with Numerator = Denominator =
    the PCN's list size, and Stockton PCN's payment went from £11,330.56 to £705,581.56."""
    from django.core.management import call_command

    from accounts.models import Organisation, User

    call_command("seed_demo", verbosity=0)
    lead = User.objects.get(email="pcnlead@demo.nhs.net")
    pcn = Organisation.objects.get(pk=lead.memberships.values_list("organisation_id", flat=True).first())
    achievement = Achievement.objects.get(provider=pcn, service__code="NCD2425", achievement_date__is_payment_date=True)
    before = Calculation.objects.get(achievement=achievement).total_amount
    list_size = selectors.entry_list_size(provider=pcn, date=achievement.achievement_date.date)
    indicator = Indicator.objects.get(service=achievement.service, code="HI-03")
    group_url = reverse("achievement:group_detail", args=[achievement.pk, indicator.group_id])
    fields = entry_rules.indicator_fields(indicator)
    client = client_for(lead)

    response = client.post(group_url, {
        "action": "submit",
        f"new-{indicator.pk}-{fields.index('Numerator')}": str(list_size),
        f"new-{indicator.pk}-{fields.index('Denominator')}": str(list_size),
    })

    error = " ".join(response.context["form"].errors.get(f"new-{indicator.pk}-{fields.index('Denominator')}", []))
    assert f"HI-03 Denominator ({list_size:,}) would be 100.0% of the registered list" in error
    assert "more than 10 times the national prevalence (0.55%): check the value" in error
    assert Calculation.objects.get(achievement=achievement).total_amount == before
    assert not Submission.objects.filter(achievement=achievement, source="manual").exists()

    # A register of a plausible size (here 2% of the list, under ten times 0.55%) is taken.
    plausible = list_size * 2 // 100
    response = client.post(group_url, {
        "action": "submit",
        f"new-{indicator.pk}-{fields.index('Numerator')}": str(plausible - 10),
        f"new-{indicator.pk}-{fields.index('Denominator')}": str(plausible),
    })
    assert response.status_code == 302


def test_a_register_weighted_by_its_groups_prevalence_is_checked_too():
    group = type("Group", (), {"national_prevalence": Decimal("0.02")})()
    register = type("Indicator", (), {"pk": 1, "code": "AF001", "kind": "register", "national_prevalence": None,
                                      "group": group})()
    limits = plausibility.ValueLimits(list_size=10_000, ceiling=99_999_999, whose="The Densham Surgery (A81001)")
    key_ = (1, "Atrial Fibrillation Register")

    assert plausibility.value_errors([register], {key_: 2_000}, changed=[key_], limits=limits) == {}
    errors = plausibility.value_errors([register], {key_: 2_001}, changed=[key_], limits=limits)
    assert errors[key_].startswith("AF001 Atrial Fibrillation Register (2,001) would be 20.0% of the registered list")
