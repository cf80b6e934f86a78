"""Administrative Tasks screens (thin: forms validate, accounts.user_admin does the work)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from . import permissions, selectors, user_admin
from .forms import AddUserForm, ChangeRolesForm, UserSearchForm
from .inputs import id_or_none, text_or_none
from .mixins import DomainErrorsMixin, RoleRequiredMixin
from .models import Role, User

PAGE_SIZE = 25


class AdministrativeTasksMixin(RoleRequiredMixin):
    """Administrative Tasks are for User Administrators; anyone else gets 403 (on record)."""

    permission = "accounts.administer_users"
    permission_denied_message = "Administrative Tasks are for User Administrators"


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


class AddUserView(AdministrativeTasksMixin, FormView):
    """Add New User: a new user gets an email with a registration link; an existing account an
    invitation to join the organisation (ADR 0014)."""

    template_name = "accounts/add_user.html"
    form_class = AddUserForm
    extra_context = {"page_title": "Add New User"}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor": self.request.user}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            user = user_admin.user_add(
                actor=self.request.user,
                email=data["email"],
                full_name=data["full_name"],
                organisation_id=data["organisation"].pk,
                roles=data["roles"],
                base_url=_base_url(self.request),
            )
        except ValidationError as error:
            form.add_error("email", error)
            return self.form_invalid(form)
        except user_admin.UserAdministrationError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        organisation = data["organisation"]
        if user.invitation is not None:
            messages.success(self.request, (
                f"{user.email} already has a CQRS account. We have emailed them an invitation to join "
                f"{organisation.name}: they will hold the roles once they accept it, signed in."))
            return redirect("accounts:add_user")
        messages.success(self.request, f"{user.get_full_name()} has been added to {organisation.name}. "
                                       f"We have emailed {user.email} a registration link.")
        return redirect("accounts:user_detail", user_id=user.pk)


class ListUsersView(AdministrativeTasksMixin, TemplateView):
    """Manage Org's & Users: the users of the organisations this administrator administers."""

    template_name = "accounts/manage_users.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = UserSearchForm(self.request.GET or None)
        search = form.cleaned_data["q"].strip() if form.is_valid() else ""
        organisation_id = None
        raw_org = id_or_none(self.request.GET.get("organisation"))
        if raw_org in permissions.administered_organisation_ids(self.request.user):
            organisation_id = raw_org
        users = selectors.managed_user_list(actor=self.request.user, search=search, organisation_id=organisation_id)
        page = Paginator(users, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            {
                "page_title": "Manage Org's & Users",
                "search_form": form,
                "page_obj": page,
                "user_list": page.object_list,
                "organisations": permissions.administered_organisations(self.request.user).order_by("kind", "name"),
                "organisation_id": organisation_id,
                "search": search,
            }
        )
        return context


class ShowUserView(AdministrativeTasksMixin, TemplateView):
    """One user: their roles in the organisations this administrator administers and the
    actions (change roles, unlink, disable or enable, unlock, send a new registration link)."""

    template_name = "accounts/user_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        actor = self.request.user
        target = selectors.managed_user_get(actor=actor, user_id=self.kwargs["user_id"])
        grouped: dict[int, tuple] = {}
        for membership in target.administered_memberships:
            grouped.setdefault(membership.organisation_id, (membership.organisation, []))[1].append(membership.role)
        holdings = [
            {
                "organisation": organisation,
                "role_labels": [Role(r).label for r in roles],
                "form": ChangeRolesForm(organisation=organisation, initial={"roles": roles},
                                        prefix=f"org{organisation.pk}"),
            }
            for organisation, roles in sorted(grouped.values(), key=lambda pair: pair[0].name)
        ]
        context.update(
            {
                "page_title": target.get_full_name(),
                "target": target,
                "holdings": holdings,
                "can_disable": permissions.can_disable_user(actor, target),
                "is_self": target.pk == actor.pk,
            }
        )
        return context


