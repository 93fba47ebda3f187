"""Restart the kernel from JupyterLab's menu and re-run: the widget resumes where the labeler stopped."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from .harness import Lab, accept_dialog, menu, page_log, run_all, wait_kernel_idle
from .widget_driver import (
    focus_widget,
    pair_items,
    shown_item,
    sqlite_rows,
    start_widget,
    wait_item_change,
    wait_python,
    widget_notebook,
)

pytestmark = pytest.mark.e2e

NEW_ROOT = ".rw-root:not([data-e2e-old])"


def test_restart_kernel_resumes_at_first_unlabelled_item(page: Page, lab: Lab) -> None:
    items = pair_items(6, prefix="rs")
    widget_notebook(lab, "resume.ipynb", items, 'annotator="carol", store="resume.sqlite", seed=2')
    kernel = start_widget(page, lab, "resume.ipynb")
    try:
        focus_widget(page)
        for i, key in enumerate(["2", "4", "3"]):
            assert shown_item(page) == items[i]["item_id"]
            page.keyboard.press(key)
            page.keyboard.press("Enter")
            wait_item_change(page, items[i]["item_id"])
        wait_python(kernel, "len(w.labels)", 3)
        page.wait_for_selector(".rw-saves[data-saved='3'][data-saving='0']", state="attached")
    finally:
        kernel.close()

    # Mark the old view so the re-run's widget can be told apart from the stale output.
    page.eval_on_selector_all(".rw-root", "els => els.forEach(e => e.setAttribute('data-e2e-old', ''))")
    menu(page, "Kernel", "Restart Kernel…")
    accept_dialog(page, "Restart")
    wait_kernel_idle(page)
    run_all(page)
    page.wait_for_selector(f"{NEW_ROOT} .rw-item[data-item-id]", timeout=60_000)

    kernel = lab.kernel("resume.ipynb")
    try:
        shown = page.locator(f"{NEW_ROOT} .rw-item[data-item-id]").first.get_attribute("data-item-id")
        assert shown == items[3]["item_id"], f"after restart the widget shows {shown}, expected the 4th item"
        assert kernel.json("w.position") == 3
        progress = kernel.json("w.progress")
        assert progress["done"] == 3 and progress["total"] == 6, progress
        assert kernel.json("len(w.labels)") == 3
        text = page.locator(f"{NEW_ROOT} .rw-progress").first.inner_text()
        assert re.search(r"\b3\s*/\s*6\b", text), f"progress shows {text!r}, expected 3 of 6 done"
        # the acked labels survived the restart in the file, once each
        rows = sqlite_rows(lab.root / "resume.sqlite")
        assert [r["item_id"] for r in rows] == [it["item_id"] for it in items[:3]]
        assert all(r["revision"] == 1 and r["annotator"] == "carol" for r in rows)

        # and the resumed widget keeps labelling where it is
        focus_widget(page, NEW_ROOT)
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        wait_python(kernel, "len(w.labels)", 4)
        assert kernel.json("w.position") == 4
        assert sqlite_rows(lab.root / "resume.sqlite")[-1]["item_id"] == items[3]["item_id"]
        assert page_log(page).page_errors == []
    finally:
        kernel.close()
        lab.shutdown_session("resume.ipynb")
