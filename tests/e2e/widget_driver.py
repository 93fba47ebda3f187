"""Driving RankWidget in a real JupyterLab page through the DOM hooks of docs/frontend.md, and reading back
what Python stored (the notebook kernel's `w.labels` and the SQLite file itself)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from .harness import Kernel, Lab, open_notebook, run_all, write_notebook

ITEM = ".rw-root .rw-item[data-item-id]"
JSON_COLUMNS = ("ranking", "ratings", "flags", "display_order")


def pair_items(n: int, prefix: str = "p") -> list[dict[str, Any]]:
    """`n` pairwise items with distinct, recognisable texts."""
    return [
        {
            "item_id": f"{prefix}-{i:02d}",
            "prompt": f"Question {i}: how do I reverse a list in Python?",
            "responses": [
                {"response_id": f"{prefix}{i}-x", "text": f"Answer X{i}: `xs[::-1]`.", "model": "atlas"},
                {"response_id": f"{prefix}{i}-y", "text": f"Answer Y{i}: `xs.reverse()`.", "model": "boreal"},
            ],
            "category": "coding",
        }
        for i in range(n)
    ]


def write_items(path: Path, items: Sequence[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(it) + "\n" for it in items), encoding="utf-8")
    return path


def widget_notebook(
    lab: Lab, name: str, items: Sequence[dict[str, Any]], options: str, extra_cells: Sequence[str] = ()
) -> Path:
    """A notebook that loads `items` from a JSONL file next to it and shows `w = RankWidget(items, ...)`.

    `options` is the keyword-argument source text, e.g. 'annotator="alice", store="x.sqlite", seed=3'.
    """
    stem = Path(name).stem
    write_items(lab.root / f"{stem}.items.jsonl", items)
    cells = [
        f"import rank_widget as rw\nitems = rw.load_items({stem + '.items.jsonl'!r})",
        f"w = rw.RankWidget(items, {options})\nw",
        *extra_cells,
    ]
    return write_notebook(lab.root / name, cells)


def start_widget(page: Page, lab: Lab, name: str) -> Kernel:
    """Open the notebook, run all cells, wait for the widget's first item; return the kernel client."""
    open_notebook(page, lab, name)
    run_all(page)
    page.wait_for_selector(ITEM, timeout=60_000)
    return lab.kernel(name)


@contextlib.contextmanager
def widget_session(
    page: Page,
    lab: Lab,
    name: str,
    items: Sequence[dict[str, Any]],
    options: str,
    extra_cells: Sequence[str] = (),
) -> Iterator[Kernel]:
    """:func:`widget_notebook` then :func:`start_widget`; the kernel client for the with-block, after which it
    is closed and the notebook's session shut down."""
    widget_notebook(lab, name, items, options, extra_cells)
    kernel = start_widget(page, lab, name)
    try:
        yield kernel
    finally:
        kernel.close()
        lab.shutdown_session(name)


def shown_item(page: Page) -> str:
    return str(page.locator(ITEM).first.get_attribute("data-item-id"))


def display_order(page: Page, item: dict[str, Any] | None = None) -> list[str]:
    """Response ids as shown, by their position letter (A first): the view's opaque ids (r1..rN), or with
    ``item`` the item's real response ids, found by each card's text (what is stored)."""
    cards = page.eval_on_selector_all(
        ".rw-root .rw-item .rw-response[data-response-id]",
        "els => els.map(e => [e.dataset.position, e.dataset.responseId, e.textContent])",
    )
    shown = sorted(cards)
    if item is None:
        return [rid for _, rid, _ in shown]
    real = []
    for _, _, text in shown:
        hits = [r["response_id"] for r in item["responses"] if r["text"].split(":")[0] in text]
        assert len(hits) == 1, (text, hits)
        real.append(hits[0])
    return real


def wait_item(page: Page, item_id: str, timeout: float = 10_000) -> None:
    page.wait_for_selector(f".rw-root .rw-item[data-item-id={json.dumps(item_id)}]", timeout=timeout)


def wait_item_change(page: Page, previous: str, timeout: float = 10_000) -> str:
    page.wait_for_function(
        "prev => { const e = document.querySelector('.rw-root .rw-item[data-item-id]');"
        " return e && e.dataset.itemId !== prev; }",
        arg=previous,
        timeout=timeout,
    )
    return shown_item(page)


def focus_widget(page: Page, root: str = ".rw-root") -> None:
    """Give the widget keyboard focus the way a labeler does: click on it (its header, not a button)."""
    target = page.locator(f"{root} .rw-header").first
    if target.count() == 0:
        target = page.locator(root).first
    target.click(position={"x": 3, "y": 3})


def wait_python(kernel: Kernel, expr: str, expected: Any, timeout: float = 20.0) -> Any:
    """Poll a kernel expression until it equals `expected` (labels land after the durable append)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = kernel.json(expr)
        if value == expected:
            return value
        time.sleep(0.2)
    raise AssertionError(f"kernel: {expr} = {value!r}, expected {expected!r} within {timeout} s")


def kernel_labels(kernel: Kernel, expr: str = "w.labels") -> list[dict[str, Any]]:
    """A labels DataFrame of the kernel, as records (JSON-safe: times as ISO strings, NA as None)."""
    text = kernel.json(f"{expr}.sort_values('submitted_at').to_json(orient='records', date_format='iso')")
    return list(json.loads(text))


def sqlite_rows(path: Path) -> list[dict[str, Any]]:
    """Every label row of a SQLite store file, read with sqlite3 (not rank_widget), in insert order."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        con.row_factory = sqlite3.Row
        rows = [dict(r) for r in con.execute("SELECT * FROM labels ORDER BY seq")]
    finally:
        con.close()
    for r in rows:
        for c in JSON_COLUMNS:
            if r[c] is not None:
                r[c] = json.loads(r[c])
    return rows


def notebook_cells_intact(page: Page) -> list[str]:
    """The cell types shown (a key leaking to JupyterLab would e.g. turn a code cell into markdown)."""
    return list(
        page.eval_on_selector_all(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell",
            "els => els.map(e => e.classList.contains('jp-CodeCell') ? 'code' : 'other')",
        )
    )
