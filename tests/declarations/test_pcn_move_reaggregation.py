"""A practice moves PCN after the PCNs' Network Contract DES payments were calculated: both PCNs'
achievement is aggregated again, both payments are recalculated, and a declared one goes back to
Awaiting Service Provider Approval saying it is awaiting reaggregation (docs/adr/0020).

The whole path runs for real: the extract load, the calculation, the declaration, the move by a
commissioner, and the recalculation task the move enqueues after its commit (Celery eager)."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts import pcn_membership
from accounts.models import Message, OrganisationKind, Role
from achievement import services as achievement_services
from achievement.models import Achievement
from declarations import history, services
from declarations.models import Declaration, DeclarationStatus
from declarations.workflow import declaration_declare
from tests.achievement import factories
from tests.achievement.test_extracts import HEADER, row, write
from tests.factories import member

MARCH = factories.NCD_DATE


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    organisations = factories.world()
    organisations["pcn2"] = factories.organisation(
        "U07032", OrganisationKind.PCN, "North Stockton PCN", commissioner=organisations["icb"]
    )
    service = factories.ncd_2324()
    for code in ("A81001", "A81002"):
        factories.approved_offer(service, organisations[code], organisations["icb"])
    organisations["service"] = service
    return organisations


def load_extract(tmp_path):
    lines = [HEADER]
    for org, numerator, denominator, size in (("A81001", 30, 40, 10250), ("A81002", 12, 20, 7400)):
        lines += [
            row(service="NCD2324", org=org, ind="CAN-02", field="Numerator", value=str(numerator)),
            row(service="NCD2324", org=org, ind="CAN-02", field="Denominator", value=str(denominator)),
            row(service="NCD2324", org=org, ind="LISTSIZE", field="Registered Population", value=str(size)),
        ]
    extract = achievement_services.extract_receive(path=write(tmp_path, "\n".join(lines) + "\n", "ncd.csv"))
    achievement_services.extract_load(extract_id=extract.pk)


def payment(pcn) -> Declaration:
    achievement = Achievement.objects.get(provider=pcn, achievement_date__date=MARCH)
    services.calculation_recalculate(achievement_id=achievement.pk)
    return Declaration.objects.select_related("calculation").get(achievement=achievement)


def test_a_move_recalculates_both_pcns_and_sends_the_declared_payment_back_awaiting_reaggregation(
    world, tmp_path, django_capture_on_commit_callbacks
):
    load_extract(tmp_path)
    declaration = payment(world["pcn"])
    before = declaration.calculation.total_amount
    assert before > 0
    lead = member(world["pcn"], Role.DECLARATION_MANAGEMENT, email="lead@example.nhs.net")
    declaration_declare(declaration_id=declaration.pk, user=lead)
    commissioner = member(world["icb"], Role.COMMISSIONING_MANAGEMENT, email="cm@example.nhs.net")

    with django_capture_on_commit_callbacks(execute=True):
        pcn_membership.practice_pcn_move(
            user=commissioner, practice_id=world["A81002"].pk, pcn_id=world["pcn2"].pk, effective=dt.date(2024, 3, 1)
        )

    declaration = Declaration.objects.select_related("calculation").get(pk=declaration.pk)
    assert declaration.status == DeclarationStatus.AWAITING_PROVIDER
    assert declaration.calculation.total_amount != before  # 30/40 alone, not 42/60
    record = declaration.transitions.order_by("-at", "-pk").first()
    assert record.detail["reason"] == history.REAGGREGATION
    shown = history.transition_note(record, show_money=True)
    assert shown.startswith("Awaiting reaggregation: a practice joined or left the PCN after this payment was declared.")
    assert "It must be declared again." in shown
    told = Message.objects.get(organisation=world["pcn"], subject__contains="must be declared again")
    assert "a practice joined or left the PCN, so its achievement was aggregated again" in told.body
    assert "Awaiting reaggregation" in told.body
    # The PCN the practice joined has its payment for the date now, from A81002's values alone.
    joined = Declaration.objects.get(provider=world["pcn2"], achievement_date__date=MARCH)
    assert joined.status == DeclarationStatus.AWAITING_PROVIDER
    assert joined.calculation.data_version == joined.achievement.data_version


def test_a_payment_recalculated_for_another_reason_is_sent_back_as_before(world, tmp_path, django_capture_on_commit_callbacks):
    load_extract(tmp_path)
    declaration = payment(world["pcn"])
    lead = member(world["pcn"], Role.DECLARATION_MANAGEMENT, email="lead@example.nhs.net")
    declaration_declare(declaration_id=declaration.pk, user=lead)

    # A later extract for A81001 (no move): the plain send-back reason.
    lines = [
        HEADER,
        row(service="NCD2324", org="A81001", ind="CAN-02", field="Numerator", value="39"),
        row(service="NCD2324", org="A81001", ind="CAN-02", field="Denominator", value="40"),
    ]
    extract = achievement_services.extract_receive(path=write(tmp_path, "\n".join(lines) + "\n", "later.csv"))
    with django_capture_on_commit_callbacks(execute=True):
        achievement_services.extract_load(extract_id=extract.pk)

    declaration = Declaration.objects.select_related("calculation").get(pk=declaration.pk)
    assert declaration.status == DeclarationStatus.AWAITING_PROVIDER
    assert declaration.transitions.order_by("-at", "-pk").first().detail["reason"] == history.SENT_BACK
