"""Chart geometry for server-rendered SVG: pure Python, no Django, no float in a figure shown.

Each function returns a frozen dataclass of positions (strings of SVG user units, one decimal)
and the text labels a template draws (templates/reports/insights/charts/).  The figures shown
are formatted by the caller (a presenter) and arrive here as text: a chart never formats money.

Readable without colour: every bar carries its figure as text; bands are told apart by pattern
(hatched: no points; dotted: some points; solid: all points) and named in a legend; thresholds
are labelled lines.  Every chart has a title and a description (``<title>``/``<desc>``) and its
figures are in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 720  # viewBox width
LABEL_WIDTH = 110  # the left column of row labels
BAR_AREA = 420  # the bars' length at 100%
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TOP = 10


def _u(value: Decimal | int) -> str:
    """An SVG coordinate, to one decimal place."""
    return f"{Decimal(value):.1f}"


def _share(part: Decimal | int, whole: Decimal | int) -> Decimal:
    return Decimal(0) if not whole else Decimal(part) * BAR_AREA / Decimal(whole)


# --- Ranked bars: pounds (or points) not earned per indicator -----------------------------------


@dataclass(frozen=True)
class RankedBar:
    label: str
    value_text: str
    y: str
    text_y: str
    width: str
    value_x: str


@dataclass(frozen=True)
class RankedBars:
    chart_id: str
    title: str
    description: str
    width: int
    height: int
    bar_x: int
    bars: tuple[RankedBar, ...]


def ranked_bars(
    *, chart_id: str, title: str, description: str, rows: Sequence[tuple[str, Decimal, str]]
) -> RankedBars:
    """Horizontal bars, longest first as given: ``rows`` of (label, value, value as text)."""
    largest = max((value for _, value, _ in rows), default=Decimal(0))
    bars = []
    for index, (label, value, text) in enumerate(rows):
        y = TOP + index * ROW_HEIGHT
        width = _share(value, largest)
        bars.append(
            RankedBar(
                label=label,
                value_text=text,
                y=_u(y),
                text_y=_u(y + BAR_HEIGHT - 3),
                width=_u(width),
                value_x=_u(LABEL_WIDTH + width + 6),
            )
        )
    return RankedBars(
        chart_id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=TOP * 2 + max(len(rows), 1) * ROW_HEIGHT,
        bar_x=LABEL_WIDTH,
        bars=tuple(bars),
    )


# --- Bands: each indicator's providers against its thresholds ----------------------------------


@dataclass(frozen=True)
class Segment:
    band: str  # "none", "some", "all": the pattern it is drawn with
    x: str
    width: str


@dataclass(frozen=True)
class BandRow:
    label: str
    counts_text: str
    y: str
    text_y: str
    segments: tuple[Segment, ...]
    counts_x: str


@dataclass(frozen=True)
class LegendItem:
    band: str
    label: str
    y: str
    text_y: str


@dataclass(frozen=True)
class BandBars:
    chart_id: str
    title: str
    description: str
    width: int
    height: int
    legend: tuple[LegendItem, ...]
    rows: tuple[BandRow, ...]


BANDS = (
    ("none", "No points: at or below the lower threshold"),
    ("some", "Some points: between the thresholds"),
    ("all", "All points: at or above the upper threshold"),
)


def band_bars(
    *, chart_id: str, title: str, description: str, rows: Sequence[tuple[str, int, int, int]]
) -> BandBars:
    """One stacked bar per indicator: its providers with no, some and all points, as shares of
    those with patients in the denominator; ``rows`` of (label, none, some, all)."""
    drawn = []
    legend_height = 3 * 20 + 10
    for index, (label, none, some, every) in enumerate(rows):
        y = TOP + legend_height + index * ROW_HEIGHT
        total = none + some + every
        x = Decimal(LABEL_WIDTH)
        segments = []
        for band, count in (("none", none), ("some", some), ("all", every)):
            width = _share(count, total)
            if count:
                segments.append(Segment(band=band, x=_u(x), width=_u(width)))
            x += width
        drawn.append(
            BandRow(
                label=label,
                counts_text=f"{none} none, {some} some, {every} all" if total else "no patients",
                y=_u(y),
                text_y=_u(y + BAR_HEIGHT - 3),
                segments=tuple(segments),
                counts_x=_u(LABEL_WIDTH + BAR_AREA + 8),
            )
        )
    return BandBars(
        chart_id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=TOP * 2 + legend_height + max(len(rows), 1) * ROW_HEIGHT,
        legend=tuple(
            LegendItem(band, label, _u(TOP + index * 20), _u(TOP + index * 20 + 12))
            for index, (band, label) in enumerate(BANDS)
        ),
        rows=tuple(drawn),
    )


# --- Histogram of one indicator's providers' achievement ----------------------------------------


@dataclass(frozen=True)
class Bin:
    label: str  # "85% to 90%"
    count: int
    x: str
    y: str
    width: str
    height: str
    count_y: str
    count_x: str


@dataclass(frozen=True)
class Threshold:
    label: str
    x: str
    label_y: str
    dash: str  # stroke-dasharray: the two lines differ by pattern, not only by colour
    anchor: str


@dataclass(frozen=True)
class Histogram:
    chart_id: str
    title: str
    description: str
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    plot_right: int
    bins: tuple[Bin, ...]
    thresholds: tuple[Threshold, ...]
    ticks: tuple[tuple[str, str], ...]  # (x, label) along the axis


HISTOGRAM_BIN = 5  # percentage points per bin
_PLOT_LEFT, _PLOT_WIDTH, _PLOT_TOP, _PLOT_HEIGHT = 40, 600, 40, 200


def histogram_bins(values: Sequence[Decimal]) -> list[int]:
    """Counts per bin of ``HISTOGRAM_BIN`` points: [0, 5), [5, 10), ... [95, 100] (100 in the last)."""
    bins = [0] * (100 // HISTOGRAM_BIN)
    for value in values:
        index = min(int(value // HISTOGRAM_BIN), len(bins) - 1)
        bins[max(index, 0)] += 1
    return bins


def histogram(
    *, chart_id: str, title: str, description: str, values: Sequence[Decimal], lower: Decimal, upper: Decimal
) -> Histogram:
    """Providers per achievement bin, with the lower and upper thresholds marked and labelled."""
    counts = histogram_bins(values)
    tallest = max(counts, default=0) or 1
    bin_width = Decimal(_PLOT_WIDTH) / len(counts)
    bottom = _PLOT_TOP + _PLOT_HEIGHT
    bins = []
    for index, count in enumerate(counts):
        height = Decimal(count) * _PLOT_HEIGHT / tallest
        x = _PLOT_LEFT + index * bin_width
        start = index * HISTOGRAM_BIN
        bins.append(
            Bin(
                label=f"{start}% to {start + HISTOGRAM_BIN}%",
                count=count,
                x=_u(x + 1),
                y=_u(bottom - height),
                width=_u(bin_width - 2),
                height=_u(height),
                count_y=_u(bottom - height - 4),
                count_x=_u(x + bin_width / 2),
            )
        )

    def at(percent: Decimal) -> Decimal:
        return _PLOT_LEFT + Decimal(percent) * _PLOT_WIDTH / 100

    close = abs(upper - lower) < 12  # labels would overlap: put them on either side of the lines
    thresholds = (
        Threshold(f"Lower {lower.normalize():f}%", _u(at(lower)), _u(_PLOT_TOP - 22), "6 3",
                  "end" if close else "middle"),
        Threshold(f"Upper {upper.normalize():f}%", _u(at(upper)), _u(_PLOT_TOP - 8), "",
                  "start" if close else "middle"),
    )
    ticks = tuple((_u(at(Decimal(p))), f"{p}%") for p in range(0, 101, 20))
    return Histogram(
        chart_id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=bottom + 40,
        plot_left=_PLOT_LEFT,
        plot_bottom=bottom,
        plot_right=_PLOT_LEFT + _PLOT_WIDTH,
        bins=tuple(bins),
        thresholds=thresholds,
        ticks=ticks,
    )


# --- Paired bars: this year beside last year ----------------------------------------------------


@dataclass(frozen=True)
class PairedRow:
    label: str
    this_y: str
    last_y: str
    this_width: str | None  # None: no figure
    last_width: str | None
    this_text: str
    last_text: str
    this_text_x: str
    last_text_x: str
    this_text_y: str
    last_text_y: str
    label_y: str


@dataclass(frozen=True)
class PairedBars:
    chart_id: str
    title: str
    description: str
    width: int
    height: int
    bar_x: int
    this_label: str
    last_label: str
    rows: tuple[PairedRow, ...]


_PAIR_BAR = 11
_PAIR_ROW = 2 * _PAIR_BAR + 14


def paired_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    this_label: str,
    last_label: str,
    rows: Sequence[tuple[str, Decimal | None, str, Decimal | None, str]],
) -> PairedBars:
    """Two bars per indicator on a 0-100% scale: this year's (solid) above last year's (hatched);
    ``rows`` of (label, this %, its text, last %, its text); a missing figure draws no bar and
    says so in its text."""
    legend = 30
    drawn = []
    for index, (label, this, this_text, last, last_text) in enumerate(rows):
        y = TOP + legend + index * _PAIR_ROW
        this_width = None if this is None else _share(min(max(this, Decimal(0)), Decimal(100)), 100)
        last_width = None if last is None else _share(min(max(last, Decimal(0)), Decimal(100)), 100)
        drawn.append(
            PairedRow(
                label=label,
                this_y=_u(y),
                last_y=_u(y + _PAIR_BAR + 2),
                this_width=None if this_width is None else _u(this_width),
                last_width=None if last_width is None else _u(last_width),
                this_text=this_text,
                last_text=last_text,
                this_text_x=_u(LABEL_WIDTH + (this_width or 0) + 6),
                last_text_x=_u(LABEL_WIDTH + (last_width or 0) + 6),
                this_text_y=_u(y + _PAIR_BAR - 2),
                last_text_y=_u(y + 2 * _PAIR_BAR),
                label_y=_u(y + _PAIR_BAR + 4),
            )
        )
    return PairedBars(
        chart_id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=TOP * 2 + legend + max(len(rows), 1) * _PAIR_ROW,
        bar_x=LABEL_WIDTH,
        this_label=this_label,
        last_label=last_label,
        rows=tuple(drawn),
    )
