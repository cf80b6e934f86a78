from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import FormView, TemplateView, View

from accounts import permissions
from accounts.errors import NotAllowed, NotFound
from accounts.inputs import id_or_none
from accounts.mixins import RoleRequiredMixin
from accounts.models import Organisation
from participation.models import FinancialYear, Indicator, ProviderLevel

from . import entry_rules, presenters, selectors, services
from . import rules as achievement_rules
from .forms import (
    AddAchievementForm,
    GroupValuesForm,
    RecordAchievementFilterForm,
    TickBoxForm,
    UploadExtractForm,
)
from .models import SubmissionStatus

REFRESH_SECONDS = 3


class StaffOnlyMixin:
    """Extract Loads are for staff users; to anyone else the pages do not exist (404)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_staff:
            raise NotFound
        return super().dispatch(request, *args, **kwargs)


class ListExtractLoadsView(StaffOnlyMixin, FormView):
    """Administrative Tasks > Extract Loads: upload a GPES extract, follow the loads."""

    template_name = "achievement/extract_loads.html"
    form_class = UploadExtractForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = [presenters.extract_load_row(e) for e in selectors.extract_load_list()[:50]]
        context["page_title"] = "Extract Loads"
        context["extract_rows"] = rows
        context["refresh_seconds"] = REFRESH_SECONDS if any(r.in_progress for r in rows) else None
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        extract = services.extract_receive(file=upload, file_name=upload.name, user=self.request.user)
        if not extract.newly_received:
            messages.info(
                self.request, f"This file was received before, as extract {extract.pk}: it is not loaded again."
            )
        else:
            messages.success(self.request, f"Extract {extract.pk} received: it is being loaded.")
        return redirect(reverse("achievement:extract_load", kwargs={"pk": extract.pk}))


class ShowExtractLoadView(StaffOnlyMixin, TemplateView):
    template_name = "achievement/extract_load.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        extract = selectors.extract_load_get(extract_id=self.kwargs["pk"])
        row = presenters.extract_load_row(extract)
        context["page_title"] = f"Extract {extract.pk}"
        context["row"] = row
        context["refresh_seconds"] = REFRESH_SECONDS if row.in_progress else None
        context["breadcrumbs"] = [("Extract Loads", reverse("achievement:extract_loads"))]
        return context


# --- Data Submission > Record Achievement -------------------------------------------------


# Record Achievement is for Achievement Entry (and View, read-only): a django-rules permission
# (achievement/rules.py), without Django's superuser shortcut.  Every object is then looked up
# within the user's own organisations, so another organisation's id is a 404.
RECORD_ACHIEVEMENT = "achievement.view_record_achievement"


def _record_url(*, financial_year_id=None, service_id=None) -> str:
    params = {k: v for k, v in (("financial_year", financial_year_id), ("service", service_id)) if v}
    url = reverse("achievement:record_achievement")
    return f"{url}?{urlencode(params)}" if params else url


def _entry_providers(*, user, service):
    """The user's organisations that may Add New Achievement for the service: Achievement Entry
    there, and taking part (a Network Contract DES achievement is the PCN's)."""
    ids = permissions.organisation_ids_with_role(user, achievement_rules.ENTRY_ROLES)
    candidates = Organisation.objects.filter(pk__in=ids).providers().order_by("name")
    return [p for p in candidates if services.provider_takes_part(service=service, provider=p)]


class RecordAchievementView(RoleRequiredMixin, TemplateView):
    """Record Achievement: Financial Year and Quality Service filters, the achievement panel of
    every achievement recorded for the service, the Achievement Date drop-down (payment dates
    highlighted yellow beside it) and Add New Achievement."""

    permission = RECORD_ACHIEVEMENT
    template_name = "achievement/record_achievement.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        years = selectors.record_financial_year_list(user=user)
        year = _pick(years, self.request.GET.get("financial_year"))
        if year is None:
            current = FinancialYear.current()
            year = next((y for y in years if current and y.pk == current.pk), None) or years.first()
        services_qs = selectors.record_service_list(user=user, financial_year=year)
        service = _pick(services_qs, self.request.GET.get("service"))
        if service is None and len(services_qs) == 1:
            service = services_qs.first()
        filter_form = RecordAchievementFilterForm(
            initial={"financial_year": year, "service": service},
            financial_years=years,
            services=services_qs,
        )
        context.update(page_title="Record Achievement", filter_form=filter_form, financial_year=year, service=service)
        if service is None:
            return context
        achievements = list(selectors.record_achievement_list(user=user, service=service))
        dates = list(service.achievement_dates.order_by("date"))
        recorded = {a.achievement_date_id for a in achievements}
        providers = _entry_providers(user=user, service=service)
        add_form = None
        if providers:
            add_form = AddAchievementForm(
                achievement_dates=service.achievement_dates.order_by("date"),
                providers=Organisation.objects.filter(pk__in=[p.pk for p in providers]),
                initial={"provider": providers[0]},
            )
        context.update(
            panel_rows=presenters.achievement_panel_rows(achievements),
            date_rows=[
                presenters.DateRow(f"{d.date:%d/%m/%Y}", d.is_payment_date, d.pk in recorded) for d in dates
            ],
            add_form=add_form,
            several_providers=len(providers) > 1,
            single_provider=providers[0] if len(providers) == 1 else None,
            cannot_add_reason=None if providers else _cannot_add_reason(user=user, service=service),
        )
        return context


def _pick(queryset, raw):
    number = id_or_none(raw)  # a 30-digit id is no id, as "abc" is
    return queryset.filter(pk=number).first() if number is not None else None


def _cannot_add_reason(*, user, service) -> str:
    if not permissions.has_any_role(user, achievement_rules.ENTRY_ROLES):
        return entry_rules.VIEW_ONLY
    if service.provider_level == ProviderLevel.PCN:
        return entry_rules.NCD_AT_PRACTICE
    return "None of your organisations with the Achievement Entry role takes part in this Quality Service."


class AddAchievementView(RoleRequiredMixin, View):
    """Add New Achievement: the achievement for the selected date, created when absent."""

    permission = RECORD_ACHIEVEMENT
    http_method_names = ["post"]

    def post(self, request):
        user = request.user
        service = _pick(selectors.record_service_list(user=user), request.POST.get("service"))
        if service is None:
            raise NotFound("No such Quality Service")
        back = _record_url(financial_year_id=service.financial_year_id, service_id=service.pk)
        providers = _entry_providers(user=user, service=service)
        form = AddAchievementForm(
            request.POST,
            achievement_dates=service.achievement_dates.all(),
            providers=Organisation.objects.filter(pk__in=[p.pk for p in providers]),
        )
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, errors[0])
                break
            return HttpResponseRedirect(back)
        try:
            achievement, created = services.achievement_add(
                user=user,
                provider_id=form.cleaned_data["provider"].pk,
                achievement_date_id=form.cleaned_data["achievement_date"].pk,
            )
        except services.AchievementEntryError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(back)
        date = f"{achievement.achievement_date.date:%d/%m/%Y}"
        if created:
            messages.success(request, f"The achievement for {date} has been added.")
        else:
            messages.info(request, f"An achievement for {date} is already recorded: it is shown here.")
        return redirect("achievement:record_achievement_detail", achievement_id=achievement.pk)


