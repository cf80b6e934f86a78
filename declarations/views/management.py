"""Achievement > Declaration Management (commissioner, job aid "approving declarations"): the
filtered list with its totals, Approve on the ticked rows, and the list as CSV."""

from __future__ import annotations

import csv
from dataclasses import replace
from decimal import Decimal

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import empty
from django.views.generic import TemplateView, View

from accounts import permissions
from accounts.errors import NotAllowed
from accounts.formatting import money
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from accounts.models import Role
from accounts.stencils import render_rows
from declarations import claims, rules, selectors, services
from declarations.aspiration.selectors import PaidByDate
from declarations.forms import STATUS_ALL, DeclarationManagementFilterForm, DeclarationSelectionForm
from declarations.models import DeclarationStatus
from declarations.presenters import declaration_management_rows, declaration_management_totals
from participation.national import national_figures_pending_pairs

# Job aid "approving declarations", step 5: "CQRS displays a confirmation message that the
# payment declaration has been successfully approved."
APPROVED_ONE = "The payment declaration has been successfully approved."
APPROVED_MANY = "The payment declarations have been successfully approved."
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
    "Aspiration Paid",
    "Balance",
)


def _management_filters(request) -> tuple[DeclarationManagementFilterForm, str | None, dict]:
    """The filter form, the status it selects and the other filters (service, cluster); by
    default the rows waiting for the user: Awaiting Commissioning Organisation Approval for
    Approval Management, else Awaiting Finance Approval."""
    user = request.user
    cluster = None
    if any(name in request.GET for name in ("status", "service", "cluster", "month")):
        form = DeclarationManagementFilterForm(request.GET, user=user)
        form.is_valid()
        status = form.cleaned_data.get("status") or STATUS_ALL
        service = form.cleaned_data.get("service")
        cluster = form.cleaned_data.get("cluster")
    else:
        status = (
            DeclarationStatus.AWAITING_COMMISSIONER
            if permissions.has_any_role(user, rules.APPROVE_ROLES)
            else DeclarationStatus.AWAITING_FINANCE
        )
        service = None
        form = DeclarationManagementFilterForm(initial={"status": status}, user=user)
    return form, (None if status == STATUS_ALL else status), {"service": service, "cluster": cluster}


def _month(form) -> str | None:
    """The Month filter (issue 16): a month of the monthly services ("2024-10"), or None."""
    return (form.cleaned_data.get("month") or None) if form.is_bound else None


def _unwrapped(user):
    """``request.user`` without its lazy proxy: the rules read the user's memberships for every
    row, and each attribute read through ``SimpleLazyObject`` is a call of its own."""
    wrapped = getattr(user, "_wrapped", None)
    return user if wrapped is None or wrapped is empty else wrapped


def _detail_url():
    """A row's link, ``declarations:declaration_detail``: reversed once, not once a row."""
    marker = 987654321
    before, after = reverse("declarations:declaration_detail", args=[marker]).split(str(marker))
    return lambda pk: f"{before}{pk}{after}"


class ListDeclarationsToManageView(RoleRequiredMixin, TemplateView):
    """Achievement > Declaration Management (job aid "approving declarations"): the Status and
    Quality Service filters (and the Cluster, issue 14), a checkbox per row and Select All,
    Approve; totals of the filtered rows; export as CSV.  A fixed number of queries whatever the
    number of rows.

    Every row is on the page (the job aid's Select All approves them all): for an ICB of 400
    practices the rows are read as values, not models (``selectors.declaration_management_rows``),
    and rendered from their template by ``accounts.stencils`` (ADR 0018)."""

    permission = "declarations.manage_declarations"
    template_name = "declarations/declaration_management.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = _unwrapped(self.request.user)
        form, status, filters = _management_filters(self.request)
        declarations = claims.in_month(
            selectors.declaration_management_list(user=user, status=status, **filters), _month(form)
        )
        values = list(selectors.declaration_management_rows(declarations=declarations))
        rows = declaration_management_rows(
            values, url=_detail_url(), action=lambda facts: rules.approve_action(user, facts)
        )
        rows, aspiration_totals = _with_aspiration(rows, values)
        totals = {**declaration_management_totals(values), **aspiration_totals}
        any_selectable = any(row.selectable for row in rows)
        query = self.request.GET.urlencode() or f"status={status or STATUS_ALL}"
        # Payments still on the definition's national figures (issue 13): said above the list.
        pending = national_figures_pending_pairs(pairs={(v["service_id"], v["achievement_date_id"]) for v in values})
        provisional = sorted(
            {f"{v['service__name']}, {v['achievement_date__date']:%d/%m/%Y}" for v in values
             if (v["service_id"], v["achievement_date_id"]) in pending}
        )
        context.update(
            page_title="Declaration Management",
            filter_form=form,
            rows=rows,
            rows_html=render_rows(
                "declarations/_declaration_management_row.html",
                rows,
                shape=("selectable", "status_key"),
                context={"any_selectable": any_selectable},
            ),
            any_selectable=any_selectable,
            totals={key: money(value) if key != "count" else value for key, value in totals.items()},
            national_figures_pending=(
                f"Provisional: national figures not yet set for {'; '.join(provisional)}. These payments use the "
                "Quality Service definition's national average list size and prevalences until NHS England sets them."
                if provisional else ""
            ),
            export_url=f"{reverse('declarations:export_declarations')}?{query}",
            query=query,
        )
        return context


