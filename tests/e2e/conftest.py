"""Browser journeys: Playwright driving Debian's chromium against pytest-django's live server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body
# are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
DEMO_PASSWORD = "cqrs-demo-2026"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium (.ci/run does it)")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
    )
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    RESULTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = RESULTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def login(page, live_server, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the sign-in page, as a person would."""
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("User ID").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def logout(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/**")
