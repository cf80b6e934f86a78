"""The payment calculation engine (declarations/engine.py): the rules of docs/payment-rules.md,
the worked examples to the penny, and properties that hold for any input."""

import ast
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from declarations import engine, engine_arithmetic, engine_types
from declarations.engine import (
    EngineInputError,
    IndicatorResult,
    IndicatorRule,
    IndicatorValues,
    ProviderContext,
    aspiration_instalments,
    aspiration_total,
    aspiration_total_from_points,
    indicator_calculate,
    payment_calculate,
    round_money,
    round_points,
    rule_from_definition,
)
from participation.definitions import GroupDef, IndicatorDef

PENNY = Decimal("0.01")


def pence(value: Decimal) -> Decimal:
    """The independent check: plain Decimal arithmetic, rounded half-up to the penny."""
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def qof_2425(list_size: int = 12_000, **registers: int) -> ProviderContext:
    return ProviderContext(
        list_size=list_size,
        value_per_point=Decimal("220.62"),
        average_list_size=9_964,
        group_registers=registers,
    )


VI001 = IndicatorRule(code="VI001", kind="fraction", points=Decimal(18), lower=Decimal(89), upper=Decimal(96))


def calculate(rule: IndicatorRule, context: ProviderContext, **values) -> IndicatorResult:
    return indicator_calculate(rule=rule, values=IndicatorValues(**values), context=context)


# ---------------------------------------------------------------------------------------------
# Worked examples
# ---------------------------------------------------------------------------------------------


def test_vi001_worked_example_pays_2803_14_from_the_rounded_points():
    result = calculate(VI001, qof_2425(), numerator=108, denominator=116)

    assert result.achievement_display == Decimal("93.10")
    assert result.achievement_percent.quantize(Decimal("0.0001")) == Decimal("93.1034")
    assert result.points == Decimal("10.55")
    assert result.cpi.quantize(Decimal("0.000001")) == Decimal("1.204336")
    assert result.apdf == 1
    # rounded points x £/point x unrounded CPI
    assert pence(Decimal("10.55") * Decimal("220.62") * 12_000 / 9_964) == Decimal("2803.14")
    assert result.amount == Decimal("2803.14")


def test_vi001_worked_example_needs_4_more_patients_for_1979_47_more():
    result = calculate(VI001, qof_2425(), numerator=108, denominator=116)

    # 96% of 116 is 111.36, so 112 patients: 108 + 4
    assert result.patients_to_upper == 4
    full = pence(Decimal(18) * Decimal("220.62") * 12_000 / 9_964)
    assert full == Decimal("4782.61")
    assert result.amount_at_stake == full - Decimal("2803.14") == Decimal("1979.47")
    at_upper = calculate(VI001, qof_2425(), numerator=112, denominator=116)
    assert at_upper.points == Decimal("18.00") and at_upper.amount == full
    assert calculate(VI001, qof_2425(), numerator=111, denominator=116).points < Decimal(18)


def test_ardens_atrial_fibrillation_example_pays_15436_13():
    # Ardens 2021/22: 29 points, £201.16 a point, list 16,000, national average 9,085; practice
    # prevalence 3.05% is a register of 488 (488 / 16,000 = 0.0305) against national 2.03%.
    af001 = IndicatorRule(
        code="AF001",
        kind="register",
        points=Decimal(29),
        group_code="AF",
        group_national_prevalence=Decimal("0.0203"),
    )
    context = ProviderContext(
        list_size=16_000,
        value_per_point=Decimal("201.16"),
        average_list_size=9_085,
        group_registers={"AF": 488},
    )

    result = calculate(af001, context, register=488)

    assert result.cpi.quantize(Decimal("0.0001")) == Decimal("1.7611")
    assert result.apdf.quantize(Decimal("0.0001")) == Decimal("1.5025")
    independent = pence(
        Decimal(29)
        * Decimal("201.16")
        * (Decimal(16_000) / Decimal(9_085))
        * ((Decimal(488) / Decimal(16_000)) / Decimal("0.0203"))
    )
    assert independent == Decimal("15436.13")
    assert result.points == Decimal("29.00")
    assert result.amount == Decimal("15436.13")


