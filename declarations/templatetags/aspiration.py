"""Aspiration's figures on the declaration screens (issue 13): the calculated achievement payment,
the aspiration paid and the balance to declare, for the declarations of services that pay
aspiration.  ``{% load aspiration %}``; one query per service and date shown, whatever the rows."""

from __future__ import annotations

from django import template

from accounts import permissions
from accounts.formatting import money
from declarations.aspiration.selectors import declaration_balances

register = template.Library()


def _presented(declaration, balance) -> dict:
    return {
        "pk": declaration.pk,
        "service": declaration.service.name,
        "provider": declaration.provider.name,
        "ods_code": declaration.provider.ods_code,
        "achievement_date": f"{declaration.achievement_date.date:%d/%m/%Y}",
        "calculated": money(balance.calculated),
        "aspiration_paid": money(balance.aspiration_paid),
        "balance": money(balance.balance),
        "to_recover": money(-balance.balance) if balance.to_recover else None,
    }


@register.inclusion_tag("declarations/_aspiration_balances.html", takes_context=True)
def aspiration_balances(context, rows, caption="Achievement payment less aspiration paid"):
    """A table of calculated, aspiration paid and balance for ``rows`` (declarations, or
    (presenter row, declaration) pairs) whose service pays aspiration and whose money the user
    may see; nothing when there is none."""
    user = context["request"].user
    rows = rows if isinstance(rows, list | tuple) else [rows]  # one declaration, or a list
    declarations = [row[1] if isinstance(row, tuple) else row for row in rows]
    declarations = [d for d in declarations if permissions.can_see_money(user, d.provider)]
    balances = declaration_balances(declarations)
    return {
        "caption": caption,
        "rows": [_presented(d, balances[d.pk]) for d in declarations if d.pk in balances],
    }
