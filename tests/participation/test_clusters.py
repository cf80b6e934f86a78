"""Service Provider Clusters: a commissioner's named groups of the providers it commissions
(create, rename, delete, add, remove: authorised per cluster, audited), and the Cluster filter
of Create Offers and Offered Services; Offered Services' provider search and sorting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Organisation, OrganisationKind, Role
from participation import services
from participation.models import ProviderCluster, ServiceOffer
from tests.factories import PracticeFactory, member

from .factories import ProviderClusterFactory, offer

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the use cases ----------------------------------------------------------------------------


def test_create_rename_add_remove_delete_are_audited(world):
    user = world.commissioner
    cluster = services.cluster_create(user=user, commissioner_id=world.icb.pk, name="  North   locality ")
    assert cluster.name == "North locality" and cluster.commissioner == world.icb
    services.cluster_rename(user=user, cluster_id=cluster.pk, name="North")
    added = services.cluster_providers_add(
        user=user, cluster_id=cluster.pk, provider_ids=[p.pk for p in world.practices[:2]]
    )
    assert added == 2
    assert set(cluster.providers.all()) == set(world.practices[:2])
    # Adding one already in it again changes nothing and says so.
    assert services.cluster_providers_add(user=user, cluster_id=cluster.pk, provider_ids=[world.practices[0].pk]) == 0
    assert services.cluster_providers_remove(user=user, cluster_id=cluster.pk, provider_ids=[world.practices[0].pk]) == 1
    assert list(cluster.providers.all()) == [world.practices[1]]
    assert services.cluster_delete(user=user, cluster_id=cluster.pk) == "North"
    assert not ProviderCluster.objects.filter(pk=cluster.pk).exists()
    assert Organisation.objects.filter(pk=world.practices[1].pk).exists()
    actions = list(
        AuditEvent.objects.filter(organisation=world.icb, actor=user, action__startswith="cluster_")
        .order_by("at", "pk").values_list("action", flat=True)
    )
    assert actions == [
        "cluster_created", "cluster_renamed", "cluster_providers_added", "cluster_providers_added",
        "cluster_providers_removed", "cluster_deleted",
    ]


def test_a_name_is_unique_per_commissioner_whatever_its_case(world):
    ProviderClusterFactory(commissioner=world.icb, name="South")
    with pytest.raises(services.ClusterInvalid, match="already exists"):
        services.cluster_create(user=world.commissioner, commissioner_id=world.icb.pk, name="south")
    other = ProviderClusterFactory(commissioner=world.icb, name="East")
    with pytest.raises(services.ClusterInvalid, match="already exists"):
        services.cluster_rename(user=world.commissioner, cluster_id=other.pk, name="SOUTH")
    with pytest.raises(services.ClusterInvalid, match="Enter a cluster name"):
        services.cluster_create(user=world.commissioner, commissioner_id=world.icb.pk, name="   ")
    with pytest.raises(services.ClusterInvalid, match="control characters"):
        services.cluster_rename(user=world.commissioner, cluster_id=other.pk, name="East\x00")
    with pytest.raises(services.ClusterInvalid, match="100 characters or fewer"):
        services.cluster_create(user=world.commissioner, commissioner_id=world.icb.pk, name="x" * 101)
    # Another ICB may use the same name.
    services.cluster_create(user=world.other_commissioner, commissioner_id=world.other_icb.pk, name="South")
    assert ProviderCluster.objects.filter(name="East").get().name == "East"


def test_only_providers_the_commissioner_commissions_and_all_or_nothing(world):
    cluster = ProviderClusterFactory(commissioner=world.icb)
    with pytest.raises(services.ClusterInvalid, match="not one your organisation commissions"):
        services.cluster_providers_add(
            user=world.commissioner, cluster_id=cluster.pk,
            provider_ids=[world.practices[0].pk, world.other_practice.pk],
        )
    assert cluster.providers.count() == 0  # nothing added, not even the practice it commissions
    with pytest.raises(services.ClusterInvalid, match="not one your organisation commissions"):
        services.cluster_providers_add(user=world.commissioner, cluster_id=cluster.pk, provider_ids=[world.icb.pk])
    with pytest.raises(services.ClusterInvalid, match="not in this cluster"):
        services.cluster_providers_remove(user=world.commissioner, cluster_id=cluster.pk,
                                          provider_ids=[world.practices[0].pk])


def test_another_icbs_cluster_is_not_found_and_left_as_it_was(world):
    theirs = ProviderClusterFactory(commissioner=world.other_icb, name="Theirs", providers=[world.other_practice])
    for call in (
        lambda: services.cluster_rename(user=world.commissioner, cluster_id=theirs.pk, name="Mine"),
        lambda: services.cluster_delete(user=world.commissioner, cluster_id=theirs.pk),
        lambda: services.cluster_providers_remove(user=world.commissioner, cluster_id=theirs.pk,
                                                  provider_ids=[world.other_practice.pk]),
        lambda: services.cluster_create(user=world.commissioner, commissioner_id=world.other_icb.pk, name="X"),
    ):
        with pytest.raises(services.ClusterNotFound):
            call()
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and list(theirs.providers.all()) == [world.other_practice]
    # A practice's Service Management (no Commissioning Management) cannot make one either.
    with pytest.raises(services.ClusterNotFound):
        services.cluster_create(user=world.managers[0], commissioner_id=world.icb.pk, name="X")


# --- the screens ------------------------------------------------------------------------------


def test_the_screens_create_search_add_rename_remove_and_delete(client, world):
    client.force_login(world.commissioner)
    response = client.post(reverse("participation:clusters"), {"name": "Coastal"}, follow=True)
    cluster = ProviderCluster.objects.get(commissioner=world.icb, name="Coastal")
    assert response.redirect_chain[-1][0] == reverse("participation:cluster_detail", args=[cluster.pk])
    first = world.practices[0]
    page = client.get(reverse("participation:cluster_detail", args=[cluster.pk]), {"q": first.ods_code.lower()})
    assert [p.pk for p in page.context["candidates"]] == [first.pk]
    assert world.other_practice.name not in page.content.decode()
    providers = reverse("participation:cluster_providers", args=[cluster.pk])
    response = client.post(providers, {"action": "add", "providers": [first.pk, world.practices[1].pk]}, follow=True)
    assert "2 Service Provider(s) added to the cluster." in _messages(response)
    response = client.post(reverse("participation:rename_cluster", args=[cluster.pk]), {"name": "Coast"}, follow=True)
    assert "The cluster has been renamed Coast." in _messages(response)
    response = client.post(providers, {"action": "remove", "providers": [first.pk]}, follow=True)
    assert [p.pk for p in response.context["members"]] == [world.practices[1].pk]
    # Another ICB's practice posted by hand: refused with the reason, nothing changes.
    response = client.post(providers, {"action": "add", "providers": [world.other_practice.pk]}, follow=True)
    assert "A Service Provider selected is not one your organisation commissions." in _messages(response)
    response = client.post(providers, {"action": "add", "providers": ["x1"]}, follow=True)
    assert "A Service Provider selected is not one your organisation commissions." in _messages(response)
    assert list(cluster.providers.all()) == [world.practices[1]]
    list_page = client.get(reverse("participation:clusters")).content.decode()
    assert "Coast" in list_page
    assert "Are you sure you want to delete this cluster?" in client.get(
        reverse("participation:delete_cluster", args=[cluster.pk])).content.decode()
    response = client.post(reverse("participation:delete_cluster", args=[cluster.pk]), follow=True)
    assert "The cluster Coast has been deleted." in _messages(response)
    assert not ProviderCluster.objects.filter(pk=cluster.pk).exists()


def test_a_duplicate_name_on_the_screens_is_refused_with_the_reason(client, world):
    ProviderClusterFactory(commissioner=world.icb, name="West")
    cluster = ProviderClusterFactory(commissioner=world.icb, name="East")
    client.force_login(world.commissioner)
    response = client.post(reverse("participation:clusters"), {"name": "West"}, follow=True)
    assert "A cluster named West already exists." in _messages(response)
    response = client.post(reverse("participation:rename_cluster", args=[cluster.pk]), {"name": "west"}, follow=True)
    assert "A cluster named west already exists." in _messages(response)
    assert ProviderCluster.objects.filter(commissioner=world.icb).count() == 2


def test_the_screens_are_for_commissioning_management_and_its_own_clusters(client, world):
    theirs = ProviderClusterFactory(commissioner=world.other_icb, name="Theirs", providers=[world.other_practice])
    client.force_login(world.managers[0])
    assert client.get(reverse("participation:clusters")).status_code == 403
    client.force_login(world.commissioner)
    for name in ("cluster_detail", "delete_cluster"):
        assert client.get(reverse(f"participation:{name}", args=[theirs.pk])).status_code == 404
    for name, data in (("rename_cluster", {"name": "Mine"}), ("delete_cluster", {}),
                       ("cluster_providers", {"action": "remove", "providers": [world.other_practice.pk]})):
        assert client.post(reverse(f"participation:{name}", args=[theirs.pk]), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and theirs.providers.count() == 1
    assert "Theirs" not in client.get(reverse("participation:clusters")).content.decode()


def test_the_cluster_pages_run_the_same_queries_for_3_or_60_providers(client, world):
    cluster = ProviderClusterFactory(commissioner=world.icb, providers=world.practices)
    client.force_login(world.commissioner)
    detail = reverse("participation:cluster_detail", args=[cluster.pk])
    lists = reverse("participation:clusters")

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    small = (count(detail), count(lists))
    more = [PracticeFactory(pcn=world.pcn, commissioner=world.icb) for _ in range(57)]
    cluster.providers.add(*more[:30])
    ProviderClusterFactory(commissioner=world.icb, providers=more[30:])
    assert (count(detail), count(lists)) == small


# --- the Cluster filter, search and sort ------------------------------------------------------


def test_create_offers_lists_only_the_clusters_providers(client, world, service):
    cluster = ProviderClusterFactory(commissioner=world.icb, providers=world.practices[:2])
    theirs = ProviderClusterFactory(commissioner=world.other_icb, providers=[world.other_practice])
    client.force_login(world.commissioner)
    session = client.session
    session["create_offers"] = {"service": service.pk, "start_date": "2024-04-01", "end_date": "2025-03-31",
                                "response_date": "2024-05-01", "target_date": "2024-06-01"}
    session.save()
    url = reverse("participation:choose_providers")
    response = client.get(url, {"cluster": cluster.pk})
    assert [p.pk for p, _ in response.context["providers"]] == sorted(
        (p.pk for p in world.practices[:2]), key=lambda pk: Organisation.objects.get(pk=pk).name)
    assert len(client.get(url).context["providers"]) == 3
    # Another ICB's cluster is not a choice: the filter is shown as invalid and ignored.
    response = client.get(url, {"cluster": theirs.pk})
    assert response.context["filter_form"].errors and len(response.context["providers"]) == 3


def test_offered_services_counts_and_lists_one_clusters_providers(client, world, service):
    for practice in world.practices:
        offer(service, practice)
    cluster = ProviderClusterFactory(commissioner=world.icb, providers=[world.practices[0]])
    client.force_login(world.commissioner)
    (row,) = client.get(reverse("participation:offered_services"), {"cluster": cluster.pk}).context["services"]
    assert row.offered_count == 1 and row.offer_count == 1
    (row,) = client.get(reverse("participation:offered_services")).context["services"]
    assert row.offered_count == 3
    url = reverse("participation:offered_service", args=[service.pk])
    response = client.get(url, {"status": "Offered", "cluster": cluster.pk})
    assert [o.provider for o in response.context["offers"]] == [world.practices[0]]


def test_offered_services_search_by_name_or_ods_code_and_sort(client, world, service):
    names = ["Zeta Surgery", "Alpha Medical Centre", "Mid Health Centre"]
    for practice, name in zip(world.practices, names, strict=True):
        Organisation.objects.filter(pk=practice.pk).update(name=name)
        offer(service, practice)
    client.force_login(world.commissioner)
    url = reverse("participation:offered_service", args=[service.pk])

    def listed(**params):
        return [o.provider.name for o in client.get(url, {"status": "Offered", **params}).context["offers"]]

    assert listed() == ["Alpha Medical Centre", "Mid Health Centre", "Zeta Surgery"]
    assert listed(q="centre") == ["Alpha Medical Centre", "Mid Health Centre"]
    zeta = Organisation.objects.get(name="Zeta Surgery")
    assert listed(q=zeta.ods_code.lower()) == ["Zeta Surgery"]
    by_ods = sorted(world.practices, key=lambda p: p.ods_code)
    assert listed(sort="ods") == [Organisation.objects.get(pk=p.pk).name for p in by_ods]
    ServiceOffer.objects.filter(provider=zeta).update(updated_at=timezone.now() + dt.timedelta(minutes=1))
    assert listed(sort="updated")[0] == "Zeta Surgery"
    assert listed(sort="nonsense") == ["Alpha Medical Centre", "Mid Health Centre", "Zeta Surgery"]


def test_offered_service_runs_the_same_queries_with_a_cluster_and_search(client, world, service):
    cluster = ProviderClusterFactory(commissioner=world.icb, providers=world.practices)
    for practice in world.practices:
        offer(service, practice)
    client.force_login(world.commissioner)
    url = reverse("participation:offered_service", args=[service.pk])
    params = {"status": "Offered", "cluster": cluster.pk, "q": "Practice", "sort": "pcn"}

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        return len(queries), len(response.context["offers"])

    small = count()
    more = [PracticeFactory(pcn=world.pcn, commissioner=world.icb) for _ in range(40)]
    cluster.providers.add(*more)
    for practice in more:
        offer(service, practice)
    large = count()
    assert small[0] == large[0] and (small[1], large[1]) == (3, 43)


def test_the_sub_tab_is_shown_to_commissioning_management_only(client, world):
    client.force_login(world.commissioner)
    assert "Service Provider Clusters" in client.get(reverse("participation:offered_services")).content.decode()
    pcn_lead = member(world.pcn, Role.DECLARATION_MANAGEMENT)
    client.force_login(pcn_lead)
    assert "Service Provider Clusters" not in client.get(reverse("home")).content.decode()
    assert OrganisationKind.PCN == world.pcn.kind


def test_withdrawing_from_a_filtered_list_comes_back_to_the_same_filters(client, world, service):
    cluster = ProviderClusterFactory(commissioner=world.icb, providers=world.practices[:2])
    item = offer(service, world.practices[0])
    client.force_login(world.commissioner)
    response = client.post(
        reverse("participation:manage_offers", args=[service.pk]),
        {"action": "withdraw", "offers": [item.pk], "status": "Offered", "cluster": cluster.pk, "q": "Practice",
         "sort": "ods", "confirm": "yes"},
    )
    assert response.status_code == 302
    location = response["Location"]
    assert f"cluster={cluster.pk}" in location and "q=Practice" in location and "sort=ods" in location