def test_iif_can02_constructed_example_is_prevalence_adjusted_by_its_own_denominator():
    # Constructed: IIF 2024/25 CAN-02, 22 points, 65%-80%, £198 a point; PCN list 48,000 against a
    # national average PCN list of 48,000 (CPI 1); 450 of 600 referrals had a FIT (75%); national
    # prevalence 0.0109, so APDF = (600 / 48,000) / 0.0109 = 1.1468.
    can02 = IndicatorRule(
        code="CAN-02",
        kind="fraction",
        points=Decimal(22),
        lower=Decimal(65),
        upper=Decimal(80),
        own_national_prevalence=Decimal("0.0109"),
    )
    context = ProviderContext(list_size=48_000, value_per_point=Decimal(198), average_list_size=48_000)

    result = calculate(can02, context, numerator=450, denominator=600)

    assert result.achievement_display == Decimal("75.00")
    assert result.points == Decimal("14.67")  # (75 - 65) / 15 x 22 = 14.666...
    assert result.cpi == 1
    assert result.apdf.quantize(Decimal("0.0001")) == Decimal("1.1468")
    independent = pence(
        Decimal("14.67") * Decimal(198) * (Decimal(600) / Decimal(48_000)) / Decimal("0.0109")
    )
    assert independent == Decimal("3331.03")
    assert result.amount == Decimal("3331.03")
    assert result.patients_to_upper == 30  # 80% of 600 = 480
    assert result.amount_at_stake == pence(
        Decimal(22) * 198 * Decimal(600) / 48_000 / Decimal("0.0109")
    ) - Decimal("3331.03")


def test_own_prevalence_wins_over_the_group_prevalence():
    rule = IndicatorRule(
        code="CAN-02",
        kind="fraction",
        points=Decimal(22),
        lower=Decimal(65),
        upper=Decimal(80),
        own_national_prevalence=Decimal("0.0109"),
        group_code="CAN",
        group_national_prevalence=Decimal("0.5"),
    )
    context = ProviderContext(
        list_size=48_000, value_per_point=Decimal(198), average_list_size=48_000, group_registers={"CAN": 1}
    )
    assert calculate(rule, context, numerator=450, denominator=600).amount == Decimal("3331.03")


# ---------------------------------------------------------------------------------------------
# Every kind
# ---------------------------------------------------------------------------------------------


def test_register_indicator_earns_full_points_when_the_register_is_above_zero():
    rule = IndicatorRule(code="AF001", kind="register", points=Decimal(29))
    assert calculate(rule, qof_2425(), register=1).points == Decimal("29.00")
    assert calculate(rule, qof_2425(), register=1).amount == pence(29 * Decimal("220.62") * 12_000 / 9_964)
    assert calculate(rule, qof_2425(), register=0).amount == Decimal("0.00")
    assert calculate(rule, qof_2425()).points == Decimal("0.00")


@pytest.mark.parametrize("kind", ["yes_no", "tick_box"])
def test_yes_no_and_tick_box_earn_full_points_on_yes_only(kind):
    rule = IndicatorRule(code="QI001", kind=kind, points=Decimal(37))
    yes = calculate(rule, qof_2425(), yes=True)
    assert yes.points == Decimal("37.00")
    assert yes.amount == pence(37 * Decimal("220.62") * 12_000 / 9_964)
    for answer in (False, None):  # no answer counts as No (a tick box defaults to No)
        result = calculate(rule, qof_2425(), yes=answer)
        assert result.points == Decimal("0.00") and result.amount == Decimal("0.00")
    assert yes.patients_to_upper is None and yes.amount_at_stake is None


def test_count_indicator_earns_no_points_and_no_money():
    rule = IndicatorRule(code="CVD-COUNT", kind="count")
    result = calculate(rule, qof_2425(), value=5_000)
    assert (result.points, result.amount, result.cpi, result.apdf) == (
        Decimal("0.00"),
        Decimal("0.00"),
        None,
        None,
    )


def test_per_capita_indicator_pays_rate_times_list_size_on_yes():
    rule = IndicatorRule(code="CAIP-01", kind="per_capita", rate=Decimal("0.395"))
    context = ProviderContext(list_size=48_123, value_per_point=Decimal(198), average_list_size=48_000)
    yes = calculate(rule, context, yes=True)
    assert yes.points == Decimal("0.00")
    assert yes.amount == pence(Decimal("0.395") * 48_123) == Decimal("19008.59")  # 19,008.585 rounds up
    assert calculate(rule, context, yes=False).amount == Decimal("0.00")
    assert calculate(rule, context).amount == Decimal("0.00")