class ShowAchievementView(RoleRequiredMixin, TemplateView):
    """An achievement: a summary of all its Indicator Groups by domain and sub-domain, each with
    its indicators submitted ("2 of 2"), the incomplete ones flagged with a link to the group
    (the missing-data check); the calculated payment."""

    permission = RECORD_ACHIEVEMENT
    template_name = "achievement/achievement_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        achievement = selectors.record_achievement_get(user=user, achievement_id=self.kwargs["achievement_id"])
        groups, indicators = selectors.service_catalogue(service_id=achievement.service_id)
        counts = selectors.completeness(achievement=achievement, groups=groups, indicators=indicators)
        calculation = selectors.achievement_calculation(achievement=achievement)
        summary = presenters.achievement_summary(
            achievement=achievement,
            groups=groups,
            counts=counts,
            calculation=calculation,
            show_money=permissions.can_see_money(user, achievement.provider),
        )
        submissions = selectors.submission_list(achievement_id=achievement.pk)
        last = next((s for s in submissions if s.is_current), None)
        wip = next((s for s in submissions if s.status == SubmissionStatus.WORK_IN_PROGRESS), None)
        context.update(
            page_title=f"{achievement.service.name}: {achievement.achievement_date.date:%d/%m/%Y}",
            achievement=achievement,
            summary=summary,
            last_submission=last,
            work_in_progress=wip,
            read_only_reason=entry_rules.achievement_entry_blocked_reason(user=user, achievement=achievement),
            breadcrumbs=[
                (
                    "Record Achievement",
                    _record_url(
                        financial_year_id=achievement.service.financial_year_id, service_id=achievement.service_id
                    ),
                )
            ],
        )
        return context


