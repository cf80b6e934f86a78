"""A GPES extract loaded in batches of practices (achievement/ingest/): the same
result as the single load, every rule's error the same, nothing applied or left staged when a
batch finds an error, a batch run twice, readers during staging, a stuck load run again, the
progress bar, and a chord run by a real Celery worker."""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction

from accounts.models import ListSize
from achievement import selectors, services
from achievement.ingest import batches, plan, stage
from achievement.models import (
    Achievement,
    ExtractBatch,
    ExtractBatchPlan,
    ExtractLoad,
    ExtractStatus,
    IndicatorValue,
    Submission,
    SubmissionSource,
)
from tests.achievement import factories
from tests.achievement.test_extracts import (
    HEADER,
    RULES,
    assert_nothing_applied,
    messages,
    row,
    valid_lines,
    write,
)

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="batched loads need PostgreSQL")


@pytest.fixture
def tiny_batches(settings):
    """Two rows a batch: each practice of the fixtures is a batch of its own."""
    settings.EXTRACT_BATCH_ROWS = 2
    return settings


@pytest.fixture
def captured(monkeypatch):
    """The chord is not run: its batches and finish are kept for the test to run by hand."""
    runs = []
    monkeypatch.setattr(batches, "launch", lambda header, callback: runs.append((header, callback)))
    return runs


def load(path) -> ExtractLoad:
    extract = services.extract_receive(path=path)
    return services.extract_load(extract_id=extract.pk)


def state() -> dict:
    """Everything a load decides, by natural keys (no ids): current values per provider,
    submissions per provider and source, list sizes."""
    current = {}
    for achievement in Achievement.objects.select_related("provider"):
        values = selectors.current_values(achievement_ids=[achievement.pk]).get(achievement.pk, {})
        current[(achievement.provider.ods_code, achievement.achievement_date_id)] = values
    submissions = sorted(
        (s.achievement.provider.ods_code, s.source, s.status, s.is_current, s.superseded_by_id is not None)
        for s in Submission.objects.select_related("achievement__provider")
    )
    sizes = sorted(ListSize.objects.values_list("organisation__ods_code", "date", "size"))
    extracts = sorted(ExtractLoad.objects.values_list("file_name", "status", "rows_total", "rows_done", "error_count"))
    return {
        "current": current,
        "submissions": submissions,
        "list_sizes": sizes,
        "extracts": extracts,
        "values": IndicatorValue.objects.count(),
    }


def staged_values() -> int:
    """Values under no Submission: staged and not (yet) applied."""
    return IndicatorValue.objects.exclude(submission_id__in=Submission.objects.values("pk")).count()


def run(captured_runs, *, twice: tuple[int, ...] = ()) -> ExtractLoad:
    """Run the kept batches (some of them twice) and then the finish, as workers would."""
    header, callback = captured_runs.pop()
    results = []
    for signature in header:
        if signature.args[2] in twice:
            signature.apply()
        results.append(signature.apply().get())
    callback.clone(args=(results,)).apply()
    return ExtractLoad.objects.get(pk=callback.args[0])


# --- the same result as the single load ----------------------------------------------------


def test_a_batched_load_gives_what_the_single_load_gives(qof, ncd, fixture_path, settings):
    files = ["qof_valid.csv", "qof_valid_later.csv", "ncd_valid.csv"]
    savepoint = transaction.savepoint()
    for name in files:
        assert load(fixture_path(name)).status == ExtractStatus.LOADED
    single = state()
    assert not any(stage.latest_plan_id(pk) for pk in ExtractLoad.objects.values_list("pk", flat=True))
    transaction.savepoint_rollback(savepoint)

    settings.EXTRACT_BATCH_ROWS = 2
    for name in files:
        extract = load(fixture_path(name))
        assert extract.status == ExtractStatus.LOADED
        assert stage.latest_plan_id(extract.pk) is not None  # it was batched
    assert state() == single
    assert single["current"]  # not trivially equal
    assert staged_values() == 0


