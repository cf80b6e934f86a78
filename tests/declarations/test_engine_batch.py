"""The batch engine (declarations/engine_batch.py) against the reference engine.

The reference is ``declarations.engine`` through the project's own mapping
(``calculation.inputs_build``) and the writer's checks (``calculation_writes.figures_checked``),
exactly what a recalculation falls back to.  The batch engine must give the same stored figures,
to the penny and to the 12th decimal of every ratio, on any input; and where the reference
refuses the input (``EngineInputError``, ``FiguresBeyondStorage``) the batch engine must not give
a figure at all.  Half-penny and half-hundredth-of-a-point boundaries are constructed exactly,
since random inputs almost never land on them.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from declarations import calculation, calculation_writes, engine_batch
from declarations.engine import EngineInputError
from participation.definitions.kinds import (
    COUNT,
    DENOMINATOR_FIELD,
    FRACTION,
    MANAGEMENT_INFORMATION,
    NUMERATOR_FIELD,
    PER_CAPITA,
    PER_ITEM,
    REGISTER,
    TICK_BOX,
    VALUE_FIELD,
    YES_NO,
    YES_NO_FIELD,
)
from participation.models import Indicator, IndicatorGroup, QualityService

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def two_places(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low * 100, high * 100).map(lambda cents: Decimal(cents).scaleb(-2))


def prevalence() -> st.SearchStrategy[Decimal]:
    return st.integers(1, 600_000).map(lambda n: Decimal(n).scaleb(-6))  # 0.000001 .. 0.6


@st.composite
def indicator_specs(draw, number: int, group_code: str):
    kind = draw(st.sampled_from(
        [FRACTION, FRACTION, FRACTION, REGISTER, YES_NO, TICK_BOX, COUNT, MANAGEMENT_INFORMATION, PER_CAPITA, PER_ITEM]
    ))
    spec = {"code": f"{group_code}{number:03d}", "kind": kind, "points": Decimal(0), "lower": None, "upper": None,
            "rate": None, "national_prevalence": None, "register_field": "", "amount_per_item": None,
            "max_items": None, "fields": []}
    if kind in (FRACTION, REGISTER, YES_NO, TICK_BOX):
        spec["points"] = draw(two_places(0, 200))
    if kind == FRACTION:
        lower = draw(two_places(0, 99))
        upper = draw(two_places(0, 100).filter(lambda u, lower=lower: u > lower))
        spec.update(lower=lower, upper=upper)
        if draw(st.booleans()):
            spec["register_field"] = "Register"
        elif draw(st.integers(0, 4)) == 0:
            spec["national_prevalence"] = draw(prevalence())
    if kind == REGISTER:
        spec["register_field"] = "Register"
    if kind == PER_CAPITA:
        spec["rate"] = draw(st.integers(0, 50_000).map(lambda n: Decimal(n).scaleb(-4)))
    if kind == MANAGEMENT_INFORMATION:
        spec["fields"] = ["Chronic Obstructive Pulmonary Disease Register"]
    if kind == PER_ITEM:
        spec["amount_per_item"] = draw(two_places(0, 100))
        spec["max_items"] = draw(st.none() | st.integers(0, 5_000))
        spec["fields"] = ["Count"]
    return spec


@st.composite
def services(draw):
    groups = []
    indicators = []
    for g in range(draw(st.integers(1, 4))):
        code = "ABCD"[g]
        group = IndicatorGroup(pk=g + 1, code=code, name=code, national_prevalence=draw(st.none() | prevalence()))
        groups.append(group)
        for number in range(draw(st.integers(1, 6))):
            spec = draw(indicator_specs(number, code))
            indicators.append(Indicator(pk=len(indicators) + 1, group=group, group_id=group.pk, **spec))
    service = QualityService(
        code="TEST", value_per_point=draw(two_places(0, 500)), average_list_size=draw(st.integers(1, 20_000))
    )
    return service, indicators


@st.composite
def provider_values(draw, indicators, *, corrupt: bool = False):
    fields: dict[int, dict[str, int]] = {}
    answers: dict[str, bool] = {}
    count = st.integers(-3, 5_000) if corrupt else st.integers(0, 5_000)
    for indicator in indicators:
        if draw(st.integers(0, 9)) == 0:
            continue  # absent
        values: dict[str, int] = {}
        if indicator.kind == FRACTION:
            denominator = draw(count)
            numerator = draw(count if corrupt else st.integers(0, max(denominator, 0)))
            values = {NUMERATOR_FIELD: numerator, DENOMINATOR_FIELD: denominator}
            if indicator.register_field:
                values[indicator.register_field] = draw(count)
        elif indicator.kind == REGISTER:
            values = {indicator.register_field: draw(count)}
        elif indicator.kind == YES_NO:
            values = {YES_NO_FIELD: draw(st.integers(0, 1))}
        elif indicator.kind == COUNT:
            values = {VALUE_FIELD: draw(count)}
        elif indicator.kind == MANAGEMENT_INFORMATION:
            values = {"Chronic Obstructive Pulmonary Disease Register": draw(count)}
        elif indicator.kind == PER_ITEM:
            values = {"Count": draw(count)}
        else:
            answers[indicator.code] = draw(st.booleans())
        fields[indicator.pk] = values
    list_size = draw(st.none() | st.integers(0, 60_000))
    return fields, answers, list_size


def reference(service, indicators, fields, answers, list_size) -> engine_batch.ProviderFigures:
    by_id = {indicator.pk: indicator for indicator in indicators}
    inputs = calculation.inputs_build(
        service=service,
        indicators=indicators,
        fields_by_code={by_id[pk].code: values for pk, values in fields.items()},
        tick_boxes=answers,
        list_size=list_size,
    )
    return calculation_writes.figures_checked(inputs=inputs, result=inputs.calculate())


def batch(service, indicators, fields, answers, list_size) -> engine_batch.ProviderFigures:
    rules = calculation.service_rules(service, indicators)
    return engine_batch.provider_calculate(plan=rules.plan, fields=fields, yes_answers=answers, list_size=list_size)


def assert_same(expected: engine_batch.ProviderFigures, got: engine_batch.ProviderFigures) -> None:
    """The same stored figures: every value of every indicator's result, and the totals."""
    assert got.rows() == expected.rows()
    assert got.amounts == expected.amounts
    assert (got.total_points, got.total_amount, got.cpi, got.list_size) == (
        expected.total_points, expected.total_amount, expected.cpi, expected.list_size,
    )


