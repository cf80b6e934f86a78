"""Reports > Where the money is lost (commissioner) and This year and last (provider): thin views.

The choices arrive in the query string (``?commissioner=&achievement_date=&indicator=`` or
``?provider=&achievement_date=``); an id the user may not see is answered 404 by the selectors
(``NotFound``), as one that does not exist.
"""

from __future__ import annotations

from django.urls import reverse
from django.views.generic import TemplateView

from accounts import permissions
from accounts.errors import NotFound
from accounts.inputs import id_or_none
from accounts.mixins import RoleRequiredMixin

from . import presenters, selectors, year_on_year
from . import rules as _rules  # noqa: F401 - registers the permissions these views name
from .forms import MoneyLostForm, YearOnYearForm


def _id(request, name: str) -> int | None:
    """A chosen id from the query string; None when not chosen; NotFound when not a number."""
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    number = id_or_none(value)  # "²", a 30-digit id: no such object, as "abc"
    if number is None:
        raise NotFound(f"No such {name}")
    return number


def _chosen_for_commissioner(request):
    """The commissioner and achievement date chosen (or the defaults), each one the user may see."""
    commissioner = selectors.commissioner_get(user=request.user, commissioner_id=_id(request, "commissioner"))
    achievement_date = selectors.money_lost_date_get(
        commissioner=commissioner, achievement_date_id=_id(request, "achievement_date")
    )
    return commissioner, achievement_date


class ShowMoneyLostView(RoleRequiredMixin, TemplateView):
    """Where the money is lost: for a commissioner, service and achievement date, every fraction
    indicator's providers against its thresholds and the pounds not earned, ranked."""

    permission = "reports.view_money_lost"
    template_name = "reports/insights/money_lost.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        commissioner, achievement_date = _chosen_for_commissioner(self.request)
        report = None
        if achievement_date is not None:
            report = presenters.money_lost_report(
                summaries=selectors.indicator_summary_list(commissioner=commissioner, achievement_date=achievement_date),
                commissioner_id=commissioner.pk,
                achievement_date=achievement_date,
                provider_count=selectors.provider_count(commissioner=commissioner, achievement_date=achievement_date),
                show_money=selectors.shows_money(user=user, commissioner=commissioner),
            )
        context.update(
            page_title="Where the money is lost",
            commissioner=commissioner,
            achievement_date=achievement_date,
            report=report,
            form=MoneyLostForm(
                commissioners=selectors.commissioner_list(user=user),
                dates=selectors.money_lost_dates(commissioner=commissioner),
                initial={
                    "commissioner": commissioner.pk,
                    "achievement_date": achievement_date.pk if achievement_date else None,
                },
            ),
        )
        return context


class ShowMoneyLostIndicatorView(RoleRequiredMixin, TemplateView):
    """One indicator: its providers' achievement (a histogram with the thresholds) and the
    providers furthest from the upper threshold, each linked to its Achievement Results."""

    permission = "reports.view_money_lost"
    template_name = "reports/insights/money_lost_indicator.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        commissioner, achievement_date = _chosen_for_commissioner(self.request)
        if achievement_date is None:
            raise NotFound("No calculated achievement")
        indicator = selectors.fraction_indicator_get(
            achievement_date=achievement_date, indicator_id=_id(self.request, "indicator")
        )
        report = presenters.indicator_report(
            indicator=indicator,
            achievement_date=achievement_date,
            results=selectors.indicator_provider_list(
                commissioner=commissioner, achievement_date=achievement_date, indicator=indicator
            ),
            show_money=selectors.shows_money(user=user, commissioner=commissioner),
        )
        back = (
            f"{reverse('reports:money_lost')}?commissioner={commissioner.pk}&achievement_date={achievement_date.pk}"
        )
        context.update(
            page_title=f"{indicator.code}: providers furthest from the upper threshold",
            commissioner=commissioner,
            achievement_date=achievement_date,
            report=report,
            breadcrumbs=[("Home", reverse("home")), ("Where the money is lost", back)],
        )
        return context


class ShowYearOnYearView(RoleRequiredMixin, TemplateView):
    """This year and last: a provider's achievement per indicator beside last year's, for the
    same indicator codes in last financial year's service of the same kind."""

    permission = "reports.view_year_on_year"
    template_name = "reports/insights/year_on_year.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        provider = selectors.year_on_year_provider_get(user=user, provider_id=_id(self.request, "provider"))
        this_date = last_date = report = None
        dates = []
        if provider is not None:
            dates = selectors.provider_dates(user=user, provider=provider)
            this_date = selectors.provider_date_get(
                user=user,
                provider=provider, achievement_date_id=_id(self.request, "achievement_date")
            )
        if this_date is not None:
            last_date = selectors.previous_year_date(achievement_date=this_date)
            report = year_on_year.year_on_year_report(
                this_date=this_date,
                last_date=last_date,
                results=selectors.provider_results(
                    user=user,
                    provider=provider, achievement_dates=[d for d in (this_date, last_date) if d is not None]
                ),
                show_money=permissions.can_see_money(user, provider),
            )
        context.update(
            page_title="This year and last",
            provider=provider,
            this_date=this_date,
            last_date=last_date,
            report=report,
            form=YearOnYearForm(
                providers=selectors.year_on_year_providers(user=user) if provider is not None else [],
                dates=dates,
                initial={
                    "provider": provider.pk if provider else None,
                    "achievement_date": this_date.pk if this_date else None,
                },
            ),
        )
        return context
