"""Team labelling throughput: 8 annotator processes claiming and labelling at once, on SQLite and PostgreSQL.

Each annotator process loops ``claim_next`` -> ``append`` (one durable transaction each) for LABELS labels;
all start together. Figures: labels per second sustained (all labels / wall time from the common start to the
last ack), claim_next p50/p95 across every claim, append p50/p95. Then one annotator on a 100,000-item pool
(register time, claim p50/p95) to show the claim cost does not grow with the pool.

Run: .venv/bin/python benchmarks/bench_team.py [--annotators 8] [--labels 300] [--skip-pg]
PostgreSQL runs when RANK_WIDGET_PG_URL (an admin URL) is set: a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rank_widget.store import open_store  # noqa: E402

_WORKER = """
import json, os, sys, time
from rank_widget.store import open_store

url, annotator, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = open_store(url, busy_timeout=60)
while not os.path.exists(go):
    time.sleep(0.002)
claims, appends = [], []
for _ in range(n):
    t0 = time.perf_counter()
    item = store.claim_next("bench", annotator, lease_seconds=600)
    t1 = time.perf_counter()
    if item is None:
        break
    store.append({"label_id": f"{annotator}:{item}", "item_id": item, "annotator": annotator,
                  "task": "pairwise", "winner": "r1", "strength": 2, "display_order": ["r1", "r2"],
                  "submitted_at": "2026-11-28T10:00:00+00:00", "source": "simulation"},
                 response_ids=["r1", "r2"])
    claims.append(t1 - t0)
    appends.append(time.perf_counter() - t1)
print(json.dumps({"claims": claims, "appends": appends, "end": time.time()}))
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@contextmanager
def pg_database(admin: str) -> Iterator[str]:
    import psycopg
    from psycopg import sql
    from sqlalchemy import make_url

    admin = admin.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"rw_bench_team_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch(pg_admin: str | None) -> Iterator[str]:
    """A fresh store target: a SQLite file in a temporary folder, or a scratch PostgreSQL database."""
    if pg_admin is not None:
        with pg_database(pg_admin) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield str(Path(tmp) / "team.sqlite")


def concurrent(url: str, annotators: int, labels: int, pool: int) -> dict[str, float]:
    with open_store(url) as store:
        store.register_items("bench", [f"item{i:06d}" for i in range(pool)], overlap=3)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryDirectory() as tmp:
        go = Path(tmp) / "go"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, url, f"ann{a}", str(labels), str(go)],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for a in range(annotators)
        ]
        time.sleep(2.0)  # let every process import and connect
        start = time.time()
        go.touch()
        results = []
        for p in procs:
            out, _ = p.communicate(timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"annotator process failed with {p.returncode}")
            results.append(json.loads(out))
    claims = [c for r in results for c in r["claims"]]
    appends = [a for r in results for a in r["appends"]]
    wall = max(r["end"] for r in results) - start
    return {
        "labels": len(claims),
        "wall_s": wall,
        "labels_per_s": len(claims) / wall,
        "claim_p50_ms": 1000 * pct(claims, 50),
        "claim_p95_ms": 1000 * pct(claims, 95),
        "append_p50_ms": 1000 * pct(appends, 50),
        "append_p95_ms": 1000 * pct(appends, 95),
    }


def large_pool(url: str, pool: int, claims: int) -> dict[str, float]:
    with open_store(url) as store:
        t0 = time.perf_counter()
        store.register_items("bench", [f"item{i:06d}" for i in range(pool)], overlap=3)
        register = time.perf_counter() - t0
        times = []
        for _ in range(claims):
            t0 = time.perf_counter()
            item = store.claim_next("bench", "solo", lease_seconds=600)
            times.append(time.perf_counter() - t0)
            assert item is not None
    return {
        "pool": pool,
        "register_s": register,
        "claim_p50_ms": 1000 * pct(times, 50),
        "claim_p95_ms": 1000 * pct(times, 95),
    }


def hook_cost(n: int) -> dict[str, float]:
    """CPU cost the team hook adds to append (``:memory:``, so no fsync hides it): labels on items in no team
    dataset (one indexed probe) vs registered, claimed items (the lease completed in the same transaction)."""
    out: dict[str, float] = {}
    for kind in ("plain", "team"):
        with open_store(":memory:") as store:
            ids = [f"item{i:06d}" for i in range(n)]
            if kind == "team":
                store.register_items("bench", ids, overlap=3)
            times = []
            for i, item in enumerate(ids):
                if kind == "team":
                    assert store.claim_next("bench", "solo") == item
                t0 = time.perf_counter()
                store.append(
                    {
                        "label_id": f"l{i}",
                        "item_id": item,
                        "annotator": "solo",
                        "task": "pairwise",
                        "winner": "r1",
                        "strength": 2,
                        "display_order": ["r1", "r2"],
                        "submitted_at": "2026-11-28T10:00:00+00:00",
                    },
                    response_ids=["r1", "r2"],
                )
                times.append(time.perf_counter() - t0)
            out[f"{kind}_p50_ms"] = 1000 * pct(times, 50)
            out[f"{kind}_p95_ms"] = 1000 * pct(times, 95)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--annotators", type=int, default=8)
    ap.add_argument("--labels", type=int, default=300)
    ap.add_argument("--pool", type=int, default=1_000)
    ap.add_argument("--large-pool", type=int, default=100_000)
    ap.add_argument("--skip-pg", action="store_true")
    args = ap.parse_args()
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f"# bench_team  {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  nproc={os.cpu_count()}  "
        f"cpu={cpu}  load={os.getloadavg()[0]:.1f}"
    )
    print(f"{args.annotators} annotator processes x {args.labels} labels, overlap 3, pool {args.pool}")
    engines: list[tuple[str, str | None]] = [("sqlite", None)]
    pg_admin = os.environ.get("RANK_WIDGET_PG_URL")
    if pg_admin and not args.skip_pg:
        engines.append(("postgresql", pg_admin))
    print(
        "| engine | labels | wall s | labels/s | claim p50 ms | claim p95 ms | append p50 ms "
        "| append p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    large: list[tuple[str, dict[str, float]]] = []
    for name, admin in engines:
        for run in ("concurrent", "large"):
            with scratch(admin) as url:
                if run == "concurrent":
                    r = concurrent(url, args.annotators, args.labels, args.pool)
                    print(
                        f"| {name} | {r['labels']:.0f} | {r['wall_s']:.2f} | {r['labels_per_s']:.0f} | "
                        f"{r['claim_p50_ms']:.2f} | {r['claim_p95_ms']:.2f} | {r['append_p50_ms']:.2f} | "
                        f"{r['append_p95_ms']:.2f} |",
                        flush=True,
                    )
                else:
                    large.append((name, large_pool(url, args.large_pool, 200)))
    print()
    print(f"One annotator, {args.large_pool:,}-item pool, 200 claims:")
    print("| engine | register s | claim p50 ms | claim p95 ms |")
    print("|---|---|---|---|")
    for name, r in large:
        print(f"| {name} | {r['register_s']:.2f} | {r['claim_p50_ms']:.2f} | {r['claim_p95_ms']:.2f} |")
    h = hook_cost(2_000)
    print()
    print("append CPU cost on :memory:, 2,000 appends: item in no team dataset vs registered + claimed item")
    print(
        f"| plain p50 {h['plain_p50_ms']:.3f} ms, p95 {h['plain_p95_ms']:.3f} ms | team p50 "
        f"{h['team_p50_ms']:.3f} ms, p95 {h['team_p95_ms']:.3f} ms |"
    )


if __name__ == "__main__":
    main()
