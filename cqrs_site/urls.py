from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("my-account/invitations/", include("accounts.invitation_urls")),
    path("administration/", include("accounts.admin_urls")),
    path("participation/", include("participation.urls")),
    path("achievement/", include("achievement.urls")),
    path("declarations/", include("declarations.urls")),
    path("reports/", include("reports.urls")),
]
