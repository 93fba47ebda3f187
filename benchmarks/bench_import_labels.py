"""Benchmark: import_labels on 100,000 labels, this checkout vs main, side by side on this machine.

    .venv/bin/python benchmarks/bench_import_labels.py            # print the figures
    .venv/bin/python benchmarks/bench_import_labels.py --write    # also write results/import_labels.md

The old code runs from a `git worktree` of ``--base`` (default ``main``) checked out at a temporary path, in
a child process with that checkout's ``src`` first on ``sys.path``; the new code runs the same way from this
checkout's ``src``. Both get the same inputs (built before the clock starts, seeded) and the same number of
runs; each figure is the median (min-max) wall time with the median process CPU time beside it (on a shared
2-core machine wall time includes waiting for a core). The worktree is removed afterwards.

Cases (100,000 labels each):
- wide: 33,334 rows x 3 annotator columns coded 0/1/2 (the PandaLM shape), times from one fixed string;
- long: 100,000 rows, one judgement each (item, worker, verdict "response1"/"response2"/"tie",
  a per-row ISO time column, a rationale column), 5,000 items x 20 workers;
- judge: 100,000 rows of one judge's string codes "1"/"2"/"Tie" with 2% unparseable ("garbage"),
  unknown="skip" (the LLM-judge file shape).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, statistics, sys, time, warnings
import numpy as np, pandas as pd
from rank_widget.formats import import_labels
repeat = int(sys.argv[1])
rng = np.random.default_rng(0)
CODING = {0: "tie", 1: "response1", 2: "response2"}
n = 100_000
rows = n // 3 + 1
wide = pd.DataFrame(
    {"idx": np.arange(rows), **{f"annotator{k}": rng.integers(0, 3, rows) for k in (1, 2, 3)}}
)
wide = wide.iloc[:, :]  # 100,002 labels
items = 5_000
long = pd.DataFrame({
    "item": [f"item-{i % items}" for i in range(n)],
    "worker": [f"w{i // items}" for i in range(n)],
    "verdict": rng.choice(["response1", "response2", "tie"], n),
    "when": pd.date_range("2025-01-01", periods=n, freq="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
    "why": rng.choice(["clearer", "more complete", ""], n),
})
codes = rng.choice(["1", "2", "Tie"], n).astype(object)
codes[rng.random(n) < 0.02] = "garbage"
judge = pd.DataFrame({"idx": np.arange(n), "gpt": codes})
cases = {
    "wide": lambda: import_labels(wide, item_id="idx", annotators=["annotator1", "annotator2", "annotator3"],
                                  coding=CODING, submitted_at="2025-01-01T00:00:00Z"),
    "long": lambda: import_labels(long, item_id="item", annotator="worker", label="verdict",
                                  responses=["response1", "response2"], submitted_at="when", rationale="why"),
    "judge": lambda: import_labels(judge, item_id="idx", annotators={"gpt": "gpt-3.5"}, coding=CODING,
                                   unknown="skip", submitted_at="2025-01-01T00:00:00Z"),
}
out = {}
for name, fn in cases.items():
    wall, cpu = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out[name] = {"median": statistics.median(wall), "min": min(wall), "max": max(wall),
                 "cpu": statistics.median(cpu), "labels": len(labels),
                 "submitted": int((labels["status"] == "submitted").sum())}
print(json.dumps(out))
"""


def run(src: Path, repeat: int) -> dict[str, dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(repeat)], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, 1-min load {load:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="main", help="the git ref to compare with (default main)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base_dir), args.base],
            check=True,
            capture_output=True,
        )
        try:
            before = run(base_dir / "src", args.repeat)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_dir)],
                check=True,
                capture_output=True,
            )
    after = run(ROOT / "src", args.repeat)
    lines = [
        f"# import_labels: {args.base} vs this branch ({datetime.date.today()})",
        "",
        f"Machine: {machine()}. Median (min-max) wall time of {args.repeat} runs, median CPU time.",
        "",
        f"| case | labels | {args.base} | this branch | speed-up |",
        "|---|---|---|---|---|",
    ]
    for name in after:
        b, a = before[name], after[name]
        lines.append(
            f"| {name} | {int(a['labels']):,} ({int(a['submitted']):,} submitted) "
            f"| {b['median']:.2f} s ({b['min']:.2f}-{b['max']:.2f}), CPU {b['cpu']:.2f} s "
            f"| {a['median']:.2f} s ({a['min']:.2f}-{a['max']:.2f}), CPU {a['cpu']:.2f} s "
            f"| {b['median'] / a['median']:.1f}x |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        out = ROOT / "benchmarks" / "results" / "import_labels.md"
        previous = out.read_text() if out.exists() else ""
        out.write_text(text + ("\n" + previous if previous else ""))


if __name__ == "__main__":
    main()