def test_rule_from_definition_carries_the_group_prevalence():
    indicator = IndicatorDef(
        code="AF006",
        name="AF stroke risk",
        kind="fraction",
        points=Decimal(12),
        lower=Decimal(40),
        upper=Decimal(90),
    )
    group = GroupDef(
        code="AF", name="Atrial fibrillation", national_prevalence=Decimal("0.0203"), indicators=(indicator,)
    )
    rule = rule_from_definition(indicator, group)
    assert rule == IndicatorRule(
        code="AF006",
        kind="fraction",
        points=Decimal(12),
        lower=Decimal(40),
        upper=Decimal(90),
        group_code="AF",
        group_national_prevalence=Decimal("0.0203"),
    )


# ---------------------------------------------------------------------------------------------
# Thresholds and edge cases
# ---------------------------------------------------------------------------------------------


def test_achievement_exactly_on_the_lower_threshold_earns_nothing():
    rule = IndicatorRule(code="X", kind="fraction", points=Decimal(10), lower=Decimal(40), upper=Decimal(90))
    result = calculate(rule, qof_2425(), numerator=40, denominator=100)
    assert result.points == Decimal("0.00") and result.amount == Decimal("0.00")
    assert calculate(rule, qof_2425(), numerator=41, denominator=100).points == Decimal("0.20")


def test_achievement_exactly_on_the_upper_threshold_earns_full_points():
    rule = IndicatorRule(code="X", kind="fraction", points=Decimal(10), lower=Decimal(40), upper=Decimal(90))
    result = calculate(rule, qof_2425(), numerator=90, denominator=100)
    assert result.points == Decimal("10.00")
    assert result.patients_to_upper == 0 and result.amount_at_stake == Decimal("0.00")
    assert calculate(rule, qof_2425(), numerator=89, denominator=100).points == Decimal("9.80")


def test_thresholds_with_decimal_places_are_compared_exactly():
    # 96.5% of 200 = 193 exactly: 193 reaches the upper threshold, 192 does not
    rule = IndicatorRule(
        code="X", kind="fraction", points=Decimal(18), lower=Decimal("89.5"), upper=Decimal("96.5")
    )
    assert calculate(rule, qof_2425(), numerator=193, denominator=200).points == Decimal("18.00")
    assert calculate(rule, qof_2425(), numerator=192, denominator=200).patients_to_upper == 1


def test_points_round_half_up():
    # D = 101 / 200 = 50.5%; H = (50.5 - 50) / 10 x 2.5 = 0.125 exactly: half-up gives 0.13, not 0.12
    rule = IndicatorRule(
        code="X", kind="fraction", points=Decimal("2.5"), lower=Decimal(50), upper=Decimal(60)
    )
    assert calculate(rule, qof_2425(), numerator=101, denominator=200).points == Decimal("0.13")
    assert round_points(Decimal("0.125")) == Decimal("0.13")
    assert round_money(Decimal("2.345")) == Decimal("2.35")


def test_zero_denominator_is_not_earnable():
    result = calculate(VI001, qof_2425(), numerator=0, denominator=0)
    assert not result.earnable
    assert result.points == Decimal("0.00") and result.amount == Decimal("0.00")
    assert result.achievement_percent is None and result.patients_to_upper is None
    assert result.amount_at_stake is None


def test_missing_fraction_values_earn_nothing():
    result = calculate(VI001, qof_2425())
    assert not result.earnable and result.amount == Decimal("0.00")


def test_list_size_zero_pays_nothing_but_shows_the_points():
    rule = IndicatorRule(
        code="AF006",
        kind="fraction",
        points=Decimal(12),
        lower=Decimal(40),
        upper=Decimal(90),
        group_code="AF",
        group_national_prevalence=Decimal("0.0203"),
    )
    result = calculate(rule, qof_2425(list_size=0, AF=10), numerator=9, denominator=10)
    assert result.points == Decimal("12.00")
    assert (result.cpi, result.apdf, result.amount) == (0, 0, Decimal("0.00"))
    unweighted = calculate(VI001, qof_2425(list_size=0), numerator=116, denominator=116)
    assert unweighted.amount == Decimal("0.00")


def test_zero_or_absent_register_in_a_prevalence_group_gives_apdf_zero():
    rule = IndicatorRule(
        code="AF006",
        kind="fraction",
        points=Decimal(12),
        lower=Decimal(40),
        upper=Decimal(90),
        group_code="AF",
        group_national_prevalence=Decimal("0.0203"),
    )
    for context in (qof_2425(AF=0), qof_2425()):
        result = calculate(rule, context, numerator=9, denominator=10)
        assert result.apdf == 0 and result.amount == Decimal("0.00")


