"""Issue 14, findings 1-4 in real JupyterLab: the focus model, key by key, with the help overlay's sequences
and the store asserted (docs/labeling.md "Keyboard")."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from .harness import Lab, page_log
from .widget_driver import (
    display_order,
    focus_widget,
    kernel_labels,
    pair_items,
    sqlite_rows,
    wait_item_change,
    wait_python,
    widget_session,
)

pytestmark = pytest.mark.e2e

CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"


def four_items(n: int) -> list[dict[str, Any]]:
    return [
        {
            "item_id": f"set-{i:02d}",
            "prompt": f"Question {i}: name a prime.",
            "responses": [
                {"response_id": f"s{i}-{c}", "text": f"Answer {c.upper()}{i}: {p}.", "model": f"m{c}"}
                for c, p in zip("wxyz", ("2", "3", "5", "7"), strict=True)
            ],
        }
        for i in range(n)
    ]


def help_text(page: Page) -> str:
    return str(page.locator(".rw-root .rw-help").first.text_content())


def test_flag_then_enter_submits_the_verdict_and_esc_returns_focus(page: Page, lab: Lab) -> None:
    """Finding 1: after `f` and Space on a flag, Enter submits (the verdict is kept, not a flagged skip)."""
    items = pair_items(3, prefix="fl")
    with widget_session(
        page, lab, "kb_flag.ipynb", items, 'annotator="alice", store="kb_flag.sqlite", seed=2'
    ) as kernel:
        focus_widget(page)
        first = items[0]
        order = display_order(page, first)
        assert "Flags (focus the first flag" in help_text(page)
        page.keyboard.press("2")  # A better
        page.keyboard.press("f")
        assert page.evaluate("document.activeElement.classList.contains('rw-flag')")
        page.keyboard.press(" ")
        assert page.locator(".rw-root .rw-flag").first.get_attribute("aria-pressed") == "true"
        page.keyboard.press("Enter")
        wait_item_change(page, first["item_id"])
        wait_python(kernel, "len(w.labels)", 1)
        (row,) = kernel_labels(kernel)
        assert (row["status"], row["winner"], row["strength"]) == ("submitted", order[0], 2)
        assert row["flags"] == [page.locator(".rw-root .rw-flag").first.get_attribute("data-flag")]
        # Esc from a flag, a header button and the rationale box brings the focus back to the widget
        for sel in (".rw-flag", ".rw-btn-diff", ".rw-rationale"):
            page.locator(f".rw-root {sel}").first.focus()
            page.keyboard.press("Escape")
            assert page.evaluate("document.activeElement.classList.contains('rw-root')"), sel
        assert page.locator(".rw-root .rw-keys-badge[data-keys='widget']").count() == 1
        assert page_log(page).page_errors == []


def test_rating_path_from_the_help_stores_the_ratings(page: Page, lab: Lab) -> None:
    """Finding 2: the help's rating path (v, then a digit per rating) stores what was typed."""
    items = pair_items(2, prefix="rt")
    with widget_session(
        page,
        lab,
        "kb_rate.ipynb",
        items,
        'annotator="alice", store="kb_rate.sqlite", seed=4, criteria=["clear", "true"]',
    ) as kernel:
        focus_widget(page)
        order = display_order(page, items[0])
        assert "Rate: focus the first rating not given yet, then type 1 … 5 per rating" in help_text(page)
        page.keyboard.press("4")  # B better
        page.keyboard.press("v")
        for d in ("5", "4", "2", "1"):  # A clear, A true, B clear, B true
            page.keyboard.press(d)
        page.keyboard.press("Enter")
        wait_python(kernel, "len(w.labels)", 1)
        (row,) = sqlite_rows(lab.root / "kb_rate.sqlite")
        assert (row["winner"], row["strength"]) == (order[1], 2)
        assert row["ratings"] == {order[0]: {"clear": 5, "true": 4}, order[1]: {"clear": 2, "true": 1}}


def test_ranking_digits_mean_the_ranks_typed(page: Page, lab: Lab) -> None:
    """Finding 3: a 2, b 1, c 4, d 3 stores B > A > D > C (no silent tie)."""
    items = four_items(2)
    with widget_session(
        page, lab, "kb_rank.ipynb", items, 'annotator="alice", task="ranking", store="kb_rank.sqlite", seed=5'
    ) as kernel:
        focus_widget(page)
        order = display_order(page, items[0])  # real ids of cards A, B, C, D
        assert "a 2, b 1, c 4, d 3 ranks B > A > D > C" in help_text(page)
        for card, rank in (("a", "2"), ("b", "1"), ("c", "4"), ("d", "3")):
            page.keyboard.press(card)
            page.keyboard.press(rank)
        page.keyboard.press("Enter")
        wait_python(kernel, "len(w.labels)", 1)
        (row,) = sqlite_rows(lab.root / "kb_rank.sqlite")
        a, b, c, d = order
        assert row["ranking"] == [[b], [a], [d], [c]]


def test_notebook_command_keys_never_act_while_the_widget_has_the_keyboard(page: Page, lab: Lab) -> None:
    """Finding 4: with the widget focused, d d a b x z, Esc, Enter, Shift+Enter do nothing to the notebook;
    after a click outside, JupyterLab gets its keys again, and the badge says where keys go."""
    items = pair_items(20, prefix="lk")
    with widget_session(
        page, lab, "kb_leak.ipynb", items, 'annotator="alice", store="kb_leak.sqlite", seed=6', ["1 + 1"]
    ):
        assert page.locator(CELLS).count() == 3
        focus_widget(page)
        assert page.locator(".rw-root .rw-keys-badge[data-keys='widget']").count() == 1
        for key in ("d", "d", "a", "b", "x", "z", "Escape", "Shift+Enter", "Enter", "d", "d"):
            if not page.evaluate("document.activeElement.closest('.rw-root') !== null"):
                focus_widget(page)  # Esc on the widget gives the keyboard back: take it again
            page.keyboard.press(key)
        page.wait_for_timeout(500)
        assert page.locator(CELLS).count() == 3
        assert len(lab.api("/api/contents/kb_leak.ipynb")["content"]["cells"]) == 3
        # Click outside the widget (the last cell's prompt), then command-mode b inserts a cell below
        page.locator(CELLS).last.locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        assert page.locator(".rw-root .rw-keys-badge[data-keys='page']").count() == 1
        page.keyboard.press("b")
        page.wait_for_function(f"() => document.querySelectorAll({CELLS!r}).length === 4")
