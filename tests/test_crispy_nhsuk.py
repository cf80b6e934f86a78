"""The nhsuk crispy-forms template pack renders NHS.UK frontend v10 markup, and the NHS.UK date
input turns day / month / year boxes into a date or a clear error."""

import datetime
import re

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Button, Submit
from django import forms
from django.template import Context, Template
from django.test import RequestFactory

from accounts.fields import DateInputField
from accounts.widgets import DateInputWidget

COLOURS = [("red", "Red"), ("green", "Green"), ("blue", "Blue")]


class EveryFieldForm(forms.Form):
    name = forms.CharField(label="Full name", help_text="As it appears on your smartcard")
    email = forms.EmailField(label="Email address")
    password = forms.CharField(label="Password", widget=forms.PasswordInput)
    points = forms.IntegerField(label="Points", min_value=0)
    service = forms.ChoiceField(
        label="Quality Service", choices=[("", "Select"), ("QOF", "QOF"), ("NCD", "NCD")]
    )
    colour = forms.ChoiceField(label="Favourite colour", choices=COLOURS, widget=forms.RadioSelect)
    colours = forms.MultipleChoiceField(
        label="Colours you like",
        choices=COLOURS,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply",
    )
    agree = forms.BooleanField(label="I confirm the figures are correct")
    payment_date = DateInputField(label="Payment date", help_text="For example, 31 3 2025")
    note = forms.CharField(label="Note", widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save"))
        self.helper.add_input(Button("cancel", "Cancel"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("name") == "Nobody":
            raise forms.ValidationError("Nobody cannot declare an achievement")
        return cleaned


VALID = {
    "name": "Ada Lovelace",
    "email": "ada@example.nhs.net",
    "password": "secret-enough",
    "points": "12",
    "service": "QOF",
    "colour": "green",
    "colours": ["red", "blue"],
    "agree": "on",
    "payment_date_day": "31",
    "payment_date_month": "3",
    "payment_date_year": "2025",
    "note": "A note",
}


def render_crispy(form) -> str:
    request = RequestFactory().get("/")
    return Template("{% load crispy_forms_tags %}{% crispy form %}").render(
        Context({"form": form, "request": request})
    )


def render_filter(form) -> str:
    return Template("{% load crispy_forms_tags %}{{ form|crispy }}").render(Context({"form": form}))


def squash(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def tag_with_id(html: str, element_id: str) -> str:
    """The opening tag of the element with this id."""
    match = re.search(rf'<[a-z]+[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, f"no element with id {element_id}"
    return match.group(0)


@pytest.fixture
def invalid_form():
    form = EveryFieldForm(
        data={
            "name": "Nobody",
            "email": "not-an-email",
            "points": "-1",
            "service": "",
            "payment_date_day": "31",
            "payment_date_month": "2",
            "payment_date_year": "2025",
        }
    )
    assert not form.is_valid()
    return form


def test_a_valid_form_cleans_the_date_to_a_date():
    form = EveryFieldForm(data=VALID)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["payment_date"] == datetime.date(2025, 3, 31)


def test_an_unbound_form_renders_every_nhs_component():
    html = squash(render_crispy(EveryFieldForm()))

    assert '<form method="post" novalidate>' in html.replace("<form  ", "<form ")
    assert "nhsuk-error-summary" not in html
    assert 'class="nhsuk-label" for="id_name"' in html
    assert '<div class="nhsuk-hint" id="id_name_helptext">As it appears on your smartcard</div>' in html
    assert "nhsuk-input" in tag_with_id(html, "id_name")
    assert 'aria-describedby="id_name_helptext"' in tag_with_id(html, "id_name")
    assert 'type="email"' in tag_with_id(html, "id_email")
    assert 'type="number"' in tag_with_id(html, "id_points")
    assert "nhsuk-select" in tag_with_id(html, "id_service")
    assert "nhsuk-textarea" in tag_with_id(html, "id_note")
    # the password input with its show / hide toggle
    assert 'data-module="nhsuk-password-input"' in tag_with_id(html, "div_id_password")
    assert "nhsuk-password-input__input" in tag_with_id(html, "id_password")
    assert 'aria-controls="id_password"' in html


def test_radios_and_checkboxes_sit_in_a_fieldset_with_a_legend():
    html = squash(render_crispy(EveryFieldForm()))

    radios = html[html.index('id="div_id_colour"') : html.index('id="div_id_colours"')]
    assert '<fieldset class="nhsuk-fieldset">' in radios
    assert '<legend class="nhsuk-fieldset__legend">Favourite colour</legend>' in radios
    assert '<div class="nhsuk-radios" data-module="nhsuk-radios">' in radios
    assert radios.count('class="nhsuk-radios__item"') == 3
    assert 'class="nhsuk-radios__input" type="radio" name="colour" value="red"' in radios
    assert '<label class="nhsuk-label nhsuk-radios__label" for="id_colour_0">Red</label>' in radios

    checkboxes = html[html.index('id="div_id_colours"') : html.index('id="div_id_agree"')]
    assert '<fieldset class="nhsuk-fieldset" aria-describedby="id_colours_helptext">' in checkboxes
    assert '<legend class="nhsuk-fieldset__legend">Colours you like</legend>' in checkboxes
    assert 'data-module="nhsuk-checkboxes"' in checkboxes
    assert checkboxes.count('type="checkbox" name="colours"') == 3


def test_a_single_boolean_checkbox_has_its_label_beside_it():
    html = squash(render_crispy(EveryFieldForm()))

    agree = html[html.index('id="div_id_agree"') : html.index('id="div_id_payment_date"')]
    assert "<fieldset" not in agree
    assert 'class="nhsuk-checkboxes__item"' in agree
    assert "nhsuk-checkboxes__input" in tag_with_id(agree, "id_agree")
    assert 'type="checkbox"' in tag_with_id(agree, "id_agree")
    assert (
        '<label class="nhsuk-label nhsuk-checkboxes__label" for="id_agree">I confirm the figures are correct</label>'
        in agree
    )


def test_the_date_input_is_three_boxes_in_a_fieldset():
    html = squash(render_crispy(EveryFieldForm(initial={"payment_date": datetime.date(2025, 3, 31)})))

    date = html[html.index('id="div_id_payment_date"') : html.index('id="div_id_note"')]
    assert (
        '<fieldset class="nhsuk-fieldset" role="group" aria-describedby="id_payment_date_helptext">' in date
    )
    assert '<legend class="nhsuk-fieldset__legend">Payment date</legend>' in date
    assert '<div class="nhsuk-date-input" id="id_payment_date">' in date
    for part, label, width, value in (
        ("day", "Day", 2, "31"),
        ("month", "Month", 2, "3"),
        ("year", "Year", 4, "2025"),
    ):
        assert (
            f'<label class="nhsuk-label nhsuk-date-input__label" for="id_payment_date_{part}">{label}</label>'
            in date
        )
        box = tag_with_id(date, f"id_payment_date_{part}")
        assert f'name="payment_date_{part}"' in box
        assert f'value="{value}"' in box
        assert f"nhsuk-input nhsuk-date-input__input nhsuk-input--width-{width}" in box
        assert 'inputmode="numeric"' in box
        assert "nhsuk-input--error" not in box


def test_buttons_are_nhs_buttons_and_button_is_secondary():
    html = squash(render_crispy(EveryFieldForm()))

    save = tag_with_id(html, "submit-id-save")
    assert save.startswith('<button class="nhsuk-button" data-module="nhsuk-button"')
    assert 'type="submit"' in save and 'name="save"' in save
    cancel = tag_with_id(html, "button-id-cancel")
    assert 'class="nhsuk-button nhsuk-button--secondary"' in cancel
    assert 'type="button"' in cancel
    assert "btn" not in save + cancel


def test_css_class_adds_to_the_nhs_button_style():
    form = EveryFieldForm()
    form.helper.inputs = [
        Submit("decline", "Decline", css_class="nhsuk-button--warning"),
        Button("back", "Back", css_class="nhsuk-button--reverse"),
        Submit("other", "Other", css_class="nhsuk-button--secondary"),
    ]
    html = squash(render_crispy(form))

    assert 'class="nhsuk-button nhsuk-button--warning"' in tag_with_id(html, "submit-id-decline")
    assert 'class="nhsuk-button nhsuk-button--reverse"' in tag_with_id(html, "button-id-back")
    assert 'class="nhsuk-button nhsuk-button--secondary"' in tag_with_id(html, "submit-id-other")


def test_a_bound_form_with_errors_marks_each_field_in_error(invalid_form):
    html = squash(render_crispy(invalid_form))

    assert "nhsuk-form-group--error" not in tag_with_id(html, "div_id_name")  # its error is the form's
    for name in (
        "email",
        "password",
        "points",
        "service",
        "colour",
        "colours",
        "agree",
        "payment_date",
        "note",
    ):
        group = tag_with_id(html, f"div_id_{name}")
        assert "nhsuk-form-group nhsuk-form-group--error" in group, name
        assert (
            f'<span class="nhsuk-error-message" id="id_{name}_error"><span class="nhsuk-u-visually-hidden">Error: </span>'
            in html
        ), name

    assert "nhsuk-input--error" in tag_with_id(html, "id_email")
    assert 'aria-describedby="id_email_error"' in tag_with_id(html, "id_email")
    assert 'aria-describedby="id_name_helptext"' in tag_with_id(html, "id_name")  # name itself is valid
    assert "nhsuk-input--error" in tag_with_id(html, "id_points")
    assert "nhsuk-input--error" in tag_with_id(html, "id_password")
    assert "nhsuk-select--error" in tag_with_id(html, "id_service")
    assert "nhsuk-textarea--error" in tag_with_id(html, "id_note")
    assert '<fieldset class="nhsuk-fieldset" aria-describedby="id_colour_error">' in html
    assert '<fieldset class="nhsuk-fieldset" aria-describedby="id_colours_helptext id_colours_error">' in html
    # the user's input is kept, and every box of the impossible date is in error
    for part, value in (("day", "31"), ("month", "2"), ("year", "2025")):
        box = tag_with_id(html, f"id_payment_date_{part}")
        assert "nhsuk-input--error" in box and f'value="{value}"' in box


def test_the_error_summary_links_to_each_field_and_lists_non_field_errors(invalid_form):
    html = squash(render_crispy(invalid_form))

    summary = html[html.index('<div class="nhsuk-error-summary"') : html.index('id="div_id_name"')]
    assert 'data-module="nhsuk-error-summary"' in summary
    assert '<div role="alert">' in summary
    assert '<h2 class="nhsuk-error-summary__heading">There is a problem</h2>' in summary
    links = re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary)
    assert links[0] == ("id_name", "Nobody cannot declare an achievement")
    targets = [target for target, _message in links[1:]]
    assert targets == [
        "id_email",
        "id_password",
        "id_points",
        "id_service",
        "id_colour_0",
        "id_colours_0",
        "id_agree",
        "id_payment_date_day",
        "id_note",
    ]
    # every link lands on an element that exists
    for target in targets:
        tag_with_id(html, target)
    assert ("id_payment_date_day", "Payment date must be a real date") in links


def test_the_crispy_filter_renders_the_same_pack(invalid_form):
    html = squash(render_filter(invalid_form))

    assert "<form" not in html
    assert 'class="nhsuk-error-summary"' in html
    assert '<a href="#id_email">' in html
    assert "nhsuk-form-group nhsuk-form-group--error" in tag_with_id(html, "div_id_email")
    assert '<div class="nhsuk-date-input" id="id_payment_date">' in html


@pytest.mark.django_db
def test_the_sign_in_page_uses_the_pack(client):
    response = client.post("/sign-in/", {"username": "", "password": ""})
    html = squash(response.content.decode())

    assert 'class="nhsuk-error-summary"' in html
    assert '<a href="#id_username">' in html
    assert "nhsuk-input--error" in tag_with_id(html, "id_username")
    assert "<script>" not in html and "<script " not in html.replace('<script type="module"', "")


class DateForm(forms.Form):
    when = DateInputField(label="Achievement date")
    optional = DateInputField(label="End date", required=False)


def date_form(**parts):
    data = {f"when_{part}": value for part, value in parts.items()}
    return DateForm(data=data)


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("31", "3", "2025", datetime.date(2025, 3, 31)),
        ("1", "01", "2024", datetime.date(2024, 1, 1)),
        (" 29 ", "2", "2024", datetime.date(2024, 2, 29)),
    ],
)
def test_the_date_field_parses_day_month_and_year(day, month, year, expected):
    form = date_form(day=day, month=month, year=year)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["when"] == expected
    assert form.cleaned_data["optional"] is None


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("31", "2", "2025", "Achievement date must be a real date"),
        ("29", "2", "2025", "Achievement date must be a real date"),
        ("32", "1", "2025", "Achievement date must be a real date"),
        ("1", "13", "2025", "Achievement date must be a real date"),
        ("first", "3", "2025", "Achievement date must be a real date"),
        ("", "3", "2025", "Achievement date must include a day"),
        ("1", "", "", "Achievement date must include a month and year"),
        ("", "", "2025", "Achievement date must include a day and month"),
        ("1", "3", "25", "Year must include 4 numbers"),
        ("", "", "", "Enter achievement date"),
    ],
)
def test_the_date_field_explains_what_is_wrong(day, month, year, message):
    form = date_form(day=day, month=month, year=year)

    assert not form.is_valid()
    assert form.errors["when"] == [message]


