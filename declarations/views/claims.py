"""Monthly claims (issue 16): the provider's month-by-month claims of a monthly service, declaring
several months at once, and the commissioner's months to approve, a month at a time for the ICB.

The reads are ``declarations.claims``; the writes ``declarations.workflow.claims``."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from accounts.errors import NotAllowed
from accounts.inputs import id_or_none
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from declarations import claims
from declarations.forms import DeclarationSelectionForm, DeclareForm, MonthlyClaimsFilterForm
from declarations.workflow.claims import claims_declare, claims_month_approve

DECLARED_ONE = "The achievement and payment have been successfully declared."
DECLARED_MANY = "The achievements and payments of {count} months have been successfully declared."
APPROVED_MONTH = "The payment declarations of {month} have been successfully approved ({count})."


def _claims_url(provider_id: int | None, service_id: int | None) -> str:
    url = reverse("declarations:monthly_claims")
    if provider_id is not None and service_id is not None:
        return f"{url}?provider={provider_id}&service={service_id}"
    return url


class ListMonthlyClaimsView(RoleRequiredMixin, TemplateView):
    """Achievement > Monthly Claims: a monthly service's claims of one provider, month by month:
    items claimed, pounds (for roles that may see money), the declaration's status; the months
    awaiting the user's declaration can be ticked and declared together.  Five queries whatever
    the number of months."""

    permission = "declarations.view_results"
    template_name = "declarations/monthly_claims.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, query = self.request.user, self.request.GET
        provider = claims.claim_provider_get(user=user, provider_id=id_or_none(query.get("provider")))
        service = None
        rows, totals = [], None
        if provider is not None:
            wanted = id_or_none(query.get("service"))
            services = claims.monthly_services(provider=provider)
            # A service of another provider (the provider was changed on the form): its first.
            service = services.filter(pk=wanted).first() if wanted is not None else None
            service = service or services.first()
            if service is not None:
                rows, totals = claims.claim_months(user=user, provider=provider, service=service)
        form = MonthlyClaimsFilterForm(
            initial={"provider": provider, "service": service},
            providers=claims.claim_providers(user=user),
            services=claims.monthly_services(provider=provider),
        )
        context.update(
            page_title="Monthly Claims",
            filter_form=form,
            provider=provider,
            service=service,
            rows=rows,
            totals=totals,
            any_selectable=any(row.selectable for row in rows),
            any_money=any(row.amount is not None for row in rows) or bool(totals and totals.amount),
            declare_form=DeclareForm(),
        )
        return context


class DeclareClaimsView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Declare Achievement for the ticked months, every one or none.  A month no longer awaiting
    the provider, or one the user may not declare, refuses the selection with the reason."""

    permission = "declarations.view_declare"
    http_method_names = ["post"]

    def error_url(self) -> str:
        post = self.request.POST
        return _claims_url(id_or_none(post.get("provider")), id_or_none(post.get("service")))

    def post(self, request):
        back = self.error_url()
        selection = DeclarationSelectionForm(request.POST)
        note_form = DeclareForm(request.POST)
        if not selection.is_valid():
            messages.error(request, "Select at least one month to declare.")
            return HttpResponseRedirect(back)
        if not note_form.is_valid():
            messages.error(request, next(iter(note_form.errors.values()))[0])
            return HttpResponseRedirect(back)
        ids = selection.cleaned_data["declarations"]
        try:
            declared = claims_declare(declaration_ids=ids, user=request.user, note=note_form.cleaned_data["note"])
        except NotAllowed as refusal:
            messages.error(request, refusal.message or "You cannot declare these claims.")
            return HttpResponseRedirect(back)
        messages.success(request, DECLARED_ONE if len(declared) == 1 else DECLARED_MANY.format(count=len(declared)))
        return HttpResponseRedirect(back)


class ListMonthsToApproveView(RoleRequiredMixin, TemplateView):
    """Achievement > Approve Monthly Claims (Approval Management): each month of the ICB's monthly
    services, with what awaits approval; Approve Month approves them all.  One query."""

    permission = "declarations.manage_declarations"
    template_name = "declarations/claims_months.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(page_title="Approve Monthly Claims", months=claims.claim_months_to_approve(user=self.request.user))
        return context


class ApproveClaimsMonthView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Approve Month: every declaration of the month awaiting the approval of the user's ICBs,
    every one or none (a month of another ICB: 404)."""

    permission = "declarations.manage_declarations"
    http_method_names = ["post"]

    def error_url(self) -> str:
        return reverse("declarations:claims_months")

    def post(self, request, achievement_date_id: int):
        month, ids = claims.month_to_approve(user=request.user, achievement_date_id=achievement_date_id)
        try:
            approved = claims_month_approve(declaration_ids=ids, user=request.user)
        except NotAllowed as refusal:
            messages.error(request, refusal.message)
            return HttpResponseRedirect(self.error_url())
        messages.success(request, APPROVED_MONTH.format(month=month, count=len(approved)))
        return HttpResponseRedirect(self.error_url())
