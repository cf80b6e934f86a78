"""Aspiration payments' screens (issue 13): the commissioner's Aspiration Management (the ICB's
aspirations, Calculate, Approve in bulk, the monthly schedule), one aspiration (its schedule and
agreed points), and the provider's Aspiration Payments under Achievement.  Thin: each reads a
selector or calls one use case.  Every list runs a fixed number of queries."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from accounts import permissions
from accounts.errors import NotAllowed
from accounts.formatting import money
from accounts.inputs import id_or_none
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from accounts.models import Organisation, OrganisationKind
from declarations.models import AspirationStatus
from declarations.rules import APPROVE_ROLES, MANAGEMENT_ROLES

from . import rules, selectors, services
from .forms import STATUS_ALL, AgreePointsForm, AspirationFilterForm, AspirationSelectionForm
from .schedule import due_dates

APPROVED_ONE = "The aspiration payment has been successfully approved."
APPROVED_MANY = "The aspiration payments have been successfully approved."
CALCULATED = "Aspiration payments calculated for {count} Service Provider{s}."
POINTS_AGREED = "The agreed aspiration points have been saved: the aspiration payment must be approved again."


def _row(aspiration, *, action: str = "") -> dict:
    return {
        "pk": aspiration.pk,
        "provider": aspiration.provider.name,
        "ods_code": aspiration.provider.ods_code,
        "service": aspiration.service.name,
        "url": reverse("declarations:aspiration_detail", args=[aspiration.pk]),
        "previous": money(aspiration.previous_payment) or "None calculated",
        "agreed_points": "" if aspiration.agreed_points is None else f"{aspiration.agreed_points:,.2f}",
        "total": money(aspiration.total),
        "monthly": money(aspiration.monthly),
        "last_month": money(aspiration.last_month),
        "status": aspiration.get_status_display(),
        "status_key": aspiration.status,
        "selectable": bool(action),
        "select_label": f"Select {aspiration.provider.name}",
    }


def _schedule_rows(months) -> list[dict]:
    return [
        {"due": f"{m.due:%d/%m/%Y}", "approved": money(m.approved), "pending": money(m.pending)} for m in months
    ]


def _filters(request):
    services_qs = selectors.aspiration_services()
    form = AspirationFilterForm(request.GET or None, services=services_qs)
    service = status = None
    if form.is_bound and form.is_valid():
        service, status = form.cleaned_data["service"], form.cleaned_data.get("status") or None
    if service is None:
        service = services_qs.order_by("-financial_year__start_date", "code").first()
        form = AspirationFilterForm(initial={"service": service, "status": STATUS_ALL}, services=services_qs)
    return form, service, (None if status in (None, STATUS_ALL) else status)


class ListAspirationsToManageView(RoleRequiredMixin, TemplateView):
    """Achievement > Aspiration Management (commissioner): the aspirations of the providers the
    ICB commissions for a Quality Service, Calculate, Select All and Approve (Approval Management
    approves, Finance Management finance-approves), and the ICB's monthly schedule."""

    permission = "declarations.manage_aspirations"
    template_name = "declarations/aspiration_management.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form, service, status = _filters(self.request)
        rows, schedule = [], []
        if service is not None:
            aspirations = selectors.aspiration_management_list(user=user, service=service)
            shown = aspirations.filter(status=status) if status else aspirations
            rows = [_row(a, action=rules.approve_action(user, a)) for a in shown]
            schedule = _schedule_rows(selectors.monthly_schedule(aspirations=aspirations, service=service))
        context.update(
            page_title="Aspiration Management",
            filter_form=form,
            service=service,
            rows=rows,
            any_selectable=any(row["selectable"] for row in rows),
            schedule=schedule,
            can_calculate=service is not None and permissions.has_any_role(user, APPROVE_ROLES),
            query=self.request.GET.urlencode(),
        )
        return context


def _back(request) -> str:
    back = request.POST.get("back") or ""
    if not back.startswith("/declarations/") or back.startswith("//"):
        back = reverse("declarations:aspiration_management")
    return back


