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


# The real bundle (widget.js) in a page with an in-page fake model that answers like Python: ack after the
# submit, then position + window. Measures the view's own key -> next item latency (no kernel round trip;
# the end-to-end figure in JupyterLab is benchmarks/bench_widget_latency.py's).
LATENCY = r"""
async ({ n }) => {
  const { default: widget } = await import("http://rw.test/widget.js");
  const text = (i, s) => `Answer ${s}${i}: use slicing.\n\n` + "```python\n" +
    `def rev_${i}(xs):\n    return xs[::-1]  # ${s}\n`.repeat(8) + "```\n\n" +
    "Slicing makes a **new** list; `reverse()` changes it in place. ".repeat(12);
  const item = (i) => ({ index: i, item_id: `it-${i}`, prompt: `Question ${i}: how do I reverse a list?`,
    responses: [{ response_id: `a${i}`, text: text(i, "X") }, { response_id: `b${i}`, text: text(i, "Y") }],
    display_order: [`a${i}`, `b${i}`], metadata: { category: "coding" }, guideline_version: null, label: null });
  const win = (p) => { const out = []; for (let i = Math.max(0, p - 1); i <= Math.min(n - 1, p + 3); i++) out.push(item(i)); return out; };
  const handlers = new Map();
  const data = { config: { task: "pairwise", criteria: [], scale: 5, rationale: "optional", max_rationale_chars: 10000,
      flags: [{ id: "harmful", label: "Harmful" }], annotator: "bench", show_diff: false, collapse_chars: 3000,
      allow_remote_images: false }, guidelines: { version: null, markdown: "", changes: null },
    window: win(0), position: 0, queue_length: n,
    progress: { done: 0, total: n, skipped: 0, store_done: 0, store_total: n }, guideline_ack: null };
  const emit = (ev, ...a) => (handlers.get(ev) || []).forEach((cb) => cb(...a));
  const acks = [];
  const model = {
    get: (k) => data[k], set: (k, v) => { data[k] = v; }, save_changes() {},
    on: (ev, cb) => { if (!handlers.has(ev)) handlers.set(ev, []); handlers.get(ev).push(cb); },
    off: (ev, cb) => { if (ev && cb) handlers.set(ev, (handlers.get(ev) || []).filter((x) => x !== cb)); else if (ev) handlers.delete(ev); else handlers.clear(); },
    send: (msg) => {
      if (msg.type !== "submit") return;
      setTimeout(() => {  // the kernel's reply arrives in a later task
        emit("msg:custom", { type: "ack", client_id: msg.client_id, item_id: msg.item_id });
        acks.push(performance.now());
        if (data.position === msg.index && msg.index + 1 < n) {
          data.window = win(msg.index + 1); data.position = msg.index + 1;
          emit("change:window"); emit("change:position");
        }
      }, 0);
    },
  };
  const el = document.createElement("div");
  document.body.append(el);
  const tr = performance.now();
  widget.render({ model, el });  // the first item renders synchronously, cold (grammars, KaTeX, DOMPurify)
  const root = el.querySelector(".rw-root");
  void root.getBoundingClientRect().height;
  const firstRender = performance.now() - tr;
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const shown = () => root.querySelector(".rw-item")?.dataset.itemId;
  const idle = () => new Promise((r) => (window.requestIdleCallback ? requestIdleCallback(r, { timeout: 300 }) : setTimeout(r, 50)));
  const dom = [], layout = [], paint = [];
  await frame();
  for (let i = 0; i < n - 1; i++) {
    await idle();  // a labeler reads for a while: prefetch rendering happens here
    root.dispatchEvent(new KeyboardEvent("keydown", { key: String(1 + (i % 5)), bubbles: true }));
    const t0 = performance.now();
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    if (shown() !== `it-${i + 1}`) throw new Error(`item ${i + 1} not shown synchronously (${shown()})`);
    dom.push(performance.now() - t0);
    void root.getBoundingClientRect().height;  // style + layout of the new item, as the next frame needs
    layout.push(performance.now() - t0);
    await frame();
    paint.push(performance.now() - t0);
  }
  return { firstRender, dom, layout, paint, saved: root.querySelector(".rw-status").dataset.state };
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
        # Widget latency: serve the built bundle from a fake origin.
        static = HERE.parent.parent / "src" / "rank_widget" / "static"
        page2 = browser.new_page()
        page2.route("http://rw.test/**", lambda route: route.fulfill(
            path=str(static / route.request.url.rsplit("/", 1)[-1]),
            headers={"content-type": "text/javascript", "access-control-allow-origin": "*"}))
        page2.set_content("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>")
        page2.add_style_tag(path=str(static / "widget.css"))
        lat = page2.evaluate(LATENCY, {"n": 61})
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
        "key_to_next_item_in_dom_ms": {
            "median": round(statistics.median(lat["dom"]), 2), "p95": round(q(lat["dom"], 0.95), 2),
            "max": round(max(lat["dom"]), 2)},
        "key_to_next_item_laid_out_ms": {
            "median": round(statistics.median(lat["layout"]), 2), "p95": round(q(lat["layout"], 0.95), 2),
            "max": round(max(lat["layout"]), 2)},
        "key_to_next_animation_frame_ms": {
            "median": round(statistics.median(lat["paint"]), 2), "p95": round(q(lat["paint"], 0.95), 2),
            "max": round(max(lat["paint"]), 2)},
        "latency_items": len(lat["dom"]),
        "first_render_cold_ms": round(lat["firstRender"], 2),
        "last_status": lat["saved"],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
