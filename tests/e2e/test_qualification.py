"""Qualification in real JupyterLab (issue 11): fail with feedback shown, retry, pass, a production item
served; every websocket frame the page receives is kept, and no item's explanation (its gold answer) arrives
before the ack of that item's label (Python acks only after the store committed it)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from .harness import Lab, open_notebook, run_all, write_notebook
from .widget_driver import display_order, focus_widget, pair_items, shown_item, wait_python, write_items

pytestmark = pytest.mark.e2e

N = 3
ROOT = ".rw-root:not([data-e2e-old])"


def _secret(i: int) -> str:
    return f"WHY-SECRET-{i}"


def _qual_items() -> list[dict[str, Any]]:
    items = pair_items(N, prefix="qq")
    for i, it in enumerate(items):
        it["gold"] = it["responses"][i % 2]["response_id"]  # x, y, x
        it["explanation"] = f"{_secret(i)}: answer {'XY'[i % 2]} follows the rule"
    return items


class Frames:
    def __init__(self, page: Page) -> None:
        self.frames: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._keep))

    def _keep(self, payload: Any) -> None:
        self.frames.append(payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload))

    def check_blind(self, start: int, items: list[dict[str, Any]]) -> None:
        """From frame ``start`` on: each item's explanation only after the ack of its label."""
        frames = self.frames[start:]
        for i, it in enumerate(items):
            acks = [
                k
                for k, f in enumerate(frames)
                if '"ack"' in f and it["item_id"] in f and '"label_id"' in f and '"revision"' in f
            ]
            seen = [k for k, f in enumerate(frames) if _secret(i) in f]
            assert acks, f"no ack for {it['item_id']} on the wire"
            assert seen, f"the explanation of {it['item_id']} never arrived"
            assert min(seen) > min(acks), (
                f"{it['item_id']}: explanation at frame {min(seen)} before ack {min(acks)}"
            )


def _answer(page: Page, item: dict[str, Any], right: bool) -> None:
    order = display_order(page, item)  # real response ids, A first
    gold_at = order.index(item["gold"])
    pick = gold_at if right else 1 - gold_at
    focus_widget(page, ROOT)
    page.keyboard.press("2" if pick == 0 else "4")
    page.keyboard.press("Enter")
    panel = page.locator(f"{ROOT} .rw-training-feedback[data-item-id='{item['item_id']}']")
    panel.wait_for(timeout=20_000)
    text = panel.inner_text()
    assert ("Matched" in text) == right and ("Did not match" in text) == (not right), text
    assert "Expected: Response " + "AB"[gold_at] + " is better" in text, text
    assert (
        _secret(_qual_items().index(next(q for q in _qual_items() if q["item_id"] == item["item_id"])))
        in text
    )
    page.keyboard.press("Enter")  # the panel holds the keyboard: Enter = read
    panel.wait_for(state="detached", timeout=20_000)


def test_fail_retry_pass_then_production(page: Page, lab: Lab) -> None:
    qual = _qual_items()
    prod = pair_items(4, prefix="pp")
    write_items(lab.root / "qual.items.jsonl", qual)
    write_items(lab.root / "prod.items.jsonl", prod)
    write_notebook(
        lab.root / "qualify.ipynb",
        [
            "import json, pandas as pd, rank_widget as rw\n"
            "from rank_widget.store import open_store\n"
            "qual = pd.DataFrame([json.loads(l) for l in open('qual.items.jsonl')])\n"
            "prod = rw.load_items('prod.items.jsonl')\n"
            "with open_store('qualify.sqlite') as s:\n"
            "    s.register_qualification('q-v1', qual, pass_mark=1.0, max_attempts=2)\n"
            "    s.register_items('prod', prod['item_id'].tolist(), overlap=2)\n"
            "    s.require_qualification('prod', 'q-v1')",
            "w = rw.RankWidget(prod, annotator='ann', store='qualify.sqlite', dataset='prod', "
            "qualification='q-v1', seed=5)\nw",
        ],
    )
    frames = Frames(page)
    open_notebook(page, lab, "qualify.ipynb")
    run_all(page)
    page.wait_for_selector(f"{ROOT} .rw-item[data-item-id]", timeout=60_000)
    kernel = lab.kernel("qualify.ipynb")
    try:
        # attempt 1: the first answer wrong -> feedback says so, the result says not passed, retry allowed
        for i, it in enumerate(qual):
            assert shown_item(page) == it["item_id"]
            _answer(page, it, right=i != 0)
        result = page.locator(f"{ROOT} .rw-training-result")
        result.wait_for(timeout=20_000)
        text = result.inner_text()
        assert "Qualification not passed" in text and "Score 67% (pass mark 100%)" in text, text
        assert "Item 1:" in text and _secret(0) in text and "You may retry now" in text, text
        assert kernel.json("w.store.qualification_status('q-v1', 'ann')['attempts_left']") == 1
        frames.check_blind(0, qual)

        # attempt 2 (re-run the cells): all right -> passed
        page.eval_on_selector_all(".rw-root", "els => els.forEach(e => e.setAttribute('data-e2e-old', ''))")
        start = len(frames.frames)
        run_all(page)
        page.wait_for_selector(f"{ROOT} .rw-item[data-item-id]", timeout=60_000)
        wait_python(kernel, "w.training['attempt']", 2)
        for it in qual:
            assert (
                shown_item(page) == it["item_id"]
                or page.locator(f"{ROOT} .rw-item").first.get_attribute("data-item-id") == it["item_id"]
            )
            _answer(page, it, right=True)
        result = page.locator(f"{ROOT} .rw-training-result")
        result.wait_for(timeout=20_000)
        assert "Qualification passed" in result.inner_text()
        assert "Production labelling is unlocked" in result.inner_text()
        frames.check_blind(start, qual)

        # production: the queue now serves this annotator
        page.eval_on_selector_all(".rw-root", "els => els.forEach(e => e.setAttribute('data-e2e-old', ''))")
        run_all(page)
        page.wait_for_selector(f"{ROOT} .rw-item[data-item-id^='pp-']", timeout=60_000)
        assert page.locator(f"{ROOT} .rw-training").count() == 0
        assert kernel.json("w.store.leases('prod', 'ann')['item_id'].tolist()")[0] == "pp-00"
        focus_widget(page, ROOT)
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        wait_python(kernel, "[i for i in w.labels['item_id'] if i.startswith('pp-')]", ["pp-00"])
    finally:
        kernel.close()
        lab.shutdown_session("qualify.ipynb")
