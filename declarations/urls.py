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
    # Achievement > Declare (provider)
    path("declare/", views.ListDeclarationsToDeclareView.as_view(), name="declare"),
    # Achievement > Declaration Management (commissioner)
    path("declaration-management/", views.DeclarationManagementView.as_view(), name="declaration_management"),
    path("declaration-management/approve/", views.ApproveDeclarationsView.as_view(), name="approve_declarations"),
    path("declaration-management/export/", views.ExportDeclarationsView.as_view(), name="export_declarations"),
    # One declaration
    path("<int:declaration_id>/", views.ShowDeclarationView.as_view(), name="declaration_detail"),
    path(
        "<int:declaration_id>/declare/",
        views.DeclareAchievementView.as_view(),
        name="declare_declaration",
    ),
    path(
        "<int:declaration_id>/tick-box/",
        views.SetDeclarationTickBoxView.as_view(),
        name="declaration_tick_box",
    ),
]