class _UserActionView(AdministrativeTasksMixin, DomainErrorsMixin, View):
    """A POST-only action on a managed user; GET is not allowed (405).  A refusal in this state
    (``UserAdministrationError``) is shown on the user's page."""

    http_method_names = ["post"]

    def error_url(self) -> str:
        return reverse("accounts:user_detail", kwargs={"user_id": self.kwargs["user_id"]})

    def done(self, message: str):
        messages.success(self.request, message)
        return redirect("accounts:user_detail", user_id=self.kwargs["user_id"])

    def refused(self, message: str):
        messages.error(self.request, message)
        return redirect("accounts:user_detail", user_id=self.kwargs["user_id"])


class ChangeRolesView(_UserActionView):
    def post(self, request, user_id, organisation_id):
        organisation = user_admin.administered_organisation_get(actor=request.user, organisation_id=organisation_id)
        form = ChangeRolesForm(request.POST, organisation=organisation, prefix=f"org{organisation.pk}")
        if not form.is_valid():
            return self.refused("Select at least one role. To take every role away, unlink the user instead.")
        try:
            user_admin.membership_change_roles(
                actor=request.user, user_id=user_id, organisation_id=organisation_id, roles=form.cleaned_data["roles"]
            )
        except ValidationError as error:
            return self.refused(" ".join(error.messages))
        return self.done(f"The roles at {organisation.name} have been saved.")


class UnlinkUserView(_UserActionView):
    def post(self, request, user_id, organisation_id):
        user_admin.membership_unlink(actor=request.user, user_id=user_id, organisation_id=organisation_id)
        messages.success(request, "The user has been unlinked from the organisation.")
        if permissions.can_administer_user(request.user, _user(user_id)):
            return redirect("accounts:user_detail", user_id=user_id)
        return redirect("accounts:manage_users")


class DisableUserView(_UserActionView):
    def post(self, request, user_id):
        user = user_admin.user_disable(actor=request.user, user_id=user_id)
        return self.done(f"{user.get_full_name()} has been disabled and signed out everywhere.")


class EnableUserView(_UserActionView):
    def post(self, request, user_id):
        user = user_admin.user_enable(actor=request.user, user_id=user_id)
        return self.done(f"{user.get_full_name()} has been enabled.")


class UnlockUserView(_UserActionView):
    def post(self, request, user_id):
        user_admin.user_unlock(actor=request.user, user_id=user_id)
        return self.done("The user's sign-in has been unlocked.")


class SendRegistrationLinkView(_UserActionView):
    def post(self, request, user_id):
        user_admin.registration_link_resend(actor=request.user, user_id=user_id, base_url=_base_url(request))
        return self.done("A new registration link has been emailed. The earlier link no longer works.")


class SendPasswordResetLinkView(_UserActionView):
    def post(self, request, user_id):
        user = user_admin.password_reset_link_send(actor=request.user, user_id=user_id, base_url=_base_url(request))
        minutes = settings.PASSWORD_RESET_TIMEOUT // 60
        return self.done(f"We have emailed {user.email} a link to reset their password. It works once and "
                         f"expires in {minutes} minutes; their current password works until then.")


class ListAuditEventsView(AdministrativeTasksMixin, TemplateView):
    """Audit Log: sign-ins, failed sign-ins, denials and user administration in the
    organisations this administrator administers."""

    template_name = "accounts/audit_log.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        action = text_or_none(self.request.GET.get("action", "")) or ""  # NUL: the filter is ignored
        events = selectors.audit_event_list(actor=self.request.user, action=action)
        page = Paginator(events, 50).get_page(self.request.GET.get("page"))
        for event in page.object_list:
            event.action_label = user_admin.AUDIT_ACTIONS.get(event.action, event.action)
        actions = sorted(user_admin.AUDIT_ACTIONS.items(), key=lambda item: item[1])
        context.update({"page_title": "Audit Log", "page_obj": page, "event_list": page.object_list,
                        "actions": actions, "action": action})
        return context


def _user(user_id: int) -> User:
    return User.objects.get(pk=user_id)

