"""Reports > Achievement Summary Report, Payments, Network Organisation Relationship and
Allocated Reports (thin: the selectors scope and read, the presenters shape, the exports write)."""

from __future__ import annotations

import io
import os

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView, View

from accounts.errors import NotFound
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from reports.models import ReportRunStatus

from . import allocations, exports, presenters, runs, scope, selectors
from .forms import AchievementSummaryFilterForm, GrantAllocationForm, PaymentsFilterForm, RevokeAllocationForm

SUMMARIES_PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def screen_rows_limit() -> int:
    """Above this many rows a Payments report is prepared in the background, not drawn."""
    return getattr(settings, "REPORTS_SCREEN_ROWS", 1000)


def _csv_response(filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Achievement Summary Report -----------------------------------------------------------------


class ListAchievementSummariesView(RoleRequiredMixin, TemplateView):
    """Reports > Achievement Summary Report: choose the provider, service and achievement date."""

    permission = "reports.view_achievement_summary"
    template_name = "reports/achievement_summaries.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = AchievementSummaryFilterForm(self.request.GET or None, user=user)
        filters = {}
        if form.is_bound:
            form.is_valid()  # an invalid choice is shown as an error and ignored
            filters = {name: form.cleaned_data.get(name) for name in form.fields}
        page = Paginator(selectors.summary_achievement_list(user=user, **filters), SUMMARIES_PER_PAGE).get_page(
            self.request.GET.get("page")
        )
        context.update(
            page_title="Achievement Summary Report",
            filter_form=form,
            page=page,
            rows=[
                {
                    "achievement": a,
                    "declaration": getattr(a, "declaration", None),
                    "url": reverse("reports:achievement_summary", args=[a.pk]),
                }
                for a in page
            ],
        )
        return context


def _summary(request, achievement_id: int) -> presenters.AchievementSummaryReport:
    achievement = selectors.summary_achievement_get(user=request.user, achievement_id=achievement_id)
    return presenters.AchievementSummaryReport.build(
        achievement=achievement,
        indicator_results=selectors.summary_indicator_results(achievement=achievement),
        transitions=selectors.summary_transitions(achievement=achievement),
        show_money=scope.shows_money(user=request.user, provider=achievement.provider),
        generated_at=timezone.now(),
    )


class ShowAchievementSummaryView(RoleRequiredMixin, TemplateView):
    """The Achievement Summary Report of one provider, service and achievement date: a page that
    prints as a clean A4 record (static/css/print.css).  404 outside the user's report scope."""

    permission = "reports.view_achievement_summary"
    template_name = "reports/achievement_summary.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = _summary(self.request, self.kwargs["achievement_id"])
        achievement = report.achievement
        context.update(
            page_title=f"Achievement Summary Report: {achievement.provider.name}",
            report=report,
            achievement=achievement,
            results=report.results,
            csv_url=reverse("reports:achievement_summary_csv", args=[achievement.pk]),
            breadcrumbs=[("Home", reverse("home")), ("Achievement Summary Report", reverse("reports:achievement_summaries"))],
        )
        return context


class ExportAchievementSummaryView(RoleRequiredMixin, View):
    permission = "reports.view_achievement_summary"

    def get(self, request, achievement_id: int):
        report = _summary(request, achievement_id)
        a = report.achievement
        response = _csv_response(f"achievement-summary-{a.provider.ods_code}-{a.service.code}-{a.achievement_date.date:%Y%m%d}.csv")
        exports.write_summary_csv(report, response)
        return response


# --- Payments -----------------------------------------------------------------------------------


def _payments(request) -> tuple[PaymentsFilterForm, object | None]:
    form = PaymentsFilterForm(request.GET if "service" in request.GET else None, user=request.user)
    if not form.is_bound or not form.is_valid():
        return form, None
    return form, selectors.payments_list(user=request.user, **form.filters())


class ShowPaymentsView(RoleRequiredMixin, TemplateView):
    """Reports > Payments: for a Quality Service and its payment dates, one row per provider with
    the amounts calculated, declared, approved and financially approved, the status and dates;
    the totals (Declaration Management's sums); CSV and XLSX.  Too many rows for a page (a
    region, the nation): prepared in the background with a progress bar and a download link."""

    permission = "reports.view_payments"
    template_name = "reports/payments.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form, declarations = _payments(self.request)
        rows, totals, count, too_many = [], None, 0, False
        if declarations is not None:
            totals = selectors.payments_totals(declarations=declarations)
            count = totals["count"]
            too_many = count > screen_rows_limit()
            if not too_many:
                rows = [presenters.payment_row(d) for d in declarations]
        query = self.request.GET.urlencode()
        context.update(
            page_title="Payments",
            filter_form=form,
            shown=declarations is not None,
            rows=rows,
            count=count,
            too_many=too_many,
            totals=presenters.payment_totals_shown(totals) if totals else None,
            csv_url=f"{reverse('reports:payments_csv')}?{query}",
            xlsx_url=f"{reverse('reports:payments_xlsx')}?{query}",
            prepared=runs.report_run_list(user=self.request.user)[:5],
        )
        return context


class ExportPaymentsView(RoleRequiredMixin, View):
    """The filtered Payments report as CSV or XLSX (the page's size limit applies: above it, the
    report is prepared in the background)."""

    permission = "reports.view_payments"
    file_format = "csv"

    def get(self, request):
        form, declarations = _payments(request)
        if declarations is None:
            return redirect(f"{reverse('reports:payments')}?{request.GET.urlencode()}")
        totals = selectors.payments_totals(declarations=declarations)
        if totals["count"] > screen_rows_limit():
            messages.info(request, "This report has too many rows to download at once: prepare it as a download.")
            return redirect(f"{reverse('reports:payments')}?{request.GET.urlencode()}")
        rows = (presenters.payment_row(d) for d in declarations)
        name = f"payments-{form.cleaned_data['service'].code}"
        if self.file_format == "xlsx":
            out = io.BytesIO()
            exports.write_payments_xlsx(rows, out, totals=totals)
            response = HttpResponse(out.getvalue(), content_type=XLSX)
            response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
            return response
        response = _csv_response(f"{name}.csv")
        exports.write_payments_csv(rows, response)
        return response


class PreparePaymentsView(RoleRequiredMixin, View):
    """Prepare the filtered Payments report in the background (a Celery task) and follow it."""

    permission = "reports.view_payments"
    http_method_names = ["post"]

    def post(self, request):
        form = PaymentsFilterForm(request.POST, user=request.user)
        if not form.is_valid():
            messages.error(request, "Select a Quality Service.")
            return redirect("reports:payments")
        file_format = request.POST.get("file_format", "xlsx")
        if file_format not in runs.FORMATS:
            file_format = "xlsx"
        count = selectors.payments_list(user=request.user, **form.filters()).count()
        run = runs.payments_run_start(
            user=request.user, parameters=form.parameters(), file_format=file_format, rows_total=count
        )
        return redirect("reports:report_run", report_run_id=run.pk)


REFRESH_SECONDS = 3
_RUN_COLOURS = {
    ReportRunStatus.QUEUED: "grey",
    ReportRunStatus.RUNNING: "blue",
    ReportRunStatus.DONE: "green",
    ReportRunStatus.FAILED: "red",
}


class ShowReportRunView(RoleRequiredMixin, TemplateView):
    """A report being prepared: its progress (the page refreshes itself, no script) and, when
    ready, its download link.  Only the user who asked for it sees it (404 for anyone else)."""

    permission = "reports.view_payments"
    template_name = "reports/report_run.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = runs.report_run_get(user=self.request.user, run_id=self.kwargs["report_run_id"])
        done = runs.report_run_progress(run)
        context.update(
            page_title="Payments report download",
            run=run,
            done=done,
            percent=int(100 * done / run.rows_total) if run.rows_total else 0,
            ready=run.status == ReportRunStatus.DONE,
            run_colour=_RUN_COLOURS[run.status],
            download_url=reverse("reports:report_run_download", args=[run.pk]),
            refresh_seconds=REFRESH_SECONDS if run.in_progress else None,
            breadcrumbs=[("Home", reverse("home")), ("Payments", reverse("reports:payments"))],
        )
        return context


class DownloadReportRunView(RoleRequiredMixin, View):
    permission = "reports.view_payments"

    def get(self, request, report_run_id: int):
        run = runs.report_run_get(user=request.user, run_id=report_run_id)
        if run.status != ReportRunStatus.DONE or not run.file_path or not os.path.exists(run.file_path):
            raise NotFound("This report is not ready")
        return FileResponse(
            open(run.file_path, "rb"),  # noqa: SIM115 - FileResponse closes it
            as_attachment=True,
            filename=f"payments-{run.pk}.{run.file_format}",
            content_type=XLSX if run.file_format == "xlsx" else "text/csv; charset=utf-8",
        )


# --- Network organisation relationship ----------------------------------------------------------


def _network_rows(user) -> list[presenters.NetworkRow]:
    return presenters.network_rows(
        practices=selectors.network_practices(user=user),
        pcns=selectors.network_pcns(user=user),
        memberships=selectors.network_memberships(user=user),
    )


class ShowNetworkView(RoleRequiredMixin, TemplateView):
    """Reports > Network Organisation Relationship: the PCNs of the user's scope and their
    practices, each membership with its from and to dates (docs/adr/0020)."""

    permission = "reports.view_network"
    template_name = "reports/network.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            page_title="Network Organisation Relationship",
            rows=_network_rows(self.request.user),
            csv_url=reverse("reports:network_csv"),
        )
        return context