@pytest.mark.parametrize("rule", RULES)
def test_a_batched_load_reports_each_rule_as_the_single_load_does(rule, qof, tmp_path, fixture_path, tiny_batches):
    change, line, message = RULES[rule]
    path = write(tmp_path, "\n".join(change(valid_lines(fixture_path))) + "\n")

    extract = load(path)

    assert extract.status == ExtractStatus.REJECTED
    assert messages(extract) == [(line, message)]
    assert extract.error_count == 1
    assert_nothing_applied()


def test_errors_of_every_batch_are_merged_in_line_order_first_100_then_a_count(
    qof, tmp_path, fixture_path, tiny_batches
):
    lines = valid_lines(fixture_path)
    bad = [row(org="Z00001", field=f"F{i}", value="1") for i in range(150)]
    lines = lines[:1] + bad + lines[1:] + [row(field="AFIBPCAPU", value="x")]

    extract = load(write(tmp_path, "\n".join(lines) + "\n"))

    assert stage.latest_plan_id(extract.pk) is not None
    assert extract.status == ExtractStatus.REJECTED
    assert extract.error_count == 151
    assert len(extract.errors) == 101
    assert extract.errors[0] == {"line": 2, "message": "Unknown organisation 'Z00001'."}
    assert extract.errors[99]["line"] == 101
    assert extract.errors[100] == {"line": None, "message": "and 51 more"}
    assert_nothing_applied()


def test_rows_of_an_organisation_scattered_over_batches_go_to_its_batch(qof, tmp_path, fixture_path, tiny_batches):
    lines = valid_lines(fixture_path)
    # A81001's AFIBPCADEC row moved to the end, after A81002's rows.
    path = write(tmp_path, "\n".join([*lines[:4], *lines[5:], lines[4]]) + "\n")
    planned = plan.plan_batches(path, 2)
    assert [len(b.ranges) for b in planned] == [2, 1]
    assert [b.rows for b in planned] == [6, 6]

    extract = load(path)

    assert extract.status == ExtractStatus.LOADED
    assert IndicatorValue.objects.count() == 10
    # Cut by offsets first, which split A81001 in two; then planned by a scan of every line.
    plans = ExtractBatchPlan.objects.filter(extract=extract).order_by("-id").values_list("cut_by", flat=True)
    assert list(plans) == ["scan", "offsets"]
    assert staged_values() == 0


def test_cuts_by_offset_fall_where_the_organisation_changes_with_the_files_line_numbers(tmp_path):
    practices = [f"A8{n:04d}" for n in range(1, 21)]
    lines = [HEADER] + [
        row(org=code, ind="AF006", field=f"F{i}", value=str(i))
        for n, code in enumerate(practices)
        for i in range(1 + n % 4)  # 1 to 4 rows a practice
    ]
    path = write(tmp_path, "\n".join(lines) + "\n")
    raw = path.read_bytes()

    planned = plan.plan_by_offsets(path, 7)

    assert len(planned) > 3
    ranges = [r for b in planned for r in b.ranges]
    assert ranges[0][0] == len(lines[0]) + 1 and ranges[-1][1] == len(raw)
    orgs_per_batch = []
    for (start, end, line_before), (next_start, _, _) in zip(ranges, [*ranges[1:], (len(raw), 0, 0)], strict=True):
        assert end == next_start  # contiguous
        assert raw[:start].count(b"\n") == line_before  # the original line numbers
        orgs_per_batch.append({line.split(b",")[2] for line in raw[start:end].splitlines()})
    assert sum(len(orgs) for orgs in orgs_per_batch) == len(practices)  # no organisation in two batches


@pytest.mark.parametrize(
    "text",
    [b"QOF2324,x,A81001\rQOF2324,x,A81002\n", "QOF2324,Caf\xe9,A81001\n".encode("latin-1")],
    ids=["a bare carriage return", "not UTF-8"],
)
def test_a_file_the_plan_cannot_split_safely_is_left_to_the_single_load(text, tmp_path, fixture_path):
    lines = fixture_path("qof_valid.csv").read_bytes()
    path = write(tmp_path, lines + text + lines.split(b"\n", 1)[1])

    assert plan.plan_by_offsets(path, 2) is None
    assert plan.plan_batches(path, 2) is None


