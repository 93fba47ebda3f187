"""Screenshots of a 4-response ranking item with long markdown (code, a table, a URL), for docs/frontend.md.

Real JupyterLab + headless Chromium (the e2e harness). Writes, cropped to the widget:
docs/images/layout4-{light,dark}-{1400x1000,1000x800}.png (the viewport size the page had). The item is the
one tests/e2e/test_layout.py checks; B is ranked first and A second so the panel shows ranks and the pool;
A is shown in full and scrolled to its code block and table.
PNGs are squeezed with pngquant when it is on PATH (see benchmarks/screenshots.py).

Usage: .venv/bin/python benchmarks/screenshots_layout.py [--out docs/images]
Needs the built front end (cd js && npm run build) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

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
from e2e.test_layout import ranking_items  # noqa: E402
from screenshots import set_theme as set_shot_theme  # noqa: E402
from screenshots import shoot  # noqa: E402

SIZES = [(1400, 1000), (1000, 800)]


def run(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rw-layout-") as tmp:
        lab: Lab = start_lab(Path(tmp))
        try:
            (lab.root / "four.items.jsonl").write_text(
                "".join(json.dumps(it) + "\n" for it in ranking_items(4)), encoding="utf-8"
            )
            write_notebook(
                lab.root / "layout.ipynb",
                [
                    "import rank_widget as rw\n"
                    'w = rw.RankWidget(rw.load_items("four.items.jsonl"), task="ranking",'
                    ' annotator="demo", shuffle=False)\nw'
                ],
            )
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
                page = context.new_page()
                page.set_default_timeout(60_000)
                open_notebook(page, lab, "layout.ipynb")
                run_all(page)
                root = page.locator(".jp-Cell .rw-root").first
                root.locator(".rw-item[data-item-id]").wait_for()
                root.locator(".rw-header").first.click(position={"x": 3, "y": 3})
                for key in ("b", "1", "a", "2"):  # B first, A second, C and D still unranked
                    page.keyboard.press(key)
                root.locator(".rw-response .rw-expand").first.click()  # Show all of A
                page.mouse.move(0, 0)
                for theme, dark in (("JupyterLab Light", False), ("JupyterLab Dark", True)):
                    set_shot_theme(page, theme, dark)
                    for width, height in SIZES:
                        page.set_viewport_size({"width": width, "height": height})
                        page.wait_for_timeout(300)
                        page.locator(".jp-Notebook").first.focus()  # no focus ring
                        # A's code block and table in view (the item area scrolls inside the widget)
                        root.evaluate(
                            "(r) => r.querySelector('.rw-response pre').scrollIntoView({ block: 'start' })"
                        )
                        name = f"layout4-{'dark' if dark else 'light'}-{width}x{height}.png"
                        shoot(root, out / name)
                set_shot_theme(page, "JupyterLab Light", False)
                browser.close()
        finally:
            stop_lab(lab.process)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    run(ap.parse_args().out)


if __name__ == "__main__":
    main()
