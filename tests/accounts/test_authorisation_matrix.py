"""The authorisation matrix, generated from the URL configuration.

Every URL pattern that takes an object id or code is requested, GET and POST, by a user of
another organisation (holding every role there) with a real object of the demo world
(`seed_demo`): it must answer 404 or 403 (405 for a method the view does not take), and an
owner of the object must be able to open it, so the refusal is about the organisation and not a
wrong id.  Every list page (no kwargs) is opened by that outsider and must show none of the demo
organisations' rows.

New URLs are covered automatically: a kwarg name the registry below does not know FAILS the
test, telling the developer to register how to find a real object for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Organisation, Role, User
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, UserFactory, member

pytestmark = pytest.mark.django_db

DEMO_ICB, DEMO_PRACTICE, DEMO_PCN = "QHM", "A81001", "U89141"
# What must never appear on an outsider's page: the demo organisations and people.
DEMO_MARKERS = [
    "The Densham Surgery", "Woodbridge Practice", "Queens Park Medical Centre", "Stockton PCN",
    "North East and North Cumbria", DEMO_PRACTICE, "A81017", DEMO_PCN, "@demo.nhs.net",
]
DENIED = {403, 404}
WRONG_METHOD = 405


@dataclass(frozen=True)
class Kwarg:
    """How to find a real demo-world object for a URL kwarg.

    ``value``: returns the kwarg value from the seeded world.  ``owners``: demo users at least
    one of whom may open the URL (the positive control).  ``shared``: a national object (the
    catalogue): an outsider may open it but must see no demo organisation's rows.
    ``capability``: a secret-bearing link (registration token): not organisation-scoped, the
    link itself is the authority; checked in test_registration instead.
    """

    value: Callable[[dict], object]
    owners: tuple[str, ...] = ()
    shared: bool = False
    capability: str = ""


def _org(code: str) -> Organisation:
    return Organisation.objects.get(ods_code=code)


def _demo_message(world) -> int:
    from accounts.models import Message
    from accounts.services import message_send

    message = Message.objects.filter(organisation=_org(DEMO_PRACTICE), role="").first()
    if message is None:
        message = message_send(organisation=_org(DEMO_PRACTICE), subject="Demo message for the matrix")
    return message.pk


def _offer(world) -> int:
    from participation.models import ServiceOffer

    return ServiceOffer.objects.filter(provider=_org(DEMO_PRACTICE)).values_list("pk", flat=True).first()


def _offered_service(world) -> int:
    from participation.models import ServiceOffer

    return ServiceOffer.objects.filter(commissioner=_org(DEMO_ICB)).values_list("service_id", flat=True).first()


def _extract_load(world) -> int:
    from achievement.models import ExtractLoad

    load = ExtractLoad.objects.first() or ExtractLoad.objects.create(
        file_name="matrix.csv", file_path="/dev/null", sha256="0" * 64
    )
    return load.pk


def _achievement(world) -> int:
    from achievement.models import Achievement
    from participation.models import OfferStatus, ServiceOffer

    practice = _org(DEMO_PRACTICE)
    achievement = Achievement.objects.filter(provider=practice).first()
    if achievement is None:
        # Until the demo world seeds achievement (docs/design.md: the demo practice has one), make
        # one for a service the practice takes part in.
        offer = ServiceOffer.objects.filter(provider=practice, status=OfferStatus.APPROVED).select_related("service").first()
        achievement = Achievement.objects.create(
            provider=practice, service=offer.service, achievement_date=offer.service.achievement_dates.first()
        )
    return achievement.pk


def _achievement_group(world) -> int:
    from achievement.models import Achievement

    return Achievement.objects.get(pk=_achievement(world)).service.groups.values_list("pk", flat=True).first()


def _tick_box_indicator(world) -> int:
    from achievement.models import Achievement
    from participation.models import Indicator

    service_id = Achievement.objects.get(pk=_achievement(world)).service_id
    return Indicator.objects.filter(service_id=service_id, kind__in=["tick_box", "per_capita"]).values_list("pk", flat=True).first()


def _manual_entry(world) -> int:
    """The demo practice marked as having no automatic extract for one of its services."""
    from achievement.models import Achievement, ManualEntryProvider, NoExtractReason

    achievement = Achievement.objects.get(pk=_achievement(world))
    mark, _ = ManualEntryProvider.objects.get_or_create(
        provider=achievement.provider, service=achievement.service, defaults={"reason": NoExtractReason.PROVIDER}
    )
    return mark.pk


def _report_run(world) -> int:
    """A prepared Payments download of the demo finance user's (Reports > Payments)."""
    from reports.models import ReportRun, ReportRunStatus
    from reports.records.runs import reports_dir

    user = User.objects.get(email=FINANCE)
    run = ReportRun.objects.filter(user=user).first()
    if run is None:
        path = reports_dir() / "matrix.csv"
        path.write_text("Quality Service\n")
        run = ReportRun.objects.create(
            user=user, report="payments", file_format="csv", status=ReportRunStatus.DONE, file_path=str(path)
        )
    return run.pk


