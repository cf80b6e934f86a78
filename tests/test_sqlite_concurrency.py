"""Concurrent writers on the embedded SQLite default (issue 11, section 4).

With no DATABASE_URL the service runs on SQLite (`make run`).  SQLite has one writer at a time: a
transaction that began reading (DEFERRED, Python's default) and then wants to write, while
another holds the write lock, fails at once with "database is locked" (waiting could deadlock, so
the busy timeout does not apply): a 500.  cqrs_site/settings.py opens every transaction
IMMEDIATE on SQLite, so writers queue (up to the busy timeout) and the second approver reads
the state the first one left: "already approved", as on PostgreSQL with its row locks.

Tested for real: a server process (runserver, threaded) on a temporary SQLite file, migrated and
seeded with the demo world; nine sessions signed in through the sign-in page fire the same
approval at the same moment, then nine the same acceptance of an offer.  Exactly one succeeds;
the others are told it has already been done; nothing answers 500.  The issue's nonsense ids
are sent to the same SQLite server too (a 30-digit id overflows SQLite's INTEGER).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from html import unescape
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "cqrs-demo-2026"  # accounts.demo.DEMO_PASSWORD
RACERS = 9
HUGE_ID = "1" + "0" * 29

# The objects the race is about, read from the seeded database.
FIND_OBJECTS = """
import json
from declarations.models import Declaration, DeclarationStatus
from participation.models import ServiceOffer, OfferStatus
declaration = Declaration.objects.filter(
    status=DeclarationStatus.AWAITING_COMMISSIONER, provider__commissioner__ods_code="QHM"
).order_by("pk").first()
offer = ServiceOffer.objects.filter(status=OfferStatus.OFFERED, provider__ods_code="A81001").order_by("pk").first()
print(json.dumps({"declaration": declaration and declaration.pk, "offer": offer and offer.pk}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict, *args: str, timeout: int = 180) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory):
    """A threaded runserver on a migrated, seeded SQLite file: (base URL, objects, server log)."""
    database = tmp_path_factory.mktemp("sqlite") / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",  # the embedded default's engine, on a file of our own
        DJANGO_SETTINGS_MODULE="cqrs_site.settings_test",  # fast password hashing; tasks in-process
        DEBUG="false",
        CELERY_TASK_ALWAYS_EAGER="true",
        PYTHONUNBUFFERED="1",
    )
    _manage(env, "migrate", "--noinput")
    _manage(env, "seed_demo")
    objects = json.loads(_manage(env, "shell", "-c", FIND_OBJECTS).strip().splitlines()[-1])
    assert objects["declaration"], "seed_demo left no declaration Awaiting Commissioning Organisation Approval"
    assert objects["offer"], "seed_demo left the demo practice (A81001) no offer Offered"
    port = _free_port()
    log = (database.parent / "server.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/sign-in/", timeout=2)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"the server did not start:\n{log.read()}")
                time.sleep(0.3)
        yield base, objects, log
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/sign-in/", timeout=30)
    response = session.post(
        f"{base}/sign-in/",
        data={"csrfmiddlewaretoken": _csrf(page.text), "username": email, "password": PASSWORD},
        headers={"Referer": f"{base}/sign-in/"},
        timeout=30,
    )
    assert response.status_code == 200 and "Sign out" in response.text, f"{email} could not sign in"
    return session


def race(sessions: list[requests.Session], url: str, data_for) -> list[tuple[int, str]]:
    """Every session posts at the same moment; (status, the page it is sent back to) each."""
    barrier = threading.Barrier(len(sessions))
    outcomes: list[tuple[int, str]] = [(0, "")] * len(sessions)

    def post(index: int, session: requests.Session) -> None:
        data = data_for(session)
        barrier.wait()
        response = session.post(url, data=data, headers={"Referer": url}, timeout=60, allow_redirects=False)
        page = ""
        if response.status_code in (302, 303):
            page = session.get(requests.compat.urljoin(url, response.headers["Location"]), timeout=60).text
        outcomes[index] = (response.status_code, unescape(page or response.text))

    threads = [threading.Thread(target=post, args=(i, s)) for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return outcomes


def _server_errors(log) -> str:
    log.seek(0)
    return "\n".join(line for line in log.read().splitlines() if "database is locked" in line or '" 500 ' in line)


def test_nine_approvals_of_one_declaration_at_once_on_sqlite_approve_it_once(sqlite_server):
    base, objects, log = sqlite_server
    sessions = [signed_in(base, "commissioner@demo.nhs.net") for _ in range(RACERS)]
    management = f"{base}/declarations/declaration-management/"

    def approval(session):
        token = _csrf(session.get(management, timeout=60).text)
        return {"csrfmiddlewaretoken": token, "declarations": [objects["declaration"]], "back": "/declarations/declaration-management/"}

    outcomes = race(sessions, f"{base}/declarations/declaration-management/approve/", approval)

    statuses = [status for status, _ in outcomes]
    assert all(status < 500 for status in statuses), f"{statuses}\n{_server_errors(log)}"
    approved = [page for _, page in outcomes if "The payment declaration has been successfully approved." in page]
    already = [page for _, page in outcomes if "This declaration has already been approved." in page]
    assert len(approved) == 1, statuses
    others = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("<main", 1)[-1]))[:900] for _, page in outcomes
              if page not in approved and page not in already]
    assert len(already) == RACERS - 1, (statuses, others)


def test_nine_acceptances_of_one_offer_at_once_on_sqlite_accept_it_once(sqlite_server):
    base, objects, log = sqlite_server
    sessions = [signed_in(base, "practice@demo.nhs.net") for _ in range(RACERS)]
    my_services = f"{base}/participation/my-services/"

    def acceptance(session):
        token = _csrf(session.get(my_services, timeout=60).text)
        return {"csrfmiddlewaretoken": token, "action": "accept", "offers": [objects["offer"]], "confirm": "yes"}

    outcomes = race(sessions, f"{base}/participation/my-services/respond/", acceptance)

    statuses = [status for status, _ in outcomes]
    assert all(status < 500 for status in statuses), f"{statuses}\n{_server_errors(log)}"
    accepted = [page for _, page in outcomes if "The Quality Service has been successfully accepted." in page]
    already = [page for _, page in outcomes if "This offer has already been approved." in page]
    assert len(accepted) == 1, statuses
    assert len(already) == RACERS - 1, statuses


def test_the_issues_nonsense_ids_on_sqlite_are_refused_not_a_500(sqlite_server):
    """A 30-digit id overflows SQLite's INTEGER: on the embedded default these were 500s."""
    base, objects, log = sqlite_server
    commissioner = signed_in(base, "commissioner@demo.nhs.net")
    finance = signed_in(base, "finance@demo.nhs.net")
    results = f"{base}/declarations/achievement-results/"
    answers = {
        "?financial_year=": commissioner.get(results, params={"financial_year": HUGE_ID}, timeout=60).status_code,
        "?service=": commissioner.get(results, params={"service": HUGE_ID}, timeout=60).status_code,
    }
    management = f"{base}/declarations/declaration-management/"
    token = _csrf(finance.get(management, timeout=60).text)
    answers["approve declarations="] = finance.post(
        f"{base}/declarations/declaration-management/approve/",
        data={"csrfmiddlewaretoken": token, "declarations": [HUGE_ID]},
        headers={"Referer": management},
        timeout=60,
    ).status_code
    assert all(status < 500 for status in answers.values()), f"{answers}\n{_server_errors(log)}"
