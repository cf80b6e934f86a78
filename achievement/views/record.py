"""Data Submission > Record Achievement: the provider enters and submits its achievement data."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from accounts import permissions
from accounts.errors import NotAllowed, NotFound
from accounts.inputs import id_or_none
from accounts.mixins import RoleRequiredMixin
from accounts.models import Organisation
from achievement import commissioner_selectors, entry_rules, presenters, selectors, services
from achievement import rules as achievement_rules
from achievement.forms import AddAchievementForm, GroupValuesForm, RecordAchievementFilterForm, TickBoxForm
from achievement.models import SubmissionSource, SubmissionStatus
from participation.models import FinancialYear, Indicator, ProviderLevel


def _achievement_add(request, *, form, back: str, add, detail: str):
    """Add New Achievement, for the provider or the commissioner (``add``: their use case): the
    form's first error, or the achievement added (or already recorded) and shown (``detail``)."""
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
            break
        return HttpResponseRedirect(back)
    try:
        achievement, created = add(
            user=request.user,
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
    return redirect(detail, achievement_id=achievement.pk)


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
        return _achievement_add(
            request, form=form, back=back, add=services.achievement_add, detail="achievement:record_achievement_detail"
        )


class ShowAchievementView(RoleRequiredMixin, TemplateView):
    """An achievement: a summary of all its Indicator Groups by domain and sub-domain, each with
    its indicators submitted ("2 of 2"), the incomplete ones flagged with a link to the group
    (the missing-data check); the calculated payment."""

    permission = RECORD_ACHIEVEMENT
    template_name = "achievement/achievement_detail.html"
    screens = presenters.PROVIDER_SCREENS

    def get_achievement(self):
        return selectors.record_achievement_get(user=self.request.user, achievement_id=self.kwargs["achievement_id"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        screens = self.screens
        achievement = self.get_achievement()
        groups, indicators = selectors.service_catalogue(service_id=achievement.service_id)
        counts = selectors.completeness(achievement=achievement, groups=groups, indicators=indicators)
        paid_to_pcn = selectors.paid_to_pcn(achievement=achievement)
        summary = presenters.achievement_summary(
            achievement=achievement,
            groups=groups,
            counts=counts,
            calculation=None if paid_to_pcn[0] else selectors.achievement_calculation(achievement=achievement),
            show_money=permissions.can_see_money(user, achievement.provider),
            screens=screens,
            paid_to_pcn=paid_to_pcn,
        )
        submissions = selectors.submission_list(achievement_id=achievement.pk)
        last = next((s for s in submissions if s.is_current), None)
        wip_source = SubmissionSource.COMMISSIONER if screens.commissioner else SubmissionSource.MANUAL
        wip = next(
            (s for s in submissions if s.status == SubmissionStatus.WORK_IN_PROGRESS and s.source == wip_source), None
        )
        context.update(
            page_title=f"{achievement.service.name}: {achievement.achievement_date.date:%d/%m/%Y}",
            achievement=achievement,
            summary=summary,
            last_submission=last,
            work_in_progress=wip,
            commissioner_entries=commissioner_selectors.commissioner_entry_codes(achievement_id=achievement.pk),
            screens=screens,
            read_only_reason=entry_rules.achievement_entry_blocked_reason(
                user=user, achievement=achievement, commissioner=screens.commissioner
            ),
            breadcrumbs=[(screens.list_label, screens.list_url(achievement))],
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
    screens = presenters.PROVIDER_SCREENS
    save = staticmethod(services.achievement_values_save)

    def get_achievement(self):
        return selectors.record_achievement_get(user=self.request.user, achievement_id=self.kwargs["achievement_id"])

    def _load(self):
        user = self.request.user
        commissioner = self.screens.commissioner
        self.achievement = self.get_achievement()
        self.group = selectors.group_get(achievement=self.achievement, group_id=self.kwargs["group_id"])
        self.indicators = selectors.group_indicators(group_id=self.group.pk)
        self.data = selectors.entry_data(
            achievement=self.achievement,
            indicators=self.indicators,
            wip_source=SubmissionSource.COMMISSIONER if commissioner else SubmissionSource.MANUAL,
        )
        self.field_states, self.tick_box_states, self.read_only_reason = entry_rules.entry_states(
            user=user, data=self.data, commissioner=commissioner
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
                self.save(
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
                    return redirect(self.screens.detail, achievement_id=self.achievement.pk)
                messages.success(request, SAVED_AS_WORK_IN_PROGRESS)
                return redirect(self.screens.group, achievement_id=self.achievement.pk, group_id=self.group.pk)
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(**kwargs)
        achievement = self.achievement
        screens = self.screens
        context.update(
            page_title=f"{self.group.name}: {achievement.achievement_date.date:%d/%m/%Y}",
            achievement=achievement,
            group=self.group,
            form=form,
            screens=screens,
            blocks=presenters.indicator_blocks(
                achievement=achievement,
                indicators=self.indicators,
                field_states=self.field_states,
                tick_box_states=self.tick_box_states,
                form=form,
                screens=screens,
            ),
            can_save=any(s.editable for s in self.field_states),
            read_only_reason=self.read_only_reason,
            work_in_progress=self.data.wip,
            history=presenters.history_rows(self.data.submissions),
            breadcrumbs=[
                (screens.list_label, screens.list_url(achievement)),
                (
                    f"{achievement.achievement_date.date:%d/%m/%Y}",
                    reverse(screens.detail, args=[achievement.pk]),
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
    screens = presenters.PROVIDER_SCREENS

    def get_achievement(self, achievement_id: int):
        return selectors.record_achievement_get(user=self.request.user, achievement_id=achievement_id)

    def post(self, request, achievement_id: int, indicator_id: int):
        achievement = self.get_achievement(achievement_id)
        indicator = (
            Indicator.objects.filter(
                pk=indicator_id, service_id=achievement.service_id, kind__in=entry_rules.TICK_BOX_KINDS
            )
            .first()
        )
        if indicator is None:
            raise NotFound("No such tick-box indicator")
        back = reverse(self.screens.group, args=[achievement.pk, indicator.group_id])
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
