"""A commissioner (ICB) with a PCN and two practices, another ICB, QOF 2024/25 and the Network
Contract DES 2021/22 (tick-box), and the people of the declarations job aids."""

from __future__ import annotations

import pytest

from accounts.models import Role
from declarations import services
from declarations.models import Declaration
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, member

from .factories import ncd_2122, qof_2425, submit_values

VALUES = {
    "VI001": {"Numerator": 108, "Denominator": 116},
    "AF001": {"Atrial Fibrillation Register": 300},
    "AF006": {"Numerator": 150, "Denominator": 200},
    "QI013": {"Yes/No Flag": 1},
    "VI900": {"Value": 42},
}


@pytest.fixture
def orgs(db):
    icb = ICBFactory(ods_code="QHM", name="NHS North East ICB")
    pcn = PCNFactory(ods_code="U89141", name="Stockton PCN", commissioner=icb)
    other_icb = ICBFactory(ods_code="QZZ", name="Other ICB")
    other_pcn = PCNFactory(ods_code="U99999", name="Other PCN", commissioner=other_icb)
    return {
        "icb": icb,
        "pcn": pcn,
        "practice": PracticeFactory(ods_code="A81001", name="The Densham Surgery", pcn=pcn, commissioner=icb),
        "practice2": PracticeFactory(ods_code="A81017", name="Woodbridge Practice", pcn=pcn, commissioner=icb),
        "other_icb": other_icb,
        "other_practice": PracticeFactory(ods_code="Z99999", name="Other Surgery", pcn=other_pcn, commissioner=other_icb),
    }


@pytest.fixture
def people(orgs):
    return {
        "declarer": member(orgs["practice"], Role.DECLARATION_MANAGEMENT, email="declarer@example.nhs.net"),
        "approver": member(orgs["icb"], Role.APPROVAL_MANAGEMENT, email="approver@example.nhs.net"),
        "approver2": member(orgs["icb"], Role.APPROVAL_MANAGEMENT, email="approver2@example.nhs.net"),
        "finance": member(orgs["icb"], Role.FINANCE_MANAGEMENT, email="finance@example.nhs.net"),
        "both": member(orgs["icb"], Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT, email="both@example.nhs.net"),
        "pcn_lead": member(
            orgs["pcn"], Role.DECLARATION_MANAGEMENT, Role.ACHIEVEMENT_ENTRY, email="pcnlead@example.nhs.net"
        ),
    }


@pytest.fixture
def qof(db):
    return qof_2425()


@pytest.fixture
def ncd(db):
    return ncd_2122()


def declaration_for(provider, service, values=VALUES, *, list_size=12_000, **kwargs) -> Declaration:
    """Submit values for the payment date and calculate: the declaration it creates."""
    achievement = submit_values(provider, service, values, list_size=list_size, **kwargs)
    services.calculation_recalculate(achievement_id=achievement.pk)
    return Declaration.objects.get(achievement=achievement)


@pytest.fixture
def declaration(orgs, qof):
    return declaration_for(orgs["practice"], qof)


def fresh(declaration: Declaration) -> Declaration:
    return Declaration.objects.get(pk=declaration.pk)
