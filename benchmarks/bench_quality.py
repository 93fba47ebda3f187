"""Quality metric primitives vs their peers, side by side in one run (design §8).

    .venv/bin/python benchmarks/bench_quality.py            # print the figures
    .venv/bin/python benchmarks/bench_quality.py --write    # also write benchmarks/results/quality.md

1. Krippendorff's alpha, 100,000 units x 10 raters, 20% missing, values 1..5: ours vs the `krippendorff`
   package called directly (nominal and ordinal).
2. Bradley-Terry, 1,000,000 comparisons among 50 models with known strengths: ours vs choix.ilsr_pairwise,
   choix.opt_pairwise (in a child process, abandoned after 60 s), and scikit-learn LogisticRegression (the
   Chatbot Arena method: +1/-1 design, no intercept, no penalty) on the 1M rows and on aggregated weights.
3. Bootstrap: 100 and 1,000 rounds of ours on the same 1M comparisons.

Timings are wall-clock (time.perf_counter); "median of N" where repeated. Peer inputs are converted to the
form each peer needs before its clock starts (integer ids for choix; the design matrix for scikit-learn);
ours starts from the DataFrame of model names.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import choix
import krippendorff
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression

from rank_widget.quality.metrics import bradley_terry, bradley_terry_bootstrap, krippendorff_alpha

RESULTS = Path(__file__).parent / "results" / "quality.md"
OPT_PAIRWISE_TIMEOUT_S = 60.0


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median wall time over `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def machine() -> dict[str, str]:
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        **{name: metadata.version(name) for name in ("numpy", "pandas", "scipy", "krippendorff", "choix")},
        "scikit-learn": metadata.version("scikit-learn"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "load average at start": Path("/proc/loadavg").read_text().split()[0],
    }


# ------------------------------------------------------------------------------------------------------------


def bench_krippendorff(lines: list[str]) -> dict[str, tuple[float, float]]:
    rng = np.random.default_rng(0)
    raters, units = 10, 100_000
    truth = rng.integers(1, 6, units)
    data = np.clip(truth[None, :] + rng.integers(-1, 2, (raters, units)), 1, 5).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    repeat = 15
    medians: dict[str, tuple[float, float]] = {}
    lines += [
        "## Krippendorff's alpha: 100,000 units x 10 raters, 20% missing, values 1..5",
        "",
        f"Ours and the package alternate call by call ({repeat} calls each), so both see the same machine "
        "load; median and fastest call.",
        "",
        "| level | ours median (s) | ours min (s) | `krippendorff.alpha` median (s) | package min (s) "
        "| ours alpha | package alpha |",
        "|---|---|---|---|---|---|---|",
    ]
    for level in ("nominal", "ordinal"):
        ours_t, pkg_t = [], []
        a_ours = a_pkg = float("nan")
        for _ in range(repeat):
            t, a_ours = timed(lambda lv=level: krippendorff_alpha(data, level=lv))
            ours_t.append(t)
            t, a_pkg = timed(lambda lv=level: krippendorff.alpha(data, level_of_measurement=lv))
            pkg_t.append(t)
        assert abs(a_ours - a_pkg) < 1e-12, (level, a_ours, a_pkg)
        med_o, med_p = statistics.median(ours_t), statistics.median(pkg_t)
        medians[level] = (med_o, med_p)
        lines.append(
            f"| {level} | {med_o:.3f} | {min(ours_t):.3f} | {med_p:.3f} | {min(pkg_t):.3f} "
            f"| {a_ours:.6f} | {a_pkg:.6f} |"
        )
        print(
            f"alpha {level}: ours median {med_o:.3f}s min {min(ours_t):.3f}s; package median {med_p:.3f}s "
            f"min {min(pkg_t):.3f}s; alpha {a_ours:.6f} / {a_pkg:.6f}"
        )
    lines.append("")
    return medians


# ------------------------------------------------------------------------------------------------------------


def make_comparisons(
    n: int, k: int, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """n comparisons among k models: uniform random pairs, outcome drawn from Bradley-Terry with known
    strengths (standard normal). Returns the DataFrame (model names), a/b/a_won integer arrays."""
    rng = np.random.default_rng(seed)
    true = rng.normal(size=k)
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    a_won = rng.random(n) < 1.0 / (1.0 + np.exp(true[b] - true[a]))
    names = np.array([f"model-{i:02d}" for i in range(k)], dtype=object)
    winner, loser = np.where(a_won, a, b), np.where(a_won, b, a)
    df = pd.DataFrame({"winner": names[winner], "loser": names[loser]})
    return df, true, np.stack([winner, loser], axis=1), np.stack([a, b, a_won], axis=1)


def _opt_pairwise_child(k: int, pairs: np.ndarray, out: Any) -> None:
    t0 = time.perf_counter()
    params = choix.opt_pairwise(k, pairs, alpha=0.0)
    out.put((time.perf_counter() - t0, params))


def centred(x: np.ndarray) -> np.ndarray:
    return x - x.mean()


def agreement(ref: np.ndarray, other: np.ndarray) -> str:
    r, o = centred(ref), centred(other)
    pearson = float(np.corrcoef(r, o)[0, 1])
    spearman = float(stats.spearmanr(r, o).statistic)
    return f"{np.max(np.abs(r - o)):.2e} | {pearson:.6f} | {spearman:.6f}"


def fit_lr_rows(a: np.ndarray, b: np.ndarray, a_won: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """The Chatbot Arena fit: one row per comparison, +1 for model_a, -1 for model_b, y = model_a won."""
    x = np.zeros((len(a), k))
    x[np.arange(len(a)), a] = 1.0
    x[np.arange(len(a)), b] = -1.0
    lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-6, max_iter=1000)
    t, fitted = timed(lambda: lr.fit(x, a_won))
    return t, fitted.coef_[0].copy()


def bench_bradley_terry(lines: list[str], skip_opt: bool) -> tuple[pd.DataFrame, float]:
    n, k = 1_000_000, 50
    df, true, pairs, ab = make_comparisons(n, k)
    rows: list[tuple[str, float, np.ndarray | None, str]] = []

    t_ours, bt = timed(lambda: bradley_terry(df), repeat=5)
    ours = bt.sort_index()["strength"].to_numpy()  # names sort as model-00 .. model-49 = integer ids
    rows.append(("ours `bradley_terry` (from the names DataFrame)", t_ours, ours, "median of 5"))
    print(f"bt ours: {t_ours:.3f}s")

    t_ilsr, ilsr = timed(lambda: choix.ilsr_pairwise(k, pairs, alpha=0.0, tol=1e-10, max_iter=1000))
    rows.append(("choix `ilsr_pairwise` (tol 1e-10)", t_ilsr, ilsr, "1 run"))
    print(f"bt choix ilsr_pairwise: {t_ilsr:.3f}s")

    if skip_opt:
        rows.append(("choix `opt_pairwise`", float("nan"), None, "skipped (--skip-opt)"))
    else:
        ctx = mp.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_opt_pairwise_child, args=(k, pairs, queue))
        t0 = time.perf_counter()
        child.start()
        child.join(OPT_PAIRWISE_TIMEOUT_S)
        if child.is_alive():
            child.terminate()
            child.join()
            waited = time.perf_counter() - t0
            rows.append(
                (
                    "choix `opt_pairwise`",
                    float("nan"),
                    None,
                    f"skipped: not finished after {waited:.0f} s (limit {OPT_PAIRWISE_TIMEOUT_S:.0f} s)",
                )
            )
            print(f"bt choix opt_pairwise: killed after {waited:.1f}s")
        else:
            t_opt, opt = queue.get()
            rows.append(("choix `opt_pairwise`", t_opt, opt, "1 run, child process"))
            print(f"bt choix opt_pairwise: {t_opt:.3f}s")

    a, b, a_won = ab[:, 0], ab[:, 1], ab[:, 2].astype(bool)
    t_lr, coef = fit_lr_rows(a, b, a_won, k)
    rows.append(("scikit-learn LogisticRegression, 1M rows (Arena)", t_lr, coef, "1 run"))
    print(f"bt sklearn LR rows: {t_lr:.3f}s")

    def aggregated_lr() -> np.ndarray:
        cell = (a * k + b) * 2 + a_won
        counts = np.bincount(cell, minlength=k * k * 2)
        nz = np.flatnonzero(counts)
        ca, cb, cy = nz // 2 // k, nz // 2 % k, nz % 2
        xa = np.zeros((len(nz), k))
        xa[np.arange(len(nz)), ca] = 1.0
        xa[np.arange(len(nz)), cb] = -1.0
        model = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-10, max_iter=10_000)
        return model.fit(xa, cy, sample_weight=counts[nz]).coef_[0].copy()

    t_lra, lra = timed(aggregated_lr, repeat=3)
    note = "median of 3, incl. aggregation"
    rows.append(("scikit-learn LogisticRegression, aggregated weights", t_lra, lra, note))
    print(f"bt sklearn LR aggregated: {t_lra:.3f}s")

    lines += [
        "## Bradley-Terry: 1,000,000 comparisons among 50 models",
        "",
        "Synthetic: pairs uniform at random, outcomes drawn from Bradley-Terry with standard-normal "
        "strengths. "
        "Agreement columns compare each method's centred log-strengths with ours.",
        "",
        "| method | time (s) | runs | max abs diff vs ours | Pearson | Spearman |",
        "|---|---|---|---|---|---|",
    ]
    for name, t, params, note in rows:
        if params is None:
            lines.append(f"| {name} | - | {note} | - | - | - |")
        else:
            lines.append(f"| {name} | {t:.3f} | {note} | {agreement(ours, params)} |")
    se_max = float(bt["se"].max())
    err = float(np.max(np.abs(centred(ours) - centred(true))))
    lines += [
        "",
        f"Ours vs the true (generating) strengths: max abs error {err:.4f}, largest reported se "
        f"{se_max:.4f}.",
        "",
    ]
    return df, t_ours


def bench_bootstrap(lines: list[str], df: pd.DataFrame) -> dict[int, float]:
    lines += [
        "## Bradley-Terry bootstrap on the same 1,000,000 comparisons (ours)",
        "",
        "| rounds | time (s) | widest 95% interval (log-strength) |",
        "|---|---|---|",
    ]
    times: dict[int, float] = {}
    for rounds in (100, 1000):
        t, boot = timed(lambda r=rounds: bradley_terry_bootstrap(df, rounds=r, seed=0))
        width = float((boot["upper"] - boot["lower"]).max())
        lines.append(f"| {rounds} | {t:.3f} | {width:.4f} |")
        times[rounds] = t
        print(f"bootstrap {rounds} rounds: {t:.3f}s (widest interval {width:.4f})")
    lines.append("")
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS}")
    parser.add_argument("--skip-opt", action="store_true", help="do not try choix.opt_pairwise")
    args = parser.parse_args(argv)

    info = machine()
    print(", ".join(f"{k}={v}" for k, v in info.items()))
    lines = [
        "# Quality metric primitives: measured results",
        "",
        "Produced by `.venv/bin/python benchmarks/bench_quality.py --write` (one run, all rows side by "
        "side).",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
    ]
    alpha = bench_krippendorff(lines)
    df, t_bt = bench_bradley_terry(lines, args.skip_opt)
    boot = bench_bootstrap(lines, df)
    lines += [
        "## Against the design budgets (§8), this run",
        "",
        "| budget | measured | met |",
        "|---|---|---|",
        *(
            f"| alpha {lv}: as fast as the package | ours {o:.3f} s vs package {p:.3f} s (medians) "
            f"| {'yes' if o <= p else 'no'} |"
            for lv, (o, p) in alpha.items()
        ),
        f"| Bradley-Terry, 1M comparisons, 50 models: <= 0.3 s | {t_bt:.3f} s "
        f"| {'yes' if t_bt <= 0.3 else 'no'} |",
        f"| bootstrap, 1,000 rounds on 1M: <= 30 s | {boot[1000]:.3f} s "
        f"| {'yes' if boot[1000] <= 30 else 'no'} |",
        "",
    ]
    load_end = Path("/proc/loadavg").read_text().split()[0]
    lines += [
        f"1-minute load average at the end: {load_end}. A load above the core count means other processes "
        "competed for the CPU and absolute times are noisy; the rows of one table ran back to back.",
        "",
    ]
    text = "\n".join(lines)
    print()
    print(text)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)
        print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
