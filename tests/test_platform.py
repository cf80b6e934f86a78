"""The platform a deployer relies on: Django's deployment checks pass with the production
variables set, and docker-compose.yml / Dockerfile describe the services the README promises."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"

PRODUCTION_VARIABLES = {
    "DJANGO_SETTINGS_MODULE": "cqrs_site.settings",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "cqrs.example.nhs.uk",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
}


def _manage(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    # A clean environment: nothing from the developer's shell or the test settings leaks in.
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT, env={**keep, **environment}, capture_output=True, text=True, timeout=180,
    )


def test_the_deployment_checks_report_nothing_with_the_production_variables_set():
    completed = _manage("check", "--deploy", "--fail-level", "WARNING", environment=PRODUCTION_VARIABLES)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "System check identified no issues" in completed.stdout
    assert "WARNING" not in completed.stderr.upper()


def test_the_deployment_checks_fail_without_the_production_variables():
    development = {"DJANGO_SETTINGS_MODULE": "cqrs_site.settings", "DEBUG": "false"}

    completed = _manage("check", "--deploy", "--fail-level", "WARNING", environment=development)

    assert completed.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in completed.stderr, completed.stderr


# docker-compose.yml --------------------------------------------------------------------------------


def _docker_compose_works() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _healthcheck_command(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def test_docker_compose_describes_the_services_with_healthchecks():
    if _docker_compose_works():
        completed = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
            env={**os.environ, "SECRET_KEY": secrets.token_urlsafe(64), "POSTGRES_PASSWORD": "x" * 20},
        )
        assert completed.returncode == 0, completed.stderr
    # Without the compose plugin (no Docker engine here), check the structure the deploy needs.
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    services = compose["services"]

    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    for name in ("web", "worker", "beat", "db", "redis"):
        healthcheck = services[name].get("healthcheck")
        assert healthcheck and healthcheck.get("test"), f"{name} has no healthcheck"
        assert _healthcheck_command(services[name]).split()[0] in {"CMD", "CMD-SHELL"}, name

    assert services["db"]["image"].startswith("postgres:")
    assert "pg_isready" in _healthcheck_command(services["db"])
    assert services["redis"]["image"].startswith("redis:")
    assert "redis-cli ping" in _healthcheck_command(services["redis"])

    web, worker, beat = _command(services["web"]), _command(services["worker"]), _command(services["beat"])
    assert "gunicorn cqrs_site.wsgi" in web
    assert "celery -A cqrs_site worker" in worker
    assert "celery -A cqrs_site beat" in beat

    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service.get("build") or service.get("image"), name
        depends_on = service["depends_on"]
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        assert {"db", "redis"} <= set(depends_on), name
        for dependency, condition in depends_on.items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
        environment = service["environment"]
        assert environment["DEBUG"] == "false"
        assert environment["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"].startswith("redis://redis:6379/")
        assert "SECRET_KEY" in environment and "insecure" not in environment["SECRET_KEY"]


def test_the_dockerfile_builds_the_static_files_with_node_and_serves_with_gunicorn():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    stages = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]

    assert stages[0].startswith("node:") and stages[-1] == "python:3.11-slim"
    assert "npm ci" in dockerfile and "npm run build" in dockerfile
    assert "COPY --from=static" in dockerfile
    assert "pip install ." in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert '"gunicorn", "cqrs_site.wsgi"' in dockerfile
    assert "USER " in dockerfile  # not root

    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "node_modules", ".env"} <= set(ignored)


@pytest.mark.django_db
def test_the_models_and_their_migrations_agree():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


# Sent here without a worker, which Celery's Django fixup (also a receiver) warns of.
@pytest.mark.filterwarnings("ignore::celery.fixups.django.FixupWarning")
def test_a_worker_resolves_the_url_patterns_and_freezes_what_is_alive_before_its_pool_forks():
    """Celery's ``worker_init`` (the main process, before the prefork pool forks) populates the URL
    resolver, so no pool process spends its first task importing every app's views; then moves
    the objects alive out of the collector's generations (``gc.freeze``)."""
    import gc

    from celery.signals import worker_init
    from django.urls import clear_url_caches, get_resolver

    import cqrs_site.celery  # noqa: F401 - connects the handler

    clear_url_caches()
    gc.unfreeze()
    assert not get_resolver()._populated and gc.get_freeze_count() == 0
    try:
        worker_init.send(sender=None)
        assert get_resolver()._populated
        assert gc.get_freeze_count() > 10_000  # Django and the apps, at least
    finally:
        gc.unfreeze()
