"""The offer use cases: every legal and illegal transition, who may act, who is told."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from accounts.errors import NotAllowed, NotFound
from accounts.models import AuditEvent, Message, Role
from participation import services
from participation.errors import OfferInvalid, OfferNotFound, OfferPermissionError, OfferStateError
from participation.models import OfferStatus, OfferTransition, ServiceOffer

from .factories import make_world, offer, service_with_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def service():
    return service_with_catalogue()


def _snapshot(item: ServiceOffer):
    return (
        ServiceOffer.objects.get(pk=item.pk).status,
        OfferTransition.objects.filter(offer=item).count(),
        Message.objects.count(),
        AuditEvent.objects.count(),
    )


# Create Offers -----------------------------------------------------------------------------


def test_commissioner_offers_a_service_and_each_provider_gets_a_task(world, service):
    year = service.financial_year
    result = services.offer_create(
        user=world.commissioner,
        service=service,
        providers=world.practices,
        start_date=year.start_date,
        end_date=year.end_date,
        response_date=dt.date(2024, 5, 31),
        target_date=dt.date(2025, 3, 31),
    )
    assert len(result.offers) == 3 and result.skipped == []
    for item in result.offers:
        assert item.status == OfferStatus.OFFERED
        assert item.commissioner == world.icb
        transition = item.transitions.get()
        assert (transition.from_status, transition.to_status, transition.by) == ("", "offered", world.commissioner)
        task = Message.objects.get(task_key=f"offer:{item.pk}")
        assert task.is_task and task.organisation == item.provider and task.role == Role.SERVICE_MANAGEMENT
        assert task.link == f"/participation/offers/{item.pk}/"
    assert AuditEvent.objects.filter(action="offer_created").count() == 3


def test_offering_again_skips_providers_that_have_it_offered(world, service):
    year = service.financial_year
    kwargs = dict(user=world.commissioner, service=service, start_date=year.start_date, end_date=year.end_date)
    services.offer_create(providers=world.practices[:1], **kwargs)
    result = services.offer_create(providers=world.practices, **kwargs)
    assert len(result.offers) == 2 and result.skipped == world.practices[:1]
    assert ServiceOffer.objects.count() == 3


def test_offer_dates_must_be_within_the_financial_year(world, service):
    with pytest.raises(OfferInvalid, match="within the financial year 2024/25"):
        services.offer_create(
            user=world.commissioner, service=service, providers=world.practices,
            start_date=dt.date(2024, 4, 1), end_date=dt.date(2025, 4, 30),
        )
    assert not ServiceOffer.objects.exists()


def test_a_practice_cannot_create_offers(world, service):
    year = service.financial_year
    with pytest.raises(OfferPermissionError):
        services.offer_create(
            user=world.managers[0], service=service, providers=world.practices[:1],
            start_date=year.start_date, end_date=year.end_date,
        )


def test_a_commissioner_cannot_offer_to_another_icbs_practice(world, service):
    year = service.financial_year
    with pytest.raises(NotAllowed):
        services.offer_create(
            user=world.commissioner, service=service, providers=[world.practices[0], world.other_practice],
            start_date=year.start_date, end_date=year.end_date,
        )
    assert not ServiceOffer.objects.exists() and not Message.objects.exists()


def test_network_contract_des_is_offered_and_accepted_automatically(world):
    ncd = service_with_catalogue(code="NCD", provider_level="pcn", payment_type="DES")
    year = ncd.financial_year
    result = services.offer_create(
        user=world.commissioner, service=ncd, providers=world.practices,
        start_date=year.start_date, end_date=year.end_date,
    )
    for item in result.offers:
        item = ServiceOffer.objects.get(pk=item.pk)
        assert item.status == OfferStatus.APPROVED
        accepted = item.transitions.get(to_status=OfferStatus.APPROVED)
        assert accepted.by is None and "accepted automatically" in accepted.note
    assert not Message.objects.filter(is_task=True).exists()
    assert Message.objects.filter(subject__contains="accepted on your behalf").count() == 3


# Provider: accept and reject ----------------------------------------------------------------


def test_practice_accepts_an_offer_no_one_is_told_and_the_task_closes(world, service):
    item = offer(service, world.practices[0])
    services.message_send(organisation=item.provider, role=Role.SERVICE_MANAGEMENT, subject="offer",
                          is_task=True, task_key=f"offer:{item.pk}")
    before = Message.objects.count()
    services.offer_accept(offer_id=item.pk, user=world.managers[0], note="Happy to")
    item = ServiceOffer.objects.get(pk=item.pk)
    assert item.status == OfferStatus.APPROVED
    last = item.transitions.last()
    assert (last.from_status, last.to_status, last.by, last.note) == ("offered", "approved", world.managers[0], "Happy to")
    assert Message.objects.count() == before  # accept notifies no one
    assert Message.objects.get(task_key=f"offer:{item.pk}").closed_at is not None
    assert AuditEvent.objects.filter(action="offer_accepted", object_id=str(item.pk)).exists()


def test_practice_rejects_an_offer_and_the_commissioner_gets_a_message(world, service):
    item = offer(service, world.practices[0])
    services.offer_reject(offer_id=item.pk, user=world.managers[0])
    item = ServiceOffer.objects.get(pk=item.pk)
    assert item.status == OfferStatus.REJECTED
    message = Message.objects.get()
    assert message.organisation == world.icb and message.role == Role.COMMISSIONING_MANAGEMENT
    assert "rejected" in message.subject and not message.is_task


def test_commissioner_withdraws_an_offered_service_and_the_practice_gets_a_message(world, service):
    item = offer(service, world.practices[0])
    services.offer_withdraw(offer_id=item.pk, user=world.commissioner)
    item = ServiceOffer.objects.get(pk=item.pk)
    assert item.status == OfferStatus.WITHDRAWN
    message = Message.objects.get()
    assert message.organisation == item.provider and message.role == Role.SERVICE_MANAGEMENT
    assert "withdrawn" in message.subject


@pytest.mark.parametrize("status", [OfferStatus.APPROVED, OfferStatus.REJECTED])
def test_commissioner_cancels_an_approved_or_rejected_service_and_the_practice_gets_a_message(world, service, status):
    item = offer(service, world.practices[0], status=status)
    services.offer_cancel(offer_id=item.pk, user=world.commissioner)
    item = ServiceOffer.objects.get(pk=item.pk)
    assert item.status == OfferStatus.CANCELLED
    assert item.transitions.last().from_status == status
    message = Message.objects.get()
    assert message.organisation == item.provider and "cancelled" in message.subject


# Illegal transitions: refused with a message, nothing changes ---------------------------------

ILLEGAL = [
    # (status, action, who, message)
    (OfferStatus.WITHDRAWN, "offer_accept", "manager", "This offer has already been withdrawn."),
    (OfferStatus.WITHDRAWN, "offer_reject", "manager", "This offer has already been withdrawn."),
    (OfferStatus.APPROVED, "offer_accept", "manager", "This offer has already been approved."),
    (OfferStatus.REJECTED, "offer_accept", "manager", "This offer has already been rejected."),
    (OfferStatus.CANCELLED, "offer_reject", "manager", "This offer has already been cancelled."),
    (OfferStatus.APPROVED, "offer_withdraw", "commissioner", "This offer has already been approved."),
    (OfferStatus.REJECTED, "offer_withdraw", "commissioner", "This offer has already been rejected."),
    (OfferStatus.WITHDRAWN, "offer_withdraw", "commissioner", "This offer has already been withdrawn."),
    (OfferStatus.OFFERED, "offer_cancel", "commissioner", "Services which have been Offered cannot be cancelled"),
    (OfferStatus.CANCELLED, "offer_cancel", "commissioner", "This offer has already been cancelled."),
    (OfferStatus.WITHDRAWN, "offer_cancel", "commissioner", "This offer has already been withdrawn."),
]


@pytest.mark.parametrize("status, action, who, text", ILLEGAL)
def test_an_illegal_transition_is_refused_and_changes_nothing(world, service, status, action, who, text):
    item = offer(service, world.practices[0], status=status)
    user = world.managers[0] if who == "manager" else world.commissioner
    before = _snapshot(item)
    with pytest.raises(OfferStateError) as refused:
        getattr(services, action)(offer_id=item.pk, user=user)
    assert text in refused.value.message
    assert _snapshot(item) == before


@pytest.mark.parametrize("action", ["offer_withdraw", "offer_cancel"])
def test_a_practice_cannot_withdraw_or_cancel(world, service, action):
    item = offer(service, world.practices[0], status=OfferStatus.OFFERED if action == "offer_withdraw" else "approved")
    before = _snapshot(item)
    with pytest.raises(OfferPermissionError, match="Only the Commissioning Organisation"):
        getattr(services, action)(offer_id=item.pk, user=world.managers[0])
    assert _snapshot(item) == before


@pytest.mark.parametrize("action", ["offer_accept", "offer_reject"])
def test_a_commissioner_cannot_accept_or_reject_for_the_practice(world, service, action):
    item = offer(service, world.practices[0])
    before = _snapshot(item)
    with pytest.raises(OfferPermissionError, match="Only the Service Provider"):
        getattr(services, action)(offer_id=item.pk, user=world.commissioner)
    assert _snapshot(item) == before


@pytest.mark.parametrize("action", ["offer_accept", "offer_reject", "offer_withdraw", "offer_cancel"])
def test_acting_on_another_organisations_offer_by_id_is_refused(world, service, action):
    theirs = offer(service, world.other_practice, status="approved" if action == "offer_cancel" else "offered")
    user = world.managers[0] if action in ("offer_accept", "offer_reject") else world.commissioner
    before = _snapshot(theirs)
    with pytest.raises(NotFound) as refused:
        getattr(services, action)(offer_id=theirs.pk, user=user)
    assert isinstance(refused.value, OfferNotFound) and refused.value.message
    assert _snapshot(theirs) == before


def test_another_practice_in_the_same_pcn_cannot_accept(world, service):
    item = offer(service, world.practices[0])
    with pytest.raises(NotFound):
        services.offer_accept(offer_id=item.pk, user=world.managers[1])


def test_a_superuser_without_the_role_cannot_accept(world, service):
    from tests.factories import UserFactory

    admin = UserFactory(is_superuser=True, is_staff=True)
    item = offer(service, world.practices[0])
    with pytest.raises(NotFound):
        services.offer_accept(offer_id=item.pk, user=admin)


# Bulk: all or nothing -----------------------------------------------------------------------


def test_withdrawing_many_offers_at_once(world, service):
    items = [offer(service, p) for p in world.practices]
    done = services.offers_withdraw(offer_ids=[i.pk for i in items], user=world.commissioner)
    assert {o.status for o in done} == {OfferStatus.WITHDRAWN}
    assert Message.objects.count() == 3


def test_a_bulk_request_with_one_illegal_offer_changes_nothing(world, service):
    good = offer(service, world.practices[0])
    bad = offer(service, world.practices[1], status=OfferStatus.APPROVED)
    with pytest.raises(OfferStateError, match=f"{world.practices[1].name}.*already been approved"):
        services.offers_withdraw(offer_ids=[good.pk, bad.pk], user=world.commissioner)
    assert ServiceOffer.objects.get(pk=good.pk).status == OfferStatus.OFFERED
    assert not Message.objects.exists()


# The system actor (offer_service command) ---------------------------------------------------


def test_the_system_actor_accepts_on_the_providers_behalf(world, service):
    item = offer(service, world.practices[0])
    services.offers_accept(offer_ids=[item.pk], user=services.SystemActor("the offer_service command"))
    transition = item.transitions.last()
    assert transition.by is None and "on the provider's behalf by the offer_service command" in transition.note
    audit = AuditEvent.objects.get(action="offer_accepted")
    assert audit.actor is None and audit.detail["system_actor"] == "the offer_service command"


# Concurrency --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_accepts_give_one_transition():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    world = make_world(practice_count=1)
    from accounts.models import Membership

    second = Membership.objects.create(
        user=__import__("tests.factories", fromlist=["UserFactory"]).UserFactory(),
        organisation=world.practices[0],
        role=Role.SERVICE_MANAGEMENT,
    ).user
    item = offer(service_with_catalogue(), world.practices[0])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(user):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.offer_accept(offer_id=item.pk, user=user)
            outcomes.append("accepted")
        except OfferStateError as error:
            outcomes.append(error.message)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=accept, args=(u,)) for u in (world.managers[0], second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["This offer has already been approved.", "accepted"]
    assert OfferTransition.objects.filter(offer=item, to_status=OfferStatus.APPROVED).count() == 1
