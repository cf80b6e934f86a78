"""Reports: Achievement Summary Report, Payments, Network organisation relationship, Allocated Reports."""

from django.urls import path

from .records import views

urlpatterns = [
    path("achievement-summary/", views.ListAchievementSummariesView.as_view(), name="achievement_summaries"),
    path(
        "achievement-summary/<int:achievement_id>/",
        views.ShowAchievementSummaryView.as_view(),
        name="achievement_summary",
    ),
    path(
        "achievement-summary/<int:achievement_id>/csv/",
        views.ExportAchievementSummaryView.as_view(),
        name="achievement_summary_csv",
    ),
    path("payments/", views.ShowPaymentsView.as_view(), name="payments"),
    path("payments/csv/", views.ExportPaymentsView.as_view(file_format="csv"), name="payments_csv"),
    path("payments/xlsx/", views.ExportPaymentsView.as_view(file_format="xlsx"), name="payments_xlsx"),
    path("payments/prepare/", views.PreparePaymentsView.as_view(), name="prepare_payments"),
    path("prepared/<int:report_run_id>/", views.ShowReportRunView.as_view(), name="report_run"),
    path(
        "prepared/<int:report_run_id>/download/",
        views.DownloadReportRunView.as_view(),
        name="report_run_download",
    ),
    path("network-organisation-relationship/", views.ShowNetworkView.as_view(), name="network"),
    path("network-organisation-relationship/csv/", views.ExportNetworkView.as_view(), name="network_csv"),
    path("allocated-reports/", views.ListAllocatedReportsView.as_view(), name="allocated_reports"),
    path("allocated-reports/grant/", views.GrantAllocationView.as_view(), name="grant_allocation"),
    path("allocated-reports/revoke/", views.RevokeAllocationView.as_view(), name="revoke_allocation"),
]
