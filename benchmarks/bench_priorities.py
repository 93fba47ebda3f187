"""Team queue priorities and active queues: what they cost (issue 12).

1. On a 100,000-item team dataset (overlap 3), one process: ``set_priorities`` of 20 items (first time, and
   replacing them), and ``claim_next`` p50/p95 over 200 claims without priorities and with them (the claim
   must stay one index scan). SQLite file, and PostgreSQL when RANK_WIDGET_PG_URL (an admin URL) is set: a
   scratch database is created and dropped.
2. ``refresh_team_queue`` (leaderboard goal, k=30) and one ``ActiveQueue`` draw (k=10) on a 2,000-item pool
   with 4,000 simulated human labels in the store (SQLite): what a lead's refresh and a widget's re-draw take.

Run: .venv/bin/python benchmarks/bench_priorities.py
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import rank_widget as rw  # noqa: E402
from factories import make_items  # noqa: E402
from rank_widget.simulate import Annotator, simulate  # noqa: E402
from rank_widget.store import open_store  # noqa: E402

POOL = 100_000


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def claims(store: rw.store.Store, dataset: str, n: int = 200) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        store.claim_next(dataset, f"a{i % 10}")
        out.append((time.perf_counter() - t0) * 1000)
    return out


def priorities(url: str, label: str) -> None:
    store = open_store(url)
    ids = [f"i{i:06d}" for i in range(POOL)]
    for ds in ("plain", "prio"):
        store.register_items(ds, ids, overlap=3)
    plain = claims(store, "plain")
    t0 = time.perf_counter()
    store.set_priorities("prio", ids[50_000:50_020])
    first = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    store.set_priorities("prio", ids[60_000:60_020])
    replace = (time.perf_counter() - t0) * 1000
    prio = claims(store, "prio")
    head = store.leases("prio").sort_values("claimed_at")["item_id"].iloc[0]
    assert head == "i060000", head
    print(
        f"| {label} | {first:.0f} | {replace:.0f} | {pct(plain, 0.5):.2f} / {pct(plain, 0.95):.2f} | "
        f"{pct(prio, 0.5):.2f} / {pct(prio, 0.95):.2f} |"
    )
    store.close()


def refreshes(path: str) -> None:
    models = ["m0", "m1", "m2", "m3", "m4", "m5"]
    pairs_ = [(a, b) for i, a in enumerate(models) for b in models[i + 1 :]]
    items = make_items(2000, model=lambda i, j: pairs_[i % len(pairs_)][j], gold=None)
    store = open_store(path)
    sim = simulate(items.iloc[:1000], [Annotator(f"p{i}", tie_rate=0.1) for i in range(4)], seed=1)
    store.append_many(sim.labels.to_dict("records"))
    store.register_items("ds", items["item_id"], overlap=3)
    times: dict[str, list[float]] = {"refresh_team_queue k=30": [], "ActiveQueue draw k=10": []}
    for seed in range(3):  # the first call also imports the analysis modules (scipy): reported apart
        t0 = time.perf_counter()
        rw.refresh_team_queue(store, items, "ds", k=30, seed=seed)
        times["refresh_team_queue k=30"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rw.ActiveQueue(refresh_every=10, seed=seed).draw(store.current(), items)
        times["ActiveQueue draw k=10"].append(time.perf_counter() - t0)
    print(f"{len(sim.labels)} labels, {len(items)} items:")
    for name, t in times.items():
        print(f"- {name}: first {t[0] * 1000:.0f} ms, then {t[1] * 1000:.0f} / {t[2] * 1000:.0f} ms")
    store.close()


def main() -> None:
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.python_version()}, "
        f"nproc {os.cpu_count()}, load {os.getloadavg()[0]:.1f}"
    )
    print("| engine | set 20 priorities ms | replace them ms | claim p50 / p95 ms, none | with priorities |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        priorities(os.path.join(d, "p.sqlite"), "SQLite")
        admin = os.environ.get("RANK_WIDGET_PG_URL")
        if admin:
            import psycopg

            name = f"rw_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            try:
                priorities(admin.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL")
            finally:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        refreshes(os.path.join(d, "r.sqlite"))


if __name__ == "__main__":
    main()
