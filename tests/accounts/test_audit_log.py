"""Audit Log: it never shows what a shared member did in organisations the administrator does
not administer (their names and details are another organisation's data)."""

import pytest
from django.urls import reverse

from accounts import user_admin
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

    events = list(user_admin.audit_event_list(actor=world["practice_admin"]))
    actions = {event.action for event in events}
    assert "declaration_declared" not in actions
    assert {"sign_in", "achievement_submitted"} <= actions

    page = client_for(world["practice_admin"]).get(reverse("accounts:audit_log")).content.decode()
    assert "Hidden Valley Surgery" not in page and "12345.67" not in page
    assert "shared@nhs.net" in page


def test_linking_someone_to_my_practice_does_not_reveal_their_history_elsewhere(world):
    """Adding an existing account by email must not open its whole audit trail."""
    outsider = member(world["other_practice"], Role.APPROVAL_MANAGEMENT, email="outsider@nhs.net")
    audit_record(actor=outsider, action="declaration_approved", organisation=world["other_practice"])
    user_admin.user_add(actor=world["practice_admin"], email="outsider@nhs.net", full_name="O",
                        organisation_id=world["practice"].pk, roles=[Role.VIEW], base_url="http://testserver/")
    actions = {e.action for e in user_admin.audit_event_list(actor=world["practice_admin"])}
    assert "declaration_approved" not in actions
    assert "user_linked" in actions