@pytest.mark.parametrize(
    "values",
    [
        {"numerator": 5, "denominator": 4},
        {"numerator": -1, "denominator": 4},
        {"numerator": 1.0, "denominator": 4},
        {"register": True},
        {"yes": 1},
    ],
)
def test_corrupt_values_are_refused(values):
    with pytest.raises(EngineInputError):
        IndicatorValues(**values)


@pytest.mark.parametrize(
    "changes",
    [
        {"points": 18.0},
        {"lower": Decimal(96), "upper": Decimal(89)},
        {"upper": None},
        {"kind": "percentage"},
        {"lower": Decimal("NaN")},
        {"own_national_prevalence": Decimal(0)},
        {"group_national_prevalence": Decimal("0.02")},  # without a group_code
    ],
)
def test_invalid_rules_are_refused(changes):
    fields = {
        "code": "X",
        "kind": "fraction",
        "points": Decimal(18),
        "lower": Decimal(89),
        "upper": Decimal(96),
        **changes,
    }
    with pytest.raises(EngineInputError):
        IndicatorRule(**fields)


@pytest.mark.parametrize(
    "changes",
    [
        {"value_per_point": 220.62},
        {"average_list_size": 0},
        {"list_size": -1},
        {"group_registers": {"AF": -3}},
    ],
)
def test_invalid_contexts_are_refused(changes):
    fields = {
        "list_size": 12_000,
        "value_per_point": Decimal("220.62"),
        "average_list_size": 9_964,
        **changes,
    }
    with pytest.raises(EngineInputError):
        ProviderContext(**fields)


def test_an_indicator_listed_twice_is_refused():
    values = IndicatorValues(numerator=1, denominator=2)
    with pytest.raises(EngineInputError):
        payment_calculate(indicators=[(VI001, values), (VI001, values)], context=qof_2425())


def test_aspiration_worked_example_to_the_penny():
    """80% of a 2023/24 year-end payment of £120,345.67, uplifted from £213.43 to £220.62 a point:
    0.8 x 120,345.67 x 220.62 / 213.43 = 99,519.886... -> £99,519.89; twelve instalments of
    £8,293.32, the last £8,293.37."""
    total = aspiration_total(
        percent=Decimal(80),
        previous_payment=Decimal("120345.67"),
        value_per_point=Decimal("220.62"),
        previous_value_per_point=Decimal("213.43"),
    )
    assert total == Decimal("99519.89")
    assert aspiration_instalments(total) == (Decimal("8293.32"),) * 11 + (Decimal("8293.37"),)


def test_aspiration_on_agreed_points_uses_this_years_point_value_and_cpi():
    """80% x 500 agreed points x £220.62 x CPI (12,000 / 9,964) = 106,280.208... -> £106,280.21."""
    total = aspiration_total_from_points(
        percent=Decimal(80), points=Decimal(500), value_per_point=Decimal("220.62"),
        list_size=12_000, average_list_size=9_964,
    )
    assert total == Decimal("106280.21")


def test_aspiration_edge_cases():
    assert aspiration_instalments(Decimal("0.00")) == (Decimal("0.00"),) * 12
    # A tiny total: the rounded-up twelfth (0.01) would overshoot, so the twelfth rounds down.
    assert aspiration_instalments(Decimal("0.10")) == (Decimal("0.00"),) * 11 + (Decimal("0.10"),)
    assert aspiration_total(
        percent=Decimal(70), previous_payment=Decimal(0), value_per_point=Decimal("213.43"),
        previous_value_per_point=Decimal("207.56"),
    ) == Decimal("0.00")
    for bad in (
        {"percent": Decimal(101)},
        {"previous_payment": Decimal(-1)},
        {"previous_payment": 1000.0},
        {"previous_value_per_point": Decimal(0)},
    ):
        arguments = {
            "percent": Decimal(80), "previous_payment": Decimal(1000), "value_per_point": Decimal("220.62"),
            "previous_value_per_point": Decimal("213.43"), **bad,
        }
        with pytest.raises(EngineInputError):
            aspiration_total(**arguments)
    with pytest.raises(EngineInputError):
        aspiration_instalments(Decimal("-0.01"))


