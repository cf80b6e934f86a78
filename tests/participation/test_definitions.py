"""Service definitions: the shipped YAML files and every validation rule of the parser."""

from __future__ import annotations

import copy
import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from participation.definitions import (
    ENTRY_KINDS,
    INDICATOR_KINDS,
    PAID_KINDS,
    POINT_KINDS,
    PROVIDER_LEVELS,
    SHIPPED_DEFINITIONS_DIR,
    TICK_BOX_KINDS,
    YES_NO_FIELD,
    YES_NO_KINDS,
    ServiceDefinitionError,
    default_fields,
    financial_year_bounds,
    load_service_definition_file,
    load_service_definition_text,
    parse_service_definition,
    shipped_definition_paths,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "reference" / "nhsd-qof-2023-24"
REFERENCE_CONTROL = REFERENCE_DIR / "INDICATOR_REFERENCE_CONTROL.csv"
REFERENCE_VALUES = REFERENCE_DIR / "INDICATOR_VALUES.csv"

QOF_FILES = ("qof-2023-24.yaml", "qof-2024-25.yaml")
# The management-information components the extract layout carries (never paid; issue 13).
QOF_MANAGEMENT_INFORMATION = ("COPD009MI1", "COPD009MI2", "COPD009MI3")
# 2024/25 codes that replace a 2023/24 code (the reference CSV; issue 13).
QOF_RENUMBERED = {"CHOL003": "CHOL001", "CHOL004": "CHOL002"}
ITEM_OF_SERVICE_FILES = ("flu-2024-25.yaml", "phlebotomy-ios-2024-25.yaml", "shingles-2024-25.yaml")  # issue 16
SHIPPED = ("ncd-2021-22.yaml", "ncd-2024-25.yaml", *QOF_FILES, *ITEM_OF_SERVICE_FILES)


def load(name: str):
    return load_service_definition_file(SHIPPED_DEFINITIONS_DIR / name)


# ---------------------------------------------------------------------------------------------
# The shipped files
# ---------------------------------------------------------------------------------------------


def test_every_shipped_file_is_listed():
    assert [p.name for p in shipped_definition_paths()] == sorted(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_file_parses(name):
    service = load(name)
    assert service.payment_dates, "a payment date"
    start, end = financial_year_bounds(service.financial_year)
    assert all(start <= d.date <= end for d in service.achievement_dates)
    assert all(i.fields for i in service.indicators)


@pytest.mark.parametrize(
    ("name", "code", "value_per_point", "average_list_size", "payment_date"),
    [
        ("qof-2023-24.yaml", "QOF2324", "213.43", 9639, dt.date(2024, 3, 31)),
        ("qof-2024-25.yaml", "QOF2425", "220.62", 9964, dt.date(2025, 3, 31)),
    ],
)
def test_qof_totals(name, code, value_per_point, average_list_size, payment_date):
    service = load(name)
    assert service.code == code
    assert service.payment_type == "QOF" and service.payment_frequency == "Annual"
    assert service.provider_level == "practice"
    assert service.value_per_point == Decimal(value_per_point)
    assert service.average_list_size == average_list_size
    assert len([i for i in service.indicators if i.code not in QOF_MANAGEMENT_INFORMATION]) == 76
    assert [i.kind for i in service.indicators if i.code in QOF_MANAGEMENT_INFORMATION] == [
        "management_information"
    ] * 3
    assert service.total_points == 635
    assert {d.code: d.points for d in service.domains} == {"CL": 401, "PH": 160, "QI": 74}
    assert [d.name for d in service.domains] == ["Clinical", "Public Health", "Quality Improvement"]
    assert len(service.achievement_dates) == 12  # monthly
    assert service.payment_dates == (payment_date,)
    assert {g.sub_domain for g in service.domains[1].groups} == {
        None,
        "Public Health Additional Services",
        "Public Health Vaccination and Immunisation",
    }
    af = service.group_of("AF001")
    assert af.register_field == "Atrial Fibrillation Register"
    assert service.indicator("AF006").fields == ("Numerator", "Denominator")
    assert service.indicator("QI013").kind == "yes_no" and service.indicator("QI013").entry == "manual"
    assert service.indicator("QI013").fields == (YES_NO_FIELD,)
    vi001 = service.indicator("VI001")
    assert (vi001.lower, vi001.upper, vi001.points) == (89, 96, 18)


def test_qof_label():
    assert load("qof-2024-25.yaml").label == "QOF— Annual—Quality and Outcomes Framework 2024/25"


def _reference_rows() -> list[dict]:
    if not REFERENCE_CONTROL.exists():
        pytest.skip(f"reference data not present: {REFERENCE_CONTROL}")
    with REFERENCE_CONTROL.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("name", QOF_FILES)
def test_qof_matches_nhs_digital_reference(name):
    rows = _reference_rows()
    service = load(name)
    shipped = {}
    for domain in service.domains:
        for group in domain.groups:
            for indicator in group.indicators:
                if indicator.kind != "management_information":
                    shipped[QOF_RENUMBERED.get(indicator.code, indicator.code)] = (domain, group, indicator)
    assert set(shipped) == {r["INDICATOR_CODE"] for r in rows}
    for row in rows:
        domain, group, indicator = shipped[row["INDICATOR_CODE"]]
        code = row["INDICATOR_CODE"]
        assert group.code == row["GROUP_CODE"], code
        assert group.name == row["GROUP_DESCRIPTION"].strip(), code
        assert domain.code == row["DOMAIN_CODE"], code
        assert indicator.points == Decimal(row["INDICATOR_POINT_VALUE"]), code
        expected_sub = row["SUB_DOMAIN_DESCRIPTION"] if row["SUB_DOMAIN_CODE"] != row["DOMAIN_CODE"] else None
        assert group.sub_domain == expected_sub, code
        manual = row["AUTOMATIC_MANUAL_ENTRY"] == "M"
        assert indicator.entry == ("manual" if manual else "automatic"), code
        if manual:
            assert indicator.kind == "yes_no", code
        # REGISTER_FLAG=1 marks the indicator carrying the group's register
        assert indicator.provides_register == (row["REGISTER_FLAG"] == "1"), code
        if row["REGISTER_FLAG"] == "1":
            assert group.register_indicator is indicator, code
        # prevalence-weighted: a register in the group, not NO_PREVALENCE_FLAG, not QI
        weighted = not row["NO_PREVALENCE_FLAG"] and row["DOMAIN_CODE"] != "QI"
        assert (group.national_prevalence is not None) == weighted, code


@pytest.mark.parametrize("name", QOF_FILES)
def test_qof_register_fields_are_extract_field_names(name):
    _reference_rows()
    if not REFERENCE_VALUES.exists():
        pytest.skip(f"reference data not present: {REFERENCE_VALUES}")
    with REFERENCE_VALUES.open(newline="", encoding="utf-8-sig") as fh:
        fields: dict[str, set[str]] = {}
        for row in csv.DictReader(fh):
            fields.setdefault(row["IND_CODE"], set()).add(row["FIELD_NAME"])
    service = load(name)
    for indicator in service.indicators:
        assert set(indicator.fields) <= fields[QOF_RENUMBERED.get(indicator.code, indicator.code)], indicator.code
        if indicator.provides_register:
            assert indicator.register_field in fields[QOF_RENUMBERED.get(indicator.code, indicator.code)], indicator.code


def test_qof_years_share_the_indicator_set():
    old, new = load("qof-2023-24.yaml"), load("qof-2024-25.yaml")
    assert [(i.code, i.points, i.kind) for i in old.indicators] == [
        (QOF_RENUMBERED.get(i.code, i.code), i.points, i.kind) for i in new.indicators
    ]


def test_ncd_2021_22_tick_box():
    service = load("ncd-2021-22.yaml")
    assert (service.code, service.payment_type, service.payment_frequency, service.provider_level) == (
        "NCD2122",
        "DES",
        "Annual",
        "pcn",
    )
    assert service.financial_year == "2021/22"
    assert service.value_per_point == Decimal("200")
    assert [(d.date, d.payment) for d in service.achievement_dates] == [
        (dt.date(2022, 2, 28), False),
        (dt.date(2022, 3, 31), True),
    ]
    cov = service.indicator("COV-01")
    assert cov.name.startswith("COV-01 (NCD009)")
    assert (cov.kind, cov.points, cov.entry, cov.carry_forward) == ("tick_box", 220, "pcn", True)
    assert cov.fields == (YES_NO_FIELD,)


def test_ncd_2024_25():
    service = load("ncd-2024-25.yaml")
    assert service.label == "DES— Annual—Network Contract DES 2024/25"
    assert (service.code, service.provider_level, service.value_per_point) == (
        "NCD2425",
        "pcn",
        Decimal("198"),
    )
    assert len(service.achievement_dates) == 12
    assert service.achievement_dates[0].date == dt.date(2024, 4, 30)
    assert service.payment_dates == (dt.date(2025, 3, 31),)
    iif = service.group_of("CAN-02")
    assert iif.code == "IIF" and [i.code for i in iif.indicators] == ["CAN-02", "HI-03"]  # "1 of 2"
    assert iif.points == 58
    can02 = service.indicator("CAN-02")
    assert (can02.kind, can02.points, can02.lower, can02.upper) == ("fraction", 22, 65, 80)
    assert can02.national_prevalence is not None
    assert service.indicator("HI-03").points == 36
    caip = service.group_of("CAIP-1")
    assert caip.name == "Capacity and Access Improvement Payment"
    assert [i.code for i in caip.indicators] == ["CAIP-1", "CAIP-2", "CAIP-3"]
    for indicator in caip.indicators:
        assert (indicator.kind, indicator.entry, indicator.points) == ("per_capita", "pcn", 0)
        assert indicator.rate * 3 == Decimal("1.185")


# ---------------------------------------------------------------------------------------------
# Validation: one refused definition per rule, with the exact path
# ---------------------------------------------------------------------------------------------


def valid() -> dict:
    return {
        "code": "QOF2425",
        "name": "Quality and Outcomes Framework 2024/25",
        "payment_type": "QOF",
        "payment_frequency": "Annual",
        "financial_year": "2024/25",
        "provider_level": "practice",
        "no_declaration_required": False,
        "no_approval_required": False,
        "payment": {"value_per_point": "220.62", "average_list_size": 9964},
        "achievement_dates": [
            {"date": dt.date(2025, 3, 31), "payment": True},
            {"date": dt.date(2025, 2, 28), "payment": False},
        ],
        "domains": [
            {
                "code": "CL",
                "name": "Clinical",
                "groups": [
                    {
                        "code": "AF",
                        "name": "Atrial fibrillation",
                        "national_prevalence": "0.0219",
                        "indicators": [
                            {
                                "code": "AF001",
                                "name": "AF register",
                                "kind": "register",
                                "points": 5,
                                "register_field": "Atrial Fibrillation Register",
                            },
                            {
                                "code": "AF006",
                                "name": "AF risk",
                                "kind": "fraction",
                                "points": 12,
                                "lower": 40,
                                "upper": 90,
                            },
                        ],
                    },
                    {
                        "code": "QI",
                        "name": "Quality improvement",
                        "indicators": [
                            {
                                "code": "QI013",
                                "name": "QI",
                                "kind": "yes_no",
                                "points": 27,
                                "entry": "manual",
                            },
                            {"code": "CNT1", "name": "A count", "kind": "count"},
                        ],
                    },
                ],
            },
            {
                "code": "NCD",
                "name": "Network Contract DES",
                "groups": [
                    {
                        "code": "IIF",
                        "name": "Investment and Impact Fund",
                        "indicators": [
                            {
                                "code": "COV-01",
                                "name": "Tick",
                                "kind": "tick_box",
                                "points": 220,
                                "entry": "pcn",
                                "carry_forward": True,
                            },
                            {
                                "code": "CAIP-1",
                                "name": "CAIP",
                                "kind": "per_capita",
                                "rate": "0.395",
                                "entry": "pcn",
                            },
                        ],
                    }
                ],
            },
        ],
    }


def errors_of(data) -> list[str]:
    with pytest.raises(ServiceDefinitionError) as info:
        parse_service_definition(data)
    return info.value.errors


def indicator(data: dict, domain: int, group: int, index: int) -> dict:
    return data["domains"][domain]["groups"][group]["indicators"][index]


def test_valid_definition_parses():
    service = parse_service_definition(valid())
    assert service.code == "QOF2425"
    assert [d.date for d in service.achievement_dates] == [dt.date(2025, 2, 28), dt.date(2025, 3, 31)]
    af006 = service.indicator("AF006")
    assert (af006.lower, af006.upper, af006.points) == (Decimal(40), Decimal(90), Decimal(12))
    assert service.indicator("AF001").fields == ("Atrial Fibrillation Register",)
    assert service.indicator("CNT1").fields == ("Value",)
    assert service.indicator("CAIP-1").rate == Decimal("0.395")
    assert service.indicator("CAIP-1").fields == (YES_NO_FIELD,)
    assert service.indicator("COV-01").fields == (YES_NO_FIELD,)
    assert isinstance(service.value_per_point, Decimal)


def test_default_fields():
    assert default_fields("fraction") == ("Numerator", "Denominator")
    assert default_fields("register") == ("Register",)
    assert default_fields("register", "Asthma Register") == ("Asthma Register",)
    assert (
        default_fields("yes_no")
        == default_fields("tick_box")
        == default_fields("per_capita")
        == ("Yes/No Flag",)
    )
    assert default_fields("count") == ("Value",)


def test_the_catalogue_choices_are_the_schema_kinds():
    from participation.models import EntryKind, IndicatorKind, ProviderLevel

    assert tuple(IndicatorKind.values) == INDICATOR_KINDS
    assert tuple(EntryKind.values) == ENTRY_KINDS
    assert tuple(ProviderLevel.values) == PROVIDER_LEVELS
    assert IndicatorKind.TICK_BOX in TICK_BOX_KINDS and IndicatorKind.PER_CAPITA in TICK_BOX_KINDS
    assert TICK_BOX_KINDS < YES_NO_KINDS < set(INDICATOR_KINDS)
    assert POINT_KINDS < PAID_KINDS == set(INDICATOR_KINDS) - {IndicatorKind.COUNT, IndicatorKind.MANAGEMENT_INFORMATION}


def test_explicit_fields_are_kept():
    data = valid()
    indicator(data, 0, 0, 1)["fields"] = ["Numerator", "Denominator", "AFIBPCADEC"]
    assert parse_service_definition(data).indicator("AF006").fields == (
        "Numerator",
        "Denominator",
        "AFIBPCADEC",
    )


def test_decimal_strings_and_yaml_numbers_for_ints():
    data = valid()
    indicator(data, 0, 0, 1).update(points="12.5", lower="40.5", upper=90.0)
    service = parse_service_definition(data)
    assert service.indicator("AF006").points == Decimal("12.5")
    assert service.indicator("AF006").lower == Decimal("40.5")


def _mutate(fn):
    data = valid()
    fn(data)
    return data


REFUSED = [
    # (id, mutation, expected "path: reason" fragment)
    ("code required", lambda d: d.pop("code"), "code: is required"),
    ("name required", lambda d: d.pop("name"), "name: is required"),
    ("code blank", lambda d: d.update(code="  "), "code: must not be blank"),
    ("code with spaces", lambda d: d.update(code="QOF 2425"), "code: must be letters"),
    ("unknown top-level key", lambda d: d.update(colour="red"), "colour: unknown key"),
    ("unknown payment key", lambda d: d["payment"].update(currency="GBP"), "payment.currency: unknown key"),
    (
        "unknown indicator key",
        lambda d: indicator(d, 0, 0, 1).update(weight=3),
        "domains[0].groups[0].indicators[1].weight: unknown key",
    ),
    (
        "unknown group key",
        lambda d: d["domains"][0]["groups"][1].update(colour=1),
        "domains[0].groups[1].colour: unknown key",
    ),
    ("unknown domain key", lambda d: d["domains"][1].update(colour=1), "domains[1].colour: unknown key"),
    ("root not a mapping", None, "(root): must be a mapping"),
    ("payment required", lambda d: d.pop("payment"), "payment: is required"),
    (
        "value_per_point as a YAML number",
        lambda d: d["payment"].update(value_per_point=220.62),
        "payment.value_per_point: must be a decimal number given as a string",
    ),
    (
        "value_per_point not a number",
        lambda d: d["payment"].update(value_per_point="lots"),
        "payment.value_per_point: must be a decimal number given as a string",
    ),
    (
        "value_per_point zero",
        lambda d: d["payment"].update(value_per_point="0"),
        "payment.value_per_point: must be above 0",
    ),
    (
        "average_list_size not a number",
        lambda d: d["payment"].update(average_list_size="big"),
        "payment.average_list_size: must be a whole number",
    ),
    (
        "average_list_size zero",
        lambda d: d["payment"].update(average_list_size=0),
        "payment.average_list_size: must be above 0",
    ),
    (
        "financial_year format",
        lambda d: d.update(financial_year="2024-25"),
        "financial_year: must be YYYY/YY",
    ),
    (
        "financial_year inconsistent",
        lambda d: d.update(financial_year="2024/26"),
        "financial_year: must be YYYY/YY",
    ),
    (
        "provider_level",
        lambda d: d.update(provider_level="icb"),
        "provider_level: must be one of practice, pcn",
    ),
    (
        "boolean flag",
        lambda d: d.update(no_declaration_required="yes"),
        "no_declaration_required: must be true or false",
    ),
    ("achievement_dates required", lambda d: d.pop("achievement_dates"), "achievement_dates: is required"),
    (
        "achievement_dates empty",
        lambda d: d.update(achievement_dates=[]),
        "achievement_dates: must not be empty",
    ),
    (
        "date after the financial year",
        lambda d: d["achievement_dates"].append({"date": dt.date(2025, 4, 30)}),
        "achievement_dates[2].date: 2025-04-30 is outside the financial year (01/04/2024 to 31/03/2025)",
    ),
    (
        "date before the financial year",
        lambda d: d["achievement_dates"].append({"date": "2024-03-31"}),
        "achievement_dates[2].date: 2024-03-31 is outside the financial year",
    ),
    (
        "date not a date",
        lambda d: d["achievement_dates"].append({"date": "31/03/2025"}),
        "achievement_dates[2].date: must be a date YYYY-MM-DD",
    ),
    (
        "duplicate date",
        lambda d: d["achievement_dates"].append({"date": dt.date(2025, 3, 31)}),
        "achievement_dates[2].date: duplicate achievement date 2025-03-31",
    ),
    (
        "no payment date",
        lambda d: d["achievement_dates"][0].update(payment=False),
        "achievement_dates: at least one must be a payment date",
    ),
    ("domains required", lambda d: d.pop("domains"), "domains: is required"),
    (
        "domain groups empty",
        lambda d: d["domains"][1].update(groups=[]),
        "domains[1].groups: must not be empty",
    ),
    (
        "group indicators required",
        lambda d: d["domains"][0]["groups"][1].pop("indicators"),
        "domains[0].groups[1].indicators: is required",
    ),
    (
        "duplicate domain code",
        lambda d: d["domains"][1].update(code="CL"),
        "domains[1].code: duplicate domain code CL",
    ),
    (
        "duplicate group code",
        lambda d: d["domains"][1]["groups"][0].update(code="AF"),
        "domains[1].groups[0].code: duplicate group code AF",
    ),
    (
        "duplicate indicator code",
        lambda d: indicator(d, 1, 0, 1).update(code="AF006"),
        "domains[1].groups[0].indicators[1].code: duplicate indicator code AF006 (also domains[0].groups[0].indicators[1].code)",
    ),
    (
        "indicator code required",
        lambda d: indicator(d, 0, 1, 0).pop("code"),
        "domains[0].groups[1].indicators[0].code: is required",
    ),
    (
        "indicator kind unknown",
        lambda d: indicator(d, 0, 1, 0).update(kind="percentage"),
        "domains[0].groups[1].indicators[0].kind: must be one of fraction, register, yes_no, tick_box, count, per_capita",
    ),
    (
        "indicator kind required",
        lambda d: indicator(d, 0, 1, 0).pop("kind"),
        "domains[0].groups[1].indicators[0].kind: is required",
    ),
    (
        "entry unknown",
        lambda d: indicator(d, 0, 1, 0).update(entry="gpes"),
        "domains[0].groups[1].indicators[0].entry: must be one of automatic, manual, pcn, commissioner",
    ),
    (
        "fraction without lower",
        lambda d: indicator(d, 0, 0, 1).pop("lower"),
        "domains[0].groups[0].indicators[1].lower: is required for a fraction indicator",
    ),
    (
        "fraction without upper",
        lambda d: indicator(d, 0, 0, 1).pop("upper"),
        "domains[0].groups[0].indicators[1].upper: is required for a fraction indicator",
    ),
    (
        "upper not above lower",
        lambda d: indicator(d, 0, 0, 1).update(upper=40),
        "domains[0].groups[0].indicators[1].upper: must be above lower",
    ),
    (
        "upper below lower",
        lambda d: indicator(d, 0, 0, 1).update(lower=90, upper=40),
        "domains[0].groups[0].indicators[1].upper: must be above lower",
    ),
    (
        "upper above 100",
        lambda d: indicator(d, 0, 0, 1).update(upper=101),
        "domains[0].groups[0].indicators[1].upper: must be a percentage from 0 to 100",
    ),
    (
        "lower below 0",
        lambda d: indicator(d, 0, 0, 1).update(lower=-1),
        "domains[0].groups[0].indicators[1].lower: must be a percentage from 0 to 100",
    ),
    (
        "threshold as a fractional YAML float",
        lambda d: indicator(d, 0, 0, 1).update(lower=40.5),
        "domains[0].groups[0].indicators[1].lower: must be a whole number or a decimal number given as a string",
    ),
    (
        "thresholds on a register",
        lambda d: indicator(d, 0, 0, 0).update(lower=10),
        "domains[0].groups[0].indicators[0].lower: only a fraction indicator has thresholds",
    ),
    (
        "negative points",
        lambda d: indicator(d, 0, 0, 1).update(points=-1),
        "domains[0].groups[0].indicators[1].points: must be 0 or more",
    ),
    (
        "points not a number",
        lambda d: indicator(d, 0, 0, 1).update(points="twelve"),
        "domains[0].groups[0].indicators[1].points: must be a whole number or a decimal number given as a string",
    ),
    (
        "points on a count",
        lambda d: indicator(d, 0, 1, 1).update(points=3),
        "domains[0].groups[1].indicators[1].points: a count indicator earns no points",
    ),
    (
        "per_capita without rate",
        lambda d: indicator(d, 1, 0, 1).pop("rate"),
        "domains[1].groups[0].indicators[1].rate: is required",
    ),
    (
        "rate as a YAML number",
        lambda d: indicator(d, 1, 0, 1).update(rate=0.395),
        "domains[1].groups[0].indicators[1].rate: must be a decimal number given as a string",
    ),
    (
        "rate on a fraction",
        lambda d: indicator(d, 0, 0, 1).update(rate="1"),
        "domains[0].groups[0].indicators[1].rate: only a per_capita indicator has a rate",
    ),
    (
        "national_prevalence as a YAML number",
        lambda d: d["domains"][0]["groups"][0].update(national_prevalence=0.0219),
        "domains[0].groups[0].national_prevalence: must be a decimal number given as a string",
    ),
    (
        "national_prevalence as a percentage",
        lambda d: d["domains"][0]["groups"][0].update(national_prevalence="2.19"),
        "domains[0].groups[0].national_prevalence: must be a proportion above 0 and below 1",
    ),
    (
        "prevalence-weighted group without a register",
        lambda d: d["domains"][0]["groups"][0]["indicators"].pop(0),
        "domains[0].groups[0].indicators: a group with national_prevalence must hold exactly one register indicator",
    ),
    (
        "prevalence-weighted group with two registers",
        lambda d: d["domains"][0]["groups"][0]["indicators"].append(
            {"code": "AF002", "name": "Second register", "kind": "register", "points": 1}
        ),
        "domains[0].groups[0].indicators: a group with national_prevalence must hold exactly one register "
        "indicator (kind register, or a fraction with register_field); found AF001, AF002",
    ),
    (
        "indicator prevalence in a weighted group",
        lambda d: indicator(d, 0, 0, 1).update(national_prevalence="0.01"),
        "domains[0].groups[0].indicators[1].national_prevalence: the group is already prevalence-weighted",
    ),
    (
        "indicator prevalence on a tick box",
        lambda d: indicator(d, 1, 0, 0).update(national_prevalence="0.01"),
        "domains[1].groups[0].indicators[0].national_prevalence: only a fraction indicator has its own national_prevalence",
    ),
    (
        "register_field on a yes_no",
        lambda d: indicator(d, 0, 1, 0).update(register_field="Register"),
        "domains[0].groups[1].indicators[0].register_field: only a register (or fraction) indicator has a register field",
    ),
    (
        "carry_forward on a yes_no",
        lambda d: indicator(d, 0, 1, 0).update(carry_forward=True),
        "domains[0].groups[1].indicators[0].carry_forward: only a tick_box indicator carries forward",
    ),
    (
        "fields not a list",
        lambda d: indicator(d, 0, 0, 1).update(fields="Numerator"),
        "domains[0].groups[0].indicators[1].fields: must be a non-empty list of FIELD_NAMEs",
    ),
    (
        "duplicate field",
        lambda d: indicator(d, 0, 0, 1).update(fields=["Numerator", "Numerator"]),
        "domains[0].groups[0].indicators[1].fields[1]: duplicate field 'Numerator'",
    ),
]


@pytest.mark.parametrize(
    ("mutation", "expected"), [(m, e) for _, m, e in REFUSED], ids=[i for i, _, _ in REFUSED]
)
def test_refused(mutation, expected):
    data = ["not", "a", "mapping"] if mutation is None else _mutate(mutation)
    errors = errors_of(data)
    assert any(error.startswith(expected) for error in errors), errors


def test_all_problems_are_listed():
    data = valid()
    data.pop("code")
    data["payment"]["value_per_point"] = 220.62
    indicator(data, 0, 0, 1)["upper"] = 30
    indicator(data, 1, 0, 1)["kind"] = "bogus"
    data["achievement_dates"][0]["payment"] = False
    errors = errors_of(data)
    assert errors[0] == "code: is required"
    assert "domains[0].groups[0].indicators[1].upper: must be above lower" in errors
    assert any(
        e.startswith("payment.value_per_point: must be a decimal number given as a string") for e in errors
    )
    assert any(e.startswith("domains[1].groups[0].indicators[1].kind: must be one of") for e in errors)
    assert any(e.startswith("achievement_dates: at least one must be a payment date") for e in errors)
    assert len(errors) == 5, errors
    with pytest.raises(ServiceDefinitionError, match="code: is required; "):
        parse_service_definition(data)


def test_error_in_one_indicator_does_not_hide_the_group_register():
    data = valid()
    indicator(data, 0, 0, 0)["name"] = ""  # the register indicator has an error of its own
    assert errors_of(data) == ["domains[0].groups[0].indicators[0].name: must not be blank"]


def test_fraction_with_register_field_carries_the_group_register():
    data = valid()
    group = data["domains"][0]["groups"][0]
    group["indicators"] = [
        {
            "code": "DEP004",
            "name": "Depression review",
            "kind": "fraction",
            "points": 10,
            "lower": 45,
            "upper": 80,
            "register_field": "Depression 18+ New Register",
        }
    ]
    service = parse_service_definition(data)
    dep = service.indicator("DEP004")
    assert dep.provides_register
    assert dep.fields == ("Numerator", "Denominator", "Depression 18+ New Register")
    assert service.group_of("DEP004").register_field == "Depression 18+ New Register"


def test_ncd_style_example_from_the_schema():
    text = """
code: NCD2425
name: Network Contract DES 2024/25
payment_type: DES
payment_frequency: Annual
financial_year: 2024/25
provider_level: pcn
payment: {value_per_point: "198", average_list_size: 48000}
achievement_dates:
  - {date: 2025-03-31, payment: true}
domains:
  - code: NCD
    name: Network Contract DES
    groups:
      - code: IIF
        name: Investment and Impact Fund
        indicators:
          - {code: CAN-02, name: "FIT", kind: fraction, points: 22, lower: 65, upper: 80, national_prevalence: "0.0109"}
          - {code: COV-01, name: "Tick", kind: tick_box, points: 220, entry: pcn, carry_forward: true}
          - {code: CAIP-1, name: "CAIP", kind: per_capita, rate: "0.395", entry: pcn}
"""
    service = load_service_definition_text(text)
    assert service.indicator("CAN-02").national_prevalence == Decimal("0.0109")
    assert service.no_declaration_required is False


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("code: QOF2425\nname: [unclosed\nfinancial_year: 2024/25\n", encoding="utf-8")
    with pytest.raises(ServiceDefinitionError) as info:
        load_service_definition_file(path)
    (error,) = info.value.errors
    assert error.startswith("line 3, column ")
    assert "invalid YAML in broken.yaml" in error


def test_duplicate_yaml_key_is_refused(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("code: QOF2425\ncode: QOF2324\n", encoding="utf-8")
    with pytest.raises(ServiceDefinitionError, match=r"line 2, column 1: .*duplicate key 'code'"):
        load_service_definition_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(ServiceDefinitionError, match="cannot be read"):
        load_service_definition_file(tmp_path / "nope.yaml")


def test_file_round_trip_matches_the_mapping(tmp_path):
    import yaml

    data = copy.deepcopy(valid())
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert load_service_definition_file(path) == parse_service_definition(data)


# --- Income protection and aspiration (issue 13) -------------------------------------------------


def test_qof_2024_25_protects_the_32_reference_indicators_212_points():
    reference = PROJECT_ROOT.parent / "shared" / "reference" / "qof-indicators-2023-24-2024-25.csv"
    definition = load_service_definition_file(SHIPPED_DEFINITIONS_DIR / "qof-2024-25.yaml")
    protected = {i.code: i.points for i in definition.indicators if i.income_protected}
    assert len(protected) == 32 and sum(protected.values()) == 212
    if reference.exists():  # ../shared beside the project (the developers' and CI's layout)
        with reference.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        marked = {r["INDICATOR_CODE"] for r in rows if r["YEAR"] == "2024/25" and r["INCOME_PROTECTED_2425"] == "Y"}
        assert set(protected) == marked
    assert definition.protected_from == "QOF2324"
    assert (definition.aspiration.percent, definition.aspiration.from_service) == (Decimal(80), "QOF2324")
    previous = load_service_definition_file(SHIPPED_DEFINITIONS_DIR / "qof-2023-24.yaml")
    assert (previous.aspiration.percent, previous.aspiration.from_service) == (Decimal(70), "QOF2223")


def _with(**service_keys):
    import yaml

    data = yaml.safe_load((SHIPPED_DEFINITIONS_DIR / "qof-2024-25.yaml").read_text())
    data.update(service_keys)
    return data


def test_protected_code_maps_a_renumbered_indicator():
    data = _with()
    first = data["domains"][0]["groups"][0]["indicators"][0]
    first["protected_code"] = "AF099"
    indicator = parse_service_definition(data).indicator(first["code"])
    assert (indicator.income_protected, indicator.protected_code) == (True, "AF099")


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"protected_from": None}, "protected_from: is required when an indicator is income_protected"),
        ({"protected_from": "QOF2425"}, "protected_from: must name another service, not this one"),
        ({"aspiration": {"percent": 0, "from": "QOF2324"}}, "aspiration.percent: must be a percentage above 0"),
        ({"aspiration": {"percent": 80}}, "aspiration.from: is required"),
        ({"aspiration": {"percent": 80, "from": "QOF2425"}}, "aspiration.from: must name another service"),
    ],
)
def test_protection_and_aspiration_keys_are_checked(change, problem):
    with pytest.raises(ServiceDefinitionError) as error:
        parse_service_definition(_with(**change))
    assert problem in str(error.value)


def test_protected_code_needs_income_protected():
    data = _with()
    indicators = data["domains"][0]["groups"][0]["indicators"]
    unprotected = next(i for i in indicators if not i.get("income_protected"))
    unprotected["protected_code"] = "AF099"
    with pytest.raises(ServiceDefinitionError, match="only an income_protected indicator has a protected_code"):
        parse_service_definition(data)
