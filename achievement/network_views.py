"""Data Submission > Network Achievement (PCN users and commissioners): the PCNs' Network
Contract DES achievement, and for one, each member practice's contribution on its date."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.views.generic import TemplateView

from accounts.inputs import id_or_none
from accounts.mixins import RoleRequiredMixin

from . import network_selectors
from .errors import AchievementNotFound

NETWORK_ACHIEVEMENT = "achievement.view_network_achievement"
PAGE_SIZE = 50


class ListNetworkAchievementView(RoleRequiredMixin, TemplateView):
    permission = NETWORK_ACHIEVEMENT
    template_name = "achievement/network_achievement_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        achievements = network_selectors.network_achievement_list(user=self.request.user)
        page = Paginator(achievements, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(page_title="Network Achievement", page_obj=page, achievements=page.object_list)
        return context


class ShowNetworkAchievementView(RoleRequiredMixin, TemplateView):
    permission = NETWORK_ACHIEVEMENT
    template_name = "achievement/network_achievement_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        achievement_id = id_or_none(self.kwargs["achievement_id"])
        if achievement_id is None:
            raise AchievementNotFound("No achievement found")
        achievement = network_selectors.network_achievement_get(user=self.request.user, achievement_id=achievement_id)
        detail = network_selectors.network_achievement_detail(achievement=achievement)
        context.update(page_title="Network Achievement", detail=detail, achievement=achievement)
        return context
