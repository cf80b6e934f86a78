"""No request ends in a 500 (issue 11, section 4): every URL of the URL conf and every form field,
with a corpus of nonsense, as every demo user.

The walk is generated, as the authorisation matrix is (tests/accounts/test_authorisation_matrix.py,
whose registry fills URL kwargs with real objects of the seeded demo world): a new URL or a new
form field is covered without anyone remembering to.  For each user (anonymous, then each demo
user) every URL is opened; the forms of each page that answers are read from its HTML (inputs,
selects, textareas, named buttons) and every field of every form is sent every class of nonsense
(huge numbers, negative numbers, NUL, unicode digits, 20 kB strings, empty, whitespace, not a
number), the other fields keeping what the page filled in.  Links to the same page with a query
string (``?page=2``) count as a GET form.  Each form is then sent as filled in, once, and the page
it leads to is walked too (Create Offers' later steps, a filtered list).  Each URL kwarg is also
replaced by nonsense (a 30-digit id, NUL in an ODS code).

Any answer but a 5xx is fine: the point is that nonsense gets the form's error, a filter ignored
or a 404, never a server error.  Every failure is collected and reported together.

Each nonsense request runs in a savepoint that is rolled back, so the demo world stays as seeded
and one user's nonsense cannot change what the next request sees; a form sent as filled in is
kept (it may be the step a later page needs) unless it broke the transaction.
"""

from __future__ import annotations

import itertools
import traceback
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.urls import reverse

from accounts.demo import USERS
from accounts.models import User
from tests.accounts.test_authorisation_matrix import REGISTRY, Route, routes

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent

# Every class of nonsense; a field gets one value of each class (the values of a class take turns
# across the walk, so each is sent somewhere).
CORPUS: dict[str, tuple[str, ...]] = {
    "huge number": ("1" + "0" * 29,),
    "negative": ("-1", "-" + "9" * 30),
    "NUL": ("\x00", "1\x00"),
    "unicode digits": ("١٢٣", "²"),
    "20 kB of text": ("x" * 20_000, "é" * 10_000),
    "20 kB of digits": ("9" * 20_000,),
    "empty": ("",),
    "whitespace": (" \t\n ",),
    "not a number": ("NaN", "1e400"),
}
_TURNS = {name: itertools.cycle(values) for name, values in CORPUS.items()}
# Anonymous first; the administrator last (a form sent as filled in may change what others see).
USER_ORDER = [None, *(email for email in USERS if email != "admin@demo.nhs.net"), "admin@demo.nhs.net"]
# The classes a text URL kwarg (an ODS code, a token) gets: it can hold no empty value nor "/".
PATH_NONSENSE = ("huge number", "NUL", "unicode digits", "20 kB of text", "whitespace")
MAX_DEPTH = 2  # pages reached by sending a form as filled in, then one more step


def nonsense(name: str) -> str:
    return next(_TURNS[name])


# --- Reading the forms of a page ------------------------------------------------------------------


@dataclass
class Field:
    kind: str  # text, checkbox, radio, select, button
    options: list[str] = field(default_factory=list)
    default: list[str] = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, Field] = field(default_factory=dict)

    def key(self) -> tuple:
        return (self.method, urlsplit(self.action).path, tuple(sorted(self.fields)))

    def filled_in(self) -> dict[str, list[str]]:
        """What a browser would send, choosing the first option where nothing is chosen."""
        data = {}
        for name, f in self.fields.items():
            if f.default:
                data[name] = list(f.default)
            elif f.options:
                data[name] = [f.options[0]]
            elif f.kind not in ("checkbox", "radio", "select", "button"):
                data[name] = [""]
        return data


