# syntax=docker/dockerfile:1
# One image for the web app (gunicorn), the Celery worker and Celery beat; see docker-compose.yml.

# --- The front end: the NHS.UK design system's compiled CSS, JS and images -----------------------
FROM node:20-slim AS static
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/build-static.mjs scripts/
RUN npm run build

# --- The application ---------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=cqrs_site.settings
WORKDIR /app

RUN groupadd --system --gid 1000 cqrs \
    && useradd --system --uid 1000 --gid cqrs --home-dir /app --no-create-home cqrs

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install .

COPY . .
COPY --from=static /src/static/vendor static/vendor
# collectstatic needs settings but no secrets and no database.
RUN SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/media && chown cqrs:cqrs /app/media

USER cqrs
EXPOSE 8000
CMD ["gunicorn", "cqrs_site.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
