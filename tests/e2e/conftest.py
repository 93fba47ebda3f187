"""Fixtures of the end-to-end suite: one JupyterLab and one Chromium per session, a fresh page per test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Playwright, Request, sync_playwright

from .harness import CHROMIUM, CHROMIUM_ARGS, REPO, RESULTS, Lab, PageLog, running_lab


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it (apt-get install -y chromium) or set "
            "RANK_WIDGET_CHROMIUM"
        )
    static = REPO / "src" / "rank_widget" / "static" / "widget.js"
    if not static.exists():
        pytest.fail(f"{static} is missing: build the front end first (cd js && npm run build)")
    # stopped after the session: kernels shut down first, the server's log kept in test-results/
    with running_lab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    pg = context.new_page()
    log = PageLog()

    def on_dialog(d: Dialog) -> None:
        log.dialogs.append(f"{d.type}: {d.message}")
        # A "leave the page?" prompt only comes when a test reloads or leaves the page on purpose: let it go
        # (dismissing it cancels the navigation, and the test then times out). Any other dialog is dismissed.
        if d.type == "beforeunload":
            d.accept()
        else:
            d.dismiss()

    def on_console(m: ConsoleMessage) -> None:
        log.console.append(f"{m.type}: {m.text}")

    def on_request(r: Request) -> None:
        log.requests.append(r.url)

    pg.on("dialog", on_dialog)
    pg.on("console", on_console)
    pg.on("request", on_request)
    pg.on("pageerror", lambda e: log.page_errors.append(str(e)))
    pg.set_default_timeout(30_000)
    pg.rw_log = log  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            RESULTS.mkdir(exist_ok=True)
            name = request.node.name.replace("/", "_")
            with contextlib.suppress(Exception):
                pg.screenshot(path=str(RESULTS / f"FAILED-{name}.png"), full_page=True)
            (RESULTS / f"FAILED-{name}.console.txt").write_text("\n".join(log.console + log.page_errors))
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{rep.when}", rep)
