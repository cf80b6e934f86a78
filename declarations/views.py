"""The Achievement tab: Achievement Results, Declare, Declaration Management and a declaration's
page.  Thin: forms validate, selectors read (scoped to the user's organisations), services write,
presenters prepare what the templates show."""

from __future__ import annotations

import csv
import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.generic import TemplateView, View

from accounts import permissions
from achievement import rules as achievement_rules
from achievement import selectors as achievement_selectors
from achievement import services as achievement_services
from participation.models import Indicator, ProviderLevel

from . import rules, selectors, services
from .forms import (
    STATUS_ALL,
    AchievementResultsFilterForm,
    CommissionerTickBoxForm,
    DeclarationManagementFilterForm,
    DeclarationSelectionForm,
    DeclareForm,
)
from .models import DeclarationStatus
from .presenters import AchievementResults, declaration_row, money, status_tag_class

RESULTS_PER_PAGE = 50


class _ResultsRoleRequiredMixin:
    """Achievement Results are for the Achievement tab's readers, provider and commissioner."""

    def dispatch(self, request, *args, **kwargs):
        if not permissions.has_any_role(request.user, selectors.RESULTS_ROLES):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ListAchievementResultsView(_ResultsRoleRequiredMixin, TemplateView):
    """Achievement Results: the calculated achievements the user may see, filtered by financial
    year, Quality Service, Service Provider and achievement date."""

    template_name = "declarations/achievement_results.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if self.request.GET:
            form = AchievementResultsFilterForm(self.request.GET, user=user)
            form.is_valid()  # an invalid choice is shown as an error and ignored
            filters = {name: form.cleaned_data.get(name) for name in form.fields}
        else:
            year = selectors.financial_year_default()
            form = AchievementResultsFilterForm(initial={"financial_year": year}, user=user)
            filters = {"financial_year": year}
        page = Paginator(selectors.achievement_list(user=user, **filters), RESULTS_PER_PAGE).get_page(
            self.request.GET.get("page")
        )
        rows = []
        for achievement in page:
            calculation = getattr(achievement, "calculation", None)
            show_money = permissions.can_see_money(user, achievement.provider)
            rows.append(
                {
                    "achievement": achievement,
                    "calculation": calculation,
                    "points": None if calculation is None else f"{calculation.total_points:.2f}",
                    "amount": money(calculation.total_amount) if calculation and show_money else None,
                    "url": reverse("declarations:achievement_results", args=[achievement.pk]),
                }
            )
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            page_title="Achievement Results",
            filter_form=form,
            page=page,
            rows=rows,
            any_money=any(row["amount"] is not None for row in rows),
            query=query.urlencode(),
        )
        return context


class ShowAchievementResultsView(_ResultsRoleRequiredMixin, TemplateView):
    """One achievement's results: per indicator, achievement against the thresholds, points,
    £ (for roles that may see money), patients still needed for the upper threshold and the £ at
    stake, with a chart; totals; marked provisional.  404 for a provider the user cannot see."""

    template_name = "declarations/achievement_result.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        achievement = selectors.achievement_get(user=user, achievement_id=self.kwargs["achievement_id"])
        calculation = getattr(achievement, "calculation", None)
        results = None
        if calculation is not None:
            results = AchievementResults.build(
                calculation=calculation,
                results=selectors.indicator_result_list(calculation=calculation),
                show_money=permissions.can_see_money(user, achievement.provider),
            )
        list_url = reverse("declarations:results")
        context.update(
            page_title=f"Achievement Results: {achievement.provider.name}",
            achievement=achievement,
            results=results,
            breadcrumbs=[
                ("Home", reverse("home")),
                (
                    "Achievement Results",
                    f"{list_url}?service={achievement.service_id}&provider={achievement.provider_id}"
                    f"&financial_year={achievement.service.financial_year_id}",
                ),
            ],
        )
        return context


# --- Declarations: Declare (provider), Declaration Management (commissioner), a declaration ------

# Job aid "approving declarations", step 5: "CQRS displays a confirmation message that the
# payment declaration has been successfully approved."
APPROVED_ONE = "The payment declaration has been successfully approved."
APPROVED_MANY = "The payment declarations have been successfully approved."
DECLARED = "The achievement and payment have been successfully declared."
CSV_COLUMNS = (
    "Quality Service",
    "Service Provider",
    "ODS Code",
    "PCN",
    "Achievement Date",
    "Status",
    "Points",
    "Calculated Amount",
    "Amount Declared",
    "Amount Approved",
    "Amount Financially Approved",
)


