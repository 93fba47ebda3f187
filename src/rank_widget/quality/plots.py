"""Static matplotlib plots of the quality reports.

Each function takes a report's DataFrame (or Leaderboard) and returns a ``matplotlib.figure.Figure`` built
without pyplot, so nothing is drawn twice in a notebook and no global state changes; Jupyter shows a returned
Figure as a PNG (``ReportFigure._repr_png_``: no ``%matplotlib inline`` needed). No JavaScript, no network:
the plots survive exported HTML. Colours come from the active matplotlib style (no hard-coded white
backgrounds), so a dark style (``plt.style.use("dark_background")``) applies.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

if TYPE_CHECKING:
    from rank_widget.quality.models import Leaderboard


class ReportFigure(Figure):
    """A Figure that shows itself as a PNG in Jupyter even when pyplot (and so the inline backend, which
    registers the usual display hook) was never imported. With pyplot imported, IPython's Figure hook wins
    and the result is the same single PNG."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def _figure(width: float, height: float) -> Figure:
    return ReportFigure(figsize=(width, height), layout="constrained")


def agreement_heatmap(
    matrix: pd.DataFrame, *, title: str | None = None, annotate: bool | None = None
) -> Figure:
    """Annotator x annotator agreement (the output of ``agreement_matrix``); NaN cells (too few shared units)
    are left blank. Values are written in the cells when there are at most 15 annotators."""
    n = len(matrix)
    fig = _figure(1.6 + 0.45 * max(n, 4), 1.2 + 0.4 * max(n, 4))
    ax = fig.add_subplot()
    values = matrix.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    metric = str(matrix.attrs.get("metric", "cohen"))
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    image = ax.imshow(np.ma.masked_invalid(values), vmin=low, vmax=1.0, cmap="viridis")
    ax.set_xticks(range(n), [str(c) for c in matrix.columns], rotation=60, ha="right")
    ax.set_yticks(range(n), [str(i) for i in matrix.index])
    if annotate is None:
        annotate = n <= 15
    if annotate:
        for i in range(n):
            for j in range(n):
                if np.isfinite(values[i, j]):
                    light = (values[i, j] - low) / max(1.0 - low, 1e-9) > 0.6
                    ax.text(
                        j,
                        i,
                        f"{values[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="black" if light else "white",
                    )
    fig.colorbar(image, ax=ax, label="Cohen's kappa" if metric.startswith("cohen") else "agreement")
    ax.set_title(title or ("pairwise Cohen's kappa" if metric.startswith("cohen") else "pairwise agreement"))
    return fig


def speed_vs_agreement(report: pd.DataFrame, *, agreement_col: str = "loo_agreement") -> Figure:
    """Each annotator's median active time (log x) against agreement with the leave-one-out majority.
    The dashed line is the too-fast threshold; low-right is slow and disagreeing, low-left fast
    and careless."""
    fig = _figure(6.4, 4.4)
    ax = fig.add_subplot()
    x = report["median_active_ms"].astype(float) / 1000.0
    y = report[agreement_col].astype(float)
    ok = x.notna() & y.notna() & (x > 0)
    ax.scatter(x[ok], y[ok], s=20 + 2 * np.sqrt(report.loc[ok, "n_labels"].astype(float)), alpha=0.8)
    fast = report["too_fast_share"].astype(float).fillna(0.0)
    for name, xi, yi, share in zip(report.loc[ok, "annotator"], x[ok], y[ok], fast[ok], strict=True):
        # the median hides an annotator who rushes only some labels: say so next to the point
        text = f"{name} ({share:.0%} too fast)" if share >= 0.05 else str(name)
        ax.annotate(text, (xi, yi), textcoords="offset points", xytext=(4, 3), fontsize=8)
    if ok.any():
        ax.set_xscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain)
    threshold = report["too_fast_ms"].dropna()
    if len(threshold) and float(threshold.iloc[0]) > 0:
        ax.axvline(
            float(threshold.iloc[0]) / 1000.0,
            linestyle="--",
            linewidth=1,
            color="C3",
            label="too-fast threshold",
        )
        ax.legend(loc="best", fontsize=8)
    ax.margins(x=0.2, y=0.1)  # room for the names
    ax.set_xlabel("median active time per label (s, log scale)")
    ax.set_ylabel("agreement with leave-one-out majority")
    ax.set_title("speed vs agreement")
    return fig


