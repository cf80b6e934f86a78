"""Review: nonsense in the Administrative Tasks' query strings gets a page, never a 500."""

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.factories import ICBFactory, member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("organisation", ["\u00b2", "\u0663", "abc", "-1", "99999999999999999999999"])
def test_manage_users_with_an_organisation_that_is_not_an_id_lists_every_user(client_for, organisation):
    admin = member(ICBFactory(), Role.USER_ADMINISTRATOR, email="admin@nhs.net")
    response = client_for(admin).get(reverse("accounts:manage_users"), {"organisation": organisation})
    assert response.status_code == 200
    assert response.context["organisation_id"] is None
