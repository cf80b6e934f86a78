"""The catalogue keeps a definition's income protection and aspiration (issue 13)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from participation.definitions import SHIPPED_DEFINITIONS_DIR, load_service_definition_file
from participation.models import Indicator
from participation.services import quality_service_load

pytestmark = pytest.mark.django_db


def load(name: str):
    path = SHIPPED_DEFINITIONS_DIR / name
    return quality_service_load(
        definition=load_service_definition_file(path), source=yaml.safe_load(path.read_text(encoding="utf-8"))
    )


def test_qof_2024_25_in_the_catalogue_protects_32_indicators_and_aspires_at_80_percent():
    service = load("qof-2024-25.yaml")
    protected = Indicator.objects.filter(service=service, income_protected=True)
    assert protected.count() == 32
    assert sum(protected.values_list("points", flat=True)) == Decimal(212)
    assert not protected.exclude(protected_code="").exists()
    assert (service.protected_from, service.aspiration_percent, service.aspiration_from) == (
        "QOF2324", Decimal("80.00"), "QOF2324",
    )
    previous = load("qof-2023-24.yaml")
    assert (previous.protected_from, previous.aspiration_percent, previous.aspiration_from) == (
        "", Decimal("70.00"), "QOF2223",
    )
    assert not Indicator.objects.filter(service=previous, income_protected=True).exists()
