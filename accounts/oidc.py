"""Sign in with NHSmail: OpenID Connect single sign-on with Authlib (ADR 0003).

Authorization code flow with PKCE (S256), state and nonce; the id_token's signature (the
provider's JWKS), issuer, audience, expiry and nonce are checked by Authlib.  The client
authenticates at the token endpoint with ``private_key_jwt`` (NHS CIS2 / NHSmail's recommended
method) when a private key is configured, else with ``client_secret_basic``.

An identity only ever signs in an existing, active, registered user with the same email
address: this module never creates a user.  Configured by the OIDC_* settings; when OIDC_ISSUER
or OIDC_CLIENT_ID is unset the feature is hidden and its URLs answer 404.
"""

from __future__ import annotations

import logging
from pathlib import Path

from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from .errors import NotAllowed, NotFound
from .middleware import client_ip
from .models import User
from .registration import RegistrationLinkError, registration_complete_with_nhsmail, user_is_registered
from .services import audit_record

log = logging.getLogger(__name__)

SESSION_REGISTRATION = "cqrs_nhsmail_registration"
SESSION_NEXT = "cqrs_nhsmail_next"

_apps: dict[tuple, object] = {}


class NHSmailSignInRefused(NotAllowed):
    """The identity provider signed someone in whom CQRS cannot sign in; says why (shown on the
    sign-in page by the callback view)."""


def is_configured() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME


def _private_key() -> str:
    if settings.OIDC_PRIVATE_KEY:
        return settings.OIDC_PRIVATE_KEY
    if settings.OIDC_PRIVATE_KEY_PATH:
        return Path(settings.OIDC_PRIVATE_KEY_PATH).read_text()
    return ""


def client():
    """The Authlib client for the configured provider (discovery and keys cached per config)."""
    private_key = _private_key()
    config = (
        settings.OIDC_ISSUER.rstrip("/"),
        settings.OIDC_CLIENT_ID,
        settings.OIDC_CLIENT_SECRET,
        private_key,
        settings.OIDC_PRIVATE_KEY_ID,
        settings.OIDC_SCOPES,
    )
    app = _apps.get(config)
    if app is None:
        issuer, client_id, secret, _, key_id, scopes = config
        client_kwargs = {"scope": scopes, "code_challenge_method": "S256"}
        auth_methods = None
        if private_key:
            client_kwargs["token_endpoint_auth_method"] = "private_key_jwt"
            auth_methods = [PrivateKeyJWT(headers={"kid": key_id} if key_id else None)]
            secret = private_key  # Authlib signs the client assertion with the "secret"
        app = OAuth().register(
            "nhsmail",
            client_id=client_id,
            client_secret=secret,
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
            client_auth_methods=auth_methods,
        )
        _apps.clear()
        _apps[config] = app
    return app


def _check_issuer(app) -> None:
    metadata = app.load_server_metadata()
    if metadata.get("issuer", "").rstrip("/") != settings.OIDC_ISSUER.rstrip("/"):
        raise OAuthError(description="The provider's discovery document names another issuer.")


def nhsmail_identity_user(*, claims: dict) -> User:
    """The CQRS user an NHSmail identity signs in: an existing, active, registered user with the
    identity's (verified) email address.  Never creates one."""
    email = str(claims.get(settings.OIDC_EMAIL_CLAIM) or "").strip().lower()
    if not email:
        raise NHSmailSignInRefused("Your NHSmail account did not share an email address with CQRS.")
    if claims.get("email_verified") is False:
        raise NHSmailSignInRefused("Your NHSmail email address is not verified.")
    user = User.objects.filter(email__iexact=email).first()
    if user is None or not user.is_active:
        raise NHSmailSignInRefused(
            f"There is no CQRS account for {email}. Ask your User Administrator to add you."
        )
    if not user_is_registered(user=user):
        raise NHSmailSignInRefused(
            "You have not registered yet. Open the registration link in the email CQRS sent you."
        )
    return user


@method_decorator(login_not_required, name="dispatch")
class NHSmailSignInView(View):
    """Start Sign in with NHSmail: redirect to the provider (from the sign-in page, or from
    Security Information with ``?registration=<token>``)."""

    def get(self, request):
        if not is_configured():
            raise NotFound("Sign in with NHSmail is not configured")
        request.session.pop(SESSION_REGISTRATION, None)
        token = request.GET.get("registration", "")
        if token:
            request.session[SESSION_REGISTRATION] = token
        next_url = request.GET.get("next", "")
        if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            request.session[SESSION_NEXT] = next_url
        app = client()
        try:
            _check_issuer(app)
            return app.authorize_redirect(request, request.build_absolute_uri(reverse("nhsmail_callback")))
        except Exception as error:  # the provider is down or misconfigured
            log.warning("NHSmail sign-in could not start: %s", error)
            return _refused(request, "Sign in with NHSmail is not available at the moment. Sign in with your password.")


@method_decorator(login_not_required, name="dispatch")
class NHSmailCallbackView(View):
    """The provider sends the user back here with a code; exchange it, check the id_token and
    sign the matching user in (a new session key: django.contrib.auth.login rotates it)."""

    def get(self, request):
        if not is_configured():
            raise NotFound("Sign in with NHSmail is not configured")
        app = client()
        try:
            token = app.authorize_access_token(
                request, claims_options={"iss": {"essential": True, "values": [settings.OIDC_ISSUER.rstrip("/")]}}
            )
            claims = dict(token.get("userinfo") or {})
            if not claims:
                raise OAuthError(description="The provider returned no id_token.")
        except Exception as error:  # OAuthError, a state mismatch, a bad signature or claim
            log.warning("NHSmail sign-in failed: %s", error)
            audit_record(action="sign_in_failed", detail={"method": "nhsmail", "error": str(error)[:200]},
                         ip_address=client_ip(request))
            return _refused(request, "Sign in with NHSmail did not complete. Try again, or sign in with your password.")

        registration_token = request.session.pop(SESSION_REGISTRATION, "")
        email = str(claims.get(settings.OIDC_EMAIL_CLAIM) or "")
        try:
            if registration_token:
                if claims.get("email_verified") is False:
                    raise NHSmailSignInRefused("Your NHSmail email address is not verified.")
                try:
                    registration_complete_with_nhsmail(
                        token=registration_token, email=email, ip_address=client_ip(request)
                    )
                except RegistrationLinkError as error:
                    raise NHSmailSignInRefused(
                        f"{error.reason} Your NHSmail address must be the one your User Administrator registered."
                    ) from None
            user = nhsmail_identity_user(claims=claims)
        except NHSmailSignInRefused as refusal:
            audit_record(action="sign_in_failed", detail={"method": "nhsmail", "email": email[:254],
                                                          "reason": str(refusal)}, ip_address=client_ip(request))
            return _refused(request, str(refusal))

        next_url = request.session.pop(SESSION_NEXT, "") or settings.LOGIN_REDIRECT_URL
        request.cqrs_sign_in_method = "nhsmail"
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if registration_token:
            messages.success(request, "Your registration is complete. You are signed in with NHSmail.")
        return redirect(next_url)


def _refused(request, reason: str):
    return render(
        request,
        "registration/nhsmail_refused.html",
        {"reason": reason, "provider_name": provider_name(), "page_title": f"Sign in with {provider_name()}"},
        status=403,
    )
