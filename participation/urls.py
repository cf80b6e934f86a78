from django.urls import path

from .views.clusters import (
    ChangeClusterProvidersView,
    DeleteClusterView,
    ListClustersView,
    RenameClusterView,
    ShowClusterView,
)
from .views.create_offers import ChooseProvidersView, CreateOffersView, ReviewOffersView
from .views.my_services import ListMyServicesView, RespondToOffersView
from .views.offered_services import ListOfferedServiceProvidersView, ListOfferedServicesView, ManageOffersView
from .views.show_offer import ShowOfferView

app_name = "participation"

urlpatterns = [
    path("my-services/", ListMyServicesView.as_view(), name="my_services"),
    path("my-services/respond/", RespondToOffersView.as_view(), name="respond_to_offers"),
    path("offers/<int:pk>/", ShowOfferView.as_view(), name="offer_detail"),
    path("create-offers/", CreateOffersView.as_view(), name="create_offers"),
    path("create-offers/providers/", ChooseProvidersView.as_view(), name="choose_providers"),
    path("create-offers/review/", ReviewOffersView.as_view(), name="review_offers"),
    path("offered-services/", ListOfferedServicesView.as_view(), name="offered_services"),
    path("offered-services/<int:service_pk>/", ListOfferedServiceProvidersView.as_view(), name="offered_service"),
    path("offered-services/<int:service_pk>/manage/", ManageOffersView.as_view(), name="manage_offers"),
    path("clusters/", ListClustersView.as_view(), name="clusters"),
    path("clusters/<int:cluster_id>/", ShowClusterView.as_view(), name="cluster_detail"),
    path("clusters/<int:cluster_id>/rename/", RenameClusterView.as_view(), name="rename_cluster"),
    path("clusters/<int:cluster_id>/providers/", ChangeClusterProvidersView.as_view(), name="cluster_providers"),
    path("clusters/<int:cluster_id>/delete/", DeleteClusterView.as_view(), name="delete_cluster"),
]
