"""Adding an email that already has an account sends an invitation (issue 11, maker-checker): the
person is linked to the organisation only when they accept it, signed in as that account."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import invitations, user_admin
from accounts.errors import NotFound
from accounts.models import AuditEvent, Membership, OrganisationInvitation, Role, User
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, member

pytestmark = pytest.mark.django_db

BASE = "http://testserver/"


@pytest.fixture
def world():
    icb = ICBFactory(name="Home ICB")
    practice = PracticeFactory(pcn=PCNFactory(commissioner=icb), commissioner=icb, name="Home Surgery")
    other_icb = ICBFactory(name="Other ICB")
    return {
        "icb": icb,
        "practice": practice,
        "icb_admin": member(icb, Role.USER_ADMINISTRATOR, email="icb.admin@nhs.net"),
        "other_approver": member(other_icb, Role.APPROVAL_MANAGEMENT, email="approver@nhs.net", full_name="Ann Other"),
        "superuser": User.objects.create_superuser("root@nhs.net", "a-long-password-123"),
    }


def add(world, email, organisation=None, roles=(Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT)):
    return user_admin.user_add(
        actor=world["icb_admin"], email=email, full_name="Whoever", base_url=BASE,
        organisation_id=(organisation or world["icb"]).pk, roles=roles,
    )


def roles_at(user, organisation):
    return set(Membership.objects.filter(user=user, organisation=organisation).values_list("role", flat=True))


@pytest.mark.parametrize("who", ["other_approver", "superuser"])
def test_adding_an_existing_account_invites_it_and_links_nothing(world, who, django_capture_on_commit_callbacks):
    account = world[who]
    with django_capture_on_commit_callbacks(execute=True):
        added = add(world, account.email.upper())
    assert added == account and added.invitation is not None
    assert roles_at(account, world["icb"]) == set()
    (email,) = mail.outbox
    assert email.to == [account.email] and "Home ICB" in email.body and "Finance Management" in email.body
    assert f"http://testserver{reverse('invitations')}" in email.body
    assert AuditEvent.objects.filter(action="invitation_sent", organisation=world["icb"], actor=world["icb_admin"],
                                     object_id=str(account.pk)).exists()
    assert not AuditEvent.objects.filter(action__in=["user_linked", "user_added"]).exists()
    # Not theirs to administer yet: another ICB's user, or a superuser, stays out of reach.
    with pytest.raises(NotFound):
        user_admin.user_disable(actor=world["icb_admin"], user_id=account.pk)


def test_the_invited_person_signs_in_and_accepts(client_for, world):
    account = world["other_approver"]
    add(world, account.email)
    client = client_for(account)
    page = client.get(reverse("invitations"))
    html = page.content.decode()
    assert page.status_code == 200 and "Accept invitation" in html
    assert "Home ICB" in html and "Approval Management" in html and "Finance Management" in html
    invitation = OrganisationInvitation.objects.get(user=account)
    response = client.post(reverse("invitations"), {"invitation": invitation.pk, "decision": "accept"}, follow=True)
    assert "You have joined Home ICB" in response.content.decode()
    assert roles_at(account, world["icb"]) == {Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT}
    assert AuditEvent.objects.filter(action="invitation_accepted", actor=account, organisation=world["icb"]).exists()
    # Single use.
    again = client.post(reverse("invitations"), {"invitation": invitation.pk, "decision": "accept"}, follow=True)
    assert "already been accepted" in again.content.decode()


def test_the_invited_person_declines(client_for, world):
    account = world["superuser"]
    add(world, account.email)
    invitation = OrganisationInvitation.objects.get(user=account)
    client = client_for(account)
    response = client.post(reverse("invitations"), {"invitation": invitation.pk, "decision": "decline"}, follow=True)
    assert "You have declined" in response.content.decode()
    assert roles_at(account, world["icb"]) == set()
    assert AuditEvent.objects.filter(action="invitation_declined", actor=account).exists()
    with pytest.raises(invitations.InvitationError, match="already been declined"):
        invitations.invitation_accept(invitation_id=invitation.pk, user=account)


def test_nobody_else_can_accept_an_invitation(client_for, world):
    account = world["other_approver"]
    add(world, account.email)
    invitation = OrganisationInvitation.objects.get(user=account)
    for intruder in (world["icb_admin"], world["superuser"]):
        with pytest.raises(NotFound):
            invitations.invitation_accept(invitation_id=invitation.pk, user=intruder)
        response = client_for(intruder).post(reverse("invitations"), {"invitation": invitation.pk, "decision": "accept"})
        assert response.status_code == 404
        assert "Home ICB" not in client_for(intruder).get(reverse("invitations")).content.decode()
    assert roles_at(account, world["icb"]) == roles_at(world["icb_admin"], world["practice"]) == set()


def test_an_expired_invitation_cannot_be_accepted(world):
    account = world["other_approver"]
    add(world, account.email)
    OrganisationInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    invitation = OrganisationInvitation.objects.get()
    with pytest.raises(invitations.InvitationError, match="expired"):
        invitations.invitation_accept(invitation_id=invitation.pk, user=account)
    assert roles_at(account, world["icb"]) == set()


def test_a_new_invitation_replaces_the_earlier_one(world):
    account = world["other_approver"]
    add(world, account.email)
    first = OrganisationInvitation.objects.get()
    add(world, account.email, roles=[Role.APPROVAL_MANAGEMENT])
    with pytest.raises(invitations.InvitationError, match="replaced"):
        invitations.invitation_accept(invitation_id=first.pk, user=account)
    latest = invitations.invitation_list(user=account).get()
    invitations.invitation_accept(invitation_id=latest.pk, user=account)
    assert roles_at(account, world["icb"]) == {Role.APPROVAL_MANAGEMENT}


def test_an_invitation_from_someone_no_longer_administering_the_organisation_cannot_be_accepted(world):
    account = world["other_approver"]
    add(world, account.email)
    Membership.objects.filter(user=world["icb_admin"]).delete()
    invitation = OrganisationInvitation.objects.get()
    with pytest.raises(invitations.InvitationError, match="no longer"):
        invitations.invitation_accept(invitation_id=invitation.pk, user=account)
    assert roles_at(account, world["icb"]) == set()


def test_add_new_user_page_says_an_invitation_was_sent(client_for, world):
    account = world["other_approver"]
    response = client_for(world["icb_admin"]).post(reverse("accounts:add_user"), {
        "full_name": "Ann", "email": account.email, "organisation": world["icb"].pk,
        "roles": [Role.APPROVAL_MANAGEMENT],
    }, follow=True)
    html = response.content.decode()
    assert re.search(r"already has a CQRS account.*invitation", html, re.S)
    assert roles_at(account, world["icb"]) == set()


def test_a_new_person_is_still_added_with_a_registration_link(world):
    user = add(world, "brand.new@nhs.net", roles=[Role.APPROVAL_MANAGEMENT])
    assert user.invitation is None
    assert roles_at(user, world["icb"]) == {Role.APPROVAL_MANAGEMENT}


def test_the_invitations_page_with_nonsense_gives_no_500(client_for, world):
    client = client_for(world["other_approver"])
    for value in ("9" * 30, "\x00", "-1", "abc", "\u0663"):
        response = client.post(reverse("invitations"), {"invitation": value, "decision": "accept"})
        assert response.status_code in (200, 302, 404)


def test_my_account_points_to_a_pending_invitation_until_it_is_answered(client_for, world):
    account = world["other_approver"]
    client = client_for(account)
    assert reverse("invitations") not in client.get(reverse("my_account")).content.decode()
    add(world, account.email)
    html = client.get(reverse("my_account")).content.decode()
    assert "You have been invited to join 1 organisation." in html and reverse("invitations") in html
    invitation = OrganisationInvitation.objects.get(user=account)
    client.post(reverse("invitations"), {"invitation": invitation.pk, "decision": "decline"})
    assert reverse("invitations") not in client.get(reverse("my_account")).content.decode()