def position_bias_bars(bias: pd.DataFrame, *, position: int = 0, task: str = "pairwise") -> Figure:
    """Per annotator, the rate of picking displayed ``position`` (0 = A) with its 95% Clopper-Pearson
    interval; the dashed line is the rate expected without bias. Bars with p < 0.01 are hatched."""
    rows = bias[(bias["position"] == position) & (bias["task"] == task)].sort_values("annotator")
    fig = _figure(1.8 + 0.45 * max(len(rows), 7), 4.0)
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    rate = rows["rate"].to_numpy(dtype=float)
    err = np.vstack(
        [rate - rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float) - rate]
    )
    # bar() draws error bars black unless told: follow the style's text colour so dark themes work
    bars = ax.bar(x, rate, yerr=err, capsize=3, alpha=0.85, error_kw={"ecolor": mpl.rcParams["text.color"]})
    for bar, p in zip(bars, rows["p_value"], strict=True):
        if p < 0.01:
            bar.set_hatch("//")
    for expected in sorted(set(rows["expected"])):
        ax.axhline(expected, linestyle="--", linewidth=1, color="C3")
    ax.set_xticks(x, [str(a) for a in rows["annotator"]], rotation=60, ha="right")
    ax.set_ylim(0, 1)
    label = chr(ord("A") + position) if position < 26 else str(position + 1)
    ax.set_ylabel(f"rate of picking position {label}")
    ax.set_title(f"position bias ({task}; hatched: p < 0.01)")
    return fig


def leaderboard_plot(board: Leaderboard | pd.DataFrame) -> Figure:
    """Models by Elo rating, best on top, with bootstrap confidence intervals as error bars."""
    table = board if isinstance(board, pd.DataFrame) else board.table
    table = table.sort_values("elo")
    fig = _figure(6.4, 1.2 + 0.35 * max(len(table), 3))
    ax = fig.add_subplot()
    y = np.arange(len(table))
    elo = table["elo"].to_numpy(dtype=float)
    lo, hi = table["ci_low"].to_numpy(dtype=float), table["ci_high"].to_numpy(dtype=float)
    has_ci = np.isfinite(lo) & np.isfinite(hi)
    xerr = np.vstack([np.where(has_ci, elo - lo, 0.0), np.where(has_ci, hi - elo, 0.0)])
    ax.errorbar(elo, y, xerr=xerr, fmt="o", capsize=3)
    ax.set_yticks(y, [f"{m} (n={n})" for m, n in zip(table["model"], table["n"], strict=True)])
    ax.set_xlabel("Elo-scale rating (Bradley-Terry), bootstrap CI")
    ax.set_title("model leaderboard")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _version_names(versions: pd.Series) -> pd.Series:
    """Guideline versions as text; labels without one read "(none)"."""
    names = [str(v) if not pd.isna(v) else "(none)" for v in versions]
    return pd.Series(names, index=versions.index, dtype=object)


def agreement_by_guideline(
    table: pd.DataFrame,
    *,
    metrics: Sequence[str] = ("fleiss_kappa", "alpha_nominal"),
    criterion: str = "preference",
    order: Sequence[str] | None = None,
) -> Figure:
    """Agreement per guideline version (rows of ``agreement(..., by=("criterion", "guideline_version"))``)
    with bootstrap CIs: did a guideline change make annotators agree more?"""
    if "guideline_version" not in table.columns:
        raise ValueError(
            "agreement_by_guideline: the table has no guideline_version column; compute it with "
            "agreement(labels, by=('criterion', 'guideline_version'))"
        )
    rows = table[table["metric"].isin(list(metrics))]
    if "criterion" in rows.columns:
        rows = rows[rows["criterion"] == criterion]
    rows = rows.assign(guideline_version=_version_names(rows["guideline_version"]))
    versions = list(order) if order is not None else sorted(rows["guideline_version"].unique())
    fig = _figure(1.8 + 0.9 * max(len(versions), 3), 4.0)
    ax = fig.add_subplot()
    x = np.arange(len(versions))
    width = 0.8 / max(len(metrics), 1)
    for k, metric in enumerate(metrics):
        m = rows[rows["metric"] == metric]
        m = m.groupby("guideline_version").first().reindex(versions)
        v = m["value"].to_numpy(dtype=float)
        lo = m["ci_low"].to_numpy(dtype=float)
        hi = m["ci_high"].to_numpy(dtype=float)
        err = np.vstack([np.nan_to_num(v - lo), np.nan_to_num(hi - v)])
        ax.errorbar(x + (k - (len(metrics) - 1) / 2) * width, v, yerr=err, fmt="o", capsize=3, label=metric)
    ax.set_xticks(x, versions)
    ax.set_xlabel("guideline version")
    ax.set_ylabel("agreement")
    ax.axhline(0, linewidth=0.8, color="grey")
    ax.legend(fontsize=8)
    ax.set_title(f"agreement by guideline version ({criterion})")
    return fig
