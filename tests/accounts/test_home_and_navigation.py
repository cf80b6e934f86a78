import pytest
from django.urls import NoReverseMatch, reverse

from accounts import navigation
from accounts.checks import navigation_url_names, url_names
from accounts.models import Message, MessageRead, Role
from accounts.services import message_send, task_close
from tests.factories import ICBFactory, PracticeFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def tab_labels(response) -> list[str]:
    return [tab.label for tab in response.context["nav_tabs"]]


def test_sign_in_page_is_public_and_everything_else_needs_sign_in(client):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_demo_user_signs_in_with_email_and_password(client, demo_world):
    response = client.post(
        reverse("login"), {"username": "Practice@Demo.nhs.net", "password": "cqrs-demo-2026"}, follow=True
    )
    assert response.context["user"].email == "practice@demo.nhs.net"
    assert b"The Densham Surgery" in response.content


def test_a_wrong_password_is_refused_with_a_message(client, demo_world):
    response = client.post(reverse("login"), {"username": "practice@demo.nhs.net", "password": "nope"})
    assert response.status_code == 200
    assert not response.context["user"].is_authenticated
    assert "correct email address and password" in response.content.decode()


def test_home_shows_the_users_organisations_and_roles(client_for, demo_world):
    response = client_for(demo_world["users"]["pcnlead@demo.nhs.net"]).get(reverse("home"))
    page = response.content.decode()
    assert "Stockton PCN" in page
    assert "Declaration Management" in page and "Achievement Entry" in page
    assert "The Densham Surgery" not in page


@pytest.mark.parametrize(
    "email, allowed_roles",
    [
        ("commissioner@demo.nhs.net", {Role.COMMISSIONING_MANAGEMENT, Role.APPROVAL_MANAGEMENT}),
        ("finance@demo.nhs.net", {Role.FINANCE_MANAGEMENT}),
        ("practice@demo.nhs.net", {Role.SERVICE_MANAGEMENT, Role.ACHIEVEMENT_ENTRY, Role.DECLARATION_MANAGEMENT}),
        ("pcnlead@demo.nhs.net", {Role.DECLARATION_MANAGEMENT, Role.ACHIEVEMENT_ENTRY}),
        ("admin@demo.nhs.net", {Role.USER_ADMINISTRATOR}),
        ("national@demo.nhs.net", {Role.NATIONAL_ADMINISTRATOR}),
    ],
)
def test_each_demo_user_sees_exactly_the_tabs_their_roles_allow(client_for, demo_world, email, allowed_roles):
    user = demo_world["users"][email]
    response = client_for(user).get(reverse("home"))
    expected = []
    for tab in navigation.TABS:
        if any(navigation.subtab_visible(user, sub) for sub in tab.subtabs):
            expected.append(tab.label)
    assert tab_labels(response) == expected
    assert tab_labels(response)[0] == "Home" and tab_labels(response)[-1] == "My Account"
    # Every tab shown leads to a page that exists and that this user may open.
    for tab in response.context["nav_tabs"]:
        for sub in tab.subtabs:
            assert client_for(user).get(sub.url).status_code == 200, sub.url
    # No sub-tab shown needs a role the user lacks.
    for tab in navigation.TABS:
        for sub in tab.subtabs:
            if sub.roles is not None and not sub.staff_only and not (set(sub.roles) & allowed_roles):
                assert sub.label not in [s.label for t in response.context["nav_tabs"] for s in t.subtabs]


def test_a_mistyped_url_name_in_the_tabs_fails_loudly_rather_than_hiding_the_tab(client_for, demo_world, monkeypatch):
    assert navigation_url_names() == []
    user = demo_world["users"]["practice@demo.nhs.net"]
    monkeypatch.setattr(
        navigation,
        "TABS",
        navigation.TABS + (navigation.Tab("Future", (navigation.SubTab("Future", "no_such:url"),)),),
    )
    with pytest.raises(NoReverseMatch):
        navigation.tabs_for(user)
    (error,) = navigation_url_names()
    assert error.id == "accounts.E001" and "'no_such:url'" in error.msg


def test_a_user_with_no_role_in_an_organisation_gets_404_from_its_pages(client_for, demo_world):
    other_icb = ICBFactory(ods_code="QXX", name="Another ICB")
    stranger_practice = PracticeFactory(ods_code="B99999", pcn__commissioner=other_icb)
    practice_user = demo_world["users"]["practice@demo.nhs.net"]
    client = client_for(practice_user)
    assert client.get(reverse("organisation_detail", args=["A81001"])).status_code == 200
    assert client.get(reverse("organisation_detail", args=[stranger_practice.ods_code])).status_code == 404
    # The demo practice's neighbour in the same PCN is not the practice user's either.
    assert client.get(reverse("organisation_detail", args=["A81017"])).status_code == 404


