"""Audit Log: it never shows what a shared member did in organisations the administrator does
not administer (their names and details are another organisation's data)."""

import pytest
from django.urls import reverse

from accounts import invitations, selectors, user_admin
from accounts.models import Role
from accounts.services import audit_record
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    icb = ICBFactory()
    practice = PracticeFactory(pcn=PCNFactory(commissioner=icb), commissioner=icb)
    other_icb = ICBFactory(name="Secret Other ICB")
    other_practice = PracticeFactory(
        pcn=PCNFactory(commissioner=other_icb), commissioner=other_icb, name="Hidden Valley Surgery"
    )
    shared = member(practice, Role.VIEW, email="shared@nhs.net")
    member(other_practice, Role.DECLARATION_MANAGEMENT, user=shared)
    return {
        "practice": practice,
        "other_practice": other_practice,
        "practice_admin": member(practice, Role.USER_ADMINISTRATOR, email="practice.admin@nhs.net"),
        "shared": shared,
    }


def test_the_audit_log_hides_what_a_shared_member_did_at_another_organisation(client_for, world):
    shared = world["shared"]
    audit_record(actor=shared, action="declaration_declared", organisation=world["other_practice"],
                 detail={"provider": "Z99999", "amount": "12345.67"})
    audit_record(actor=shared, action="sign_in", obj=shared)
    audit_record(actor=shared, action="achievement_submitted", organisation=world["practice"])

    events = list(selectors.audit_event_list(actor=world["practice_admin"]))
    actions = {event.action for event in events}
    assert "declaration_declared" not in actions
    assert "achievement_submitted" in actions
    # Issue 11: the shared member's sign-ins are not ours either (they also belong elsewhere).
    assert "sign_in" not in actions

    page = client_for(world["practice_admin"]).get(reverse("accounts:audit_log")).content.decode()
    assert "Hidden Valley Surgery" not in page and "12345.67" not in page
    assert "shared@nhs.net" in page


def test_linking_someone_to_my_practice_does_not_reveal_their_history_elsewhere(world):
    """Adding an existing account by email must not open its whole audit trail (issue 11: it
    sends an invitation; once accepted, their sign-ins elsewhere stay hidden too)."""
    outsider = member(world["other_practice"], Role.APPROVAL_MANAGEMENT, email="outsider@nhs.net")
    audit_record(actor=outsider, action="declaration_approved", organisation=world["other_practice"])
    audit_record(actor=outsider, action="sign_in", obj=outsider, ip_address="203.0.113.9")
    user_admin.user_add(actor=world["practice_admin"], email="outsider@nhs.net", full_name="O",
                        organisation_id=world["practice"].pk, roles=[Role.VIEW], base_url="http://testserver/")
    invitation = invitations.invitation_list(user=outsider).get()
    invitations.invitation_accept(invitation_id=invitation.pk, user=outsider)
    actions = {e.action for e in selectors.audit_event_list(actor=world["practice_admin"])}
    assert "declaration_approved" not in actions and "sign_in" not in actions
    assert {"invitation_sent", "invitation_accepted"} <= actions


def _sign_in_failed(account, ip):
    audit_record(action="sign_in_failed", obj=account, detail={"email": account.email}, ip_address=ip)


def test_sign_ins_and_addresses_show_only_for_a_user_whose_every_membership_i_administer(client_for, world):
    practice_admin, shared = world["practice_admin"], world["shared"]
    ours = member(world["practice"], Role.VIEW, email="ours.only@nhs.net")
    audit_record(actor=shared, action="sign_in", obj=shared, ip_address="198.51.100.7")
    _sign_in_failed(shared, "198.51.100.8")
    audit_record(actor=ours, action="sign_in", obj=ours, ip_address="192.0.2.44")
    _sign_in_failed(ours, "192.0.2.45")

    page = client_for(practice_admin).get(reverse("accounts:audit_log")).content.decode()
    assert "198.51.100.7" not in page and "198.51.100.8" not in page
    assert "192.0.2.44" in page and "192.0.2.45" in page


def test_a_superuser_linked_to_my_practice_keeps_their_sign_ins_to_themselves(world):
    from accounts.models import User

    superuser = User.objects.create_superuser("root@nhs.net", "a-long-password-123")
    member(world["practice"], Role.VIEW, user=superuser)
    audit_record(actor=superuser, action="sign_in", obj=superuser, ip_address="198.51.100.99")
    actions = {e.action for e in selectors.audit_event_list(actor=world["practice_admin"])}
    assert "sign_in" not in actions
