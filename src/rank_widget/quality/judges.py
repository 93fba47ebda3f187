"""Calibrate an LLM judge against people: accuracy and Cohen's kappa against the human majority (and against
adjudications), both-order consistency, position bias, results by a metadata column, the confusion of
strengths, and a plot (docs/judges.md).

Units are response pairs (``schema.pairs``); verdicts are pair-relative: ``a`` / ``tie`` / ``b``. The judge's
verdicts are its labels (``source="judge"``): the first order under its name, the reversed order (``run_judge
(both_orders=True)``) under ``"<name> [swapped]"``. With both orders the judge's verdict on a unit is the one
it gave in both; when the two orders disagree it is a tie, as MT-Bench scores an inconsistent pair (Zheng et
al. 2023, "Judging LLM-as-a-judge", section 3.4: "declare a win only if an answer is preferred in both
orders"). Unparsed replies (skipped judge labels flagged ``unparsed``) are counted, never scored.

The human side is every other non-adjudication source; the human majority of a unit is its single most common
verdict (units where the top verdict is shared have none and are left out, as ``judge_agreement`` does).
``judge_agreement`` itself is in ``versus_humans``: the judge next to each human (leave-one-out).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rank_widget.quality import metrics
from rank_widget.quality.interrater import VERDICTS, unique_top
from rank_widget.quality.models import judge_agreement
from rank_widget.schema import current_labels, pairs

SWAPPED = " [swapped]"  # rank_widget.judges.run.SWAPPED (analysis does not import the runner)
UNPARSED_FLAG = "unparsed"
SUMMARY_COLUMNS = ("metric", "reference", "value", "ci_low", "ci_high", "n_units")
_UNIT = ["item_id", "response_a", "response_b"]


@dataclass
class JudgeReport:
    """The calibration of one judge. ``summary``: one row per metric with its bootstrap CI; ``by``: accuracy
    and kappa per value of a metadata column; ``strengths``: judge signed strength x human majority signed
    strength (counts); ``units``: one row per unit with every verdict; ``versus_humans``: ``judge_agreement``;
    ``counts``: labels, unparsed, units."""

    judge: str
    summary: pd.DataFrame
    by: pd.DataFrame
    strengths: pd.DataFrame
    units: pd.DataFrame
    versus_humans: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        return f"<h4>Judge {self.judge!r}: {self.counts}</h4>" + str(
            self.summary.to_html(index=False, float_format=lambda x: f"{x:.3g}")
        )

    def __repr__(self) -> str:
        return f"JudgeReport({self.judge!r}, {self.counts})\n{self.summary}"

    def plot(self) -> Any:
        """Accuracy and kappa (with CIs) per reference and order, and the strength confusion, as a Figure."""
        return judge_calibration_plot(self)


def _verdicts(votes: pd.DataFrame) -> pd.DataFrame:
    """One row per unit: the pair-relative verdict and signed strength of these votes (the last per unit)."""
    v = votes.copy()
    v["verdict"] = np.select([v["outcome"] == 1.0, v["outcome"] == 0.0], ["a", "b"], "tie").astype(object)
    return v.drop_duplicates(_UNIT, keep="last").set_index(_UNIT)


def _human_majority(human: pd.DataFrame) -> pd.DataFrame:
    """Per unit: the human majority verdict (or None), its signed strength (median of the majority's votes),
    and how many humans voted."""
    if human.empty:
        return pd.DataFrame(
            columns=["human", "human_strength", "n_humans"], index=pd.MultiIndex.from_tuples([], names=_UNIT)
        )
    h = human.copy()
    h["code"] = np.select([h["outcome"] == 1.0, h["outcome"] == 0.0], [2, 0], 1)
    g = h.groupby(_UNIT, sort=False)
    counts = np.stack(
        [g["code"].agg(lambda s, k=k: int((s == k).sum())).to_numpy() for k in range(3)], axis=1
    )
    top = unique_top(counts.astype(float))
    names = np.array(VERDICTS, dtype=object)
    out = pd.DataFrame(index=g.size().index)
    out["human"] = [names[t] if t >= 0 else None for t in top]
    out["n_humans"] = g.size().to_numpy()
    strength: list[Any] = []
    for (_key, grp), t in zip(g, top, strict=True):
        chosen = grp[grp["code"] == t] if t >= 0 else grp.iloc[0:0]
        vals = pd.to_numeric(chosen["signed_strength"], errors="coerce").dropna()
        strength.append(round(float(vals.median())) if len(vals) else pd.NA)
    out["human_strength"] = pd.array(strength, dtype="Int64")
    return out


def _boot(values: Sequence[np.ndarray], stat: Any, rounds: int, seed: int, ci: float) -> tuple[float, float]:
    """Percentile bootstrap CI of ``stat(*values)`` resampling units."""
    n = len(values[0])
    if n == 0 or rounds <= 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    out = np.empty(rounds)
    for i in range(rounds):
        idx = rng.integers(0, n, n)
        out[i] = stat(*(v[idx] for v in values))
    out = out[~np.isnan(out)]
    if len(out) == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(out, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return float(lo), float(hi)


def _kappa(x: np.ndarray, y: np.ndarray) -> float:
    """Cohen's kappa of two verdict arrays (``metrics.cohen_kappa``, checked against scikit-learn's
    ``cohen_kappa_score`` in tests/unit/test_judge_report.py); NaN when chance agreement is perfect."""
    if len(x) == 0:
        return math.nan
    return float(metrics.cohen_kappa(list(x), list(y), categories=VERDICTS))


def _acc(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(x == y)) if len(x) else math.nan


def _metric_rows(
    judge: np.ndarray, ref: np.ndarray, reference: str, rounds: int, seed: int, ci: float
) -> list[dict[str, Any]]:
    rows = []
    for name, fn in (("accuracy", _acc), ("cohen_kappa", _kappa)):
        lo, hi = _boot([judge, ref], fn, rounds, seed, ci)
        rows.append(
            {
                "metric": name,
                "reference": reference,
                "value": fn(judge, ref),
                "ci_low": lo,
                "ci_high": hi,
                "n_units": len(judge),
            }
        )
    return rows


def _position_row(first: pd.DataFrame, rounds: int, seed: int, ci: float) -> dict[str, Any]:
    """Share of decisive verdicts (both orders) that picked the response shown first (0.5 = no bias)."""
    decisive = first[first["outcome"] != 0.5]
    if decisive.empty:
        picks = np.array([], dtype=float)
    else:
        winner_pos = np.where(decisive["outcome"] == 1.0, decisive["pos_a"], decisive["pos_b"])
        picks = (pd.to_numeric(pd.Series(winner_pos), errors="coerce") == 0).to_numpy(dtype=float)
    lo, hi = _boot([picks], lambda p: float(p.mean()), rounds, seed, ci)
    return {
        "metric": "picks_first_shown",
        "reference": "0.5 = no position bias",
        "value": float(picks.mean()) if len(picks) else math.nan,
        "ci_low": lo,
        "ci_high": hi,
        "n_units": len(picks),
    }


def _by_rows(
    units: pd.DataFrame, items: pd.DataFrame | None, by: str | None, rounds: int, seed: int, ci: float
) -> pd.DataFrame:
    cols = ["group", "metric", "value", "ci_low", "ci_high", "n_units"]
    if by is None:
        return pd.DataFrame(columns=cols)
    if items is None or by not in items.columns:
        raise ValueError(f"judge_report: by={by!r} needs items with a {by!r} column")
    group_of = dict(zip(items["item_id"].astype(str), items[by], strict=True))
    scored = units[units["human"].notna() & units["judge"].notna()].copy()
    scored["group"] = [group_of.get(str(i)) for i in scored["item_id"]]
    rows = []
    for g, part in scored.groupby("group", sort=True, dropna=False):
        j, h = part["judge"].to_numpy(dtype=object), part["human"].to_numpy(dtype=object)
        for r in _metric_rows(j, h, "human majority", rounds, seed, ci):
            rows.append({"group": g, **{k: r[k] for k in cols if k != "group"}})
    return pd.DataFrame(rows, columns=cols)


def _unit_table(cur: pd.DataFrame, judge: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per unit with every verdict, the judge's first-order and swapped votes together)."""
    voting = cur[cur["status"] == "submitted"]
    p = pairs(voting, None, current=False)
    is_first = p["annotator"] == judge
    is_swapped = p["annotator"] == judge + SWAPPED
    is_judge_source = p["source"] == "judge"
    human = p[~is_judge_source & (p["source"] != "adjudication")]
    adjud = p[p["source"] == "adjudication"]
    first, swapped = _verdicts(p[is_first]), _verdicts(p[is_swapped])
    units = _human_majority(human)
    keys = units.index.union(first.index).union(swapped.index)
    units = units.reindex(keys)
    units["order_1"] = first["verdict"].reindex(keys)
    units["order_2"] = swapped["verdict"].reindex(keys)
    units["judge_strength"] = first["signed_strength"].reindex(keys).astype("Int64")
    both = units["order_1"].notna() & units["order_2"].notna()
    combined = units["order_1"].where(~both | (units["order_1"] == units["order_2"]), "tie")
    units["judge"] = combined.where(units["order_1"].notna(), units["order_2"])
    units["consistent"] = (units["order_1"] == units["order_2"]).where(both, None)
    units["adjudication"] = _verdicts(adjud)["verdict"].reindex(keys) if not adjud.empty else None
    units = units.reset_index()
    return units, pd.concat([p[is_first], p[is_swapped]])


