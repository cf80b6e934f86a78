"""Achievement > Achievement Results: the calculated achievements a user may see, and one
achievement's results per indicator."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.urls import reverse
from django.views.generic import TemplateView

from accounts import permissions
from accounts.formatting import money
from accounts.mixins import RoleRequiredMixin
from achievement import commissioner_selectors as achievement_commissioner_selectors
from declarations import selectors
from declarations.forms import AchievementResultsFilterForm
from declarations.presenters import AchievementResults
from participation.national import NOT_YET_SET, national_figures_pending, national_figures_pending_pairs

RESULTS_PER_PAGE = 50


class ListAchievementResultsView(RoleRequiredMixin, TemplateView):
    """Achievement Results: the calculated achievements the user may see, filtered by financial
    year, Quality Service, Service Provider and achievement date."""

    permission = "declarations.view_results"
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
        pending = national_figures_pending_pairs(
            pairs={(a.service_id, a.achievement_date_id) for a in page if getattr(a, "calculation", None)}
        )
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
                    "national_figures_pending": NOT_YET_SET
                    if (achievement.service_id, achievement.achievement_date_id) in pending
                    else None,
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


class ShowAchievementResultsView(RoleRequiredMixin, TemplateView):
    """One achievement's results: per indicator, achievement against the thresholds, points,
    £ (for roles that may see money), patients still needed for the upper threshold and the £ at
    stake, with a chart; totals; marked provisional.  404 for a provider the user cannot see."""

    permission = "declarations.view_results"
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
                commissioner_entries=achievement_commissioner_selectors.commissioner_entry_codes(achievement_id=achievement.pk),
            )
        list_url = reverse("declarations:results")
        context.update(
            page_title=f"Achievement Results: {achievement.provider.name}",
            achievement=achievement,
            results=results,
            national_figures_pending=NOT_YET_SET
            if results is not None
            and national_figures_pending(service=achievement.service, achievement_date_id=achievement.achievement_date_id)
            else None,
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
