"""Inter-annotator agreement tables and per-item disagreement, from a labels DataFrame (design §6).

Everything here reads *current, submitted* labels: the latest revision each annotator gave each item. Labels
with ``source == "adjudication"`` are left out: an adjudicator resolves disagreement and is not an
independent rater. Pairwise verdicts are coded relative to the response pair (sorted response ids: ``a`` <
``b``), never by display position, so that position randomisation cannot look like disagreement.

The metric primitives live in ``quality/metrics.py``; this module only shapes labels into the matrices they
take, groups them and bootstraps confidence intervals over items.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
from scipy.stats import rankdata

from rank_widget.quality import metrics
from rank_widget.schema import current_labels, pairs, rank_of, ratings_long

VERDICTS = ("b", "tie", "a")  # ordered: b preferred < tie < a preferred
VERDICT_CODE = {"b": 0.0, "tie": 1.0, "a": 2.0}
PREFERENCE = "preference"
DEFAULT_BY = ("task", "criterion", "guideline_version")
AGREEMENT_COLUMNS = ("metric", "value", "ci_low", "ci_high", "n_items", "n_units", "n_annotators")


# ---------------------------------------------------------------------------------------------------------
# Shared views (also used by annotators.py and models.py)


def rated_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """Current submitted labels, adjudications left out, one row per item x annotator (latest wins)."""
    cur = current_labels(labels, include_skipped=False)
    cur = cur[cur["source"] != "adjudication"]
    # current_labels is per source; an annotator with an imported and a widget label on one item counts once
    cur = cur.sort_values("submitted_at", kind="stable").drop_duplicates(
        ["item_id", "annotator"], keep="last"
    )
    return cur.sort_index().reset_index(drop=True)


def preference_votes(
    labels: pd.DataFrame, items: pd.DataFrame | None = None, *, current: bool = True
) -> pd.DataFrame:
    """One row per label x response pair: the pair-relative verdict ``a`` / ``b`` / ``tie`` and its code.

    With ``current=True`` (default) the labels are first reduced by :func:`rated_labels`; otherwise every
    submitted non-adjudication label is used (for self-consistency over revisions).
    """
    if current:
        src = rated_labels(labels)
    else:
        src = labels[(labels["status"] == "submitted") & (labels["source"] != "adjudication")]
    out = pairs(src, items, current=False)
    out["verdict"] = np.select([out["outcome"] == 1.0, out["outcome"] == 0.0], ["a", "b"], "tie")
    out["verdict"] = out["verdict"].astype(object)
    out["code"] = out["verdict"].map(VERDICT_CODE).astype(float)
    return out


def ranking_string(ranking: Any) -> str | None:
    """Canonical text of a tie-group ranking: ``'r2 > r1 = r3'`` (a pairwise tie reads ``'r1 = r2'``)."""
    if not isinstance(ranking, (list, tuple)) or not ranking:
        return None
    return " > ".join(" = ".join(sorted(g)) for g in ranking)


def outcome_string(task: str, winner: Any, ranking: Any) -> str | None:
    """The whole-label outcome used for majorities: the winner id (or 'tie') if pairwise, else the ranking."""
    if task == "pairwise" and isinstance(winner, str):
        return winner
    return ranking_string(ranking)


def unit_verdict_counts(votes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per vote, the code of its unit (item x response pair); per unit, the count of each verdict
    (columns in ``VERDICTS`` order: b, tie, a)."""
    key = (
        votes["item_id"].astype(str) + "\x1f" + votes["response_a"].astype(str) + "\x1f" + votes["response_b"]
    )
    codes, uniques = pd.factorize(key.astype(object))
    flat = codes * len(VERDICTS) + votes["code"].to_numpy(dtype=int)
    counts = np.bincount(flat, minlength=len(uniques) * len(VERDICTS)).reshape(len(uniques), len(VERDICTS))
    return codes, counts.astype(float)


def unique_top(counts: np.ndarray) -> np.ndarray:
    """Per row, the index of the single most common verdict; -1 when none or when the top count is shared."""
    if counts.size == 0:
        return np.zeros(counts.shape[0], dtype=int)
    top = counts.max(axis=1)
    n_top = (counts == top[:, None]).sum(axis=1)
    return np.where((top > 0) & (n_top == 1), counts.argmax(axis=1), -1)


# ---------------------------------------------------------------------------------------------------------
# Progress for long bootstraps: silent when quick, one updating stderr line when slow


class Progress:
    """Text progress on stderr, shown only once a task has run longer than ``after`` seconds."""

    def __init__(self, what: str, total: int, enabled: bool | None = None, after: float = 2.0) -> None:
        self.what, self.total = what, total
        self.enabled = enabled
        self.after = 0.0 if enabled else after
        self.start = self.last = time.perf_counter()
        self.shown = False

    def update(self, done: int) -> None:
        if self.enabled is False:
            return
        now = time.perf_counter()
        if now - self.start < self.after or (now - self.last < 0.5 and done < self.total):
            return
        self.last, self.shown = now, True
        sys.stderr.write(f"\r{self.what}: {done}/{self.total} ({now - self.start:.0f} s)")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


