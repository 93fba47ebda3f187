"""Render time of the 50 KB / 20-code-block markdown response in headless Chromium (the design's budget:
<= 100 ms). Uses the same renderer code as the widget (bench/.out/bench_browser.js, written by
`node bench/render.mjs`). Run from js/: `node bench/render.mjs && ../.venv/bin/python bench/render_chromium.py`.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent
RUNS = 50

SCRIPT = """
async (runs) => {
  const { renderMarkdown, wordDiff, makeDoc } = window.rwBench;
  const doc = makeDoc();
  // Inside the widget's own containers, so its CSS applies as in JupyterLab.
  const root = document.createElement("div");
  root.className = "rw-root";
  const host = document.createElement("div");
  host.className = "rw-body rw-md";
  root.append(host);
  document.body.append(root);
  // Time to pixels: render + insert, then force style and layout (what the labeler waits for).
  const once = () => {
    const t0 = performance.now();
    host.replaceChildren(renderMarkdown(doc, { allowRemoteImages: false }));
    void host.getBoundingClientRect().height;
    return performance.now() - t0;
  };
  const cold = once();
  const warm = [];
  for (let i = 0; i < runs; i++) warm.push(once());
  const b = doc.replace(/smaller instances/g, "smaller copies");
  const diff = [];
  for (let i = 0; i < 20; i++) { const t0 = performance.now(); wordDiff(doc, b); diff.push(performance.now() - t0); }
  return { cold, warm, diff, bytes: doc.length, pre: host.querySelectorAll("pre").length,
           math: host.querySelectorAll("math").length, ua: navigator.userAgent };
}
"""


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
        r = page.evaluate(SCRIPT, RUNS)
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
        "word_diff_50kb_ms": {"median": round(statistics.median(r["diff"]), 2), "p95": round(q(r["diff"], 0.95), 2)},
        "runs": RUNS,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
