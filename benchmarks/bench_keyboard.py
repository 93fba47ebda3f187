"""Keyboard-only labeling time in real JupyterLab + headless Chromium (issue 14): 20 items, keys only.

Two scripted sessions, each a fixed key sequence per item typed with Playwright once the item shows (no mouse
after one click that gives the widget the keyboard):
- pairwise: `2 Enter` per item (A better, submit);
- ranking of four responses: `a 2 b 1 c 4 d 3 Enter` per item (meaning B > A > D > C).
Wall time from the first key to the 20th durable ack (the `.rw-saves[data-saved=20][data-saving=0]` mark,
shown only after the kernel committed the label), and whether the store holds what was typed.

Usage: .venv/bin/python benchmarks/bench_keyboard.py [--bundle DIR] [--items 20]
`--bundle DIR` runs with the widget.js/widget.css in DIR (e.g. a build of the base commit's js/) instead of
src/rank_widget/static; the files are swapped back afterwards. Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from e2e.harness import CHROMIUM, CHROMIUM_ARGS, Lab, start_lab, stop_lab  # noqa: E402
from e2e.test_keyboard_focus import four_items  # noqa: E402  (the items the keyboard e2e test labels)
from e2e.widget_driver import (  # noqa: E402
    focus_widget,
    pair_items,
    shown_item,
    start_widget,
    wait_item_change,
    widget_notebook,
)

STATIC = REPO / "src" / "rank_widget" / "static"
BUNDLE_FILES = ("widget.js", "widget.css")


def rows(path: Path) -> list[dict[str, Any]]:
    import json

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = [
            {
                "item_id": r[0],
                "winner": r[1],
                "ranking": json.loads(r[2]) if r[2] else None,
                "display_order": json.loads(r[3]),
            }
            for r in con.execute("SELECT item_id, winner, ranking, display_order FROM labels ORDER BY seq")
        ]
    finally:
        con.close()
    return out


def session(page: Page, lab: Lab, task: str, n: int) -> dict[str, Any]:
    name = f"kbbench_{task}.ipynb"
    if task == "pairwise":
        items = pair_items(n, prefix="kbp")
        keys = ["2", "Enter"]
        opts = f'annotator="alice", task="pairwise", store="{name}.sqlite", seed=1'
    else:
        items = four_items(n)
        keys = ["a", "2", "b", "1", "c", "4", "d", "3", "Enter"]
        opts = f'annotator="alice", task="ranking", store="{name}.sqlite", seed=1'
    widget_notebook(lab, name, items, opts)
    kernel = start_widget(page, lab, name)
    try:
        focus_widget(page)
        t0 = time.perf_counter()
        for i in range(n):
            shown = shown_item(page)
            for k in keys:
                page.keyboard.press(k)
            if i < n - 1:
                wait_item_change(page, shown)  # a labeler reads the next item before typing on it
        page.wait_for_selector(
            f".rw-saves[data-saved='{n}'][data-saving='0']", state="attached", timeout=120_000
        )
        wall = time.perf_counter() - t0
        stored = rows(lab.root / f"{name}.sqlite")
        right = 0
        for r in stored:  # what was typed, read against the order the item was shown in (A, B, C, D)
            order = r["display_order"]
            if task == "pairwise":
                right += r["winner"] == order[0]
            else:
                a, b, c, d = order
                right += r["ranking"] == [[b], [a], [d], [c]]
        return {
            "task": task,
            "items": n,
            "stored": len(stored),
            "keys_per_item": len(keys),
            "wall_s": wall,
            "stored_as_typed": right,
        }
    finally:
        kernel.close()
        lab.shutdown_session(name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--bundle", type=Path, default=None, help="directory with widget.js/widget.css to run")
    args = ap.parse_args()
    saved = Path(tempfile.mkdtemp(prefix="rw-kb-bundle-"))
    if args.bundle:
        for f in BUNDLE_FILES:
            shutil.copy2(STATIC / f, saved / f)
            shutil.copy2(args.bundle / f, STATIC / f)
    base = Path(tempfile.mkdtemp(prefix="rw-kb-bench-"))
    lab = start_lab(base)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            for task in ("pairwise", "ranking"):
                r = session(page, lab, task, args.items)
                print(
                    f"{task}: {r['items']} items x {r['keys_per_item']} keys: {r['wall_s']:.2f} s"
                    f" first key -> last ack ({r['wall_s'] / r['items'] * 1000:.0f} ms/item); "
                    f"labels stored: {r['stored']}, as typed: {r['stored_as_typed']}/{r['items']}"
                )
            browser.close()
    finally:
        stop_lab(lab.process)
        if args.bundle:
            for f in BUNDLE_FILES:
                shutil.copy2(saved / f, STATIC / f)


if __name__ == "__main__":
    main()
