from django.urls import path

from . import views

app_name = "achievement"

urlpatterns = [
    path("extract-loads/", views.ListExtractLoadsView.as_view(), name="extract_loads"),
    path("extract-loads/<int:pk>/", views.ShowExtractLoadView.as_view(), name="extract_load"),
    # Data Submission > Record Achievement
    path("record-achievement/", views.RecordAchievementView.as_view(), name="record_achievement"),
    path("record-achievement/add/", views.AddAchievementView.as_view(), name="record_achievement_add"),
    path(
        "record-achievement/<int:achievement_id>/",
        views.ShowAchievementView.as_view(),
        name="record_achievement_detail",
    ),
    path(
        "record-achievement/<int:achievement_id>/groups/<int:group_id>/",
        views.ShowGroupView.as_view(),
        name="group_detail",
    ),
    path(
        "record-achievement/<int:achievement_id>/tick-boxes/<int:indicator_id>/",
        views.SetTickBoxView.as_view(),
        name="group_tick_box",
    ),
]