def _cluster(world) -> int:
    """A Service Provider Cluster of the demo ICB, holding the demo practice."""
    from participation.models import ProviderCluster

    cluster, _ = ProviderCluster.objects.get_or_create(commissioner=_org(DEMO_ICB), name="Matrix cluster")
    cluster.providers.add(_org(DEMO_PRACTICE))
    return cluster.pk


def _national_figures_date(world):
    """The QOF 2024/25 payment date (National Figures: the demo National Administrator's)."""
    from participation.models import AchievementDate

    return AchievementDate.objects.filter(service__code="QOF2425", is_payment_date=True).first()


def _aspiration(world) -> int:
    """An aspiration payment of the demo practice (issue 13): its own, and its ICB's to approve."""
    from declarations.models import Aspiration
    from participation.models import QualityService

    service = QualityService.objects.get(code="QOF2425")
    aspiration, _ = Aspiration.objects.get_or_create(
        provider=_org(DEMO_PRACTICE), service=service, defaults={"percent": 80, "total": 12, "monthly": 1, "last_month": 1}
    )
    return aspiration.pk


def _claims_month(world) -> int:
    """A month of the demo ICB's monthly flu claims (issue 16: seed_demo leaves October's awaiting
    its approval): Approve Monthly Claims approves it for the ICB."""
    from participation.models import AchievementDate

    return AchievementDate.objects.filter(service__code="FLU2425", date="2024-10-31").values_list("pk", flat=True).first()


def _pcn_achievement(world) -> int:
    """The demo PCN's Network Contract DES achievement (Network Achievement)."""
    from achievement.models import Achievement

    return Achievement.objects.filter(provider=_org(DEMO_PCN), service__provider_level="pcn").values_list(
        "pk", flat=True
    ).first()


FINANCE = "finance@demo.nhs.net"
NATIONAL = "national@demo.nhs.net"
PRACTICE_USER, COMMISSIONER, ADMIN = "practice@demo.nhs.net", "commissioner@demo.nhs.net", "admin@demo.nhs.net"

