"""The engine with national figures set from the year-end data (issue 13 §4): the average list
size and a group's national prevalence arrive as exact Fractions and are used unrounded."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from declarations.engine import (
    EngineInputError,
    IndicatorRule,
    IndicatorValues,
    ProviderContext,
    indicator_calculate,
)

PER_POINT = Decimal("220.62")


def pence(value: Fraction) -> Decimal:
    """The independent check: the exact value, rounded half-up to the penny."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_the_cpi_uses_the_exact_average_list_size():
    average = Fraction(62_000, 7)  # 8,857.142857...: sum of list sizes / practices, never rounded
    rule = IndicatorRule(code="QI013", kind="yes_no", points=Decimal(37))
    context = ProviderContext(list_size=12_000, value_per_point=PER_POINT, average_list_size=average)

    result = indicator_calculate(rule=rule, values=IndicatorValues(yes=True), context=context)

    assert result.amount == pence(37 * Fraction(PER_POINT) * Fraction(12_000) / average)
    assert result.cpi == Decimal(12_000 * 7) / Decimal(62_000)


def test_the_apdf_uses_the_exact_national_prevalence():
    prevalence = Fraction(7, 360)  # 350 / 18,000
    rule = IndicatorRule(
        code="AF001", kind="register", points=Decimal(5), group_code="AF", group_national_prevalence=prevalence
    )
    context = ProviderContext(
        list_size=12_000, value_per_point=PER_POINT, average_list_size=Fraction(6_000), group_registers={"AF": 300}
    )

    result = indicator_calculate(rule=rule, values=IndicatorValues(register=300), context=context)

    apdf = Fraction(300, 12_000) / prevalence
    assert result.amount == pence(5 * Fraction(PER_POINT) * Fraction(12_000, 6_000) * apdf)


def test_a_whole_fraction_pays_as_the_same_int():
    rule = IndicatorRule(code="QI013", kind="yes_no", points=Decimal(37))
    as_int = ProviderContext(list_size=10_250, value_per_point=PER_POINT, average_list_size=9_964)
    as_fraction = ProviderContext(list_size=10_250, value_per_point=PER_POINT, average_list_size=Fraction(9_964))
    values = IndicatorValues(yes=True)
    assert indicator_calculate(rule=rule, values=values, context=as_int) == indicator_calculate(
        rule=rule, values=values, context=as_fraction
    )


@pytest.mark.parametrize("average", [Fraction(0), Fraction(-5, 2), 9_964.5, "9964"])
def test_an_impossible_average_list_size_is_refused(average):
    with pytest.raises(EngineInputError):
        ProviderContext(list_size=1, value_per_point=PER_POINT, average_list_size=average)


@pytest.mark.parametrize("prevalence", [Fraction(0), Fraction(-1, 100), 0.02])
def test_an_impossible_national_prevalence_is_refused(prevalence):
    with pytest.raises(EngineInputError):
        IndicatorRule(code="AF001", kind="register", points=Decimal(5), group_code="AF", group_national_prevalence=prevalence)
