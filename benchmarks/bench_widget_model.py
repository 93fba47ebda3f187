"""RankWidget model-side costs on a big dataset (design §8), with pigeonXT's `annotate` alongside.

Measures, on 100,000 items x 4 responses x ~1 KB (the items DataFrame is built first, not timed):
- RankWidget ready time (construction: queue, resume lookup on an empty store, first window);
- size of the synced state (JSON of every synced trait) at 100 and 100,000 items;
- bytes on the wire per navigation: the comm `update` messages a step forward/back/submit sends, against the
  budget 2 x the item's text + 4 KB;
- pigeonXT `annotate` construction time on the same items, when pigeonXT is importable.

Run: .venv/bin/python benchmarks/bench_widget_model.py   (about a minute on 2 cores)
"""

from __future__ import annotations

import contextlib
import io
import json
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from rank_widget import load_items
from rank_widget.widget import RankWidget

N_BIG = 100_000
N_SMALL = 100
N_RESPONSES = 4
RUNS = 5
STEPS = 60
SUBMITS = 300


def make_items(n: int, seed: int = 0) -> pd.DataFrame:
    """Wide source rows -> load_items, the way a user gets an items DataFrame (~1 KB per response)."""
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "sigma"]
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "id": f"q{i:06d}",
            "prompt": f"Question {i}: " + " ".join(words[(i + k) % 10] for k in range(30)),
        }
        for j in range(N_RESPONSES):
            body = " ".join(words[(i * 7 + j * 3 + k) % 10] for k in range(170))  # ~1,000 characters
            row[f"response{j + 1}"] = f"Answer {j + 1}. {body}"
        row["category"] = ["code", "math", "writing", "advice"][i % 4]
        rows.append(row)
    return load_items(pd.DataFrame(rows))


def synced_state_bytes(w: RankWidget, *, with_assets: bool) -> int:
    state = w.get_state()
    if not with_assets:
        state = {k: v for k, v in state.items() if k not in ("_esm", "_css")}
    return len(json.dumps(state).encode())


class WireTap:
    """Counts the bytes of every comm message the widget sends (the JSON `data` of each message)."""

    def __init__(self, w: RankWidget) -> None:
        self.messages: list[int] = []
        w.comm.send = self._send  # the last hop before the kernel's socket
        w.send = lambda msg, buffers=None: self._send(data={"method": "custom", "content": msg})

    def _send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.messages.append(len(json.dumps(data).encode()))

    def take(self) -> int:
        total = sum(self.messages)
        self.messages.clear()
        return total


def item_text_bytes(w: RankWidget, position: int) -> int:
    p = w._payload(position)
    prompt = p["prompt"] if isinstance(p["prompt"], str) else " ".join(t["content"] for t in p["prompt"])
    return len(prompt.encode()) + sum(len(r["text"].encode()) for r in p["responses"])


def submit_message(w: RankWidget, index: int, n: int) -> dict[str, Any]:
    p = w._payload(index)
    return {
        "type": "submit",
        "client_id": f"bench-{n}",
        "item_id": p["item_id"],
        "index": index,
        "label": {
            "status": "submitted",
            "ranking": [[r] for r in p["display_order"]],
            "winner": None,
            "strength": None,
            "ratings": {},
            "rationale": "",
            "flags": [],
            "flag_note": "",
            "display_order": p["display_order"],
            "guideline_version": None,
            "started_at": datetime.now(timezone.utc).isoformat(),
            "active_ms": 1200,
        },
    }


