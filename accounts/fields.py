"""Form fields for the NHS.UK components that have no Django counterpart."""

import datetime

from django import forms
from django.core.exceptions import ValidationError

from .widgets import DATE_PARTS, DateInputWidget


def _join_parts(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _long_date(value: datetime.date) -> str:
    return f"{value.day} {value:%B %Y}"


class DateInputField(forms.Field):
    """A date typed into the NHS.UK day / month / year boxes; cleans to a ``datetime.date``.

    Error messages follow the NHS.UK date input guidance and name the field by its label:
    "Payment date must include a month", "Payment date must be a real date" (for 31/02/2025),
    "Year must include 4 numbers".  ``min_value`` / ``max_value`` bound the date if given.
    """

    widget = DateInputWidget
    default_error_messages = {
        "required": "Enter %(label)s",
        "incomplete": "%(label)s must include a %(missing)s",
        "invalid": "%(label)s must be a real date",
        "year_digits": "Year must include 4 numbers",
        "min_value": "%(label)s must be the same as or after %(limit)s",
        "max_value": "%(label)s must be the same as or before %(limit)s",
    }

    def __init__(
        self, *, min_value: datetime.date | None = None, max_value: datetime.date | None = None, **kwargs
    ):
        self.min_value = min_value
        self.max_value = max_value
        super().__init__(**kwargs)

    def _label(self, *, lower: bool = False) -> str:
        label = str(self.label) if self.label else "Date"
        return (label[0].lower() + label[1:]) if lower else label

    def _error(self, code: str, **params) -> ValidationError:
        params = {"label": self._label(), **params}
        return ValidationError(self.error_messages[code], code=code, params=params)

    def validate(self, value):
        if value in self.empty_values and self.required:
            raise ValidationError(
                self.error_messages["required"], code="required", params={"label": self._label(lower=True)}
            )

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise self._error("invalid") from None
        parts = ["" if v is None else str(v).strip() for v in value]
        if not any(parts):
            return None
        missing = [name for (name, *_), text in zip(DATE_PARTS, parts, strict=False) if not text]
        if missing:
            raise self._error("incomplete", missing=_join_parts(missing))
        if not all(text.isascii() and text.isdigit() for text in parts):  # not "²" nor "٣"
            raise self._error("invalid")
        if any(len(text) > 4 for text in parts):  # 31/12/9999 at most; int() refuses 20,000 digits
            raise self._error("year_digits" if len(parts[2]) > 4 else "invalid")
        day, month, year = (int(text) for text in parts)
        if len(parts[2]) != 4:
            raise self._error("year_digits")
        try:
            return datetime.date(year, month, day)
        except ValueError:
            raise self._error("invalid") from None

    def clean(self, value):
        value = super().clean(value)
        if value is not None:
            if self.min_value and value < self.min_value:
                raise self._error("min_value", limit=_long_date(self.min_value))
            if self.max_value and value > self.max_value:
                raise self._error("max_value", limit=_long_date(self.max_value))
        return value

    def has_changed(self, initial, data):
        if self.disabled:
            return False
        try:
            return self.to_python(data) != self.to_python(initial)
        except ValidationError:
            return True
