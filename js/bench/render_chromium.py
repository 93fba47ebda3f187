"""Render time of the 50 KB / 20-code-block markdown response in headless Chromium (the design's budget:
<= 100 ms). Uses the same renderer code as the widget (bench/.out/bench_browser.js, written by
`node bench/render.mjs`). Run from js/:
`node bench/render.mjs && ../.venv/bin/python bench/render_chromium.py`.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent
RUNS = 50


def q(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


def main() -> None:
    bundle = HERE / ".out" / "bench_browser.js"
    if not bundle.exists():
        raise SystemExit("run `node bench/render.mjs` first (it writes bench/.out/bench_browser.js)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        page = browser.new_page()
        page.set_content("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>")
        page.add_style_tag(path=str(HERE.parent.parent / "src" / "rank_widget" / "static" / "widget.css"))
        page.add_script_tag(path=str(bundle))
        r = page.evaluate((HERE / "render_page.js").read_text(encoding="utf-8"), RUNS)
        # Widget latency: serve the built bundle from a fake origin.
        static = HERE.parent.parent / "src" / "rank_widget" / "static"
        page2 = browser.new_page()
        page2.route(
            "http://rw.test/**",
            lambda route: route.fulfill(
                path=str(static / route.request.url.rsplit("/", 1)[-1]),
                headers={"content-type": "text/javascript", "access-control-allow-origin": "*"},
            ),
        )
        page2.set_content("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>")
        page2.add_style_tag(path=str(static / "widget.css"))
        # The real bundle (widget.js) with an in-page model that answers like Python: measures the view's own
        # key -> next item latency (no kernel round trip; the end-to-end figure in JupyterLab is
        # benchmarks/bench_widget_latency.py's).
        lat = page2.evaluate((HERE / "latency_page.js").read_text(encoding="utf-8"), {"n": 61})
        browser.close()
    out = {
        "browser": r["ua"].split(")")[-1].strip(),
        "doc_bytes": r["bytes"],
        "code_blocks_rendered": r["pre"],
        "math_elements": r["math"],
        "cold_ms": round(r["cold"], 2),
        "render_ms": {
            "median": round(statistics.median(r["warm"]), 2),
            "p95": round(q(r["warm"], 0.95), 2),
            "max": round(max(r["warm"]), 2),
        },
        "word_diff_50kb_ms": {
            "median": round(statistics.median(r["diff"]), 2),
            "p95": round(q(r["diff"], 0.95), 2),
        },
        "runs": RUNS,
        "key_to_next_item_in_dom_ms": {
            "median": round(statistics.median(lat["dom"]), 2),
            "p95": round(q(lat["dom"], 0.95), 2),
            "max": round(max(lat["dom"]), 2),
        },
        "key_to_next_item_laid_out_ms": {
            "median": round(statistics.median(lat["layout"]), 2),
            "p95": round(q(lat["layout"], 0.95), 2),
            "max": round(max(lat["layout"]), 2),
        },
        "key_to_next_animation_frame_ms": {
            "median": round(statistics.median(lat["paint"]), 2),
            "p95": round(q(lat["paint"], 0.95), 2),
            "max": round(max(lat["paint"]), 2),
        },
        "latency_items": len(lat["dom"]),
        "first_render_cold_ms": round(lat["firstRender"], 2),
        "last_status": lat["saved"],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
