"""Qualification costs (issue 11): the claim with the qualification check on 8 annotators, and the kernel's
time to serve the next qualification item.

1. ``claim``: bench_team's workload (8 annotator processes, claim_next -> append, 300 labels each, overlap 3
   over 1,000 items) twice on fresh stores: as today, and with the dataset requiring a qualification every
   annotator has passed (granted), so every claim runs the check. PostgreSQL when RANK_WIDGET_PG_URL is set,
   and SQLite.
2. ``serve``: in-process RankWidget on a SQLite file, 30 pair items: the kernel's time to handle a submit
   (validate, append + commit, ack) in a plain session and in training mode (+ score the item, build the
   feedback), and the ``feedback_read`` that lets the next item be labelled.

Run: .venv/bin/python benchmarks/bench_qualification.py [--skip-pg]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

import bench_team  # noqa: E402
import factories  # noqa: E402
from rank_widget.store import open_store  # noqa: E402
from rank_widget.widget import RankWidget  # noqa: E402


def claim_run(pg_admin: str | None, qualified: bool, annotators: int, labels: int) -> dict[str, float]:
    with bench_team.scratch(pg_admin) as url:
        if qualified:
            with open_store(url) as s:
                s.register_qualification("q-bench", factories.make_items(5, prefix="q"), pass_mark=0.8)
                s.require_qualification("bench", "q-bench")
                for a in range(annotators):
                    s.grant_qualification("q-bench", f"ann{a}", reason="benchmark", by="lead")
        return bench_team.concurrent(url, annotators, labels, 1_000)


def serial_claims(pg_admin: str | None, claims: int = 300) -> dict[str, float]:
    """One annotator, one store, ``claims`` claim_next calls alternating between a dataset that requires a
    qualification (passed) and one that does not: the check's own cost, less exposed to machine load."""
    with bench_team.scratch(pg_admin) as url, open_store(url) as s:
        s.register_qualification("q-bench", factories.make_items(5, prefix="q"), pass_mark=0.8)
        for ds in ("plain", "checked"):
            s.register_items(ds, [f"{ds}{i:05d}" for i in range(claims)], overlap=1)
        s.require_qualification("checked", "q-bench")
        s.grant_qualification("q-bench", "ann", reason="benchmark", by="lead")
        times: dict[str, list[float]] = {"plain": [], "checked": []}
        for _ in range(claims):
            for ds in ("plain", "checked"):
                t0 = time.perf_counter()
                s.claim_next(ds, "ann")
                times[ds].append(time.perf_counter() - t0)
    return {f"{ds}_{q}_ms": 1000 * bench_team.pct(v, q) for ds, v in times.items() for q in (50, 95)}


def _submit(w: RankWidget, index: int, n: int) -> dict[str, Any]:
    p = next(p for p in w.window if p["index"] == index)
    return {
        "type": "submit",
        "client_id": f"c-{n}-{index}",
        "item_id": p["item_id"],
        "index": index,
        "label": {
            "status": "submitted",
            "winner": "r1",
            "strength": 2,
            "display_order": list(p["display_order"]),
            "guideline_version": None,
            "started_at": datetime.now(timezone.utc).isoformat(),
            "active_ms": 800,
        },
    }


def serve(n: int = 30) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "q.sqlite"
        qual = factories.make_items(n, prefix="q", gold=lambda i: "r1")
        qual["explanation"] = [f"rule {i}" for i in range(n)]
        with open_store(path) as s:
            s.register_qualification("q-v1", qual, max_attempts=1)
        plain = RankWidget(factories.make_items(n, prefix="p", gold=None), annotator="a", store=path, seed=1)
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            plain.handle_message(_submit(plain, i, 0))
            times.append(time.perf_counter() - t0)
        out["plain_submit_p50_ms"] = 1000 * bench_team.pct(times, 50)
        out["plain_submit_p95_ms"] = 1000 * bench_team.pct(times, 95)
        w = RankWidget(
            factories.make_items(3, prefix="p", gold=None),
            annotator="b",
            store=path,
            qualification="q-v1",
            seed=1,
        )
        sub, read = [], []
        for i in range(n):
            t0 = time.perf_counter()
            w.handle_message(_submit(w, i, 1))
            t1 = time.perf_counter()
            w.handle_message({"type": "feedback_read", "item_id": w._queue.ids[i]})
            read.append(time.perf_counter() - t1)
            sub.append(t1 - t0)
        assert w.training["result"] is not None
        both = [a + b for a, b in zip(sub, read, strict=True)]
        out["training_submit_p50_ms"] = 1000 * bench_team.pct(sub, 50)
        out["training_submit_p95_ms"] = 1000 * bench_team.pct(sub, 95)
        out["feedback_read_p50_ms"] = 1000 * bench_team.pct(read, 50)
        out["feedback_read_p95_ms"] = 1000 * bench_team.pct(read, 95)
        out["serve_next_p50_ms"] = 1000 * bench_team.pct(both, 50)
        out["serve_next_p95_ms"] = 1000 * bench_team.pct(both, 95)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--annotators", type=int, default=8)
    ap.add_argument("--labels", type=int, default=300)
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--serial-only", action="store_true", help="skip the 8-process runs")
    args = ap.parse_args()
    print(
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, load {os.getloadavg()[0]:.1f}"
    )
    pg = None if args.skip_pg else os.environ.get("RANK_WIDGET_PG_URL")
    engines = [("SQLite", None)] + ([("PostgreSQL", pg)] if pg else [])
    for engine, admin in engines if not args.serial_only else []:
        for qualified in (False, True):
            r = claim_run(admin, qualified, args.annotators, args.labels)
            print(
                f"claim {engine:10s} {'with qualification check' if qualified else 'today':26s} "
                f"labels {r['labels']} labels/s {r['labels_per_s']:.0f} claim p50 {r['claim_p50_ms']:.2f} "
                f"p95 {r['claim_p95_ms']:.2f} ms (load {os.getloadavg()[0]:.1f})"
            )
    for engine, admin in engines:
        r = serial_claims(admin)
        print(
            f"serial claims {engine}: "
            + ", ".join(f"{k} {v:.2f}" for k, v in r.items())
            + f" (load {os.getloadavg()[0]:.1f})"
        )
    for k, v in serve().items():
        print(f"serve {k} {v:.2f}")


if __name__ == "__main__":
    main()
