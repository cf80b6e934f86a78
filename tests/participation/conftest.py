"""The world the Participation Management tests share: an ICB with its practices, PCN and users
(``factories.make_world``), and QOF 2024/25 with a small catalogue."""

from __future__ import annotations

import pytest

from .factories import make_world, service_with_catalogue


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def service():
    return service_with_catalogue(code="QOF2425", name="Quality and Outcomes Framework 2024/25")
