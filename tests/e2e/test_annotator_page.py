"""Issue 14, "annotators without notebooks": notebooks/annotate.ipynb served by Voilà is a plain page with the
widget on the lead's store (docs/annotator-page.md). A real Voilà server on 127.0.0.1, headless Chromium, one
label typed with the keyboard, and the label read back from the SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser

from rank_widget.store import open_store

from .harness import REPO, _free_port, serving, venv_tool
from .widget_driver import (
    ITEM,
    display_order,
    focus_widget,
    pair_items,
    shown_item,
    sqlite_rows,
    wait_item,
    wait_item_change,
    write_items,
)

ITEMS = [
    {"id": "q1", "prompt": "What is 2 + 2?", "response1": "4", "response2": "5",
     "model1": "secret-model-a", "model2": "secret-model-b"},
    {"id": "q2", "prompt": "Capital of France?", "response1": "Paris", "response2": "Lyon",
     "model1": "secret-model-a", "model2": "secret-model-b"},
]  # fmt: skip


@contextmanager
def annotator_page(tmp_path: Path, **page_env: str) -> Iterator[str]:
    """notebooks/annotate.ipynb served by a real Voilà on a free 127.0.0.1 port, with the page's variables
    ``page_env`` (RANK_WIDGET_*); yields its URL."""
    work = tmp_path / "app"
    work.mkdir()
    shutil.copy(REPO / "notebooks" / "annotate.ipynb", work / "annotate.ipynb")
    port = _free_port()
    env = dict(os.environ)
    env.update(page_env, JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
    env.pop("JUPYTERHUB_USER", None)
    voila = venv_tool("voila", "pip install -e '.[dev]' (the dev extra has voila>=0.5)")
    cmd = [
        str(voila), "annotate.ipynb", f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    with serving(cmd, url, tmp_path / "voila.log", cwd=work, env=env, name="voila"):
        yield url


@pytest.fixture
def voila_page(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps(r) + "\n" for r in ITEMS), encoding="utf-8")
    store = tmp_path / "labels.sqlite"
    page_env = {
        "RANK_WIDGET_ITEMS": str(items),
        "RANK_WIDGET_STORE": str(store),
        "RANK_WIDGET_ANNOTATOR": "ann-page",
    }
    with annotator_page(tmp_path, **page_env) as url:
        yield url, store


def test_annotator_page_labels_into_the_store(browser: Browser, voila_page: tuple[str, Path]) -> None:
    url, store = voila_page
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    frames: list[str] = []  # every websocket frame the page received (the kernel's widget state and messages)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    try:
        page.goto(url, timeout=60_000)
        page.wait_for_selector(ITEM, timeout=90_000)
        first = shown_item(page)
        assert first in ("q1", "q2")
        # A plain page: no code cell, no editor, no prompt: the widget only.
        html = page.content()
        assert "RANK_WIDGET_STORE" not in html and "import rank_widget" not in html
        assert page.locator(".jp-InputArea-editor, .cm-editor, .jp-InputPrompt").count() == 0
        # The durable store: no "Not saved to disk" (config.durable is true).
        assert page.locator(".rw-root .rw-status").get_attribute("data-durable") == "true"
        order = display_order(page)
        focus_widget(page)  # the labeler clicks the widget, then keys only
        page.keyboard.press("1")  # A much better
        page.keyboard.press("Enter")
        wait_item_change(page, first, timeout=30_000)
        # Python side: the label is committed in the lead's SQLite file, read with the store's own reader.
        deadline = time.monotonic() + 30
        rows: list[dict[str, object]] = []
        while time.monotonic() < deadline and not rows:
            with open_store(store) as s:
                rows = s.labels().to_dict("records")
            time.sleep(0.2)
        assert len(rows) == 1, rows
        row = rows[0]
        assert row["item_id"] == first and row["annotator"] == "ann-page" and row["status"] == "submitted"
        assert row["source"] == "widget" and row["strength"] == 3
        raw = sqlite_rows(store)[0]  # and with plain sqlite3: the same row on disk
        assert raw["item_id"] == first and raw["winner"] == row["winner"]
        # A much better: the winner is the response shown as A (the page shows opaque ids r1/r2 only)
        assert sorted(order) == ["r1", "r2"]
        assert row["winner"] == row["display_order"][0]
        # Blind: no model name ever reached the browser (not in the DOM, not in any frame from the kernel).
        assert frames, "no websocket frames were seen"
        assert not [f for f in frames if "secret-model" in f]
        assert "secret-model" not in page.content()
        # Back to the item: it shows as saved to disk.
        page.keyboard.press("[")
        wait_item(page, first, timeout=30_000)
        page.wait_for_selector(".rw-status[data-state='saved'][data-durable='true']", timeout=30_000)
        assert (page.locator(".rw-root .rw-status").text_content() or "").startswith("Saved")
        assert errors == [], errors
    finally:
        context.close()


def test_the_page_qualifies_a_new_annotator_then_a_reload_serves_production(
    browser: Browser, tmp_path: Path
) -> None:
    # RANK_WIDGET_DATASET on a store whose dataset requires a qualification: the page serves the
    # qualification item first, shows the feedback and the result, and after a pass a reload serves the
    # production queue (docs/annotator-page.md)
    qual = pair_items(1, prefix="qq")
    qual[0]["gold"] = qual[0]["responses"][1]["response_id"]
    qual[0]["explanation"] = "Y keeps the original list"
    prod = pair_items(3, prefix="pp")
    write_items(tmp_path / "prod.jsonl", prod)
    store = tmp_path / "team.sqlite"
    with open_store(store) as s:
        s.register_qualification("q-v1", pd.DataFrame(qual), pass_mark=1.0)
        s.register_items("prod", [it["item_id"] for it in prod], overlap=2)
        s.require_qualification("prod", "q-v1")
    page_env = {
        "RANK_WIDGET_ITEMS": str(tmp_path / "prod.jsonl"),
        "RANK_WIDGET_STORE": str(store),
        "RANK_WIDGET_ANNOTATOR": "new-ann",
        "RANK_WIDGET_DATASET": "prod",
    }
    with annotator_page(tmp_path, **page_env) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(url, timeout=60_000)
            page.wait_for_selector(ITEM, timeout=90_000)
            assert shown_item(page) == "qq-00"
            gold_at = display_order(page, qual[0]).index(qual[0]["gold"])
            focus_widget(page)
            page.keyboard.press("2" if gold_at == 0 else "4")
            page.keyboard.press("Enter")
            feedback = page.locator(".rw-root .rw-training-feedback[data-item-id='qq-00']")
            feedback.wait_for(timeout=30_000)
            assert "Matched" in feedback.inner_text() and "Y keeps the original list" in feedback.inner_text()
            page.keyboard.press("Enter")  # read
            result = page.locator(".rw-root .rw-training-result")
            result.wait_for(timeout=30_000)
            text = result.inner_text()
            assert "Qualification passed" in text and "reload the page" in text, text
            with open_store(store, read_only=True) as s:
                assert s.qualification_status("q-v1", "new-ann")["qualified"] is True
            page.reload()
            page.wait_for_selector(".rw-root .rw-item[data-item-id^='pp-']", timeout=90_000)
            assert page.locator(".rw-root .rw-training").count() == 0
            assert errors == [], errors
        finally:
            context.close()