# kwarg name -> how to find a real object; "<view name>:<kwarg>" when a name means different
# objects in different URLs (``pk``).
REGISTRY: dict[str, Kwarg] = {
    "ods_code": Kwarg(lambda w: DEMO_PRACTICE, owners=(PRACTICE_USER,)),
    "message_detail:pk": Kwarg(_demo_message, owners=(PRACTICE_USER,)),
    "user_id": Kwarg(lambda w: User.objects.get(email=PRACTICE_USER).pk, owners=(ADMIN,)),
    "organisation_id": Kwarg(lambda w: _org(DEMO_PRACTICE).pk, owners=(ADMIN,)),
    "token": Kwarg(lambda w: "", capability="a registration link is its own authority (tests/accounts/test_registration.py)"),
    "uidb64": Kwarg(lambda w: "", capability="a password reset link is its own authority (tests/accounts/test_password_reset.py)"),
    "participation:offer_detail:pk": Kwarg(_offer, owners=(PRACTICE_USER, COMMISSIONER)),
    "service_pk": Kwarg(_offered_service, owners=(COMMISSIONER,), shared=True),
    "achievement:extract_load:pk": Kwarg(_extract_load, owners=(ADMIN,), shared=True),
    "achievement_id": Kwarg(_achievement, owners=(PRACTICE_USER,)),
    # Record Achievement: an indicator group, and a tick-box indicator, of that achievement's service.
    "achievement:group_detail:group_id": Kwarg(_achievement_group, owners=(PRACTICE_USER,)),
    "achievement:group_tick_box:indicator_id": Kwarg(_tick_box_indicator, owners=(PRACTICE_USER,)),
    # Record Provider Achievement: the demo practice's achievement, entered by its ICB's
    # Commissioning Management; its groups and tick-boxes; the practice marked as without extracts.
    "achievement:record_provider_achievement_detail:achievement_id": Kwarg(_achievement, owners=(COMMISSIONER,)),
    "achievement:record_provider_group_detail:achievement_id": Kwarg(_achievement, owners=(COMMISSIONER,)),
    "achievement:record_provider_group_detail:group_id": Kwarg(_achievement_group, owners=(COMMISSIONER,)),
    "achievement:record_provider_group_tick_box:achievement_id": Kwarg(_achievement, owners=(COMMISSIONER,)),
    "achievement:record_provider_group_tick_box:indicator_id": Kwarg(_tick_box_indicator, owners=(COMMISSIONER,)),
    "manual_entry_id": Kwarg(_manual_entry, owners=(COMMISSIONER,)),
    # A declaration: the demo practice's (seed_demo leaves it Awaiting Service Provider Approval).
    "declaration_id": Kwarg(
        lambda w: __import__("declarations.models", fromlist=["Declaration"]).Declaration.objects.filter(
            provider=_org(DEMO_PRACTICE)
        ).values_list("pk", flat=True).first(),
        owners=(PRACTICE_USER, COMMISSIONER),
    ),
    # A Service Provider Cluster: the demo ICB's Commissioning Management.
    "cluster_id": Kwarg(_cluster, owners=(COMMISSIONER,)),
    # National Figures (issue 13): national data, for the demo National Administrator only.
    "declarations:national_figures_detail:service_id": Kwarg(
        lambda w: _national_figures_date(w).service_id, owners=(NATIONAL,), shared=True
    ),
    "declarations:national_figures_detail:achievement_date_id": Kwarg(
        lambda w: _national_figures_date(w).pk, owners=(NATIONAL,), shared=True
    ),
    # An aspiration payment (issue 13): the demo practice's, and its ICB's Approval Management.
    "aspiration_id": Kwarg(_aspiration, owners=(PRACTICE_USER, COMMISSIONER)),
    # A month of a monthly service (issue 16): the demo ICB's Approval Management approves it.
    "declarations:approve_claims_month:achievement_date_id": Kwarg(_claims_month, owners=(COMMISSIONER,)),
    # A prepared report download: only the user who asked for it.
    "report_run_id": Kwarg(_report_run, owners=(FINANCE,)),
    # Record a PCN move (ADR 0020): the demo practice's page, its ICB's Commissioning Management.
    "practice_pcn_move:ods_code": Kwarg(lambda w: DEMO_PRACTICE, owners=(COMMISSIONER,)),
    # Network Achievement (ADR 0020): the demo PCN's NCD achievement, its lead and its ICB.
    "achievement:network_achievement:achievement_id": Kwarg(
        _pcn_achievement, owners=("pcnlead@demo.nhs.net", COMMISSIONER)
    ),
}

# Pages that are not organisation data: sign-in and sign-out flows, Django's staff admin.
NOT_LISTS = {"login", "logout", "nhsmail_sign_in", "nhsmail_callback"}


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    kwargs: tuple[str, ...]