class FormParser(HTMLParser):
    """The forms (and same-page links with a query string) of a page, as a browser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: tuple[str, Field] | None = None
        self._option: dict | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def _field(self, name: str, kind: str) -> Field:
        return self._form.fields.setdefault(name, Field(kind))

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and "?" in a.get("href", ""):
            self.links.append(a["href"])
        if tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
            return
        if tag == "option" and self._select:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": []}
            return
        if self._form is None or not a.get("name") or "disabled" in a:
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                f = self._field(name, kind)
                f.options.append(a.get("value", "on"))
                if "checked" in a:
                    f.default.append(a.get("value", "on"))
            elif kind in ("submit", "image", "button", "reset"):
                self._field(name, "button").options.append(a.get("value", ""))
            else:
                self._field(name, "text").default = [a.get("value", "")]
        elif tag == "button":
            self._field(name, "button").options.append(a.get("value", ""))
        elif tag == "select":
            self._select = (name, self._field(name, "select"))
        elif tag == "textarea":
            self._textarea = (name, [])

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"].append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select:
            option = self._option
            value = option["value"] if option["value"] is not None else "".join(option["text"]).strip()
            self._select[1].options.append(value)
            if option["selected"]:
                self._select[1].default.append(value)
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, text = self._textarea
            self._field(name, "text").default = ["".join(text)]
            self._textarea = None
        elif tag == "form":
            self._form = None


def page_forms(url: str, html: str) -> list[Form]:
    """The page's forms, their actions made absolute, plus one GET form of the query parameters
    of the page's links to itself (pagination, tabs)."""
    parser = FormParser()
    parser.feed(html)
    forms = []
    for form in parser.forms:
        form.action = urljoin(url, form.action)
        if urlsplit(form.action).netloc in ("", "testserver"):
            forms.append(form)
    path = urlsplit(url).path
    linked = Form("get", path)
    for href in parser.links:
        target = urlsplit(urljoin(url, href))
        if target.netloc in ("", "testserver") and target.path == path:
            for name, value in parse_qsl(target.query, keep_blank_values=True):
                linked.fields.setdefault(name, Field("text", default=[value]))
    if linked.fields:
        forms.append(linked)
    return forms


# --- The walk ---------------------------------------------------------------------------------------


@dataclass
class Walk:
    client: object
    user: User | None
    walked_forms: set  # forms whose every field got every class of nonsense (shared by all users)
    failures: dict[tuple, str] = field(default_factory=dict)
    seen_forms: set = field(default_factory=set)
    requests: int = 0

    @property
    def who(self) -> str:
        return self.user.email if self.user else "anonymous"

    def send(self, method: str, url: str, data=None, *, keep: bool = False, what: str = ""):
        """One request in a savepoint: rolled back unless ``keep``; a 5xx is recorded."""
        self.requests += 1
        response = None
        try:
            with transaction.atomic():
                response = self._request(method, url, data)
                if not keep:
                    raise _Undo
        except _Undo:
            pass
        except DatabaseError:  # the request broke the transaction: its 500 is recorded below
            pass
        if response.status_code >= 500:
            exc = response.exc_info[1] if getattr(response, "exc_info", None) else None
            cause = f"{type(exc).__name__}: {str(exc)[:120]} (at {_where(exc)})" if exc else response.reason_phrase
            key = (method, urlsplit(url).path, what, type(exc).__name__)
            self.failures.setdefault(key, f"{self.who} {method.upper()} {url[:120]!r} {what}: {response.status_code} {cause}")
        self._stay_signed_in()
        return response

    def _request(self, method, url, data):
        if method == "get":
            split = urlsplit(url)
            query = parse_qsl(split.query, keep_blank_values=True)
            merged = {**{k: [v] for k, v in query}, **(data or {})} if data is not None else None
            return self.client.get(split.path if data is not None else url, merged)
        return self.client.post(url, data or {})

    def sign_in(self):
        """Sign the user in, with the journeys they are in the middle of (JOURNEYS_IN_PROGRESS)."""
        if self.user is None:
            return
        self.client.force_login(self.user)
        session = self.client.session
        for prepare in JOURNEYS_IN_PROGRESS.get(self.user.email, ()):
            session.update(prepare(self.user))
        session.save()

    def _stay_signed_in(self):
        if self.user is not None and "_auth_user_id" not in self.client.session:  # Sign out was sent
            self.sign_in()

    def page(self, url: str, depth: int = 0) -> int:
        """Open the page and walk its forms; its status (405 for a POST-only action)."""
        response = self.send("get", url, keep=True, what="(the page)")
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            return response.status_code
        for form in page_forms(url, response.content.decode(errors="replace")):
            self.form(form, depth)
        return response.status_code

    def form(self, form: Form, depth: int) -> None:
        key = form.key()
        if key in self.seen_forms:
            return
        self.seen_forms.add(key)
        filled = form.filled_in()
        if key in self.walked_forms:
            # Another user sent each field every class: this user sends each class in every field
            # at once (what differs between users is what they may see, not how a field parses).
            for kind in CORPUS:
                data = {**filled, **{name: [nonsense(kind)] for name in form.fields if name != "csrfmiddlewaretoken"}}
                self.send(form.method, form.action, data, what=f"every field={kind}")
        else:
            self.walked_forms.add(key)
            for name in form.fields:
                if name == "csrfmiddlewaretoken":  # the test client does not check it: nothing to learn
                    continue
                for kind in CORPUS:
                    data = {**filled, name: [nonsense(kind)]}
                    self.send(form.method, form.action, data, what=f"{name}={kind}")
        if depth < MAX_DEPTH:
            response = self.send(form.method, form.action, filled, keep=True, what="(filled in)")
            if response.status_code in (301, 302, 303):
                target = urljoin(form.action, response["Location"])
                if urlsplit(target).netloc in ("", "testserver"):
                    self.page(target, depth + 1)
            elif response.status_code == 200 and form.method == "get":
                self.page(response.request["PATH_INFO"] + "?" + response.request["QUERY_STRING"], depth + 1)


