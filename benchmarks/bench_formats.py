"""Benchmark: simulate, import_labels, to_trl and the label files (JSONL / Parquet) at 100,000 labels.

    .venv/bin/python benchmarks/bench_formats.py            # print the figures
    .venv/bin/python benchmarks/bench_formats.py --write    # also write benchmarks/results/formats.md

Each figure is the median (min-max) wall time of --repeat runs (time.perf_counter), with the median CPU time
of the process (time.process_time) beside it: on a shared 2-core machine the wall time includes waiting for a
core, the CPU time does not. Inputs are built before the clock starts. The file rows include a floor: pandas
reading the same Parquet file (pd.read_parquet, which does not give back the canonical frame: lists come back
as numpy arrays, maps as lists of tuples).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rank_widget import simulate as sim
from rank_widget.formats import import_labels, read_labels, to_trl, write_labels

MODELS = ("atlas-7b", "borealis-70b", "cirrus-mini", "delta-chat", "echo-3b")


def make_items(n: int, k: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    picks = [rng.choice(len(MODELS), size=k, replace=False) for _ in range(n)]
    return pd.DataFrame(
        {
            "item_id": [f"item-{i}" for i in range(n)],
            "prompt": [f"Question number {i}?" for i in range(n)],
            "responses": [
                [
                    {"response_id": f"r{j}", "text": f"answer {j} of {i}", "model": MODELS[m]}
                    for j, m in enumerate(p)
                ]
                for i, p in enumerate(picks)
            ],
        }
    )


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, float, float, Any]:
    times, cpu, out = [], [], None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), max(times), statistics.median(cpu), out


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores (nproc), {model}; Python {platform.python_version()}, "
        f"pandas {pd.__version__}; {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    n, repeat = args.labels, args.repeat
    load0 = os.getloadavg()[0]  # other work on the machine shows up as wall time well above CPU time
    rows: list[tuple[str, float, float, float, float, str]] = []

    def record(name: str, fn: Callable[[], Any], note: str = "") -> Any:
        med, lo, hi, cpu, out = timed(fn, repeat)
        rows.append((name, med, lo, hi, cpu, note))
        print(f"{name:<58} median {med:7.3f} s  (min {lo:.3f}, max {hi:.3f})  cpu {cpu:.3f} s", flush=True)
        return out

    anns = [sim.Annotator("a", position_bias=0.2), sim.Annotator("b", tie_rate=0.2)]
    pair_items = make_items(n // 2, 2)
    labels = record(
        f"simulate: {n:,} pairwise labels (2 annotators)", lambda: sim.simulate_labels(pair_items, anns)
    )
    rank_items = make_items(n // 2, 4, seed=1)
    record(
        f"simulate: {n:,} ranking labels (4 responses each)",
        lambda: sim.simulate_labels(rank_items, anns, task="ranking"),
    )
    record(
        f"simulate: {n:,} pairwise labels + 2 rating criteria",
        lambda: sim.simulate_labels(pair_items, anns, criteria=("helpfulness", "accuracy")),
    )

    n_rows = n // 3
    rng = np.random.default_rng(2)
    wide = pd.DataFrame(
        {
            "idx": np.arange(n_rows),
            "response1": "x",
            "response2": "y",
            **{f"annotator{k}": rng.integers(0, 3, n_rows) for k in (1, 2, 3)},
        }
    )
    record(
        f"import_labels: wide, {n_rows:,} rows x 3 annotators",
        lambda: import_labels(
            wide,
            item_id="idx",
            annotators=["annotator1", "annotator2", "annotator3"],
            coding={0: "tie", 1: "response1", 2: "response2"},
            submitted_at="2025-01-01T00:00:00Z",
        ),
    )

    record(f"to_trl: {len(labels):,} labels, majority", lambda: to_trl(labels, pair_items))
    record(
        f"to_trl: {len(labels):,} labels, aggregate='none'",
        lambda: to_trl(labels, pair_items, aggregate="none"),
    )

    rated = sim.simulate_labels(pair_items, anns, criteria=("helpfulness", "accuracy"))
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("jsonl", "parquet"):
            path = Path(tmp) / f"labels.{ext}"
            record(
                f"write_labels: {len(rated):,} labels with ratings, .{ext}",
                lambda p=path: write_labels(rated, p),
                f"{path.stat().st_size / 1e6:.1f} MB" if path.exists() else "",
            )
            rows[-1] = (*rows[-1][:5], f"{path.stat().st_size / 1e6:.1f} MB")
            back = record(
                f"read_labels: {len(rated):,} labels with ratings, .{ext}", lambda p=path: read_labels(p)
            )
            pd.testing.assert_frame_equal(back, rated)  # the figure is for an exact round trip
        record(
            "floor: pd.read_parquet of the same file (not canonical)",
            lambda: pd.read_parquet(Path(tmp) / "labels.parquet"),
        )

    where = machine() + f"; 1-min load average at start {load0:.1f}, at end {os.getloadavg()[0]:.1f}"
    print(where)
    if args.write:
        out = Path(__file__).parent / "results" / "formats.md"
        lines = [
            "# Formats, simulation and label files",
            "",
            f"Measured with `.venv/bin/python benchmarks/bench_formats.py --write` on {where}.",
            f"Median (min-max) of {repeat} runs, wall clock. Every read is checked to equal what was written "
            "(`assert_frame_equal`). The machine is shared: wall time well above CPU time is time spent "
            "waiting for a core while other jobs ran (see the load average above); the CPU column is the "
            "steadier figure.",
            "",
            "| operation | median s | min s | max s | median CPU s | note |",
            "|---|---:|---:|---:|---:|---|",
            *[
                f"| {name} | {med:.3f} | {lo:.3f} | {hi:.3f} | {cpu:.3f} | {note} |"
                for name, med, lo, hi, cpu, note in rows
            ],
            "",
        ]
        out.write_text("\n".join(lines), encoding="utf-8")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
