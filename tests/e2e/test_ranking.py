"""Rankings with ties, by drag and drop and by keyboard; checked in `w.labels` and the SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .harness import Lab, page_log
from .widget_driver import (
    display_order,
    focus_widget,
    kernel_labels,
    notebook_cells_intact,
    shown_item,
    sqlite_rows,
    wait_item_change,
    wait_python,
    widget_session,
)

pytestmark = pytest.mark.e2e

SIZES = [3, 4, 3, 4, 3]


def ranking_items() -> list[dict[str, Any]]:
    return [
        {
            "item_id": f"rk-{i:02d}",
            "prompt": f"Ranking prompt {i}: summarise the causes of the French Revolution.",
            "responses": [
                {
                    "response_id": f"rk{i}-{k}",
                    "text": f"Summary {k} of {i}: fiscal crisis, bread prices.",
                    "model": f"m{k}",
                }
                for k in range(n)
            ],
        }
        for i, n in enumerate(SIZES)
    ]


def shown_groups(page: Page) -> list[list[str]]:
    """The ranking panel's tie groups (position letters), best first."""
    groups = page.eval_on_selector_all(
        ".rw-root .rw-group",
        "els => els.map(g => [...g.querySelectorAll('[data-response-id]')].map(c => c.dataset.position))",
    )
    return [list(g) for g in groups]


def wait_groups(page: Page, expected: list[list[str]], where: str) -> None:
    """Wait until the panel shows `expected` (order of groups matters, order inside a tie group does not)."""
    try:
        page.wait_for_function(
            "exp => JSON.stringify([...document.querySelectorAll('.rw-root .rw-group')].map(g =>"
            " [...g.querySelectorAll('[data-response-id]')].map(c => c.dataset.position).sort().join()))"
            " === JSON.stringify(exp)",
            arg=[",".join(sorted(g)) for g in expected],
            timeout=5_000,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"{where}: panel shows {shown_groups(page)}, expected {expected}") from None


def card(page: Page, letter: str) -> Any:
    return page.locator(f".rw-root .rw-item .rw-response[data-position='{letter}']").first


def drag(page: Page, letter: str, target: str) -> None:
    card(page, letter).drag_to(page.locator(f".rw-root {target}").first)


# Each step drives the page, then names the groups (by letter) the panel must show afterwards.
Step = tuple[Callable[[Page], None], list[list[str]]]


def dnd_tie(page: Page) -> list[Step]:
    return [
        (lambda p: drag(p, "B", ".rw-gap[data-gap='0']"), [["B"]]),
        (lambda p: drag(p, "A", ".rw-group[data-group='0']"), [["B", "A"]]),  # onto a group: tie
        (lambda p: drag(p, "C", ".rw-gap[data-gap='1']"), [["B", "A"], ["C"]]),  # between: new group
    ]


def dnd_reorder(page: Page) -> list[Step]:
    return [
        (lambda p: drag(p, "D", ".rw-gap[data-gap='0']"), [["D"]]),
        (lambda p: drag(p, "A", ".rw-gap[data-gap='1']"), [["D"], ["A"]]),
        (lambda p: drag(p, "C", ".rw-gap[data-gap='1']"), [["D"], ["C"], ["A"]]),
        (lambda p: drag(p, "B", ".rw-gap[data-gap='3']"), [["D"], ["C"], ["A"], ["B"]]),
        (lambda p: drag(p, "D", ".rw-gap[data-gap='4']"), [["C"], ["A"], ["B"], ["D"]]),  # move best to last
    ]


def keys(*presses: str) -> Callable[[Page], None]:
    def run(p: Page) -> None:
        for k in presses:
            p.keyboard.press(k)

    return run


def kb_numbers(page: Page) -> list[Step]:
    return [
        (keys("b", "1"), [["B"]]),
        (keys("c", "2"), [["B"], ["C"]]),
        (keys("a", "3"), [["B"], ["C"], ["A"]]),
    ]


