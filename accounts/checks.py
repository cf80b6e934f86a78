"""System checks for accounts: every URL name the tabs name exists (``manage.py check``, run at
start-up by ``runserver`` and the deploy checks), so a mistyped name stops the service rather
than hiding a tab."""

from __future__ import annotations

from collections.abc import Iterator

from django.core.checks import Error, Tags, register
from django.urls import NoReverseMatch, get_resolver, reverse


def url_names(resolver=None, namespace: str = "") -> Iterator[str]:
    """Every named URL of the project, with its namespaces (``participation:offer_detail``)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if hasattr(pattern, "url_patterns"):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern, inner)
        elif pattern.name:
            yield f"{namespace}{pattern.name}"


@register(Tags.urls)
def navigation_url_names(app_configs=None, **kwargs) -> list[Error]:
    """A sub-tab's own URL name reverses with no arguments (it is a link in the tab bar); the
    screens that keep it marked are URL names that exist."""
    from .navigation import TABS

    known = set(url_names())
    errors = []
    for tab in TABS:
        for subtab in tab.subtabs:
            try:
                reverse(subtab.url_name)
            except NoReverseMatch:
                errors.append(_error(tab.label, subtab.label, subtab.url_name))
            errors += [_error(tab.label, subtab.label, name) for name in subtab.screens if name not in known]
    return errors


def _error(tab: str, subtab: str, url_name: str) -> Error:
    return Error(
        f"The {tab} > {subtab} tab names the URL {url_name!r}, which does not exist.",
        hint="Correct the URL name in accounts/navigation.py TABS.",
        obj="accounts.navigation.TABS",
        id="accounts.E001",
    )