class ExportNetworkView(RoleRequiredMixin, View):
    permission = "reports.view_network"

    def get(self, request):
        response = _csv_response("network-organisation-relationship.csv")
        exports.write_network_csv(_network_rows(request.user), response)
        return response


# --- Allocated Reports --------------------------------------------------------------------------


class ListAllocatedReportsView(RoleRequiredMixin, TemplateView):
    """Reports > Allocated Reports: a User Administrator allocates its organisation's reports to
    organisations under it, and revokes them; everyone sees which organisations allocated their
    reports to theirs."""

    permission = "reports.view_allocated_reports"
    template_name = "reports/allocated_reports.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        grant_form = GrantAllocationForm(user=user)
        can_grant = grant_form.fields["organisation"].queryset.exists()
        context.update(
            page_title="Allocated Reports",
            grant_form=grant_form if can_grant else None,
            allocations=list(allocations.allocation_list(user=user)) if can_grant else [],
            received=list(allocations.allocations_received(user=user)),
        )
        return context


class GrantAllocationView(RoleRequiredMixin, DomainErrorsMixin, View):
    permission = "reports.allocate_reports"
    http_method_names = ["post"]

    def error_url(self) -> str:
        return reverse("reports:allocated_reports")

    def post(self, request):
        form = GrantAllocationForm(request.POST, user=request.user)
        if not form.is_valid():
            messages.error(request, "Select the organisation and the organisation to allow.")
            return HttpResponseRedirect(self.error_url())
        allocation = allocations.report_allocation_grant(
            user=request.user,
            organisation_id=form.cleaned_data["organisation"].pk,
            allowed_organisation_id=form.cleaned_data["allowed_organisation"].pk,
        )
        messages.success(
            request,
            f"{allocation.allowed_organisation.name} can now run the reports of {allocation.organisation.name}.",
        )
        return HttpResponseRedirect(self.error_url())


class RevokeAllocationView(RoleRequiredMixin, DomainErrorsMixin, View):
    permission = "reports.allocate_reports"
    http_method_names = ["post"]

    def error_url(self) -> str:
        return reverse("reports:allocated_reports")

    def post(self, request):
        form = RevokeAllocationForm(request.POST)
        if not form.is_valid():
            raise NotFound("No such allocation")
        allocation = allocations.report_allocation_revoke(user=request.user, allocation_id=form.cleaned_data["allocation"])
        messages.success(
            request,
            f"{allocation.allowed_organisation.name} can no longer run the reports of {allocation.organisation.name}.",
        )
        return HttpResponseRedirect(self.error_url())
