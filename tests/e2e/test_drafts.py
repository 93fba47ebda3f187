"""Issue 13, finding 10 in real JupyterLab: an unsaved draft (a verdict and a half-written rationale) survives
a page reload, kept by the live kernel; submitting it afterwards stores exactly that label."""

from __future__ import annotations

import json
import urllib.error

import pytest
from playwright.sync_api import Page

from .harness import Lab
from .widget_driver import (
    ITEM,
    display_order,
    focus_widget,
    kernel_labels,
    pair_items,
    shown_item,
    start_widget,
    wait_python,
    widget_notebook,
)

pytestmark = pytest.mark.e2e

# Mark the old view (so the reloaded one is told apart), and let the page unload without JupyterLab's "leave
# the page?" prompt (the e2e page dismisses dialogs, which would cancel the reload).
MARK_OLD_AND_ALLOW_UNLOAD = """
() => {
  document.querySelectorAll('.rw-root').forEach(e => e.setAttribute('data-e2e-old', ''));
  window.addEventListener('beforeunload', e => e.stopImmediatePropagation(), true);
}
"""
RATIONALE = "Half-written: B handles the empty list, A crashes on []"


def saved_with_widget_output(lab: Lab, name: str) -> bool:
    """The notebook file on disk has the widget's output (what a reloaded page renders the view from)."""
    try:
        nb = lab.api(f"/api/contents/{name}?content=1")
    except urllib.error.HTTPError as exc:
        if exc.code == 400:  # read while the save was writing the file ("unreadable notebook"): not saved yet
            return False
        raise
    outputs = [o for c in nb["content"]["cells"] for o in c.get("outputs", [])]
    return any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


def test_a_draft_survives_a_page_reload_and_is_submitted_as_typed(page: Page, lab: Lab) -> None:
    items = pair_items(4, prefix="dr")
    name = "drafts.ipynb"
    widget_notebook(lab, name, items, 'annotator="dora", task="pairwise", store="drafts.sqlite", seed=4')
    kernel = start_widget(page, lab, name)
    try:
        focus_widget(page)
        item_id = shown_item(page)
        assert item_id == items[0]["item_id"]
        order = display_order(page, items[0])  # the real ids, as stored (the page shows r1..rN)
        assert sorted(display_order(page)) == ["r1", "r2"]
        page.keyboard.press("4")  # B better
        page.keyboard.press("r")
        page.keyboard.type(RATIONALE)
        # The kernel has the draft within the throttle interval, without leaving the box.
        wait_python(kernel, "w.drafts.get('draft', {}).get('rationale')", RATIONALE, timeout=10)
        assert kernel.json("w.drafts['draft']['choice']") == "B2"
        assert kernel.json("w.drafts['item_id']") == item_id
        assert kernel.json("len(w.labels)") == 0  # a draft is not a label

        # Save the notebook (its output points at the widget), then reload the page: nothing is re-run.
        page.keyboard.press("Escape")
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputArea-editor").first.click()
        page.keyboard.press("Escape")
        page.keyboard.press("Control+s")
        page.wait_for_function("() => true")  # let the save request leave
        deadline_ok = False
        for _ in range(50):
            if saved_with_widget_output(lab, name):
                deadline_ok = True
                break
            page.wait_for_timeout(200)
        assert deadline_ok, "the notebook was not saved with the widget output"
        page.evaluate(MARK_OLD_AND_ALLOW_UNLOAD)
        # Should a "leave the page?" prompt still come, the page fixture accepts it (tests/e2e/conftest.py).
        page.reload(wait_until="commit", timeout=90_000)
        page.wait_for_selector(ITEM, timeout=90_000)
        assert page.locator(".rw-root[data-e2e-old]").count() == 0  # a new page, a new view

        # The new view restored the draft from the kernel.
        assert shown_item(page) == item_id
        assert page.locator(".rw-root textarea.rw-rationale").input_value() == RATIONALE
        assert page.locator('.rw-root button[data-choice="B2"]').get_attribute("aria-checked") == "true"
        assert not page.locator(".rw-root .rw-submit").is_disabled()

        # Submitting stores the restored draft; the kernel's draft is cleared.
        focus_widget(page)
        page.keyboard.press("Enter")
        wait_python(kernel, "len(w.labels)", 1)
        (row,) = kernel_labels(kernel)
        assert row["item_id"] == item_id
        assert row["rationale"] == RATIONALE
        assert row["winner"] == order[1] and row["strength"] == 2
        assert json.loads(json.dumps(row["display_order"])) == order
        wait_python(kernel, "w._draft_book.get(" + repr(item_id) + ")", None)
    finally:
        kernel.close()
