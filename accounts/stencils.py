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
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter

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


def _getter(fields: Sequence[str]) -> Callable[[object], tuple]:
    """The fields of a row as a tuple, read in one call (``attrgetter`` of one field is no tuple)."""
    if len(fields) > 1:
        return attrgetter(*fields)
    if fields:
        only = fields[0]
        return lambda row: (getattr(row, only),)
    return lambda row: ()


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
    shape_of = _getter(shape)
    stencils: dict[tuple, tuple[str, list[str], Callable]] = {}
    escaped: dict[tuple, str] = {}  # a value met again (a service's name, a status) is escaped once
    out: list[str] = []
    for row in rows:
        key = shape_of(row)
        stencil = stencils.get(key)
        if stencil is None:
            markup = template.render({**(context or {}), name: _Marked(dict(zip(shape, key, strict=True)))})
            parts = _MARKER.split(markup)
            stencil = stencils[key] = (parts[0], parts[2::2], _getter(parts[1::2]))
        first, literals, values_of = stencil
        out.append(first)
        for literal, value in zip(literals, values_of(row), strict=True):
            seen = (value.__class__, value)
            try:
                text = escaped.get(seen)
                if text is None:
                    text = escaped[seen] = _escaped(value)
            except TypeError:  # an unhashable value: escaped each time
                text = _escaped(value)
            out.append(text)
            out.append(literal)
    return mark_safe("".join(out))  # noqa: S308 - the template's own markup, every value escaped
