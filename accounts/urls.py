from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("sign-in/", login_not_required(views.SignInView.as_view()), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("messages/<int:pk>/", views.ShowMessageView.as_view(), name="message_detail"),
    path("organisations/<str:ods_code>/", views.ShowOrganisationView.as_view(), name="organisation_detail"),
    path("my-account/", views.MyAccountView.as_view(), name="my_account"),
]
