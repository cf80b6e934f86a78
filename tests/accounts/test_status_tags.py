"""The one status-to-tag map, its template tag, and the component tag that renders NHS.UK
components around a body."""

import pytest
from django.template import Context, Template, TemplateSyntaxError

from accounts.status_tags import STATUS_TAGS, status_tag_class, status_tag_colour
from achievement.models import ExtractStatus, SubmissionStatus
from declarations.models import DeclarationStatus
from participation.models import OfferStatus

STATE_MACHINES = {
    "offer": OfferStatus,
    "submission": SubmissionStatus,
    "extract": ExtractStatus,
    "declaration": DeclarationStatus,
}


@pytest.mark.parametrize("kind", STATE_MACHINES)
def test_every_status_of_every_state_machine_has_a_colour(kind):
    assert {str(value) for value in STATE_MACHINES[kind].values} <= set(STATUS_TAGS[kind])


@pytest.mark.parametrize(
    "kind, status, colour",
    [
        ("offer", OfferStatus.OFFERED, "yellow"),
        ("offer", OfferStatus.APPROVED, "green"),
        ("offer", OfferStatus.REJECTED, "red"),
        ("offer", OfferStatus.WITHDRAWN, "grey"),
        ("offer", OfferStatus.CANCELLED, "grey"),
        ("submission", SubmissionStatus.WORK_IN_PROGRESS, "blue"),
        ("submission", SubmissionStatus.SUBMITTED, "green"),
        ("submission", None, "grey"),
        ("extract", ExtractStatus.RECEIVED, "grey"),
        ("extract", ExtractStatus.VALIDATING, "blue"),
        ("extract", ExtractStatus.LOADED, "green"),
        ("extract", ExtractStatus.REJECTED, "red"),
        ("declaration", DeclarationStatus.AWAITING_PROVIDER, "yellow"),
        ("declaration", DeclarationStatus.AWAITING_COMMISSIONER, "blue"),
        ("declaration", DeclarationStatus.AWAITING_FINANCE, "purple"),
        ("declaration", DeclarationStatus.FINANCIALLY_APPROVED, "green"),
    ],
)
def test_the_colours_are_the_ones_every_screen_showed(kind, status, colour):
    assert status_tag_colour(kind, status) == colour
    assert status_tag_class(kind, status) == f"nhsuk-tag--{colour}"


def test_a_status_the_map_does_not_know_shows_grey_but_an_unknown_kind_is_a_mistake():
    assert status_tag_colour("offer", "archived") == "grey"
    with pytest.raises(KeyError):
        status_tag_colour("offers", "offered")


def render(source: str, **context) -> str:
    return Template("{% load nhsuk %}" + source).render(Context(context))


def test_status_tag_renders_the_tag_component_with_the_label_and_its_colour():
    html = render('{% status_tag "declaration" status label testid="declaration-status" %}',
                  status="awaiting_finance", label="Awaiting Finance Approval")
    assert html == (
        '<strong class="nhsuk-tag nhsuk-tag--purple" data-testid="declaration-status">Awaiting Finance Approval</strong>'
    )


def test_a_component_gets_its_body_and_slots_and_nothing_else_of_the_page():
    html = render(
        '{% component "card" heading="Declared" %}{% slot "testid" %}panel-{{ code }}{% endslot %}'
        "<p>{{ code }}</p>{% endcomponent %}",
        code="AF006", description="leaks from the page",
    )
    assert 'data-testid="panel-AF006"' in html
    assert "<p>AF006</p>" in html
    assert '<h2 class="nhsuk-card__heading nhsuk-heading-m">Declared</h2>' in html
    assert "leaks from the page" not in html


def test_a_component_escapes_its_arguments_its_body_and_its_slots():
    for source in (
        '{% component "inset_text" text=text %}{% endcomponent %}',
        '{% component "inset_text" %}<p>{{ text }}</p>{% endcomponent %}',
        '{% component "inset_text" %}{% slot "body" %}<p>{{ text }}</p>{% endslot %}{% endcomponent %}',
    ):
        html = render(source, text="<script>")
        assert "<p>&lt;script&gt;</p>" in html and "<script>" not in html, source


def test_a_component_needs_a_name_and_keyword_arguments():
    with pytest.raises(TemplateSyntaxError):
        render("{% component %}{% endcomponent %}")
    with pytest.raises(TemplateSyntaxError):
        render('{% component "card" "stray" %}{% endcomponent %}')
