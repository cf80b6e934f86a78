"""An ICB (QHM) with a sub-ICB location, a PCN and two practices; another ICB with its own
practice; QOF 2024/25; the people of the reports: a practice's Declaration Management and View
users, the ICB's Approval, Finance and User Administrator users, a Finance Management user at
the sub-ICB location (who sees the ICB's rows only when the ICB allocates its reports to it) and
another ICB's finance user."""

from __future__ import annotations

import pytest

from accounts.models import OrganisationKind, Role
from declarations import services
from declarations.models import Declaration
from tests.declarations.factories import qof_2425, submit_values
from tests.factories import ICBFactory, PCNFactory, PracticeFactory, RegionFactory, member

VALUES = {
    "VI001": {"Numerator": 108, "Denominator": 116},
    "AF001": {"Atrial Fibrillation Register": 300},
    "AF006": {"Numerator": 150, "Denominator": 200},
    "QI013": {"Yes/No Flag": 1},
    "VI900": {"Value": 42},
}


def sub_icb(ods_code: str, name: str, icb):
    from accounts.models import Organisation

    return Organisation.objects.create(ods_code=ods_code, name=name, kind=OrganisationKind.SUB_ICB, parent=icb)


@pytest.fixture
def orgs(db):
    region = RegionFactory(ods_code="Y63", name="North East and Yorkshire")
    icb = ICBFactory(ods_code="QHM", name="NHS North East ICB", parent=region)
    location = sub_icb("16C", "Tees Valley", icb)
    pcn = PCNFactory(ods_code="U89141", name="Stockton PCN", commissioner=icb)
    other_icb = ICBFactory(ods_code="QZZ", name="Other ICB")
    other_pcn = PCNFactory(ods_code="U99999", name="Other PCN", commissioner=other_icb)
    return {
        "region": region,
        "icb": icb,
        "sub_icb": location,
        "pcn": pcn,
        "practice": PracticeFactory(
            ods_code="A81001", name="The Densham Surgery", pcn=pcn, commissioner=icb, parent=location
        ),
        "practice2": PracticeFactory(ods_code="A81017", name="Woodbridge Practice", pcn=pcn, commissioner=icb),
        "other_icb": other_icb,
        "other_practice": PracticeFactory(
            ods_code="Z99999", name="Other Surgery", pcn=other_pcn, commissioner=other_icb
        ),
    }


@pytest.fixture
def people(orgs):
    return {
        "declarer": member(orgs["practice"], Role.DECLARATION_MANAGEMENT, email="declarer@example.nhs.net"),
        "viewer": member(orgs["practice"], Role.VIEW, email="viewer@example.nhs.net"),
        "approver": member(orgs["icb"], Role.APPROVAL_MANAGEMENT, email="approver@example.nhs.net"),
        "finance": member(orgs["icb"], Role.FINANCE_MANAGEMENT, email="finance@example.nhs.net"),
        "admin": member(orgs["icb"], Role.USER_ADMINISTRATOR, email="admin@example.nhs.net"),
        "sub_icb_finance": member(orgs["sub_icb"], Role.FINANCE_MANAGEMENT, email="subicb@example.nhs.net"),
        "region_finance": member(orgs["region"], Role.FINANCE_MANAGEMENT, email="region@example.nhs.net"),
        "other_finance": member(orgs["other_icb"], Role.FINANCE_MANAGEMENT, Role.APPROVAL_MANAGEMENT,
                                email="other@example.nhs.net"),
        "other_declarer": member(orgs["other_practice"], Role.DECLARATION_MANAGEMENT, email="otherdm@example.nhs.net"),
    }


@pytest.fixture
def qof(db):
    return qof_2425()


def declaration_for(provider, service, values=VALUES, *, list_size=12_000, **kwargs) -> Declaration:
    """Submit values for the payment date and calculate: the declaration it creates."""
    achievement = submit_values(provider, service, values, list_size=list_size, **kwargs)
    services.calculation_recalculate(achievement_id=achievement.pk)
    return Declaration.objects.get(achievement=achievement)


@pytest.fixture
def declarations(orgs, people, qof):
    """Each practice's QOF declaration: the first declared, approved and financially approved;
    the second declared; the other ICB's awaiting its provider."""
    first = declaration_for(orgs["practice"], qof)
    second = declaration_for(orgs["practice2"], qof, list_size=8_000)
    other = declaration_for(orgs["other_practice"], qof)
    services.declaration_declare(declaration_id=first.pk, user=people["declarer"], note="Checked against EMIS.")
    services.declarations_approve(declaration_ids=[first.pk], user=people["approver"])
    services.declarations_finance_approve(declaration_ids=[first.pk], user=people["finance"])
    second_declarer = member(orgs["practice2"], Role.DECLARATION_MANAGEMENT, email="declarer2@example.nhs.net")
    services.declaration_declare(declaration_id=second.pk, user=second_declarer)
    return {
        "first": Declaration.objects.get(pk=first.pk),
        "second": Declaration.objects.get(pk=second.pk),
        "other": Declaration.objects.get(pk=other.pk),
    }
