"""Notification emails carry a full link to the page (issue 14, section 5): the configured
SITE_URL and the message's path, not a bare "/declarations/4/"."""

from __future__ import annotations

import pytest

from accounts import services
from accounts.models import Role
from tests.factories import PracticeFactory, member

pytestmark = pytest.mark.django_db


def test_a_notification_email_ends_with_a_full_link_from_site_url(settings, mailoutbox):
    settings.SITE_URL = "https://cqrs.example.nhs.uk/"
    practice = PracticeFactory()
    member(practice, Role.DECLARATION_MANAGEMENT, email="declarer@example.nhs.net", email_notifications=True)
    message = services.message_send(
        organisation=practice, subject="Declared", body="Your declaration was approved.", link="/declarations/4/"
    )

    assert services.message_email_send(message_id=message.pk) == 1

    (email,) = mailoutbox
    assert email.body.endswith("Sign in to CQRS to see it: https://cqrs.example.nhs.uk/declarations/4/")
    assert " /declarations/4/" not in email.body


def test_site_link_joins_the_site_url_and_a_path_and_leaves_a_full_link(settings):
    settings.SITE_URL = "https://cqrs.example.nhs.uk"
    assert services.site_link("/offers/7/") == "https://cqrs.example.nhs.uk/offers/7/"
    assert services.site_link("offers/7/") == "https://cqrs.example.nhs.uk/offers/7/"
    assert services.site_link("https://elsewhere.nhs.uk/x/") == "https://elsewhere.nhs.uk/x/"
    assert services.site_link("") == ""
