from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    # "User ID", as the job aid, Registration and Security Information call it: the email address.
    username = forms.EmailField(
        label="User ID",
        help_text="The email address your User Administrator registered you with.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("sign-in", "Sign in"))

    def clean_username(self):
        return self.cleaned_data["username"].lower()


class NotificationPreferencesForm(forms.Form):
    email_notifications = forms.BooleanField(
        label="Email me when a message or task arrives in my Message Centre", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save preferences"))


# User administration, registration and passwords (issue 7) -----------------------------------

from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm  # noqa: E402

from . import permissions  # noqa: E402
from .models import Organisation, Role  # noqa: E402


class AddUserForm(forms.Form):
    """Add New User: name, email, organisation and roles (Administrative Tasks)."""

    full_name = forms.CharField(label="Full name", max_length=150)
    email = forms.EmailField(
        label="Email address",
        help_text="Their NHS email address: the address they will sign in with.",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    organisation = forms.ModelChoiceField(label="Organisation", queryset=Organisation.objects.none())
    roles = forms.MultipleChoiceField(
        label="Roles", choices=Role.choices, widget=forms.CheckboxSelectMultiple,
        help_text="Commissioner roles apply at an ICB; Service Management, Achievement Entry, Declaration "
        "Management, View and Finance View at a practice or PCN.",
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = permissions.administered_organisations(actor).order_by("kind", "name")
        self.helper = FormHelper()
        self.helper.add_input(Submit("add-user", "Add User"))

    def clean(self):
        cleaned = super().clean()
        organisation, roles = cleaned.get("organisation"), cleaned.get("roles")
        if organisation and roles:
            allowed = set(permissions.roles_for_organisation(organisation))
            wrong = [str(Role(r).label) for r in roles if r not in allowed]
            if wrong:
                self.add_error("roles", f"{', '.join(wrong)} cannot be held at a {organisation.get_kind_display()}.")
        return cleaned


class ChangeRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label="Roles", choices=Role.choices, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = permissions.roles_for_organisation(organisation)
        self.fields["roles"].choices = [(r, Role(r).label) for r in allowed]
        self.fields["roles"].label = f"Roles at {organisation.name}"
        self.helper = FormHelper()
        self.helper.form_tag = False


class UserSearchForm(forms.Form):
    q = forms.CharField(label="Search by name or email address", required=False, max_length=100)


class RegistrationPasswordForm(SetPasswordForm):
    """Security Information: create a password under the Password Policy and confirm it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Create password"
        self.fields["new_password1"].help_text = ""
        self.fields["new_password2"].label = "Confirm password"
        self.helper = FormHelper()
        self.helper.add_input(Submit("register", "Create password"))


class ChangePasswordForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = ""
        self.fields["new_password2"].label = "Confirm new password"
        self.helper = FormHelper()
        self.helper.add_input(Submit("change-password", "Change password"))


class ForgottenPasswordForm(PasswordResetForm):
    """Forgotten your password?: the email address to send a reset link to."""

    email = forms.EmailField(
        label="Email address",
        help_text="The email address you sign in with (your User ID).",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("send-link", "Send me a reset link"))


class ResetPasswordForm(SetPasswordForm):
    """Choose a new password from an emailed reset link (under the Password Policy)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = ""
        self.fields["new_password2"].label = "Confirm new password"
        self.helper = FormHelper()
        self.helper.add_input(Submit("reset-password", "Reset password"))
