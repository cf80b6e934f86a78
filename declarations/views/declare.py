"""Achievement > Declare (provider): every payment awaiting the provider's declaration with a
checkbox each, Select All, Notes and Declare Achievement (all or nothing), and the Payment
Declaration History; Declare Achievement with its confirmation step on one declaration's page;
and the commissioner's tick-box change on a declaration page."""

from __future__ import annotations

import rules as django_rules
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.generic import TemplateView, View

from accounts import permissions
from accounts.errors import NotAllowed, NotFound
from accounts.formatting import money
from accounts.inputs import id_or_none
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from achievement import services as achievement_services
from declarations import selectors, services
from declarations.forms import CommissionerTickBoxForm, DeclareForm
from declarations.presenters import declaration_row
from declarations.workflow.use_cases import declarations_declare

# The confirmation once declared (Achievement > Declare, one payment or several).
DECLARED = (
    "The achievement and payment declaration has been successfully submitted and is awaiting approval "
    "by the Commissioning Organisation."
)
NOTHING_TICKED = "Select at least one payment to declare."
HISTORY_ROWS = 100


def declared_message(count: int) -> str:
    if count == 1:
        return DECLARED
    return (
        f"The achievement and payment declarations of {count} payments have been successfully submitted "
        "and are awaiting approval by the Commissioning Organisation."
    )


def _declaration_url(declaration_id: int) -> str:
    return reverse("declarations:declaration_detail", args=[declaration_id])


class ListDeclarationsToDeclareView(RoleRequiredMixin, DomainErrorsMixin, TemplateView):
    """Achievement > Declare: every payment awaiting the provider's declaration, a checkbox each,
    Select All, Notes and Declare Achievement (the ticked ones are declared all together or not
    at all: a refusal names the payment and nothing changes); and the Payment Declaration
    History, the payments declared with who declared them and when."""

    permission = "declarations.view_declare"
    template_name = "declarations/declare.html"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user

        def rows(declarations):
            return [
                (
                    declaration_row(
                        d,
                        url=_declaration_url(d.pk),
                        show_money=permissions.can_see_money(user, d.provider),
                    ),
                    d,
                )
                for d in declarations
            ]

        context.update(
            page_title="Declare",
            to_declare=rows(selectors.declarations_to_declare(user=user)),
            history=rows(selectors.declarations_declared(user=user)[:HISTORY_ROWS]),
            history_limit=HISTORY_ROWS,
            form=form or DeclareForm(),
        )
        return context

    def post(self, request, *args, **kwargs):
        form = DeclareForm(request.POST)
        ticked = request.POST.getlist("declarations")
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        if not ticked:
            messages.error(request, NOTHING_TICKED)
            return self.render_to_response(self.get_context_data(form=form))
        ids = [id_or_none(value) for value in ticked]
        if None in ids:  # not an id at all: as if it did not exist
            raise NotFound("No such declaration")
        declared = declarations_declare(declaration_ids=ids, user=request.user, note=form.cleaned_data["note"])
        messages.success(request, declared_message(len(declared)))
        return redirect("declarations:declare")


class DeclareAchievementView(DomainErrorsMixin, View):
    """Declare Achievement: the confirmation step ("Are you sure...?"), then the declaration.
    A declaration no longer awaiting the provider is told on its page; a user who may not declare
    it is refused (403)."""

    http_method_names = ["post"]

    def error_url(self) -> str:
        return _declaration_url(self.kwargs["declaration_id"])

    def post(self, request, declaration_id: int):
        declaration = selectors.declaration_get(user=request.user, declaration_id=declaration_id)
        back = _declaration_url(declaration.pk)
        form = DeclareForm(request.POST)
        if not form.is_valid():
            messages.error(request, next(iter(form.errors.values()))[0])
            return HttpResponseRedirect(back)
        note = form.cleaned_data["note"]
        if request.POST.get("confirm") != "yes":
            if not django_rules.has_perm("declarations.declare", request.user, declaration):
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
        services.declaration_declare(declaration_id=declaration.pk, user=request.user, note=note)
        messages.success(request, DECLARED)
        return redirect("declarations:declare")


class SetDeclarationTickBoxView(View):
    """The commissioner's tick-box drop-down on a declaration page (tick-box job aid, point 7):
    changes the answer until the payment is financially approved, and recalculates."""

    http_method_names = ["post"]

    def post(self, request, declaration_id: int):
        declaration = selectors.declaration_get(user=request.user, declaration_id=declaration_id)
        back = _declaration_url(declaration.pk)
        form = CommissionerTickBoxForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Select Yes or No")
            return HttpResponseRedirect(back)
        indicator = selectors.tick_box_indicator_get(
            service_id=declaration.service_id, indicator_id=form.cleaned_data["indicator"]
        )
        if not django_rules.has_perm("declarations.set_tick_box", request.user, declaration):
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
        except achievement_services.AchievementEntryError as error:  # nothing changed: told, not refused
            messages.info(request, error.message)
        except NotAllowed as refusal:  # the rules keep it (declared, financially approved): why, on the page
            messages.error(request, refusal.message or "You cannot change this tick-box.")
        else:
            messages.success(
                request,
                f"{indicator.code} has been changed to {'Yes' if value else 'No'}; the payment is recalculated.",
            )
        return HttpResponseRedirect(back)