def _where(exc: BaseException) -> str:
    """The last line of the project's own code the exception passed through."""
    ours = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(str(ROOT)) and ".venv" not in f.filename]
    frame = ours[-1] if ours else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{Path(frame.filename).relative_to(ROOT) if frame.filename.startswith(str(ROOT)) else frame.filename}:{frame.lineno}"


class _Undo(Exception):
    """Raised to roll a nonsense request's savepoint back."""


def registry_entry(route: Route, kwarg: str):
    """How the authorisation matrix finds a real object for the kwarg; None if it does not know
    (the matrix test fails then, telling how to register it; here the URL still gets the
    nonsense ids)."""
    return REGISTRY.get(f"{route.name}:{kwarg}") or REGISTRY.get(kwarg)


def route_url(route: Route, world: dict) -> str | None:
    """The route filled with real demo-world objects (the matrix registry); a registration or
    reset link gets a made-up token (its pages say the link is not valid)."""
    kwargs = {}
    for kwarg in route.kwargs:
        entry = registry_entry(route, kwarg)
        if entry is None:
            return None
        value = "nonsense-token" if entry.capability else entry.value(world)
        if value in (None, ""):
            return None
        kwargs[kwarg] = value
    return reverse(route.name, kwargs=kwargs)


def path_nonsense(route: Route, world: dict) -> list[tuple[str, str]]:
    """(URL, what) for each kwarg of the route replaced by each class of nonsense its converter
    lets through (an int kwarg only takes digits: a 30-digit id, 0 and 20,000 digits)."""
    urls = []
    real = {}
    for kwarg in route.kwargs:
        entry = registry_entry(route, kwarg)
        real[kwarg] = 1 if entry is None else "x" if entry.capability else entry.value(world)
    for kwarg in route.kwargs:
        is_int = route.route.count(f"<int:{kwarg}>") > 0
        values = (
            {"huge number": "1" + "0" * 29, "zero": "0", "20 kB": "9" * 20_000}
            if is_int
            else {kind: nonsense(kind) for kind in PATH_NONSENSE}
        )
        for kind, value in values.items():
            if "/" in value or not value.strip():
                value = value.replace("/", "") or "%20"
            try:
                url = reverse(route.name, kwargs={**real, kwarg: value})
            except Exception:  # noqa: BLE001 - the converter refuses it: the URL cannot be asked for
                continue
            urls.append((url, f"<{kwarg}>={kind}"))
    return urls