# ---------------------------------------------------------------------------------------------------------
# Reliability matrices and the statistics computed on them


@dataclass
class _Units:
    """A raters x units matrix (NaN = not rated) and, for each unit, the item it belongs to."""

    matrix: np.ndarray
    unit_item: np.ndarray
    n_annotators: int

    @property
    def n_units(self) -> int:
        return int(self.matrix.shape[1])

    def item_columns(self) -> list[np.ndarray]:
        order = np.argsort(self.unit_item, kind="stable")
        bounds = np.flatnonzero(np.diff(self.unit_item[order])) + 1
        return np.split(order, bounds) if order.size else []


def _units(long: pd.DataFrame, unit_cols: Sequence[str], value_col: str) -> _Units:
    """Pivot a long table (annotator, unit columns, value) into a reliability matrix of pairable units."""
    long = long[long[value_col].notna()]
    unit_key = pd.Series("", index=long.index, dtype=object)
    for c in unit_cols:
        unit_key = unit_key + "\x1f" + long[c].astype(str).astype(object)
    unit_codes, unit_index = pd.factorize(unit_key)
    ann_codes, ann_index = pd.factorize(long["annotator"])
    matrix = np.full((len(ann_index), len(unit_index)), np.nan)
    matrix[ann_codes, unit_codes] = long[value_col].to_numpy(dtype=float)
    items = np.empty(len(unit_index), dtype=object)
    items[unit_codes] = long["item_id"].to_numpy(dtype=object)
    keep = (~np.isnan(matrix)).sum(axis=0) >= 2  # a unit with one rating carries no agreement information
    matrix, items = matrix[:, keep], items[keep]
    raters = (~np.isnan(matrix)).any(axis=1)
    item_codes = pd.factorize(pd.Series(items, dtype=object))[0] if items.size else np.array([], dtype=int)
    return _Units(matrix[raters], np.asarray(item_codes, dtype=int), int(raters.sum()))


def _category_counts(matrix: np.ndarray, categories: Sequence[float]) -> np.ndarray:
    """units x categories counts of how many raters chose each category."""
    return np.stack([(matrix == c).sum(axis=0) for c in categories], axis=1).astype(float)


def percent_agreement_counts(counts: np.ndarray) -> float:
    """Mean over units of the share of agreeing rater pairs (Fleiss' P-bar; raters per unit may vary)."""
    n = counts.sum(axis=1)
    ok = n >= 2
    if not ok.any():
        return math.nan
    per_unit = (counts[ok] * (counts[ok] - 1)).sum(axis=1) / (n[ok] * (n[ok] - 1))
    return float(per_unit.mean())


def _safe(fn: Callable[[], float]) -> float:
    """A statistic undefined on this sample (one category only, too few units) is NaN, not an error."""
    try:
        value = float(fn())
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def _fleiss(counts: np.ndarray) -> float:
    # Fleiss' kappa assumes the same number of raters per unit: use the units with the most common count
    n = counts.sum(axis=1)
    if n.size == 0:
        return math.nan
    values, freq = np.unique(n, return_counts=True)
    common = values[freq == freq.max()].max()
    return _safe(lambda: metrics.fleiss_kappa(counts[n == common]))


def _kendall_w(ranks: np.ndarray) -> float:
    return _safe(lambda: metrics.kendall_w(ranks, correction=True))


def _alpha(matrix: np.ndarray, level: metrics.AlphaLevel) -> float:
    return _safe(lambda: metrics.krippendorff_alpha(matrix, level=level))


ALPHA_LEVELS: dict[str, metrics.AlphaLevel] = {
    "alpha_nominal": "nominal",
    "alpha_ordinal": "ordinal",
    "alpha_interval": "interval",
}


