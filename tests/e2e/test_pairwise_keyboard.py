"""Pairwise labeling with the keyboard alone, checked row by row in `w.labels` and in the SQLite file."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .harness import Lab, page_log
from .widget_driver import (
    display_order,
    focus_widget,
    kernel_labels,
    notebook_cells_intact,
    pair_items,
    shown_item,
    sqlite_rows,
    wait_item,
    wait_item_change,
    wait_python,
    widget_session,
)

pytestmark = pytest.mark.e2e

# key -> (index into display_order of the winner, or None for a tie; strength)
KEY_VERDICT = {"1": (0, 3), "2": (0, 2), "3": (None, 0), "4": (1, 2), "5": (1, 3)}
KEYS = ["1", "2", "3", "4", "5", "5", "4", "3", "2", "1"]
RATIONALES = {1: "A is correct and shorter.", 4: "B explains why — with an example ✓", 7: "Both fine; tie."}


def test_pairwise_by_keyboard_alone(page: Page, lab: Lab) -> None:
    items = pair_items(10, prefix="kb")
    with widget_session(
        page,
        lab,
        "pairwise_kb.ipynb",
        items,
        'annotator="alice", task="pairwise", store="pairwise_kb.sqlite", seed=11',
    ) as kernel:
        focus_widget(page)
        expected = []
        for i, key in enumerate(KEYS):
            item_id = shown_item(page)
            assert item_id == items[i]["item_id"], f"step {i}: widget shows {item_id}, expected the next item"
            assert display_order(page) == ["r1", "r2"]  # the browser gets opaque ids, never the source's
            order = display_order(page, items[i])
            assert sorted(order) == sorted(r["response_id"] for r in items[i]["responses"]), order
            page.keyboard.press(key)
            rationale = RATIONALES.get(i, "")
            if rationale:
                page.keyboard.press("r")
                page.keyboard.type(rationale)
                page.keyboard.press("Escape")  # leave the text box; Enter then submits
            page.keyboard.press("Enter")
            if i < len(KEYS) - 1:
                wait_item_change(page, item_id)  # the next item shows without waiting for the kernel
            # "saved" only once durable: when the mark shows, the row is already committed in the file (the
            # status line is the item on screen's; the session line counts the acked items)
            page.wait_for_selector(f".rw-saves[data-saved='{i + 1}'][data-saving='0']", state="attached")
            stored = [r["item_id"] for r in sqlite_rows(lab.root / "pairwise_kb.sqlite")]
            assert item_id in stored, f"{item_id} shown as saved but not in the store file: {stored}"
            winner_pos, strength = KEY_VERDICT[key]
            expected.append(
                {
                    "item_id": item_id,
                    "winner": "tie" if winner_pos is None else order[winner_pos],
                    "strength": strength,
                    "display_order": order,
                    "rationale": rationale,
                }
            )

        wait_python(kernel, "len(w.labels)", len(KEYS))
        frame_rows = kernel_labels(kernel)
        file_rows = sqlite_rows(lab.root / "pairwise_kb.sqlite")
        assert len(frame_rows) == len(file_rows) == len(KEYS)
        by_item_frame = {r["item_id"]: r for r in frame_rows}
        for exp, file_row in zip(expected, file_rows, strict=True):
            frame_row = by_item_frame[exp["item_id"]]
            for source, row in (("w.labels", frame_row), ("sqlite", file_row)):
                where = f"{source} item {exp['item_id']}"
                assert row["item_id"] == exp["item_id"], where
                assert row["winner"] == exp["winner"], where
                assert row["strength"] == exp["strength"], where
                assert row["display_order"] == exp["display_order"], where
                assert row["rationale"] == exp["rationale"], where
                assert row["annotator"] == "alice", where
                assert row["task"] == "pairwise", where
                assert row["status"] == "submitted", where
                assert row["revision"] == 1, where
                assert row["supersedes"] is None, where
                assert row["source"] == "widget", where
                assert row["active_ms"] is not None and row["active_ms"] > 0, where
                assert row["started_at"] is not None and row["submitted_at"] is not None, where
                # the ranking follows the verdict: a tie is one group, otherwise the winner first
                if exp["winner"] == "tie":
                    assert sorted(row["ranking"][0]) == sorted(exp["display_order"]), where
                else:
                    assert row["ranking"][0] == [exp["winner"]], where
            assert frame_row["label_id"] == file_row["label_id"]
        # Back to the 9th item and change the verdict: a new revision superseding the first, prefilled first
        relabel = expected[8]
        # after the last item the view shows its "all done" state; Back goes to the 10th item, then the 9th
        page.wait_for_selector(".rw-root .rw-done")
        page.keyboard.press("[")
        wait_item(page, expected[9]["item_id"])
        page.keyboard.press("[")
        wait_item(page, relabel["item_id"])
        assert page.locator(".rw-root button[data-choice][aria-checked='true']").count() == 1  # prefill
        page.keyboard.press("3")
        page.keyboard.press("Enter")
        wait_python(kernel, "len(w.store.labels())", len(KEYS) + 1)
        all_rows = sqlite_rows(lab.root / "pairwise_kb.sqlite")
        first, second = [r for r in all_rows if r["item_id"] == relabel["item_id"]]
        assert (second["revision"], second["supersedes"]) == (2, first["label_id"])
        assert (second["winner"], second["strength"]) == ("tie", 0)
        current = {r["item_id"]: r for r in kernel_labels(kernel)}
        assert len(current) == len(KEYS) and current[relabel["item_id"]]["revision"] == 2

        # the labeler's keys never reached JupyterLab (e.g. "1" turns a cell into a heading in command mode)
        assert notebook_cells_intact(page) == ["code", "code"]
        assert page_log(page).page_errors == []
