"""The signed-in user's own screens (Home, Message Centre, organisation, My Account), sign-in and
registration.  Thin: forms validate, accounts' services and selectors do the work; a message or
organisation the user may not see is ``NotFound`` (404, by the middleware)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import FormView, TemplateView

from . import invitations, oidc, passwords, pcn_membership, registration, selectors, services
from .forms import (
    ChangePasswordForm,
    ForgottenPasswordForm,
    NotificationPreferencesForm,
    RegistrationPasswordForm,
    ResetPasswordForm,
    SignInForm,
)
from .middleware import client_ip
from .models import OrganisationKind


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_sign_in_context(self.request))  # Sign in with NHSmail, when configured
        return context


class SignOutView(auth_views.LogoutView):
    pass


class HomeView(TemplateView):
    """Home: the user's organisations and roles, and their Message Centre."""

    template_name = "accounts/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["organisations_and_roles"] = selectors.organisations_and_roles(user=user)
        context["message_list"] = list(selectors.message_list(user=user)[:50])
        return context


class ShowMessageView(TemplateView):
    template_name = "accounts/message_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["message"] = services.message_open(message_id=self.kwargs["pk"], user=self.request.user)
        return context


class ShowOrganisationView(TemplateView):
    """An organisation's page: its links, list sizes and people (only for those who may see it)."""

    template_name = "accounts/organisation_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organisation = selectors.organisation_get(user=self.request.user, ods_code=self.kwargs["ods_code"])
        context["organisation"] = organisation
        context["list_sizes"] = organisation.list_sizes.all()[:5]
        context["people"] = selectors.organisation_people(organisation=organisation)
        if organisation.kind == OrganisationKind.PRACTICE:  # PCN membership over time (ADR 0020)
            context["memberships"] = pcn_membership.practice_memberships(practice=organisation)
            context["can_move_pcn"] = pcn_membership.can_move_practice(self.request.user, organisation)
        return context


class MyAccountView(FormView):
    template_name = "accounts/my_account.html"
    form_class = NotificationPreferencesForm
    success_url = reverse_lazy("my_account")

    def get_initial(self):
        return {"email_notifications": self.request.user.email_notifications}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["organisations_and_roles"] = selectors.organisations_and_roles(user=self.request.user)
        context["pending_invitations"] = invitations.invitation_list(user=self.request.user).count()
        return context

    def form_valid(self, form):
        services.user_update_preferences(
            user=self.request.user, email_notifications=form.cleaned_data["email_notifications"]
        )
        messages.success(self.request, "Your notification preferences have been saved.")
        return redirect(self.get_success_url())


# Sign-in throttling, registration, password change --------------------------------------------


def sign_in_username(request, credentials) -> str:
    """The account django-axes counts failures against: the email address, lower-cased."""
    return str((credentials or {}).get("username") or "").strip().lower()


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout page: say plainly why sign-in is refused and what to do."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"cooloff_minutes": minutes, "page_title": "Sign-in locked"},
        status=429,
    )


def _sign_in_context(request) -> dict:
    if not oidc.is_configured():
        return {}
    return {"nhsmail_url": reverse("nhsmail_sign_in"), "provider_name": oidc.provider_name()}


def password_policy() -> list[str]:
    """The Password Policy as the validators enforce it (shown on Security Information)."""
    return [
        *password_validation.password_validators_help_texts(),
        "Your password can be as long as you like (a passphrase of several words is a good choice) and can contain any characters, including spaces.",
        "It does not need to mix upper case, numbers or symbols, and it does not expire.",
    ]


@method_decorator(login_not_required, name="dispatch")
class RegistrationView(View):
    """The Registration screen an emailed link opens: confirm who you are being registered as."""

    def get(self, request, token):
        try:
            invitation = registration.invitation_from_token(token=token)
        except registration.RegistrationLinkError as error:
            return _link_unusable(request, token, error)
        return render(request, "registration/registration.html", {
            "token": token,
            "details": registration.registration_details(invitation=invitation),
            "page_title": "Registration",
        })


