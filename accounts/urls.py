from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import oidc, pcn_move_views, views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("sign-in/", login_not_required(views.SignInView.as_view()), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    # Forgotten your password? (public: the emailed link is its own authority)
    path(
        "sign-in/forgotten-password/",
        login_not_required(views.ForgottenPasswordView.as_view()),
        name="password_reset",
    ),
    path(
        "sign-in/forgotten-password/check-your-email/",
        login_not_required(views.ForgottenPasswordSentView.as_view()),
        name="password_reset_done",
    ),
    path(
        "sign-in/reset-password/<uidb64>/<token>/",
        login_not_required(views.ResetPasswordView.as_view()),
        name="password_reset_confirm",
    ),
    path("messages/<int:pk>/", views.ShowMessageView.as_view(), name="message_detail"),
    path("organisations/<str:ods_code>/", views.ShowOrganisationView.as_view(), name="organisation_detail"),
    path(
        "organisations/<str:ods_code>/pcn-move/",
        pcn_move_views.RecordPcnMoveView.as_view(),
        name="practice_pcn_move",
    ),
    path("my-account/", views.MyAccountView.as_view(), name="my_account"),
    path("my-account/password/", views.ChangePasswordView.as_view(), name="password_change"),
    # Registration by emailed link, and Sign in with NHSmail (public: they sign people in).
    path("register/<str:token>/", views.RegistrationView.as_view(), name="registration"),
    path(
        "register/<str:token>/security-information/",
        views.SecurityInformationView.as_view(),
        name="registration_security_information",
    ),
    path("register/<str:token>/new-link/", views.RequestRegistrationLinkView.as_view(), name="registration_new_link"),
    path("sign-in/nhsmail/", oidc.NHSmailSignInView.as_view(), name="nhsmail_sign_in"),
    path("sign-in/nhsmail/callback/", oidc.NHSmailCallbackView.as_view(), name="nhsmail_callback"),
]
