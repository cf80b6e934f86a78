"""The sign-in field is the "User ID", as the job aid (registration: "log in with your User ID and
password"), Registration and Security Information call it (issue 14, section 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.forms import SignInForm

pytestmark = pytest.mark.django_db


def test_the_sign_in_field_is_labelled_user_id(client):
    html = client.get(reverse("login")).content.decode()
    assert '<label class="nhsuk-label" for="id_username">' in html
    label = html.split('for="id_username">', 1)[1].split("</label>", 1)[0]
    assert label.strip() == "User ID"
    assert "The email address your User Administrator registered you with." in html
    assert "Email address" not in html
    assert SignInForm().fields["username"].label == "User ID"
