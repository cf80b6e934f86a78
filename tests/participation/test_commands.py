"""load_quality_service, offer_service and the demo seed."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Message
from participation.definitions import shipped_definition_paths
from participation.models import Indicator, OfferStatus, OfferTransition, QualityService, ServiceOffer

from .factories import make_world, service_with_catalogue

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _qof2425_path() -> Path:
    return next(p for p in shipped_definition_paths() if yaml.safe_load(p.read_text())["code"] == "QOF2425")


# load_quality_service ---------------------------------------------------------------------


def test_load_quality_service_loads_the_shipped_files_once():
    paths = [str(p) for p in shipped_definition_paths()]
    assert len(paths) >= 4
    out, _ = _run("load_quality_service", *paths)
    assert out.count(" created ") == len(paths)
    codes = set(QualityService.objects.values_list("code", flat=True))
    assert {"QOF2324", "QOF2425", "NCD2122", "NCD2425"} <= codes
    qof = QualityService.objects.get(code="QOF2425")
    # 76 paid indicators and the layout's three management-information components (issue 13)
    assert qof.indicators.exclude(kind="management_information").count() == 76
    assert qof.indicators.filter(kind="management_information").count() == 3
    assert qof.definition_hash and qof.definition["code"] == "QOF2425"
    assert qof.achievement_dates.filter(is_payment_date=True).exists()
    loaded_at = qof.loaded_at

    out, _ = _run("load_quality_service", *paths)
    assert out.count(" unchanged ") == len(paths)
    assert QualityService.objects.get(code="QOF2425").loaded_at == loaded_at  # no writes


def _changed_copy(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(_qof2425_path().read_text())
    change(data)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_changed_definition_updates_the_service_while_no_achievement_exists(tmp_path):
    _run("load_quality_service", str(_qof2425_path()))
    indicator = Indicator.objects.get(service__code="QOF2425", code="AF006")
    changed = _changed_copy(tmp_path, lambda d: d.update(name="QOF 2024/25 (revised)"))
    out, _ = _run("load_quality_service", str(changed))
    assert "QOF2425 updated" in out
    assert QualityService.objects.get(code="QOF2425").name == "QOF 2024/25 (revised)"
    assert Indicator.objects.get(service__code="QOF2425", code="AF006").pk == indicator.pk  # ids survive


def test_a_changed_definition_is_refused_once_achievement_exists(tmp_path):
    from achievement.models import Achievement

    _run("load_quality_service", str(_qof2425_path()))
    service = QualityService.objects.get(code="QOF2425")
    world = make_world(practice_count=1)
    Achievement.objects.create(
        provider=world.practices[0], service=service, achievement_date=service.achievement_dates.first()
    )
    changed = _changed_copy(tmp_path, lambda d: d.update(name="QOF 2024/25 (revised)"))
    with pytest.raises(CommandError, match="1 of 1 file"):
        _run("load_quality_service", str(changed))
    assert QualityService.objects.get(code="QOF2425").name != "QOF 2024/25 (revised)"
    # The unchanged file is still fine.
    out, _ = _run("load_quality_service", str(_qof2425_path()))
    assert "unchanged" in out


def test_a_bad_file_is_refused_whole_with_the_path_of_the_bad_key(tmp_path, capsys):
    def break_it(data):
        data["code"] = "BROKEN"
        indicator = data["domains"][0]["groups"][0]["indicators"][1]
        indicator["kind"] = "fraction"
        indicator["lower"], indicator["upper"] = 90, 40

    bad = _changed_copy(tmp_path, break_it)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("load_quality_service", str(bad), stdout=StringIO(), stderr=err)
    assert "domains[0].groups[0].indicators[1].upper" in err.getvalue()
    assert not QualityService.objects.filter(code="BROKEN").exists()


# offer_service ----------------------------------------------------------------------------


def test_offer_service_to_named_providers_is_idempotent():
    world = make_world()
    service = service_with_catalogue(code="QOF2425")
    codes = [p.ods_code for p in world.practices[:2]]
    out, _ = _run("offer_service", "QOF2425", "--commissioner", world.icb.ods_code, "--providers", *codes)
    assert "offered to 2 provider(s), 0 already offered (skipped)" in out
    out, _ = _run("offer_service", "QOF2425", "--commissioner", world.icb.ods_code, "--providers", *codes)
    assert "offered to 0 provider(s), 2 already offered (skipped)" in out
    assert ServiceOffer.objects.filter(service=service, status=OfferStatus.OFFERED).count() == 2
    assert Message.objects.filter(is_task=True).count() == 2
    assert OfferTransition.objects.filter(by__isnull=True, note__contains="offer_service").count() == 2


def test_offer_service_all_with_accept_records_acceptance_on_the_providers_behalf():
    world = make_world()
    service = service_with_catalogue(code="QOF2425")
    args = ("offer_service", "QOF2425", "--commissioner", world.icb.ods_code, "--all", "--accept")
    out, _ = _run(*args)
    assert "offered to 3 provider(s), 0 already offered (skipped), 3 accepted on the providers' behalf" in out
    offers = ServiceOffer.objects.filter(service=service)
    assert {o.status for o in offers} == {OfferStatus.APPROVED}
    assert {o.provider for o in offers} == set(world.practices)  # not the other ICB's practice
    for item in offers:
        accepted = item.transitions.get(to_status=OfferStatus.APPROVED)
        assert accepted.by is None and "on the provider's behalf" in accepted.note
    out, _ = _run(*args)
    assert "offered to 0 provider(s), 3 already offered (skipped), 0 accepted" in out
    assert OfferTransition.objects.count() == 6


def test_offer_service_accepts_earlier_offers_still_waiting():
    world = make_world()
    service_with_catalogue(code="QOF2425")
    _run("offer_service", "QOF2425", "--commissioner", world.icb.ods_code, "--all")
    out, _ = _run("offer_service", "QOF2425", "--commissioner", world.icb.ods_code, "--all", "--accept")
    assert "3 already offered (skipped), 3 accepted" in out


def test_offer_service_refuses_providers_of_another_commissioner():
    world = make_world()
    service_with_catalogue(code="QOF2425")
    with pytest.raises(CommandError, match=world.other_practice.ods_code):
        _run("offer_service", "QOF2425", "--commissioner", world.icb.ods_code,
             "--providers", world.practices[0].ods_code, world.other_practice.ods_code)
    assert not ServiceOffer.objects.exists()


def test_offer_service_refuses_an_unknown_service():
    world = make_world()
    with pytest.raises(CommandError, match="NOPE"):
        _run("offer_service", "NOPE", "--commissioner", world.icb.ods_code, "--all")


# The demo seed ----------------------------------------------------------------------------


def test_seed_participation_leaves_offers_in_every_state_and_is_idempotent(demo_world):
    from participation.demo import seed_participation

    seed_participation(demo_world)
    icb, practice = demo_world["icb"], demo_world["practices"][0]
    statuses = set(ServiceOffer.objects.filter(commissioner=icb).values_list("status", flat=True))
    assert statuses == {s.value for s in OfferStatus}
    mine = {o.service.code: o.status for o in ServiceOffer.objects.filter(provider=practice)}
    assert mine == {"QOF2425": OfferStatus.OFFERED, "NCD2425": OfferStatus.APPROVED}
    offered = ServiceOffer.objects.get(provider=practice, service__code="QOF2425")
    assert Message.objects.get(task_key=f"offer:{offered.pk}", closed_at__isnull=True).is_task
    assert ServiceOffer.objects.filter(service__code="NCD2425", status=OfferStatus.APPROVED).count() == 6

    counts = (ServiceOffer.objects.count(), OfferTransition.objects.count(), Message.objects.count())
    seed_participation(demo_world)
    assert (ServiceOffer.objects.count(), OfferTransition.objects.count(), Message.objects.count()) == counts
