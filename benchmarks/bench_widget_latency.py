"""Widget latency in real JupyterLab + headless Chromium: RankWidget vs pigeonXT, side by side, one run.

Measured in the page (performance.now()):
- input -> next item in the DOM: timestamp taken by a capture-phase listener when the click/keydown is
  dispatched, and by a MutationObserver when the item container shows the next item id ("dom"); "frame" is
  the first requestAnimationFrame callback after that (the frame that paints it).
- RankWidget only: input -> durable ack, the `.rw-saves[data-saving=0]` mark (it appears only after the
  kernel has committed the label to the SQLite store and sent `ack`).
- Render of a 50 KB markdown response with 20 fenced code blocks (navigate to it; DOM + frame as above).
- Bundle size gzipped (level 6, like `gzip -c`).

Usage: .venv/bin/python benchmarks/bench_widget_latency.py [--items 60] [--out benchmarks/results/...]
Needs the built front end (cd js && npm run build) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

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

STATIC = REPO / "src" / "rank_widget" / "static"
OUR_ITEM = ".rw-root .rw-item[data-item-id]"
PIGEON_ITEM = ".pgx-item[data-item-id]"
PAUSE_S = 0.15  # a person needs far longer than this between two items; keeps measurements from overlapping

# Injected once per page. Records, per input, t0 (dispatch), dom (MutationObserver sees a new item id),
# frame (first rAF after dom) and saved (status turned saved after having been saving).
PROBE_JS = """
([itemSel, trigger]) => {
  const st = window.__bench = { runs: [], cur: null };
  const itemId = () => {
    const e = document.querySelector(itemSel);
    return e ? e.getAttribute('data-item-id') : null;
  };
  let last = itemId();
  const onInput = (e) => {
    if (trigger.type !== e.type) return;
    if (e.type === 'keydown' && e.key !== trigger.key) return;
    if (e.type === 'click' && !(e.target instanceof Element && e.target.closest(trigger.selector))) return;
    st.cur = { t0: performance.now(), from: last, dom: null, frame: null, saved: null, sawSaving: false };
    st.runs.push(st.cur);
  };
  window.addEventListener('keydown', onInput, true);
  window.addEventListener('click', onInput, true);
  const check = () => {
    const now = performance.now();
    const run = st.cur;
    const id = itemId();
    if (id !== null && id !== last) {
      last = id;
      if (run && run.dom === null) {
        run.dom = now; run.to = id;
        requestAnimationFrame(() => { run.frame = performance.now(); });
      }
    }
    // The session line counts labels still saving (the status line is the item on screen's own).
    const saves = document.querySelector('.rw-saves');
    const saving = saves ? Number(saves.getAttribute('data-saving')) : 0;
    const acked = saves ? Number(saves.getAttribute('data-saved')) : 0;
    const state = saving > 0 ? 'saving' : acked > 0 ? 'saved' : null;
    if (run && state === 'saving') run.sawSaving = true;
    if (run && state === 'saved' && run.sawSaving && run.saved === null) run.saved = now;
  };
  new MutationObserver(check).observe(document.body,
    { subtree: true, childList: true, attributes: true, characterData: true });
}
"""


def pair_items(n: int) -> list[dict[str, Any]]:
    return [
        {
            "item_id": f"b-{i:03d}",
            "prompt": f"Prompt {i}: explain list comprehensions in Python in two sentences.",
            "responses": [
                {
                    "response_id": "r1",
                    "text": f"Response one for {i}: `[x*x for x in xs]` builds a list.",
                    "model": "atlas",
                },
                {
                    "response_id": "r2",
                    "text": f"Response two for {i}: they are *loops* inside brackets.",
                    "model": "boreal",
                },
            ],
        }
        for i in range(n)
    ]


def big_markdown(target_bytes: int = 50_000, blocks: int = 20, variant: int = 0) -> str:
    para = (
        "Here is an explanation with **bold**, *emphasis*, `inline code`, a [link](#x) and a list:\n\n"
        "- first point about the algorithm\n- second point about complexity\n\n"
    )
    code = (
        "```python\n"
        + "\n".join(f"def f{j}(x):\n    return [y * {j} for y in range(x)]  # comment" for j in range(6))
        + "\n```\n\n"
    )
    parts: list[str] = []
    for b in range(blocks):
        parts.append(f"## Section {b} (variant {variant})\n\n{para}{code}")
    text = "".join(parts)
    filler = para
    while len(text.encode()) < target_bytes:
        text += filler
    return text[:target_bytes]


def pct(values: list[float], q: float) -> float:
    xs = sorted(values)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": pct(values, 0.5),
        "p95": pct(values, 0.95),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def install_probe(page: Page, item_sel: str, trigger: dict[str, str]) -> None:
    page.evaluate(PROBE_JS, [item_sel, trigger])


def wait_run(page: Page, n: int, *, saved: bool, timeout: float = 15_000) -> None:
    cond = "r.dom !== null && r.frame !== null" + (" && r.saved !== null" if saved else "")
    page.wait_for_function(
        f"n => window.__bench.runs.length >= n && (r => {cond})(window.__bench.runs[n - 1])",
        arg=n,
        timeout=timeout,
    )


def runs(page: Page) -> list[dict[str, Any]]:
    return list(page.evaluate("window.__bench.runs"))


def bench_pigeon(page: Page, lab: Lab, items: list[dict[str, Any]]) -> dict[str, Any]:
    (lab.root / "pigeon.items.json").write_text(json.dumps(items))
    cells = [
        "import json, html\nfrom IPython.display import HTML, display\nfrom pigeonXT import annotate\n"
        "items = {it['item_id']: it for it in json.load(open('pigeon.items.json'))}\n"
        "def show(item_id):\n"
        "    it = items[item_id]\n"
        "    cards = ''.join(f'<div class=\"pgx-resp\"><b>{p}</b> {html.escape(r[\"text\"])}</div>'\n"
        "                    for p, r in zip('AB', it['responses']))\n"
        '    display(HTML(f\'<div class="pgx-item" data-item-id="{item_id}">\'\n'
        "                 f'<p>{html.escape(it[\"prompt\"])}</p>{cards}</div>'))\n"
        "annotations = annotate(list(items), options=['A much better', 'A better', 'Tie', 'B better',"
        " 'B much better'], display_fn=show, include_back=False, include_next=False)",
    ]
    write_notebook(lab.root / "pigeon.ipynb", cells)
    open_notebook(page, lab, "pigeon.ipynb")
    run_all(page)
    page.wait_for_selector(PIGEON_ITEM, timeout=60_000)
    install_probe(page, PIGEON_ITEM, {"type": "click", "selector": "button.jupyter-button"})
    buttons = ["A much better", "A better", "Tie", "B better", "B much better"]
    for i in range(len(items) - 1):
        page.locator("button.jupyter-button", has_text=buttons[i % 5]).first.click()
        wait_run(page, i + 1, saved=False)
        time.sleep(PAUSE_S)
    rs = runs(page)
    lab.shutdown_session("pigeon.ipynb")
    return {
        "next_dom": summary([r["dom"] - r["t0"] for r in rs]),
        "next_frame": summary([r["frame"] - r["t0"] for r in rs]),
    }


def bench_ours(page: Page, lab: Lab, items: list[dict[str, Any]], name: str, mode: str) -> dict[str, Any]:
    """mode "key": choice key then Enter (t0 at Enter); mode "click": click a choice, then .rw-submit."""
    (lab.root / f"{name}.items.json").write_text(json.dumps(items))
    store = lab.root / f"{name}.sqlite"
    cells = [
        "import json, rank_widget as rw\n"
        f"items = rw.load_items(json.load(open({name + '.items.json'!r})))\n"
        f"w = rw.RankWidget(items, annotator='bench', store={store.name!r}, seed=1)\nw",
    ]
    write_notebook(lab.root / f"{name}.ipynb", cells)
    open_notebook(page, lab, f"{name}.ipynb")
    run_all(page)
    page.wait_for_selector(OUR_ITEM, timeout=60_000)
    page.locator(".rw-root .rw-header").first.click(position={"x": 3, "y": 3})
    if mode == "key":
        install_probe(page, OUR_ITEM, {"type": "keydown", "key": "Enter"})
    else:
        install_probe(page, OUR_ITEM, {"type": "click", "selector": ".rw-submit"})
    keys = ["1", "2", "3", "4", "5"]
    choices = ["A3", "A2", "tie", "B2", "B3"]
    for i in range(len(items) - 1):
        if mode == "key":
            page.keyboard.press(keys[i % 5])
            page.keyboard.press("Enter")
        else:
            page.locator(f".rw-root button[data-choice='{choices[i % 5]}']").first.click()
            page.locator(".rw-root .rw-submit").first.click()
        wait_run(page, i + 1, saved=True)
        time.sleep(PAUSE_S)
    rs = runs(page)
    kernel_ms = kernel_submit_to_ack(lab, f"{name}.ipynb")
    lab.shutdown_session(f"{name}.ipynb")
    return {
        "next_dom": summary([r["dom"] - r["t0"] for r in rs]),
        "next_frame": summary([r["frame"] - r["t0"] for r in rs]),
        "ack": summary([r["saved"] - r["t0"] for r in rs]),
        "kernel_submit_to_ack": summary(kernel_ms),
    }


def kernel_submit_to_ack(lab: Lab, notebook: str) -> list[float]:
    """Per label, the kernel's own time from handling the submit message to sending the ack (w.history):
    validation + the committed SQLite transaction + sending. The rest of the ack latency is transport."""
    kernel = lab.kernel(notebook)
    try:
        events = kernel.json(
            "w.history[w.history['event'].isin(['submit', 'ack'])][['event', 'client_id', 'time']]"
            ".assign(time=lambda d: d['time'].map(lambda t: t.timestamp())).to_dict('records')"
        )
    finally:
        kernel.close()
    submitted = {e["client_id"]: e["time"] for e in events if e["event"] == "submit"}
    return [
        (e["time"] - submitted[e["client_id"]]) * 1000
        for e in events
        if e["event"] == "ack" and e["client_id"] in submitted
    ]


# Records when each WebSocket message arrives (kernel messages reach JupyterLab this way); installed before
# the page loads so it wraps JupyterLab's own kernel connection.
WS_PROBE_JS = """
(() => {
  const WS = window.WebSocket;
  window.__wsLast = 0;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => { window.__wsLast = performance.now(); });
    }
  };
})();
"""

RENDER_PROBE_JS = """
(itemSel) => {
  const st = window.__render = { runs: [] };
  let last = null;
  new MutationObserver(() => {
    const e = document.querySelector(itemSel);
    const id = e ? e.getAttribute('data-item-id') : null;
    if (id === null || id === last) return;
    last = id;
    const run = { id, dom: performance.now(), ws: window.__wsLast, frame: null };
    st.runs.push(run);
    requestAnimationFrame(() => { run.frame = performance.now(); });
  }).observe(document.body, { subtree: true, childList: true, attributes: true });
}
"""


def bench_render(browser_ctx: Any, lab: Lab, rounds: int = 12) -> dict[str, Any]:
    """Cold render of a 50 KB markdown response with 20 code blocks.

    The view pre-renders (warms) the items of its prefetch window, so stepping to the next item would time a
    cache hit. Here Python jumps (`w.goto`) to items far outside the window, each with a distinct big text,
    and the time runs from the arrival of the kernel's last WebSocket message before the item appears to the
    DOM showing it (parse + sanitise + highlight + insert), and to the next frame.
    """
    spacing = 10  # > the window (previous + current + 3 next)
    items: list[dict[str, Any]] = []
    for k in range(rounds * spacing + 1):
        if k % spacing == 0 and k:
            text = big_markdown(variant=k)
            resp = [{"response_id": "r1", "text": text}, {"response_id": "r2", "text": "Short answer."}]
        else:
            resp = [{"response_id": "r1", "text": f"ok {k}"}, {"response_id": "r2", "text": f"fine {k}"}]
        items.append({"item_id": f"it-{k:03d}", "prompt": f"Prompt {k}", "responses": resp})
    (lab.root / "render.items.json").write_text(json.dumps(items))
    cells = [
        "import json, rank_widget as rw\nitems = rw.load_items(json.load(open('render.items.json')))\n"
        # collapse off: the whole 50 KB response is rendered, not a collapsed preview
        "w = rw.RankWidget(items, annotator='bench', shuffle=False, collapse_chars=10_000_000)\nw",
    ]
    write_notebook(lab.root / "render.ipynb", cells)
    page = browser_ctx.new_page()
    page.add_init_script(WS_PROBE_JS)
    open_notebook(page, lab, "render.ipynb")
    run_all(page)
    page.wait_for_selector(OUR_ITEM, timeout=60_000)
    page.evaluate(RENDER_PROBE_JS, OUR_ITEM)
    kernel = lab.kernel("render.ipynb")
    runs_: list[dict[str, Any]] = []
    blocks: list[int] = []
    try:
        for r in range(1, rounds + 1):
            target = f"it-{r * spacing:03d}"
            time.sleep(PAUSE_S)
            kernel.run(f"w.goto({r * spacing})")
            page.wait_for_function(
                "id => window.__render.runs.some(x => x.id === id && x.frame !== null)", arg=target
            )
            runs_.append(next(x for x in page.evaluate("window.__render.runs") if x["id"] == target))
            blocks.append(page.locator(f".rw-root .rw-item[data-item-id='{target}'] pre code").count())
    finally:
        kernel.close()
        lab.shutdown_session("render.ipynb")
        page.close()
    text = big_markdown(variant=spacing)
    return {
        "bytes": len(text.encode()),
        "code_blocks_in_source": text.count("```python"),
        "code_blocks_rendered": min(blocks),
        "dom": summary([x["dom"] - x["ws"] for x in runs_]),
        "frame": summary([x["frame"] - x["ws"] for x in runs_]),
    }


def bundle_sizes() -> dict[str, int]:
    js = (STATIC / "widget.js").read_bytes()
    css = (STATIC / "widget.css").read_bytes()
    return {
        "js_raw": len(js),
        "css_raw": len(css),
        "js_gzip": len(gzip.compress(js, 6)),
        "css_gzip": len(gzip.compress(css, 6)),
    }


def machine() -> dict[str, str]:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    import jupyterlab

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "jupyterlab": jupyterlab.__version__,
        # other work on the machine skews browser timings: record how busy it was
        "loadavg_1m_at_start": f"{os.getloadavg()[0]:.2f}",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def markdown_table(results: dict[str, Any]) -> str:
    """The figures of one run as a markdown table (pasted into benchmarks/results/widget_latency.md)."""
    rows: list[tuple[str, str, dict[str, float]]] = []
    if "pigeonxt" in results:
        p = results["pigeonxt"]
        rows += [
            ("pigeonXT", "click -> next item in DOM", p["next_dom"]),
            ("pigeonXT", "click -> next item, next frame", p["next_frame"]),
        ]
    for key, how in (("ours_key", "Enter"), ("ours_click", "click Submit")):
        if key in results:
            o = results[key]
            rows += [
                ("RankWidget", f"{how} -> next item in DOM", o["next_dom"]),
                ("RankWidget", f"{how} -> next item, next frame", o["next_frame"]),
                ("RankWidget", f"{how} -> durable ack (saved mark)", o["ack"]),
                ("RankWidget", f"{how}: kernel submit -> ack (part of the above)", o["kernel_submit_to_ack"]),
            ]
    if "render" in results:
        r = results["render"]
        what = f"cold render {r['bytes'] // 1000} KB markdown, {r['code_blocks_rendered']} code blocks"
        rows += [
            ("RankWidget", f"{what}: last ws message -> DOM", r["dom"]),
            ("RankWidget", f"{what}: last ws message -> next frame", r["frame"]),
        ]
    out = ["| widget | measure | n | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|---|"]
    out += [
        f"| {w} | {m} | {s['n']} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} |" for w, m, s in rows
    ]
    return "\n".join(out)


def fmt(s: dict[str, float]) -> str:
    return f"p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms (max {s['max']:.1f}, n={s['n']})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=60)
    ap.add_argument("--only", choices=["pigeon", "ours", "render", "all"], default="all")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures as JSON here")
    args = ap.parse_args()
    items = pair_items(args.items)
    base = Path(tempfile.mkdtemp(prefix="rw-bench-"))
    lab = start_lab(base)
    results: dict[str, Any] = {"machine": machine(), "items": args.items}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            browser_version = browser.version
            results["machine"]["chromium"] = browser_version
            try:
                run_benchmarks(args, page, lab, items, results)
            except Exception:
                shot = REPO / "test-results" / "bench-failure.png"
                shot.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(shot))
                print(f"failed; screenshot: {shot}", file=sys.stderr)
                raise
            ctx.close()
            browser.close()
    finally:
        stop_lab(lab.process)
    report(args, results)


def run_benchmarks(
    args: argparse.Namespace, page: Page, lab: Lab, items: list[dict[str, Any]], results: dict[str, Any]
) -> None:
    if args.only in ("pigeon", "all"):
        results["pigeonxt"] = bench_pigeon(page, lab, items)
        print("pigeonXT click -> next item (dom):  ", fmt(results["pigeonxt"]["next_dom"]))
        print("pigeonXT click -> next item (frame):", fmt(results["pigeonxt"]["next_frame"]))
    if args.only in ("ours", "all"):
        results["ours_key"] = bench_ours(page, lab, items, "ours_key", "key")
        print("RankWidget Enter -> next item (dom):  ", fmt(results["ours_key"]["next_dom"]))
        print("RankWidget Enter -> next item (frame):", fmt(results["ours_key"]["next_frame"]))
        print("RankWidget Enter -> durable ack:      ", fmt(results["ours_key"]["ack"]))
        print("  of which in the kernel (submit->ack):", fmt(results["ours_key"]["kernel_submit_to_ack"]))
        results["ours_click"] = bench_ours(page, lab, items, "ours_click", "click")
        print("RankWidget click Submit -> next item (dom):  ", fmt(results["ours_click"]["next_dom"]))
        print("RankWidget click Submit -> next item (frame):", fmt(results["ours_click"]["next_frame"]))
        print("RankWidget click Submit -> durable ack:      ", fmt(results["ours_click"]["ack"]))
        print(
            "  of which in the kernel (submit->ack):      ",
            fmt(results["ours_click"]["kernel_submit_to_ack"]),
        )
    if args.only in ("render", "all"):
        results["render"] = bench_render(page.context, lab)
        r = results["render"]
        what = f"cold render {r['bytes']} B markdown, {r['code_blocks_rendered']} code blocks"
        print(f"{what} (ws msg -> dom):  ", fmt(r["dom"]))
        print(f"{what} (ws msg -> frame):", fmt(r["frame"]))


def report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    results["machine"]["loadavg_1m_at_end"] = f"{os.getloadavg()[0]:.2f}"
    results["bundle"] = bundle_sizes()
    b = results["bundle"]
    print(
        f"bundle gzipped: js {b['js_gzip']} B + css {b['css_gzip']} B = {b['js_gzip'] + b['css_gzip']} B "
        f"(raw {b['js_raw'] + b['css_raw']} B)"
    )
    print(json.dumps(results["machine"]))
    print()
    print(markdown_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