# --- Income protection ----------------------------------------------------------------------

AST008 = IndicatorRule(
    code="AST008", kind="fraction", points=Decimal(6), lower=Decimal(45), upper=Decimal(80),
    group_code="AST", group_national_prevalence=Decimal("0.0650"), income_protected=True,
)


def _protected_payment(points: Decimal) -> Decimal:
    """points x £220.62 x CPI (12,000 / 9,964) x APDF ((780 / 12,000) / 0.0650), plain Decimal."""
    apdf = Decimal(780) / Decimal(12_000) / Decimal("0.0650")
    return pence(points * Decimal("220.62") * Decimal(12_000) / Decimal(9_964) * apdf)


@pytest.mark.parametrize("numerator", [10, 100])  # achievement falls to 10%, or rises to 100%
def test_a_protected_indicator_keeps_last_years_points_whatever_this_years_achievement(numerator):
    result = calculate(
        AST008, qof_2425(AST=780), numerator=numerator, denominator=100, protected_points=Decimal("4.29")
    )
    assert result.points == Decimal("4.29")
    assert result.amount == _protected_payment(Decimal("4.29"))
    assert result.achieved_points == (Decimal("0.00") if numerator == 10 else Decimal("6.00"))
    assert result.achievement_display == Decimal(f"{numerator}.00")
    assert (result.income_protected, result.protected_points, result.protection_missing) == (
        True, Decimal("4.29"), False,
    )
    assert result.patients_to_upper is None and result.amount_at_stake is None  # achievement moves nothing


def test_a_protected_indicator_without_a_previous_calculation_is_paid_on_this_years_achievement_flagged():
    result = calculate(AST008, qof_2425(AST=780), numerator=100, denominator=100)
    assert result.points == result.achieved_points == Decimal("6.00")
    assert result.amount == _protected_payment(Decimal(6))
    assert (result.protected_points, result.protection_missing) == (None, True)


def test_protected_points_are_read_only_for_a_protected_rule():
    unprotected = IndicatorRule(**{**AST008.__dict__, "income_protected": False})
    result = calculate(unprotected, qof_2425(AST=780), numerator=10, denominator=100, protected_points=Decimal(6))
    assert result.points == Decimal("0.00")
    assert (result.income_protected, result.achieved_points, result.protection_missing) == (False, None, False)


def test_a_protected_register_and_qi_indicator_pay_last_years_points_at_this_years_cpi():
    register = IndicatorRule(
        code="AF001", kind="register", points=Decimal(5), group_code="AF",
        group_national_prevalence=Decimal("0.0219"), income_protected=True,
    )
    qi = IndicatorRule(code="QI013", kind="yes_no", points=Decimal(27), income_protected=True)
    context = qof_2425(AF=0)
    lost_register = calculate(register, context, register=0, protected_points=Decimal(5))
    assert lost_register.points == Decimal("5.00") and lost_register.amount == Decimal("0.00")  # APDF 0 this year
    qi_result = calculate(qi, context, yes=False, protected_points=Decimal(27))
    assert qi_result.points == Decimal("27.00")
    assert qi_result.amount == pence(Decimal(27) * Decimal("220.62") * Decimal(12_000) / Decimal(9_964))


def test_protected_points_must_be_a_non_negative_decimal():
    for bad in (Decimal(-1), 4.5, "4"):
        with pytest.raises(EngineInputError):
            IndicatorValues(protected_points=bad)
    with pytest.raises(EngineInputError):
        IndicatorRule(code="X", kind="count", income_protected=True)


def test_rule_from_definition_carries_income_protection():
    indicator = IndicatorDef(
        code="AF001", name="AF register", kind="register", points=Decimal(5), income_protected=True,
        protected_code="AF009",
    )
    rule = rule_from_definition(indicator, GroupDef(code="AF", name="AF", indicators=(indicator,)))
    assert rule.income_protected is True


def test_payment_totals_sum_the_rounded_indicator_amounts():
    af001 = IndicatorRule(
        code="AF001",
        kind="register",
        points=Decimal(29),
        group_code="AF",
        group_national_prevalence=Decimal("0.0203"),
    )
    qi = IndicatorRule(code="QI001", kind="yes_no", points=Decimal(37))
    context = qof_2425(AF=300)
    payment = payment_calculate(
        indicators=[
            (VI001, IndicatorValues(numerator=108, denominator=116)),
            (af001, IndicatorValues(register=300)),
            (qi, IndicatorValues(yes=True)),
        ],
        context=context,
    )
    assert payment.indicator("VI001").amount == Decimal("2803.14")
    assert payment.total_points == Decimal("10.55") + Decimal("29.00") + Decimal("37.00")
    assert payment.total_amount == sum(r.amount for r in payment.indicators)
    assert [r.code for r in payment.indicators] == ["VI001", "AF001", "QI001"]


