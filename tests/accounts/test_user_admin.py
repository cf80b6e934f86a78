"""Administrative Tasks: Add New User, Manage Org's & Users, Audit Log."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import invitations, user_admin
from accounts.errors import NotAllowed, NotFound
from accounts.models import AuditEvent, Membership, Role, User
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, member

pytestmark = pytest.mark.django_db

BASE = "http://testserver/"


@pytest.fixture
def world():
    icb = ICBFactory()
    pcn = PCNFactory(commissioner=icb)
    practice = PracticeFactory(pcn=pcn, commissioner=icb)
    other_icb = ICBFactory()
    other_practice = PracticeFactory(pcn=PCNFactory(commissioner=other_icb), commissioner=other_icb)
    return {
        "icb": icb,
        "pcn": pcn,
        "practice": practice,
        "other_icb": other_icb,
        "other_practice": other_practice,
        "icb_admin": member(icb, Role.USER_ADMINISTRATOR, email="icb.admin@nhs.net"),
        "practice_admin": member(practice, Role.USER_ADMINISTRATOR, email="practice.admin@nhs.net"),
        "other_admin": member(other_icb, Role.USER_ADMINISTRATOR, email="other.admin@nhs.net"),
        "practice_user": member(practice, Role.SERVICE_MANAGEMENT, Role.VIEW, email="pat@nhs.net"),
        "other_user": member(other_practice, Role.VIEW, email="olly@nhs.net"),
    }


def add(actor, organisation, email="new.person@nhs.net", roles=(Role.SERVICE_MANAGEMENT,)):
    return user_admin.user_add(
        actor=actor, email=email, full_name="New Person", organisation_id=organisation.pk, roles=roles, base_url=BASE
    )


def test_an_icb_administrator_adds_a_user_to_a_practice_it_commissions(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = add(world["icb_admin"], world["practice"], email="New.Person@NHS.net")
    assert user.email == "new.person@nhs.net" and not user.has_usable_password()
    assert set(Membership.objects.filter(user=user).values_list("role", flat=True)) == {Role.SERVICE_MANAGEMENT}
    (email,) = mail.outbox
    assert email.to == ["new.person@nhs.net"]
    assert re.search(r"http://testserver/register/[^/\s]+/", email.body)
    assert AuditEvent.objects.filter(action="user_added", actor=world["icb_admin"], organisation=world["practice"]).exists()


def test_a_practice_administrator_cannot_add_users_to_another_practice_or_its_icb(world):
    for organisation in (world["other_practice"], world["icb"]):
        with pytest.raises(NotFound):
            add(world["practice_admin"], organisation)
    assert not User.objects.filter(email="new.person@nhs.net").exists()


def test_an_administrator_cannot_add_users_to_another_icbs_practices(world):
    with pytest.raises(NotFound):
        add(world["icb_admin"], world["other_practice"])


def test_someone_who_is_not_a_user_administrator_cannot_add_users(world):
    with pytest.raises(NotFound):
        add(world["practice_user"], world["practice"])


@pytest.mark.parametrize("email", ["someone@gmail.com", "someone@nhs.net.evil.com", "someone@notnhs.net"])
def test_email_addresses_are_limited_to_the_allowed_domains(world, email):
    with pytest.raises(ValidationError):
        add(world["icb_admin"], world["practice"], email=email)


def test_the_allowed_domains_are_configurable(world, settings):
    settings.USER_EMAIL_DOMAINS = ["example.org"]
    assert add(world["icb_admin"], world["practice"], email="a@example.org").email == "a@example.org"
    with pytest.raises(ValidationError):
        add(world["icb_admin"], world["practice"], email="b@nhs.net")


def test_roles_must_suit_the_organisation(world):
    with pytest.raises(ValidationError):
        add(world["icb_admin"], world["practice"], roles=[Role.FINANCE_MANAGEMENT])
    with pytest.raises(ValidationError):
        add(world["icb_admin"], world["icb"], roles=[Role.SERVICE_MANAGEMENT])


def test_adding_an_existing_registered_person_invites_them_without_a_registration_link(
    world, django_capture_on_commit_callbacks
):
    """Issue 11: an existing account is invited, and linked only when its owner accepts."""
    with django_capture_on_commit_callbacks(execute=True):
        user = add(world["icb_admin"], world["pcn"], email="pat@nhs.net", roles=[Role.DECLARATION_MANAGEMENT])
    assert user == world["practice_user"]
    assert not Membership.objects.filter(user=user, organisation=world["pcn"]).exists()
    (email,) = mail.outbox
    assert "invites you to join" in email.body and "/register/" not in email.body
    assert AuditEvent.objects.filter(action="invitation_sent", object_id=str(user.pk)).exists()
    invitations.invitation_accept(invitation_id=user.invitation.pk, user=user)
    assert Membership.objects.filter(user=user, organisation=world["pcn"]).exists()


def test_add_new_user_page(client_for, world, django_capture_on_commit_callbacks):
    client = client_for(world["icb_admin"])
    page = client.get(reverse("accounts:add_user"))
    assert page.status_code == 200
    # The organisation list offers only what this administrator administers.
    choices = {org.pk for org in page.context["form"].fields["organisation"].queryset}
    assert choices == {world["icb"].pk, world["pcn"].pk, world["practice"].pk}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:add_user"), {
            "full_name": "New Person", "email": "new.person@nhs.net",
            "organisation": world["practice"].pk, "roles": [Role.SERVICE_MANAGEMENT, Role.VIEW],
        })
    user = User.objects.get(email="new.person@nhs.net")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:user_detail", args=[user.pk])
    assert len(mail.outbox) == 1
    refused = client.post(reverse("accounts:add_user"), {
        "full_name": "X", "email": "x@gmail.com", "organisation": world["practice"].pk, "roles": [Role.VIEW],
    })
    assert refused.status_code == 200 and "must end in @nhs.net or @nhs.uk" in refused.content.decode()
    # Another ICB's practice is not a choice.
    refused = client.post(reverse("accounts:add_user"), {
        "full_name": "X", "email": "x@nhs.net", "organisation": world["other_practice"].pk, "roles": [Role.VIEW],
    })
    assert refused.status_code == 200 and not User.objects.filter(email="x@nhs.net").exists()


def test_administrative_tasks_are_refused_to_other_roles(client_for, world):
    client = client_for(world["practice_user"])
    for name in ("accounts:add_user", "accounts:manage_users", "accounts:audit_log"):
        assert client.get(reverse(name)).status_code == 403
    assert AuditEvent.objects.filter(action="permission_denied", actor=world["practice_user"]).count() == 3


def test_manage_users_lists_only_the_administrators_organisations_users(client_for, world):
    page = client_for(world["icb_admin"]).get(reverse("accounts:manage_users")).content.decode()
    assert "pat@nhs.net" in page and "practice.admin@nhs.net" in page
    assert "olly@nhs.net" not in page and "other.admin@nhs.net" not in page
    page = client_for(world["practice_admin"]).get(reverse("accounts:manage_users")).content.decode()
    assert "pat@nhs.net" in page and "icb.admin@nhs.net" not in page


def test_manage_users_search(client_for, world):
    client = client_for(world["icb_admin"])
    page = client.get(reverse("accounts:manage_users"), {"q": "pat@"}).content.decode()
    assert "pat@nhs.net" in page and "practice.admin@nhs.net" not in page
    page = client.get(reverse("accounts:manage_users"), {"organisation": world["icb"].pk}).content.decode()
    assert "icb.admin@nhs.net" in page and "pat@nhs.net" not in page
    # An organisation id outside their administration filters nothing in.
    page = client.get(reverse("accounts:manage_users"), {"organisation": world["other_practice"].pk}).content.decode()
    assert "olly@nhs.net" not in page


@pytest.mark.parametrize("organisation", ["\u00b2", "\u0663", "abc", "-1", "99999999999999999999999"])
def test_manage_users_with_an_organisation_that_is_not_an_id_lists_every_user(client_for, organisation):
    """Nonsense in the query string gets a page, never a 500."""
    admin = member(ICBFactory(), Role.USER_ADMINISTRATOR, email="admin@nhs.net")
    response = client_for(admin).get(reverse("accounts:manage_users"), {"organisation": organisation})
    assert response.status_code == 200
    assert response.context["organisation_id"] is None


def test_manage_users_runs_a_fixed_number_of_queries(client_for, world):
    client = client_for(world["icb_admin"])
    client.get(reverse("accounts:manage_users"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("accounts:manage_users")).status_code == 200
        return len(queries)

    few = count()
    for n in range(12):
        member(world["practice"] if n % 2 else world["pcn"], Role.VIEW, Role.SERVICE_MANAGEMENT, email=f"bulk{n}@nhs.net")
    assert count() == few


def test_audit_log_runs_a_fixed_number_of_queries(client_for, world):
    client = client_for(world["icb_admin"])
    client.get(reverse("accounts:audit_log"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("accounts:audit_log")).status_code == 200
        return len(queries)

    few = count()
    for n in range(10):
        add(world["icb_admin"], world["practice"], email=f"bulk{n}@nhs.net")
    assert count() == few


def test_change_roles(client_for, world):
    pat, client = world["practice_user"], client_for(world["icb_admin"])
    url = reverse("accounts:change_roles", args=[pat.pk, world["practice"].pk])
    response = client.post(url, {f"org{world['practice'].pk}-roles": [Role.ACHIEVEMENT_ENTRY]})
    assert response.status_code == 302
    assert set(Membership.objects.filter(user=pat).values_list("role", flat=True)) == {Role.ACHIEVEMENT_ENTRY}
    event = AuditEvent.objects.get(action="roles_changed")
    assert event.detail == {"before": sorted([Role.SERVICE_MANAGEMENT, Role.VIEW]), "after": [Role.ACHIEVEMENT_ENTRY]}


def test_roles_cannot_be_changed_in_another_organisation(world):
    with pytest.raises(NotFound):
        user_admin.membership_change_roles(
            actor=world["practice_admin"], user_id=world["other_user"].pk,
            organisation_id=world["other_practice"].pk, roles=[Role.VIEW],
        )
    with pytest.raises(NotFound):
        user_admin.membership_change_roles(
            actor=world["other_admin"], user_id=world["practice_user"].pk,
            organisation_id=world["practice"].pk, roles=[Role.VIEW],
        )


def test_unlink_keeps_the_account(client_for, world):
    pat = world["practice_user"]
    response = client_for(world["practice_admin"]).post(
        reverse("accounts:unlink_user", args=[pat.pk, world["practice"].pk])
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(user=pat).exists()
    assert User.objects.filter(pk=pat.pk).exists()
    assert AuditEvent.objects.filter(action="user_unlinked", organisation=world["practice"]).exists()


def test_disable_and_enable_never_delete(client_for, world):
    pat, client = world["practice_user"], client_for(world["icb_admin"])
    assert client.post(reverse("accounts:disable_user", args=[pat.pk])).status_code == 302
    pat.refresh_from_db()
    assert not pat.is_active
    assert client.post(reverse("accounts:enable_user", args=[pat.pk])).status_code == 302
    pat.refresh_from_db()
    assert pat.is_active
    assert {"user_disabled", "user_enabled"} <= set(AuditEvent.objects.values_list("action", flat=True))


def test_a_user_with_roles_elsewhere_can_only_be_disabled_by_an_administrator_of_all_of_them(world):
    shared = member(world["practice"], Role.VIEW, email="shared@nhs.net")
    member(world["other_practice"], Role.VIEW, user=shared)
    with pytest.raises(NotAllowed):
        user_admin.user_disable(actor=world["icb_admin"], user_id=shared.pk)
    # ...but they can unlink the user from their own practice.
    user_admin.membership_unlink(actor=world["icb_admin"], user_id=shared.pk, organisation_id=world["practice"].pk)
    assert set(Membership.objects.filter(user=shared).values_list("organisation_id", flat=True)) == {
        world["other_practice"].pk
    }


def test_administrators_cannot_disable_themselves(world):
    with pytest.raises(NotAllowed):
        user_admin.user_disable(actor=world["icb_admin"], user_id=world["icb_admin"].pk)


def test_another_icbs_administrator_cannot_see_or_act_on_our_users(client_for, world):
    pat, client = world["practice_user"], client_for(world["other_admin"])
    assert client.get(reverse("accounts:user_detail", args=[pat.pk])).status_code == 404
    for name in ("accounts:disable_user", "accounts:unlock_user", "accounts:send_registration_link"):
        assert client.post(reverse(name, args=[pat.pk])).status_code == 404
    assert client.post(reverse("accounts:unlink_user", args=[pat.pk, world["practice"].pk])).status_code == 404
    pat.refresh_from_db()
    assert pat.is_active and Membership.objects.filter(user=pat).exists()


def test_send_a_new_registration_link(client_for, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        new = add(world["icb_admin"], world["practice"])
    client = client_for(world["practice_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:send_registration_link", args=[new.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert new.invitations.filter(revoked_at__isnull=False).count() == 1


def test_the_audit_log_shows_the_administrators_organisations_only(client_for, world):
    add(world["icb_admin"], world["practice"], email="ours@nhs.net")
    add(world["other_admin"], world["other_practice"], email="theirs@nhs.net")
    client = client_for(world["practice_admin"])
    client.post(reverse("login"), {"username": "pat@nhs.net", "password": "wrong"})  # a failed sign-in
    page = client.get(reverse("accounts:audit_log")).content.decode()
    assert "ours@nhs.net" in page and "theirs@nhs.net" not in page
    assert "Sign-in failed" in page


def test_an_unlock_clears_a_locked_account(client, client_for, world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "pat@nhs.net", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    assert user_admin.user_is_locked_out(user=world["practice_user"])
    listing = client_for(world["icb_admin"]).get(reverse("accounts:manage_users")).content.decode()
    assert "Locked" in listing
    client_for(world["icb_admin"]).post(reverse("accounts:unlock_user", args=[world["practice_user"].pk]))
    assert not user_admin.user_is_locked_out(user=world["practice_user"])
    assert AuditEvent.objects.filter(action="user_unlocked").exists()


def test_a_user_administrator_sees_the_audit_log_sub_tab(client_for, world):
    response = client_for(world["icb_admin"]).get(reverse("accounts:audit_log"))
    admin_tab = next(t for t in response.context["nav_tabs"] if t.label == "Administrative Tasks")
    assert [s.label for s in admin_tab.subtabs][:3] == ["Add New User", "Manage Org's & Users", "Audit Log"]


# --- Maker-checker: nobody changes their own roles or memberships (issue 11) -----------------------

OWN = "You cannot change your own roles or memberships"


def test_an_administrator_cannot_give_themselves_roles(client_for, world):
    admin, icb = world["icb_admin"], world["icb"]
    with pytest.raises(user_admin.UserAdministrationError, match=OWN):
        user_admin.membership_change_roles(
            actor=admin, user_id=admin.pk, organisation_id=icb.pk,
            roles=[Role.USER_ADMINISTRATOR, Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT],
        )
    client = client_for(admin)
    response = client.post(
        reverse("accounts:change_roles", args=[admin.pk, icb.pk]),
        {f"org{icb.pk}-roles": [Role.USER_ADMINISTRATOR, Role.FINANCE_MANAGEMENT]}, follow=True,
    )
    assert OWN in response.content.decode()
    assert set(Membership.objects.filter(user=admin).values_list("role", flat=True)) == {Role.USER_ADMINISTRATOR}
    assert not AuditEvent.objects.filter(action="roles_changed").exists()


def test_an_administrator_cannot_add_themselves_to_an_organisation(client_for, world):
    admin = world["icb_admin"]
    with pytest.raises(user_admin.UserAdministrationError, match=OWN):
        add(admin, world["practice"], email="icb.admin@nhs.net", roles=[Role.DECLARATION_MANAGEMENT])
    response = client_for(admin).post(reverse("accounts:add_user"), {
        "full_name": "Me", "email": "ICB.Admin@nhs.net", "organisation": world["icb"].pk,
        "roles": [Role.APPROVAL_MANAGEMENT],
    })
    assert response.status_code == 200 and OWN in response.content.decode()
    assert set(Membership.objects.filter(user=admin).values_list("role", flat=True)) == {Role.USER_ADMINISTRATOR}


def test_an_administrator_cannot_unlink_themselves_from_any_organisation(client_for, world):
    admin = world["icb_admin"]
    member(world["practice"], Role.VIEW, user=admin)  # a role they do not administer the practice with
    with pytest.raises(user_admin.UserAdministrationError, match=OWN):
        user_admin.membership_unlink(actor=admin, user_id=admin.pk, organisation_id=world["practice"].pk)
    response = client_for(admin).post(
        reverse("accounts:unlink_user", args=[admin.pk, world["practice"].pk]), follow=True
    )
    assert OWN in response.content.decode()
    assert Membership.objects.filter(user=admin, organisation=world["practice"]).exists()


def test_their_own_page_offers_no_change_to_their_roles(client_for, world):
    admin = world["icb_admin"]
    page = client_for(admin).get(reverse("accounts:user_detail", args=[admin.pk])).content.decode()
    assert reverse("accounts:change_roles", args=[admin.pk, world["icb"].pk]) not in page
    assert reverse("accounts:unlink_user", args=[admin.pk, world["icb"].pk]) not in page
    assert reverse("accounts:disable_user", args=[admin.pk]) not in page
    assert "ask another User Administrator" in page


def test_an_administrator_cannot_disable_a_superuser_whose_only_role_is_in_their_organisation(world):
    superuser = User.objects.create_superuser("root@nhs.net", "a-long-password-123")
    member(world["practice"], Role.VIEW, user=superuser)
    with pytest.raises(NotAllowed):
        user_admin.user_disable(actor=world["icb_admin"], user_id=superuser.pk)
    superuser.refresh_from_db()
    assert superuser.is_active
