"""Issue 13 in real JupyterLab: the status line belongs to the item on screen (finding 2), and a far
`w.goto()` after the view's 64-item cache filled up renders the item (finding 7)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from .harness import Lab
from .widget_driver import (
    ITEM,
    focus_widget,
    kernel_labels,
    pair_items,
    shown_item,
    sqlite_rows,
    start_widget,
    wait_item,
    wait_python,
    widget_notebook,
)

pytestmark = pytest.mark.e2e

# Longer than the store's busy timeout (5 s): the first submit is refused, the second waits it out.
LOCK_S = 6.5

# Every change of the widget's DOM, as the labeler would see it: the item on screen and its status line.
RECORD_STATUS = """
() => {
  window.__rwSnaps = [];
  const snap = () => {
    const item = document.querySelector('.rw-root .rw-item[data-item-id]');
    const status = document.querySelector('.rw-root .rw-status');
    window.__rwSnaps.push({
      shown: item ? item.dataset.itemId : null,
      state: status ? status.dataset.state || '' : '',
      statusItem: status ? status.dataset.itemId || '' : '',
      text: status ? status.textContent : '',
      error: (document.querySelector('.rw-root .rw-error') || {}).textContent || '',
    });
  };
  snap();
  new MutationObserver(snap).observe(document.querySelector('.rw-root'),
    { subtree: true, childList: true, attributes: true, characterData: true });
}
"""


def hold_write_lock(path: Path, seconds: float, locked: threading.Event) -> None:
    """Another process's writer: BEGIN IMMEDIATE on the store file, held for `seconds`."""
    con = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(seconds)
        con.execute("COMMIT")
    finally:
        con.close()


def test_a_refused_submit_then_an_acked_one_never_shows_saved_next_to_the_refused_item(
    page: Page, lab: Lab
) -> None:
    items = pair_items(8, prefix="sl")
    store = lab.root / "status_line.sqlite"
    options = 'annotator="sam", task="pairwise", store="status_line.sqlite", seed=5'
    widget_notebook(lab, "status_line.ipynb", items, options)
    kernel = start_widget(page, lab, "status_line.ipynb")
    try:
        focus_widget(page)
        first = shown_item(page)
        assert first == items[0]["item_id"]
        page.evaluate(RECORD_STATUS)
        locked = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(store, LOCK_S, locked), daemon=True)
        holder.start()
        assert locked.wait(10), "could not take the SQLite write lock"
        t0 = time.monotonic()
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        page.keyboard.press("4")
        page.keyboard.press("Enter")
        assert time.monotonic() - t0 < 0.3 + 0.5, "the two submits were not sent within a moment"
        holder.join(15)
        second = items[1]["item_id"]
        # Both answered by Python (the first refused, the second stored), and the replies reached the view.
        wait_python(kernel, "sorted(set(w.history['event']) & {'reject', 'ack'})", ["ack", "reject"], 30)
        page.wait_for_function(
            "() => window.__rwSnaps.length > 0 && "
            "document.querySelector('.rw-root .rw-status').dataset.state !== 'saving'",
            timeout=10_000,
        )
        page.wait_for_timeout(1500)  # any later reply or re-render lands in the snapshots too

        # Python: the first label was refused (locked), the second stored.
        stored = [r["item_id"] for r in kernel_labels(kernel)]
        assert stored == [second], stored
        assert [r["item_id"] for r in sqlite_rows(store)] == [second]
        history = kernel.json("w.history[['event', 'item_id']].values.tolist()")
        assert ["reject", first] in history and ["ack", second] in history, history

        # The view went back to the refused item: its own state, red, and no "Saved" anywhere on its line.
        wait_item(page, first)
        status = page.locator(".rw-root .rw-status")
        assert status.get_attribute("data-state") == "rejected"
        assert status.get_attribute("data-item-id") == first
        assert "Saved" not in (status.text_content() or "")
        assert "locked" in (page.locator(".rw-root .rw-error").text_content() or "")

        # Every state the labeler could have seen: "Saved" only ever next to the item it is about, and only
        # for an item Python acknowledged.
        snaps: list[dict[str, Any]] = page.evaluate("window.__rwSnaps")
        saved = [s for s in snaps if "Saved" in s["text"] or s["state"] == "saved"]
        wrong = [s for s in saved if s["shown"] != s["statusItem"] or s["shown"] not in stored]
        assert not wrong, f"'Saved' shown next to another item: {wrong[:3]}"
        assert any(s["shown"] == first and s["state"] == "rejected" for s in snaps)
        # The session line counts the refused label (and names no item as saved).
        assert page.locator(".rw-root .rw-saves").get_attribute("data-rejected") == "1"

        # The acknowledged item says so when it is the one on screen.
        page.keyboard.press("]")
        wait_item(page, second)
        page.wait_for_selector(f".rw-status[data-state='saved'][data-item-id='{second}']")
        assert (page.locator(".rw-root .rw-status").text_content() or "").startswith("Saved")
    finally:
        kernel.close()


def force_state_order(kernel: Any, first: str) -> None:
    """Make the kernel send `first` before the other traits of one update. ipywidgets sends a held update's
    traits in the iteration order of a set of names (it depends on the kernel's hash seed), and the view's
    change events fire in that order: this pins the order the far-goto hang needed."""
    kernel.run(
        "import types as _t\n"
        "from rank_widget.widget import RankWidget as _RW\n"
        "def _ordered(self, key=None):\n"
        f"    keys = sorted(key, key=lambda k: k != {first!r}) if key is not None else None\n"
        "    return _RW.send_state(self, keys)\n"
        "w.send_state = _t.MethodType(_ordered, w)\n"
    )


def test_far_goto_after_visiting_more_than_64_items_renders_the_item(page: Page, lab: Lab) -> None:
    items = pair_items(260, prefix="fg")
    widget_notebook(lab, "far_goto.ipynb", items, 'annotator="gus", task="pairwise", seed=9')
    kernel = start_widget(page, lab, "far_goto.ipynb")
    try:
        for first in ("window", "position"):
            force_state_order(kernel, first)
            # Visit 70 items from the notebook (each one a position + window update the view follows).
            start = 0 if first == "window" else 120
            kernel.run(
                f"import time as _time\nfor _i in range({start}, {start + 70}):\n"
                "    w.goto(_i)\n    _time.sleep(0.02)\n"
            )
            wait_item(page, items[start + 69]["item_id"], timeout=30_000)
            for target in (250, 0, 180) if first == "window" else (5, 259):
                kernel.run(f"w.goto({target})")
                wait_item(page, items[target]["item_id"], timeout=15_000)
                assert page.locator(".rw-root .rw-loading").count() == 0
                assert shown_item(page) == items[target]["item_id"]
                assert wait_python(kernel, "w.position", target) == target
        assert page.locator(ITEM).count() == 1
    finally:
        kernel.close()
