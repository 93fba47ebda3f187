"""Issue 14, finding 7: the example notebooks as a new user sees them in real JupyterLab (Run All, then look).

- 01_quickstart opens with no warning (no stderr output at all), on a durable store ("Not saved to disk" never
  shows), and the widget is on its first item.
- 02_batch_review: both widgets render (the first is no longer closed by a later cell: no blank output and no
  "widget model not found" in the console); the resumed widget ends on "All done" after its last item is
  stored from the notebook, with no red error left from the refused submit.
(Notebook 03's triads table is asserted inside the notebook itself: tests/notebooks/test_notebooks.py.)
"""

from __future__ import annotations

import shutil

import nbformat
import pytest
from playwright.sync_api import Page

from .harness import REPO, Lab, menu, open_notebook, page_log, wait_kernel_idle
from .widget_driver import wait_python

pytestmark = pytest.mark.e2e

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def _run_notebook(page: Page, lab: Lab, name: str) -> None:
    """Run All in JupyterLab and wait until the kernel has run every code cell (its execution count)."""
    shutil.copy(REPO / "notebooks" / name, lab.root / name)
    cells = nbformat.read(lab.root / name, as_version=4).cells
    n_code = sum(1 for c in cells if c.cell_type == "code" and c.source.strip())
    open_notebook(page, lab, name)
    menu(page, "Run", "Run All Cells")  # (harness.run_all waits on the first cell: here it is markdown)
    kernel = lab.kernel(name)
    try:  # the test's own queries run with store_history=False: they do not move the count
        wait_python(kernel, "get_ipython().execution_count", n_code + 1, timeout=180)
    finally:
        kernel.close()
    wait_kernel_idle(page)


def _model_errors(page: Page) -> list[str]:
    log = page_log(page)
    return [m for m in log.console + log.page_errors if "model not found" in m.lower() or "no model" in m]


def test_quickstart_opens_with_no_warning_on_a_durable_store(page: Page, lab: Lab) -> None:
    try:
        _run_notebook(page, lab, "01_quickstart.ipynb")
        page.wait_for_selector(f"{PANEL} .rw-root .rw-item[data-item-id]", timeout=60_000)
        stderr = page.locator(f"{PANEL} [data-mime-type='application/vnd.jupyter.stderr']")
        assert stderr.count() == 0, stderr.all_inner_texts()
        assert "Warning" not in page.locator(f"{PANEL} .jp-OutputArea").first.inner_text()
        assert page.locator(f"{PANEL} .rw-root .rw-status").first.get_attribute("data-durable") == "true"
        assert "Item 1 of 31" in (page.locator(f"{PANEL} .rw-root .rw-itemid").first.text_content() or "")
        assert (lab.root / "labels.sqlite").exists()
        assert _model_errors(page) == []
    finally:
        lab.shutdown_session("01_quickstart.ipynb")


def test_batch_review_widgets_render_and_end_on_all_done(page: Page, lab: Lab) -> None:
    try:
        _run_notebook(page, lab, "02_batch_review.ipynb")
        roots = page.locator(f"{PANEL} .rw-root")
        page.wait_for_function(
            "sel => document.querySelectorAll(sel).length === 2", arg=f"{PANEL} .rw-root", timeout=60_000
        )
        first, resumed = roots.nth(0), roots.nth(1)
        # the first widget is not blank: it shows an item (the one it was on when the notebook moved on)
        assert first.locator(".rw-item[data-item-id]").count() == 1
        assert first.locator(".rw-error:not([hidden])").count() == 0
        # the resumed widget: every item labelled from the notebook, so "All done", no error left
        resumed.locator(".rw-done").wait_for(timeout=30_000)
        assert "All items in this queue are done" in resumed.inner_text()
        assert resumed.locator(".rw-error:not([hidden])").count() == 0
        assert page.locator(f"{PANEL} [data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        assert _model_errors(page) == []
    finally:
        lab.shutdown_session("02_batch_review.ipynb")
