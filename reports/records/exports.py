"""The records reports as files: CSV (every report) and XLSX (Payments, with openpyxl).

CSV cells that a spreadsheet would run as a formula are prefixed with an apostrophe (OWASP "CSV
injection"), amounts are written to the penny as numbers.  In the XLSX, numbers are numbers,
pounds carry a currency format, dates are dates, the header row is bold and frozen.  Writers take
rows and a file, so a page's download and a background run write the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import IO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from participation.definitions import kinds

from .presenters import AchievementSummaryReport, NetworkRow, PaymentRow

POUNDS_FORMAT = "£#,##0.00"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else f"{timezone.localtime(value):%d/%m/%Y %H:%M}"


# --- Achievement Summary Report -----------------------------------------------------------------

SUMMARY_COLUMNS = (
    "Quality Service",
    "ODS Code",
    "Service Provider",
    "Achievement Date",
    "Domain",
    "Indicator Group",
    "Indicator Code",
    "Indicator",
    "Kind",
    "Numerator",
    "Denominator",
    "Register",
    "Value",
    "Achievement %",
    "Lower Threshold %",
    "Upper Threshold %",
    "Points",
    "Points Available",
)
SUMMARY_MONEY_COLUMNS = ("Payment",)


def _plain(value) -> str:
    return "" if value is None else str(value)


def _decimal(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}" if value == value.to_integral() else f"{value}"


def write_summary_csv(report: AchievementSummaryReport, out: IO[str]) -> None:
    """One row per indicator (the stored results the screen shows), then a Total row; the
    Payment column only for roles that may see money."""
    achievement = report.achievement
    writer = csv.writer(out)
    writer.writerow(SUMMARY_COLUMNS + (SUMMARY_MONEY_COLUMNS if report.show_money else ()))
    head = [
        csv_text(achievement.service.code),
        csv_text(achievement.provider.ods_code),
        csv_text(achievement.provider.name),
        f"{achievement.achievement_date.date:%d/%m/%Y}",
    ]
    for result in report.indicator_results:
        indicator = result.indicator
        paid_in_points = indicator.kind in kinds.POINT_KINDS
        answer = ("Yes" if result.answer else "No") if indicator.kind in kinds.YES_NO_KINDS else None
        cells = [
            *head,
            csv_text(indicator.group.domain.name),
            csv_text(indicator.group.name),
            csv_text(indicator.code),
            csv_text(indicator.name),
            indicator.get_kind_display(),
            _plain(result.numerator),
            _plain(result.denominator),
            _plain(result.register),
            answer or _plain(result.value),
            _amount(result.achievement_percent),
            _decimal(indicator.lower),
            _decimal(indicator.upper),
            _amount(result.points) if paid_in_points else "",
            _amount(indicator.points) if paid_in_points else "",
        ]
        if report.show_money:
            cells.append(_amount(result.amount) if indicator.kind in kinds.PAID_KINDS else "")
        writer.writerow(cells)
    calculation = getattr(achievement, "calculation", None)
    if calculation is not None:
        available = sum((r.indicator.points for r in report.indicator_results if r.indicator.kind in kinds.POINT_KINDS), Decimal(0))
        total = [*head, "", "", "TOTAL", "Total", "", "", "", "", "", "", "", "",
                 _amount(calculation.total_points), _amount(available)]
        if report.show_money:
            total.append(_amount(calculation.total_amount))
        writer.writerow(total)


# --- Payments -----------------------------------------------------------------------------------

PAYMENT_COLUMNS = (
    "Quality Service",
    "Service Provider",
    "ODS Code",
    "PCN",
    "Sub-ICB Location",
    "Achievement Date",
    "Status",
    "Calculated Amount",
    "Amount Declared",
    "Declared At",
    "Amount Approved",
    "Approved At",
    "Amount Financially Approved",
    "Financially Approved At",
)
_MONEY, _DATE, _DATETIME, _TEXT = "money", "date", "datetime", "text"
_PAYMENT_KINDS = (_TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _DATE, _TEXT, _MONEY, _MONEY, _DATETIME, _MONEY, _DATETIME, _MONEY, _DATETIME)


def _payment_values(row: PaymentRow) -> tuple:
    return (
        row.service,
        row.provider,
        row.ods_code,
        row.pcn,
        row.sub_icb,
        row.achievement_date,
        row.status,
        row.calculated,
        row.declared,
        row.declared_at,
        row.approved,
        row.approved_at,
        row.finance_approved,
        row.finance_approved_at,
    )


def write_payments_csv(rows: Iterable[PaymentRow], out: IO[str], *, progress: Callable[[int], None] | None = None) -> int:
    writer = csv.writer(out)
    writer.writerow(PAYMENT_COLUMNS)
    count = 0
    for row in rows:
        cells = []
        for kind, value in zip(_PAYMENT_KINDS, _payment_values(row), strict=True):
            if kind == _MONEY:
                cells.append(_amount(value))
            elif kind == _DATE:
                cells.append(f"{value:%d/%m/%Y}")
            elif kind == _DATETIME:
                cells.append(_when(value))
            else:
                cells.append(csv_text(value))
        writer.writerow(cells)
        count += 1
        if progress and count % 500 == 0:
            progress(count)
    return count


def _excel_datetime(value: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: the local (UK) wall-clock time."""
    return None if value is None else timezone.localtime(value).replace(tzinfo=None)


def write_payments_xlsx(
    rows: Iterable[PaymentRow], out: IO[bytes], *, totals: dict | None = None, progress: Callable[[int], None] | None = None
) -> int:
    """The Payments report as a workbook: one sheet, a bold frozen header row, pounds as
    numbers formatted ``£#,##0.00``, dates as dates, and a Total row when ``totals`` is given."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Payments")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value, kind=_TEXT, *, font=None):
        if kind == _DATETIME:
            value = _excel_datetime(value)
        c = WriteOnlyCell(sheet, value=value)
        if kind == _MONEY:
            c.number_format = POUNDS_FORMAT
        elif kind == _DATE:
            c.number_format = DATE_FORMAT
        elif kind == _DATETIME:
            c.number_format = DATETIME_FORMAT
        if font is not None:
            c.font = font
        return c

    sheet.append([cell(name, font=bold) for name in PAYMENT_COLUMNS])
    count = 0
    for row in rows:
        sheet.append([cell(value, kind) for kind, value in zip(_PAYMENT_KINDS, _payment_values(row), strict=True)])
        count += 1
        if progress and count % 500 == 0:
            progress(count)
    if totals is not None:
        by_column = {
            "Calculated Amount": totals["calculated"],
            "Amount Declared": totals["declared"],
            "Amount Approved": totals["approved"],
            "Amount Financially Approved": totals["finance_approved"],
        }
        sheet.append(
            [
                cell("Total", font=bold) if i == 0 else cell(by_column.get(name), _MONEY, font=bold) if name in by_column else None
                for i, name in enumerate(PAYMENT_COLUMNS)
            ]
        )
    workbook.save(out)
    return count


# --- Network organisation relationship ----------------------------------------------------------

NETWORK_COLUMNS = ("PCN", "PCN ODS Code", "Practice", "Practice ODS Code", "Sub-ICB Location", "Member From", "Member To")


def write_network_csv(rows: Iterable[NetworkRow], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(NETWORK_COLUMNS)
    for row in rows:
        writer.writerow(
            [csv_text(row.pcn_name), row.pcn_code, csv_text(row.practice_name), row.practice_code,
             csv_text(row.sub_icb), row.member_from, row.member_to]
        )
