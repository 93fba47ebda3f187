"""Issue 14, findings 6 and 8 in real JupyterLab: undo (z, Ctrl+Z), the history panel (h), markers on
revisited items, returning to where you were after re-labelling, and a lead's re-queue reason and comment
reaching the annotator. Key sequences as the help overlay gives them; the store and w.labels asserted from
Python."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .harness import Lab, page_log, write_notebook
from .widget_driver import (
    display_order,
    focus_widget,
    kernel_labels,
    pair_items,
    shown_item,
    sqlite_rows,
    start_widget,
    wait_item,
    wait_item_change,
    wait_python,
    widget_session,
    write_items,
)

pytestmark = pytest.mark.e2e

MARKER = ".rw-root .rw-item .rw-marker"


def help_text(page: Page) -> str:
    return str(page.locator(".rw-root .rw-help").first.text_content())


def label(page: Page, key: str) -> str:
    """Press a verdict key and Enter on the item shown; returns the item id it was on."""
    was = shown_item(page)
    page.keyboard.press(key)
    page.keyboard.press("Enter")
    wait_item_change(page, was)
    return was


def test_undo_withdraws_the_last_submit_as_a_new_revision(page: Page, lab: Lab) -> None:
    """z undoes the last submit (a withdrawn revision; nothing deleted), Ctrl+Z the skip before it; the view
    goes back to the undone item, which can be labelled again."""
    items = pair_items(4, prefix="un")
    with widget_session(
        page, lab, "hist_undo.ipynb", items, 'annotator="alice", store="hist_undo.sqlite", seed=4'
    ) as kernel:
        focus_widget(page)
        text = help_text(page)
        assert "Undo the last submit or skip" in text and "this session's labels" in text
        label(page, "2")  # un-00: A better
        page.keyboard.press("s")  # un-01: skipped
        wait_item(page, "un-02")
        wait_python(kernel, "len(w.labels)", 2)
        page.keyboard.press("z")  # undo the skip
        wait_item(page, "un-01")
        page.wait_for_selector(f"{MARKER}[data-state='undone']")
        wait_python(kernel, "w.labels.set_index('item_id').loc['un-01', 'status']", "withdrawn")
        page.keyboard.press("Control+z")  # undo the submit before it
        wait_item(page, "un-00")
        wait_python(kernel, "w.labels.set_index('item_id').loc['un-00', 'status']", "withdrawn")
        # What was chosen is kept as the item's unsaved draft, in the kernel too (a reload restores it).
        assert page.locator(".rw-root .rw-choice[aria-checked='true']").count() == 1
        wait_python(kernel, "w.drafts.get('item_id')", "un-00")
        # Label un-00 again (B better): revision 3; nothing was deleted along the way.
        order = display_order(page, items[0])
        label(page, "4")
        wait_python(kernel, "int(w.labels.set_index('item_id').loc['un-00', 'revision'])", 3)
        rows = sqlite_rows(lab.root / "hist_undo.sqlite")
        assert [(r["item_id"], r["status"], r["revision"]) for r in rows] == [
            ("un-00", "submitted", 1),
            ("un-01", "skipped", 1),
            ("un-01", "withdrawn", 2),
            ("un-00", "withdrawn", 2),
            ("un-00", "submitted", 3),
        ]
        assert rows[2]["supersedes"] == rows[1]["label_id"] and rows[3]["supersedes"] == rows[0]["label_id"]
        latest = {r["item_id"]: r for r in kernel_labels(kernel)}
        assert (latest["un-00"]["winner"], latest["un-00"]["strength"]) == (order[1], 2)
        assert latest["un-01"]["status"] == "withdrawn"
        assert page_log(page).page_errors == []


def test_history_panel_lists_and_jumps_by_keyboard(page: Page, lab: Lab) -> None:
    """h opens this session's labels (newest first, with verdict and state); arrows move, Enter opens the
    item, Esc closes the panel and gives the keyboard back to the widget."""
    items = pair_items(5, prefix="hp")
    with widget_session(
        page, lab, "hist_panel.ipynb", items, 'annotator="alice", store="hist_panel.sqlite", seed=5'
    ) as kernel:
        focus_widget(page)
        label(page, "1")  # hp-00 A much better
        page.keyboard.press("s")  # hp-01 skipped
        wait_item(page, "hp-02")
        label(page, "3")  # hp-02 tie
        wait_python(kernel, "len(w.labels)", 3)
        page.keyboard.press("h")
        page.wait_for_selector(".rw-root .rw-history .rw-history-entry")
        rows = page.locator(".rw-root .rw-history-entry")
        texts = [str(t) for t in rows.all_text_contents()]
        assert len(texts) == 3
        assert texts[0].startswith("Item 3 \u00b7 hp-02 \u00b7 Tie") and texts[0].endswith(
            "saved (revision 1)"
        )
        assert texts[1].startswith("Item 2 \u00b7 hp-01 \u00b7 Skipped") and texts[1].endswith("skipped")
        assert texts[2].startswith("Item 1 \u00b7 hp-00 \u00b7 A much better")
        assert page.evaluate("document.activeElement.classList.contains('rw-history-entry')")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        assert page.evaluate("document.activeElement.dataset.itemId") == "hp-00"
        page.keyboard.press("Enter")
        wait_item(page, "hp-00")
        assert page.locator(".rw-root .rw-history").is_hidden()
        assert page.evaluate("document.activeElement.classList.contains('rw-root')")
        wait_python(kernel, "w.position", 0)
        # Open again and close with Esc: the keyboard is the widget's, Enter then acts on the item again.
        page.keyboard.press("h")
        page.wait_for_selector(".rw-root .rw-history .rw-history-entry")
        page.keyboard.press("Escape")
        assert page.locator(".rw-root .rw-history").is_hidden()
        assert page.evaluate("document.activeElement.classList.contains('rw-root')")
        # The History button does the same for the mouse.
        page.locator(".rw-root .rw-btn-history").click()
        page.wait_for_selector(".rw-root .rw-history .rw-history-entry")
        page.keyboard.press("Escape")
        assert page_log(page).page_errors == []


def test_markers_and_return_to_where_you_were(page: Page, lab: Lab) -> None:
    """Revisited items say 'Labelled (revision N)' / 'Skipped' (no abandoned verdict shown); re-labelling an
    earlier item returns to the item the labeler was at, not the one after the re-labelled item."""
    items = pair_items(6, prefix="mk")
    with widget_session(
        page, lab, "hist_marks.ipynb", items, 'annotator="alice", store="hist_marks.sqlite", seed=6'
    ) as kernel:
        focus_widget(page)
        label(page, "2")  # mk-00
        page.keyboard.press("1")  # a verdict typed, then abandoned by the skip
        page.keyboard.press("s")  # mk-01 skipped
        wait_item(page, "mk-02")
        label(page, "5")  # mk-02
        label(page, "4")  # mk-03
        wait_item(page, "mk-04")
        wait_python(kernel, "len(w.labels)", 4)
        assert page.locator(MARKER).count() == 0  # a fresh item has no marker
        page.keyboard.press("[")
        page.keyboard.press("[")
        page.keyboard.press("[")
        wait_item(page, "mk-01")
        marker = page.locator(MARKER)
        assert marker.get_attribute("data-state") == "skipped"
        assert str(marker.text_content()).startswith("Skipped")
        assert page.locator(".rw-root .rw-choice[aria-checked='true']").count() == 0  # no abandoned verdict
        page.keyboard.press("[")
        wait_item(page, "mk-00")
        assert str(page.locator(MARKER).text_content()).startswith("Labelled (revision 1)")
        # Re-label mk-00: the next item shown is mk-04 (where the labeler was), not mk-01.
        order = display_order(page, items[0])
        page.keyboard.press("5")
        page.keyboard.press("Enter")
        wait_item(page, "mk-04")
        wait_python(kernel, "w.position", 4)
        wait_python(kernel, "int(w.labels.set_index('item_id').loc['mk-00', 'revision'])", 2)
        row = next(r for r in kernel_labels(kernel) if r["item_id"] == "mk-00")
        assert (row["winner"], row["strength"]) == (order[1], 3)
        page.keyboard.press("[")
        page.keyboard.press("[")
        page.keyboard.press("[")
        page.keyboard.press("[")
        wait_item(page, "mk-00")
        assert str(page.locator(MARKER).text_content()).startswith("Labelled (revision 2)")
        # A skipped item from an earlier session says Skipped too (the prefill carries no verdict).
        kernel.run("w2 = rw.RankWidget(items, annotator='alice', store='hist_marks.sqlite', seed=6)")
        assert kernel.json("w2.current_item['item_id']") == "mk-04"
        assert kernel.json("[w2.goto('mk-01'), w2.current_item['label']['status']][1]") == "skipped"
        assert page_log(page).page_errors == []


def test_requeue_reason_and_comment_reach_the_annotator(page: Page, lab: Lab) -> None:
    """A lead re-queues an item with a reason and comments on a label; the annotator opening the queue sees
    both on the item (as text, never HTML) and marks the comment read; the store records it."""
    items = pair_items(3, prefix="rv")
    store = "hist_review.sqlite"
    # The annotator labelled rv-00 earlier; the lead then re-queued it and commented on that label.
    setup = (
        "import rank_widget as rw\n"
        f"items = rw.load_items('hist_review.items.jsonl')\n"
        f"w0 = rw.RankWidget(items, annotator='alice', store={store!r}, seed=7)\n"
        "w0.handle_message({'type': 'submit', 'client_id': 'first', 'item_id': 'rv-00', 'index': 0,"
        " 'label': {"
        "'status': 'submitted', 'winner': w0.current_item['display_order'][0], 'strength': 2,"
        " 'display_order': w0.current_item['display_order'], 'guideline_version': None, 'started_at': None,"
        " 'active_ms': None}})\n"
        "from rank_widget.audit import AuditWidget\n"
        f"lead = AuditWidget(items, {store!r}, adjudicator='lead')\n"
        "lead.requeue(['rv-00'], 'Annotators split: <b>check</b> the safety guideline', queue='round2')\n"
        "cid = lead.comment('first', 'Why A? <img src=x onerror=\"window.__pwned=1\"> see section 3')"
    )
    write_items(lab.root / "hist_review.items.jsonl", items)
    write_notebook(
        lab.root / "hist_review.ipynb",
        [setup, f"w = rw.RankWidget(items, annotator='alice', store={store!r}, seed=7, queue='round2')\nw"],
    )
    kernel = start_widget(page, lab, "hist_review.ipynb")
    try:
        wait_item(page, "rv-00")
        notes = page.locator(".rw-root .rw-item .rw-note")
        assert notes.count() == 2
        kinds = [notes.nth(i).get_attribute("data-kind") for i in range(2)]
        assert kinds == ["requeue", "comment"]
        assert str(notes.nth(0).locator(".rw-note-head").text_content()).startswith(
            "Sent back for review by lead (queue round2)"
        )
        assert notes.nth(0).locator(".rw-note-text").text_content() == (
            "Annotators split: <b>check</b> the safety guideline"
        )
        assert "<img src=x" in str(notes.nth(1).locator(".rw-note-text").text_content())
        assert page.locator(".rw-root .rw-note img, .rw-root .rw-note b").count() == 0
        assert page.evaluate("window.__pwned === undefined")
        page.locator(".rw-root .rw-note-read").click()
        assert notes.nth(1).get_attribute("data-read") == "true"
        wait_python(kernel, "w.store.comments()['read_at'].notna().tolist()", [True])
        assert kernel.json("w.store.comments()['comment_id'].tolist() == [cid]") is True
        # The re-queue asks for a fresh label: the earlier one is not shown as this round's.
        assert page.locator(MARKER).count() == 0
        assert page_log(page).page_errors == []
    finally:
        kernel.close()
        lab.shutdown_session("hist_review.ipynb")
