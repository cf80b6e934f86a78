"""python manage.py load_gpes_extract FILE [--wait]"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from achievement.models import ExtractLoad, ExtractStatus, Submission
from achievement.tasks import extract_load_task


def test_load_gpes_extract_records_the_extract_prints_its_id_and_returns(qof, fixture_path, capsys, monkeypatch):
    enqueued = []
    monkeypatch.setattr(extract_load_task, "delay_on_commit", lambda *args: enqueued.append(args))

    call_command("load_gpes_extract", str(fixture_path("qof_valid.csv")))

    extract = ExtractLoad.objects.get()
    assert capsys.readouterr().out == f"Extract {extract.pk} qof_valid.csv: Received\n"
    assert enqueued == [(extract.pk,)]
    assert extract.status == ExtractStatus.RECEIVED


def test_load_gpes_extract_wait_loads_and_prints_the_outcome(qof, fixture_path, capsys):
    call_command("load_gpes_extract", str(fixture_path("qof_valid.csv")), "--wait")

    extract = ExtractLoad.objects.get()
    assert extract.status == ExtractStatus.LOADED
    out = capsys.readouterr().out
    assert out.endswith(f"Extract {extract.pk}: Loaded, 12 rows\n")
    assert Submission.objects.filter(is_current=True).count() == 2


def test_load_gpes_extract_wait_prints_the_errors_and_exits_1_when_rejected(qof, tmp_path, fixture_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(fixture_path("qof_valid.csv").read_text().replace("A81002,", "Z99999,", 1))

    with pytest.raises(SystemExit) as exit_info:
        call_command("load_gpes_extract", str(bad), "--wait")

    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    extract = ExtractLoad.objects.get()
    assert f"Extract {extract.pk}: Rejected, 1 error(s)" in out
    assert "  Line 8: Unknown organisation 'Z99999'." in out
    assert not Submission.objects.exists()


def test_load_gpes_extract_of_a_file_received_before_loads_nothing_new(qof, fixture_path, capsys):
    call_command("load_gpes_extract", str(fixture_path("qof_valid.csv")), "--wait")
    call_command("load_gpes_extract", str(fixture_path("qof_valid.csv")), "--wait")

    assert ExtractLoad.objects.count() == 1
    assert Submission.objects.count() == 2
    assert capsys.readouterr().out.count(": Loaded") == 3  # status line of the second receipt included


def test_load_gpes_extract_of_a_missing_file_is_an_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("load_gpes_extract", "/nonexistent/extract.csv")
