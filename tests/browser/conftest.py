"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

`make test` installs chromium where it can (root with apt-get); elsewhere these tests are
skipped with the reason, and everything else still runs.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
# Flags for a headless run on a machine with no network but loopback (no background traffic).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def browser(monkeypatch_module):
    if not CHROMIUM:
        pytest.skip("chromium is not installed (make test installs it with apt-get when run as root)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread while it is started; the ORM calls
    # the tests make between browser steps are still plain synchronous code. Module scope: the
    # loop is gone before other modules' tests, which may call async_to_sync in this thread.
    monkeypatch_module.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()