@SETTINGS
@given(data=st.data(), world=services())
def test_the_batch_engine_gives_the_reference_figures_on_any_input(data, world):
    service, indicators = world
    fields, answers, list_size = data.draw(provider_values(indicators))
    try:
        expected = reference(service, indicators, fields, answers, list_size)
    except calculation_writes.FiguresBeyondStorage:
        with pytest.raises(engine_batch.NeedsReference):
            batch(service, indicators, fields, answers, list_size)
        return
    try:
        got = batch(service, indicators, fields, answers, list_size)
    except engine_batch.NeedsReference:
        pytest.fail("the batch engine left to the reference an input the reference calculates")
    assert_same(expected, got)


@SETTINGS
@given(data=st.data(), world=services())
def test_input_the_reference_refuses_never_gets_a_figure_from_the_batch(data, world):
    service, indicators = world
    fields, answers, list_size = data.draw(provider_values(indicators, corrupt=True))
    try:
        expected = reference(service, indicators, fields, answers, list_size)
    except (EngineInputError, calculation_writes.FiguresBeyondStorage):
        with pytest.raises((engine_batch.NeedsReference, EngineInputError)):
            batch(service, indicators, fields, answers, list_size)
        return
    assert_same(expected, batch(service, indicators, fields, answers, list_size))


# ---------------------------------------------------------------------------------------------
# Exact halves: constructed, so that the rounding of a half is what is tested
# ---------------------------------------------------------------------------------------------


def one_indicator_service(*, kind=FRACTION, points, lower=None, upper=None, vpp, average, prevalence_=None):
    group = IndicatorGroup(pk=1, code="G", name="G", national_prevalence=prevalence_)
    register_field = "Register" if kind == REGISTER or prevalence_ is not None else ""
    indicator = Indicator(
        pk=1, group=group, group_id=1, code="G001", kind=kind, points=points, lower=lower, upper=upper,
        register_field=register_field, fields=[],
    )
    return QualityService(code="HALF", value_per_point=vpp, average_list_size=average), [indicator]