def judge_report(
    labels: pd.DataFrame,
    *,
    judge: str,
    items: pd.DataFrame | None = None,
    by: str | None = None,
    humans: Sequence[str] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> JudgeReport:
    """Calibrate ``judge`` against the human majority (and adjudications where they exist).

    ``summary`` rows: ``accuracy`` and ``cohen_kappa`` against the human majority and against adjudications,
    the same per order (``order 1`` / ``order 2`` against the human majority), ``both_order_consistency``
    (share of units the two orders agree on) and ``picks_first_shown`` (position bias), each with a percentile
    bootstrap CI over units (``bootstrap`` rounds). ``by``: an items column (e.g. ``"category"``) to split
    accuracy and kappa by. ``humans``: the annotators that count as people (default: every annotator whose
    labels are not ``source="judge"`` or adjudications).
    """
    if not isinstance(judge, str) or not judge:
        raise ValueError(f"judge_report: judge must be a judge's name, got {judge!r}")
    cur = current_labels(labels)
    mine = cur[(cur["source"] == "judge") & cur["annotator"].isin([judge, judge + SWAPPED])]
    if mine.empty:
        known = sorted(set(cur.loc[cur["source"] == "judge", "annotator"]))
        raise ValueError(f"judge_report: no labels of judge {judge!r} (source='judge'); judges here: {known}")
    if humans is not None:
        keep = cur["annotator"].isin(list(humans)) | (cur["source"].isin(["judge", "adjudication"]))
        cur = cur[keep]
    unparsed = int(mine["flags"].map(lambda f: UNPARSED_FLAG in (f or [])).sum())
    units, judge_votes = _unit_table(cur, judge)
    rows: list[dict[str, Any]] = []
    scored = units[units["human"].notna() & units["judge"].notna()]
    j, h = scored["judge"].to_numpy(dtype=object), scored["human"].to_numpy(dtype=object)
    rows += _metric_rows(j, h, "human majority", bootstrap, seed, ci)
    adj = (
        units[units["adjudication"].notna() & units["judge"].notna()]
        if "adjudication" in units
        else units[:0]
    )
    rows += _metric_rows(
        adj["judge"].to_numpy(dtype=object),
        adj["adjudication"].to_numpy(dtype=object),
        "adjudication",
        bootstrap,
        seed,
        ci,
    )
    for k in (1, 2):
        part = units[units["human"].notna() & units[f"order_{k}"].notna()]
        for r in _metric_rows(
            part[f"order_{k}"].to_numpy(dtype=object),
            part["human"].to_numpy(dtype=object),
            "human majority",
            bootstrap,
            seed,
            ci,
        ):
            rows.append({**r, "metric": f"{r['metric']} (order {k})"})
    cons = units["consistent"].dropna().to_numpy(dtype=float)
    lo, hi = _boot([cons], lambda c: float(c.mean()), bootstrap, seed, ci)
    rows.append(
        {
            "metric": "both_order_consistency",
            "reference": "the judge itself",
            "value": float(cons.mean()) if len(cons) else math.nan,
            "ci_low": lo,
            "ci_high": hi,
            "n_units": len(cons),
        }
    )
    rows.append(_position_row(judge_votes, bootstrap, seed, ci))
    strengths = pd.crosstab(
        units["judge_strength"].astype("float").rename("judge"),
        units["human_strength"].astype("float").rename("human majority"),
    )
    human_names = (
        list(humans)
        if humans is not None
        else sorted(
            set(
                cur.loc[
                    ~cur["source"].isin(["judge", "adjudication"]) & (cur["status"] == "submitted"),
                    "annotator",
                ]
            )
        )
    )
    try:
        versus = judge_agreement(cur, judge=judge, humans=human_names)
    except ValueError:  # no parsed verdicts of the first order, or no humans: nothing to set side by side
        versus = pd.DataFrame()
    counts = {
        "labels": len(mine),
        "unparsed": unparsed,
        "units": len(units),
        "scored_units": len(scored),
        "units_without_majority": int((units["human"].isna() & units["n_humans"].fillna(0).gt(0)).sum()),
    }
    return JudgeReport(
        judge,
        pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)),
        _by_rows(units, items, by, bootstrap, seed, ci),
        strengths,
        units,
        versus,
        counts,
    )


