"""Sets of four and eight long responses stay readable (issue 14, finding 5), in real JupyterLab + Chromium.

At 1400x1000 and 1000x800: every response card is at least 480 px wide (two columns where the item area
is wide enough, else stacked at full width), no code block is clipped (a `pre` wider than its box
scrolls), table headers are not broken mid-word, and after scrolling to the first response's top the
ranking panel, Submit and an error message are on screen (sticky), not covered by anything. Light and
dark contrast of the sticky controls too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from .harness import RESULTS, Lab, page_log
from .test_theme import colours
from .widget_driver import start_widget, widget_notebook

pytestmark = pytest.mark.e2e

SIZES = [(1400, 1000), (1000, 800)]
MIN_CARD = 480

TABLE = """| Implementation | Complexity | Throughput | Allocations | Determinism | Recommendation | Owner |
|---|---|---|---|---|---|---|
| dict comprehension | O(n) | 12.5M/s | one | yes | preferred | core |
| loop + append | O(n) | 9.1M/s | many | yes | acceptable | core |
"""


def long_response(k: int) -> str:
    """About 4,000 characters of markdown: prose, a URL, a code block with a 160-character line, a table."""
    prose = (
        f"Response {k} explains the approach step by step. The function keeps the positive numbers "
        "and squares them; it never mutates its input and allocates one list. "
    ) * 8
    url = "https://example.org/" + "a-very-long-path-segment-without-any-break" * 3
    code = (
        "```python\n"
        "def squares(xs: list[int]) -> list[int]:\n"
        f"    return [x * x for x in xs if x > 0]  # {'keep the positive numbers only, ' * 4}end\n"
        + "".join(f"    value_{i} = compute(value_{i - 1}, factor={i})\n" for i in range(1, 6))
        + "```\n"
    )
    return f"## Answer {k}\n\n{prose}\n\nSee {url} for details.\n\n{code}\n{TABLE}\n{prose}"


def ranking_items(n: int) -> list[dict[str, Any]]:
    return [
        {
            "item_id": f"lay{n}-{j}",
            "prompt": "Square the positive numbers of a list, and compare alternatives.",
            "responses": [{"response_id": f"r{k}", "text": long_response(k)} for k in range(n)],
        }
        for j in range(2)
    ]


GEOMETRY_JS = """
(root) => {
  const main = root.querySelector('.rw-main').getBoundingClientRect();
  const cards = [...root.querySelectorAll('.rw-response')].map((c) => {
    const r = c.getBoundingClientRect(); return { left: r.left, right: r.right, width: r.width };
  });
  const pres = [];
  for (const pre of root.querySelectorAll('.rw-response pre')) {
    pre.scrollIntoView({ block: 'center' });
    const card = pre.closest('.rw-response').getBoundingClientRect();
    const r = pre.getBoundingClientRect();
    const ws = getComputedStyle(pre.querySelector('code') || pre).whiteSpace;
    pres.push({ scroll: pre.scrollWidth, client: pre.clientWidth, overflowX: getComputedStyle(pre).overflowX,
                right: r.right, cardRight: card.right, whiteSpace: ws });
  }
  const ths = [];
  for (const th of root.querySelectorAll('.rw-response th')) {
    th.scrollIntoView({ block: 'center' });
    const range = document.createRange(); range.selectNodeContents(th);
    const rects = [...range.getClientRects()].filter((q) => q.width > 0);
    const tops = new Set(rects.map((q) => Math.round(q.top)));
    ths.push({ text: th.textContent.trim(), lines: tops.size });
  }
  return { main: main.width, cards, pres, ths };
}
"""

# After scrolling the first response's top to the top of the notebook: where the controls are, and whether
# they are the topmost element at their centre (not covered by a card, the notebook's toolbar or status bar).
IN_VIEW_JS = """
(root) => {
  const scroller = root.closest('.jp-WindowedPanel-outer, .jp-Notebook') || document.scrollingElement;
  const view = scroller.getBoundingClientRect();
  const out = {};
  for (const [name, sel] of [['panel', '.rw-rankpanel'], ['submit', '.rw-submit'], ['error', '.rw-error']]) {
    const el = root.querySelector(sel);
    if (!el || el.hidden) { out[name] = null; continue; }
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + Math.min(r.width / 2, 20), r.top + r.height / 2);
    out[name] = { top: r.top, bottom: r.bottom, viewTop: Math.max(view.top, 0),
                  viewBottom: Math.min(view.bottom, innerHeight), onTop: !!hit && el.contains(hit) };
  }
  return out;
}
"""


def scroll_to_first_response(root: Locator) -> None:
    root.evaluate("(r) => r.querySelector('.rw-response').scrollIntoView({ block: 'start' })")
    root.page.wait_for_timeout(150)


def check_geometry(root: Locator, label: str, problems: list[str]) -> None:
    g = root.evaluate(GEOMETRY_JS)
    main = g["main"]
    for c in g["cards"]:
        if c["width"] < min(MIN_CARD, main - 2):
            problems.append(f"{label}: card {c['width']:.0f} px wide in a {main:.0f} px item area")
    if main < 2 * MIN_CARD + 8 and any(abs(c["width"] - main) > 2 for c in g["cards"]):
        problems.append(
            f"{label}: {main:.0f} px item area is too narrow for two columns but cards are not full width"
        )
    if len(g["pres"]) < len(g["cards"]) or not g["ths"]:
        problems.append(
            f"{label}: expected a code block and a table per card: {len(g['pres'])} pre, {len(g['ths'])} th"
        )
    for p in g["pres"]:
        if p["scroll"] > p["client"] + 1 and p["overflowX"] not in ("auto", "scroll"):
            problems.append(f"{label}: code clipped (overflow-x {p['overflowX']}): {p}")
        if p["right"] > p["cardRight"] + 1:
            problems.append(f"{label}: code wider than its card: {p}")
        if not p["whiteSpace"].startswith("pre"):
            problems.append(f"{label}: code lines wrap ({p['whiteSpace']})")
    assert any(p["scroll"] > p["client"] + 1 for p in g["pres"]), "the long code line must need scrolling"
    for th in g["ths"]:
        if " " not in th["text"] and th["lines"] != 1:
            problems.append(f"{label}: header {th['text']!r} broken over {th['lines']} lines")


def check_sticky(root: Locator, label: str, problems: list[str], *, error: bool) -> None:
    scroll_to_first_response(root)
    if error:
        # Enter with nothing ranked: the error says why, and must be on screen too
        root.evaluate("(r) => r.focus({ preventScroll: true })")
        root.page.keyboard.press("Enter")
        root.locator(".rw-error").wait_for()
        scroll_to_first_response(root)
    where = root.evaluate(IN_VIEW_JS)
    for name in ("panel", "submit", "error") if error else ("panel", "submit"):
        w = where[name]
        if w is None:
            problems.append(f"{label}: {name} missing")
            continue
        if w["top"] < w["viewTop"] - 1 or w["bottom"] > w["viewBottom"] + 1 or not w["onTop"]:
            problems.append(f"{label}: {name} not on screen after scrolling to the first response: {w}")


def check_contrast(page: Page, theme: str, problems: list[str]) -> None:
    """The sticky panel paints its own background: its text keeps WCAG contrast over it (as test_theme.py)."""
    page.locator(".rw-root").first.evaluate(
        "(r) => r.querySelector('.rw-response').scrollIntoView({ block: 'start' })"
    )
    found = colours(page, [".rw-rankpanel .rw-chip", ".rw-submit"]) + colours(
        page, [".rw-rankpanel .rw-label"]
    )
    assert found, "no sticky control found"
    for c in found:
        need = 3.0 if c["disabled"] or c["selector"].endswith("rw-label") else 4.5
        if c["contrast"] < need:
            problems.append(f"{theme}: too little contrast ({c['contrast']:.2f}:1): {c}")


def test_four_and_eight_long_responses(page: Page, lab: Lab) -> None:
    widget_notebook(
        lab,
        "layout.ipynb",
        ranking_items(4),
        'task="ranking", annotator="lee", store="layout.sqlite", shuffle=False',
        [
            'items8 = rw.load_items("layout8.items.jsonl")\n'
            'w8 = rw.RankWidget(items8, task="ranking", annotator="lee", store="layout8.sqlite",'
            " shuffle=False)\nw8"
        ],
    )
    (lab.root / "layout8.items.jsonl").write_text("".join(json.dumps(it) + "\n" for it in ranking_items(8)))
    kernel = start_widget(page, lab, "layout.ipynb")
    problems: list[str] = []
    try:
        roots = page.locator(".rw-root")
        roots.nth(1).locator(".rw-item[data-item-id]").wait_for()
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(400)
            for n, root in ((4, roots.nth(0)), (8, roots.nth(1))):
                label = f"{n} responses at {width}x{height}"
                assert root.locator(".rw-response").count() == n
                check_sticky(root, f"{label} (collapsed)", problems, error=(width, height) == SIZES[0])
                expand = root.locator(".rw-response .rw-expand[aria-expanded='false']")
                while expand.count():
                    expand.first.evaluate("(b) => b.click()")
                check_geometry(root, label, problems)
                check_sticky(root, f"{label} (expanded)", problems, error=True)
                RESULTS.mkdir(exist_ok=True)
                page.screenshot(path=str(RESULTS / f"layout-{n}-{width}x{height}.png"))
                root.locator(".rw-response .rw-expand[aria-expanded='true']").evaluate_all(
                    "(bs) => bs.forEach((b) => b.click())"
                )
        check_contrast(page, "light", problems)
        page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
        page.locator(".lm-Menu-item", has=page.get_by_text("Theme", exact=True)).first.hover()
        page.locator(".lm-Menu-item", has=page.get_by_text("JupyterLab Dark", exact=True)).first.click()
        page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
        page.wait_for_timeout(500)
        check_contrast(page, "dark", problems)
        assert problems == [], "\n".join(problems)
        assert page_log(page).page_errors == []
    finally:
        kernel.close()
        lab.shutdown_session("layout.ipynb")
        lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Light"})
