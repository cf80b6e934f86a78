from django.urls import path

from . import views

app_name = "achievement"

urlpatterns = [
    path("extract-loads/", views.ListExtractLoadsView.as_view(), name="extract_loads"),
    path("extract-loads/<int:pk>/", views.ShowExtractLoadView.as_view(), name="extract_load"),
]
