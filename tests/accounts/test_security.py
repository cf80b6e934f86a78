"""Hardening: throttling, sessions, security headers, CSP without inline script, password
policy, audit of sign-ins and denials, `check --deploy`."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import user_admin
from accounts.models import AuditEvent, Role
from tests.factories import ICBFactory, PracticeFactory, member

pytestmark = pytest.mark.django_db

PASSWORD = "cqrs-test-password-2026"  # tests.factories.UserFactory's
TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


@pytest.fixture
def pat():
    return member(PracticeFactory(), Role.SERVICE_MANAGEMENT, email="pat@nhs.net")


def sign_in(client, email, password, address="192.0.2.10"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address)


# Throttling --------------------------------------------------------------------------------

def test_an_account_is_locked_at_an_address_after_too_many_failures_with_a_clear_message(client, pat, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "pat@nhs.net", "wrong", address="192.0.2.1").status_code == 200
    # The failure that reaches the limit locks the account at that address.
    assert sign_in(client, "pat@nhs.net", "wrong", address="192.0.2.1").status_code == 429
    locked = sign_in(client, "pat@nhs.net", PASSWORD, address="192.0.2.1")
    assert locked.status_code == 429
    assert "locked after too many failed attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="sign_in_locked_out").exists()
    # Lockout is by account and address together: Pat can still sign in from elsewhere.
    assert sign_in(client, "pat@nhs.net", PASSWORD, address="198.51.100.7").status_code == 302


def test_the_lockout_is_by_account_and_address_together(settings):
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_one_accounts_failures_do_not_lock_another_account_at_that_address(client, pat, settings):
    colleague = member(pat.memberships.first().organisation, Role.VIEW, email="colleague@nhs.net")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        sign_in(client, "pat@nhs.net", "wrong", address="203.0.113.9")
    assert sign_in(client, "pat@nhs.net", PASSWORD, address="203.0.113.9").status_code == 429
    # The whole practice shares 203.0.113.9: Pat's colleague still signs in there.
    assert sign_in(client, colleague.email, PASSWORD, address="203.0.113.9").status_code == 302


def test_failures_across_many_accounts_from_one_address_lock_none_of_the_others(client, pat, settings):
    for n in range(settings.AXES_FAILURE_LIMIT * 2):
        sign_in(client, f"nobody{n}@nhs.net", "wrong", address="203.0.113.9")
    assert sign_in(client, "pat@nhs.net", PASSWORD, address="203.0.113.9").status_code == 302


def sign_in_behind_proxy(client, email, password, forwarded_for):
    # The TLS proxy of docker-compose.yml: every request comes from its address, and it appends the
    # client's address to X-Forwarded-For.
    return client.post(reverse("login"), {"username": email, "password": password},
                       REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)


def test_behind_the_proxy_clients_are_told_apart(client, pat, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in_behind_proxy(client, "pat@nhs.net", "wrong", forwarded_for="198.51.100.1")
    assert sign_in_behind_proxy(client, "pat@nhs.net", PASSWORD, forwarded_for="198.51.100.1").status_code == 429
    # An address the client writes itself in front of the proxy's does not escape the lockout...
    assert sign_in_behind_proxy(
        client, "pat@nhs.net", PASSWORD, forwarded_for="192.0.2.200, 198.51.100.1"
    ).status_code == 429
    # ...and Pat at another address (all behind the same proxy) is not locked out.
    assert sign_in_behind_proxy(client, "pat@nhs.net", PASSWORD, forwarded_for="198.51.100.2").status_code == 302


def test_docker_compose_tells_the_web_service_about_its_proxy():
    import yaml

    compose = yaml.safe_load((Path(django_settings.BASE_DIR) / "docker-compose.yml").read_text())
    environment = compose["services"]["web"]["environment"]
    assert environment["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"
    assert environment["BEHIND_TLS_PROXY"] == "${BEHIND_TLS_PROXY:-true}"
    # ...and only the proxy can reach web (a client that could would write its own X-Forwarded-For).
    assert compose["services"]["web"]["ports"] == ["${WEB_BIND_ADDRESS:-127.0.0.1}:${PORT:-8000}:8000"]


def test_unlock_clears_every_lockout_of_the_account(client, client_for, pat, settings):
    admin = member(pat.memberships.first().organisation, Role.USER_ADMINISTRATOR, email="admin@nhs.net")
    addresses = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    for address in addresses:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, "pat@nhs.net", "wrong", address=address)
        assert sign_in(client, "pat@nhs.net", PASSWORD, address=address).status_code == 429
    assert user_admin.user_is_locked_out(user=pat)
    administrator = client_for(admin)
    page = administrator.get(reverse("accounts:user_detail", args=[pat.pk])).content.decode()
    assert "Unlock sign-in" in page
    response = administrator.post(reverse("accounts:unlock_user", args=[pat.pk]))
    assert response.status_code == 302
    assert not user_admin.user_is_locked_out(user=pat)
    administrator.logout()
    for address in addresses:
        assert sign_in(client, "pat@nhs.net", PASSWORD, address=address).status_code == 302
        client.logout()
    assert AuditEvent.objects.filter(action="user_unlocked", actor=admin).exists()


def test_failed_and_successful_sign_ins_are_audited(client, pat):
    sign_in(client, "Pat@NHS.net", "wrong")
    failed = AuditEvent.objects.get(action="sign_in_failed")
    assert failed.detail["email"] == "pat@nhs.net" and failed.ip_address == "192.0.2.10"
    assert "wrong" not in str(failed.detail)
    sign_in(client, "pat@nhs.net", PASSWORD)
    assert AuditEvent.objects.filter(action="sign_in", actor=pat, detail__method="password").exists()


# Sessions ----------------------------------------------------------------------------------

def test_signing_in_gives_a_new_session_key(client, pat):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    sign_in(client, "pat@nhs.net", PASSWORD)
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(pat.pk)


def test_a_disabled_users_sessions_end_at_once(client, client_for, pat):
    sign_in(client, "pat@nhs.net", PASSWORD)
    assert client.get(reverse("home")).status_code == 200
    admin = member(ICBFactory(), Role.USER_ADMINISTRATOR)
    pat.memberships.update(organisation=admin.memberships.first().organisation)
    user_admin.user_disable(actor=admin, user_id=pat.pk)
    assert not Session.objects.filter(session_key=client.session.session_key).exists()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    # ...and they cannot sign in again.
    assert sign_in(client, "pat@nhs.net", PASSWORD).status_code == 200


def test_sessions_time_out_after_the_configured_idle_time(client, pat, settings):
    assert settings.SESSION_COOKIE_AGE == int(os.environ.get("SESSION_IDLE_SECONDS", 30 * 60))
    assert settings.SESSION_SAVE_EVERY_REQUEST  # the clock restarts with each request: an idle timeout
    sign_in(client, "pat@nhs.net", PASSWORD)
    import datetime as dt

    from django.utils import timezone

    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_session_cookie_lasts_the_idle_time(client, pat, settings):
    response = sign_in(client, "pat@nhs.net", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE and cookie["httponly"]


# Headers -----------------------------------------------------------------------------------

def test_security_headers(client, pat, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get(reverse("login"), secure=True)
    csp = response["Content-Security-Policy"]
    directives = dict((d.split(" ", 1) + [""])[:2] for d in (part.strip() for part in csp.split(";")) if d)
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\s on[a-z]+\s*=", re.IGNORECASE | re.VERBOSE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def template_files():
    return sorted(TEMPLATES.rglob("*.html"))


def test_no_template_has_inline_script_or_event_handlers():
    assert template_files()
    problems = []
    for path in template_files():
        text = path.read_text()
        for pattern, what in ((INLINE_SCRIPT, "inline <script>"), (EVENT_HANDLER, "inline event handler"),
                              (JS_URL, "javascript: URL")):
            for match in pattern.finditer(text):
                problems.append(f"{path.relative_to(TEMPLATES)}: {what}: {match.group(0)[:80]}")
        # A <script src> must not carry a body either.
        for match in re.finditer(r"<script\b[^>]*\bsrc=[^>]*>(.*?)</script>", text, re.IGNORECASE | re.DOTALL):
            if match.group(1).strip():
                problems.append(f"{path.relative_to(TEMPLATES)}: <script src> with inline body")
    assert not problems, "\n".join(problems)


def test_nhsuk_frontend_javascript_is_loaded_as_a_module_file(client):
    page = client.get(reverse("login")).content.decode()
    assert re.search(r'<script type="module" src="[^"]+\.mjs"></script>', page)


def test_check_deploy_is_clean_with_the_production_settings():
    # The browser tests' conftest allows async-unsafe ORM calls in this process; production does not.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "cqrs_site.settings",
        "DEBUG": "false",
        "SECRET_KEY": "a-production-secret-key-" + "x9Kq2" * 12,
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_SSL_REDIRECT": "true",
        "SESSION_COOKIE_SECURE": "true",
        "CSRF_COOKIE_SECURE": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# Passwords ---------------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["mango table river", "twelve chars", "x" * 7 + " passphrase " * 10])
def test_passwords_need_no_composition_and_can_be_long(password):
    password_validation.validate_password(password)


@pytest.mark.parametrize("password", [" " * 12, "aaaaaaaaaaaa", "123456789012", "qwertyuiopas", "abcdefghijkl",
                                      "Password1234", "a" * 100])
def test_trivially_guessable_passwords_are_refused_in_plain_words(password):
    with pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password)
    assert "too easy to guess" in " ".join(refused.value.messages)


@pytest.mark.parametrize("password", ["cqrs-demo-2026", PASSWORD, "correct horse battery staple"])
def test_the_demo_and_test_passwords_meet_the_policy(password):
    password_validation.validate_password(password)


def test_the_password_policy_says_guessable_passwords_are_refused(client, pat):
    sign_in(client, "pat@nhs.net", PASSWORD)
    page = client.get(reverse("password_change")).content.decode()
    assert "easy to guess" in page and "at least 12 characters" in page


@pytest.mark.parametrize("password", ["elevenchars", "password1234", "qwertyuiop123"])
def test_short_and_common_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        password_validation.validate_password(password)


def test_a_password_like_the_users_email_is_refused(pat):
    with pytest.raises(ValidationError):
        password_validation.validate_password("pat@nhs.net1", user=pat)


def test_passwords_do_not_expire(settings):
    names = " ".join(v["NAME"] for v in settings.AUTH_PASSWORD_VALIDATORS)
    assert "MinimumLength" in names and "CommonPassword" in names and "UserAttributeSimilarity" in names
    assert "accounts.passwords.GuessablePasswordValidator" in names
    assert not hasattr(settings, "PASSWORD_EXPIRY_DAYS")


def test_my_account_changes_the_password_and_keeps_the_session(client, pat):
    sign_in(client, "pat@nhs.net", PASSWORD)
    page = client.get(reverse("my_account")).content.decode()
    assert "Change password" in page and "Notification preferences" in page
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase",
    })
    assert response.status_code == 302 and response["Location"] == reverse("my_account")
    assert client.get(reverse("home")).status_code == 200  # still signed in
    pat.refresh_from_db()
    assert pat.check_password("a brand new passphrase")
    assert AuditEvent.objects.filter(action="password_changed", actor=pat).exists()
    refused = client.post(reverse("password_change"), {
        "old_password": "a brand new passphrase", "new_password1": "short", "new_password2": "short",
    })
    assert refused.status_code == 200 and "too short" in refused.content.decode()


# Denials -----------------------------------------------------------------------------------

def test_permission_denials_and_refused_ids_are_audited(client_for, pat):
    client = client_for(pat)
    assert client.get(reverse("accounts:manage_users")).status_code == 403
    denial = AuditEvent.objects.get(action="permission_denied")
    assert denial.actor == pat and denial.detail["view"] == "accounts:manage_users"
    other = PracticeFactory()
    assert client.get(reverse("organisation_detail", args=[other.ods_code])).status_code == 404
    refused = AuditEvent.objects.get(action="not_found")
    assert refused.detail["kwargs"] == {"ods_code": other.ods_code}


# Caching -----------------------------------------------------------------------------------

def test_signed_in_pages_are_never_stored_by_the_browser(client, pat):
    sign_in(client, "pat@nhs.net", PASSWORD)
    for name in ("home", "my_account"):
        assert "no-store" in client.get(reverse(name))["Cache-Control"]


def test_static_files_are_not_marked_no_store(client, pat):
    sign_in(client, "pat@nhs.net", PASSWORD)
    static = client.get(django_settings.STATIC_URL + "css/cqrs.css")
    assert static.status_code == 200 and "no-store" not in static.get("Cache-Control", "")
