"""What the offer list screens share: their links back with the filters kept, and the "Are you
sure" step before a service acts on the ticked offers."""

from __future__ import annotations

from urllib.parse import urlencode

from django.template.response import TemplateResponse


def url_with_query(url: str, **params) -> str:
    """``url`` with the non-empty ``params`` as its query string (a list screen's filters)."""
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


def confirmation(request, *, question, note, offers, action, form_action, back, hidden) -> TemplateResponse:
    """The confirmation page: the ticked offers, a note of what follows, and Yes (posting the same
    choice again with ``confirm=yes``) or No (back to the list)."""
    return TemplateResponse(
        request,
        "participation/confirm_offers.html",
        {
            "page_title": question,
            "question": question,
            "note": note,
            "offers": list(offers),
            "action": action,
            "form_action": form_action,
            "back": back,
            "hidden": hidden,
        },
    )
