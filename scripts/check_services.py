"""Fail fast, with a clear message, when PostgreSQL or Redis is not reachable for `make test`."""

import os
import sys

import environ
import psycopg2
import redis

problems = []
db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
try:
    psycopg2.connect(
        dbname="postgres", user=db.get("USER") or None, password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None, port=db.get("PORT") or None, connect_timeout=5,
    ).close()
except Exception as exc:  # noqa: BLE001
    problems.append(f"PostgreSQL is not reachable at {db.get('HOST')}:{db.get('PORT')} ({exc}).")
try:
    redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
except Exception as exc:  # noqa: BLE001
    problems.append(f"Redis is not reachable at {os.environ['REDIS_URL']} ({exc}).")
if problems:
    print("make test needs PostgreSQL and Redis:", *problems, sep="\n  ", file=sys.stderr)
    print("Start them, or point DATABASE_URL / REDIS_URL at running servers.", file=sys.stderr)
    sys.exit(1)
print("PostgreSQL and Redis are reachable.")