# --- nothing applied, nothing left staged ---------------------------------------------------


def test_a_bad_row_in_one_batch_rejects_the_whole_extract_and_leaves_nothing_staged(
    qof, world, tmp_path, fixture_path, settings, recalculation
):
    first = load(fixture_path("qof_valid.csv"))  # single load
    before = state()
    recalculation.calls.clear()
    settings.EXTRACT_BATCH_ROWS = 2
    later = fixture_path("qof_valid_later.csv").read_text().splitlines()
    bad = [*later, row(org="A81002", ind="AF006", field="AFIBPCAPU", value="-1")]  # in A81002's batch

    extract = load(write(tmp_path, "\n".join(bad) + "\n"))

    assert extract.status == ExtractStatus.REJECTED
    assert messages(extract) == [(len(bad), "VALUE '-1' is not a whole number of 0 or more.")]
    assert staged_values() == 0
    after = state()
    assert after["current"] == before["current"] and after["submissions"] == before["submissions"]
    assert set(Submission.objects.filter(is_current=True).values_list("extract_id", flat=True)) == {first.pk}
    assert not Submission.objects.filter(extract=extract).exists()
    assert recalculation.calls == []


# --- a batch run twice, readers while staging, a stuck load run again ---------------------------


def test_a_batch_delivered_twice_replaces_what_it_staged(qof, fixture_path, tiny_batches, captured):
    extract = load(fixture_path("qof_valid.csv"))
    assert extract.status == ExtractStatus.VALIDATING and len(captured) == 1

    extract = run(captured, twice=(0, 1))

    staged = ExtractBatch.objects.filter(plan__extract=extract, index=0).order_by("-id")
    first, second = staged.values_list("submission_ids", flat=True)
    assert first == second and len(first) == 1  # the same group under the same id, replaced
    assert extract.status == ExtractStatus.LOADED
    assert IndicatorValue.objects.count() == 10
    assert Submission.objects.filter(is_current=True).count() == 2
    assert staged_values() == 0


def test_readers_see_only_the_old_current_values_while_batches_stage(
    qof, world, fixture_path, settings, captured, recalculation
):
    load(fixture_path("qof_valid.csv"))
    achievement = Achievement.objects.get(provider=world["A81001"])
    before = state()
    history = [s.pk for s in selectors.submission_list(achievement_id=achievement.pk)]
    settings.EXTRACT_BATCH_ROWS = 2
    extract = load(fixture_path("qof_valid_later.csv"))
    header, callback = captured[0]

    results = [signature.apply().get() for signature in header]  # every batch staged and committed

    assert staged_values() == 10
    assert stage.progress(extract.pk) == 12
    assert services.extract_progress(ExtractLoad.objects.get(pk=extract.pk)) == 12
    during = state()
    assert during["current"] == before["current"] and during["submissions"] == before["submissions"]
    assert [s.pk for s in selectors.submission_list(achievement_id=achievement.pk)] == history
    data = selectors.entry_data(achievement=achievement, indicators=[])
    assert data.automatic.extract_id != extract.pk

    callback.clone(args=(results,)).apply()

    values = selectors.current_values(achievement_ids=[achievement.pk])[achievement.pk]
    assert values["AF006"] == {"Numerator": 95, "Denominator": 112, "AFIBPCADEC": 4, "AFIBINV1": 3}
    assert ExtractLoad.objects.get(pk=extract.pk).status == ExtractStatus.LOADED
    assert staged_values() == 0