def test_only_the_missing_part_of_a_date_is_marked_in_error():
    form = date_form(day="", month="3", year="2025")
    assert not form.is_valid()
    html = squash(render_crispy(form))

    assert "nhsuk-input--error" in tag_with_id(html, "id_when_day")
    assert "nhsuk-input--error" not in tag_with_id(html, "id_when_month")
    assert "nhsuk-input--error" not in tag_with_id(html, "id_when_year")
    assert '<a href="#id_when_day">Achievement date must include a day</a>' in html


def test_the_date_field_bounds():
    field = DateInputField(label="Payment date", min_value=datetime.date(2025, 4, 1))

    with pytest.raises(forms.ValidationError) as error:
        field.clean(["31", "3", "2025"])
    assert error.value.messages == ["Payment date must be the same as or after 1 April 2025"]
    assert field.clean(["1", "4", "2025"]) == datetime.date(2025, 4, 1)


def test_the_date_widget_round_trips_a_date():
    widget = DateInputWidget()

    assert widget.decompress(datetime.date(2025, 3, 31)) == ["31", "3", "2025"]
    assert widget.decompress(None) == [None, None, None]
    assert widget.value_from_datadict({"d_day": "1", "d_month": "2", "d_year": "2026"}, {}, "d") == [
        "1",
        "2",
        "2026",
    ]
    assert not widget.value_omitted_from_data({"d_year": "2026"}, {}, "d")


def test_the_date_field_has_changed():
    field = DateInputField()

    assert not field.has_changed(datetime.date(2025, 3, 31), ["31", "03", "2025"])
    assert field.has_changed(datetime.date(2025, 3, 31), ["1", "4", "2025"])
    assert field.has_changed(None, ["31", "2", "2025"])