def judge_calibration_plot(report: JudgeReport) -> Any:
    """Left: each summary metric with its bootstrap CI (and per group of ``by`` when given). Right: the
    judge's signed strength against the human majority's (counts)."""
    from rank_widget.quality.plots import _figure

    fig = _figure(10.0, 4.0)
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    rows = report.summary.dropna(subset=["value"])
    if not report.by.empty:
        extra = report.by.assign(reference=report.by["group"].astype(str))
        rows = pd.concat([rows, extra[list(SUMMARY_COLUMNS)]], ignore_index=True)
    names = [f"{m} vs {r}" if r else m for m, r in zip(rows["metric"], rows["reference"], strict=True)]
    y = np.arange(len(rows))
    value = rows["value"].to_numpy(dtype=float)
    err = np.vstack(
        [value - rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float) - value]
    )
    left.errorbar(value, y, xerr=np.nan_to_num(np.abs(err)), fmt="o", capsize=3)
    left.set_yticks(y, [n[:48] for n in names], fontsize=8)
    left.invert_yaxis()
    left.axvline(0.5, linestyle=":", linewidth=0.8)
    left.set_xlim(-0.05, 1.05)
    left.set_title(f"judge {report.judge!r} against people (95% CI)")
    table = report.strengths
    if table.empty:
        right.text(0.5, 0.5, "no strengths to compare", ha="center", va="center")
        right.set_axis_off()
    else:
        right.imshow(table.to_numpy(dtype=float), aspect="auto")
        right.set_xticks(range(table.shape[1]), [f"{c:+.0f}" for c in table.columns])
        right.set_yticks(range(table.shape[0]), [f"{r:+.0f}" for r in table.index])
        for (i, k), v in np.ndenumerate(table.to_numpy()):
            right.text(k, i, str(int(v)), ha="center", va="center", fontsize=8)
        right.set_xlabel("human majority signed strength")
        right.set_ylabel("judge signed strength")
        right.set_title("strength confusion")
    return fig