class AlphaBootstrap:
    """Krippendorff's alpha for many item resamples at once.

    Why not call ``metrics.krippendorff_alpha`` per resample: the ``krippendorff`` package costs
    O(units x values^2) per call, and 1,000 resamples of 0-100 ratings (SQuALITY, 300 units) took 80 s.
    Alpha depends on the data only through the coincidence matrix, which is a sum over units
    (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability", section C), so a resample's matrix is
    the resample-count-weighted sum of per-item matrices: one matrix product for all rounds. The point
    estimate still comes from ``metrics.krippendorff_alpha``; tests check both agree on the full sample.
    """

    MAX_CELLS = 2**23  # per-unit / per-item V x V blocks held in memory; above this use the slow path

    def __init__(self, per_item: np.ndarray, domain: np.ndarray, level: metrics.AlphaLevel) -> None:
        self.per_item, self.domain, self.level = per_item, domain, level

    @classmethod
    def build(
        cls, matrix: np.ndarray, unit_item: np.ndarray, n_items: int, level: metrics.AlphaLevel
    ) -> AlphaBootstrap | None:
        present = ~np.isnan(matrix)
        domain = np.unique(matrix[present])
        v = len(domain)
        n_units = matrix.shape[1]
        if v < 1 or max(n_units, n_items) * v * v > cls.MAX_CELLS:
            return None
        unit_of = np.nonzero(present)[1]
        counts = np.zeros((n_units, v))
        np.add.at(counts, (unit_of, np.searchsorted(domain, matrix[present])), 1.0)
        m = counts.sum(axis=1)
        scaled = counts / np.maximum(m - 1.0, 1.0)[:, None]
        scaled[m < 2] = 0.0  # a unit with one value is not pairable
        # per unit: o_u = (n_u n_u' - diag n_u) / (m_u - 1)
        blocks = scaled[:, :, None] * counts[:, None, :]
        idx = np.arange(v)
        blocks[:, idx, idx] -= scaled
        per_item = np.zeros((n_items, v * v))
        np.add.at(per_item, unit_item, blocks.reshape(n_units, v * v))
        return cls(per_item, domain, level)

    def _delta(self, n_v: np.ndarray) -> np.ndarray:
        c, k = self.domain[:, None], self.domain[None, :]
        if self.level == "nominal":
            return (c != k).astype(float)
        if self.level == "interval":
            return np.asarray((c - k) ** 2, dtype=float)
        # ordinal: (sum of n_g for g from c to k, minus half of n_c and n_k) squared
        cum = np.concatenate([[0.0], np.cumsum(n_v)])
        i = np.arange(len(self.domain))
        lo, hi = np.minimum(i[:, None], i[None, :]), np.maximum(i[:, None], i[None, :])
        return np.asarray((cum[hi + 1] - cum[lo] - (n_v[:, None] + n_v[None, :]) / 2.0) ** 2, dtype=float)

    def alpha_of(self, coincidences: np.ndarray) -> float:
        v = len(self.domain)
        o = coincidences.reshape(v, v)
        n_v = o.sum(axis=0)
        n = n_v.sum()
        if n <= 1 or (n_v > 0).sum() < 2:
            return math.nan
        expected = (np.outer(n_v, n_v) - np.diag(n_v)) / (n - 1.0)
        d = self._delta(n_v)
        denominator = float((expected * d).sum())
        return 1.0 - float((o * d).sum()) / denominator if denominator > 0 else math.nan

    def alphas(self, weights: np.ndarray) -> np.ndarray:
        """Alpha for each resample: ``weights`` is rounds x items, how often each item was drawn."""
        if self.level != "ordinal":
            return self._fixed_distance_alphas(weights)
        return np.array([self.alpha_of(o) for o in weights @ self.per_item])

    def _fixed_distance_alphas(self, weights: np.ndarray) -> np.ndarray:
        # nominal / interval distances do not depend on the data: the observed disagreement is linear in the
        # per-item matrices and the expected one needs only the value marginals
        v = len(self.domain)
        d = self._delta(np.zeros(v))
        observed = weights @ (self.per_item @ d.ravel())
        n_v = weights @ self.per_item.reshape(-1, v, v).sum(axis=1)
        n = n_v.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = np.einsum("rv,vw,rw->r", n_v, d, n_v) / (n - 1.0)
            out = 1.0 - observed / expected
        return np.where((expected > 0) & ((n_v > 0).sum(axis=1) >= 2), out, np.nan)


