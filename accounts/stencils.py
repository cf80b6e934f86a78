"""The rows of a long table at the speed of joining strings, from the row's own template.

Django's template engine costs a few microseconds a variable; a table of 400 rows of a dozen
cells, each with an NHS.UK checkbox and status tag component, took 60-90 ms to render, longer
than everything else the page does (issue 12).  Rows differ only in their values and in a few
fields that choose the markup (whether the row has a checkbox, its status's tag colour).  So the
row template is rendered once per distinct *shape* (the values of the fields that choose the
markup), with a marker in place of every other field of the row; each row is then the shape's
literal pieces joined with its own values, escaped as the template would escape them.  The markup
stays in the template and its components, and the output is the template's, byte for byte
(``tests/declarations/test_declaration_management_speed.py`` compares them on every shape).

The row template must print the value fields plainly (``{{ row.provider }}``): a filter, or an
``{% if %}`` on a value field, would act on the marker, not the value.  A field the markup
depends on belongs in ``shape``; anything computed belongs in the presenter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.template.loader import get_template
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

_OPEN, _CLOSE = "\ue000", "\ue001"  # Unicode private use: never escaped, never in real text
_MARKER = re.compile(f"{_OPEN}([A-Za-z_][A-Za-z0-9_]*){_CLOSE}")


class _Marked:
    """A row as the stencil's template sees it: the shape's fields as themselves, any other field
    as a marker naming it."""

    __slots__ = ("_shape",)

    def __init__(self, shape: dict):
        object.__setattr__(self, "_shape", shape)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        shape = object.__getattribute__(self, "_shape")
        return shape[name] if name in shape else f"{_OPEN}{name}{_CLOSE}"


def _escaped(value) -> str:
    """What ``{{ value }}`` prints with autoescaping on (localized, then escaped unless safe).
    The common cases skip Django's lazy-aware wrappers, which cost more than the escaping:
    ``django.utils.html.escape`` is ``html.escape``, and an int without thousand separators
    localizes to itself."""
    if isinstance(value, SafeData):
        return value
    if isinstance(value, str):
        return html.escape(value)
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return conditional_escape(localize(value))


def render_rows(
    template_name: str,
    rows: Iterable,
    *,
    shape: Sequence[str],
    context: dict | None = None,
    name: str = "row",
) -> SafeString:
    """Render ``template_name`` for each of ``rows`` (as ``name``, with ``context``), joined:
    the template rendered once per distinct value of the ``shape`` fields."""
    template = get_template(template_name)
    stencils: dict[tuple, tuple[list[str], list[str]]] = {}
    out: list[str] = []
    for row in rows:
        key = tuple(getattr(row, field) for field in shape)
        stencil = stencils.get(key)
        if stencil is None:
            html = template.render({**(context or {}), name: _Marked(dict(zip(shape, key, strict=True)))})
            parts = _MARKER.split(html)
            stencil = stencils[key] = (parts[0::2], parts[1::2])
        literals, fields = stencil
        out.append(literals[0])
        for literal, field in zip(literals[1:], fields, strict=True):
            out.append(_escaped(getattr(row, field)))
            out.append(literal)
    return mark_safe("".join(out))  # noqa: S308 - the template's own markup, every value escaped
