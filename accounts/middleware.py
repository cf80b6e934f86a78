"""Request plumbing for accounts: the client's address, permission denials on record, and
signed-in pages kept out of the browser's cache."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404
from django.utils.cache import patch_cache_control

from . import services
from .errors import NotAllowed, NotFound


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the
    address the outermost trusted proxy saw (never a value the client could have written)."""
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


class AuditDenialsMiddleware:
    """Record every PermissionDenied (403) and Http404 raised by a view for a signed-in user:
    someone changing an id in a URL to reach another organisation's data is on record.  The
    exception then goes on to Django's usual 403/404 handling.

    The one place where the domain's refusals become HTTP: ``accounts.errors.NotFound`` is
    answered as Http404 and ``NotAllowed`` as PermissionDenied (recorded the same way)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            self.process_exception(request, Http404(exception.message))
            return response_for_exception(request, Http404(exception.message))
        if isinstance(exception, NotAllowed):
            self.process_exception(request, PermissionDenied(exception.message))
            return response_for_exception(request, PermissionDenied(exception.message))
        if isinstance(exception, PermissionDenied):
            action = "permission_denied"
        elif isinstance(exception, Http404):
            action = "not_found"
        else:
            return None
        user = getattr(request, "user", None)
        if action == "not_found" and not getattr(user, "is_authenticated", False):
            return None
        match = getattr(request, "resolver_match", None)
        services.audit_record(
            actor=user,
            action=action,
            detail={
                "path": request.path[:300],
                "method": request.method,
                "view": match.view_name if match else "",
                "kwargs": {k: str(v)[:60] for k, v in (match.kwargs if match else {}).items()},
            },
            ip_address=client_ip(request),
        )
        return None


class NoStoreForSignedInMiddleware:
    """Every response to a signed-in user says ``Cache-Control: no-store``: on a shared practice
    PC, Back after sign-out must not show payments from the browser's cache.  Static files are
    served before this (WhiteNoise) and keep their long caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if getattr(user, "is_authenticated", False):
            patch_cache_control(response, no_store=True, private=True)
        return response
