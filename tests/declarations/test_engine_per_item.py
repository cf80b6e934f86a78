"""Item-of-service indicators in the engine (issue 16): min(Count, max_items) x amount per item,
to the penny, with no CPI or prevalence adjustment."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from declarations.engine import (
    EngineInputError,
    IndicatorRule,
    IndicatorValues,
    ProviderContext,
    indicator_calculate,
    payment_calculate,
    rule_from_definition,
)
from participation.definitions import GroupDef, IndicatorDef, load_service_definition_text

FLU = IndicatorRule(code="FLU001", kind="per_item", amount_per_item=Decimal("10.06"), max_items=500)
CONTEXT = ProviderContext(list_size=9_000, value_per_point=Decimal("220.62"), average_list_size=9_964)


def pay(rule: IndicatorRule, count: int | None, context: ProviderContext = CONTEXT):
    return indicator_calculate(rule=rule, values=IndicatorValues(count=count), context=context)


def test_pays_the_count_times_the_amount_per_item_to_the_penny():
    result = pay(FLU, 123)
    assert result.amount == Decimal("1237.38")  # 123 x £10.06
    assert result.items_paid == 123
    assert result.points == Decimal("0.00")
    assert result.cpi is None and result.apdf is None
    assert result.achievement_percent is None


def test_the_cap_limits_the_items_paid():
    at_cap, above_cap = pay(FLU, 500), pay(FLU, 731)
    assert at_cap.amount == above_cap.amount == Decimal("5030.00")
    assert above_cap.items_paid == 500


def test_no_cap_pays_every_item():
    uncapped = IndicatorRule(code="SHI001", kind="per_item", amount_per_item=Decimal("10.06"))
    assert pay(uncapped, 5_000).amount == Decimal("50300.00")


def test_zero_and_absent_counts_pay_nothing():
    assert pay(FLU, 0).amount == Decimal("0.00")
    absent = pay(FLU, None)
    assert absent.amount == Decimal("0.00") and absent.items_paid == 0


def test_no_list_size_adjustment():
    """The list size, the average list size and £ a point change nothing: a fee per item."""
    small = ProviderContext(list_size=0, value_per_point=Decimal("1"), average_list_size=1)
    assert pay(FLU, 40, small).amount == pay(FLU, 40).amount == Decimal("402.40")


def test_sub_penny_amounts_never_arise_but_the_sum_is_exact():
    rule = IndicatorRule(code="X", kind="per_item", amount_per_item=Decimal("0.33"))
    assert pay(rule, 3).amount == Decimal("0.99")


def test_totals_include_item_of_service_amounts():
    result = payment_calculate(
        indicators=[
            (FLU, IndicatorValues(count=10)),
            (IndicatorRule(code="SHI001", kind="per_item", amount_per_item=Decimal("10.06")), IndicatorValues(count=2)),
        ],
        context=CONTEXT,
    )
    assert result.total_amount == Decimal("120.72")
    assert result.total_points == Decimal("0.00")


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_per_item": None},
        {"amount_per_item": Decimal("-1")},
        {"amount_per_item": 1.5},
        {"max_items": -1},
        {"max_items": 2.0},
        {"points": Decimal(3)},
    ],
)
def test_invalid_per_item_rules_are_refused(changes):
    arguments = {"code": "FLU001", "kind": "per_item", "amount_per_item": Decimal("10.06"), "max_items": 5, **changes}
    with pytest.raises(EngineInputError):
        IndicatorRule(**arguments)


def test_only_a_per_item_rule_has_an_amount_per_item_or_a_cap():
    with pytest.raises(EngineInputError):
        IndicatorRule(code="C", kind="count", amount_per_item=Decimal("1"))
    with pytest.raises(EngineInputError):
        IndicatorRule(code="C", kind="count", max_items=3)


def test_negative_count_is_refused():
    with pytest.raises(EngineInputError):
        IndicatorValues(count=-1)


def test_rule_from_definition_carries_the_fee_and_cap():
    indicator = IndicatorDef(code="FLU001", name="Flu", kind="per_item", amount_per_item=Decimal("10.06"), max_items=9)
    rule = rule_from_definition(indicator, GroupDef(code="FLU", name="Flu", indicators=(indicator,)))
    assert (rule.amount_per_item, rule.max_items) == (Decimal("10.06"), 9)


def test_a_monthly_definition_pays_its_months_apart():
    """A definition's per_item indicator, month by month: each month is its own payment."""
    service = load_service_definition_text(
        """
code: FLUM
name: Flu monthly
payment_type: ES
payment_frequency: Monthly
financial_year: 2024/25
provider_level: practice
payment: {value_per_point: "1.00", average_list_size: 9964}
domains:
  - code: FLU
    name: Flu
    groups:
      - code: FLU
        name: Flu
        indicators:
          - {code: FLU001, name: Flu, kind: per_item, amount_per_item: "10.06", max_items: 100}
"""
    )
    assert len(service.payment_dates) == 12
    indicator = service.indicator("FLU001")
    rule = rule_from_definition(indicator, service.group_of("FLU001"))
    october, november = pay(rule, 150), pay(rule, 37)
    assert (october.amount, november.amount) == (Decimal("1006.00"), Decimal("372.22"))


# --- properties ---------------------------------------------------------------------------

fees = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000.00"), places=2)
caps = st.none() | st.integers(min_value=0, max_value=100_000)
counts = st.integers(min_value=0, max_value=1_000_000)


@given(fee=fees, cap=caps, count=counts)
def test_payment_never_exceeds_the_cap_times_the_fee(fee, cap, count):
    rule = IndicatorRule(code="P", kind="per_item", amount_per_item=fee, max_items=cap)
    result = pay(rule, count)
    assert isinstance(result.amount, Decimal) and result.amount >= 0
    assert result.amount == result.amount.quantize(Decimal("0.01"))
    limit = count if cap is None else min(count, cap)
    assert result.amount == fee * limit  # exact: a fee in pence times a whole number
    if cap is not None:
        assert result.amount <= fee * cap


@given(fee=fees, cap=caps, count=counts, more=st.integers(min_value=0, max_value=1_000))
def test_payment_is_monotone_in_the_count(fee, cap, count, more):
    rule = IndicatorRule(code="P", kind="per_item", amount_per_item=fee, max_items=cap)
    assert pay(rule, count).amount <= pay(rule, count + more).amount


def test_the_count_may_arrive_as_the_stored_value():
    """The calculation's mapping gives a count-like kind its one field (``Count``) as ``value``."""
    assert indicator_calculate(rule=FLU, values=IndicatorValues(value=7), context=CONTEXT).amount == Decimal("70.42")
    same = indicator_calculate(rule=FLU, values=IndicatorValues(value=7, count=7), context=CONTEXT)
    assert same.amount == Decimal("70.42")
    with pytest.raises(EngineInputError):
        indicator_calculate(rule=FLU, values=IndicatorValues(value=7, count=8), context=CONTEXT)
