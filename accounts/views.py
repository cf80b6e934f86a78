from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.generic import FormView, TemplateView

from . import selectors, services
from .forms import NotificationPreferencesForm, SignInForm


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


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
        return context

    def form_valid(self, form):
        services.user_update_preferences(
            user=self.request.user, email_notifications=form.cleaned_data["email_notifications"]
        )
        messages.success(self.request, "Your notification preferences have been saved.")
        return redirect(self.get_success_url())
