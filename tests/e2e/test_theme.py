"""The widget follows JupyterLab's theme: readable in Light and in Dark (computed colours, WCAG contrast).

Screenshots (light and dark, whole page and widget) go to test-results/ for a human to look at.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page

from .harness import RESULTS, Lab, page_log
from .widget_driver import focus_widget, start_widget, widget_notebook

pytestmark = pytest.mark.e2e

MARKDOWN = """Use a **list comprehension** when the body is one expression:

```python
def squares(xs: list[int]) -> list[int]:
    return [x * x for x in xs if x > 0]  # keep positives
```

The cost is $O(n)$; see [the docs](https://docs.python.org/3/tutorial/datastructures.html).
"""

# Text that must reach WCAG AA for body text (4.5:1); secondary text (muted labels, counters) and disabled
# controls 3:1.
MAIN_TEXT = [
    ".rw-root",
    ".rw-response .rw-body p",
    ".rw-response .rw-body code",
    ".rw-itemid",
    ".rw-progress",
    "button[data-choice]",
    ".rw-submit",
    ".rw-skip",
    "textarea.rw-rationale",
    ".rw-chip",
    ".rw-rankbadge",
]
SECONDARY_TEXT = [
    ".rw-muted",
    ".rw-label",
    ".rw-badge",
    ".rw-counter",
    ".rw-rule",
    ".rw-snippet",
    ".rw-rank",
    ".rw-reason",
]

# Effective colours, composited over the ancestors' backgrounds; any CSS colour syntax is resolved by painting
# it on a 1x1 canvas (computed styles may be rgb(), color(srgb ...), oklch(), color-mix() results...).
COLOURS_JS = """
(selectors) => {
  const cv = document.createElement('canvas'); cv.width = cv.height = 1;
  const ctx = cv.getContext('2d', { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = '#000'; ctx.fillStyle = css; ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data; return [r, g, b, a / 255];
  };
  const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (const l of layers.reverse()) out = over(l, out);
    return out;
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const out = [];
  for (const sel of selectors) {
    for (const el of document.querySelectorAll('.rw-root ' + sel + ', ' + sel + '.rw-root')) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
      const bg = background(el);
      const fg = over(rgba(getComputedStyle(el).color), bg);
      const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      out.push({ selector: sel, text: (el.textContent || el.value || '').trim().slice(0, 40),
                 disabled: el.disabled === true,
                 fg: fg.map(Math.round), bg: bg.map(Math.round), bg_luminance: lum(bg),
                 contrast: (l1 + 0.05) / (l2 + 0.05) });
    }
  }
  return out;
}
"""


def colours(page: Page, selectors: list[str]) -> list[dict[str, Any]]:
    return list(page.evaluate(COLOURS_JS, selectors))


def check_theme(page: Page, name: str, *, dark: bool, problems: list[str]) -> list[dict[str, Any]]:
    """Screenshots + colours of the current theme; appends what is wrong to `problems`."""
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / f"theme-{name}.png"))
    page.locator(".rw-root").first.screenshot(path=str(RESULTS / f"theme-{name}-widget.png"))
    page.locator(".rw-root").nth(1).screenshot(path=str(RESULTS / f"theme-{name}-ranking.png"))
    main = colours(page, MAIN_TEXT)
    secondary = colours(page, SECONDARY_TEXT)
    (RESULTS / f"theme-{name}-colours.json").write_text(json.dumps(main + secondary, indent=1))
    found = {c["selector"] for c in main}
    expected = {".rw-root", ".rw-response .rw-body p", "button[data-choice]", ".rw-submit", ".rw-chip"}
    assert expected <= found, found
    root = next(c for c in main if c["selector"] == ".rw-root")
    if dark and root["bg_luminance"] >= 0.1:
        problems.append(f"{name}: widget background is not dark: {root}")
    if not dark and root["bg_luminance"] <= 0.6:
        problems.append(f"{name}: widget background is not light: {root}")
    # WCAG exempts inactive controls; a disabled button must still be legible (3:1, like secondary text)
    low = [c for c in main if c["contrast"] < (3.0 if c["disabled"] else 4.5)]
    low += [c for c in secondary if c["contrast"] < 3.0]
    problems.extend(f"{name}: too little contrast ({c['contrast']:.2f}:1): {c}" for c in low)
    return main


def test_light_and_dark_theme(page: Page, lab: Lab) -> None:
    items = [
        {
            "item_id": f"th-{i}",
            "prompt": "How do I square the positive numbers of a list?",
            "responses": [
                {"response_id": "r1", "text": MARKDOWN},
                {"response_id": "r2", "text": "Loop over the list and **append** `x*x` to a new list."},
            ],
        }
        for i in range(3)
    ]
    widget_notebook(
        lab,
        "theme.ipynb",
        items,
        'annotator="dana", criteria=["helpfulness", "accuracy"], guidelines="Prefer **correct** code.",'
        ' store="theme.sqlite", seed=1',
        # a second widget, ranking three responses, so the ranking panel is checked too
        [
            'ranked = [{**it, "responses": it["responses"] + [{"response_id": "r3", "text": "Use `map`."}]}'
            ' for it in items.to_dict("records")]\n'
            'w2 = rw.RankWidget(rw.load_items(ranked), task="ranking", annotator="dana", shuffle=False)\nw2'
        ],
    )
    kernel = start_widget(page, lab, "theme.ipynb")
    try:
        ranking = page.locator(".rw-root").nth(1)
        ranking.locator(".rw-item[data-item-id]").wait_for()
        ranking.locator(".rw-header").first.click(position={"x": 3, "y": 3})
        for key in ("b", "1", "c", "t"):  # B first, C tied with it, A unranked: every panel state shows
            page.keyboard.press(key)
        ranking.locator(".rw-group.rw-tie").wait_for()
        focus_widget(page)
        page.keyboard.press("2")  # a selected choice is part of what must stay readable
        page.keyboard.press("r")
        page.keyboard.type("A is correct and idiomatic.")
        page.keyboard.press("Escape")
        problems: list[str] = []
        light = check_theme(page, "light", dark=False, problems=problems)

        page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
        page.locator(".lm-Menu-item", has=page.get_by_text("Theme", exact=True)).first.hover()
        page.locator(".lm-Menu-item", has=page.get_by_text("JupyterLab Dark", exact=True)).first.click()
        page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
        page.wait_for_timeout(500)  # theme CSS swap and repaint
        dark = check_theme(page, "dark", dark=True, problems=problems)
        assert problems == [], "\n".join(problems)

        # the widget follows the host: its colours changed with the theme
        assert light[0]["bg"] != dark[0]["bg"] and light[0]["fg"] != dark[0]["fg"]
        assert page_log(page).page_errors == []
    finally:
        kernel.close()
        lab.shutdown_session("theme.ipynb")
        # the theme is a persisted user setting: put Light back for the other tests
        lab.set_setting("@jupyterlab/apputils-extension:themes", {"theme": "JupyterLab Light"})
