"""Shared test settings: where the original article's files are, and skipping without them."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from model.data import distill_dir


@pytest.fixture(scope="session")
def distill():
    """The folder of the original article's files (HANDWRITING_DISTILL), or skip."""
    path = distill_dir()
    if not (path / "b64_weights.json").is_file():
        pytest.skip(f"original article files not found at {path} (set HANDWRITING_DISTILL)")
    return path


# Debian's chromium: Playwright's own browser download cannot work on these machines.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Playwright (one per test session)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed (bash setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def serve():
    """serve(folder) -> base URL of a local static server for that folder."""
    from generator.serve import start

    servers = []

    def _serve(folder):
        server, url = start(folder)
        servers.append(server)
        return url

    yield _serve
    for server in servers:
        server.shutdown()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, failed requests and requests to other hosts."""
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []
    page.foreign_requests = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    page.on("request", lambda req: req.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            or page.foreign_requests.append(req.url))
    yield page
    context.close()
