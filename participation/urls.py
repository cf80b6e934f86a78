from django.urls import path

from . import views

app_name = "participation"

urlpatterns = [
    path("my-services/", views.ListMyServicesView.as_view(), name="my_services"),
    path("my-services/respond/", views.RespondToOffersView.as_view(), name="respond_to_offers"),
    path("offers/<int:pk>/", views.ShowOfferView.as_view(), name="offer_detail"),
    path("create-offers/", views.CreateOffersView.as_view(), name="create_offers"),
    path("create-offers/providers/", views.ChooseProvidersView.as_view(), name="choose_providers"),
    path("create-offers/review/", views.ReviewOffersView.as_view(), name="review_offers"),
    path("offered-services/", views.ListOfferedServicesView.as_view(), name="offered_services"),
    path(
        "offered-services/<int:service_pk>/",
        views.ListOfferedServiceProvidersView.as_view(),
        name="offered_service",
    ),
    path("offered-services/<int:service_pk>/manage/", views.ManageOffersView.as_view(), name="manage_offers"),
]
