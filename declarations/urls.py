from django.urls import path

from .aspiration import urls as aspiration_urls
from .views import claims, declare, detail, management, national, results

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
    # Monthly claims (issue 16): the provider's month by month, the commissioner's months
    path("monthly-claims/", claims.ListMonthlyClaimsView.as_view(), name="monthly_claims"),
    path("monthly-claims/declare/", claims.DeclareClaimsView.as_view(), name="declare_claims"),
    path("declaration-management/months/", claims.ListMonthsToApproveView.as_view(), name="claims_months"),
    path(
        "declaration-management/months/<int:achievement_date_id>/approve/",
        claims.ApproveClaimsMonthView.as_view(),
        name="approve_claims_month",
    ),
    # Administrative Tasks > National Figures (National Administrator, issue 13)
    path("national-figures/", national.ListNationalFiguresView.as_view(), name="national_figures"),
    path(
        "national-figures/<int:service_id>/<int:achievement_date_id>/",
        national.ShowNationalFiguresView.as_view(),
        name="national_figures_detail",
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
