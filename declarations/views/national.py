"""Administrative Tasks > National Figures (National Administrator, issue 13 §4): each QOF payment
date's national figures (the definition's, those derived from the year-end data with the number
of practices, those in force), Set national figures, and the recalculation's progress."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from declarations import national

REFRESH_SECONDS = 5


class ListNationalFiguresView(RoleRequiredMixin, TemplateView):
    permission = "declarations.set_national_figures"
    template_name = "declarations/national_figures_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pairs = national.national_figures_date_list(user=self.request.user)
        context.update(
            page_title="National Figures",
            rows=[
                {
                    "service": service,
                    "date": date,
                    "url": reverse("declarations:national_figures_detail", args=[service.pk, date.pk]),
                }
                for service, date in pairs
            ],
        )
        return context


class ShowNationalFiguresView(RoleRequiredMixin, DomainErrorsMixin, TemplateView):
    """One service and payment date: the comparison, and Set national figures (POST)."""

    permission = "declarations.set_national_figures"
    template_name = "declarations/national_figures.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        service, date = national.national_figures_get(
            user=self.request.user, service_id=self.kwargs["service_id"], achievement_date_id=self.kwargs["achievement_date_id"]
        )
        status = national.national_figures_status(service=service, achievement_date=date)
        context.update(
            page_title=f"National Figures: {service.name}",
            status=status,
            refresh_seconds=REFRESH_SECONDS if status.is_set and status.recalculating else None,
            breadcrumbs=[("National Figures", reverse("declarations:national_figures"))],
        )
        return context

    def post(self, request, *args, **kwargs):
        service, date = national.national_figures_get(
            user=request.user, service_id=self.kwargs["service_id"], achievement_date_id=self.kwargs["achievement_date_id"]
        )
        national.national_figures_set(actor=request.user, service_id=service.pk, achievement_date_id=date.pk)
        messages.success(
            request,
            f"The national figures of {service.name} for {date.date:%d/%m/%Y} have been set: "
            "its payments are being recalculated.",
        )
        return redirect(request.get_full_path())
