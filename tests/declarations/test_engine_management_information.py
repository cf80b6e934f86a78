"""The engine and management-information indicators (issue 13 §1): calculated like a count,
never paid, never earning points."""

from decimal import Decimal

import pytest

from declarations.engine import (
    EngineInputError,
    IndicatorRule,
    IndicatorValues,
    ProviderContext,
    indicator_calculate,
    payment_calculate,
)
from participation.definitions import MANAGEMENT_INFORMATION, PAID_KINDS, POINT_KINDS, UNPAID_KINDS

CONTEXT = ProviderContext(
    list_size=12_000, value_per_point=Decimal("220.62"), average_list_size=9_964, group_registers={"COPD": 240}
)


def test_a_management_information_indicator_is_unpaid():
    assert MANAGEMENT_INFORMATION in UNPAID_KINDS
    assert MANAGEMENT_INFORMATION not in PAID_KINDS | POINT_KINDS


def test_it_earns_no_points_and_no_money_whatever_its_value():
    rule = IndicatorRule(code="COPD009MI1", kind=MANAGEMENT_INFORMATION, group_code="COPD",
                         group_national_prevalence=Decimal("0.019"))
    for value in (None, 0, 12, 10_000):
        result = indicator_calculate(rule=rule, values=IndicatorValues(value=value), context=CONTEXT)
        assert (result.points, result.amount, result.cpi, result.apdf, result.patients_to_upper) == (
            Decimal("0.00"), Decimal("0.00"), None, None, None
        )


def test_it_adds_nothing_to_the_payment():
    paid = IndicatorRule(code="COPD015", kind="register", points=Decimal(8), group_code="COPD",
                         group_national_prevalence=Decimal("0.019"))
    mi = IndicatorRule(code="COPD009MI1", kind=MANAGEMENT_INFORMATION, group_code="COPD")
    alone = payment_calculate(indicators=[(paid, IndicatorValues(register=240))], context=CONTEXT)
    both = payment_calculate(
        indicators=[(paid, IndicatorValues(register=240)), (mi, IndicatorValues(value=99))], context=CONTEXT
    )
    assert (both.total_points, both.total_amount) == (alone.total_points, alone.total_amount)


def test_points_on_a_management_information_rule_are_refused():
    with pytest.raises(EngineInputError, match="earns no points"):
        IndicatorRule(code="COPD009MI1", kind=MANAGEMENT_INFORMATION, points=Decimal(1))
