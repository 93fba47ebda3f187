"""The cost of access control on PostgreSQL: claim_next and a durable append, row-level security on vs off.

Two scratch databases on the same server get the same data (a dataset of ITEMS items, overlap 4, and
PRIOR labels by other annotators). "off" is today's store: no setup, one shared role (the admin URL), the
store's own SQL. "on" is after ``rank_widget.team.setup``: annotator ``bench_alice`` with her own role, so
claims go through the ``rw_claim`` function, appends through the row-level security policies and the labels
trigger. One process, alternating off/on per round so load drifts hit both alike. Figures: p50/p95 of
``claim_next`` and of ``append`` (each its own committed transaction), a lead's bulk import
(``append_many``), and the 1-minute load average before and after.

Run: .venv/bin/python benchmarks/bench_access.py [--items 5000] [--prior 10000] [--n 300]
Needs RANK_WIDGET_PG_URL (an admin URL); the scratch databases are dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import psycopg  # noqa: E402
from sqlalchemy import make_url  # noqa: E402

from rank_widget import team  # noqa: E402
from rank_widget.store import Store, open_store  # noqa: E402

DATASET = "bench"


def _label(label_id: str, item: str, annotator: str) -> dict[str, Any]:
    return {
        "label_id": label_id,
        "item_id": item,
        "annotator": annotator,
        "task": "pairwise",
        "winner": "r1",
        "strength": 2,
        "display_order": ["r1", "r2"],
        "submitted_at": "2026-12-02T10:00:00+00:00",
        "source": "widget",
    }


def _fill(url: str, items: int, prior: int) -> None:
    with open_store(url) as s:
        ids = [f"it{i:06d}" for i in range(items)]
        s.register_items(DATASET, ids, overlap=4)  # prior labels fill 2 of 4 slots
        per = max(1, prior // 10)
        s.append_many(
            _label(f"p{a}:{i}", ids[(a * per + i) % items], f"prior{a}")
            for a in range(10)
            for i in range(per)
        )


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] * 1000


def _round(store: Store, who: str, n: int, claims: list[float], appends: list[float], tag: str) -> None:
    for k in range(n):
        t0 = time.perf_counter()
        item = store.claim_next(DATASET, who, lease_seconds=600)
        t1 = time.perf_counter()
        assert item is not None
        store.append(_label(f"{tag}:{k}", item, who), response_ids=["r1", "r2"])
        t2 = time.perf_counter()
        claims.append(t1 - t0)
        appends.append(t2 - t1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--prior", type=int, default=10000)
    ap.add_argument("--n", type=int, default=300, help="claim+append pairs per mode")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--bulk", type=int, default=5000, help="labels in one append_many (a lead's import)")
    args = ap.parse_args()
    admin = os.environ.get("RANK_WIDGET_PG_URL")
    if not admin:
        sys.exit("set RANK_WIDGET_PG_URL to an admin URL")
    conninfo = admin.replace("postgresql+psycopg://", "postgresql://", 1)
    names = {m: f"rw_bench_{m}_{uuid.uuid4().hex[:8]}" for m in ("off", "on")}
    with psycopg.connect(conninfo, autocommit=True) as c:
        for n in names.values():
            c.execute(f"CREATE DATABASE {n}")
    urls = {
        m: make_url(conninfo).set(database=n).render_as_string(hide_password=False) for m, n in names.items()
    }
    load0 = os.getloadavg()
    try:
        for url in urls.values():
            _fill(url, args.items, args.prior)
        team.setup(
            urls["on"], annotators=["bench_alice"], leads=["bench_lead"], echo=False, max_held=args.items
        )
        alice = make_url(urls["on"]).set(username="bench_alice").render_as_string(hide_password=False)
        stores = {"off": open_store(urls["off"]), "on": open_store(alice)}
        who = {"off": "bench_alice", "on": "bench_alice"}
        assert stores["on"].identity == "bench_alice" and stores["off"].identity is None
        res: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in stores}
        per = max(1, args.n // args.rounds)
        for _ in range(3):  # warm-up
            for m, s in stores.items():
                _round(s, who[m], 5, [], [], f"warm{uuid.uuid4().hex[:6]}")
        for r in range(args.rounds):
            for m in ("off", "on") if r % 2 == 0 else ("on", "off"):
                _round(stores[m], who[m], per, *res[m], f"r{r}")
        for s in stores.values():
            s.close()
        # A lead's bulk import: COPY + one upsert today; INSERTs + the per-row trigger under access control.
        lead = make_url(urls["on"]).set(username="bench_lead").render_as_string(hide_password=False)
        bulk = {}
        for m, url in (("off", urls["off"]), ("on", lead)):
            with open_store(url) as s:
                batch = [
                    _label(f"bulk{m}:{i}", f"it{i % args.items:06d}", f"imp{i // args.items}")
                    for i in range(args.bulk)
                ]
                for b in batch:
                    b["source"] = "import"
                t0 = time.perf_counter()
                s.append_many(batch)
                bulk[m] = time.perf_counter() - t0
    finally:
        with psycopg.connect(conninfo, autocommit=True) as c:
            for n in names.values():
                c.execute(f"DROP DATABASE IF EXISTS {n} WITH (FORCE)")
    load1 = os.getloadavg()
    print(
        f"machine: {platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}; "
        f"items {args.items}, prior labels {args.prior}, {per * args.rounds} claim+append pairs per mode"
    )
    print(f"load average (1/5/15 min) before {load0}, after {load1}")
    print("| mode | claim_next p50 | p95 | append p50 | p95 |")
    print("|---|---|---|---|---|")
    for m in ("off", "on"):
        c, a = res[m]
        print(
            f"| RLS {m} | {_pct(c, 0.5):.2f} ms | {_pct(c, 0.95):.2f} ms | {_pct(a, 0.5):.2f} ms | "
            f"{_pct(a, 0.95):.2f} ms |"
        )
    print(
        f"append_many of {args.bulk} imported labels: off (COPY) {bulk['off']:.2f} s, "
        f"on (a lead's role: INSERT + trigger) {bulk['on']:.2f} s"
    )
    ratio = statistics.median(res["on"][0]) / statistics.median(res["off"][0])
    print(
        f"claim p50 on/off: {ratio:.2f}x; append p50 on/off: "
        f"{statistics.median(res['on'][1]) / statistics.median(res['off'][1]):.2f}x"
    )


if __name__ == "__main__":
    main()
