"""Accept invitation (My Account > Invitations): the signed-in person answers the invitations
sent to their own account (maker-checker, ADR 0014).  The URL carries no id: the invitation is
chosen in the form and must be the signed-in user's own (any other is 404)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import TemplateView

from . import invitations
from .errors import NotFound
from .mixins import DomainErrorsMixin


class InvitationAnswerForm(forms.Form):
    invitation = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("decline", "Decline")])


class AcceptInvitationView(DomainErrorsMixin, TemplateView):
    """Accept invitation: each pending invitation with its organisation, the roles proposed and
    who sent it; Accept or Decline.  A refusal (already answered, expired) is shown here."""

    template_name = "accounts/invitations.html"
    extra_context = {"page_title": "Accept invitation"}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "invitation_list": invitations.invitation_list(user=self.request.user)}

    def post(self, request):
        form = InvitationAnswerForm(request.POST)
        if not form.is_valid():
            raise NotFound("No such invitation")
        invitation_id, decision = form.cleaned_data["invitation"], form.cleaned_data["decision"]
        if decision == "accept":
            invitation = invitations.invitation_accept(invitation_id=invitation_id, user=request.user)
            messages.success(
                request,
                f"You have joined {invitation.organisation.name} as {', '.join(invitation.role_labels)}.",
            )
            return redirect("home")
        invitation = invitations.invitation_decline(invitation_id=invitation_id, user=request.user)
        messages.success(request, f"You have declined the invitation to join {invitation.organisation.name}.")
        return redirect("invitations")
