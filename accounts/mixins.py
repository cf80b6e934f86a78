"""The two view mixins every screen uses: one role check (django-rules) and one place that turns
a service's refusal into a message (accounts.errors)."""

from __future__ import annotations

import rules
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.shortcuts import redirect

from .errors import Conflict, Invalid


class RoleRequiredMixin:
    """The screen needs the django-rules permission ``permission`` (a predicate over the user's
    CQRS roles, registered in the app's ``rules`` module; Django's superuser shortcut does not
    apply).  Without it: 403, on record."""

    permission: str = ""
    permission_denied_message: str = ""

    def dispatch(self, request, *args, **kwargs):
        if not self.permission:
            raise ImproperlyConfigured(f"{type(self).__name__} names no permission")
        if not rules.has_perm(self.permission, request.user):
            raise PermissionDenied(self.permission_denied_message)
        return super().dispatch(request, *args, **kwargs)


class DomainErrorsMixin:
    """A ``Conflict`` or ``Invalid`` raised while handling the request is shown as an error
    message on the page the user is sent back to (``error_url``: the same page by default).
    ``NotFound`` and ``NotAllowed`` are left to the middleware (404 and 403)."""

    def error_url(self) -> str:
        return self.request.get_full_path()

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except (Conflict, Invalid) as error:
            messages.error(request, error.message)
            return redirect(self.error_url())