def _with_aspiration(rows, values) -> tuple[list, dict]:
    """Each row's aspiration paid by its date and the balance (issue 13), and their totals: one
    query whatever the number of rows, none when no row's service pays aspiration."""
    paid_by_date = PaidByDate(
        starts={
            v["service_id"]: v["service__financial_year__start_date"]
            for v in values
            if v["service__aspiration_percent"] is not None
        }
    )
    paid_total = balance_total = Decimal("0.00")
    shown = []
    for row, v in zip(rows, values, strict=True):
        paid = paid_by_date.paid(v["provider_id"], v["service_id"], v["achievement_date__date"])
        if paid is None:
            shown.append(row)
            continue
        balance = v["calculation__total_amount"] - paid
        paid_total, balance_total = paid_total + paid, balance_total + balance
        shown.append(replace(row, aspiration_paid=money(paid), balance=money(balance)))
    return shown, {"aspiration_paid": paid_total, "balance": balance_total}


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP "CSV injection"): one that
    starts like a formula is prefixed with an apostrophe.  Amounts are written as numbers."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_amount(value) -> str:
    return "" if value is None else f"{value:.2f}"


class ExportDeclarationsView(RoleRequiredMixin, View):
    """The filtered Declaration Management list as CSV."""

    permission = "declarations.manage_declarations"

    def get(self, request):
        form, status, filters = _management_filters(request)
        declarations = selectors.declaration_management_list(
            user=request.user, status=status, **filters
        ).select_related("provider__pcn").defer("service__definition")  # a service's YAML: large, not needed
        declarations = claims.in_month(declarations, _month(form))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="declarations.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        paid_by_date = PaidByDate(service_ids=declarations.order_by().values_list("service_id", flat=True).distinct())
        for d in declarations.iterator(chunk_size=2000):
            paid = paid_by_date.paid(d.provider_id, d.service_id, d.achievement_date.date)
            writer.writerow(
                [
                    _csv_text(d.service.code),
                    _csv_text(d.provider.name),
                    _csv_text(d.provider.ods_code),
                    _csv_text(d.provider.pcn.ods_code) if d.provider.pcn_id else "",
                    f"{d.achievement_date.date:%d/%m/%Y}",
                    d.get_status_display(),
                    f"{d.calculation.total_points:.2f}",
                    _csv_amount(d.calculation.total_amount),
                    _csv_amount(d.amount_declared),
                    _csv_amount(d.amount_approved),
                    _csv_amount(d.amount_finance_approved),
                    _csv_amount(paid),
                    "" if paid is None else _csv_amount(d.calculation.total_amount - paid),
                ]
            )
        return response


class ApproveDeclarationsView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Approve on the ticked rows: Approval Management approves those Awaiting Commissioning
    Organisation Approval, Finance Management finance-approves those Awaiting Finance Approval;
    all in one transaction, every row or none.  A refusal (a row in another state, or one the
    user may not approve) is told on the page the user came from; a row of another organisation
    is 404."""

    permission = "declarations.manage_declarations"
    http_method_names = ["post"]

    def error_url(self) -> str:
        back = self.request.POST.get("back") or ""
        if not back.startswith("/declarations/") or back.startswith("//"):  # only back to this app's pages
            back = reverse("declarations:declaration_management")
        return back

    def post(self, request):
        back = self.error_url()
        form = DeclarationSelectionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Select at least one declaration.")
            return HttpResponseRedirect(back)
        ids = set(form.cleaned_data["declarations"])
        statuses = selectors.declaration_management_statuses(user=request.user, declaration_ids=ids)
        # A row Awaiting Finance Approval is finance-approved by a Finance Management user; for a
        # user without that role it can only be one another approver approved meanwhile (the
        # page showed it awaiting approval): approving it again says so ("already approved").
        can_finance = bool(permissions.organisation_ids_with_role(request.user, [Role.FINANCE_MANAGEMENT]))
        to_finance = [
            pk for pk, status in statuses.items() if status == DeclarationStatus.AWAITING_FINANCE and can_finance
        ]
        to_approve = [pk for pk in statuses if pk not in to_finance]
        try:
            with transaction.atomic():
                if to_approve:
                    services.declarations_approve(declaration_ids=to_approve, user=request.user)
                if to_finance:
                    services.declarations_finance_approve(declaration_ids=to_finance, user=request.user)
        except NotAllowed as refusal:
            # One refused row refuses the whole selection: the user is told which and why (their
            # own declaration ...) on the list, not shown a 403 page.
            messages.error(request, refusal.message)
            return HttpResponseRedirect(back)
        messages.success(request, APPROVED_ONE if len(ids) == 1 else APPROVED_MANY)
        return HttpResponseRedirect(back)