class ShowGroupView(RoleRequiredMixin, TemplateView):
    """An Indicator Group of an achievement: each indicator's fields with the current value and
    a New Values field where entry or adjustment is allowed (elsewhere read-only, saying why),
    the tick-box drop-downs, the submission notes of earlier submissions for the same date, and
    Save Work in Progress / Submit Achievement Data.  A fixed number of queries whatever the
    number of indicators."""

    permission = RECORD_ACHIEVEMENT
    template_name = "achievement/group_detail.html"

    def _load(self):
        user = self.request.user
        self.achievement = selectors.record_achievement_get(user=user, achievement_id=self.kwargs["achievement_id"])
        self.group = selectors.group_get(achievement=self.achievement, group_id=self.kwargs["group_id"])
        self.indicators = selectors.group_indicators(group_id=self.group.pk)
        self.data = selectors.entry_data(achievement=self.achievement, indicators=self.indicators)
        self.field_states, self.tick_box_states, self.read_only_reason = entry_rules.entry_states(
            user=user, data=self.data
        )

    def _form(self, data=None):
        return GroupValuesForm(
            data,
            states=self.field_states,
            indicators=self.indicators,
            base_values=self.data.current_values,
            limits=None if data is None else selectors.value_limits(achievement=self.achievement),
            initial={
                "notes": self.data.wip.notes if self.data.wip else "",
                **{s.name: s.wip for s in self.field_states if s.editable and s.wip is not None},
            },
        )

    def get(self, request, *args, **kwargs):
        self._load()
        return self.render_to_response(self.get_context_data(form=self._form()))

    def post(self, request, *args, **kwargs):
        self._load()
        action = request.POST.get("action")
        if action not in ("wip", "submit"):
            raise NotFound("No such action")
        form = self._form(request.POST)
        if not any(s.editable for s in self.field_states):
            raise NotAllowed(self.read_only_reason or "These values are read-only.")
        if form.is_valid():
            try:
                services.achievement_values_save(
                    user=request.user,
                    achievement_id=self.achievement.pk,
                    group_id=self.group.pk,
                    values=form.new_values(),
                    notes=form.cleaned_data["notes"],
                    submit=action == "submit",
                )
            except services.AchievementEntryError as error:
                form.add_error(None, error.message)
            else:
                if action == "submit":
                    messages.success(request, SUBMITTED)
                    return redirect("achievement:record_achievement_detail", achievement_id=self.achievement.pk)
                messages.success(request, SAVED_AS_WORK_IN_PROGRESS)
                return redirect("achievement:group_detail", achievement_id=self.achievement.pk, group_id=self.group.pk)
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(**kwargs)
        achievement = self.achievement
        context.update(
            page_title=f"{self.group.name}: {achievement.achievement_date.date:%d/%m/%Y}",
            achievement=achievement,
            group=self.group,
            form=form,
            blocks=presenters.indicator_blocks(
                achievement=achievement,
                indicators=self.indicators,
                field_states=self.field_states,
                tick_box_states=self.tick_box_states,
                form=form,
            ),
            can_save=any(s.editable for s in self.field_states),
            read_only_reason=self.read_only_reason,
            work_in_progress=self.data.wip,
            history=presenters.history_rows(self.data.submissions),
            breadcrumbs=[
                (
                    "Record Achievement",
                    _record_url(
                        financial_year_id=achievement.service.financial_year_id, service_id=achievement.service_id
                    ),
                ),
                (
                    f"{achievement.achievement_date.date:%d/%m/%Y}",
                    reverse("achievement:record_achievement_detail", args=[achievement.pk]),
                ),
            ],
        )
        return context


# The job aids: "CQRS will display confirmation that the achievement has been saved as work in
# progress or that it has been successfully submitted."
SAVED_AS_WORK_IN_PROGRESS = "The achievement has been saved as work in progress."
SUBMITTED = "The achievement data have been successfully submitted."


class SetTickBoxView(RoleRequiredMixin, View):
    """The tick-box drop-down: Yes or No for the achievement date (PCN user; recalculates)."""

    permission = RECORD_ACHIEVEMENT
    http_method_names = ["post"]

    def post(self, request, achievement_id: int, indicator_id: int):
        achievement = selectors.record_achievement_get(user=request.user, achievement_id=achievement_id)
        indicator = (
            Indicator.objects.filter(
                pk=indicator_id, service_id=achievement.service_id, kind__in=entry_rules.TICK_BOX_KINDS
            )
            .first()
        )
        if indicator is None:
            raise NotFound("No such tick-box indicator")
        back = reverse("achievement:group_detail", args=[achievement.pk, indicator.group_id])
        form = TickBoxForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Select Yes or No")
            return HttpResponseRedirect(back)
        value = form.cleaned_data["value"]
        try:
            services.tick_box_set(
                user=request.user,
                provider_id=entry_rules.tick_box_provider_id(achievement),
                indicator_id=indicator.pk,
                achievement_date_id=achievement.achievement_date_id,
                value=value,
            )
        except services.AchievementEntryError as error:
            messages.info(request, error.message)
        else:
            messages.success(
                request, f"{indicator.code} has been changed to {'Yes' if value else 'No'}; the payment is recalculated."
            )
        return HttpResponseRedirect(back)
