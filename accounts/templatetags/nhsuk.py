"""NHS.UK components for templates: `{% load nhsuk %}`.

Each component is one template under `templates/nhsuk/components/`.  A component without a body
is included: `{% include "nhsuk/components/tag.html" with text="Payment date" colour="yellow" only %}`.
A component that wraps markup takes it as its body, and may fill named slots (for a value that
needs markup or template logic):

    {% component "card" heading="Declared" testid="declared-panel" %}
      {% slot "description" %}No declarations in {{ year }}.{% endslot %}
      ... the body ...
    {% endcomponent %}

Components see only their arguments, `body`, their slots, `request` and `csrf_token`: nothing of
the page leaks in.  Status tags take their colour from the one map, `accounts.status_tags`:

    {% status_tag "offer" offer.status offer.get_status_display %}
"""

from __future__ import annotations

from django import template
from django.template.base import Node, NodeList, token_kwargs
from django.utils.safestring import mark_safe

from accounts.status_tags import status_tag_colour

register = template.Library()

COMPONENTS = "nhsuk/components/{}.html"


class SlotNode(Node):
    def __init__(self, name, nodelist: NodeList):
        self.name = name
        self.nodelist = nodelist

    def render(self, context) -> str:
        return ""  # rendered by the enclosing ComponentNode


class ComponentNode(Node):
    def __init__(self, name, kwargs, nodelist: NodeList):
        self.name = name
        self.kwargs = kwargs
        self.nodelist = nodelist

    def render(self, context) -> str:
        values = {key: value.resolve(context) for key, value in self.kwargs.items()}
        body, slots = [], {}
        for node in self.nodelist:
            if isinstance(node, SlotNode):
                slots[node.name.resolve(context)] = mark_safe(node.nodelist.render(context).strip())
            else:
                body.append(node.render_annotated(context))
        values["body"] = mark_safe("".join(body).strip())
        values.update(slots)
        values.setdefault("request", context.get("request"))
        values.setdefault("csrf_token", context.get("csrf_token"))
        return self._template(context).render(context.new(values))

    def _template(self, context):
        """The component's template, looked up once per node and name (a table of 400 rows renders
        a row's component 400 times)."""
        name = self.name.resolve(context)
        cached = getattr(self, "_cached", None)
        if cached is None or cached[0] != name:
            cached = self._cached = (name, context.template.engine.get_template(COMPONENTS.format(name)))
        return cached[1]


def _kwargs(parser, bits, tag_name):
    kwargs = token_kwargs(bits, parser)
    if bits:
        raise template.TemplateSyntaxError(f"{tag_name} takes a component name and key=value arguments only")
    return kwargs


@register.tag
def component(parser, token):
    """`{% component "name" key=value ... %}body{% endcomponent %}`: render a component around a body."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("component needs the component's name")
    name = parser.compile_filter(bits[1])
    kwargs = _kwargs(parser, bits[2:], "component")
    nodelist = parser.parse(("endcomponent",))
    parser.delete_first_token()
    return ComponentNode(name, kwargs, nodelist)


@register.tag
def slot(parser, token):
    """`{% slot "name" %}markup{% endslot %}`, inside a component: a named argument with markup."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("slot takes one argument, its name")
    nodelist = parser.parse(("endslot",))
    parser.delete_first_token()
    return SlotNode(parser.compile_filter(bits[1]), nodelist)


@register.inclusion_tag(COMPONENTS.format("tag"))
def status_tag(kind: str, status, text, testid: str = "") -> dict:
    """The tag of a status: `text` in the colour `accounts.status_tags` gives `status` of `kind`."""
    return {"text": text, "colour": status_tag_colour(kind, status), "testid": testid}
