"""Issue 14: the widget in Notebook 7 (``jupyter notebook``, one document per page), not only JupyterLab.

A real Notebook 7 server and headless Chromium: the notebook is run from Notebook 7's own Run menu, an item
is labelled with keys only, the label is read back from the kernel (``w.labels``) and the SQLite file, and
Notebook 7's command-mode keys (``d d`` deletes a cell, ``a``/``b`` insert, ``x`` cuts, ``m`` makes markdown)
never act while the widget has the keyboard; after a click outside they do again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from .harness import Lab, menu, notebook7_url, page_log, running_lab
from .widget_driver import (
    ITEM,
    display_order,
    focus_widget,
    kernel_labels,
    pair_items,
    shown_item,
    sqlite_rows,
    wait_item_change,
    wait_python,
    widget_notebook,
)

pytestmark = pytest.mark.e2e

CELLS = ".jp-Notebook .jp-Cell"
IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"


@pytest.fixture(scope="module")
def nb7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("notebook7"), app="notebook") as server:
        yield server


def open_in_notebook7(page: Page, server: Lab, name: str, timeout: float = 60) -> None:
    """Open a notebook's page and wait for an idle kernel (accepting a 'Select Kernel' dialog)."""
    page.goto(notebook7_url(server, name))
    page.wait_for_selector(CELLS, timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    ready_since: float | None = None
    while True:
        now = time.monotonic()
        dialog = page.locator(".jp-Dialog")
        if dialog.count():
            ready_since = None
            if "Select Kernel" in dialog.first.inner_text():
                dialog.first.locator(".jp-mod-accept").click()
        elif page.locator(IDLE).count() and server.session_for(name):
            ready_since = ready_since or now
            if now - ready_since > 0.5:
                return
        else:
            ready_since = None
        assert now < deadline, f"Notebook 7: {name} did not get an idle kernel in {timeout} s"
        time.sleep(0.1)


def cell_kinds(page: Page) -> list[str]:
    return list(
        page.eval_on_selector_all(
            CELLS, "els => els.map(e => e.classList.contains('jp-CodeCell') ? 'code' : 'other')"
        )
    )


def test_notebook7_labels_by_keyboard_and_keeps_its_cells(page: Page, nb7: Lab) -> None:
    name = "nb7.ipynb"
    items = pair_items(4, prefix="n7")
    widget_notebook(nb7, name, items, 'annotator="nina", store="nb7.sqlite", seed=3', ["1 + 1"])
    open_in_notebook7(page, nb7, name)
    assert page.locator(".jp-LabShell").count() == 0  # Notebook 7's own shell, not JupyterLab's
    # Notebook 7.6.5 itself throws "Cannot read properties of undefined (reading 'schema')" from its settings
    # load while the page opens (with or without user settings, before any cell runs): only errors after that
    # count here.
    loaded_errors = len(page_log(page).page_errors)
    menu(page, "Run", "Run All Cells")
    page.wait_for_selector(ITEM, timeout=60_000)
    kernel = nb7.kernel(name)
    try:
        assert cell_kinds(page) == ["code", "code", "code"]
        first = shown_item(page)
        focus_widget(page)
        assert page.locator(".rw-root .rw-keys-badge[data-keys='widget']").count() == 1
        # Notebook 7's command-mode keys, typed while the widget has the keyboard: none reaches the notebook
        # (d d would delete the widget's cell, a/b insert one, x cut, m make it markdown).
        for key in ("d", "d", "a", "b", "x", "m", "Shift+m", "d", "d"):
            page.keyboard.press(key)
        page.wait_for_timeout(500)
        assert cell_kinds(page) == ["code", "code", "code"]
        assert page.locator(ITEM).count() == 1 and shown_item(page) == first
        # Label by keys only: 2 = "A better", Enter submits.
        order = display_order(page, next(it for it in items if it["item_id"] == first))
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        assert wait_item_change(page, first) != first
        wait_python(kernel, "len(w.labels)", 1)
        (label,) = kernel_labels(kernel)
        assert label["item_id"] == first and label["annotator"] == "nina"
        assert label["status"] == "submitted" and label["winner"] == order[0] and label["strength"] == 2
        (row,) = sqlite_rows(nb7.root / "nb7.sqlite")  # on disk, read with sqlite3
        assert row["item_id"] == first and row["winner"] == order[0] and row["strength"] == 2
        assert cell_kinds(page) == ["code", "code", "code"]
        # A click outside the widget gives the keys back to Notebook 7: Esc, then b inserts a cell below.
        page.locator(CELLS).last.locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        assert page.locator(".rw-root .rw-keys-badge[data-keys='page']").count() == 1
        page.keyboard.press("b")
        page.wait_for_function(f"() => document.querySelectorAll({CELLS!r}).length === 4")
        assert page_log(page).page_errors[loaded_errors:] == []
    finally:
        kernel.close()
        nb7.shutdown_session(name)
