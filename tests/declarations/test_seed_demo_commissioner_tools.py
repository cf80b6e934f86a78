"""seed_demo (issue 14): the demo ICB has a Service Provider Cluster and Woodbridge Practice's QOF
2024/25 has a Commissioning Organisation entry, both made through the use cases by
commissioner@demo.nhs.net and shown to the demo users; seeding again changes and records nothing;
the demo logins still work."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.demo import DEMO_PASSWORD, USERS
from accounts.models import AuditEvent, User
from achievement.models import Achievement, CommissionerEntry, IndicatorValue, SubmissionSource
from declarations.models import Declaration
from participation.demo import DEMO_CLUSTER
from participation.models import ProviderCluster
from participation.services import cluster_providers_remove

pytestmark = pytest.mark.django_db


def _state():
    clusters = sorted(
        (c.commissioner.ods_code, c.name, tuple(sorted(c.providers.values_list("ods_code", flat=True))))
        for c in ProviderCluster.objects.select_related("commissioner")
    )
    entries = sorted(
        CommissionerEntry.objects.values_list(
            "achievement__provider__ods_code", "achievement__service__code", "indicator__code", "field_name",
            "value", "entered_by__email", "submission_id",
        )
    )
    audit = AuditEvent.objects.filter(action__startswith="cluster_").count() + AuditEvent.objects.filter(
        action__startswith="commissioner_achievement"
    ).count()
    declarations = sorted(Declaration.objects.values_list("provider__ods_code", "service__code", "status"))
    return clusters, entries, audit, declarations


def _sign_in(client, email: str) -> None:
    """Sign in as a demo user through the sign-in page, with the demo password."""
    response = client.post(reverse("login"), {"username": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, email


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)
    return _state()


def test_the_demo_icb_has_a_cluster_of_the_demo_pcns_practices(seeded):
    clusters = seeded[0]
    assert clusters == [("QHM", DEMO_CLUSTER, ("A81001", "A81017", "A81025"))]


def test_woodbridges_qof_has_a_commissioning_organisation_entry_it_holds(seeded):
    (entry,) = CommissionerEntry.objects.select_related("achievement__provider", "submission", "entered_by")
    assert entry.achievement.provider.ods_code == "A81017" and entry.achievement.service.code == "QOF2425"
    assert entry.entered_by.email == "commissioner@demo.nhs.net" and entry.field_name == "Numerator"
    assert entry.submission.is_current and entry.submission.source == SubmissionSource.COMMISSIONER
    held = IndicatorValue.objects.get(submission=entry.submission, indicator=entry.indicator, field_name="Numerator")
    assert held.value == entry.value


def test_seeding_again_changes_and_records_nothing(seeded):
    call_command("seed_demo", verbosity=0)
    assert _state() == seeded


def test_seeding_again_gives_a_cluster_back_the_practices_a_user_took_out(seeded):
    cluster = ProviderCluster.objects.get(name=DEMO_CLUSTER)
    cluster_providers_remove(
        user=User.objects.get(email="commissioner@demo.nhs.net"),
        cluster_id=cluster.pk,
        provider_ids=[cluster.providers.get(ods_code="A81025").pk],
    )
    call_command("seed_demo", verbosity=0)
    assert _state()[0] == seeded[0]


def test_the_commissioner_sees_the_cluster_and_the_marked_entry(client, seeded):
    _sign_in(client, "commissioner@demo.nhs.net")
    clusters = client.get(reverse("participation:clusters"))
    assert clusters.status_code == 200 and DEMO_CLUSTER in clusters.content.decode()
    achievement = Achievement.objects.get(
        provider__ods_code="A81017", service__code="QOF2425", achievement_date__is_payment_date=True
    )
    entry = CommissionerEntry.objects.select_related("indicator").get()
    page = client.get(reverse("achievement:record_provider_achievement_detail", args=[achievement.pk]))
    assert page.status_code == 200
    assert f"{entry.indicator.code} (Numerator)" in page.content.decode()


def test_every_demo_login_still_works(client, seeded):
    for email in USERS:
        _sign_in(client, email)
        assert client.get(reverse("home")).status_code == 200
        client.logout()
