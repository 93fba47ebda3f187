"""Issue 12 in real JupyterLab: an LLM judge's verdict in the labeling view. reveal="after": nothing of it is
in the page until the labeler's label is stored; then it shows, as text. reveal="before": it comes with the
item."""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest
from playwright.sync_api import Page

import rank_widget as rw
from rank_widget.store import open_store

from .harness import Kernel, Lab, page_log
from .widget_driver import (
    focus_widget,
    pair_items,
    shown_item,
    wait_item_change,
    wait_python,
    widget_session,
    write_items,
)

pytestmark = pytest.mark.e2e

SECRET = "JUDGE-REASON-<b>7f3a</b>"  # markup in a judge's reply must show as text


def judge(prompt: object, responses: list[str]) -> str:
    return f"{SECRET} [[B]]"


def judged_store(lab: Lab, stem: str, items: list[dict[str, object]]) -> None:
    frame = rw.load_items(str(write_items(lab.root / f"{stem}.judge.jsonl", items)))
    with open_store(lab.root / f"{stem}.sqlite") as store:
        rw.run_judge(frame, judge, name="gpt", store=store, both_orders=False, progress=False)


def judged_widget(
    page: Page, lab: Lab, stem: str, items: list[dict[str, object]], more_options: str = ""
) -> AbstractContextManager[Kernel]:
    """:func:`widget_session` of notebook `stem`.ipynb on store `stem`.sqlite, which holds judge gpt's
    verdicts on `items` (suggestions="gpt"); `more_options` is appended to the widget's keyword arguments."""
    judged_store(lab, stem, items)
    options = f'annotator="ann", store="{stem}.sqlite", seed=1, suggestions="gpt"{more_options}'
    return widget_session(page, lab, f"{stem}.ipynb", items, options)


def test_after_reveals_the_verdict_only_once_the_label_is_saved(page: Page, lab: Lab) -> None:
    items = pair_items(4, prefix="sa")
    with judged_widget(page, lab, "sugg_after", items) as kernel:
        box = page.locator(".rw-root .rw-suggestion")
        assert box.count() == 1 and box.is_hidden()
        assert "JUDGE-REASON" not in page.content()  # not in the page, hidden or not
        first = shown_item(page)
        focus_widget(page)
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        wait_item_change(page, first)
        wait_python(kernel, "len(w.labels)", 1)
        box.wait_for(state="visible", timeout=10_000)
        text = box.inner_text()
        assert first in text and "Judge gpt" in text and SECRET in text
        assert page.locator(".rw-root .rw-suggestion b").count() == 0  # shown as text, not HTML
        assert kernel.json("list(rw.store.notes.read_notes(w.store, 'suggestion')['status'])") == ["after"]
        assert page_log(page).page_errors == []


def test_before_shows_the_verdict_with_the_item(page: Page, lab: Lab) -> None:
    items = pair_items(3, prefix="sb")
    with judged_widget(page, lab, "sugg_before", items, ', reveal="before"'):
        box = page.locator(".rw-root .rw-suggestion")
        box.wait_for(state="visible", timeout=10_000)
        assert shown_item(page) in box.inner_text() and SECRET in box.inner_text()
        assert page_log(page).page_errors == []