class _DeclareRoleRequiredMixin:
    """Declare is for the providers' Declaration Management users."""

    def dispatch(self, request, *args, **kwargs):
        if not rules.can_declare_anything(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class _ManagementRoleRequiredMixin:
    """Declaration Management is for the commissioners' Approval and Finance Management users."""

    def dispatch(self, request, *args, **kwargs):
        if not rules.can_manage_declarations(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ListDeclarationsToDeclareView(_DeclareRoleRequiredMixin, TemplateView):
    """Achievement > Declare: the achievements awaiting the provider's approval (declaration),
    and those it has declared with their status."""

    template_name = "declarations/declare.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user

        def rows(declarations):
            return [
                declaration_row(
                    d,
                    url=reverse("declarations:declaration_detail", args=[d.pk]),
                    show_money=permissions.can_see_money(user, d.provider),
                )
                for d in declarations
            ]

        context.update(
            page_title="Declare",
            to_declare=rows(selectors.declarations_to_declare(user=user)),
            declared=rows(selectors.declarations_declared(user=user)[:100]),
        )
        return context


def _management_filters(request) -> tuple[DeclarationManagementFilterForm, str | None, object]:
    """The filter form and the (status, service) it selects; by default the rows waiting for the
    user: Awaiting Commissioning Organisation Approval for Approval Management, else Awaiting
    Finance Approval."""
    user = request.user
    if "status" in request.GET or "service" in request.GET:
        form = DeclarationManagementFilterForm(request.GET, user=user)
        form.is_valid()
        status = form.cleaned_data.get("status") or STATUS_ALL
        service = form.cleaned_data.get("service")
    else:
        status = (
            DeclarationStatus.AWAITING_COMMISSIONER
            if permissions.has_any_role(user, rules.APPROVE_ROLES)
            else DeclarationStatus.AWAITING_FINANCE
        )
        service = None
        form = DeclarationManagementFilterForm(initial={"status": status}, user=user)
    return form, (None if status == STATUS_ALL else status), service


def _row_action(user, declaration) -> str:
    """What this user's Approve does to the row: approve, finance-approve, or nothing."""
    if declaration.status == DeclarationStatus.AWAITING_COMMISSIONER:
        return "approve" if rules.approve_refused_reason(user, declaration) is None else ""
    if declaration.status == DeclarationStatus.AWAITING_FINANCE:
        return "finance_approve" if rules.finance_approve_refused_reason(user, declaration) is None else ""
    return ""


class DeclarationManagementView(_ManagementRoleRequiredMixin, TemplateView):
    """Achievement > Declaration Management (job aid "approving declarations"): the Status and
    Quality Service filters, a checkbox per row and Select All, Approve; totals of the filtered
    rows; export as CSV.  A fixed number of queries whatever the number of rows."""

    template_name = "declarations/declaration_management.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form, status, service = _management_filters(self.request)
        declarations = selectors.declaration_management_list(user=user, status=status, service=service)
        rows = [
            declaration_row(
                d,
                url=reverse("declarations:declaration_detail", args=[d.pk]),
                show_money=True,  # Approval and Finance Management may see money
                action=_row_action(user, d),
            )
            for d in declarations
        ]
        totals = selectors.declaration_totals(declarations=declarations)
        query = self.request.GET.urlencode() or f"status={status or STATUS_ALL}"
        context.update(
            page_title="Declaration Management",
            filter_form=form,
            rows=rows,
            any_selectable=any(row.selectable for row in rows),
            totals={key: money(value) if key != "count" else value for key, value in totals.items()},
            export_url=f"{reverse('declarations:export_declarations')}?{query}",
            query=query,
        )
        return context


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP "CSV injection"): one that
    starts like a formula is prefixed with an apostrophe.  Amounts are written as numbers."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


class ExportDeclarationsView(_ManagementRoleRequiredMixin, View):
    """The filtered Declaration Management list as CSV."""

    def get(self, request):
        _, status, service = _management_filters(request)
        declarations = selectors.declaration_management_list(
            user=request.user, status=status, service=service
        ).select_related("provider__pcn")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="declarations.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)

        def amount(value):
            return "" if value is None else f"{value:.2f}"

        for d in declarations.iterator(chunk_size=2000):
            writer.writerow(
                [
                    _csv_text(d.service.code),
                    _csv_text(d.provider.name),
                    _csv_text(d.provider.ods_code),
                    _csv_text(d.provider.pcn.ods_code) if d.provider.pcn_id else "",
                    f"{d.achievement_date.date:%d/%m/%Y}",
                    d.get_status_display(),
                    f"{d.calculation.total_points:.2f}",
                    amount(d.calculation.total_amount),
                    amount(d.amount_declared),
                    amount(d.amount_approved),
                    amount(d.amount_finance_approved),
                ]
            )
        return response


class ApproveDeclarationsView(_ManagementRoleRequiredMixin, View):
    """Approve on the ticked rows: Approval Management approves those Awaiting Commissioning
    Organisation Approval, Finance Management finance-approves those Awaiting Finance Approval;
    all in one transaction, every row or none."""

    http_method_names = ["post"]

    def post(self, request):
        back = request.POST.get("back") or ""
        if not back.startswith("/declarations/") or back.startswith("//"):  # only back to this app's pages
            back = reverse("declarations:declaration_management")
        form = DeclarationSelectionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Select at least one declaration.")
            return HttpResponseRedirect(back)
        ids = set(form.cleaned_data["declarations"])
        statuses = dict(
            selectors.declaration_management_list(user=request.user)
            .filter(pk__in=ids)
            .values_list("pk", "status")
        )
        if len(statuses) != len(ids):
            raise Http404("No such declaration")  # another organisation's: as if it did not exist
        to_approve = [pk for pk, status in statuses.items() if status != DeclarationStatus.AWAITING_FINANCE]
        to_finance = [pk for pk, status in statuses.items() if status == DeclarationStatus.AWAITING_FINANCE]
        try:
            with transaction.atomic():
                if to_approve:
                    services.declarations_approve(declaration_ids=to_approve, user=request.user)
                if to_finance:
                    services.declarations_finance_approve(declaration_ids=to_finance, user=request.user)
        except Http404:
            raise
        except services.DeclarationError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(back)
        messages.success(request, APPROVED_ONE if len(ids) == 1 else APPROVED_MANY)
        return HttpResponseRedirect(back)


class ShowDeclarationView(TemplateView):
    """A declaration: its status, the amounts declared and approved, the Achievement Summary
    (indicators, points, £), the submission notes, the transition history; Declare Achievement
    for the provider, Approve for the commissioner, and the commissioner's tick-box control for
    a PCN-level service.  404 for a provider the user cannot see."""

    template_name = "declarations/declaration_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        declaration = selectors.declaration_get(user=user, declaration_id=self.kwargs["declaration_id"])
        show_money = permissions.can_see_money(user, declaration.provider)
        calculation = declaration.calculation
        results = AchievementResults.build(
            calculation=calculation,
            results=selectors.indicator_result_list(calculation=calculation),
            show_money=show_money,
        )
        can_declare = (
            declaration.status == DeclarationStatus.AWAITING_PROVIDER
            and rules.declare_refused_reason(user, declaration) is None
        )
        action = _row_action(user, declaration)
        context.update(
            page_title=f"Declaration: {declaration.provider.name}",
            declaration=declaration,
            status_tag=status_tag_class(declaration.status),
            show_money=show_money,
            amounts={
                "calculated": money(calculation.total_amount),
                "declared": money(declaration.amount_declared),
                "approved": money(declaration.amount_approved),
                "finance_approved": money(declaration.amount_finance_approved),
            },
            results=results,
            transitions=[
                {
                    "at": t.at,
                    "from": DeclarationStatus(t.from_status).label if t.from_status else "",
                    "to": DeclarationStatus(t.to_status).label,
                    "by": t.by.get_full_name() if t.by else "CQRS",
                    "note": t.note if show_money else _without_money(t.note),
                    "amount": money(t.amount) if show_money and t.amount is not None else None,
                }
                for t in selectors.declaration_transitions(declaration=declaration)
            ],
            submissions=[
                s for s in achievement_selectors.submission_list(achievement_id=declaration.achievement_id) if s.notes
            ],
            can_declare=can_declare,
            declare_form=DeclareForm() if can_declare else None,
            approve_action=action,
            tick_boxes=_tick_box_controls(user, declaration),
            breadcrumbs=[("Home", reverse("home")), *_declaration_breadcrumb(user)],
        )
        return context


# "£1,234.56", "-£12.00": the amounts a recalculation's note quotes (workflow.money).
_AMOUNT = re.compile(r"-?£[\d,]+(?:\.\d+)?")
AMOUNT_HIDDEN = "[amount hidden]"


def _without_money(note: str) -> str:
    """A transition note for a role that may not see money: its amounts hidden, the rest kept."""
    return _AMOUNT.sub(AMOUNT_HIDDEN, note)


def _declaration_breadcrumb(user) -> list[tuple[str, str]]:
    if rules.can_manage_declarations(user):
        return [("Declaration Management", reverse("declarations:declaration_management"))]
    if rules.can_declare_anything(user):
        return [("Declare", reverse("declarations:declare"))]
    return [("Achievement Results", reverse("declarations:results"))]


def _tick_box_controls(user, declaration) -> list[dict]:
    """The tick-box indicators of a PCN-level service: each answer and whether this user may
    change it (the PCN until it declares, the commissioner until finance approval)."""
    if declaration.service.provider_level != ProviderLevel.PCN:
        return []
    indicators = list(
        Indicator.objects.filter(service_id=declaration.service_id, kind__in=achievement_rules.TICK_BOX_KINDS).order_by(
            "group__position", "position"
        )
    )
    if not indicators:
        return []
    answers = achievement_selectors.tick_box_values(
        provider_id=declaration.provider_id,
        achievement_date_id=declaration.achievement_date_id,
        indicator_ids=[i.pk for i in indicators],
    )
    is_commissioner = permissions.can_act_as_commissioner(
        user, declaration.provider, achievement_rules.COMMISSIONER_TICK_BOX_ROLES
    )
    controls = []
    for indicator in indicators:
        reason = achievement_rules.tick_box_blocked_reason(
            user=user, provider=declaration.provider, indicator=indicator, achievement=declaration.achievement
        )
        controls.append(
            {
                "indicator": indicator,
                "value": answers.get(indicator.code, False),
                # Only the commissioner changes it here; the PCN uses Data Submission.
                "editable": reason is None and is_commissioner,
                "reason": reason,
            }
        )
    return controls


class DeclareAchievementView(View):
    """Declare Achievement: the confirmation step ("Are you sure...?"), then the declaration."""

    http_method_names = ["post"]

    def post(self, request, declaration_id: int):
        declaration = selectors.declaration_get(user=request.user, declaration_id=declaration_id)
        back = reverse("declarations:declaration_detail", args=[declaration.pk])
        form = DeclareForm(request.POST)
        if not form.is_valid():
            messages.error(request, next(iter(form.errors.values()))[0])
            return HttpResponseRedirect(back)
        note = form.cleaned_data["note"]
        if request.POST.get("confirm") != "yes":
            if rules.declare_refused_reason(request.user, declaration) is not None:
                raise PermissionDenied
            return TemplateResponse(
                request,
                "declarations/confirm_declare.html",
                {
                    "page_title": "Are you sure you want to declare this achievement and payment?",
                    "declaration": declaration,
                    "amount": money(declaration.calculation.total_amount)
                    if permissions.can_see_money(request.user, declaration.provider)
                    else None,
                    "points": f"{declaration.calculation.total_points:.2f}",
                    "note": note,
                    "back": back,
                },
            )
        try:
            services.declaration_declare(declaration_id=declaration.pk, user=request.user, note=note)
        except Http404:
            raise
        except services.DeclarationError as error:
            if isinstance(error, PermissionDenied):
                raise
            messages.error(request, error.message)
            return HttpResponseRedirect(back)
        messages.success(request, DECLARED)
        return redirect("declarations:declare")


class SetDeclarationTickBoxView(View):
    """The commissioner's tick-box drop-down on a declaration page (tick-box job aid, point 7):
    changes the answer until the payment is financially approved, and recalculates."""

    http_method_names = ["post"]

    def post(self, request, declaration_id: int):
        declaration = selectors.declaration_get(user=request.user, declaration_id=declaration_id)
        back = reverse("declarations:declaration_detail", args=[declaration.pk])
        form = CommissionerTickBoxForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Select Yes or No")
            return HttpResponseRedirect(back)
        indicator = Indicator.objects.filter(
            pk=form.cleaned_data["indicator"],
            service_id=declaration.service_id,
            kind__in=achievement_rules.TICK_BOX_KINDS,
        ).first()
        if indicator is None:
            raise Http404("No such tick-box indicator")
        if not permissions.can_act_as_commissioner(
            request.user, declaration.provider, achievement_rules.COMMISSIONER_TICK_BOX_ROLES
        ):
            raise PermissionDenied
        value = form.cleaned_data["value"]
        try:
            achievement_services.tick_box_set(
                user=request.user,
                provider_id=declaration.provider_id,
                indicator_id=indicator.pk,
                achievement_date_id=declaration.achievement_date_id,
                value=value,
            )
        except achievement_services.AchievementEntryError as error:
            messages.info(request, error.message)
        except PermissionDenied as error:
            messages.error(request, str(error) or "You cannot change this tick-box.")
        else:
            messages.success(
                request,
                f"{indicator.code} has been changed to {'Yes' if value else 'No'}; the payment is recalculated.",
            )
        return HttpResponseRedirect(back)
