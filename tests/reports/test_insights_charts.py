"""The insight charts' geometry (pure Python): bars in proportion, every figure labelled as text,
thresholds told apart by line pattern, a missing figure said, not drawn."""

from __future__ import annotations

from decimal import Decimal

from reports.insights import charts


def test_histogram_bins_are_five_points_wide_and_100_percent_falls_in_the_last():
    counts = charts.histogram_bins([Decimal("0"), Decimal("4.99"), Decimal("5.00"), Decimal("95"), Decimal("100")])
    assert len(counts) == 20
    assert (counts[0], counts[1], counts[19]) == (2, 1, 2)


def test_histogram_marks_both_thresholds_with_labels_and_different_dashes():
    chart = charts.histogram(
        chart_id="h", title="t", description="d", values=[Decimal(50)], lower=Decimal("89"), upper=Decimal("96.5")
    )
    lower, upper = chart.thresholds
    assert (lower.label, upper.label) == ("Lower 89%", "Upper 96.5%")
    assert lower.dash != upper.dash
    assert float(lower.x) < float(upper.x)
    assert [b.count for b in chart.bins if b.count] == [1]


def test_ranked_bars_are_in_proportion_to_the_largest_and_carry_their_text():
    chart = charts.ranked_bars(
        chart_id="r", title="t", description="d",
        rows=[("AF006", Decimal("200.00"), "£200.00"), ("VI001", Decimal("50.00"), "£50.00")],
    )
    assert [bar.width for bar in chart.bars] == [f"{charts.BAR_AREA:.1f}", f"{charts.BAR_AREA / 4:.1f}"]
    assert [bar.value_text for bar in chart.bars] == ["£200.00", "£50.00"]


def test_band_bars_split_the_providers_with_patients_and_label_the_counts():
    chart = charts.band_bars(chart_id="b", title="t", description="d", rows=[("VI001", 1, 2, 1), ("AF006", 0, 0, 0)])
    first, empty = chart.rows
    assert [s.band for s in first.segments] == ["none", "some", "all"]
    assert sum(Decimal(s.width) for s in first.segments) == charts.BAR_AREA
    assert first.counts_text == "1 none, 2 some, 1 all"
    assert empty.segments == () and empty.counts_text == "no patients"
    assert [item.band for item in chart.legend] == ["none", "some", "all"]


def test_paired_bars_draw_no_bar_for_a_missing_figure():
    chart = charts.paired_bars(
        chart_id="p", title="t", description="d", this_label="2024/25", last_label="2023/24",
        rows=[("VI001", Decimal("93.10"), "2024/25: 93.10%", None, "2023/24: no figure")],
    )
    (row,) = chart.rows
    assert row.this_width == f"{Decimal('93.10') * charts.BAR_AREA / 100:.1f}"
    assert row.last_width is None and row.last_text == "2023/24: no figure"
