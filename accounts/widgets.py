"""Widgets that render with NHS.UK frontend markup.

The nhsuk crispy-forms pack (``templates/nhsuk/``) styles Django's own widgets; a widget lives here
only when the NHS.UK component has no Django counterpart, like the three-box date input.
"""

import datetime

from django import forms
from django.template import loader
from django.utils.safestring import mark_safe

# (suffix, visible label, width class, autocomplete suffix) of each box, in the order NHS.UK shows them.
DATE_PARTS = (
    ("day", "Day", "nhsuk-input--width-2", "bday-day"),
    ("month", "Month", "nhsuk-input--width-2", "bday-month"),
    ("year", "Year", "nhsuk-input--width-4", "bday-year"),
)


def date_part_looks_wrong(part: str, value) -> bool:
    """Whether one box of a date holds something that cannot be that part of a real date."""
    text = "" if value is None else str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 4:  # int() refuses 20,000 digits
        return True
    number = int(text)
    if part == "day":
        return not 1 <= number <= 31
    if part == "month":
        return not 1 <= number <= 12
    return len(text) != 4


class DateInputWidget(forms.MultiWidget):
    """The NHS.UK date input: day, month and year boxes inside a fieldset.

    Posts ``<name>_day``, ``<name>_month`` and ``<name>_year``; the boxes get the ids
    ``<id>_day`` etc., so an error summary can link to ``<id>_day``.  Pass ``autocomplete_bday=True``
    for a date of birth.  Pair it with ``accounts.fields.DateInputField``, which turns the three
    boxes into a ``datetime.date``.
    """

    template_name = "nhsuk/widgets/date_input.html"
    use_fieldset = True

    def __init__(self, attrs=None, *, autocomplete_bday: bool = False):
        self.autocomplete_bday = autocomplete_bday
        widgets = {
            part: forms.TextInput(attrs={"inputmode": "numeric"})
            for part, _label, _width, _auto in DATE_PARTS
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, str) and value:
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError:
                return [None, None, None]
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]

    def id_for_label(self, id_):
        return f"{id_}_day" if id_ else ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        # BoundField marks the widget aria-invalid when the field has errors; the boxes then
        # show as in error: only the ones that are blank or impossible, or all three when each
        # box is plausible on its own but the date is not (31/02/2025).
        invalid = str(widget["attrs"].pop("aria-invalid", "")).lower() == "true"
        base_id = widget["attrs"].get("id")
        subwidgets = widget["subwidgets"]
        wrong = [
            date_part_looks_wrong(part, sub["value"])
            for (part, *_), sub in zip(DATE_PARTS, subwidgets, strict=True)
        ]
        if invalid and not any(wrong):
            wrong = [True] * len(subwidgets)
        for (part, label, width, autocomplete), sub, part_wrong in zip(
            DATE_PARTS, subwidgets, wrong, strict=True
        ):
            in_error = invalid and part_wrong
            sub_attrs = sub["attrs"]
            sub_attrs.pop("aria-invalid", None)
            if base_id:
                sub_attrs["id"] = f"{base_id}_{part}"
            classes = ["nhsuk-input", "nhsuk-date-input__input", width]
            if in_error:
                classes.insert(1, "nhsuk-input--error")
                sub_attrs["aria-invalid"] = "true"
            extra = sub_attrs.get("class", "")
            sub_attrs["class"] = " ".join(classes + [c for c in extra.split() if c not in classes])
            if self.autocomplete_bday:
                sub_attrs["autocomplete"] = autocomplete
            sub["part"] = part
            sub["label"] = label
            sub["in_error"] = in_error
        widget["in_error"] = invalid
        return context

    def _render(self, template_name, context, renderer=None):
        # The template ships with the nhsuk pack in the site's templates/ folder, which the
        # default form renderer does not search.
        return mark_safe(loader.render_to_string(template_name, context))