def navigation_bytes(w: RankWidget) -> dict[str, Any]:
    tap = WireTap(w)
    budget = 2 * item_text_bytes(w, w.position) + 4096
    forward = []
    for _ in range(STEPS):
        w.handle_message({"type": "navigate", "to": w.position + 1})
        forward.append(tap.take())
    back = []
    for _ in range(STEPS // 2):
        w.handle_message({"type": "navigate", "to": w.position - 1})
        back.append(tap.take())
    submits = []
    start = w.position
    for k in range(STEPS):
        w.handle_message(submit_message(w, start + k, k))
        submits.append(tap.take())
    return {"budget": budget, "forward": forward, "back": back, "submit": submits}


def submit_latency(items: pd.DataFrame, store_path: str) -> dict[str, list[float]]:
    """Message in -> ack out, and the whole handler (ack + next window/progress), on a durable SQLite file."""
    w = RankWidget(items, annotator="bench-latency", task="ranking", store=store_path)
    to_ack: list[float] = []
    handler: list[float] = []
    t_in = 0.0

    def on_send(msg: dict[str, Any], buffers: Any = None) -> None:
        if msg["type"] == "ack":
            to_ack.append(time.perf_counter() - t_in)

    w.send = on_send
    for k in range(SUBMITS):
        msg = submit_message(w, w.position, k)
        t_in = time.perf_counter()
        w.handle_message(msg)
        handler.append(time.perf_counter() - t_in)
    return {"ack": to_ack, "handler": handler}


def pct(xs: list[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def pigeonxt_ready(items: pd.DataFrame) -> list[float] | None:
    try:
        from pigeonXT import annotate
    except ImportError:
        return None
    examples = pd.DataFrame({"id": items["item_id"], "example": range(len(items))})

    def show(position: int) -> None:
        # What a user writes for pigeonXT: render the prompt and responses of the current item as text.
        row = items.iloc[int(position)]
        print(row["prompt"], *[r["text"] for r in row["responses"]], sep="\n\n")

    times = []
    for _ in range(RUNS):
        with contextlib.redirect_stdout(io.StringIO()):
            t0 = time.perf_counter()
            annotate(examples, options=["A", "B", "tie"], display_fn=show)
            times.append(time.perf_counter() - t0)
    return times


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    import os

    print(
        f"machine: {os.cpu_count()} CPUs, {cpu_model()}; python {platform.python_version()}, "
        f"pandas {pd.__version__}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    t0 = time.perf_counter()
    big = make_items(N_BIG)
    print(f"items DataFrame built (not timed below): {len(big):,} items in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    import rank_widget.store  # noqa: F401  (SQLAlchemy: a one-time import the first widget pays)

    print(f"one-time import of the store stack (SQLAlchemy): {(time.perf_counter() - t0) * 1000:.0f} ms")
    ready = []
    for k in range(RUNS + 1):
        t0 = time.perf_counter()
        w = RankWidget(big, annotator="bench", task="ranking")
        ready.append(time.perf_counter() - t0)
        if k == 0:
            first = ready[0] * 1000
            print(f"RankWidget ready, first construction in the process (imports done): {first:.1f} ms")
    warm = ready[1:]
    med = statistics.median(warm) * 1000
    print(
        f"RankWidget ready on {N_BIG:,} items x {N_RESPONSES}: median {med:.1f} ms, "
        f"max {max(warm) * 1000:.1f} ms over {RUNS} runs (budget 200 ms)"
    )

    small_w = RankWidget(big.iloc[:N_SMALL].reset_index(drop=True), annotator="bench", task="ranking")
    for label, with_assets in (("without", False), ("with", True)):
        s = synced_state_bytes(small_w, with_assets=with_assets)
        b = synced_state_bytes(w, with_assets=with_assets)
        print(f"synced state {label} the JS/CSS bundle: {N_SMALL} items {s:,} B, {N_BIG:,} items {b:,} B")

    nav = navigation_bytes(w)
    for kind in ("forward", "back", "submit"):
        xs = nav[kind]
        mean, median = statistics.mean(xs), statistics.median(xs)
        print(
            f"bytes per {kind:7s} step: mean {mean:,.0f}, median {median:,.0f}, "
            f"max {max(xs):,} over {len(xs)} steps (budget {nav['budget']:,} = 2 x item text + 4 KB)"
        )

    with tempfile.TemporaryDirectory() as tmp:
        lat = submit_latency(big, str(Path(tmp) / "bench.sqlite"))
    for kind, what in (
        ("ack", "submit message -> ack sent (validate + durable SQLite append)"),
        ("handler", "whole submit handler (ack + next position/window/progress)"),
    ):
        xs = [x * 1000 for x in lat[kind]]
        print(
            f"{what}: p50 {pct(xs, 0.5):.2f} ms, p95 {pct(xs, 0.95):.2f} ms, max {max(xs):.2f} ms "
            f"over {len(xs)} submits"
        )

    pig = pigeonxt_ready(big)
    if pig is None:
        print("pigeonXT not importable: skipped")
    else:
        print(
            f"pigeonXT annotate on {N_BIG:,} items: median {statistics.median(pig) * 1000:.1f} ms, "
            f"max {max(pig) * 1000:.1f} ms over {RUNS} runs"
        )


if __name__ == "__main__":
    main()