def test_a_commissioner_sees_the_providers_it_commissions_and_a_pcn_its_practices(client_for, demo_world):
    commissioner = client_for(demo_world["users"]["commissioner@demo.nhs.net"])
    assert commissioner.get(reverse("organisation_detail", args=["A81067"])).status_code == 200
    pcn_lead = client_for(demo_world["users"]["pcnlead@demo.nhs.net"])
    assert pcn_lead.get(reverse("organisation_detail", args=["A81017"])).status_code == 200
    assert pcn_lead.get(reverse("organisation_detail", args=["A81002"])).status_code == 404


def test_message_centre_lists_unread_first_marks_read_when_opened_and_counts_in_header(
    client_for, demo_world, django_capture_on_commit_callbacks, mailoutbox
):
    practice = demo_world["practices"][0]
    user = demo_world["users"]["practice@demo.nhs.net"]
    with django_capture_on_commit_callbacks(execute=True):
        old = message_send(organisation=practice, role=Role.SERVICE_MANAGEMENT, subject="Older")
        task = message_send(
            organisation=practice, role=Role.SERVICE_MANAGEMENT, subject="Offer to respond to",
            link="/somewhere/", is_task=True, task_key="offer:1",
        )
        message_send(organisation=practice, role=Role.FINANCE_VIEW, subject="Not for this user")
    assert [m.to for m in mailoutbox] == [["practice@demo.nhs.net"], ["practice@demo.nhs.net"]]
    client = client_for(user)
    MessageRead.objects.create(message=old, user=user)
    response = client.get(reverse("home"))
    subjects = [m.subject for m in response.context["message_list"]]
    assert subjects == ["Offer to respond to", "Older"]
    assert response.context["unread_message_count"] == 1
    assert client.get(reverse("message_detail", args=[task.pk])).status_code == 200
    assert client.get(reverse("home")).context["unread_message_count"] == 0
    assert task_close(task_key="offer:1") == 1
    assert Message.objects.get(pk=task.pk).closed_at is not None


def test_nobody_opens_a_message_addressed_to_another_organisation(client_for, demo_world):
    other = PracticeFactory()
    message = message_send(organisation=other, subject="Private")
    response = client_for(demo_world["users"]["practice@demo.nhs.net"]).get(
        reverse("message_detail", args=[message.pk])
    )
    assert response.status_code == 404
    assert not MessageRead.objects.exists()


def test_email_goes_only_to_members_who_want_it(demo_world, django_capture_on_commit_callbacks, mailoutbox):
    practice = demo_world["practices"][0]
    quiet = member(practice, Role.SERVICE_MANAGEMENT, email="quiet@example.nhs.net")
    quiet.email_notifications = False
    quiet.save()
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(organisation=practice, role=Role.SERVICE_MANAGEMENT, subject="Hello")
    assert [m.to for m in mailoutbox] == [["practice@demo.nhs.net"]]
    message.refresh_from_db()
    assert message.emailed_to == 1 and message.emailed_at is not None


def test_my_account_shows_roles_and_saves_notification_preferences(client_for, demo_world):
    user = demo_world["users"]["finance@demo.nhs.net"]
    client = client_for(user)
    page = client.get(reverse("my_account")).content.decode()
    assert "Finance Management" in page and "QHM" in page
    response = client.post(reverse("my_account"), {}, follow=True)
    assert "Your notification preferences have been saved." in response.content.decode()
    user.refresh_from_db()
    assert user.email_notifications is False


def test_inactive_users_hold_no_roles(demo_world):
    from accounts import permissions

    user = UserFactory(is_active=False)
    member(demo_world["icb"], Role.APPROVAL_MANAGEMENT, user=user)
    assert permissions.roles(user) == frozenset()


def test_every_screen_a_sub_tab_claims_exists():
    known = set(url_names())
    for tab in navigation.TABS:
        for sub in tab.subtabs:
            assert {sub.url_name, *sub.screens} <= known, sub.label


def test_a_detail_page_keeps_its_sub_tab_marked_as_current(demo_world):
    user = demo_world["users"]["commissioner@demo.nhs.net"]
    tabs = navigation.tabs_for(user, "participation:offered_service")
    (current,) = [tab for tab in tabs if tab.current]
    assert current.label == "Participation Management"
    assert [sub.label for sub in current.subtabs if sub.current] == ["Offered Services"]
    # A screen two sub-tabs share marks one of them only.
    tabs = navigation.tabs_for(user, "participation:offer_detail")
    assert sum(sub.current for tab in tabs for sub in tab.subtabs) == 1
