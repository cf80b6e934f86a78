"""Links between the Participation Management screens."""

from __future__ import annotations

from urllib.parse import urlencode


def url_with_query(url: str, **params) -> str:
    """``url`` with the non-empty ``params`` as its query string (a list screen's filters)."""
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url
