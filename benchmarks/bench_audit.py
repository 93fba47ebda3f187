"""AuditWidget on 100,000 labels: ready time, page-change time, filter / open / adjudicate latencies, and the
bytes a page change puts on the wire.

Dataset (built before timing): 25,000 pairwise items x 2 responses x ~1 KB, labelled by 4 simulated annotators
(100,000 labels, rated on one criterion, some flags), stored in a real SQLite file.

Every view action is timed through ``handle_message`` exactly as the browser's message arrives (validation,
filtering / paging in Python, trait updates); the comm is not connected here, so the figures are kernel-side.

Run: .venv/bin/python benchmarks/bench_audit.py   (about a minute on 2 cores)
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rank_widget.audit import AuditWidget
from rank_widget.simulate import Annotator, simulate_labels
from rank_widget.store import open_store

N_ITEMS = 25_000
ANNOTATORS = 4
RUNS = 5
PAGES = 60
OPENS = 40
ADJUDICATIONS = 40
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "sigma"]


def make_items(n: int) -> pd.DataFrame:
    def body(i: int, j: int) -> str:
        # ~1 KB
        return f"Answer {j + 1}. " + " ".join(WORDS[(i * 7 + j * 3 + k) % 10] for k in range(170))

    models = ["atlas-7b", "boreal-70b", "cirrus-mini", "delta-pro"]
    return pd.DataFrame(
        {
            "item_id": [f"q{i:06d}" for i in range(n)],
            "prompt": [
                f"Question {i}: " + " ".join(WORDS[(i + k) % 10] for k in range(30)) for i in range(n)
            ],
            "responses": [
                [
                    {"response_id": f"r{j + 1}", "text": body(i, j), "model": models[(i + j) % 4]}
                    for j in range(2)
                ]
                for i in range(n)
            ],
        }
    )


def ms(xs: list[float]) -> str:
    a = np.asarray(xs) * 1000
    p50, p95 = np.percentile(a, 50), np.percentile(a, 95)
    return f"p50 {p50:.1f} / p95 {p95:.1f} / max {a.max():.1f} ms (n={len(a)})"


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall s, CPU s of this process, all threads): on a shared machine the wall time includes waiting."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def both(runs: list[tuple[float, float]]) -> str:
    wall = statistics.median(w for w, _ in runs) * 1000
    cpu = statistics.median(c for _, c in runs) * 1000
    top_wall, top_cpu = max(w for w, _ in runs) * 1000, max(c for _, c in runs) * 1000
    return (
        f"median {wall:.0f} ms wall / {cpu:.0f} ms CPU (max {top_wall:.0f} / {top_cpu:.0f}; "
        f"load average {os.getloadavg()[0]:.1f})"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main() -> None:
    print(
        f"date {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, nproc {os.cpu_count()}, CPU {cpu_model()}, "
        f"load average {os.getloadavg()[0]:.1f}, pandas {pd.__version__}"
    )
    t = time.perf_counter()
    items = make_items(N_ITEMS)
    team = [Annotator(f"ann{k}", accuracy=0.6 + 0.1 * k, flag_rate=0.03) for k in range(ANNOTATORS)]
    labels = simulate_labels(items, team, seed=1, criteria=["helpfulness"])
    print(f"setup: {len(items):,} items, {len(labels):,} labels built in {time.perf_counter() - t:.1f} s")
    assert len(labels) == N_ITEMS * ANNOTATORS

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.sqlite"
        with open_store(path) as s:
            t = time.perf_counter()
            s.append_many(labels.to_dict("records"))
            print(f"setup: stored in {path.name} in {time.perf_counter() - t:.1f} s")

        AuditWidget(
            items.head(100), labels[labels["item_id"].isin(items["item_id"].head(100))], adjudicator="bench"
        )  # imports (quality, SQLAlchemy) paid here, not in the figures
        ready_store = [timed_cpu(lambda: AuditWidget(items, path, adjudicator="b")) for _ in range(RUNS)]
        ready_frame = [timed_cpu(lambda: AuditWidget(items, labels, adjudicator="b")) for _ in range(RUNS)]
        print(f"ready, AuditWidget(items, store path) [reads 100,000 labels]: {both(ready_store)}")
        print(f"ready, AuditWidget(items, labels DataFrame): {both(ready_frame)}")

        # what the ready time is made of: reading the store, and the disagreement scores (quality module)
        from rank_widget.quality import disagreement_scores

        with open_store(path) as s:
            read = [timed_cpu(s.labels) for _ in range(3)]
        scores = [timed_cpu(lambda: disagreement_scores(labels)) for _ in range(3)]
        print(f"  of which: store.labels() on 100,000 labels {both(read)}")
        print(f"  of which: quality.disagreement_scores {both(scores)}")

        w = AuditWidget(items, path, adjudicator="bench", page_size=20)
        w.send = lambda *a, **k: None  # type: ignore[method-assign]
        n_pages = (w.total + w.page_size - 1) // w.page_size
        rng = np.random.default_rng(0)
        page_times, page_bytes = [], []
        for p in rng.integers(0, n_pages, PAGES):
            page_times.append(timed(lambda p=p: w.handle_message({"type": "page", "page": int(p)})))
            page_bytes.append(len(json.dumps({"rows": w.rows, "page": w.page}).encode()))
        print(
            f"page change ({w.total:,} items, {n_pages:,} pages of 20): {ms(page_times)}; "
            f"rows payload {statistics.median(page_bytes):,.0f} B median, {max(page_bytes):,} B max"
        )

        filters: list[tuple[str, dict[str, Any]]] = [
            ("show=disagreements", {"show": "disagreements"}),
            ("annotator=ann0", {"annotator": "ann0"}),
            ("flag=harmful", {"flag": "harmful"}),
            ("criterion=helpfulness (first use builds the per-label criteria)", {"criterion": "helpfulness"}),
            ("criterion=helpfulness again", {"criterion": "helpfulness"}),
            ("model=atlas-7b (first use builds the model index)", {"model": "atlas-7b"}),
            ("annotator + flag + show together", {"annotator": "ann1", "flag": "harmful", "show": "flagged"}),
            ("search 'question 12' (first search builds the text cache)", {"search": "question 12"}),
            ("search 'kappa lambda sigma' (cached texts)", {"search": "kappa lambda sigma"}),
            ("clear", {}),
        ]
        for name, f in filters:
            dt = timed(lambda f=f: w.handle_message({"type": "filter", "filters": f}))
            print(f"filter {name}: {dt * 1000:.1f} ms -> {w.total:,} items")

        w.handle_message({"type": "filter", "filters": {"show": "disagreements"}})
        targets = list(w.table["item_id"][:OPENS])
        opens = [timed(lambda i=i: w.handle_message({"type": "open", "item_id": i})) for i in targets]
        detail_bytes = len(json.dumps(w.detail).encode())
        print(f"open an item: {ms(opens)}; detail payload {detail_bytes:,} B")
        adj = []
        for k, iid in enumerate(targets[:ADJUDICATIONS]):
            msg = {
                "type": "adjudicate",
                "client_id": f"bench-client-{k:04d}",
                "item_id": iid,
                "ranking": [["r1"], ["r2"]],
                "strength": 2,
                "rationale": "benchmark",
            }
            w.handle_message({"type": "open", "item_id": iid})
            adj.append(timed(lambda msg=msg: w.handle_message(msg)))
        assert len(w.adjudications) == ADJUDICATIONS, w.history.tail(3)
        print(f"adjudicate (validate + durable SQLite append + list/detail refresh): {ms(adj)}")


if __name__ == "__main__":
    main()
