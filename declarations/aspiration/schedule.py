"""The twelve instalments of an aspiration and when each is due (pure Python over the engine)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from declarations.engine import ASPIRATION_MONTHS


def due_dates(year_start: dt.date) -> tuple[dt.date, ...]:
    """The last day of each month of the financial year starting ``year_start`` (1 April): the
    date each instalment is due."""
    dates = []
    for offset in range(ASPIRATION_MONTHS):
        month0 = year_start.month - 1 + offset
        year, month = year_start.year + month0 // 12, month0 % 12 + 1
        dates.append(dt.date(year, month, calendar.monthrange(year, month)[1]))
    return tuple(dates)


def paid_by(instalments: Iterable[Decimal], *, year_start: dt.date, on: dt.date) -> Decimal:
    """What the instalments due on or before ``on`` add up to (all twelve at the year end)."""
    return sum(
        (amount for amount, due in zip(instalments, due_dates(year_start), strict=True) if due <= on),
        Decimal("0.00"),
    )
