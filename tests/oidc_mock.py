"""A tiny, real OpenID Connect provider for tests: a threaded HTTP server on 127.0.0.1 with
discovery, JWKS, authorize, token and userinfo endpoints, signing id_tokens (RS256) with a key
generated for the test.

It checks what a real provider checks: the client's redirect_uri, PKCE (S256), and the client's
authentication at the token endpoint (``private_key_jwt``: a client assertion signed with the
client's private key whose public key the test registers; or ``client_secret_basic``).  Codes
work once.  The authorize endpoint shows a small "NHSmail" sign-in form (email address and a
Sign in button) so a browser test can play it; ``auto_sign_in_as`` skips the form for tests
driving the flow with Django's test client.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class MockOpenIDProvider:
    client_id: str = "cqrs-test-client"
    client_secret: str = ""
    client_public_key: RSAKey | None = None  # set for private_key_jwt
    auto_sign_in_as: str | None = None
    email_verified: bool = True
    issuer_override: str | None = None  # to test a provider that claims another issuer
    rogue_signing_key: RSAKey | None = None  # signs id_tokens with a key the JWKS does not publish
    signing_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "mock-1"}))
    codes: dict = field(default_factory=dict)
    token_requests: list = field(default_factory=list)
    used_assertions: set = field(default_factory=set)

    def start(self) -> MockOpenIDProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_GET(self):
                provider._handle(self, "GET")

            def do_POST(self):
                provider._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- endpoints ----------------------------------------------------------------------------
    def _handle(self, request, method: str) -> None:
        url = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        form = {}
        if method == "POST":
            length = int(request.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(request.rfile.read(length).decode()).items()}
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/jwks"): self._jwks,
            ("GET", "/authorize"): self._authorize,
            ("POST", "/authorize"): self._authorize,
            ("POST", "/token"): self._token,
        }
        handler = routes.get((method, url.path))
        if handler is None:
            return self._send(request, 404, {"error": "not_found"})
        handler(request, query, form)

    def _send(self, request, status: int, body, content_type: str = "application/json", headers=None) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _discovery(self, request, query, form) -> None:
        issuer = self.issuer_override or self.issuer
        self._send(request, 200, {
            "issuer": issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
        })

    def _jwks(self, request, query, form) -> None:
        self._send(request, 200, KeySet([self.signing_key]).as_dict(private=False))

    def _authorize(self, request, query, form) -> None:
        params = {**query, **form}
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            return self._send(request, 400, {"error": "invalid_request"})
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return self._send(request, 400, {"error": "invalid_request", "error_description": "PKCE required"})
        email = self.auto_sign_in_as or form.get("email")
        if not email:
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in query.items()
            )
            page = (
                "<!DOCTYPE html><html lang='en'><head><title>NHSmail sign in</title></head><body>"
                "<h1>NHSmail</h1><form method='post' action='/authorize'>" + hidden +
                "<label for='email'>Email address</label> <input id='email' name='email' type='email'>"
                "<label for='password'>Password</label> <input id='password' name='password' type='password'>"
                "<button type='submit'>Sign in</button></form></body></html>"
            )
            return self._send(request, 200, page, "text/html; charset=utf-8")
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "email": email,
            "redirect_uri": params["redirect_uri"],
            "nonce": params.get("nonce"),
            "code_challenge": params["code_challenge"],
        }
        target = f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params.get('state', '')})}"
        self._send(request, 302, "", "text/plain", {"Location": target})

    def _client_authenticated(self, request, form) -> bool:
        if form.get("client_assertion_type") == CLIENT_ASSERTION_TYPE:
            if self.client_public_key is None:
                return False
            try:
                token = jwt.decode(form.get("client_assertion", ""), self.client_public_key)
            except Exception:
                return False
            claims = token.claims
            audience = claims.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            fresh = claims.get("exp", 0) > time.time() and claims.get("jti") not in self.used_assertions
            self.used_assertions.add(claims.get("jti"))
            return (
                claims.get("iss") == self.client_id
                and claims.get("sub") == self.client_id
                and f"{self.issuer}/token" in audiences
                and fresh
            )
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic ") and self.client_secret:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)
        return False

    def _token(self, request, query, form) -> None:
        self.token_requests.append({"form": dict(form), "authorization": request.headers.get("Authorization", "")})
        if not self._client_authenticated(request, form):
            return self._send(request, 401, {"error": "invalid_client"})
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return self._send(request, 400, {"error": "invalid_grant"})
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return self._send(request, 400, {"error": "invalid_grant", "error_description": "redirect_uri"})
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["code_challenge"]:
            return self._send(request, 400, {"error": "invalid_grant", "error_description": "PKCE"})
        now = int(time.time())
        claims = {
            "iss": self.issuer_override or self.issuer,
            "sub": hashlib.sha256(grant["email"].encode()).hexdigest()[:24],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "email": grant["email"],
            "email_verified": self.email_verified,
        }
        access_token = secrets.token_urlsafe(24)
        claims["at_hash"] = _at_hash(access_token)
        key = self.rogue_signing_key or self.signing_key
        id_token = jwt.encode({"alg": "RS256", "kid": self.signing_key.kid}, claims, key)
        self._send(request, 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                                  "id_token": id_token}, headers={"Cache-Control": "no-store"})


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def configure_cqrs_for(settings, provider: MockOpenIDProvider, *, private_key_jwt: bool = True) -> None:
    """Point CQRS's Sign in with NHSmail at ``provider`` (pytest-django's ``settings``)."""
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = provider.client_id
    settings.OIDC_PRIVATE_KEY_PATH = ""
    if private_key_jwt:
        client_key = RSAKey.generate_key(2048, parameters={"kid": "cqrs-client-1"})
        provider.client_public_key = RSAKey.import_key(client_key.as_dict(private=False))
        settings.OIDC_PRIVATE_KEY = client_key.as_pem(private=True).decode()
        settings.OIDC_PRIVATE_KEY_ID = "cqrs-client-1"
        settings.OIDC_CLIENT_SECRET = ""
    else:
        provider.client_secret = secrets.token_urlsafe(16)
        settings.OIDC_PRIVATE_KEY = ""
        settings.OIDC_CLIENT_SECRET = provider.client_secret