def _create_offers_in_progress(user: User) -> dict:
    """Create Offers' later steps (choose providers, review) read step 1's choices, and the
    providers chosen, from the session: without them they send the user back to step 1.  A
    service with providers still to offer it to, so that step 2 lists them."""
    from participation.selectors import offerable_provider_list, offerable_service_list

    for service in offerable_service_list():
        providers = list(offerable_provider_list(user=user, service=service)[:1])
        if providers:
            year = service.financial_year
            return {"create_offers": {
                "service": service.pk, "start_date": year.start_date.isoformat(),
                "end_date": year.end_date.isoformat(), "response_date": year.start_date.isoformat(),
                "target_date": year.end_date.isoformat(), "providers": [providers[0].pk],
            }}
    pytest.fail("the demo world has no service left to offer: Create Offers' later steps are not walked")


# Pages that only open in the middle of a journey: what the session holds by then, per user.
JOURNEYS_IN_PROGRESS = {"commissioner@demo.nhs.net": (_create_offers_in_progress,)}


@pytest.fixture
def seeded_world():
    call_command("seed_demo", verbosity=0)
    return {}


def test_the_nonsense_parser_reads_fields_a_browser_would_send():
    html = """
    <form method="post" action="/x/"><input type="hidden" name="csrfmiddlewaretoken" value="t">
      <input name="q" value="a"><input type="checkbox" name="ids" value="1"><input type="checkbox" name="ids" value="2" checked>
      <select name="year"><option value="">All</option><option value="7" selected>2024</option></select>
      <textarea name="note">hi</textarea><button name="action" value="accept">Accept</button>
      <input name="off" disabled></form>
    <a href="?page=2">Next</a>"""
    forms = page_forms("/list/", html)
    assert forms[0].filled_in() == {
        "csrfmiddlewaretoken": ["t"], "q": ["a"], "ids": ["2"], "year": ["7"], "note": ["hi"], "action": ["accept"],
    }
    assert forms[1].method == "get" and forms[1].action == "/list/" and "page" in forms[1].fields


def test_no_url_and_no_form_field_answers_nonsense_with_a_server_error(client, seeded_world):
    client.raise_request_exception = False
    all_routes = routes()
    walked_urls: set[str] = set()
    failures: dict[tuple, str] = {}
    walked_forms: set[tuple] = set()
    total = 0
    for email in USER_ORDER:
        user = User.objects.get(email=email) if email else None
        client.logout()
        walk = Walk(client, user, walked_forms)
        walk.sign_in()
        for route in all_routes:
            entries = [registry_entry(route, kwarg) for kwarg in route.kwargs]
            known = None not in entries  # else the matrix test says how to register the kwarg
            url = route_url(route, seeded_world) if known else None
            if known and url is None:
                failures[("missing", route.name)] = f"{route.name}: the demo world has no object for it"
            if url is not None:
                walked_urls.add(route.name)
                if walk.page(url) in (200, 405):  # a page this user may open, or a POST-only action
                    walk.send("post", url, {}, what="(empty POST)")
            # Nonsense in the URL itself: as the objects' owners (or anonymous for a link that is
            # its own authority), so the request gets past the sign-in to the lookup.
            owners = {owner for entry in entries if entry for owner in entry.owners}
            if route.kwargs and (not known or email in owners or (not owners and email is None)):
                walked_urls.add(route.name)
                for bad_url, what in path_nonsense(route, seeded_world):
                    walk.send("get", bad_url, what=what)
                    walk.send("post", bad_url, {}, what=what)
        failures.update(walk.failures)
        total += walk.requests
    fields_walked = {(key, name) for key in walked_forms for name in key[2]}
    print(f"nonsense walk: {total} requests, {len(walked_urls)} URLs, {len(fields_walked)} form fields")
    assert walked_urls == {r.name for r in all_routes}
    assert len(fields_walked) > 30, "the walk found almost no form fields: is the parser reading the pages?"
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(sorted(failures.values()))
