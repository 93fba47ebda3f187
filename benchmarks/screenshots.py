"""README screenshots of RankWidget in a real JupyterLab (headless Chromium), light and dark theme.

Writes, cropped to the widget (at most ~1200 px wide):
- docs/images/rankwidget-light.png, docs/images/rankwidget-dark.png: a pair with a code block, a choice made;
- docs/images/rankwidget-ranking.png: a ranking of three responses with a tie (light theme).
It also checks the help overlay of a short widget in the browser: the panel stays inside the widget and
scrolls (prints the measured sizes; exits non-zero if the last shortcut cannot be scrolled into view).

PNGs are squeezed with `pngquant` when it is on PATH (lossy, 256 colours); otherwise saved as Chromium wrote
them. Prints each file's size.

Usage: .venv/bin/python benchmarks/screenshots.py [--out docs/images] [--extra DIR]
Needs the built front end (cd js && npm run build) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Locator, Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from e2e.harness import (  # noqa: E402  (the e2e harness lives under tests/)
    CHROMIUM,
    CHROMIUM_ARGS,
    Lab,
    open_notebook,
    run_all,
    start_lab,
    stop_lab,
    write_notebook,
)

PAIR_ITEM = "coding-01"  # a pair; one response is a fenced Python block
RANK_ITEM = "coding-02"  # three responses (is_prime implementations)
MAX_WIDTH = 1200
VIEWPORT = {"width": 1280, "height": 1400}
SIZE_BUDGET = 250_000

CELLS = [
    # the mixed sample set makes a pairwise session over its pairs; the warning saying so is not the point
    "import warnings\nwarnings.simplefilter('ignore')\nimport rank_widget as rw",
    'w = rw.RankWidget(rw.sample_items(), annotator="demo", metadata=["category"])\n'
    f"w.goto({PAIR_ITEM!r})\nw",
    'w2 = rw.RankWidget(rw.sample_items(), annotator="demo", metadata=["category"], task="ranking")\n'
    f"w2.goto({RANK_ITEM!r})\nw2",
    # a short widget (one tiny pair) for the help-overlay check
    "tiny = [{'item_id': 'tiny', 'prompt': 'Hi?', 'responses': ['Hello.', 'Hey.']}]\n"
    'w3 = rw.RankWidget(rw.load_items(tiny), annotator="demo")\nw3',
]


def widget(page: Page, n: int) -> Locator:
    return page.locator(".jp-Cell .rw-root").nth(n)


def shoot(root: Locator, path: Path) -> None:
    """Screenshot the widget (its output area's widget node), then squeeze it if pngquant is there."""
    root.scroll_into_view_if_needed()
    root.page.wait_for_timeout(300)  # highlight/KaTeX done, no hover transitions in flight
    box = root.bounding_box()
    assert box is not None, "the widget has no box"
    assert box["width"] <= MAX_WIDTH, f"widget is {box['width']} px wide (> {MAX_WIDTH})"
    root.screenshot(path=str(path), animations="disabled", caret="hide")
    quant = shutil.which("pngquant")
    if quant:
        subprocess.run(
            [
                quant,
                "--force",
                "--skip-if-larger",
                "--quality=70-95",
                "--strip",
                "--output",
                str(path),
                str(path),
            ],
            check=False,
        )
    size = path.stat().st_size
    print(
        f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
        f"{int(box['width'])}x{int(box['height'])} px, {size} bytes"
        f"{' (pngquant)' if quant else ''}"
    )
    if size > SIZE_BUDGET:
        print(f"  WARNING: over the {SIZE_BUDGET} byte budget")


def set_theme(page: Page, name: str, dark: bool) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
    page.locator(".lm-Menu-item", has=page.get_by_text("Theme", exact=True)).first.hover()
    page.locator(".lm-Menu-item", has=page.get_by_text(name, exact=True)).first.click()
    page.wait_for_selector(f"body[data-jp-theme-light='{'false' if dark else 'true'}']", state="attached")
    page.wait_for_timeout(600)  # theme CSS swap and repaint


def focus(root: Locator) -> None:
    root.locator(".rw-header").first.click(position={"x": 3, "y": 3})


HELP_JS = """
(root) => {
  const help = root.querySelector('.rw-help'), panel = root.querySelector('.rw-help-panel');
  const rows = panel.querySelectorAll('tr'), last = rows[rows.length - 1];
  const r = root.getBoundingClientRect(), p = panel.getBoundingClientRect();
  const before = { root_h: r.height, panel_top: p.top - r.top, panel_bottom: p.bottom - r.top,
                   panel_scroll_h: panel.scrollHeight, panel_client_h: panel.clientHeight,
                   overflow_y: getComputedStyle(panel).overflowY };
  last.scrollIntoView({ block: 'nearest' });
  const l = last.getBoundingClientRect(), p2 = panel.getBoundingClientRect();
  return { ...before, last_visible: l.bottom <= p2.bottom + 1 && l.top >= p2.top - 1,
           inside_widget: p2.bottom <= root.getBoundingClientRect().bottom + 1 };
}
"""


def check_help(page: Page, root: Locator, shot: Path | None) -> bool:
    focus(root)
    page.keyboard.press("?")
    root.locator(".rw-help").wait_for(state="visible")
    if shot:
        root.screenshot(path=str(shot), animations="disabled", caret="hide")
    m = root.evaluate(HELP_JS)
    print("help overlay in a short widget:", m)
    page.keyboard.press("Escape")
    return bool(m["last_visible"] and m["inside_widget"])


def run(out: Path, extra: Path | None) -> int:
    out.mkdir(parents=True, exist_ok=True)
    if extra:
        extra.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rw-shots-") as tmp:
        lab: Lab = start_lab(Path(tmp))
        try:
            write_notebook(lab.root / "readme.ipynb", CELLS)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
                page = context.new_page()
                page.set_default_timeout(60_000)
                open_notebook(page, lab, "readme.ipynb")
                run_all(page)
                page.wait_for_selector(f".rw-root .rw-item[data-item-id='{PAIR_ITEM}']")
                page.wait_for_selector(f".rw-root .rw-item[data-item-id='{RANK_ITEM}']")
                page.wait_for_selector(".rw-root .rw-item[data-item-id='tiny']")

                pair, ranking, tiny = widget(page, 0), widget(page, 1), widget(page, 2)
                focus(pair)
                page.keyboard.press("2")  # "A better": a selected choice shows in the picture
                page.mouse.move(0, 0)
                focus(ranking)
                for key in ("b", "1", "c", "1", "a", "2"):  # B and C tied first, A second
                    page.keyboard.press(key)
                ranking.locator(".rw-group.rw-tie").wait_for()
                page.mouse.move(0, 0)
                page.locator(".jp-Notebook").first.focus()  # no focus ring on the widgets

                shoot(pair, out / "rankwidget-light.png")
                shoot(ranking, out / "rankwidget-ranking.png")
                help_ok = check_help(page, tiny, extra and extra / "help-light.png")
                set_theme(page, "JupyterLab Dark", dark=True)
                page.locator(".jp-Notebook").first.focus()
                shoot(pair, out / "rankwidget-dark.png")
                help_ok = check_help(page, tiny, extra and extra / "help-dark.png") and help_ok
                set_theme(page, "JupyterLab Light", dark=False)
                browser.close()
        finally:
            stop_lab(lab.process)
    return 0 if help_ok else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    ap.add_argument(
        "--extra",
        type=Path,
        default=None,
        help="also save the help overlay (light and dark) here, for a look; not for the README",
    )
    args = ap.parse_args()
    sys.exit(run(args.out.resolve(), args.extra.resolve() if args.extra else None))


if __name__ == "__main__":
    main()
