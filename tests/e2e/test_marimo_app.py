"""Issue 14, finding 9 in a real marimo page: cells that read ``mo.ui.anywidget(w)`` re-run after each submit.

A marimo app (``marimo run``, headless, 127.0.0.1, no token) shows the widget in one cell and a readout of
``w.value`` and ``w.labels`` in another; headless Chromium labels by keyboard and the readout must follow
each stored label (a submit, a skip, another submit), and the SQLite file must hold those labels. The view
bumps the synced ``stored`` trait after each ack; marimo re-runs dependent cells only on such a browser-side
change (docs/hosts.md). marimo's *editor* (``marimo edit``) was checked by hand only (docs/hosts.md).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from .harness import _free_port, serving, venv_tool
from .widget_driver import ITEM, focus_widget, shown_item, sqlite_rows

pytestmark = pytest.mark.e2e

APP = """
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import rank_widget as rw

    w = mo.ui.anywidget(rw.RankWidget(rw.sample_items("pairs"), store="labels.sqlite", annotator="mara"))
    w
    return (mo, w)


@app.cell
def _(mo, w):
    mo.md(
        f"<span id='readout'>stored={w.value['stored']} done={w.value['progress']['done']} "
        f"skipped={w.value['progress']['skipped']} labels={len(w.labels)}</span>"
    )
    return
"""


@pytest.fixture
def marimo_app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    work = tmp_path / "app"
    work.mkdir()
    (work / "app.py").write_text(APP, encoding="utf-8")
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    marimo = venv_tool("marimo", "pip install -e '.[dev]' (the dev extra has marimo)")
    cmd = [
        str(marimo), "run", "app.py", "--headless", "--host", "127.0.0.1", f"--port={port}", "--no-token",
        "--no-sandbox",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    with serving(cmd, url, tmp_path / "marimo.log", cwd=work, env=env, name="marimo"):
        yield url, work / "labels.sqlite"


def _readout(page: Page, expected: str, timeout: float = 30.0) -> None:
    """Wait for the dependent cell's output (Playwright's locators reach into marimo's shadow roots)."""
    deadline = time.monotonic() + timeout
    text = None
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            text = page.locator("#readout").text_content(timeout=1_000)
        if text == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"readout {text!r}, expected {expected!r} within {timeout} s")


def wait_item_change(page: Page, previous: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = shown_item(page)
        if now != previous:
            return now
        time.sleep(0.05)
    raise AssertionError(f"the widget stayed on {previous} for {timeout} s")


def test_marimo_dependent_cell_reruns_after_each_stored_label(
    browser: Browser, marimo_app: tuple[str, Path]
) -> None:
    url, store = marimo_app
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url, timeout=60_000)
        page.wait_for_selector(ITEM, timeout=90_000)
        _readout(page, "stored=0 done=0 skipped=0 labels=0")
        first = shown_item(page)
        focus_widget(page)
        # marimo puts the widget in a shadow root: the badge still sees that the widget has the keyboard
        assert page.locator(".rw-root .rw-keys-badge").get_attribute("data-keys") == "widget"
        page.keyboard.press("2")  # A better
        page.keyboard.press("Enter")
        second = wait_item_change(page, first)
        _readout(page, "stored=1 done=1 skipped=0 labels=1")  # the dependent cell re-ran
        page.keyboard.press("s")  # skip: a stored label too
        third = wait_item_change(page, second)
        _readout(page, "stored=2 done=1 skipped=1 labels=2")
        assert page.locator(".rw-root .rw-keys-badge").get_attribute("data-keys") == "widget"
        page.keyboard.press("4")  # B better: the keys still reach the widget after the re-runs
        page.keyboard.press("Enter")
        wait_item_change(page, third)
        _readout(page, "stored=3 done=2 skipped=1 labels=3")
        rows = sqlite_rows(store)
        assert [(r["item_id"], r["status"], r["strength"]) for r in rows] == [
            (first, "submitted", 2),
            (second, "skipped", None),
            (third, "submitted", 2),
        ]
        assert {r["annotator"] for r in rows} == {"mara"}
        assert errors == [], errors
    finally:
        context.close()
