"""GPES extract ingestion: validation (a test per rule), application, supersession, PCN
aggregation, list sizes, idempotency (sequential and concurrent) and a killed load."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest
from django.db import connection, connections

from accounts.models import ListSize
from achievement import selectors, services
from achievement.ingest import apply
from achievement.models import (
    Achievement,
    ExtractLoad,
    ExtractStatus,
    IndicatorValue,
    Submission,
    SubmissionSource,
    SubmissionStatus,
)
from achievement.tasks import extract_load_task
from tests.achievement import factories

HEADER = (
    "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,"
    "DEFAULT_VALUES_USED,SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION"
)


def row(org="A81001", ind="AF006", field="Numerator", value="5", *, service="QOF2324", ach="20240331",
        submit_date="02/04/2024") -> str:
    return f"{service},Quality and Outcomes Framework 2023/24,{org},{ach},{ind},{field},{value},None,AUTOMATED,{submit_date},11:19:50,Y"


def receive_and_load(path) -> ExtractLoad:
    """Receive (the load is enqueued on commit) and run the load as the worker would."""
    extract = services.extract_receive(path=path)
    return services.extract_load(extract_id=extract.pk)


def write(tmp_path, text: str | bytes, name: str = "extract.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def valid_lines(fixture_path) -> list[str]:
    return fixture_path("qof_valid.csv").read_text(encoding="utf-8").splitlines()


def assert_nothing_applied():
    assert not Achievement.objects.exists()
    assert not Submission.objects.exists()
    assert not IndicatorValue.objects.exists()
    assert not ListSize.objects.exists()


def messages(extract: ExtractLoad) -> list[tuple[int | None, str]]:
    return [(e["line"], e["message"]) for e in extract.errors]


# --- a valid extract ---------------------------------------------------------------------


def test_a_valid_extract_is_loaded_as_a_submitted_current_submission_per_practice(qof, world, fixture_path):
    extract = receive_and_load(fixture_path("qof_valid.csv"))

    assert extract.status == ExtractStatus.LOADED
    assert (extract.rows_total, extract.rows_done, extract.error_count) == (12, 12, 0)
    submissions = Submission.objects.filter(is_current=True).select_related("achievement__provider")
    assert sorted(s.achievement.provider.ods_code for s in submissions) == ["A81001", "A81002"]
    for submission in submissions:
        assert submission.status == SubmissionStatus.SUBMITTED
        assert submission.source == SubmissionSource.EXTRACT
        assert submission.extract_id == extract.pk
        assert submission.achievement.service == qof
        assert submission.achievement.achievement_date.date == factories.QOF_DATE
    a81001 = Achievement.objects.get(provider=world["A81001"])
    assert selectors.current_values(achievement_ids=[a81001.pk]) == {
        a81001.pk: {
            "AF001": {"Atrial Fibrillation Register": 120},
            "AF006": {"Numerator": 90, "Denominator": 110, "AFIBPCADEC": 4, "AFIBINV1": 3},
        }
    }


def test_list_sizes_arrive_as_listsize_rows_and_are_stored_for_the_achievement_date(qof, world, fixture_path):
    receive_and_load(fixture_path("qof_valid.csv"))

    assert selectors.list_size_on(provider_id=world["A81001"].pk, date=factories.QOF_DATE) == 10250
    assert selectors.list_size_on(provider_id=world["A81002"].pk, date=factories.QOF_DATE) == 7400
    assert selectors.list_size_on(provider_id=world["A81001"].pk, date=factories.QOF_FEBRUARY) is None
    # LISTSIZE rows are list sizes, not indicator values.
    assert not IndicatorValue.objects.filter(field_name="Registered Population").exists()


def test_a_loaded_extract_asks_for_the_recalculation_of_the_achievements_it_changed(
    qof, fixture_path, recalculation
):
    receive_and_load(fixture_path("qof_valid.csv"))

    assert recalculation.achievement_ids == set(Achievement.objects.values_list("pk", flat=True))


def test_receiving_an_extract_enqueues_its_load_after_commit(
    qof, fixture_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        extract = services.extract_receive(path=fixture_path("qof_valid.csv"))

    assert len(callbacks) == 1  # the eager task ran the load on commit
    assert ExtractLoad.objects.get(pk=extract.pk).status == ExtractStatus.LOADED


def test_the_file_is_stored_under_media_extracts_named_by_its_sha256(qof, fixture_path, media_root):
    extract = services.extract_receive(path=fixture_path("qof_valid.csv"))

    stored = media_root / "extracts" / f"{extract.sha256}.csv"
    assert extract.file_path == str(stored)
    assert stored.read_bytes() == fixture_path("qof_valid.csv").read_bytes()
    assert extract.file_name == "qof_valid.csv"
    assert extract.status == ExtractStatus.RECEIVED
    assert extract.rows_total == 12
    assert [p.name for p in (media_root / "extracts").iterdir()] == [stored.name]
    assert extract.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()


def test_a_file_of_many_chunks_is_hashed_and_counted_whole_in_order(qof, media_root):
    # Lines of different lengths, so that each 1 MiB chunk ends mid-line; no newline at the end.
    content = "HEADER\n" + "\n".join(f"row {n} {'x' * (n % 97)}" for n in range(60_000))
    extract = services.extract_receive(file=io.BytesIO(content.encode()), file_name="big.csv")
    assert len(content) > 3 * 1024 * 1024
    assert extract.sha256 == hashlib.sha256(content.encode()).hexdigest()
    assert extract.rows_total == 60_000
    assert (media_root / "extracts" / f"{extract.sha256}.csv").read_bytes() == content.encode()


def test_a_file_that_fails_mid_read_is_not_received_and_leaves_nothing(qof, media_root):
    class Failing(io.BytesIO):
        def read(self, size=-1):
            if self.tell() >= 2 * 1024 * 1024:
                raise OSError("connection reset")
            return super().read(size)

    with pytest.raises(OSError, match="connection reset"):
        services.extract_receive(file=Failing(b"x\n" * 3 * 1024 * 1024), file_name="cut.csv")
    assert list((media_root / "extracts").iterdir()) == []
    assert not ExtractLoad.objects.exists()
    assert not [t for t in threading.enumerate() if t.name == "extract-sha256"]


# --- a test per validation rule: bad file in, clear error out, database unchanged ------------


def _replace(lines: list[str], number: int, text: str) -> list[str]:
    lines = list(lines)
    lines[number - 1] = text
    return lines


RULES = {
    "unknown service": (lambda ls: _replace(ls, 2, row(service="QOF9999", ind="AF001", field="Atrial Fibrillation Register")),
                        2, "Unknown service 'QOF9999'."),
    "unknown organisation": (lambda ls: _replace(ls, 3, row(org="Z99999")), 3, "Unknown organisation 'Z99999'."),
    "unknown indicator": (lambda ls: _replace(ls, 4, row(ind="AF999", field="Denominator")), 4,
                          "Unknown indicator 'AF999' for QOF2324."),
    "unknown achievement date": (lambda ls: _replace(ls, 3, row(ach="20240430", value="90")), 3,
                                 "20240430 is not an achievement date of QOF2324."),
    "provider without an Approved offer": (lambda ls: [*ls, row(org="A81003", value="1")], 14,
                                           "A81003 has no Approved offer of QOF2324."),
    "negative value": (lambda ls: _replace(ls, 5, row(field="AFIBPCADEC", value="-4")), 5,
                       "VALUE '-4' is not a whole number of 0 or more."),
    "decimal value": (lambda ls: _replace(ls, 5, row(field="AFIBPCADEC", value="4.5")), 5,
                      "VALUE '4.5' is not a whole number of 0 or more."),
    "blank value": (lambda ls: _replace(ls, 5, row(field="AFIBPCADEC", value="")), 5,
                    "VALUE '' is not a whole number of 0 or more."),
    "text value": (lambda ls: _replace(ls, 5, row(field="AFIBPCADEC", value="four")), 5,
                   "VALUE 'four' is not a whole number of 0 or more."),
    "numerator above denominator": (lambda ls: _replace(ls, 3, row(value="111")), 4,
                                    "A81001 AF006 on 20240331: Numerator 111 is above Denominator 110 (line 3)."),
    "same org/date/indicator/field twice": (lambda ls: [*ls, row(field="AFIBPCADEC", value="4")], 14,
                                            "A81001 AF006 AFIBPCADEC on 20240331 appears more than once."),
    "list size twice": (lambda ls: [*ls, row(ind="LISTSIZE", field="Registered Population", value="1")], 14,
                        "A81001 LISTSIZE Registered Population on 20240331 appears more than once (first at line 7)."),
    "list size with another field": (lambda ls: _replace(ls, 7, row(ind="LISTSIZE", field="Patients", value="1")), 7,
                                     "A LISTSIZE row must have FIELD_NAME 'Registered Population', not 'Patients'."),
    "malformed achievement date": (lambda ls: _replace(ls, 3, row(ach="2024-03-31", value="90")), 3,
                                   "ACH_DATE '2024-03-31' is not a date in the form YYYYMMDD."),
    "impossible achievement date": (lambda ls: _replace(ls, 3, row(ach="20240231", value="90")), 3,
                                    "ACH_DATE '20240231' is not a date in the form YYYYMMDD."),
    "malformed submit date": (lambda ls: _replace(ls, 3, row(value="90", submit_date="2024-04-02")), 3,
                              "SUBMIT_DATE '2024-04-02' is not a date in the form DD/MM/YYYY."),
    "a row with a column missing": (lambda ls: _replace(ls, 6, ls[5].rsplit(",", 1)[0]), 6,
                                    "Expected 12 columns, found 11."),
    "a row with an extra column": (lambda ls: _replace(ls, 6, ls[5] + ",extra"), 6, "Expected 12 columns, found 13."),
    "a missing column": (lambda ls: [line.rsplit(",", 1)[0] for line in ls], 1, "Missing column(s): LAST_SUBMISSION."),
    "an extra column": (lambda ls: [ls[0] + ",COMMENT"] + [line + ",x" for line in ls[1:]], 1,
                        "Unexpected column(s): COMMENT."),
    "a header only": (lambda ls: ls[:1], 2, "The file is empty: it has a header but no rows."),
}


@pytest.mark.parametrize("rule", RULES)
def test_a_file_breaking_a_rule_is_rejected_with_the_line_and_nothing_applied(rule, qof, tmp_path, fixture_path):
    change, line, message = RULES[rule]
    path = write(tmp_path, "\n".join(change(valid_lines(fixture_path))) + "\n")

    extract = receive_and_load(path)

    assert extract.status == ExtractStatus.REJECTED
    assert messages(extract) == [(line, message)]
    assert extract.error_count == 1
    assert_nothing_applied()
    assert ExtractLoad.objects.get(pk=extract.pk).status == ExtractStatus.REJECTED


def test_an_empty_file_is_rejected(qof, tmp_path):
    extract = receive_and_load(write(tmp_path, b""))

    assert extract.status == ExtractStatus.REJECTED
    assert messages(extract) == [(1, "The file is empty.")]
    assert_nothing_applied()


def test_a_file_that_is_not_utf8_is_rejected_at_the_line_of_the_first_bad_byte(qof, tmp_path, fixture_path):
    lines = valid_lines(fixture_path)
    data = ("\n".join(lines[:4]) + "\n").encode() + "QOF2324,Caf\xe9,A81001\n".encode("latin-1")

    extract = receive_and_load(write(tmp_path, data))

    assert extract.status == ExtractStatus.REJECTED
    assert messages(extract) == [(5, "The file is not UTF-8 encoded text (a CSV file is expected).")]
    assert_nothing_applied()


def test_a_binary_file_is_rejected(qof, tmp_path):
    extract = receive_and_load(write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "picture.csv"))

    assert extract.status == ExtractStatus.REJECTED
    assert extract.error_count == 1
    assert "not UTF-8" in extract.errors[0]["message"] or "not a CSV" in extract.errors[0]["message"]
    assert_nothing_applied()


def test_every_error_is_reported_with_its_line_the_first_100_then_how_many_more(qof, tmp_path, fixture_path):
    lines = valid_lines(fixture_path)
    bad = [row(org="Z00001", field=f"F{i}", value="1") for i in range(150)]
    lines = lines[:1] + bad + lines[1:] + [row(field="AFIBPCAPU", value="x")]

    extract = receive_and_load(write(tmp_path, "\n".join(lines) + "\n"))

    assert extract.status == ExtractStatus.REJECTED
    assert extract.error_count == 151
    assert len(extract.errors) == 101
    assert extract.errors[0] == {"line": 2, "message": "Unknown organisation 'Z00001'."}
    assert extract.errors[99]["line"] == 101
    assert extract.errors[100] == {"line": None, "message": "and 51 more"}
    assert_nothing_applied()


def test_several_errors_on_one_row_are_all_reported(qof, tmp_path, fixture_path):
    lines = valid_lines(fixture_path) + [row(org="Z99999", service="QOF9999", value="-1", ach="2024")]

    extract = receive_and_load(write(tmp_path, "\n".join(lines) + "\n"))

    assert messages(extract) == [
        (14, "Unknown service 'QOF9999'."),
        (14, "Unknown organisation 'Z99999'."),
        (14, "ACH_DATE '2024' is not a date in the form YYYYMMDD."),
        (14, "VALUE '-1' is not a whole number of 0 or more."),
    ]


def test_a_rejected_extract_leaves_earlier_loaded_values_current(qof, tmp_path, fixture_path):
    first = receive_and_load(fixture_path("qof_valid.csv"))
    bad = write(tmp_path, "\n".join(valid_lines(fixture_path) + [row(org="Z99999")]) + "\n")

    rejected = receive_and_load(bad)

    assert rejected.status == ExtractStatus.REJECTED
    assert set(Submission.objects.filter(is_current=True).values_list("extract_id", flat=True)) == {first.pk}
    assert IndicatorValue.objects.count() == 10


# --- idempotency ----------------------------------------------------------------------------


def test_the_same_content_received_twice_is_recorded_once_and_loaded_once(
    qof, tmp_path, fixture_path, django_capture_on_commit_callbacks
):
    copy = write(tmp_path, fixture_path("qof_valid.csv").read_bytes(), "renamed.csv")
    with django_capture_on_commit_callbacks(execute=True) as first_callbacks:
        first = services.extract_receive(path=fixture_path("qof_valid.csv"))
    values = IndicatorValue.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as second_callbacks:
        second = services.extract_receive(path=copy)

    assert second.pk == first.pk and not second.newly_received
    assert (len(first_callbacks), len(second_callbacks)) == (1, 0)
    assert ExtractLoad.objects.count() == 1
    assert IndicatorValue.objects.count() == values == 10
    assert Submission.objects.count() == 2
    # Loading it again (a redelivered task) changes nothing either.
    assert services.extract_load(extract_id=first.pk).status == ExtractStatus.LOADED
    assert Submission.objects.count() == 2


def _run_in_threads(target, count=2):
    barrier = threading.Barrier(count)
    results, failures = [], []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, failures


@pytest.mark.django_db(transaction=True)
def test_the_same_content_received_twice_at_once_is_recorded_once_and_loaded_once(fixture_path):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency needs PostgreSQL")
    world = factories.world(with_list_sizes=False)
    service = factories.qof_2324()
    for code in ("A81001", "A81002"):
        factories.approved_offer(service, world[code], world["icb"])

    results, failures = _run_in_threads(lambda: services.extract_receive(path=fixture_path("qof_valid.csv")).pk)

    assert failures == []
    assert len(set(results)) == 1
    extract = ExtractLoad.objects.get()
    assert extract.status == ExtractStatus.LOADED  # eager task ran on commit in the winning thread
    assert Submission.objects.count() == 2
    assert IndicatorValue.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_two_workers_loading_the_same_extract_at_once_load_it_once(fixture_path):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency needs PostgreSQL")
    world = factories.world(with_list_sizes=False)
    service = factories.qof_2324()
    for code in ("A81001", "A81002"):
        factories.approved_offer(service, world[code], world["icb"])
    extract = ExtractLoad.objects.create(
        file_name="qof_valid.csv", file_path=str(fixture_path("qof_valid.csv")), sha256="x" * 64, rows_total=12
    )

    results, failures = _run_in_threads(lambda: services.extract_load(extract_id=extract.pk).status)

    assert failures == []
    assert results == [ExtractStatus.LOADED, ExtractStatus.LOADED]
    assert Submission.objects.count() == 2
    assert IndicatorValue.objects.count() == 10


# --- supersession, history ------------------------------------------------------------------


def test_a_later_extract_for_the_same_date_supersedes_the_earlier_values_and_keeps_them(
    qof, world, fixture_path
):
    first = receive_and_load(fixture_path("qof_valid.csv"))
    second = receive_and_load(fixture_path("qof_valid_later.csv"))

    achievement = Achievement.objects.get(provider=world["A81001"])
    old, new = achievement.submissions.order_by("id")
    assert (old.extract_id, new.extract_id) == (first.pk, second.pk)
    assert (old.is_current, new.is_current) == (False, True)
    assert old.superseded_by_id == new.pk and new.superseded_by_id is None
    assert old.values.get(indicator__code="AF006", field_name="Numerator").value == 90  # history kept
    current = selectors.current_values(achievement_ids=[achievement.pk])[achievement.pk]
    assert current["AF006"] == {"Numerator": 95, "Denominator": 112, "AFIBPCADEC": 4, "AFIBINV1": 3}
    assert Achievement.objects.count() == 2
    assert Submission.objects.filter(is_current=True).count() == 2


# --- killed mid-load --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_load_killed_mid_way_leaves_no_partial_data_and_loading_again_completes_it(
    fixture_path, monkeypatch
):
    world = factories.world(with_list_sizes=False)
    service = factories.qof_2324()
    for code in ("A81001", "A81002"):
        factories.approved_offer(service, world[code], world["icb"])
    real_switch = apply.switch_current

    def killed(**kwargs):
        raise SystemExit("worker killed")  # after every value was written, before the switch

    monkeypatch.setattr(apply, "switch_current", killed)
    monkeypatch.setattr(extract_load_task, "delay_on_commit", lambda *args: None)  # queued for a worker
    extract = services.extract_receive(path=fixture_path("qof_valid.csv"))
    with pytest.raises(SystemExit):
        extract_load_task(extract.pk)  # the worker runs it and dies mid-load
    extract = ExtractLoad.objects.get(pk=extract.pk)

    assert extract.status == ExtractStatus.VALIDATING
    assert not Submission.objects.exists() and not IndicatorValue.objects.exists()
    assert not Achievement.objects.exists() and not ListSize.objects.exists()

    monkeypatch.setattr(apply, "switch_current", real_switch)
    assert extract_load_task(extract.pk) == ExtractStatus.LOADED  # redelivered: starts afresh
    extract = ExtractLoad.objects.get(pk=extract.pk)

    assert extract.status == ExtractStatus.LOADED
    assert Submission.objects.filter(is_current=True).count() == 2
    assert IndicatorValue.objects.count() == 10


# --- Network Contract DES: aggregation to the PCN --------------------------------------------


def test_ncd_practice_values_are_summed_into_the_pcns_achievement(ncd, world, fixture_path, recalculation):
    extract = receive_and_load(fixture_path("ncd_valid.csv"))

    pcn_achievement = Achievement.objects.get(provider=world["pcn"])
    submission = pcn_achievement.submissions.get()
    assert submission.source == SubmissionSource.AGGREGATION
    assert submission.is_current and submission.status == SubmissionStatus.SUBMITTED
    assert submission.extract_id == extract.pk
    values = selectors.current_values(achievement_ids=[pcn_achievement.pk])[pcn_achievement.pk]
    assert values == {"CAN-02": {"Numerator": 42, "Denominator": 60}}
    assert selectors.list_size_on(provider_id=world["pcn"].pk, date=factories.NCD_DATE) == 17650
    assert pcn_achievement.pk in recalculation.achievement_ids


def test_a_later_ncd_extract_for_one_practice_re_aggregates_with_the_other_practices_current_values(
    ncd, world, tmp_path, fixture_path
):
    receive_and_load(fixture_path("ncd_valid.csv"))
    later = "\n".join([
        HEADER,
        row(service="NCD2324", org="A81001", ind="CAN-02", field="Numerator", value="35"),
        row(service="NCD2324", org="A81001", ind="CAN-02", field="Denominator", value="41"),
    ]) + "\n"

    receive_and_load(write(tmp_path, later))

    pcn_achievement = Achievement.objects.get(provider=world["pcn"])
    assert pcn_achievement.submissions.count() == 2
    old = pcn_achievement.submissions.get(is_current=False)
    assert old.superseded_by == pcn_achievement.submissions.get(is_current=True)
    values = selectors.current_values(achievement_ids=[pcn_achievement.pk])[pcn_achievement.pk]
    assert values == {"CAN-02": {"Numerator": 47, "Denominator": 61}}


def test_a_practice_level_service_is_not_aggregated(qof, world, fixture_path):
    receive_and_load(fixture_path("qof_valid.csv"))

    assert not Achievement.objects.filter(provider=world["pcn"]).exists()


# --- a PCN's manually entered values survive a later aggregation that still lacks them ---------


def _ncd_file(tmp_path, name, rows_):
    return write(tmp_path, "\n".join([HEADER, *[row(service="NCD2324", **r) for r in rows_]]) + "\n", name)


def test_a_later_aggregation_carries_forward_what_the_pcn_entered_for_fields_the_practices_do_not_supply(
    ncd, world, tmp_path, fixture_path
):
    from accounts.models import Role
    from participation.models import Domain, Indicator, IndicatorGroup
    from tests.factories import member

    group = IndicatorGroup.objects.create(
        service=ncd, domain=Domain.objects.get(service=ncd), code="HI", name="Health inequalities"
    )
    hi03 = Indicator.objects.create(
        service=ncd, group=group, code="HI-03", name="HI-03", kind="fraction", fields=["Numerator", "Denominator"],
        position=2, points=10, lower=50, upper=80,
    )
    receive_and_load(fixture_path("ncd_valid.csv"))  # the practices do not supply HI-03
    pcn = Achievement.objects.get(provider=world["pcn"])
    pcn_user = member(world["pcn"], Role.ACHIEVEMENT_ENTRY)
    services.achievement_values_save(
        user=pcn_user, achievement_id=pcn.pk, group_id=group.pk,
        values={(hi03.pk, "Numerator"): 7, (hi03.pk, "Denominator"): 9}, submit=True,
    )

    later = receive_and_load(_ncd_file(tmp_path, "later.csv", [
        {"org": "A81001", "ind": "CAN-02", "field": "Numerator", "value": "35"},
        {"org": "A81001", "ind": "CAN-02", "field": "Denominator", "value": "41"},
    ]))

    assert selectors.current_values(achievement_ids=[pcn.pk])[pcn.pk] == {
        "CAN-02": {"Numerator": 47, "Denominator": 61},
        "HI-03": {"Numerator": 7, "Denominator": 9},
    }
    current = pcn.submissions.get(is_current=True)
    assert (current.source, current.extract_id, current.created_by) == (SubmissionSource.MANUAL, later.pk, pcn_user)
    aggregation = pcn.submissions.get(superseded_by=current)
    assert aggregation.source == SubmissionSource.AGGREGATION and aggregation.extract_id == later.pk
    # The aggregation stays the latest automatic submission: HI-03 is still the PCN's to adjust.
    data = selectors.entry_data(achievement=pcn, indicators=[hi03])
    assert data.automatic == aggregation and data.automatic_values == {}
    assert data.current_values == {(hi03.pk, "Numerator"): 7, (hi03.pk, "Denominator"): 9}

    # Carried again by the next aggregation (the carried submission is itself a manual one) ...
    receive_and_load(_ncd_file(tmp_path, "third.csv", [
        {"org": "A81002", "ind": "CAN-02", "field": "Numerator", "value": "13"},
        {"org": "A81002", "ind": "CAN-02", "field": "Denominator", "value": "20"},
    ]))
    assert selectors.current_values(achievement_ids=[pcn.pk])[pcn.pk]["HI-03"] == {"Numerator": 7, "Denominator": 9}

    # ... until the practices supply the field: then the aggregation's value stands.
    receive_and_load(_ncd_file(tmp_path, "fourth.csv", [
        {"org": "A81001", "ind": "HI-03", "field": "Numerator", "value": "3"},
        {"org": "A81001", "ind": "HI-03", "field": "Denominator", "value": "4"},
    ]))
    current = pcn.submissions.get(is_current=True)
    assert current.source == SubmissionSource.AGGREGATION
    assert selectors.current_values(achievement_ids=[pcn.pk])[pcn.pk] == {
        "CAN-02": {"Numerator": 13, "Denominator": 20},
        "HI-03": {"Numerator": 3, "Denominator": 4},
    }
    history = list(pcn.submissions.order_by("id").values_list("source", flat=True))
    assert history == ["aggregation", "manual", "aggregation", "manual", "aggregation", "manual", "aggregation"]


def test_an_aggregation_over_an_aggregation_carries_nothing(ncd, world, tmp_path, fixture_path):
    receive_and_load(fixture_path("ncd_valid.csv"))
    receive_and_load(_ncd_file(tmp_path, "later.csv", [
        {"org": "A81001", "ind": "CAN-02", "field": "Numerator", "value": "35"},
        {"org": "A81001", "ind": "CAN-02", "field": "Denominator", "value": "41"},
    ]))

    pcn = Achievement.objects.get(provider=world["pcn"])
    assert set(pcn.submissions.values_list("source", flat=True)) == {SubmissionSource.AGGREGATION}
