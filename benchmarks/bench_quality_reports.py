"""Quality reports on a team-sized label table: how long each report takes (design §6, §8).

    .venv/bin/python benchmarks/bench_quality_reports.py            # print the figures
    .venv/bin/python benchmarks/bench_quality_reports.py --write    # also write results/quality_reports.md

Data: the bundled sample's 31 pairwise items copied 650 times (20,150 items; the copies get their own item
ids), labelled by 8 simulated annotators, 5 per item: 100,750 current pairwise labels (rank_widget.simulate,
seed 0). Every report runs on that DataFrame; `agreement` and `leaderboard` with 1,000 bootstrap rounds.

Second part, the bootstrap itself: item resamples of Krippendorff's alpha (interval) on 300 units x 4 raters
of 0-100 ratings (the shape of SQuALITY's human evaluation): the vectorised path used by `agreement` (1,000
rounds, and the same first 200) vs calling `metrics.krippendorff_alpha` on each of 200 resamples.

Wall-clock (time.perf_counter) and this process's CPU time (time.process_time), median of --repeat runs
(default 3). The machine is shared with other jobs, so wall-clock can exceed CPU time; the load average at
the start and end is printed and written with the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import rank_widget as rw
from rank_widget import simulate as sim
from rank_widget.quality import (
    agreement,
    agreement_matrix,
    annotator_report,
    disagreement_scores,
    intransitive_triads,
    judge_agreement,
    krippendorff_alpha,
    leaderboard,
    position_bias,
)
from rank_widget.quality.interrater import AlphaBootstrap, weight_chunks

RESULTS = Path(__file__).resolve().parent / "results" / "quality_reports.md"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def team_labels() -> tuple[pd.DataFrame, pd.DataFrame]:
    base = rw.sample_items()
    base = base[base["responses"].map(len) == 2]
    items = pd.concat([base.assign(item_id=base["item_id"] + f"~{k}") for k in range(650)], ignore_index=True)
    team = [sim.Annotator(f"a{i}", accuracy=0.8, position_bias=0.1 * (i % 3)) for i in range(8)]
    return sim.simulate(items, team, seed=0, overlap=5).labels, items


def bootstrap_comparison(rounds: int, slow_rounds: int) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 101, size=300)
    data = np.clip(truth + rng.normal(0, 15, size=(4, 300)), 0, 100).round()
    unit_item = np.arange(300) // 3  # 100 items x 3 responses, as SQuALITY
    weights = np.concatenate(list(weight_chunks(100, rounds, 0)))
    start = time.perf_counter()
    fast = AlphaBootstrap.build(data, unit_item, 100, "interval")
    assert fast is not None
    fast_values = fast.alphas(weights)
    t_fast = time.perf_counter() - start
    cols = [np.flatnonzero(unit_item == i) for i in range(100)]
    start = time.perf_counter()
    slow_values = []
    for w in weights[:slow_rounds]:
        picks = np.repeat(np.arange(100), w.astype(int))
        slow_values.append(
            krippendorff_alpha(data[:, np.concatenate([cols[i] for i in picks])], level="interval")
        )
    t_slow = time.perf_counter() - start
    max_diff = float(np.max(np.abs(np.asarray(slow_values) - fast_values[:slow_rounds])))
    return t_fast, t_slow, max_diff, float(np.mean(fast_values))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(Path.cwd())}")
    args = parser.parse_args()
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    labels, items = team_labels()
    t_sim = time.perf_counter() - t0
    n_labels, n_items = len(labels), labels["item_id"].nunique()
    print(
        f"{n_labels:,} labels on {n_items:,} items by {labels['annotator'].nunique()} annotators "
        f"(simulated in {t_sim:.1f} s)"
    )
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("agreement(bootstrap=1000)", lambda: agreement(labels, bootstrap=1000, progress=False)),
        ("agreement(bootstrap=0)", lambda: agreement(labels, bootstrap=0)),
        ("agreement_matrix", lambda: agreement_matrix(labels)),
        ("disagreement_scores", lambda: disagreement_scores(labels)),
        ("position_bias", lambda: position_bias(labels)),
        ("intransitive_triads (models)", lambda: intransitive_triads(labels, items)),
        ("annotator_report (with items)", lambda: annotator_report(labels, items)),
        ("leaderboard(bootstrap=1000)", lambda: leaderboard(labels, items, bootstrap=1000)),
        ("judge_agreement (a0 as judge)", lambda: judge_agreement(labels, judge="a0")),
    ]
    rows = []
    for name, fn in cases:
        wall, cpu = timed(fn, args.repeat)
        rows.append((name, wall, cpu))
        print(f"{name:32s} {wall:7.2f} s wall {cpu:7.2f} s CPU")
    t_fast, t_slow, max_diff, mean_alpha = bootstrap_comparison(1000, 200)
    print(
        f"alpha bootstrap, 300 units x 4 raters, 0-100: vectorised {t_fast:.3f} s for 1000 rounds; "
        f"krippendorff_alpha per resample {t_slow:.1f} s for 200 rounds "
        f"(max |diff| {max_diff:.1e}, mean alpha {mean_alpha:.3f})"
    )
    load_end = os.getloadavg()
    print(f"load average: start {load_start[0]:.1f}, end {load_end[0]:.1f}")
    if args.write:
        lines = [
            "# Quality reports: time per report on 100,750 labels",
            "",
            f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by "
            f"`benchmarks/bench_quality_reports.py` (median of {args.repeat}); "
            f"{os.cpu_count()} CPUs (`nproc`), {cpu_model()}; "
            f"load average {load_start[0]:.1f} at start, {load_end[0]:.1f} at end (shared machine).",
            "",
            f"Data: {n_labels:,} current pairwise labels on {n_items:,} items, 8 simulated annotators, "
            "5 per item.",
            "",
            "| report | wall s | CPU s |",
            "|---|---:|---:|",
            *[f"| `{name}` | {wall:.2f} | {cpu:.2f} |" for name, wall, cpu in rows],
            "",
            "Bootstrap of Krippendorff's alpha (interval), item resamples, 300 units x 4 raters, values "
            "0-100 (SQuALITY's shape), wall-clock:",
            "",
            "| path | rounds | seconds |",
            "|---|---:|---:|",
            f"| vectorised (`AlphaBootstrap`, used by `agreement`) | 1,000 | {t_fast:.3f} |",
            f"| `metrics.krippendorff_alpha` per resample | 200 | {t_slow:.1f} |",
            "",
            f"Largest difference between the two on the same 200 resamples: {max_diff:.1e}.",
            "",
        ]
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(lines))
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
