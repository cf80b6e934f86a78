"""My Account > Invitations: answer an invitation to join an organisation (ADR 0014)."""

from django.urls import path

from . import invitation_views

urlpatterns = [
    path("", invitation_views.AcceptInvitationView.as_view(), name="invitations"),
]
