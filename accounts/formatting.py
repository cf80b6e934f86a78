"""How values are written for people: pure functions, no Django, shared by every app."""

from __future__ import annotations

from decimal import Decimal


def money(value: Decimal | None) -> str | None:
    """Pounds to the penny, as the job aids write them: "£1,234.56", "-£12.00"; None for no amount.

    The value is already rounded to the penny (by the payment engine); this only writes it.
    """
    if value is None:
        return None
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"
