"""Settings, read from the environment (12-factor).

With nothing set the service runs on the embedded defaults: SQLite and Celery tasks executed
in-process.  ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to Celery on Redis with real
workers.  See README.md "Configuration" for every variable.

Sections: the environment; apps, middleware and templates; data (database, cache, files);
authentication and sign-in throttling (ADR 0003); transport security, sessions and the Content
Security Policy; email; Celery and extract loads; user administration and Sign in with NHSmail;
the service's identity; logging.
"""

import datetime
from pathlib import Path

import environ
from csp.constants import NONE as _CSP_NONE
from csp.constants import SELF as _CSP_SELF

BASE_DIR = Path(__file__).resolve().parent.parent

# The environment --------------------------------------------------------------------------------

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
# The default starts "django-insecure-" so that `check --deploy` warns when it is left in place.
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-key-set-SECRET_KEY-in-production-0123")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Apps, middleware and templates -------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "rules.apps.AutodiscoverRulesConfig",
    "django_fsm",
    # The service's apps, each depending only on those above it (docs/design.md).
    "accounts",
    "participation",
    "achievement",
    "declarations",
    "reports",
    "axes",  # sign-in throttling
    "csp",  # the Content Security Policy header
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Signed-in pages are never kept by the browser (a shared PC's Back button after sign-out).
    "accounts.middleware.NoStoreForSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The domain's refusals (accounts.errors) become 404/403 here, and every denial is on record.
    "accounts.middleware.AuditDenialsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cqrs_site.urls"
WSGI_APPLICATION = "cqrs_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.service",
            ],
        },
    },
]

CRISPY_ALLOWED_TEMPLATE_PACKS = ("nhsuk",)
CRISPY_TEMPLATE_PACK = "nhsuk"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]

# Data: database, cache, static and uploaded files -------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Connections kept CONN_MAX_AGE seconds (docker-compose.yml: 60, web and workers), checked before
# reuse so that one the database has dropped is replaced rather than failing a request or a task.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: every transaction takes the write lock when it begins (IMMEDIATE), so
    # concurrent writers queue for up to 20 s instead of failing with "database is locked", and
    # the second approver reads what the first wrote ("already approved"), as on PostgreSQL.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Authentication and sign-in throttling (ADR 0003) -------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes checks every password sign-in first and refuses it while the account or the
    # address is locked out; it needs the request, so sign in through a view (tests:
    # client.force_login or client.post to the sign-in page, not client.login()).
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # No composition rules and no expiry (NCSC), but nothing a guesser tries early: zxcvbn's
    # estimate must reach 3 of 4 (about 10^8 guesses).
    {"NAME": "accounts.passwords.GuessablePasswordValidator", "OPTIONS": {"min_score": 3}},
]
# "Forgotten your password?": the emailed link works once and for this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_MINUTES", default=60) * 60

# After AXES_FAILURE_LIMIT failures for one account from one address, further attempts for that
# account from that address are refused for AXES_COOLOFF_MINUTES (a User Administrator can unlock
# sooner, from every address at once).  Account and address together: a practice behind one
# address is never locked out by one person's mistyping or by an attacker trying its accounts.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.views.sign_in_username"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # our audit log records sign-ins
# Behind N reverse proxies the client address is the Nth from the right of X-Forwarded-For
# (docker-compose.yml sets 1); with 0 behind a proxy every client would share the proxy's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.middleware.client_ip"

# Transport security, sessions and the Content Security Policy -------------------------------------
# With DEBUG off and the production variables set, `check --deploy` is clean.

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Asking to be preloaded needs a max-age of at least a year (the browsers' list requires it); with that
# set the header asks for it unless SECURE_HSTS_PRELOAD=false (then `check --deploy` warns, W021).
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS >= 31536000)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True

# No inline script anywhere (NHS.UK frontend JS is an ES module file).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_CSP_SELF],
        "script-src": [_CSP_SELF],
        "style-src": [_CSP_SELF],
        "img-src": [_CSP_SELF, "data:"],
        "font-src": [_CSP_SELF],
        "connect-src": [_CSP_SELF],
        "object-src": [_CSP_NONE],
        "base-uri": [_CSP_SELF],
        "form-action": [_CSP_SELF],
        "frame-ancestors": [_CSP_NONE],
    }
}

# Email --------------------------------------------------------------------------------------------
# By default, email is written to files under var/sent-emails/ (one per message) for a local run.

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=BASE_DIR / "var" / "sent-emails")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CQRS <noreply@cqrs.example.nhs.uk>")

# Celery and extract loads -------------------------------------------------------------------------
# Settings namespaced CELERY_.  No REDIS_URL: tasks run in-process (embedded default).

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# The longest task (a national extract load) runs well under an hour; acks_late tasks are
# redelivered only after the visibility timeout, which must exceed it.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 3600}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS

# GPES extracts larger than this many rows are validated and staged in batches that several
# workers share (then applied in one transaction).  0: one task per extract, the fastest when
# the workers share one machine; set e.g. 250000 when workers run on several machines.
EXTRACT_BATCH_ROWS = env.int("EXTRACT_BATCH_ROWS", default=0)

# User administration and Sign in with NHSmail -----------------------------------------------------

# New users' email addresses must be at one of these domains (or a subdomain of one);
# registration links stay valid this many days.
USER_EMAIL_DOMAINS = env.list("USER_EMAIL_DOMAINS", default=["nhs.net", "nhs.uk"])
REGISTRATION_LINK_DAYS = env.int("REGISTRATION_LINK_DAYS", default=14)
# The address of this CQRS, for the full links in notification emails ("Sign in to CQRS to see it:
# https://cqrs.example.nhs.uk/declarations/4/"); the default is where `make run` serves.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")

# Sign in with NHSmail (OpenID Connect).  Hidden unless OIDC_ISSUER and OIDC_CLIENT_ID are set.
# Client authentication: private_key_jwt with OIDC_PRIVATE_KEY (PEM) or OIDC_PRIVATE_KEY_PATH,
# else client_secret_basic with OIDC_CLIENT_SECRET.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_PRIVATE_KEY = env.str("OIDC_PRIVATE_KEY", default="", multiline=True)
OIDC_PRIVATE_KEY_PATH = env.str("OIDC_PRIVATE_KEY_PATH", default="")
OIDC_PRIVATE_KEY_ID = env.str("OIDC_PRIVATE_KEY_ID", default="")
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
OIDC_EMAIL_CLAIM = env.str("OIDC_EMAIL_CLAIM", default="email")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="NHSmail")

# The service's identity and the footer's "Need help?" block ---------------------------------------

SERVICE_NAME = env.str("SERVICE_NAME", default="Calculating Quality Reporting Service")
SERVICE_DESK_EMAIL = env.str("SERVICE_DESK_EMAIL", default="support@cqrs.co.uk")
SERVICE_DESK_PHONE = env.str("SERVICE_DESK_PHONE", default="0330 124 4039")

# Logging ------------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The audit log records sign-in failures; django-axes' own log says only what is wrong.
        "axes": {"level": env.str("AXES_LOG_LEVEL", default="WARNING")},
    },
}
