"""Fixtures for every test: the demo world and a signed-in client.  Rows are made with
tests/factories.py (its docstring says how tests build their data)."""

import pytest

from accounts.demo import seed_organisations_and_users


@pytest.fixture
def demo_world(db):
    """The demo organisations and users (accounts.demo), without the later demo steps."""
    return seed_organisations_and_users()


@pytest.fixture
def client_for(client):
    """Sign a test client in as a user: ``client_for(user)``."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