@SETTINGS
@given(
    lower=st.integers(0, 9_000),
    width=st.integers(1, 1_000),
    points=st.integers(1, 10_000),
    k=st.integers(0, 9_999),
)
def test_points_exactly_on_a_half_hundredth_round_up_in_both(lower, width, points, k):
    """H x 100 = k + 1/2 exactly (e.g. 0.625 points): both engines give k + 1 hundredths."""
    lower_d, upper_d, points_d = Decimal(lower).scaleb(-2), Decimal(lower + width).scaleb(-2), Decimal(points).scaleb(-2)
    assume(upper_d <= 100 and k + 1 <= points)  # strictly between the thresholds
    # D = E + (k + 1/2) / (100 G) x (F - E); D = 100 n / d
    achievement = Fraction(lower_d) + Fraction(2 * k + 1, 200) / Fraction(points_d) * (Fraction(upper_d) - Fraction(lower_d))
    share = achievement / 100
    numerator, denominator = share.numerator, share.denominator
    assume(0 < numerator <= denominator <= 10**12)
    service, indicators = one_indicator_service(points=points_d, lower=lower_d, upper=upper_d, vpp=Decimal("1.00"), average=1)
    fields = {1: {NUMERATOR_FIELD: numerator, DENOMINATOR_FIELD: denominator}}
    expected = reference(service, indicators, fields, {}, 1)
    got = batch(service, indicators, fields, {}, 1)
    assert expected.rows()[0][7] == Decimal(k + 1).scaleb(-2)  # half up
    assert_same(expected, got)


@SETTINGS
@given(
    cents=st.sampled_from([1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 40, 50, 64, 80, 100, 125, 200, 250, 400, 500, 1000]),
    m=st.integers(0, 10**6),
    list_size=st.integers(1, 30_000),
    shift=st.integers(0, 6),
)
def test_money_exactly_on_a_half_penny_rounds_up_in_both(cents, m, list_size, shift):
    """The exact amount is m + 1/2 pence: £/point chosen so, with a CPI of 2**-shift (a list size
    over an average list size that is not 1), and both engines pay m + 1 pence."""
    average = list_size * 2**shift
    # pence = (cents / 100) x vpp_pence x list_size / average = m + 1/2
    #   =>  vpp_pence = 100 (2m + 1) 2**shift / (2 cents), vpp_pounds = (2m + 1) 2**shift / (2 cents)
    vpp_pounds = Fraction((2 * m + 1) * 2**shift, 2 * cents)
    vpp = Decimal(vpp_pounds.numerator) / Decimal(vpp_pounds.denominator)
    assume(Fraction(vpp) == vpp_pounds)  # a finite decimal (denominators of 2s and 5s only)
    service, indicators = one_indicator_service(kind=REGISTER, points=Decimal(cents).scaleb(-2), vpp=vpp, average=average)
    fields = {1: {"Register": 1}}
    expected = reference(service, indicators, fields, {}, list_size)
    got = batch(service, indicators, fields, {}, list_size)
    assert expected.rows()[0][8] == Decimal(m + 1).scaleb(-2)
    assert_same(expected, got)


def test_a_prevalence_weighted_amount_on_a_half_penny_rounds_up():
    """10.00 points x £1.00 x CPI 1 x APDF (12/1000) / 0.24 = £0.50 x ... constructed: 0.125 points-pounds."""
    service, indicators = one_indicator_service(
        kind=REGISTER, points=Decimal("0.25"), vpp=Decimal("1.00"), average=1_000, prevalence_=Decimal("0.5")
    )
    # pounds = 0.25 x 1.00 x (1000/1000) x (250/1000) / 0.5 = 0.125 -> £0.13
    fields = {1: {"Register": 250}}
    expected = reference(service, indicators, fields, {}, 1_000)
    assert expected.rows()[0][8] == Decimal("0.13")
    assert_same(expected, batch(service, indicators, fields, {}, 1_000))


def test_an_indicator_kind_the_batch_does_not_compile_is_paid_by_the_reference():
    """A per_item indicator (not compiled) goes through the reference engine inside the batch."""
    group = IndicatorGroup(pk=1, code="F", name="F", national_prevalence=None)
    indicator = Indicator(
        pk=1, group=group, group_id=1, code="FLU1", kind=PER_ITEM, points=Decimal(0), amount_per_item=Decimal("10.06"),
        max_items=100, fields=["Count"],
    )
    service = QualityService(code="FLU", value_per_point=Decimal("0"), average_list_size=1)
    rules = calculation.service_rules(service, [indicator])
    assert not rules.plan.indicators[0].fast
    fields = {1: {"Count": 150}}
    got = batch(service, [indicator], fields, {}, 5_000)
    assert got.rows()[0][8] == Decimal("1006.00") and got.total_amount == Decimal("1006.00")
    assert_same(reference(service, [indicator], fields, {}, 5_000), got)
