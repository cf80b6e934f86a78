"""Reports: where the money is lost (commissioner) and this year beside last (practice)."""

from django.urls import path

from .insights import views

urlpatterns: list = [
    path("where-the-money-is-lost/", views.ShowMoneyLostView.as_view(), name="money_lost"),
    path(
        "where-the-money-is-lost/indicator/",
        views.ShowMoneyLostIndicatorView.as_view(),
        name="money_lost_indicator",
    ),
    path("this-year-and-last/", views.ShowYearOnYearView.as_view(), name="year_on_year"),
]