@pytest.mark.parametrize("module", [engine, engine_arithmetic, engine_types], ids=lambda m: m.__name__)
def test_the_engine_imports_no_django_and_uses_no_float(module):
    source = Path(module.__file__).read_text()
    tree = ast.parse(source)
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.col_offset == 0
    }
    assert "django" not in imported
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert "float" not in names
    floats = [
        node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, float)
    ]
    assert floats == []


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

thresholds = (
    st.tuples(
        st.decimals(min_value=0, max_value=100, places=1),
        st.decimals(min_value=0, max_value=100, places=1),
    )
    .filter(lambda t: t[0] < t[1])
    .map(lambda t: (Decimal(t[0]), Decimal(t[1])))
)

fraction_rules = st.builds(
    lambda code, points, bounds, own: IndicatorRule(
        code=code,
        kind="fraction",
        points=points,
        lower=bounds[0],
        upper=bounds[1],
        own_national_prevalence=own,
    ),
    code=st.text(alphabet="ABCDEFGHIJ0123456789", min_size=3, max_size=6),
    points=st.decimals(min_value=0, max_value=300, places=2),
    bounds=thresholds,
    own=st.none() | st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.5"), places=4),
)

contexts = st.builds(
    lambda list_size, vpp, avg: ProviderContext(
        list_size=list_size, value_per_point=vpp, average_list_size=avg
    ),
    list_size=st.integers(min_value=0, max_value=200_000),
    vpp=st.decimals(min_value=0, max_value=500, places=2),
    avg=st.integers(min_value=1, max_value=60_000),
)


@st.composite
def fraction_values(draw, denominator_min=0):
    denominator = draw(st.integers(min_value=denominator_min, max_value=100_000))
    numerator = draw(st.integers(min_value=0, max_value=denominator))
    return IndicatorValues(numerator=numerator, denominator=denominator)


def assert_decimals(result: IndicatorResult) -> None:
    for name in ("points_available", "points", "amount"):
        assert type(getattr(result, name)) is Decimal
    for name in ("achievement_percent", "achievement_display", "cpi", "apdf", "amount_at_stake"):
        assert getattr(result, name) is None or type(getattr(result, name)) is Decimal
    assert result.points.as_tuple().exponent == -2
    assert result.amount.as_tuple().exponent == -2


@given(rule=fraction_rules, values=fraction_values(), context=contexts)
def test_points_stay_within_zero_and_the_points_available(rule, values, context):
    result = indicator_calculate(rule=rule, values=values, context=context)
    assert Decimal(0) <= result.points <= rule.points


@given(rule=fraction_rules, values=fraction_values(), context=contexts)
def test_amounts_are_never_negative_and_always_decimal_pence(rule, values, context):
    result = indicator_calculate(rule=rule, values=values, context=context)
    assert result.amount >= 0
    assert result.amount_at_stake is None or result.amount_at_stake >= 0
    assert_decimals(result)


@given(rule=fraction_rules, context=contexts, data=st.data())
def test_points_and_amount_never_fall_as_the_numerator_rises(rule, context, data):
    denominator = data.draw(st.integers(min_value=1, max_value=5_000))
    low = data.draw(st.integers(min_value=0, max_value=denominator - 1))
    high = data.draw(st.integers(min_value=low + 1, max_value=denominator))
    before = indicator_calculate(
        rule=rule, values=IndicatorValues(numerator=low, denominator=denominator), context=context
    )
    after = indicator_calculate(
        rule=rule, values=IndicatorValues(numerator=high, denominator=denominator), context=context
    )
    assert after.points >= before.points
    assert after.amount >= before.amount
    assert after.patients_to_upper <= before.patients_to_upper


