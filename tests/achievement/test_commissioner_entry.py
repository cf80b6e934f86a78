"""Record Provider Achievement (issue 14 §1): the Commissioning Organisation enters and adjusts its
providers' data until the payment is financially approved; its values are Commissioning
Organisation entries, marked and protected from the provider's adjustment; a provider marked as
having no automatic extract for a service enters its data by hand and a GPES extract row for it is
refused with the reason; every change recalculates and a changed amount sends the declaration
back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.errors import NotAllowed, NotFound
from accounts.models import AuditEvent, Role
from achievement import entry_rules, services
from achievement.ingest.catalogue import Catalogue
from achievement.models import (
    CommissionerEntry,
    ExtractStatus,
    ManualEntryProvider,
    NoExtractReason,
    Submission,
    SubmissionSource,
    SubmissionStatus,
)
from declarations import services as declarations_services
from declarations.models import Declaration, DeclarationStatus
from participation.models import Indicator
from tests.achievement import factories
from tests.achievement.test_entry_rules import (
    FEBRUARY,
    MARCH,
    achievement_on,
    key,
    payment_moved_through,
    states_for,
    submit_snapshot,
)
from tests.achievement.test_extracts import messages, receive_and_load, valid_lines, write
from tests.factories import ICBFactory, PracticeFactory, member

AF006_N, AF006_D = ("AF006", "Numerator"), ("AF006", "Denominator")


@pytest.fixture(autouse=True)
def recorded_list_sizes(world):
    factories.list_sizes(world)


@pytest.fixture
def practice(world):
    return world["A81001"]


@pytest.fixture
def entry_user(practice):
    return member(practice, Role.ACHIEVEMENT_ENTRY)


@pytest.fixture
def commissioner(world):
    return member(world["icb"], Role.COMMISSIONING_MANAGEMENT, full_name="Chris Commissioner")


@pytest.fixture
def march(practice, qof):
    return achievement_on(practice, qof, MARCH)


@pytest.fixture
def february(practice, qof):
    return achievement_on(practice, qof, FEBRUARY)


def group_of(service, code="AF006") -> int:
    return Indicator.objects.get(service=service, code=code).group_id


def commissioner_saves(user, achievement, values, *, submit=True, notes=""):
    return services.commissioner_values_save(
        user=user, achievement_id=achievement.pk, group_id=group_of(achievement.service), values=values,
        notes=notes, submit=submit,
    )


def provider_saves(user, achievement, values, *, submit=True):
    return services.achievement_values_save(
        user=user, achievement_id=achievement.pk, group_id=group_of(achievement.service), values=values, submit=submit
    )


# --- the commissioner enters and adjusts ----------------------------------------------------


def test_the_commissioner_adjusts_a_value_the_extract_supplied_and_it_becomes_a_commissioning_organisation_entry(
    commissioner, entry_user, march, qof, recalculation
):
    submit_snapshot(march, {AF006_N: 40, AF006_D: 50})
    assert states_for(entry_user, march)[AF006_N].reason == entry_rules.SUPPLIED_BY_EXTRACT

    submission = commissioner_saves(
        commissioner, march, {key(qof, *AF006_N): 45}, notes="Corrected from the practice's audit."
    )

    assert submission.source == SubmissionSource.COMMISSIONER and submission.is_current
    assert submission.status == SubmissionStatus.SUBMITTED
    values = {(v.indicator.code, v.field_name): v.value for v in submission.values.select_related("indicator")}
    assert values[AF006_N] == 45 and values[AF006_D] == 50  # every value: a snapshot
    entry = CommissionerEntry.objects.get()
    assert (entry.value, entry.entered_by, entry.submission_id) == (45, commissioner, submission.pk)
    assert recalculation.achievement_ids == {march.pk}
    event = AuditEvent.objects.get(action="commissioner_achievement_submitted")
    assert event.actor == commissioner and event.organisation == march.provider
    assert list(event.detail["values"].values()) == [[40, 45]]


def test_the_provider_sees_the_entry_marked_and_cannot_adjust_it(commissioner, entry_user, practice, february, qof):
    practice.automatic_extracts = False
    practice.save()
    submit_snapshot(february, {AF006_N: 40, AF006_D: 50}, source=SubmissionSource.MANUAL)
    commissioner_saves(commissioner, february, {key(qof, *AF006_N): 45})

    states = states_for(entry_user, february)

    assert states[AF006_N].reason == entry_rules.COMMISSIONER_ENTRY
    assert states[AF006_N].commissioner_entry and states[AF006_N].entered_by == "Chris Commissioner"
    assert states[AF006_D].editable and not states[AF006_D].commissioner_entry
    with pytest.raises(NotAllowed):
        provider_saves(entry_user, february, {key(qof, *AF006_N): 30})


def test_a_providers_later_submission_keeps_the_commissioners_value_and_its_mark(
    commissioner, entry_user, practice, february, qof
):
    practice.automatic_extracts = False
    practice.save()
    submit_snapshot(february, {AF006_N: 40, AF006_D: 50}, source=SubmissionSource.MANUAL)
    commissioner_saves(commissioner, february, {key(qof, *AF006_N): 45})

    provider_saves(entry_user, february, {key(qof, *AF006_D): 60})

    states = states_for(entry_user, february)
    assert states[AF006_N].current == 45 and states[AF006_N].reason == entry_rules.COMMISSIONER_ENTRY
    assert states[AF006_D].current == 60


def test_an_extract_bringing_another_value_supersedes_the_entry(commissioner, entry_user, march, qof):
    submit_snapshot(march, {AF006_N: 40, AF006_D: 50})
    commissioner_saves(commissioner, march, {key(qof, *AF006_N): 45})

    submit_snapshot(march, {AF006_N: 42, AF006_D: 50})  # a later GPES extract

    state = states_for(entry_user, march)[AF006_N]
    assert not state.commissioner_entry and state.reason == entry_rules.SUPPLIED_BY_EXTRACT


def test_the_commissioner_enters_any_date_even_once_the_payment_period_is_closed_for_the_provider(
    commissioner, entry_user, practice, february, march, qof
):
    practice.automatic_extracts = False
    practice.save()
    submit_snapshot(february, {AF006_N: 40, AF006_D: 50}, source=SubmissionSource.MANUAL)
    submit_snapshot(march, {AF006_N: 41, AF006_D: 50}, source=SubmissionSource.MANUAL)
    assert states_for(entry_user, february)[AF006_N].reason.startswith("Achievement data have already been submitted")

    commissioner_saves(commissioner, february, {key(qof, *AF006_N): 44})

    assert states_for(commissioner, february)[AF006_N].current == 44


def test_commissioner_and_provider_each_keep_their_own_work_in_progress(commissioner, entry_user, practice, february, qof):
    practice.automatic_extracts = False
    practice.save()
    submit_snapshot(february, {AF006_N: 40, AF006_D: 50}, source=SubmissionSource.MANUAL)

    provider_saves(entry_user, february, {key(qof, *AF006_D): 70}, submit=False)
    commissioner_saves(commissioner, february, {key(qof, *AF006_N): 45}, submit=False)

    wips = Submission.objects.filter(achievement=february, status=SubmissionStatus.WORK_IN_PROGRESS)
    assert sorted(wips.values_list("source", flat=True)) == [SubmissionSource.COMMISSIONER, SubmissionSource.MANUAL]
    assert not CommissionerEntry.objects.exists()  # nothing is an entry until it is submitted

    commissioner_saves(commissioner, february, {key(qof, *AF006_N): 45})

    assert Submission.objects.filter(
        achievement=february, status=SubmissionStatus.WORK_IN_PROGRESS, source=SubmissionSource.MANUAL
    ).exists()
    assert CommissionerEntry.objects.get().value == 45


def test_nothing_is_entered_once_the_payment_is_financially_approved(commissioner, practice, march, qof):
    payment_moved_through(march, "declare", "approve", "finance_approve")

    assert {s.reason for s in states_for_commissioner(commissioner, march).values()} == {
        entry_rules.FINANCIALLY_APPROVED
    }
    with pytest.raises(services.AchievementEntryError, match="financially approved"):
        commissioner_saves(commissioner, march, {key(qof, *AF006_N): 1})


def states_for_commissioner(user, achievement):
    from achievement import selectors
    from achievement.models import Achievement

    achievement = Achievement.objects.select_related("provider__pcn", "service", "achievement_date").get(pk=achievement.pk)
    indicators = list(Indicator.objects.filter(service_id=achievement.service_id))
    data = selectors.entry_data(achievement=achievement, indicators=indicators, wip_source=SubmissionSource.COMMISSIONER)
    fields, _, _ = entry_rules.entry_states(user=user, data=data, commissioner=True)
    return {(s.indicator.code, s.field_name): s for s in fields}


def test_every_field_is_open_to_the_commissioner(commissioner, march, qof):
    submit_snapshot(march, {AF006_N: 40, AF006_D: 50})
    Indicator.objects.filter(service=qof, code="QI013").update(entry="commissioner")

    assert all(s.editable for s in states_for_commissioner(commissioner, march).values())


@pytest.mark.parametrize("role", [Role.APPROVAL_MANAGEMENT, Role.FINANCE_MANAGEMENT])
def test_only_commissioning_management_enters(world, march, qof, role):
    user = member(world["icb"], role)

    with pytest.raises(NotFound):
        commissioner_saves(user, march, {key(qof, *AF006_N): 45})


def test_another_icbs_commissioner_finds_no_achievement(march, qof):
    other = member(ICBFactory(ods_code="QXX"), Role.COMMISSIONING_MANAGEMENT)

    with pytest.raises(NotFound):
        commissioner_saves(other, march, {key(qof, *AF006_N): 45})
    with pytest.raises(NotFound):
        services.commissioner_achievement_add(
            user=other, provider_id=march.provider_id, achievement_date_id=march.achievement_date_id
        )


def test_the_commissioner_adds_a_providers_achievement(commissioner, practice, qof):
    date = qof.achievement_dates.get(date=FEBRUARY)

    achievement, created = services.commissioner_achievement_add(
        user=commissioner, provider_id=practice.pk, achievement_date_id=date.pk
    )

    assert created and achievement.provider == practice
    assert AuditEvent.objects.filter(action="achievement_added_by_commissioner", actor=commissioner).exists()


# --- a changed amount sends the declaration back ---------------------------------------------


def test_a_commissioners_change_recalculates_and_sends_the_declared_payment_back_with_the_reason(
    commissioner, practice, march, qof, recalculation
):
    submit_snapshot(march, {AF006_N: 40, AF006_D: 50, ("QI013", "Yes/No Flag"): 1})
    declaration = payment_moved_through(march, "declare")
    assert declaration.status == DeclarationStatus.AWAITING_COMMISSIONER
    declared = declaration.amount_declared

    commissioner_saves(commissioner, march, {key(qof, *AF006_N): 20}, notes="The practice over-counted AF006.")
    # The hook enqueued the recalculation; the worker runs it (declarations.tasks.recalculate_many).
    assert recalculation.achievement_ids == {march.pk}
    declarations_services.calculations_recalculate_isolating(achievement_ids=sorted(recalculation.achievement_ids))

    declaration = Declaration.objects.get(pk=declaration.pk)
    assert declaration.status == DeclarationStatus.AWAITING_PROVIDER
    assert declaration.calculation.total_amount < declared
    back = declaration.transitions.order_by("-at", "-pk").first()
    assert back.from_status == DeclarationStatus.AWAITING_COMMISSIONER
    assert back.to_status == DeclarationStatus.AWAITING_PROVIDER
    assert "It must be declared again" in back.note
    assert back.previous_amount == declared and back.amount == declaration.calculation.total_amount


# --- providers without automatic extracts ----------------------------------------------------


def test_marking_a_provider_without_automatic_extracts_is_audited_and_opens_every_indicator(
    commissioner, entry_user, practice, february, qof
):
    submit_snapshot(february, {AF006_N: 40, AF006_D: 50})
    assert states_for(entry_user, february)[AF006_N].reason == entry_rules.SUPPLIED_BY_EXTRACT

    mark = services.manual_entry_provider_set(
        user=commissioner, provider_id=practice.pk, service_id=qof.pk, reason=NoExtractReason.CLINICAL_SYSTEM
    )

    assert (mark.set_by, mark.reason) == (commissioner, NoExtractReason.CLINICAL_SYSTEM)
    assert states_for(entry_user, february)[AF006_N].editable
    event = AuditEvent.objects.get(action="manual_entry_provider_set")
    assert event.actor == commissioner and event.detail["reason"] == NoExtractReason.CLINICAL_SYSTEM

    services.manual_entry_provider_remove(user=commissioner, manual_entry_id=mark.pk)

    assert not ManualEntryProvider.objects.exists()
    assert AuditEvent.objects.filter(action="manual_entry_provider_removed", actor=commissioner).exists()
    assert states_for(entry_user, february)[AF006_N].reason == entry_rules.SUPPLIED_BY_EXTRACT


def test_marking_is_refused_for_another_icbs_provider_or_one_not_taking_part(commissioner, world, qof):
    stranger = PracticeFactory(ods_code="B82001", commissioner=ICBFactory(ods_code="QXX"))
    with pytest.raises(NotFound):
        services.manual_entry_provider_set(
            user=commissioner, provider_id=stranger.pk, service_id=qof.pk, reason=NoExtractReason.PROVIDER
        )
    with pytest.raises(services.AchievementEntryError, match="does not take part"):
        services.manual_entry_provider_set(
            user=commissioner, provider_id=world["A81003"].pk, service_id=qof.pk, reason=NoExtractReason.PROVIDER
        )
    with pytest.raises(services.AchievementEntryError, match="Select why"):
        services.manual_entry_provider_set(
            user=commissioner, provider_id=world["A81001"].pk, service_id=qof.pk, reason="because"
        )
    assert not ManualEntryProvider.objects.exists()


def test_an_extract_row_of_a_manual_entry_provider_is_refused_with_the_reason(
    commissioner, world, qof, tmp_path, fixture_path
):
    services.manual_entry_provider_set(
        user=commissioner, provider_id=world["A81002"].pk, service_id=qof.pk, reason=NoExtractReason.CLINICAL_SYSTEM
    )
    lines = valid_lines(fixture_path)

    extract = receive_and_load(write(tmp_path, "\n".join(lines) + "\n"))

    assert extract.status == ExtractStatus.REJECTED
    expected = (
        "A81002 has no automatic extract for QOF2324: its Commissioning Organisation marked it so "
        f"({NoExtractReason.CLINICAL_SYSTEM.label}). Its data are entered manually; remove its rows from the extract."
    )
    refused = messages(extract)
    a81002_lines = [n for n, line in enumerate(lines, start=1) if ",A81002," in line]
    assert refused == [(n, expected) for n in a81002_lines]
    assert not Submission.objects.exists()  # the file is refused as a whole, as for any bad row

    # Without the provider's rows the file loads.
    kept = [line for line in lines if ",A81002," not in line]
    assert receive_and_load(write(tmp_path, "\n".join(kept) + "\n", name="kept.csv")).status == ExtractStatus.LOADED


def test_the_extract_check_is_one_query_whatever_the_number_of_marked_providers(commissioner, world, qof):
    def catalogue_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            Catalogue.load()
        return len(queries)

    before = catalogue_queries()
    for code in ("A81001", "A81002"):
        services.manual_entry_provider_set(
            user=commissioner, provider_id=world[code].pk, service_id=qof.pk, reason=NoExtractReason.TECHNICAL_ISSUE
        )

    assert catalogue_queries() == before
    assert Catalogue.load().manual == {
        (qof.pk, world[code].pk): NoExtractReason.TECHNICAL_ISSUE.label for code in ("A81001", "A81002")
    }


# --- the screens ------------------------------------------------------------------------------


def provider_url(**params) -> str:
    from urllib.parse import urlencode

    return f"{reverse('achievement:record_provider_achievement')}?{urlencode(params)}"


def test_record_provider_achievement_lists_the_commissioned_providers_achievements(
    client_for, commissioner, world, march, qof
):
    other_icb = ICBFactory(ods_code="QXX")
    stranger = PracticeFactory(ods_code="B82001", commissioner=other_icb)
    factories.approved_offer(qof, stranger, other_icb)
    achievement_on(stranger, qof, MARCH)

    page = client_for(commissioner).get(provider_url(financial_year=qof.financial_year_id, service=qof.pk))

    assert page.status_code == 200
    body = page.content.decode()
    assert "Record Provider Achievement" in body
    assert reverse("achievement:record_provider_achievement_detail", args=[march.pk]) in body
    assert "B82001" not in body


def test_the_list_runs_a_fixed_number_of_queries(client_for, commissioner, world, practice, qof):
    client = client_for(commissioner)
    url = provider_url(financial_year=qof.financial_year_id, service=qof.pk)
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    achievement_on(practice, qof, MARCH)
    one = count()
    achievement_on(practice, qof, FEBRUARY)
    achievement_on(world["A81002"], qof, MARCH)
    services.manual_entry_provider_set(
        user=commissioner, provider_id=world["A81002"].pk, service_id=qof.pk, reason=NoExtractReason.PROVIDER
    )
    services.manual_entry_provider_set(
        user=commissioner, provider_id=practice.pk, service_id=qof.pk, reason=NoExtractReason.PROVIDER
    )

    assert count() == one


def test_the_commissioner_submits_on_the_group_page_and_the_provider_sees_the_mark(
    client_for, commissioner, entry_user, march, qof
):
    submit_snapshot(march, {AF006_N: 40, AF006_D: 50})
    group_url = reverse("achievement:record_provider_group_detail", args=[march.pk, group_of(qof)])
    client = client_for(commissioner)
    form = client.get(group_url)
    assert form.status_code == 200
    numerator = next(s for s in form.context["form"].states if s.key == key(qof, *AF006_N))

    response = client.post(group_url, {numerator.name: "45", "notes": "Corrected", "action": "submit"})

    assert response.status_code == 302
    assert response["Location"] == reverse("achievement:record_provider_achievement_detail", args=[march.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "Commissioning Organisation entry" in detail and "AF006 (Numerator)" in detail

    client.logout()
    provider_page = client_for(entry_user).get(reverse("achievement:group_detail", args=[march.pk, group_of(qof)]))
    body = provider_page.content.decode()
    assert 'data-testid="commissioner-entry"' in body and "Entered by Chris Commissioner" in body
    assert entry_rules.COMMISSIONER_ENTRY in body
    assert not any(s.key == key(qof, *AF006_N) for s in provider_page.context["form"].states)


def test_a_provider_user_may_not_open_record_provider_achievement(client_for, entry_user, march, qof):
    client = client_for(entry_user)

    assert client.get(reverse("achievement:record_provider_achievement")).status_code == 403
    assert client.get(reverse("achievement:record_provider_achievement_detail", args=[march.pk])).status_code == 403


def test_the_commissioner_marks_and_unmarks_a_provider_on_the_page(client_for, commissioner, practice, qof):
    client = client_for(commissioner)

    response = client.post(
        reverse("achievement:record_provider_manual_entry"),
        {"service": qof.pk, "provider": practice.pk, "reason": NoExtractReason.PROVIDER},
    )

    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "has no automatic extract for" in page and NoExtractReason.PROVIDER.label in page
    mark = ManualEntryProvider.objects.get()

    response = client.post(reverse("achievement:record_provider_manual_entry_remove", args=[mark.pk]))

    assert response.status_code == 302 and not ManualEntryProvider.objects.exists()


# --- defect: a practice's Network Contract DES payment is its PCN's ---------------------------


def test_a_practices_ncd_achievement_is_not_calculated_itself_and_names_the_pcn_it_is_paid_to(
    client_for, world, ncd
):
    pcn_achievement = achievement_on(world["pcn"], ncd, MARCH)
    payment_moved_through(pcn_achievement)
    practice_achievement = achievement_on(world["A81001"], ncd, MARCH)
    user = member(world["A81001"], Role.ACHIEVEMENT_ENTRY, Role.FINANCE_VIEW)

    page = client_for(user).get(reverse("achievement:record_achievement_detail", args=[practice_achievement.pk]))

    summary = page.context["summary"]
    assert summary.payment is None and not summary.calculated
    assert "Not calculated: the Network Contract DES is paid to Stockton PCN (U89141)" in page.content.decode()
    # The PCN's own page shows its payment.
    pcn_user = member(world["pcn"], Role.ACHIEVEMENT_ENTRY, Role.FINANCE_VIEW)
    pcn_page = client_for(pcn_user).get(reverse("achievement:record_achievement_detail", args=[pcn_achievement.pk]))
    assert pcn_page.context["summary"].payment is not None


def test_the_panel_is_paged(client_for, commissioner, world, practice, qof, monkeypatch):
    from achievement.views import record_provider

    monkeypatch.setattr(record_provider, "ACHIEVEMENTS_PER_PAGE", 1)
    achievement_on(practice, qof, MARCH)
    achievement_on(practice, qof, FEBRUARY)
    client = client_for(commissioner)

    first = client.get(provider_url(financial_year=qof.financial_year_id, service=qof.pk))
    second = client.get(provider_url(financial_year=qof.financial_year_id, service=qof.pk, page=2))

    assert [r.date_label for r in first.context["panel_rows"]] == ["31/03/2024"]
    assert [r.date_label for r in second.context["panel_rows"]] == ["29/02/2024"]
    assert "Next" in first.content.decode()
