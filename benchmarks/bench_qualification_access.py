"""Qualification under PostgreSQL access control (docs/qualification.md, "Under access control"): the cost of
reading an item's answer after its label (``rw_qualification_answers``, once per training step) and of
finishing an attempt in the database (``rw_finish_qualification``) against the Python scoring path.

    RANK_WIDGET_PG_URL=postgresql://... python benchmarks/bench_qualification_access.py
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402
from sqlalchemy import make_url  # noqa: E402

import factories  # noqa: E402
from rank_widget import qualification as Q  # noqa: E402
from rank_widget import team  # noqa: E402
from rank_widget.store import open_store  # noqa: E402
from rank_widget.store import qualification as stored  # noqa: E402

N_ITEMS = 20
ATTEMPTS = 10


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def _attempt(store: object, who: str, rep: int, timings: list[float] | None) -> float:
    att = Q.start_attempt(store, "q", who)  # type: ignore[arg-type]
    for i in range(N_ITEMS):
        store.append(  # type: ignore[attr-defined]
            factories.label(
                f"{who}-{rep}-{i}",
                f"q{i:03d}",
                who,
                status="submitted",
                winner="r1",
                strength=2,
                display_order=["r1", "r2"],
                submitted_at="2026-12-02T10:00:00+00:00",
            ),
            response_ids=["r1", "r2"],
        )
        if timings is not None:
            t = time.perf_counter()
            stored.answers(store, "q", att["version"])  # type: ignore[arg-type]
            timings.append(time.perf_counter() - t)
    t = time.perf_counter()
    assert Q.finish_attempt(store, att["attempt_id"]).passed  # type: ignore[arg-type]
    return time.perf_counter() - t


def main() -> None:
    admin = os.environ["RANK_WIDGET_PG_URL"]
    db = "rw_bench_qsec_" + uuid.uuid4().hex[:8]
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {db}")
    url = make_url(admin).set(database=db).render_as_string(hide_password=False)
    try:
        team.setup(
            url, annotators=["alice"], leads=["lead"], passwords={"alice": "a", "lead": "l"}, echo=False
        )
        as_ = {
            p: make_url(url).set(username=p, password=p[0]).render_as_string(hide_password=False)
            for p in ("alice", "lead")
        }
        with open_store(as_["lead"]) as lead:
            lead.register_qualification(
                "q", factories.make_items(N_ITEMS, prefix="q", gold=lambda i: "r1"), max_attempts=1000
            )
        answers: list[float] = []
        in_db: list[float] = []
        in_py: list[float] = []
        for rep in range(ATTEMPTS):
            with open_store(as_["alice"]) as a:
                in_db.append(_attempt(a, "alice", rep, answers))
            with open_store(url) as owner:  # the tables' owner: the Python scoring path
                in_py.append(_attempt(owner, "zed", rep, None))
                owner.reset_qualification("q", "alice", reason="bench", by="lead")
                owner.reset_qualification("q", "zed", reason="bench", by="lead")
        print(
            f"answers after a label ({len(answers)} calls): "
            f"p50 {_pct(answers, 0.5):.2f} ms, p95 {_pct(answers, 0.95):.2f} ms"
        )
        print(
            f"finish in the database ({N_ITEMS} items, {ATTEMPTS} attempts): "
            f"p50 {_pct(in_db, 0.5):.1f} ms, p95 {_pct(in_db, 0.95):.1f} ms"
        )
        print(f"finish in Python (owner): p50 {_pct(in_py, 0.5):.1f} ms, p95 {_pct(in_py, 0.95):.1f} ms")
        print(f"(load {os.getloadavg()[0]:.1f})")
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"DROP DATABASE {db} WITH (FORCE)")


if __name__ == "__main__":
    main()