def test_a_stuck_batched_load_run_again_cleans_up_and_completes(qof, fixture_path, tiny_batches, captured):
    extract = load(fixture_path("qof_valid.csv"))
    header, callback = captured.pop()
    header[0].apply()  # one batch staged, then every worker died
    assert staged_values() > 0

    again = services.extract_load(extract_id=extract.pk)  # loaded again: a new plan
    assert again.status == ExtractStatus.VALIDATING
    assert staged_values() == 0  # the first plan's staged values are gone
    # The first plan's batches and finish, delivered late, do nothing.
    assert header[1].apply().get() == {"index": 1, "skipped": True}
    callback.clone(args=([],)).apply()
    assert ExtractLoad.objects.get(pk=extract.pk).status == ExtractStatus.VALIDATING

    extract = run(captured)

    assert extract.status == ExtractStatus.LOADED
    assert IndicatorValue.objects.count() == 10
    assert staged_values() == 0


def test_a_finish_without_every_batch_leaves_the_extract_validating(qof, fixture_path, tiny_batches, captured):
    extract = load(fixture_path("qof_valid.csv"))
    header, callback = captured.pop()
    results = [header[0].apply().get(), header[0].apply().get()]  # a duplicate, a batch missing

    with pytest.raises(batches.BatchesIncomplete):
        batches.batch_finish(results, extract_id=extract.pk, plan_id=callback.args[1])

    assert ExtractLoad.objects.get(pk=extract.pk).status == ExtractStatus.VALIDATING
    assert not Submission.objects.exists()


def test_a_small_file_is_loaded_by_one_task(qof, fixture_path):
    extract = load(fixture_path("qof_valid.csv"))

    assert extract.status == ExtractStatus.LOADED
    assert stage.latest_plan_id(extract.pk) is None


def test_ncd_practices_in_different_batches_are_aggregated_to_their_pcn(ncd, world, fixture_path, tiny_batches):
    extract = load(fixture_path("ncd_valid.csv"))

    assert extract.status == ExtractStatus.LOADED
    pcn = Achievement.objects.get(provider=world["pcn"])
    assert pcn.submissions.get().source == SubmissionSource.AGGREGATION
    assert selectors.current_values(achievement_ids=[pcn.pk])[pcn.pk] == {
        "CAN-02": {"Numerator": 42, "Denominator": 60}
    }
    assert selectors.list_size_on(provider_id=world["pcn"].pk, date=factories.NCD_DATE) == 17650


# --- a real worker runs the chord --------------------------------------------------------------

from tests.test_celery_worker import _log, redis_url, worker, worker_queue  # noqa: E402,F401 - fixtures


@pytest.fixture
def tiny_batches_everywhere(monkeypatch):
    """Two rows a batch in this process and in the worker started after it (environment)."""
    monkeypatch.setenv("EXTRACT_BATCH_ROWS", "2")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_loads_a_large_extract_in_batches(tiny_batches_everywhere, worker, fixture_path):  # noqa: F811
    world = factories.world(with_list_sizes=False)
    service = factories.ncd_2324()
    for code in ("A81001", "A81002"):
        factories.approved_offer(service, world[code], world["icb"])
    lines = [HEADER] + fixture_path("ncd_valid.csv").read_text().splitlines()[1:]

    extract = services.extract_receive(path=fixture_path("ncd_valid.csv"))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        extract = ExtractLoad.objects.get(pk=extract.pk)
        if extract.status in (ExtractStatus.LOADED, ExtractStatus.REJECTED):
            break
        assert worker.poll() is None, f"the worker exited ({worker.returncode}):\n{_log(worker)}"
        time.sleep(0.25)
    else:
        pytest.fail(f"the worker did not load the extract within 90 s:\n{_log(worker)}")

    assert extract.status == ExtractStatus.LOADED, extract.errors
    assert extract.rows_done == len(lines) - 1
    assert stage.latest_plan_id(extract.pk) is not None
    assert IndicatorValue.objects.filter(submission__is_current=True).count() == 6  # 4 + the PCN's 2
    log = _log(worker)
    assert "achievement.tasks.extract_batch_stage_task" in log
    assert "achievement.tasks.extract_batch_finish_task" in log
    assert staged_values() == 0
