"""Service definitions of item-of-service and monthly services (issue 16): the keys
``kind: per_item``, ``amount_per_item``, ``max_items`` and ``payment_frequency: Monthly``."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from participation.definitions import (
    COUNT_FIELD,
    PAID_KINDS,
    PER_ITEM,
    SHIPPED_DEFINITIONS_DIR,
    ServiceDefinitionError,
    default_fields,
    load_service_definition_file,
    parse_service_definition,
)
from participation.definitions.objects import month_ends

BASE = {
    "code": "FLUM",
    "name": "Flu monthly",
    "payment_type": "ES",
    "payment_frequency": "Monthly",
    "financial_year": "2024/25",
    "provider_level": "practice",
    "payment": {"value_per_point": "1.00", "average_list_size": 9964},
    "domains": [
        {
            "code": "D",
            "name": "D",
            "groups": [
                {
                    "code": "G",
                    "name": "G",
                    "indicators": [
                        {"code": "FLU001", "name": "Flu", "kind": "per_item", "amount_per_item": "10.06", "max_items": 500}
                    ],
                }
            ],
        }
    ],
}
INDICATOR = ("domains", 0, "groups", 0, "indicators", 0)


def with_changes(*, service=None, indicator=None):
    data = copy.deepcopy(BASE)
    data.update(service or {})
    data["domains"][0]["groups"][0]["indicators"][0].update(indicator or {})
    for key, value in list((service or {}).items()):
        if value is None:
            del data[key]
    for key, value in list((indicator or {}).items()):
        if value is None:
            del data["domains"][0]["groups"][0]["indicators"][0][key]
    return data


def problems(data) -> str:
    with pytest.raises(ServiceDefinitionError) as caught:
        parse_service_definition(data)
    return str(caught.value)


def test_a_per_item_indicator_carries_its_fee_cap_and_count_field():
    service = parse_service_definition(BASE)
    indicator = service.indicator("FLU001")
    assert (indicator.kind, indicator.amount_per_item, indicator.max_items) == (PER_ITEM, Decimal("10.06"), 500)
    assert indicator.fields == (COUNT_FIELD,) == default_fields(PER_ITEM) == ("Count",)
    assert indicator.points == 0
    assert PER_ITEM in PAID_KINDS


def test_max_items_is_optional():
    service = parse_service_definition(with_changes(indicator={"max_items": None}))
    assert service.indicator("FLU001").max_items is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount_per_item": None}, "amount_per_item: is required"),
        ({"amount_per_item": 10.06}, "must be a decimal number given as a string"),
        ({"amount_per_item": "0"}, "must be above 0"),
        ({"amount_per_item": "-1.00"}, "must be above 0"),
        ({"amount_per_item": "1.005"}, "at most 2 decimal places"),
        ({"max_items": 0}, "max_items"),
        ({"max_items": "many"}, "max_items"),
        ({"points": 5}, "a per_item indicator earns no points"),
    ],
)
def test_bad_per_item_keys_are_refused_with_their_path(changes, message):
    text = problems(with_changes(indicator=changes))
    assert "domains[0].groups[0].indicators[0]" in text and message in text


@pytest.mark.parametrize("key", ["amount_per_item", "max_items"])
def test_only_a_per_item_indicator_has_a_fee_or_a_cap(key):
    data = with_changes(indicator={"kind": "count", "amount_per_item": None, "max_items": None})
    data["domains"][0]["groups"][0]["indicators"][0][key] = "3.00" if key == "amount_per_item" else 3
    assert "only a per_item indicator has" in problems(data)


def test_a_monthly_service_without_dates_gets_each_month_end_as_a_payment_date():
    service = parse_service_definition(BASE)
    assert service.payment_dates == month_ends("2024/25")
    assert service.payment_dates[0] == dt.date(2024, 4, 30)
    assert service.payment_dates[10] == dt.date(2025, 2, 28)
    assert service.payment_dates[-1] == dt.date(2025, 3, 31)
    assert all(d.payment for d in service.achievement_dates)


def test_month_ends_of_a_leap_year():
    assert month_ends("2023/24")[10] == dt.date(2024, 2, 29)


def test_only_a_monthly_service_may_omit_its_dates():
    text = problems(with_changes(service={"payment_frequency": "Annual"}))
    assert "achievement_dates: is required" in text


def test_a_monthly_service_pays_every_date_once_a_month():
    data = with_changes(
        service={
            "achievement_dates": [
                {"date": "2024-10-31", "payment": True},
                {"date": "2024-10-15", "payment": True},
                {"date": "2024-11-30", "payment": False},
            ]
        }
    )
    text = problems(data)
    assert "achievement_dates[1].date: a Monthly service has one achievement date a month (October 2024 twice)" in text
    assert "achievement_dates[2].payment: a Monthly service's achievement dates are each a payment date" in text


def test_a_monthly_service_may_list_some_months():
    data = with_changes(service={"achievement_dates": [{"date": "2024-10-31", "payment": True}]})
    assert parse_service_definition(data).payment_dates == (dt.date(2024, 10, 31),)


@pytest.mark.parametrize(
    ("name", "code", "fee", "dates"),
    [
        ("flu-2024-25.yaml", "FLU2425", "10.06", 7),
        ("shingles-2024-25.yaml", "SHI2425", "10.06", 12),
        ("phlebotomy-ios-2024-25.yaml", "PHLIOS2425", "3.50", 12),
    ],
)
def test_the_shipped_item_of_service_programmes(name, code, fee, dates):
    path = SHIPPED_DEFINITIONS_DIR / name
    service = load_service_definition_file(path)
    assert service.code == code and service.payment_frequency == "Monthly"
    assert len(service.payment_dates) == dates == len(service.achievement_dates)
    assert {i.kind for i in service.indicators} == {PER_ITEM}
    assert {i.amount_per_item for i in service.indicators} == {Decimal(fee)}
    text = path.read_text()
    # Every fee is cited from a public source, or marked estimated.
    for line in text.splitlines():
        if "amount_per_item:" in line:
            assert "#" in line, line
    assert "estimated" in text or "Source" in text or "per Pulse Intelligence" in text


def test_the_phlebotomy_claims_are_entered_by_the_practice():
    service = load_service_definition_file(SHIPPED_DEFINITIONS_DIR / "phlebotomy-ios-2024-25.yaml")
    (indicator,) = service.indicators
    assert indicator.entry == "manual" and indicator.max_items == 400