def kb_alt_tie(page: Page) -> list[Step]:
    return [
        (keys("a", "Alt+ArrowUp"), [["A"]]),
        (keys("b", "Alt+ArrowUp"), [["A"], ["B"]]),
        (keys("c", "Alt+ArrowUp"), [["A"], ["B"], ["C"]]),
        (keys("d", "Alt+ArrowUp"), [["A"], ["B"], ["C"], ["D"]]),
        (keys("Alt+ArrowUp"), [["A"], ["B"], ["D"], ["C"]]),
        (keys("t"), [["A"], ["B", "D"], ["C"]]),
        (keys("u"), [["A"], ["B"], ["D"], ["C"]]),
        (keys("t"), [["A"], ["B", "D"], ["C"]]),
    ]


def kb_move_down(page: Page) -> list[Step]:
    return [
        (keys("c", "1"), [["C"]]),
        (keys("a", "2"), [["C"], ["A"]]),
        (keys("b", "2"), [["C"], ["A", "B"]]),  # the same number as A: a tie
        (keys("b", "Alt+ArrowDown"), [["C"], ["A"], ["B"]]),
    ]


PLANS = [
    ("dnd", dnd_tie),
    ("dnd", dnd_reorder),
    ("keys", kb_numbers),
    ("keys", kb_alt_tie),
    ("keys", kb_move_down),
]


def same_groups(actual: list[list[str]], expected: list[list[str]]) -> bool:
    return [sorted(g) for g in actual] == [sorted(g) for g in expected]


def test_ranking_by_drag_and_drop_and_keyboard(page: Page, lab: Lab) -> None:
    items = ranking_items()
    with widget_session(
        page, lab, "ranking.ipynb", items, 'annotator="bob", task="ranking", store="ranking.sqlite", seed=5'
    ) as kernel:
        expected: list[dict[str, Any]] = []
        for i, (how, plan) in enumerate(PLANS):
            item_id = shown_item(page)
            assert item_id == items[i]["item_id"]
            assert display_order(page) == [f"r{k + 1}" for k in range(SIZES[i])]  # opaque ids on the wire
            order = display_order(page, items[i])
            assert len(order) == SIZES[i]
            letter_to_id = {chr(65 + k): rid for k, rid in enumerate(order)}
            focus_widget(page)
            groups: list[list[str]] = []
            for n, (act, groups) in enumerate(plan(page)):
                act(page)
                wait_groups(page, groups, f"item {item_id} ({how}) step {n}")
            if how == "dnd":
                page.locator(".rw-root .rw-submit").first.click()
            else:
                page.keyboard.press("Enter")
            if i < len(PLANS) - 1:
                wait_item_change(page, item_id)
            expected.append(
                {
                    "item_id": item_id,
                    "order": order,
                    "ranking": [[letter_to_id[x] for x in g] for g in groups],
                }
            )

        wait_python(kernel, "len(w.labels)", len(PLANS))
        frame_rows = {r["item_id"]: r for r in kernel_labels(kernel)}
        file_rows = sqlite_rows(lab.root / "ranking.sqlite")
        assert [r["item_id"] for r in file_rows] == [e["item_id"] for e in expected]
        for exp, file_row in zip(expected, file_rows, strict=True):
            for source, row in (("w.labels", frame_rows[exp["item_id"]]), ("sqlite", file_row)):
                where = f"{source} item {exp['item_id']}"
                assert same_groups(row["ranking"], exp["ranking"]), (where, row["ranking"], exp["ranking"])
                assert row["display_order"] == exp["order"], where
                assert row["task"] == "ranking" and row["annotator"] == "bob", where
                assert row["winner"] is None and row["strength"] is None, where
                assert row["revision"] == 1 and row["source"] == "widget", where
                assert row["status"] == "submitted", where
        ties = [e["item_id"] for e in expected if any(len(g) > 1 for g in e["ranking"])]
        assert ties == ["rk-00", "rk-03"]
        assert notebook_cells_intact(page) == ["code", "code"]
        assert page_log(page).page_errors == []
