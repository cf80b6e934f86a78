"""A declaration's page: its status and amounts, the Achievement Summary, the submission notes,
the history, and the next step for this user (Declare Achievement, Approve, the commissioner's
tick-box control)."""

from __future__ import annotations

from django.urls import reverse
from django.views.generic import TemplateView

from accounts import permissions
from accounts.formatting import money
from achievement import commissioner_selectors as achievement_commissioner_selectors
from achievement import entry_rules
from achievement import selectors as achievement_selectors
from declarations import calculation_failures, rules, selectors
from declarations.forms import DeclareForm
from declarations.history import history_rows
from declarations.models import DeclarationStatus
from declarations.presenters import AchievementResults, calculation_failure_notice
from participation.models import ProviderLevel
from participation.national import NOT_YET_SET, national_figures_pending


class ShowDeclarationView(TemplateView):
    """A declaration: why its payment could not be recalculated (if so), its status, the amounts
    declared and approved, the Achievement Summary
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
            commissioner_entries=achievement_commissioner_selectors.commissioner_entry_codes(achievement_id=declaration.achievement_id),
        )
        failure = calculation_failures.current_failure(declaration.achievement)
        can_declare = declaration.status == DeclarationStatus.AWAITING_PROVIDER and rules.may_declare(
            user, declaration
        )
        context.update(
            page_title=f"Declaration: {declaration.provider.name}",
            declaration=declaration,
            show_money=show_money,
            amounts={
                "calculated": money(calculation.total_amount),
                "declared": money(declaration.amount_declared),
                "approved": money(declaration.amount_approved),
                "finance_approved": money(declaration.amount_finance_approved),
            },
            results=results,
            national_figures_pending=NOT_YET_SET
            if national_figures_pending(service=declaration.service, achievement_date_id=declaration.achievement_date_id)
            else None,
            calculation_failure=calculation_failure_notice(
                failure=failure,
                who_corrects=calculation_failures.who_corrects(declaration.achievement) if failure else "",
                calculation=calculation,
            ),
            recalculation_pending=failure is None
            and calculation.data_version != declaration.achievement.data_version,
            transitions=history_rows(user=user, declaration=declaration),
            submissions=[
                s for s in achievement_selectors.submission_list(achievement_id=declaration.achievement_id) if s.notes
            ],
            can_declare=can_declare,
            declare_form=DeclareForm() if can_declare else None,
            approve_action=rules.approve_action(user, declaration),
            tick_boxes=_tick_box_controls(user, declaration),
            breadcrumbs=[("Home", reverse("home")), *_declaration_breadcrumb(user)],
        )
        return context


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
    indicators = list(selectors.tick_box_indicator_list(service_id=declaration.service_id))
    if not indicators:
        return []
    answers = achievement_selectors.tick_box_values(
        provider_id=declaration.provider_id,
        achievement_date_id=declaration.achievement_date_id,
        indicator_ids=[i.pk for i in indicators],
    )
    is_commissioner = rules.commissions_the_provider_for_tick_boxes(user, declaration)
    controls = []
    for indicator in indicators:
        reason = entry_rules.tick_box_blocked_reason(
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
