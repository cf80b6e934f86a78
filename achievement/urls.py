from django.urls import path

from . import network_views, views

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
    # Data Submission > Record Provider Achievement (the Commissioning Organisation)
    path(
        "record-provider-achievement/", views.RecordProviderAchievementView.as_view(),
        name="record_provider_achievement",
    ),
    path(
        "record-provider-achievement/add/", views.CommissionerAddAchievementView.as_view(),
        name="record_provider_achievement_add",
    ),
    path(
        "record-provider-achievement/<int:achievement_id>/",
        views.ShowProviderAchievementView.as_view(),
        name="record_provider_achievement_detail",
    ),
    path(
        "record-provider-achievement/<int:achievement_id>/groups/<int:group_id>/",
        views.ShowProviderGroupView.as_view(),
        name="record_provider_group_detail",
    ),
    path(
        "record-provider-achievement/<int:achievement_id>/tick-boxes/<int:indicator_id>/",
        views.SetProviderTickBoxView.as_view(),
        name="record_provider_group_tick_box",
    ),
    path(
        "record-provider-achievement/manual-entry/",
        views.MarkManualEntryProviderView.as_view(),
        name="record_provider_manual_entry",
    ),
    path(
        "record-provider-achievement/manual-entry/<int:manual_entry_id>/remove/",
        views.RemoveManualEntryProviderView.as_view(),
        name="record_provider_manual_entry_remove",
    ),
    # Data Submission > Network Achievement (PCN membership over time, ADR 0020)
    path("network-achievement/", network_views.ListNetworkAchievementView.as_view(), name="network_achievements"),
    path(
        "network-achievement/<int:achievement_id>/",
        network_views.ShowNetworkAchievementView.as_view(),
        name="network_achievement",
    ),
]