class CalculateAspirationsView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Calculate: the aspiration of every provider each of the user's ICBs (Approval Management)
    has an approved offer of the service with."""

    permission = "declarations.manage_aspirations"
    http_method_names = ["post"]

    def error_url(self) -> str:
        return _back(self.request)

    def post(self, request):
        service_id = id_or_none(request.POST.get("service"))
        service = None if service_id is None else selectors.aspiration_services().filter(pk=service_id).first()
        icbs = list(
            Organisation.objects.filter(
                pk__in=permissions.organisation_ids_with_role(request.user, APPROVE_ROLES), kind=OrganisationKind.ICB
            )
        )
        if service is None or not icbs:
            raise NotAllowed("Only Approval Management users of a Commissioning Organisation can calculate these.")
        count = 0
        with transaction.atomic():
            for icb in icbs:
                count += len(services.aspirations_prepare(service=service, commissioner=icb))
        messages.success(request, CALCULATED.format(count=count, s="" if count == 1 else "s"))
        return HttpResponseRedirect(_back(request))


class ApproveAspirationsView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Approve on the ticked rows, every row or none (as Declaration Management)."""

    permission = "declarations.manage_aspirations"
    http_method_names = ["post"]

    def error_url(self) -> str:
        return _back(self.request)

    def post(self, request):
        back = _back(request)
        form = AspirationSelectionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Select at least one aspiration payment.")
            return HttpResponseRedirect(back)
        ids = set(form.cleaned_data["aspirations"])
        statuses = dict(
            selectors.aspiration_management_list(user=request.user)
            .filter(pk__in=ids)
            .values_list("pk", "status")
        )
        to_finance = [pk for pk, status in statuses.items() if status == AspirationStatus.AWAITING_FINANCE]
        to_approve = [pk for pk in ids if pk not in to_finance]
        try:
            with transaction.atomic():
                if to_approve:
                    services.aspirations_approve(aspiration_ids=to_approve, user=request.user)
                if to_finance:
                    services.aspirations_finance_approve(aspiration_ids=to_finance, user=request.user)
        except NotAllowed as refusal:
            messages.error(request, refusal.message)
            return HttpResponseRedirect(back)
        messages.success(request, APPROVED_ONE if len(ids) == 1 else APPROVED_MANY)
        return HttpResponseRedirect(back)


def _instalments(aspiration) -> list[dict]:
    return [
        {"due": f"{due:%d/%m/%Y}", "amount": money(amount)}
        for due, amount in zip(
            due_dates(aspiration.service.financial_year.start_date), aspiration.instalments, strict=True
        )
    ]


class ShowAspirationView(RoleRequiredMixin, DomainErrorsMixin, TemplateView):
    """One aspiration: how it was worked out, its twelve instalments, and (for the commissioner's
    Approval Management, until financially approved) the agreed points."""

    permission = "declarations.view_aspiration_payments"
    template_name = "declarations/aspiration_detail.html"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        aspiration = selectors.aspiration_get(user=self.request.user, aspiration_id=kwargs["aspiration_id"])
        may_agree = rules.may_agree_points(self.request.user, aspiration) and not aspiration.is_approved
        initial = {"points": "" if aspiration.agreed_points is None else aspiration.agreed_points}
        context.update(
            page_title="Aspiration Payment",
            aspiration=aspiration,
            row=_row(aspiration),
            instalments=_instalments(aspiration),
            form=form or (AgreePointsForm(initial=initial) if may_agree else None),
            is_commissioner=permissions.has_any_role(self.request.user, MANAGEMENT_ROLES),
        )
        return context

    def post(self, request, aspiration_id: int):
        aspiration = selectors.aspiration_get(user=request.user, aspiration_id=aspiration_id)
        form = AgreePointsForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, aspiration_id=aspiration_id))
        services.aspiration_agree_points(
            aspiration_id=aspiration.pk, user=request.user, points=form.cleaned_data["points"]
        )
        messages.success(request, POINTS_AGREED)
        return HttpResponseRedirect(reverse("declarations:aspiration_detail", args=[aspiration.pk]))


class ListAspirationPaymentsView(RoleRequiredMixin, TemplateView):
    """Achievement > Aspiration Payments (provider): its aspirations and each one's monthly
    schedule."""

    permission = "declarations.view_aspiration_payments"
    template_name = "declarations/aspiration_payments.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        aspirations = list(selectors.provider_aspirations(user=self.request.user))
        context.update(
            page_title="Aspiration Payments",
            aspirations=[{"row": _row(a), "instalments": _instalments(a)} for a in aspirations],
        )
        return context