@method_decorator(login_not_required, name="dispatch")
class SecurityInformationView(View):
    """Security Information: the Password Policy; create and confirm a password, or Sign in
    with NHSmail."""

    def _context(self, request, token, invitation, form):
        context = {
            "token": token,
            "form": form,
            "details": registration.registration_details(invitation=invitation),
            "password_policy": password_policy(),
            "page_title": "Security Information",
        }
        if oidc.is_configured():
            context["nhsmail_url"] = f"{reverse('nhsmail_sign_in')}?registration={token}"
            context["provider_name"] = oidc.provider_name()
        return context

    def get(self, request, token):
        try:
            invitation = registration.invitation_from_token(token=token)
        except registration.RegistrationLinkError as error:
            return _link_unusable(request, token, error)
        form = RegistrationPasswordForm(invitation.user)
        return render(request, "registration/security_information.html", self._context(request, token, invitation, form))

    def post(self, request, token):
        try:
            invitation = registration.invitation_from_token(token=token)
        except registration.RegistrationLinkError as error:
            return _link_unusable(request, token, error)
        form = RegistrationPasswordForm(invitation.user, request.POST)
        if not form.is_valid():
            return render(
                request, "registration/security_information.html", self._context(request, token, invitation, form)
            )
        try:
            registration.registration_complete_with_password(
                token=token, password=form.cleaned_data["new_password1"], ip_address=client_ip(request)
            )
        except registration.RegistrationLinkError as error:  # used up in a race
            return _link_unusable(request, token, error)
        messages.success(request, "Your registration is complete. Sign in with your email address and new password.")
        return redirect("login")


@method_decorator(login_not_required, name="dispatch")
class RequestRegistrationLinkView(View):
    """From an expired or used link: ask the organisation's User Administrators for a new one."""

    def post(self, request, token):
        registration.registration_request_new_link(token=token, ip_address=client_ip(request))
        return render(request, "registration/link_requested.html", {"page_title": "New registration link requested"})


def _link_unusable(request, token, error):
    return render(
        request,
        "registration/link_unusable.html",
        {
            "reason": error.reason,
            "token": token,
            "can_request": error.invitation is not None,
            "page_title": "Registration",
        },
        status=410 if error.invitation is not None else 404,
    )


class ChangePasswordView(auth_views.PasswordChangeView):
    """My Account: change password (Django's view; keeps this session signed in)."""

    template_name = "accounts/password_change.html"
    form_class = ChangePasswordForm
    success_url = reverse_lazy("my_account")
    extra_context = {"page_title": "Change password"}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["password_policy"] = password_policy()
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        services.audit_record(actor=self.request.user, action="password_changed", obj=self.request.user,
                              ip_address=client_ip(self.request))
        messages.success(self.request, "Your password has been changed.")
        return response


# Forgotten your password? (Django's reset views; accounts.passwords sends and completes) ------


class ForgottenPasswordView(auth_views.PasswordResetView):
    """Ask for a reset link.  The answer is the same whether or not the address has an account
    (nobody learns who is registered); only an account with a password gets an email."""

    template_name = "registration/password_reset_form.html"
    form_class = ForgottenPasswordForm
    success_url = reverse_lazy("password_reset_done")
    extra_context = {"page_title": "Forgotten your password?"}

    def form_valid(self, form):
        for user in form.get_users(form.cleaned_data["email"]):
            passwords.password_reset_link_send(
                user=user, base_url=self.request.build_absolute_uri("/"), ip_address=client_ip(self.request)
            )
        return redirect(self.get_success_url())


class ForgottenPasswordSentView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(page_title="Check your email", link_minutes=settings.PASSWORD_RESET_TIMEOUT // 60)
        return context


class ResetPasswordView(auth_views.PasswordResetConfirmView):
    """Choose a new password from the emailed link (single use: the token no longer matches once
    the password has changed).  Every session of the user then ends."""

    template_name = "registration/password_reset_confirm.html"
    form_class = ResetPasswordForm
    success_url = reverse_lazy("login")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(page_title="Reset your password", password_policy=password_policy())
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        passwords.password_reset_complete(user=form.user, ip_address=client_ip(self.request))
        messages.success(self.request, "Your password has been reset. Sign in with your email address and new password.")
        return response