class CountBootstrap:
    """Percent agreement and Fleiss' kappa for many item resamples at once.

    Both are built from sums over units (each unit's share of agreeing rater pairs, category totals), so a
    resample's value is a weighted sum of per-item totals: rebuilding the counts per resample took 60 s for
    1,000 rounds of 20,000 units. Fleiss' kappa uses the units with the most common number of raters in the
    full data (as the point estimate does). The point estimates come from ``percent_agreement_counts`` and
    ``metrics.fleiss_kappa``; tests check both paths agree on the full sample.
    """

    def __init__(self, counts: np.ndarray, unit_item: np.ndarray, n_items: int) -> None:
        n = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(n >= 2, (counts * (counts - 1)).sum(axis=1) / (n * (n - 1)), 0.0)
        pairable = (n >= 2).astype(float)
        self.share_sum = np.bincount(unit_item, weights=share, minlength=n_items)
        self.share_n = np.bincount(unit_item, weights=pairable, minlength=n_items)
        values, freq = np.unique(n[n >= 2], return_counts=True) if n.size else (np.array([]), np.array([]))
        self.common = float(values[freq == freq.max()].max()) if values.size else math.nan
        chosen = n == self.common
        self.f_share = np.bincount(unit_item[chosen], weights=share[chosen], minlength=n_items)
        self.f_units = np.bincount(unit_item[chosen], minlength=n_items).astype(float)
        self.f_counts = np.zeros((n_items, counts.shape[1]))
        np.add.at(self.f_counts, unit_item[chosen], counts[chosen])

    def percent(self, weights: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray((weights @ self.share_sum) / (weights @ self.share_n))

    def fleiss(self, weights: np.ndarray) -> np.ndarray:
        units = weights @ self.f_units
        with np.errstate(invalid="ignore", divide="ignore"):
            p_bar = (weights @ self.f_share) / units
            p_j = (weights @ self.f_counts) / (units * self.common)[:, None]
            p_e = (p_j**2).sum(axis=1)
            return np.where(p_e < 1.0, (p_bar - p_e) / (1.0 - p_e), np.nan)


Statistic = Callable[[np.ndarray], float]
Sampler = Callable[[np.ndarray], np.ndarray]  # rounds x items resample weights -> one value per round


def _samplers(kind: str, units: _Units, n_items: int, cols: list[np.ndarray]) -> dict[str, Sampler]:
    """Bootstrap samplers for each statistic of ``kind`` (fast paths; exact re-computation otherwise)."""
    out: dict[str, Sampler] = {}
    if kind == "verdict":
        counts = _category_counts(units.matrix, [VERDICT_CODE[v] for v in VERDICTS])
        fast = CountBootstrap(counts, units.unit_item, n_items)
        out["percent_agreement"], out["fleiss_kappa"] = fast.percent, fast.fleiss
    for name, fn in _statistics(kind).items():
        if name in out:
            continue
        alpha = AlphaBootstrap.build(units.matrix, units.unit_item, n_items, ALPHA_LEVELS[name])
        if alpha is not None:
            out[name] = alpha.alphas
        else:  # too many distinct values for the per-item matrices: recompute on the resampled columns

            def slow(weights: np.ndarray, fn: Statistic = fn) -> np.ndarray:
                picks = [np.repeat(np.arange(n_items), w.astype(int)) for w in weights]
                return np.array([fn(units.matrix[:, np.concatenate([cols[i] for i in p])]) for p in picks])

            out[name] = slow
    return out


def _statistics(kind: str) -> dict[str, Statistic]:
    """The statistics reported for one kind of unit; each maps a raters x units matrix to a number."""
    nominal = [VERDICT_CODE[v] for v in VERDICTS]
    if kind == "verdict":
        return {
            "percent_agreement": lambda m: percent_agreement_counts(_category_counts(m, nominal)),
            "fleiss_kappa": lambda m: _fleiss(_category_counts(m, nominal)),
            "alpha_nominal": lambda m: _alpha(m, "nominal"),
        }
    if kind == "strength":
        return {"alpha_ordinal": lambda m: _alpha(m, "ordinal")}
    if kind == "rating":
        return {
            "alpha_ordinal": lambda m: _alpha(m, "ordinal"),
            "alpha_interval": lambda m: _alpha(m, "interval"),
        }
    raise ValueError(kind)


def _ci(samples: np.ndarray, ci: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size < 2:
        return math.nan, math.nan
    lo, hi = np.percentile(finite, [100 * (1 - ci) / 2, 100 * (1 + ci) / 2])
    return float(lo), float(hi)


BOOTSTRAP_CHUNK = 64  # resamples held in memory at once (64 x items weights)


def weight_chunks(n_items: int, rounds: int, seed: int) -> Iterable[np.ndarray]:
    """Item resamples as counts: chunks of (rounds x items) arrays of how often each item was drawn.

    The same ``seed`` gives the same resamples, so every statistic of a group sees the same resamples.
    """
    rng = np.random.default_rng(seed)
    for start in range(0, rounds, BOOTSTRAP_CHUNK):
        size = min(BOOTSTRAP_CHUNK, rounds - start)
        draws = rng.integers(0, n_items, size=(size, n_items)) + (np.arange(size) * n_items)[:, None]
        yield np.bincount(draws.ravel(), minlength=size * n_items).reshape(size, n_items).astype(float)


# ---------------------------------------------------------------------------------------------------------
# Long tables per kind of measurement


def _attach(long: pd.DataFrame, rated: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Bring label-level grouping columns (e.g. a metadata column) onto a per-label long table."""
    missing = [k for k in keys if k not in long.columns and k != "criterion"]
    if not missing:
        return long
    for k in missing:
        if k not in rated.columns:
            raise ValueError(
                f"agreement(by=...): {k!r} is neither a label column nor 'criterion'; "
                f"label columns are {list(rated.columns)}"
            )
    return long.merge(rated[["label_id", *missing]], on="label_id", how="left")


def _rank_matrix(rankings: Sequence[Any]) -> np.ndarray | None:
    """objects x raters average ranks (1 = best; tied responses share the mean rank) for one item."""
    ids = sorted({r for rk in rankings for g in rk for r in g})
    if len(ids) < 2:
        return None
    cols = []
    for rk in rankings:
        group = {r: i for i, g in enumerate(rk) for r in g}
        if set(group) != set(ids):
            return None  # raters saw different response sets: W is not defined across them
        cols.append(rankdata([group[r] for r in ids], method="average"))
    return np.column_stack(cols)


def _group_frames(df: pd.DataFrame, keys: Sequence[str]) -> Iterable[tuple[tuple[Any, ...], pd.DataFrame]]:
    if df.empty:
        return []
    if not keys:
        return [((), df)]
    return (
        ((k if isinstance(k, tuple) else (k,)), g) for k, g in df.groupby(list(keys), dropna=False, sort=True)
    )


def agreement(
    labels: pd.DataFrame,
    *,
    by: Sequence[str] | str | None = DEFAULT_BY,
    bootstrap: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Agreement between annotators, one row per group x metric, with bootstrap CIs over items.

    Groups come from ``by`` (label columns plus ``criterion``: ``"preference"`` for the verdict, else the
    rating criterion). Metrics:

    - criterion ``preference`` (pairwise verdicts, and the response-pair verdicts implied by rankings):
      ``percent_agreement`` (mean share of agreeing annotator pairs per unit), ``fleiss_kappa`` (on the units
      with the most common number of annotators), ``alpha_nominal`` (Krippendorff, a/b/tie), and for pairwise
      labels ``alpha_ordinal`` on the signed strength (-3..3); for rankings ``kendall_w`` (mean per-item
      Kendall's W with tie correction, over items ranked by 2+ annotators).
    - each rating criterion: ``alpha_ordinal`` and ``alpha_interval`` over item x response units.

    ``value`` is the statistic on all data; ``ci_low``/``ci_high`` the percentile bootstrap interval from
    ``bootstrap`` resamples of items (NaN when ``bootstrap=0`` or the statistic is undefined). ``n_items``
    counts items with at least one unit rated by 2+ annotators, ``n_units`` those units.
    """
    if not 0 < ci < 1:
        raise ValueError(f"agreement(ci=...): must be between 0 and 1, got {ci}")
    if bootstrap < 0:
        raise ValueError(f"agreement(bootstrap=...): must be >= 0, got {bootstrap}")
    keys = [by] if isinstance(by, str) else list(by or [])
    rated = rated_labels(labels)
    rng = np.random.default_rng(seed)
    jobs = [*_preference_jobs(rated, keys), *_rating_jobs(rated, keys)]
    w_jobs = _kendall_w_jobs(rated, keys)

    total = bootstrap * (sum(len(_statistics(kind)) for _, kind, _ in jobs) + len(w_jobs))
    bar = Progress("agreement bootstrap", total, progress)
    rows: list[dict[str, Any]] = []
    done = 0
    for group, kind, units in jobs:
        if units.n_units == 0:
            continue
        job_seed = int(rng.integers(2**62))  # every statistic of the group sees the same resamples
        done = _metric_rows(
            rows, group, kind, units, bootstrap=bootstrap, seed=job_seed, ci=ci, bar=bar, done=done
        )
    for group, w_values, n_ann in w_jobs:
        job_seed = int(rng.integers(2**62))
        rows.append(_kendall_w_row(group, w_values, n_ann, bootstrap=bootstrap, seed=job_seed, ci=ci))
        done += bootstrap
        bar.update(done)
    bar.close()
    columns = [*keys, *AGREEMENT_COLUMNS]
    out = pd.DataFrame(rows, columns=columns)
    for c in ("n_items", "n_units", "n_annotators"):
        out[c] = out[c].astype("int64")
    return out.sort_values([*keys, "metric"], kind="stable", na_position="last").reset_index(drop=True)


_Job = tuple[dict[str, Any], str, _Units]  # (group keys, kind of statistic, units)


def _preference_jobs(rated: pd.DataFrame, keys: list[str]) -> list[_Job]:
    """Verdicts per response pair, and (pairwise labels with a known strength) the signed strengths."""
    jobs: list[_Job] = []
    votes = preference_votes(rated)
    votes["criterion"] = PREFERENCE
    votes = _attach(votes, rated, keys)
    unit_cols = ["item_id", "response_a", "response_b"]
    for key, g in _group_frames(votes, keys):
        group = dict(zip(keys, key, strict=True))
        jobs.append((group, "verdict", _units(g, unit_cols, "code")))
        pw = g[g["task"] == "pairwise"]
        # imports that only name a winner have no strength: ties alone (all 0) would say nothing
        if (pw["signed_strength"].notna() & (pw["verdict"] != "tie")).any():
            jobs.append((group, "strength", _units(pw, unit_cols, "signed_strength")))
    return jobs


def _rating_jobs(rated: pd.DataFrame, keys: list[str]) -> list[_Job]:
    ratings = ratings_long(rated, current=False)
    if ratings.empty:
        return []
    ratings = ratings.merge(rated[["label_id", "task"]], on="label_id", how="left")
    ratings = _attach(ratings, rated, keys)
    ratings["value"] = ratings["value"].astype(float)
    return [
        (dict(zip(keys, key, strict=True)), "rating", _units(g, ["item_id", "response_id"], "value"))
        for key, g in _group_frames(ratings, keys)
    ]


def _kendall_w_jobs(rated: pd.DataFrame, keys: list[str]) -> list[tuple[dict[str, Any], np.ndarray, int]]:
    """(group keys, per-item Kendall's W, n annotators) for the ranking labels of each group."""
    ranked = rated[rated["task"] == "ranking"].copy()
    ranked["criterion"] = PREFERENCE
    w_jobs = []
    for key, g in _group_frames(ranked, keys):
        ws: list[float] = []
        annotators: set[str] = set()
        for _, item in g.groupby("item_id", sort=True):
            if len(item) < 2:
                continue
            m = _rank_matrix(list(item["ranking"]))
            w = math.nan if m is None else _kendall_w(m)
            if math.isfinite(w):
                ws.append(w)
                annotators.update(item["annotator"])
        if ws:
            w_jobs.append((dict(zip(keys, key, strict=True)), np.asarray(ws), len(annotators)))
    return w_jobs


def _metric_rows(
    rows: list[dict[str, Any]],
    group: dict[str, Any],
    kind: str,
    units: _Units,
    *,
    bootstrap: int,
    seed: int,
    ci: float,
    bar: Progress,
    done: int,
) -> int:
    """Append one row per statistic of this job to ``rows``; returns the bootstrap rounds done so far."""
    cols = units.item_columns()
    samples: dict[str, np.ndarray] = {}
    for name, sample in (_samplers(kind, units, len(cols), cols) if bootstrap else {}).items():
        parts = []
        for weights in weight_chunks(len(cols), bootstrap, seed):
            parts.append(sample(weights))
            done += len(weights)
            bar.update(done)
        samples[name] = np.concatenate(parts)
    for name, fn in _statistics(kind).items():
        lo, hi = _ci(samples.get(name, np.array([])), ci)
        rows.append(
            {
                **group,
                "metric": name,
                "value": fn(units.matrix),
                "ci_low": lo,
                "ci_high": hi,
                "n_items": len(cols),
                "n_units": units.n_units,
                "n_annotators": units.n_annotators,
            }
        )
    return done


def _kendall_w_row(
    group: dict[str, Any], w_values: np.ndarray, n_ann: int, *, bootstrap: int, seed: int, ci: float
) -> dict[str, Any]:
    n_w = len(w_values)
    chunks = [weights @ w_values / n_w for weights in weight_chunks(n_w, bootstrap, seed)]
    lo, hi = _ci(np.concatenate(chunks) if chunks else np.array([]), ci)
    return {
        **group,
        "metric": "kendall_w",
        "value": float(w_values.mean()),
        "ci_low": lo,
        "ci_high": hi,
        "n_items": n_w,
        "n_units": n_w,
        "n_annotators": n_ann,
    }


# ---------------------------------------------------------------------------------------------------------
# Annotator x annotator matrix


def verdict_kappa(x: Sequence[str], y: Sequence[str], weights: metrics.KappaWeights = None) -> float:
    """Cohen's kappa on pair-relative verdicts, categories in the order b < tie < a (for the weights)."""
    return _safe(lambda: metrics.cohen_kappa(list(x), list(y), weights=weights, categories=list(VERDICTS)))


def agreement_matrix(labels: pd.DataFrame, metric: str = "cohen", *, min_shared: int = 1) -> pd.DataFrame:
    """Annotators x annotators agreement on pair-relative verdicts (pairwise labels and ranking pairs).

    ``metric``: ``"cohen"`` (Cohen's kappa, unweighted), ``"cohen_linear"`` / ``"cohen_quadratic"``
    (weighted on the order b < tie < a) or ``"percent"`` (share of shared units with the same verdict).
    A cell is NaN when the two annotators share fewer than ``min_shared`` units or kappa is undefined
    (e.g. both always gave the same verdict). ``.attrs["n_shared"]`` holds the shared-unit counts
    (``{annotator: {annotator: n}}``; ``pd.DataFrame(m.attrs["n_shared"])`` is the matrix).
    """
    weights: dict[str, metrics.KappaWeights] = {
        "cohen": None,
        "cohen_linear": "linear",
        "cohen_quadratic": "quadratic",
        "percent": None,
    }
    if metric not in weights:
        raise ValueError(f"agreement_matrix(metric=...): use one of {sorted(weights)}, got {metric!r}")
    votes = preference_votes(labels)
    if votes.empty:
        return pd.DataFrame(dtype=float)
    votes["unit"] = votes["item_id"] + "\x1f" + votes["response_a"] + "\x1f" + votes["response_b"]
    wide = votes.pivot_table(index="unit", columns="annotator", values="code", aggfunc="last")
    names = sorted(wide.columns)
    out = pd.DataFrame(
        np.nan, index=pd.Index(names, name="annotator"), columns=pd.Index(names, name="annotator")
    )
    shared = pd.DataFrame(0, index=out.index, columns=out.columns)
    for x, y in itertools.combinations_with_replacement(names, 2):
        both = wide[[x, y]].dropna() if x != y else wide[[x]].dropna()
        n = len(both)
        shared.loc[x, y] = shared.loc[y, x] = n
        if n < max(min_shared, 1):
            continue
        if x == y:
            out.loc[x, y] = 1.0
            continue
        a, b = both[x].to_numpy(), both[y].to_numpy()
        if metric == "percent":
            value = float((a == b).mean())
        else:
            value = verdict_kappa(
                [VERDICTS[int(v)] for v in a], [VERDICTS[int(v)] for v in b], weights[metric]
            )
        out.loc[x, y] = out.loc[y, x] = value
    # plain dicts in attrs: pandas compares attrs with == when frames are merged or concatenated (a DataFrame
    # there raises) and writes them as JSON in to_parquet
    out.attrs["n_shared"] = {x: {y: int(n) for y, n in row.items()} for x, row in shared.iterrows()}
    out.attrs["metric"] = metric
    return out


# ---------------------------------------------------------------------------------------------------------
# Per-item disagreement (the audit widget sorts by it)


DISAGREEMENT_COLUMNS = (
    "item_id",
    "task",
    "n_labels",
    "outcomes",
    "majority",
    "majority_share",
    "entropy",
    "disagreement",
)


def disagreement_scores(labels: pd.DataFrame) -> pd.DataFrame:
    """One row per labelled item: how much its annotators disagree, highest first.

    - ``outcomes``: {outcome: count}; an outcome is the winner id or ``'tie'`` for pairwise labels, the
      ranking text (``'r2 > r1 = r3'``) for rankings.
    - ``majority``: the most common outcome (None when the top count is shared); ``majority_share`` its share.
    - ``entropy``: Shannon entropy of the outcomes in bits (0 = unanimous).
    - ``disagreement`` in [0, 1]: the chance that two different annotators, picked at random, give different
      verdicts on a response pair, averaged over the item's response pairs (for pairwise items: over its one
      pair). 0 = unanimous; NaN for items with a single label.
    """
    rated = rated_labels(labels)
    if rated.empty:
        return pd.DataFrame(columns=list(DISAGREEMENT_COLUMNS))
    # Vectorised: rankings repeat a lot (a pairwise label has one of three), so each distinct ranking is
    # turned into its pair verdicts and outcome text once, and labels only carry codes into numpy/groupby.
    n_rows = len(rated)
    item_code, item_ids = pd.factorize(rated["item_id"].to_numpy(dtype=object))
    rankings = _RankingCodes()
    rank_code = np.asarray(rankings.codes(rated["ranking"].to_numpy(dtype=object)), dtype=np.int64)
    pair_a, pair_b, pair_verdict, first_pair, n_pairs, ranking_text = rankings.tables()

    # Per-unit (item x response pair) verdict counts; votes in label order, pairs in (a, b) order, so unit
    # codes come in the same first-seen order as preference_votes + unit_verdict_counts would give.
    per_label = np.append(n_pairs, 0)[rank_code]  # code -1 (no ranking) -> the appended 0
    vote_label = np.repeat(np.arange(n_rows), per_label)
    starts = np.cumsum(per_label) - per_label
    vote_first = np.append(first_pair, 0)[rank_code][vote_label]
    vote_pair = vote_first + np.arange(len(vote_label)) - starts[vote_label]
    pair_ids: dict[tuple[str, str], int] = {}
    pair_code = np.asarray(
        [pair_ids.setdefault(ab, len(pair_ids)) for ab in zip(pair_a, pair_b, strict=True)], dtype=np.int64
    )
    n_pair_ids = max(len(pair_ids), 1)
    unit_key = item_code[vote_label].astype(np.int64) * n_pair_ids + pair_code[vote_pair]
    unit_code, unit_keys = pd.factorize(unit_key)
    flat = unit_code * len(VERDICTS) + pair_verdict[vote_pair]
    counts = np.bincount(flat, minlength=len(unit_keys) * len(VERDICTS)).reshape(-1, len(VERDICTS))
    counts = counts.astype(float)
    n = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_unit = np.where(n >= 2, 1.0 - (counts * (counts - 1)).sum(axis=1) / (n * (n - 1)), np.nan)
    unit_item = np.asarray(unit_keys, dtype=np.int64) // n_pair_ids
    pair_disagreement = np.full(len(item_ids), np.nan)
    if len(per_unit):
        mean = pd.Series(per_unit).groupby(unit_item).mean()
        pair_disagreement[mean.index.to_numpy()] = mean.to_numpy()

    # Whole-label outcomes: the winner of a pairwise label, else the ranking's text.
    winners = rated["winner"].to_numpy(dtype=object)
    pairwise = (rated["task"] == "pairwise").to_numpy(dtype=bool)
    texts = np.asarray([*ranking_text, None], dtype=object)[rank_code]  # code -1 -> None
    has_winner = np.fromiter((isinstance(w, str) for w in winners), dtype=bool, count=n_rows)
    outcome = np.where(pairwise & has_winner, winners, texts)
    out_code, out_names = pd.factorize(outcome)  # None -> -1: no outcome, not counted
    known = out_code >= 0
    group_key = item_code[known].astype(np.int64) * max(len(out_names), 1) + out_code[known]
    group_code, group_keys = pd.factorize(group_key)  # (item, outcome) in first-seen order
    g_count = np.bincount(group_code, minlength=len(group_keys))
    g_item = np.asarray(group_keys, dtype=np.int64) // max(len(out_names), 1)
    g_outcome = np.asarray(group_keys, dtype=np.int64) % max(len(out_names), 1)
    # Within an item: most common outcome first, ties in first-seen order.
    order = np.lexsort((np.arange(len(group_keys)), -g_count, g_item))
    g_item, g_outcome, g_count = g_item[order], g_outcome[order], g_count[order]
    o_items, o_first, o_groups = np.unique(g_item, return_index=True, return_counts=True)
    if not len(o_items):
        return pd.DataFrame(columns=list(DISAGREEMENT_COLUMNS)).astype({"n_labels": "int64"})
    n_labels = np.add.reduceat(g_count, o_first)
    top = g_count[o_first]
    n_top = np.add.reduceat((g_count == np.repeat(top, o_groups)).astype(np.int64), o_first)
    share = g_count.astype(float) / np.repeat(n_labels, o_groups).astype(float)
    entropy = (
        pd.Series(-(share * np.log2(share)))
        .groupby(np.repeat(np.arange(len(o_items)), o_groups), sort=False)
        .sum()
        .to_numpy()
    )
    names = np.asarray([str(v) for v in np.asarray(out_names, dtype=object)], dtype=object)
    flat_names, flat_counts = names[g_outcome].tolist(), g_count.tolist()
    outcomes = [
        dict(zip(flat_names[i : i + k], flat_counts[i : i + k], strict=True))
        for i, k in zip(o_first.tolist(), o_groups.tolist(), strict=True)
    ]
    first_outcome = np.asarray(out_names, dtype=object)[g_outcome[o_first]]
    majority = np.where(n_top == 1, first_outcome, np.full(len(o_items), None, dtype=object))
    item_task = rated["task"].groupby(item_code).first().reindex(o_items).to_numpy(dtype=object)
    out = pd.DataFrame(
        {
            "item_id": list(np.asarray(item_ids, dtype=object)[o_items]),
            "task": list(item_task),
            "n_labels": n_labels.astype("int64"),
            "outcomes": outcomes,
            "majority": list(majority),
            "majority_share": top.astype(float) / n_labels.astype(float),
            "entropy": entropy + 0.0,  # + 0.0 turns -0.0 into 0.0
            "disagreement": pair_disagreement[o_items],
        },
        columns=list(DISAGREEMENT_COLUMNS),
    )
    return out.sort_values(
        ["disagreement", "entropy", "item_id"],
        ascending=[False, False, True],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)


class _RankingCodes:
    """Distinct rankings -> small integer codes, with each one's response pairs and outcome text."""

    def __init__(self) -> None:
        self._codes: dict[Any, int] = {b"null": -1}  # None / NaN: a label without a ranking casts no votes
        self._rankings: list[Any] = []

    def codes(self, rankings: Iterable[Any]) -> list[int]:
        """A code per ranking. Rankings are keyed by their JSON text (lists and tuples alike, 70 ns each);
        a value JSON cannot hold gets a code of its own."""
        out: list[int] = []
        for ranking in rankings:
            try:
                key: Any = orjson.dumps(ranking)
            except TypeError:
                key = ("row", len(self._rankings))
            found = self._codes.get(key)
            if found is None:
                found = self._codes[key] = len(self._rankings)
                self._rankings.append(ranking)
            out.append(found)
        return out

    def tables(self) -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
        """Per pair of every distinct ranking (concatenated): a, b, verdict index (into VERDICTS); per
        ranking: its first pair's position, its number of pairs and its ``ranking_string``."""
        pair_a: list[str] = []
        pair_b: list[str] = []
        verdict: list[int] = []
        first: list[int] = []
        count: list[int] = []
        texts: list[str | None] = []
        for ranking in self._rankings:
            rank = rank_of(ranking)
            first.append(len(pair_a))
            for a, b in itertools.combinations(sorted(rank), 2):
                pair_a.append(a)
                pair_b.append(b)
                ra, rb = rank[a], rank[b]
                verdict.append(1 if ra == rb else 2 if ra < rb else 0)  # VERDICTS: b, tie, a
            count.append(len(pair_a) - first[-1])
            texts.append(ranking_string(ranking))
        return (
            pair_a,
            pair_b,
            np.asarray(verdict, dtype=np.int64),
            np.asarray(first, dtype=np.int64),
            np.asarray(count, dtype=np.int64),
            texts,
        )
