"""Store benchmarks (design §8: one durable SQLite append p95 <= 5 ms; 1,000,000 labels -> DataFrame <= 3 s).

Run: ``.venv/bin/python benchmarks/bench_store.py [--rows 1000000] [--appends 2000]``. Set RANK_WIDGET_PG_URL
(an admin URL) to also measure PostgreSQL (a scratch database is created and dropped). Files go to
benchmarks/out/ and are removed at the end. Wall times and this process's CPU time are both printed: on a
shared machine the wall time includes waiting for a core; the load average is printed too.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rank_widget.store import Store, open_store

OUT = Path(__file__).resolve().parent / "out" / "store"
T0 = pd.Timestamp("2026-11-28T09:00:00", tz="UTC")


def make_labels(n: int, *, seed: int = 0, prefix: str = "L") -> list[dict[str, Any]]:
    """Realistic label records: mostly pairwise with strength, some 4-way rankings, ratings, rationales,
    flags; 10 labels per item on average, 50 annotators (so some are re-labels, i.e. new revisions)."""
    rng = np.random.default_rng(seed)
    n_items, n_ann = max(1, n // 10), 50
    kinds = rng.random(n)
    items = rng.integers(n_items, size=n)
    anns = rng.integers(n_ann, size=n)
    wins = rng.integers(3, size=n)
    strengths = rng.integers(1, 4, size=n)
    active = rng.integers(2000, 60000, size=n)
    started = pd.date_range(T0, periods=n, freq="s").tolist()
    submitted = (pd.date_range(T0, periods=n, freq="s") + pd.to_timedelta(active, unit="ms")).tolist()
    perms = [[f"r{k}" for k in p] for p in (rng.permuted(np.tile([1, 2, 3, 4], (64, 1)), axis=1))]
    out = []
    for i in range(n):
        k = kinds[i]
        rec: dict[str, Any] = {
            "label_id": f"{prefix}{i:08d}-{seed}",
            "item_id": f"item-{items[i]:07d}",
            "annotator": f"annotator_{anns[i]:02d}",
            "started_at": started[i],
            "submitted_at": submitted[i],
            "active_ms": int(active[i]),
            "guideline_version": "v1" if i % 2 else "v2",
            "source": "simulation",
            "rationale": "" if k < 0.5 else "A is more accurate and answers the question directly.",
        }
        if k < 0.8:
            win = wins[i]
            rec.update(
                task="pairwise",
                display_order=["r2", "r1"] if i % 2 else ["r1", "r2"],
                winner=("r1", "r2", "tie")[win],
                strength=0 if win == 2 else int(strengths[i]),
            )
            if k < 0.1:
                rec["ratings"] = {"r1": {"helpful": 4, "honest": 5}, "r2": {"helpful": 2, "honest": 5}}
        else:
            order = perms[i % 64]
            rec.update(
                task="ranking", display_order=order, ranking=[[order[0]], [order[1], order[2]], [order[3]]]
            )
        if k > 0.97:
            rec["flags"] = ["harmful"]
        out.append(rec)
    return out


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall s, this process's CPU s, result). CPU counts every thread of the process."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def load() -> str:
    return "load avg " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def bench_appends(store: Store, n: int, label: str, seed: int = 1) -> dict[str, float]:
    recs = make_labels(n, seed=seed, prefix=f"A{label}")
    for r in recs:
        r["source"] = "widget"
    times = []
    for r in recs:
        t = time.perf_counter()
        store.append(r, response_ids=r["display_order"])
        times.append((time.perf_counter() - t) * 1000)
    res = {
        "n": n,
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "p99_ms": percentile(times, 99),
        "max_ms": max(times),
    }
    print(
        f"[{label}] durable append x{n}: p50 {res['p50_ms']:.2f} ms, p95 {res['p95_ms']:.2f} ms, "
        f"p99 {res['p99_ms']:.2f} ms, max {res['max_ms']:.2f} ms ({load()})"
    )
    return res


def bench_fsync(n: int) -> None:
    """The floor under a durable SQLite append: appending 4 KiB to a file and fsync-ing it (what a WAL commit
    with synchronous=FULL does at least once)."""
    path = OUT / "fsync.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            os.write(fd, b"x" * 4096)
            os.fsync(fd)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    print(
        f"[disk] 4 KiB append + fsync x{n}: p50 {percentile(times, 50):.2f} ms, "
        f"p95 {percentile(times, 95):.2f} ms, p99 {percentile(times, 99):.2f} ms ({load()})"
    )


def bench_bulk(store: Store, rows: int, label: str) -> dict[str, float]:
    res: dict[str, float] = {"rows": rows}
    t = time.perf_counter()
    records = make_labels(rows, seed=2)
    print(f"[{label}] generated {rows:,} records in {time.perf_counter() - t:.1f} s")
    wall, cpu, _ = timed(lambda: store.append_many(records))
    res["append_many_s"] = wall
    records.clear()
    print(
        f"[{label}] append_many {rows:,} labels (validate + one transaction): {wall:.1f} s wall, "
        f"{cpu:.1f} s CPU ({rows / wall:,.0f} labels/s; {load()})"
    )
    runs = []
    for _ in range(3):
        wall, cpu, df = timed(store.labels)
        runs.append((wall, cpu))
        del df
    res["labels_wall_median"] = statistics.median(w for w, _ in runs)
    res["labels_cpu_median"] = statistics.median(c for _, c in runs)
    print(
        f"[{label}] labels() -> DataFrame of {rows:,} rows: median {res['labels_wall_median']:.2f} s wall, "
        f"{res['labels_cpu_median']:.2f} s CPU (runs: {', '.join(f'{w:.2f}/{c:.2f}' for w, c in runs)}; "
        f"{load()})"
    )
    for name, fn in [
        ("current()", store.current),
        ("current('annotator_07')", lambda: store.current("annotator_07")),
        ("labels(annotator='annotator_07')", lambda: store.labels(annotator="annotator_07")),
        ("count()", store.count),
        ("count('annotator_07')", lambda: store.count("annotator_07")),
        ("labelled_item_ids('annotator_07')", lambda: store.labelled_item_ids("annotator_07")),
    ]:
        wall, cpu, out = timed(fn)
        size = out if isinstance(out, int) else len(out)
        res[name] = wall
        print(f"[{label}] {name} -> {size:,}: {wall:.3f} s wall, {cpu:.3f} s CPU")
    bench_appends(store, 300, f"{label}, on {rows:,} rows", seed=3)
    return res


def bench_json_decode(n: int) -> None:
    """Why labels() joins a JSON column into one document and pauses the GC: per-row vs one loads."""
    col = [json.dumps([["r1"], ["r2", "r3"], ["r4"]], separators=(",", ":"))] * n
    for paused in (False, True):
        if paused:
            gc.disable()
        try:
            t_row, _, _ = timed(lambda: [json.loads(s) for s in col])
            t_join, _, _ = timed(lambda: json.loads("[" + ",".join(col) + "]"))
        finally:
            gc.enable()
        print(
            f"json decode of {n:,} rankings, GC {'paused' if paused else 'on'}: per-row json.loads "
            f"{t_row:.2f} s, one joined json.loads {t_join:.2f} s"
        )


@contextmanager
def pg_database() -> Iterator[str | None]:
    admin = os.environ.get("RANK_WIDGET_PG_URL")
    if not admin:
        yield None
        return
    import psycopg
    from sqlalchemy import make_url

    admin = admin.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"rw_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--appends", type=int, default=2_000)
    ap.add_argument("--pg-rows", type=int, default=200_000, help="bulk rows for PostgreSQL (0 to skip)")
    ap.add_argument("--skip-bulk", action="store_true", help="only the append latencies")
    args = ap.parse_args()
    with open("/proc/cpuinfo") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "?")
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc {os.cpu_count()}; CPU {cpu}; "
        f"Python {platform.python_version()}; pandas {pd.__version__}; SQLite {sqlite3.sqlite_version}; "
        f"{load()}"
    )
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    try:
        bench_fsync(args.appends)
        with open_store(OUT / "append.sqlite") as s:
            bench_appends(s, args.appends, "sqlite file")
        with open_store(":memory:") as s:
            bench_appends(s, args.appends, "sqlite :memory:")
        if not args.skip_bulk:
            with open_store(OUT / "bulk.sqlite") as s:
                bench_bulk(s, args.rows, "sqlite file")
            print(f"file size: {(OUT / 'bulk.sqlite').stat().st_size / 1e6:.0f} MB for {args.rows:,} labels")
        with pg_database() as url:
            if url is None:
                print("PostgreSQL: skipped (set RANK_WIDGET_PG_URL)")
            else:
                with open_store(url) as s:
                    bench_appends(s, args.appends, "postgresql")
                    if args.pg_rows and not args.skip_bulk:
                        bench_bulk(s, args.pg_rows, "postgresql")
        bench_json_decode(min(args.rows, 200_000))
    finally:
        shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
