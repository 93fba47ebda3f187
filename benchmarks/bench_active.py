"""Human labels needed by active sampling (``rw.next_items``) vs uniform random sampling, and judge throughput
(``rw.run_judge`` with a fake judge at concurrency 1 / 8 / 32).

    .venv/bin/python benchmarks/bench_active.py                # print the figures
    .venv/bin/python benchmarks/bench_active.py --write        # also write results/active.md

Leaderboard goal: 8 models with fixed true Bradley-Terry strengths (log-odds -1.4 .. 1.4, evenly spaced), a
pool of 4,000 pairwise items whose model pairs follow a skewed, arena-like popularity (pair weight ~ 1/rank,
shuffled per seed) and, as a second scenario, a balanced pool (every pair equally common). A simulated person
labels an item the way the BT model says (P(a beats b) = 1 / (1 + exp(s_b - s_a)), no ties). Batches of 20
labels; after each batch the BT fit (``quality.bradley_terry``, Fisher standard errors) is checked: the run
stops when every model's 95 % CI is at most ``--width`` wide (log-strength units; 0.8 = about +-70 Elo).
Sampler "uniform": 20 unlabelled items uniformly at random; "active": ``rw.next_items(goal="leaderboard",
k=20)`` on the labels so far. Coverage: at the stop, the share of models whose CI holds the true (centred)
strength.

Judge goal: 3,000 items from 6 models, a ``simulate.SimulatedJudge`` (accuracy 0.85, position bias 0.3,
3 % unparsable) run in both orders; the person is right with probability 0.9 (drawn once per item, so the
judge's true accuracy against people over the whole pool is a fixed number). Batches of 20; the estimate of
the judge's accuracy against people (its both-order verdict = the person's) is the plain mean (uniform) or the
stratified mean (``active.stratified_mean``: strata = what the judges said, all agree / disagree / unparsed,
known for every item), for uniform draws ("uniform+strata", the fair comparison) and for
``rw.next_items(goal="judge")`` draws ("active"), with a normal 95 % CI; the run stops when the CI is at most
``--judge-width`` wide. Coverage: the share of seeds whose CI at the stop holds the pool's true accuracy.

Savings = 1 - mean labels (active) / mean labels (uniform), with a 95 % bootstrap CI over seeds (paired by
seed).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import rank_widget as rw
from rank_widget.active import judge_patterns, stratified_mean
from rank_widget.quality.metrics import bradley_terry
from rank_widget.schema import coerce_labels, empty_labels
from rank_widget.simulate import SimulatedJudge

BATCH = 20
MODELS = [f"m{i}" for i in range(8)]
TRUE_S = np.linspace(-1.4, 1.4, len(MODELS))


def make_pool(n: int, rng: np.random.Generator, skewed: bool, models: list[str]) -> pd.DataFrame:
    pairs = [(a, b) for i, a in enumerate(models) for b in models[i + 1 :]]
    weights = 1.0 / np.arange(1, len(pairs) + 1) if skewed else np.ones(len(pairs))
    order = rng.permutation(len(pairs))
    w = np.empty(len(pairs))
    w[order] = weights
    picks = rng.choice(len(pairs), size=n, p=w / w.sum())
    rows = []
    for i, p in enumerate(picks):
        a, b = pairs[p] if rng.random() < 0.5 else pairs[p][::-1]
        rows.append(
            {
                "item_id": f"q{i:05d}",
                "prompt": f"question {i}",
                "responses": [
                    {"response_id": "r1", "text": f"answer of {a}", "model": a},
                    {"response_id": "r2", "text": f"answer of {b}", "model": b},
                ],
            }
        )
    return pd.DataFrame(rows)


def label_rows(item_ids: list[str], winners: list[str], who: str = "person") -> list[dict[str, Any]]:
    now = pd.Timestamp("2026-01-05T09:00:00Z")
    return [
        {
            "label_id": f"{who}-{iid}",
            "item_id": iid,
            "annotator": who,
            "task": "pairwise",
            "status": "submitted",
            "ranking": [[w], ["r2" if w == "r1" else "r1"]],
            "winner": w,
            "strength": None,
            "ratings": None,
            "rationale": "",
            "flags": [],
            "flag_note": "",
            "display_order": ["r1", "r2"],
            "guideline_version": None,
            "started_at": None,
            "submitted_at": now,
            "active_ms": None,
            "revision": 1,
            "supersedes": None,
            "source": "widget",
        }
        for iid, w in zip(item_ids, winners, strict=True)
    ]


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return coerce_labels(pd.DataFrame.from_records(rows)) if rows else empty_labels()


# -- leaderboard ---------------------------------------------------------------------------------------------


def leaderboard_run(pool: pd.DataFrame, sampler: str, seed: int, width: float, cap: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 1000)
    strength = dict(zip(MODELS, TRUE_S, strict=True))
    models = {
        iid: (r[0]["model"], r[1]["model"]) for iid, r in zip(pool["item_id"], pool["responses"], strict=True)
    }
    # the person's verdict on each item, drawn once (so both samplers face the same people)
    verdict = {
        iid: ("r1" if rng.random() < 1 / (1 + math.exp(strength[b] - strength[a])) else "r2")
        for iid, (a, b) in models.items()
    }
    rows: list[dict[str, Any]] = []
    labelled: set[str] = set()
    ids = list(pool["item_id"])
    pick_rng = np.random.default_rng(seed + 2000)
    while len(rows) < cap:
        if sampler == "uniform":
            left = [i for i in ids if i not in labelled]
            batch = list(pick_rng.choice(left, size=BATCH, replace=False))
        else:
            batch = list(rw.next_items(frame(rows), pool, k=BATCH, seed=seed + len(rows)))
        rows += label_rows(batch, [verdict[i] for i in batch])
        labelled |= set(batch)
        comp = pd.DataFrame(
            [
                (models[r["item_id"]][0], models[r["item_id"]][1])
                if r["winner"] == "r1"
                else (models[r["item_id"]][1], models[r["item_id"]][0])
                for r in rows
            ],
            columns=["winner", "loser"],
        )
        try:
            bt = bradley_terry(comp)
        except ValueError:  # not identifiable yet (a model never lost or never won)
            continue
        if len(bt) < len(MODELS):
            continue
        ci = 2 * 1.96 * bt["se"]
        if ci.max() <= width:
            true = pd.Series(TRUE_S - TRUE_S.mean(), index=MODELS).reindex(bt.index)
            covered = (
                (bt["strength"] - 1.96 * bt["se"] <= true) & (true <= bt["strength"] + 1.96 * bt["se"])
            ).mean()
            return {"labels": len(rows), "coverage": float(covered), "reached": True}
    return {"labels": len(rows), "coverage": math.nan, "reached": False}


# -- judge ---------------------------------------------------------------------------------------------------


def judge_world(seed: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], dict[str, bool]]:
    rng = np.random.default_rng(seed)
    models = [f"j{i}" for i in range(6)]
    pool = make_pool(n, rng, skewed=False, models=models)
    skill = dict(zip(models, rng.normal(0, 1, len(models)), strict=True))
    truth = pd.DataFrame(
        [
            (iid, r["response_id"], skill[r["model"]] + rng.normal(0, 0.5))
            for iid, resp in zip(pool["item_id"], pool["responses"], strict=True)
            for r in resp
        ],
        columns=["item_id", "response_id", "quality"],
    )
    q = truth.set_index(["item_id", "response_id"])["quality"]
    human = {}
    for iid in pool["item_id"]:
        better = "r1" if q[(iid, "r1")] > q[(iid, "r2")] else "r2"
        human[iid] = better if rng.random() < 0.9 else ("r2" if better == "r1" else "r1")
    judge = SimulatedJudge(truth, accuracy=0.85, position_bias=0.3, unparsable_rate=0.03, seed=seed)
    run = rw.run_judge(pool, judge, name="sim-judge", concurrency=32, progress=False)
    pat = judge_patterns(run.labels).set_index("item_id")
    correct = {}
    for iid in pool["item_id"]:
        jv = pat["judge_verdict"].get(iid)
        hv = "a" if human[iid] == "r1" else "b"  # pair-relative: a = r1 (the lower id)
        correct[iid] = jv == hv
    return pool, run.labels, human, correct


def judge_run(
    world: tuple[pd.DataFrame, pd.DataFrame, dict[str, str], dict[str, bool]],
    sampler: str,
    seed: int,
    width: float,
    cap: int,
) -> dict[str, Any]:
    """Labels until the CI of the judge's accuracy is narrow enough. Samplers: "uniform" (plain mean),
    "uniform+strata" (uniform draws, the stratified estimate: the fair comparison), "active" (next_items
    goal="judge", the stratified estimate)."""
    pool, judge_labels, human, correct = world
    truth = float(np.mean(list(correct.values())))
    pattern = judge_patterns(judge_labels).set_index("item_id")["pattern"]
    population = [pattern.get(i, "none") for i in pool["item_id"]]
    ids = list(pool["item_id"])
    rng = np.random.default_rng(seed + 3000)
    rows: list[dict[str, Any]] = []
    done: list[str] = []
    while len(rows) < cap:
        if sampler.startswith("uniform"):
            left = [i for i in ids if i not in set(done)]
            batch = list(rng.choice(left, size=BATCH, replace=False))
        else:
            labels = pd.concat([judge_labels, frame(rows)], ignore_index=True) if rows else judge_labels
            batch = list(rw.next_items(labels, pool, goal="judge", k=BATCH, seed=seed + len(rows)))
        rows += label_rows(batch, [human[i] for i in batch])
        done += batch
        y = np.array([correct[i] for i in done], dtype=float)
        if sampler == "uniform":
            est, se = y.mean(), y.std(ddof=1) / math.sqrt(len(y))
        else:
            est, se = stratified_mean(y, [pattern.get(i, "none") for i in done], population)
        if len(y) >= 40 and not math.isnan(se) and 2 * 1.96 * se <= width:
            covered = est - 1.96 * se <= truth <= est + 1.96 * se
            return {"labels": len(rows), "coverage": float(covered), "reached": True, "truth": truth}
    return {"labels": len(rows), "coverage": math.nan, "reached": False, "truth": truth}


# -- throughput ----------------------------------------------------------------------------------------------


def throughput(n_items: int, latency: float) -> list[tuple[int, float, float]]:
    pool = make_pool(n_items, np.random.default_rng(0), skewed=False, models=MODELS)

    async def judge(prompt: Any, responses: list[str]) -> str:
        import asyncio

        await asyncio.sleep(latency)
        return "[[A]]"

    out = []
    for c in (1, 8, 32):
        t0 = time.perf_counter()
        run = rw.run_judge(pool, judge, name=f"fake-{c}", concurrency=c, progress=False)
        dt = time.perf_counter() - t0
        out.append((c, run.summary["asked"] / dt, dt))
    return out


def savings(uniform: list[int], active: list[int], seed: int = 0) -> tuple[float, float, float]:
    u, a = np.array(uniform, dtype=float), np.array(active, dtype=float)
    point = 1 - a.mean() / u.mean()
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(2000):
        idx = rng.integers(0, len(u), len(u))
        boots.append(1 - a[idx].mean() / u[idx].mean())
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return float(point), float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--width", type=float, default=0.8)
    ap.add_argument("--judge-width", type=float, default=0.1)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--only", choices=("all", "leaderboard", "judge"), default="all")
    args = ap.parse_args()
    lines = [
        "# Active sampling vs uniform, and judge throughput\n",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} cores), "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f} at start. "
        f"`python benchmarks/bench_active.py --seeds {args.seeds} --width {args.width} "
        f"--judge-width {args.judge_width}`\n",
    ]
    t_start = time.perf_counter()
    scenarios = (("skewed pool (arena-like pair popularity)", True), ("balanced pool", False))
    for name, skewed in scenarios if args.only in ("all", "leaderboard") else ():
        res: dict[str, list[dict[str, Any]]] = {"uniform": [], "active": []}
        for seed in range(args.seeds):
            pool = make_pool(4000, np.random.default_rng(seed), skewed, MODELS)
            for sampler in res:
                res[sampler].append(leaderboard_run(pool, sampler, seed, args.width, cap=3000))
        lines.append(f"\n## Leaderboard goal, {name}: labels until every model's 95 % CI <= {args.width}\n")
        lines.append("| sampler | mean labels | min | max | reached | CI coverage of true strengths |")
        lines.append("|---|---|---|---|---|---|")
        for sampler, rs in res.items():
            n = [r["labels"] for r in rs]
            cov = np.nanmean([r["coverage"] for r in rs])
            lines.append(
                f"| {sampler} | {np.mean(n):.0f} | {min(n)} | {max(n)} | "
                f"{sum(r['reached'] for r in rs)}/{len(rs)} "
                f"| {cov:.3f} |"
            )
        p, lo, hi = savings([r["labels"] for r in res["uniform"]], [r["labels"] for r in res["active"]])
        lines.append(
            f"\nSavings of active over uniform: **{p:.1%}** "
            f"(95 % bootstrap CI over seeds {lo:.1%} .. {hi:.1%}).\n"
        )
        print("\n".join(lines[-6:]), flush=True)
    res = {"uniform": [], "uniform+strata": [], "active": []}
    for seed in range(args.seeds if args.only in ("all", "judge") else 0):
        world = judge_world(seed, 3000)
        for sampler in res:
            res[sampler].append(judge_run(world, sampler, seed, args.judge_width, cap=3000))
    lines.append(
        f"\n## Judge goal: labels until the 95 % CI of the judge's accuracy is <= {args.judge_width} wide\n"
    )
    lines.append("| sampler | mean labels | min | max | reached | CI coverage of the pool's true accuracy |")
    lines.append("|---|---|---|---|---|---|")
    for sampler, rs in res.items():
        n = [r["labels"] for r in rs]
        cov = np.nanmean([r["coverage"] for r in rs])
        lines.append(
            f"| {sampler} | {np.mean(n):.0f} | {min(n)} | {max(n)} | "
            f"{sum(r['reached'] for r in rs)}/{len(rs)} | {cov:.2f} |"
        )
    truths = [r["truth"] for r in res["uniform"]]
    p, lo, hi = savings([r["labels"] for r in res["uniform"]], [r["labels"] for r in res["active"]])
    p2, lo2, hi2 = savings([r["labels"] for r in res["uniform+strata"]], [r["labels"] for r in res["active"]])
    lines.append(
        f"\nAgainst uniform sampling with the same stratified estimate: {p2:.1%} ({lo2:.1%} .. {hi2:.1%})."
    )
    lines.append(
        f"\nTrue accuracy of the judge against people in the pools: {np.mean(truths):.3f} (mean over seeds). "
        f"Savings of active over uniform: **{p:.1%}** (95 % bootstrap CI over seeds {lo:.1%} .. {hi:.1%}).\n"
    )
    print("\n".join(lines[-6:]), flush=True)
    lines.append("\n## run_judge throughput: 500 items x 2 orders, async fake judge with 20 ms latency\n")
    lines.append("| concurrency | calls/s | seconds |")
    lines.append("|---|---|---|")
    for c, rate, dt in throughput(500, 0.02):
        lines.append(f"| {c} | {rate:.0f} | {dt:.2f} |")
    lines.append(
        f"\nTotal benchmark time {time.perf_counter() - t_start:.0f} s; "
        f"load {os.getloadavg()[0]:.1f} at the end."
    )
    text = "\n".join(lines) + "\n"
    print("\n".join(lines[-6:]))
    if args.write:
        Path(__file__).with_name("results").joinpath("active.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
