"""Administrative Tasks (User Administrators): Add New User, Manage Org's & Users, Audit Log."""

from django.urls import path

from . import admin_views

app_name = "accounts"

urlpatterns = [
    path("add-user/", admin_views.AddUserView.as_view(), name="add_user"),
    path("users/", admin_views.ListUsersView.as_view(), name="manage_users"),
    path("users/<int:user_id>/", admin_views.ShowUserView.as_view(), name="user_detail"),
    path(
        "users/<int:user_id>/organisations/<int:organisation_id>/roles/",
        admin_views.ChangeRolesView.as_view(),
        name="change_roles",
    ),
    path(
        "users/<int:user_id>/organisations/<int:organisation_id>/unlink/",
        admin_views.UnlinkUserView.as_view(),
        name="unlink_user",
    ),
    path("users/<int:user_id>/disable/", admin_views.DisableUserView.as_view(), name="disable_user"),
    path("users/<int:user_id>/enable/", admin_views.EnableUserView.as_view(), name="enable_user"),
    path("users/<int:user_id>/unlock/", admin_views.UnlockUserView.as_view(), name="unlock_user"),
    path(
        "users/<int:user_id>/registration-link/",
        admin_views.SendRegistrationLinkView.as_view(),
        name="send_registration_link",
    ),
    path(
        "users/<int:user_id>/password-reset-link/",
        admin_views.SendPasswordResetLinkView.as_view(),
        name="send_password_reset_link",
    ),
    path("audit-log/", admin_views.ListAuditEventsView.as_view(), name="audit_log"),
]
