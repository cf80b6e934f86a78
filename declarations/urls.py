from django.urls import path

from .aspiration import urls as aspiration_urls
from .views import declare, detail, management, results

app_name = "declarations"

urlpatterns = [
    path("achievement-results/", results.ListAchievementResultsView.as_view(), name="results"),
    path(
        "achievement-results/<int:achievement_id>/",
        results.ShowAchievementResultsView.as_view(),
        name="achievement_results",
    ),
    # Achievement > Declare (provider)
    path("declare/", declare.ListDeclarationsToDeclareView.as_view(), name="declare"),
    # Achievement > Declaration Management (commissioner)
    path(
        "declaration-management/",
        management.ListDeclarationsToManageView.as_view(),
        name="declaration_management",
    ),
    path(
        "declaration-management/approve/",
        management.ApproveDeclarationsView.as_view(),
        name="approve_declarations",
    ),
    path(
        "declaration-management/export/",
        management.ExportDeclarationsView.as_view(),
        name="export_declarations",
    ),
    # One declaration
    path("<int:declaration_id>/", detail.ShowDeclarationView.as_view(), name="declaration_detail"),
    path("<int:declaration_id>/declare/", declare.DeclareAchievementView.as_view(), name="declare_declaration"),
    path(
        "<int:declaration_id>/tick-box/",
        declare.SetDeclarationTickBoxView.as_view(),
        name="declaration_tick_box",
    ),
]
# Aspiration payments (issue 13): Aspiration Management and Aspiration Payments.
urlpatterns += aspiration_urls.urlpatterns
