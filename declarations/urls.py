from django.urls import path

from . import views

app_name = "declarations"

urlpatterns = [
    path("achievement-results/", views.ListAchievementResultsView.as_view(), name="results"),
    path(
        "achievement-results/<int:achievement_id>/",
        views.ShowAchievementResultsView.as_view(),
        name="achievement_results",
    ),
]