def routes(patterns=None, prefix: str = "", namespace: str = "") -> list[Route]:
    """Every URL pattern, with its full view name and kwarg names (walking includes)."""
    found: list[Route] = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(part for part in (namespace, pattern.namespace) if part)
            found += routes(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            found.append(Route(name, prefix + str(pattern.pattern), tuple(pattern.pattern.converters)))
    return [r for r in found if not r.name.startswith("admin:")]


def registry_entry(route: Route, kwarg: str) -> Kwarg:
    entry = REGISTRY.get(f"{route.name}:{kwarg}") or REGISTRY.get(kwarg)
    if entry is None:
        pytest.fail(
            f"URL {route.name!r} ({route.route}) takes {kwarg!r}, which the authorisation matrix does not know. "
            f"Register it in tests/accounts/test_authorisation_matrix.py REGISTRY (as {kwarg!r}, or "
            f"'{route.name}:{kwarg}' if the name means another object elsewhere): how to find a real "
            f"demo-world object for it and which demo user owns it.",
            pytrace=False,
        )
    return entry


@pytest.fixture
def world():
    call_command("seed_demo", verbosity=0)
    icb = ICBFactory(ods_code="QZZ", name="Outsider Integrated Care Board")
    pcn = PCNFactory(ods_code="U99999", name="Outsider PCN", commissioner=icb)
    practice = PracticeFactory(ods_code="Z99999", name="Outsider Surgery", pcn=pcn, commissioner=icb)
    outsider = UserFactory(email="outsider@nhs.net", full_name="Olive Outsider")
    for organisation in (icb, pcn, practice):
        member(organisation, *Role, user=outsider)
    return {"outsider": outsider, "outsider_orgs": (icb, pcn, practice)}


def test_the_url_configuration_is_walked():
    names = {r.name for r in routes()}
    assert {"organisation_detail", "message_detail", "accounts:user_detail", "accounts:manage_users"} <= names


def test_every_url_with_an_object_id_refuses_another_organisations_user(client, world):
    problems: list[str] = []
    checked = 0
    for route in routes():
        if not route.kwargs:
            continue
        entries = {kwarg: registry_entry(route, kwarg) for kwarg in route.kwargs}
        if any(entry.capability for entry in entries.values()):
            continue
        kwargs = {kwarg: entry.value(world) for kwarg, entry in entries.items()}
        missing = [k for k, v in kwargs.items() if v in (None, "")]
        if missing:
            problems.append(f"{route.name}: the demo world has no object for {missing}; seed one in seed_demo")
            continue
        url = reverse(route.name, kwargs=kwargs)
        shared = all(entry.shared for entry in entries.values())

        # Positive control: an owner can reach it (405 for a POST-only action).
        owners = {owner for entry in entries.values() for owner in entry.owners}
        owner_statuses = []
        for email in sorted(owners):
            client.force_login(User.objects.get(email=email))
            owner_statuses.append(client.get(url).status_code)
        if not (set(owner_statuses) & {200, WRONG_METHOD}):
            problems.append(f"{route.name} {url}: no owner {sorted(owners)} could open it ({owner_statuses}): "
                            f"the registry's object is wrong, so the refusal below would prove nothing")

        client.force_login(world["outsider"])
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            status = response.status_code
            if status in DENIED or status == WRONG_METHOD:
                continue
            if shared and status == 200:
                leaked = [m for m in DEMO_MARKERS if m in response.content.decode()]
                if leaked:
                    problems.append(f"{method.upper()} {url} ({route.name}): shows another organisation's {leaked}")
                continue
            problems.append(f"{method.upper()} {url} ({route.name}): answered {status} to another organisation's user")
        checked += 1
    assert checked >= 5
    assert not problems, "\n".join(problems)


def test_list_pages_never_show_another_organisations_rows(client, world):
    client.force_login(world["outsider"])
    problems: list[str] = []
    for route in routes():
        if route.kwargs or route.name in NOT_LISTS:
            continue
        response = client.get(reverse(route.name))
        if response.status_code >= 500:
            problems.append(f"{route.name}: {response.status_code}")
            continue
        page = response.content.decode(errors="replace")
        leaked = [marker for marker in DEMO_MARKERS if marker in page]
        if leaked:
            problems.append(f"{route.name} ({reverse(route.name)}): shows {leaked}")
    assert not problems, "\n".join(problems)


def test_an_unknown_kwarg_fails_the_matrix_with_instructions():
    route = Route("somewhere:new_thing", "new/<int:widget_id>/", ("widget_id",))
    with pytest.raises(pytest.fail.Exception, match="Register it in tests/accounts/test_authorisation_matrix.py"):
        registry_entry(route, "widget_id")