@given(rule=fraction_rules, values=fraction_values(denominator_min=1), context=contexts)
def test_patients_to_upper_is_exactly_what_reaches_the_upper_threshold(rule, values, context):
    result = indicator_calculate(rule=rule, values=values, context=context)
    needed = values.numerator + result.patients_to_upper
    assert needed <= values.denominator
    assert Fraction(100 * needed, values.denominator) >= Fraction(rule.upper)
    if result.patients_to_upper:
        assert Fraction(100 * (needed - 1), values.denominator) < Fraction(rule.upper)
    reached = indicator_calculate(
        rule=rule, values=IndicatorValues(numerator=needed, denominator=values.denominator), context=context
    )
    assert reached.points == round_points(rule.points)
    assert reached.amount == result.amount + result.amount_at_stake


@given(rule=fraction_rules, numerator=st.sampled_from([0, None]), context=contexts)
def test_zero_denominator_earns_nothing(rule, numerator, context):
    result = indicator_calculate(
        rule=rule, values=IndicatorValues(numerator=numerator, denominator=0), context=context
    )
    assert result.points == 0 and result.amount == 0 and not result.earnable


@given(rule=fraction_rules, values=fraction_values(), context=contexts)
def test_the_same_inputs_give_the_same_pence(rule, values, context):
    first = indicator_calculate(rule=rule, values=values, context=context)
    again = indicator_calculate(
        rule=rule,
        values=IndicatorValues(numerator=values.numerator, denominator=values.denominator),
        context=ProviderContext(
            list_size=context.list_size,
            value_per_point=context.value_per_point,
            average_list_size=context.average_list_size,
        ),
    )
    assert first == again
    assert str(first.amount) == str(again.amount)


@given(rule=fraction_rules, values=fraction_values(denominator_min=1), context=contexts)
def test_the_amount_is_the_rounded_points_times_the_unrounded_factors(rule, values, context):
    result = indicator_calculate(rule=rule, values=values, context=context)
    factor = Fraction(context.value_per_point) * Fraction(context.list_size, context.average_list_size)
    if rule.own_national_prevalence is not None:
        factor *= Fraction(values.denominator, context.list_size or 1) / Fraction(
            rule.own_national_prevalence
        )
        if context.list_size == 0:
            factor = Fraction(0)
    assert result.amount == round_money(Fraction(result.points) * factor)


@given(
    rules_and_values=st.lists(
        st.tuples(fraction_rules, fraction_values()), max_size=8, unique_by=lambda pair: pair[0].code
    ),
    context=contexts,
)
def test_totals_equal_the_sum_of_the_indicator_figures(rules_and_values, context):
    payment = payment_calculate(indicators=rules_and_values, context=context)
    assert payment.total_amount == sum((r.amount for r in payment.indicators), Decimal(0))
    assert payment.total_points == sum((r.points for r in payment.indicators), Decimal(0))
    assert type(payment.total_amount) is Decimal and type(payment.total_points) is Decimal
    assert len(payment.indicators) == len(rules_and_values)


@given(total=st.decimals(min_value=0, max_value=10_000_000, places=2))
def test_aspiration_instalments_sum_to_the_total_each_a_twelfth_to_the_penny(total):
    instalments = aspiration_instalments(total)
    assert len(instalments) == 12 and sum(instalments) == total
    assert all(type(i) is Decimal and i.as_tuple().exponent == -2 and i >= 0 for i in instalments)
    assert len(set(instalments[:11])) == 1
    assert abs(Fraction(instalments[0]) - Fraction(total) / 12) < Fraction(1, 100)
    # Each of the eleven is a twelfth rounded half-up (at most half a penny off), or, where eleven
    # such would pass the total (under about 66p), rounded down (under a penny off); the last
    # carries what they leave.
    half_up_fits = 11 * round_money(Fraction(total) / 12) <= total
    bound = Fraction(11, 200) if half_up_fits else Fraction(11, 100)
    assert abs(Fraction(instalments[-1]) - Fraction(total) / 12) <= bound + Fraction(1, 100)


@given(
    percent=st.decimals(min_value=1, max_value=100, places=0),
    previous=st.decimals(min_value=0, max_value=2_000_000, places=2),
)
def test_aspiration_total_is_within_half_a_penny_of_the_exact_figure(percent, previous):
    total = aspiration_total(
        percent=percent, previous_payment=previous, value_per_point=Decimal("220.62"),
        previous_value_per_point=Decimal("213.43"),
    )
    exact = Fraction(percent) / 100 * Fraction(previous) * Fraction("220.62") / Fraction("213.43")
    assert abs(Fraction(total) - exact) <= Fraction(1, 200)
