"""Sign-ins, sign-outs, failed sign-ins and lockouts, on record in the audit log.

Receivers only record; they decide nothing (HackSoftware style: no business logic in signals).
"""

from __future__ import annotations

from .middleware import client_ip
from .services import audit_record


def _ip(request) -> str | None:
    return client_ip(request) if request is not None else None


def record_sign_in(sender, request, user, **kwargs) -> None:
    # The NHSmail callback marks its request; every other sign-in is by password.
    method = getattr(request, "cqrs_sign_in_method", "password")
    audit_record(actor=user, action="sign_in", obj=user, detail={"method": method}, ip_address=_ip(request))


def record_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(actor=user, action="sign_out", obj=user, ip_address=_ip(request))


def record_sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already masked the password in ``credentials``; keep only the address typed.
    email = str(credentials.get("username") or credentials.get("email") or "").strip().lower()[:254]
    from .models import User

    # Tie the event to the account (if there is one) so its administrators see it.
    account = User.objects.filter(email=email).first() if email else None
    audit_record(
        action="sign_in_failed",
        obj=account,
        detail={"email": email, "locked_out": bool(getattr(request, "axes_locked_out", False))},
        ip_address=_ip(request),
    )


def record_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    from .models import User

    account = User.objects.filter(email=(username or "").lower()).first() if username else None
    audit_record(action="sign_in_locked_out", obj=account, detail={"email": username or ""}, ip_address=ip_address)


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(record_sign_in, dispatch_uid="accounts.audit.sign_in")
    user_logged_out.connect(record_sign_out, dispatch_uid="accounts.audit.sign_out")
    user_login_failed.connect(record_sign_in_failed, dispatch_uid="accounts.audit.sign_in_failed")
    user_locked_out.connect(record_locked_out, dispatch_uid="accounts.audit.locked_out")
