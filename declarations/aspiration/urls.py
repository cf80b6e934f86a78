"""Aspiration payments' URLs, part of the declarations app's (``declarations:aspiration_*``)."""

from django.urls import path

from . import views

urlpatterns = [
    # Achievement > Aspiration Management (commissioner)
    path("aspiration-management/", views.ListAspirationsToManageView.as_view(), name="aspiration_management"),
    path(
        "aspiration-management/calculate/",
        views.CalculateAspirationsView.as_view(),
        name="calculate_aspirations",
    ),
    path("aspiration-management/approve/", views.ApproveAspirationsView.as_view(), name="approve_aspirations"),
    path("aspiration/<int:aspiration_id>/", views.ShowAspirationView.as_view(), name="aspiration_detail"),
    # Achievement > Aspiration Payments (provider)
    path("aspiration-payments/", views.ListAspirationPaymentsView.as_view(), name="aspiration_payments"),
]
