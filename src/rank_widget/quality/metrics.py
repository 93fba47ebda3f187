"""Metric primitives for label quality (design §6): agreement coefficients and ranking models.

Each function takes plain arrays / DataFrames and returns a number, Series or DataFrame; the reports in this
package (agreement, annotators, models) build on them. Libraries are used where a good one exists:
``krippendorff`` (alpha), ``scipy.stats`` (ranks, tau-b). Hand-written, with the reason:

- Cohen's and Fleiss' kappa: a few lines over a contingency table; scikit-learn and statsmodels are not
  runtime dependencies, and we need NaN-pair dropping and an explicit category order for the weights.
- Kendall's W: scipy has only the equivalent Friedman test; W with tie correction is a few lines.
- Bradley-Terry / Plackett-Luce: choix and scikit-learn fit row by row (seconds to minutes on 1M comparisons);
  aggregating to a K x K win matrix first makes the fit independent of the number of comparisons (design §8).

Non-identifiable Bradley-Terry / Plackett-Luce fits (a model that never loses or never wins, or groups of
models never compared with each other) raise ``ValueError`` by default; ``prior=c`` adds ``c`` pseudo-wins
each way for every pair of things in the data (compared or not), which makes every strength finite and
shrinks them toward equality.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Literal

import krippendorff
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse, stats
from scipy.sparse import csgraph
from scipy.special import expit

KappaWeights = Literal["linear", "quadratic"] | None
AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]
FloatArray = npt.NDArray[np.float64]

LN10 = math.log(10.0)
ELO_BASE = 1000.0
ELO_SCALE = 400.0

# The krippendorff package builds several N x V x V arrays (about 0.1 s per 2**22 cells here, and the memory);
# above this size we compute the identical coincidences from the sparse count table instead.
_PACKAGE_CELL_LIMIT = 2**22
# Up to this many distinct numeric values, counting by one comparison pass per value beats hashing.
_SMALL_DOMAIN = 32


# --------------------------------------------------------------------------------------------------------
# Cohen's kappa
# --------------------------------------------------------------------------------------------------------


def cohen_kappa(
    a: Iterable[Any],
    b: Iterable[Any],
    *,
    weights: KappaWeights = None,
    categories: Sequence[Any] | None = None,
) -> float:
    """Cohen's kappa between two raters' labels of the same items (Cohen 1960; weighted: Cohen 1968).

    ``a[i]`` and ``b[i]`` are the two labels of item ``i``; pairs where either is missing (None/NaN/NA) are
    dropped. ``weights`` "linear" or "quadratic" penalise disagreements by their distance in category index,
    in ``categories`` order (default: the sorted union of observed labels). Returns NaN when agreement by
    chance is already perfect (both raters used a single, identical category).

    Examples
    --------
    Artstein & Poesio (2008), "Inter-coder agreement for computational linguistics", Table 1: 100 items,
    contingency table [[20, 20], [10, 50]], kappa = 0.348.

    >>> a = [0] * 40 + [1] * 60
    >>> b = [0] * 20 + [1] * 20 + [0] * 10 + [1] * 50
    >>> round(cohen_kappa(a, b), 3)
    0.348

    Weighted, on three ordered categories (scikit-learn's ``test_cohen_kappa`` weighting example: unweighted
    0.9315, linear 0.9412, quadratic 0.9541):

    >>> a = [0] * 46 + [1] * 44 + [2] * 10
    >>> b = [0] * 50 + [1] * 40 + [2] * 10
    >>> [round(cohen_kappa(a, b, weights=w), 4) for w in (None, "linear", "quadratic")]
    [0.9315, 0.9412, 0.9541]
    """
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    xa, xb = _labels_1d(a), _labels_1d(b)
    if len(xa) != len(xb):
        raise ValueError(
            f"cohen_kappa: a has {len(xa)} labels but b has {len(xb)}; pass one label per item each"
        )
    keep = ~(pd.isna(xa) | pd.isna(xb))
    position = np.flatnonzero(keep)
    va, vb = xa[keep], xb[keep]
    if len(va) == 0:
        raise ValueError("cohen_kappa: no item has a label from both raters")
    if categories is None:
        try:
            numeric = va.dtype.kind in "biuf" and vb.dtype.kind in "biuf"
            cats = np.unique(np.concatenate([va, vb])).tolist() if numeric else sorted(set(va) | set(vb))
        except TypeError as exc:
            raise ValueError(
                "cohen_kappa: labels of mixed types cannot be sorted; pass categories=[...] in order"
            ) from exc
    else:
        cats = list(categories)
        if len(set(cats)) != len(cats):
            raise ValueError(f"cohen_kappa: categories has duplicates: {cats!r}")
    index = pd.Index(cats)
    ia, ib = index.get_indexer(pd.Index(va)), index.get_indexer(pd.Index(vb))
    for name, codes, values in (("a", ia, va), ("b", ib, vb)):
        if (codes < 0).any():
            bad = int(np.flatnonzero(codes < 0)[0])
            raise ValueError(
                f"cohen_kappa: {name}[{position[bad]}] is {values[bad]!r}, which is not in categories "
                f"{cats!r}; add it to categories"
            )
    k = len(cats)
    observed = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k).astype(np.float64)
    n = observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    idx = np.arange(k)
    dist = np.abs(idx[:, None] - idx[None, :]).astype(np.float64)
    if weights is None:
        w = (dist > 0).astype(np.float64)
    elif weights == "linear":
        w = dist
    else:
        w = dist**2
    denominator = float((w * expected).sum())
    if denominator == 0.0:
        return float("nan")
    return 1.0 - float((w * observed).sum()) / denominator


def _labels_1d(x: Iterable[Any]) -> npt.NDArray[Any]:
    """Numeric arrays stay numeric (fast path); anything else becomes an object array, so mixed labels are
    never coerced to strings."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return x.ravel()
    if isinstance(x, pd.Series) and x.dtype.kind in "biuf":
        return x.to_numpy()
    values = x.to_numpy(dtype=object) if isinstance(x, pd.Series) else list(x)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


# --------------------------------------------------------------------------------------------------------
# Fleiss' kappa
# --------------------------------------------------------------------------------------------------------


def fleiss_kappa(counts: Any) -> float:
    """Fleiss' kappa (Fleiss 1971) from an items x categories matrix of rater counts.

    ``counts[i, j]`` = number of raters who put item ``i`` in category ``j``. Every item must have the same
    number of ratings (at least 2); otherwise use :func:`krippendorff_alpha`, which allows missing ratings.
    Returns NaN when every rating falls in one category (chance agreement is perfect).

    Examples
    --------
    The worked example of Wikipedia's "Fleiss' kappa" article: 10 items, 14 raters, 5 categories,
    kappa = 0.210.

    >>> counts = [
    ...     [0, 0, 0, 0, 14],
    ...     [0, 2, 6, 4, 2],
    ...     [0, 0, 3, 5, 6],
    ...     [0, 3, 9, 2, 0],
    ...     [2, 2, 8, 1, 1],
    ...     [7, 7, 0, 0, 0],
    ...     [3, 2, 6, 3, 0],
    ...     [2, 5, 3, 2, 2],
    ...     [6, 5, 2, 1, 0],
    ...     [0, 2, 2, 3, 7],
    ... ]
    >>> print(f"{fleiss_kappa(counts):.3f}")
    0.210
    """
    frame = counts if isinstance(counts, pd.DataFrame) else pd.DataFrame(np.asarray(counts))
    labels = list(frame.index)
    table = frame.to_numpy(dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] == 0:
        raise ValueError(
            f"fleiss_kappa: counts must be a non-empty items x categories matrix, got {table.shape}"
        )
    bad = ~np.isfinite(table) | (table < 0) | (table != np.round(table))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"fleiss_kappa: row {labels[i]!r}, column {frame.columns[j]!r} holds {table[i, j]!r}; "
            "counts must be non-negative whole numbers of raters"
        )
    per_item = table.sum(axis=1)
    n = per_item[0]
    uneven = np.flatnonzero(per_item != n)
    if uneven.size:
        i = int(uneven[0])
        raise ValueError(
            f"fleiss_kappa: row {labels[i]!r} has {per_item[i]:g} ratings but row {labels[0]!r} has {n:g}; "
            "Fleiss' kappa needs the same number of raters per item (drop or complete that item, or use "
            "krippendorff_alpha, which allows missing ratings)"
        )
    if n < 2:
        raise ValueError(f"fleiss_kappa: each item needs at least 2 ratings, got {n:g}")
    n_items = table.shape[0]
    p_j = table.sum(axis=0) / (n_items * n)
    p_i = ((table**2).sum(axis=1) - n) / (n * (n - 1))
    p_bar = float(p_i.mean())
    p_e = float((p_j**2).sum())
    if p_e == 1.0:
        return float("nan")
    return (p_bar - p_e) / (1.0 - p_e)


# --------------------------------------------------------------------------------------------------------
# Krippendorff's alpha
# --------------------------------------------------------------------------------------------------------


def krippendorff_alpha(data: Any, *, level: AlphaLevel = "nominal") -> float:
    """Krippendorff's alpha for a raters x units matrix (Krippendorff 2011); NaN/None = missing.

    Nominal data may be strings or any hashable labels; ordinal, interval and ratio data must be numeric
    (ordinal distances use the rank order of the values). Units coded by fewer than two raters are ignored,
    as the definition prescribes. Returns NaN when only one value occurs (no variation: alpha undefined).

    Computed with the ``krippendorff`` package from a units x values count table that we build in one
    ``bincount`` (the package's own conversion is slower and rejects string data with missing values). The
    package was checked against the coincidence-matrix definition on complete multi-rater data and on the
    published examples (see tests); it agrees to 1e-12.

    Examples
    --------
    Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units,
    values 1-5 with missing data. Published: nominal .743, ordinal .815, interval .849, ratio .797.

    >>> nan = float("nan")
    >>> data = [
    ...     [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...     [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...     [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...     [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ... ]
    >>> [round(krippendorff_alpha(data, level=v), 3) for v in ("nominal", "ordinal", "interval", "ratio")]
    [0.743, 0.815, 0.849, 0.797]
    """
    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise ValueError(f"level must be 'nominal', 'ordinal', 'interval' or 'ratio', not {level!r}")
    values = data.to_numpy() if isinstance(data, pd.DataFrame) else _as_2d(data, "krippendorff_alpha")
    if values.ndim != 2 or values.shape[0] < 2:
        raise ValueError(
            f"krippendorff_alpha: data has shape {values.shape}; pass a raters x units matrix with at least "
            "two raters"
        )
    if values.dtype.kind in "biuf":
        small = _small_domain_counts(values)
        if small is not None:
            table, domain = small
            if table.shape[0] == 0:
                raise ValueError(
                    "krippendorff_alpha: no unit was coded by two or more raters; alpha needs pairable values"
                )
            if level == "ratio" and (domain < 0).any():
                raise ValueError("krippendorff_alpha: level='ratio' needs non-negative values")
            return _alpha_table(table, domain, level)
    if values.dtype.kind == "f":
        present = ~np.isnan(values)
    elif values.dtype.kind in "biu":
        present = np.ones(values.shape, dtype=bool)
    else:
        present = ~pd.isna(values)
    unit = np.nonzero(present)[1]
    m = np.bincount(unit, minlength=values.shape[1])
    if not (m >= 2).any():
        raise ValueError(
            "krippendorff_alpha: no unit was coded by two or more raters; alpha needs pairable values"
        )
    # Only values in units coded at least twice are pairable (Krippendorff 2011); drop the rest up front.
    pairable = m[unit] >= 2
    domain, codes = _value_codes(values[present][pairable], level)
    n_values = len(domain)
    if n_values < 2:
        return float("nan")
    unit_ids = np.cumsum(m >= 2)[unit[pairable]] - 1
    n_units = int((m >= 2).sum())
    if n_units * n_values * n_values <= _PACKAGE_CELL_LIMIT:
        value_counts = np.bincount(unit_ids * n_values + codes, minlength=n_units * n_values)
        return _alpha_table(value_counts.reshape(n_units, n_values), domain, level)
    sparse_counts = sparse.csr_matrix(
        (np.ones(len(codes)), (unit_ids, codes)), shape=(n_units, n_values), dtype=np.float64
    )
    return _alpha_from_counts(sparse_counts, domain, level)


def _alpha_table(table: npt.NDArray[np.int64], domain: npt.NDArray[Any], level: AlphaLevel) -> float:
    """Alpha from a dense pairable-units x values count table: the package while its N x V x V array is
    small, our sparse coincidences beyond that."""
    n_units, n_values = table.shape
    if n_values < 2:
        return float("nan")
    if n_units * n_values * n_values <= _PACKAGE_CELL_LIMIT:
        return float(krippendorff.alpha(value_counts=table, value_domain=domain, level_of_measurement=level))
    return _alpha_from_counts(table, domain, level)


def _small_domain_counts(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], FloatArray] | None:
    """Units x values counts by one comparison pass per distinct value (fast for rating scales), restricted
    to pairable units and the values they hold; None when there are too many distinct values."""
    domain = np.unique(values)
    if values.dtype.kind == "f":
        domain = domain[~np.isnan(domain)]
    if len(domain) > _SMALL_DOMAIN:
        return None
    table = np.empty((values.shape[1], len(domain)), dtype=np.int64)
    for j, v in enumerate(domain):
        table[:, j] = np.count_nonzero(values == v, axis=0)
    table = table[table.sum(axis=1) >= 2]
    used = table.sum(axis=0) > 0
    return table[:, used], domain[used].astype(np.float64)


def _as_2d(data: Any, where: str) -> npt.NDArray[Any]:
    arr = np.asarray(data, dtype=object) if _has_strings(data) else np.asarray(data)
    if arr.ndim != 2:
        raise ValueError(f"{where}: expected a 2-D raters x units matrix, got shape {arr.shape}")
    return arr


def _has_strings(data: Any) -> bool:
    if isinstance(data, np.ndarray):
        return data.dtype.kind in "OUS"
    return any(isinstance(v, str) for row in data for v in row)


def _value_codes(observed: npt.NDArray[Any], level: str) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """Sorted value domain and each observed value's index in it."""
    numeric: FloatArray
    if observed.dtype.kind in "biuf":
        numeric = observed.astype(np.float64)
    else:
        try:
            numeric = pd.to_numeric(pd.Series(observed, dtype=object), errors="raise").to_numpy(np.float64)
        except (TypeError, ValueError):
            if level != "nominal":
                raise ValueError(
                    f"krippendorff_alpha: level={level!r} needs numeric values; map ordered categories to "
                    "numbers first (e.g. {'bad': 1, 'ok': 2, 'good': 3}) or use level='nominal'"
                ) from None
            labels, _ = pd.factorize(pd.Series(observed, dtype=object), sort=False)
            return np.arange(int(labels.max()) + 1), labels.astype(np.int64)
    # Hash first, then sort the few distinct values: faster than np.unique's full sort of every value.
    codes, uniques = pd.factorize(numeric, sort=False)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    if level == "ratio" and (uniques < 0).any():
        raise ValueError("krippendorff_alpha: level='ratio' needs non-negative values")
    return uniques[order], rank[codes].astype(np.int64)


def _alpha_from_counts(value_counts: Any, domain: npt.NDArray[Any], level: str) -> float:
    """Alpha from a (sparse or dense) units x values count table, touching only its non-zero cells.

    Coincidences o = sum_u (n_u n_u' - diag n_u) / (m_u - 1) come from one sparse product; the diagonal term
    never matters because every metric has delta(c, c) = 0. With n_c the pairable-value counts and n their
    sum, alpha = 1 - (n - 1) * sum(o * delta) / sum_ck(n_c n_k delta_ck) (Krippendorff 2011).
    """
    counts = sparse.csr_matrix(value_counts, dtype=np.float64)
    m = np.asarray(counts.sum(axis=1)).ravel()
    counts = counts[m >= 2]
    m = m[m >= 2]
    n_v = np.asarray(counts.sum(axis=0)).ravel()
    n = float(n_v.sum())
    values = np.asarray(domain, dtype=np.float64)
    o = (sparse.diags(1.0 / (m - 1.0)) @ counts).T.tocsr() @ counts
    o = o.tocoo()
    cum = np.concatenate([[0.0], np.cumsum(n_v)])
    observed = float((o.data * _delta(o.row, o.col, values, n_v, cum, level)).sum())
    expected = _expected_disagreement(values, n_v, cum, level)
    if expected == 0.0:
        return float("nan")
    return 1.0 - (n - 1.0) * observed / expected


def _delta(
    c: npt.NDArray[np.intp],
    k: npt.NDArray[np.intp],
    values: FloatArray,
    n_v: FloatArray,
    cum: FloatArray,
    level: str,
) -> FloatArray:
    """Krippendorff's metric differences delta^2(c, k) for arrays of value indices into the sorted domain."""
    if level == "nominal":
        return (c != k).astype(np.float64)
    x, y = values[c], values[k]
    if level == "interval":
        return (x - y) ** 2
    if level == "ratio":
        total = x + y
        return np.where(total == 0, 0.0, ((x - y) / np.where(total == 0, 1.0, total)) ** 2)
    lo, hi = np.minimum(c, k), np.maximum(c, k)
    return (cum[hi + 1] - cum[lo] - (n_v[c] + n_v[k]) / 2.0) ** 2


def _expected_disagreement(values: FloatArray, n_v: FloatArray, cum: FloatArray, level: str) -> float:
    """sum_ck n_c n_k delta(c, k): closed forms where they exist, else by row blocks (bounded memory)."""
    n = n_v.sum()
    if level == "nominal":
        return float(n**2 - (n_v**2).sum())
    if level == "interval":
        mean = (n_v * values).sum() / n
        return float(2.0 * n * (n_v * (values - mean) ** 2).sum())
    size = len(values)
    cols = np.arange(size)
    total = 0.0
    block = max(1, 2**22 // size)
    for start in range(0, size, block):
        rows = np.arange(start, min(size, start + block))
        d = _delta(rows[:, None], cols[None, :], values, n_v, cum, level)
        total += float((n_v[rows, None] * n_v[None, :] * d).sum())
    return total


# --------------------------------------------------------------------------------------------------------
# Kendall's W and tau-b
# --------------------------------------------------------------------------------------------------------


def kendall_w(ratings: Any, *, correction: bool = True) -> float:
    """Kendall's coefficient of concordance W for an objects x raters matrix (Kendall & Babington Smith 1939).

    Each rater's column is ranked (ties get their average rank), so scores or ranks both work. With
    ``correction`` the denominator subtracts ``m * sum(t^3 - t)`` over each rater's tie groups (Kendall 1948;
    Siegel & Castellan 1988). 0 = no agreement, 1 = identical orderings. Missing values are an
    error: W needs every rater to rank every object. Returns NaN when every rater ties all objects.

    Examples
    --------
    The ``anxiety`` data of the R package irr (20 subjects x 3 raters, with ties): ``irr::kendall(anxiety,
    correct=TRUE)`` reports Wt = 0.54.

    >>> anxiety = pd.DataFrame(
    ...     {
    ...         "rater1": [3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3],
    ...         "rater2": [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4],
    ...         "rater3": [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2],
    ...     }
    ... )
    >>> round(kendall_w(anxiety), 2)
    0.54
    """
    frame = ratings if isinstance(ratings, pd.DataFrame) else pd.DataFrame(np.asarray(ratings))
    if frame.ndim != 2:
        raise ValueError("kendall_w: ratings must be an objects x raters matrix")
    n, m = frame.shape
    if n < 2 or m < 2:
        raise ValueError(f"kendall_w: need at least 2 objects and 2 raters, got {n} objects x {m} raters")
    missing = pd.isna(frame).to_numpy()
    if missing.any():
        i, j = np.argwhere(missing)[0]
        raise ValueError(
            f"kendall_w: object {frame.index[i]!r} has no rating from rater {frame.columns[j]!r}; W needs "
            "complete rankings (drop that object, or use krippendorff_alpha(level='ordinal'), which allows "
            "missing values)"
        )
    try:
        values = frame.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("kendall_w: ratings must be numeric scores or ranks") from exc
    ranks = stats.rankdata(values, axis=0, method="average")
    rank_sums = ranks.sum(axis=1)
    s = float(((rank_sums - rank_sums.mean()) ** 2).sum())
    ties = 0.0
    if correction:
        for j in range(m):
            _, t = np.unique(values[:, j], return_counts=True)
            ties += float((t.astype(np.float64) ** 3 - t).sum())
    denominator = m**2 * (n**3 - n) - m * ties
    if denominator == 0:
        return float("nan")
    return 12.0 * s / denominator


def kendall_tau_b(x: Iterable[Any], y: Iterable[Any]) -> float:
    """Kendall's tau-b between two paired sequences (ties adjusted; scipy.stats.kendalltau, variant b).

    Pairs where either value is missing are dropped. Returns NaN when either side is constant.

    Examples
    --------
    The example of scipy's ``kendalltau`` documentation (tau-b = -0.47140452079103173):

    >>> round(kendall_tau_b([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]), 4)
    -0.4714
    """
    sx, sy = pd.Series(list(x), dtype=object), pd.Series(list(y), dtype=object)
    if len(sx) != len(sy):
        raise ValueError(f"kendall_tau_b: x has {len(sx)} values but y has {len(sy)}; pass paired sequences")
    keep = ~(sx.isna() | sy.isna()).to_numpy()
    xs, ys = sx[keep].tolist(), sy[keep].tolist()
    if len(xs) < 2:
        return float("nan")
    result = stats.kendalltau(xs, ys, variant="b")
    return float(result.statistic)


# --------------------------------------------------------------------------------------------------------
# Bradley-Terry
# --------------------------------------------------------------------------------------------------------


class _PairTable:
    """Comparisons aggregated to K x K counts: ``wins[i, j]`` decisive wins of i over j, ``ties[i, j]`` ties
    between i and j stored once with i < j."""

    def __init__(self, names: pd.Index, wins: FloatArray, ties: FloatArray) -> None:
        self.names = names
        self.wins = wins
        self.ties = ties

    @property
    def k(self) -> int:
        return len(self.names)

    def effective_wins(self, prior: float) -> FloatArray:
        # A tie counts half a win each way (as in the Chatbot Arena notebook).
        w = self.wins + 0.5 * (self.ties + self.ties.T)
        if prior > 0:
            w = w + prior * (1.0 - np.eye(self.k))
        return w


def _aggregate_comparisons(comparisons: pd.DataFrame) -> _PairTable:
    if not isinstance(comparisons, pd.DataFrame):
        raise TypeError(
            "comparisons must be a DataFrame with 'winner' and 'loser' columns (and optional 'tie')"
        )
    absent = [c for c in ("winner", "loser") if c not in comparisons.columns]
    if absent:
        raise ValueError(
            f"comparisons is missing column(s) {absent}; it needs 'winner' and 'loser' (and optionally a "
            f"boolean 'tie'); got columns {list(comparisons.columns)}"
        )
    if len(comparisons) == 0:
        raise ValueError("comparisons is empty; Bradley-Terry needs at least one comparison")
    w_codes, w_uniques = pd.factorize(comparisons["winner"], sort=False, use_na_sentinel=True)
    l_codes, l_uniques = pd.factorize(comparisons["loser"], sort=False, use_na_sentinel=True)
    for col, codes in (("winner", w_codes), ("loser", l_codes)):
        if (codes < 0).any():
            row = comparisons.index[int(np.flatnonzero(codes < 0)[0])]
            raise ValueError(
                f"comparisons row {row!r}: {col!r} is missing; every comparison needs both sides"
            )
    names = pd.Index(w_uniques).append(pd.Index(l_uniques)).unique()
    names = _sorted_if_possible(names)
    # Map the (few) distinct values, not the rows, to positions in the joint index.
    w_pos = names.get_indexer(pd.Index(w_uniques))[w_codes]
    l_pos = names.get_indexer(pd.Index(l_uniques))[l_codes]
    same = w_pos == l_pos
    if same.any():
        row = comparisons.index[int(np.flatnonzero(same)[0])]
        raise ValueError(
            f"comparisons row {row!r}: {names[w_pos[same][0]]!r} is both winner and loser; "
            "drop self-comparisons"
        )
    k = len(names)
    if "tie" in comparisons.columns:
        tie_col = comparisons["tie"]
        if tie_col.isna().any():
            row = comparisons.index[int(np.flatnonzero(tie_col.isna().to_numpy())[0])]
            raise ValueError(f"comparisons row {row!r}: 'tie' is missing; use True or False")
        valid = tie_col.isin([True, False])
        if not valid.all():
            pos = int(np.flatnonzero(~valid.to_numpy())[0])
            raise ValueError(
                f"comparisons row {comparisons.index[pos]!r}: 'tie' is {tie_col.iloc[pos]!r}; use True or "
                "False (or 1 / 0)"
            )
        tie = tie_col.to_numpy(dtype=bool)
    else:
        tie = np.zeros(len(comparisons), dtype=bool)
    decisive = ~tie
    wins = (
        np.bincount(w_pos[decisive] * k + l_pos[decisive], minlength=k * k).reshape(k, k).astype(np.float64)
    )
    lo, hi = np.minimum(w_pos[tie], l_pos[tie]), np.maximum(w_pos[tie], l_pos[tie])
    ties = np.bincount(lo * k + hi, minlength=k * k).reshape(k, k).astype(np.float64)
    return _PairTable(names, wins, ties)


def _sorted_if_possible(names: pd.Index) -> pd.Index:
    try:
        return names.sort_values()
    except TypeError:
        return names


def _check_identifiable(w: FloatArray, names: pd.Index, what: str) -> None:
    """The MLE exists iff the directed graph "i beat j" is strongly connected (Zermelo 1929; Hunter 2004)."""
    n_comp, labels = csgraph.connected_components(
        sparse.csr_matrix(w > 0), directed=True, connection="strong"
    )
    if n_comp == 1:
        return
    beat = w > 0
    problems = []
    for c in range(n_comp):
        inside = labels == c
        members = [str(x) for x in names[inside]]
        shown = ", ".join(members[:5]) + (f" and {len(members) - 5} more" if len(members) > 5 else "")
        lost_to_outside = beat[np.ix_(~inside, inside)].any()
        won_against_outside = beat[np.ix_(inside, ~inside)].any()
        if not lost_to_outside and won_against_outside:
            problems.append(f"{{{shown}}} never lost to the others")
        elif lost_to_outside and not won_against_outside:
            problems.append(f"{{{shown}}} never beat the others")
        elif not lost_to_outside and not won_against_outside:
            problems.append(f"{{{shown}}} never compared with the others")
    raise ValueError(
        f"{what}: strengths are not identifiable (maximum likelihood would be infinite or arbitrary): "
        + "; ".join(problems)
        + ". Collect more comparisons, or pass prior=1.0 to add one pseudo-win each way per pair, which "
        "shrinks strengths toward equality and makes them finite."
    )


def _bt_loglik(s: FloatArray, w: FloatArray) -> float:
    diff = s[:, None] - s[None, :]
    return -float((w * np.logaddexp(0.0, -diff)).sum())


def _bt_hessian(s: FloatArray, n: FloatArray) -> FloatArray:
    """Negative Hessian of the log-likelihood: a weighted graph Laplacian (null space = constant vector)."""
    p = expit(s[:, None] - s[None, :])
    off = n * p * (1.0 - p)
    return np.diag(off.sum(axis=1)) - off


def _fit_bt(
    w: FloatArray, start: FloatArray | None = None, *, tol: float = 1e-10, max_iter: int = 200
) -> FloatArray:
    """Mean-centred MLE of log-strengths by Newton's method with step halving (the log-likelihood is concave).

    Adding J/K to the Laplacian pins the free constant: the solved step sums to zero and H step = gradient.
    """
    k = w.shape[0]
    n = w + w.T
    total_wins = w.sum(axis=1)
    s = np.zeros(k) if start is None else start - start.mean()
    ll = _bt_loglik(s, w)
    for _ in range(max_iter):
        p = expit(s[:, None] - s[None, :])
        grad = total_wins - (n * p).sum(axis=1)
        step = np.linalg.solve(_bt_hessian(s, n) + 1.0 / k, grad)
        t = 1.0
        while True:
            cand = s + t * step
            cand_ll = _bt_loglik(cand, w)
            if cand_ll >= ll - 1e-12 * abs(ll) or t < 1e-8:
                break
            t *= 0.5
        s, ll = cand - cand.mean(), cand_ll
        if float(np.max(np.abs(t * step))) < tol:
            return s
    raise RuntimeError(f"Bradley-Terry fit did not converge in {max_iter} Newton steps")


def _laplacian_pinv(h: FloatArray) -> FloatArray:
    k = h.shape[0]
    return np.linalg.inv(h + 1.0 / k) - 1.0 / k


def bradley_terry(comparisons: pd.DataFrame, *, prior: float = 0.0, tol: float = 1e-10) -> pd.DataFrame:
    """Bradley-Terry strengths from pairwise outcomes (maximum likelihood; Bradley & Terry 1952).

    ``comparisons`` has one row per comparison with ``winner`` and ``loser`` columns and an optional boolean
    ``tie`` column (a tie counts half a win each way, as in the Chatbot Arena notebook). Returns a DataFrame
    indexed by the compared things, sorted strongest first, with

    - ``strength``: natural-log strength, mean-centred: P(i beats j) = 1 / (1 + exp(strength_j - strength_i));
    - ``se``: standard error of ``strength`` from the observed Fisher information of the centred MLE;
    - ``elo``: 1000 + 400 * strength / ln 10 (the Elo scale: +400 points = 10:1 odds);
    - ``wins``, ``losses``, ``ties``, ``n``: raw counts per thing.

    Raises ``ValueError`` when strengths are not identifiable (someone never lost / never won, or the
    comparison graph is disconnected); ``prior=c`` adds ``c`` pseudo-wins each way for every pair, which makes
    the fit always exist. Runs in time independent of the number of rows after one aggregation pass.

    Examples
    --------
    Agresti, *Categorical Data Analysis* (2nd ed., 2002, p. 438): the 1987 American League East, 13 games per
    pair. Published strengths relative to Baltimore (BradleyTerry2 vignette, ``baseballModel1``): Milwaukee
    1.5814, Detroit 1.4364, Toronto 1.2945, New York 1.2476, Boston 1.1077, Cleveland 0.6839.

    >>> teams = ["Milwaukee", "Detroit", "Toronto", "New York", "Boston", "Cleveland", "Baltimore"]
    >>> wins = [  # wins[i][j]: games teams[i] won against teams[j]
    ...     [0, 7, 9, 7, 7, 9, 11],
    ...     [6, 0, 7, 5, 11, 9, 9],
    ...     [4, 6, 0, 7, 7, 8, 12],
    ...     [6, 8, 6, 0, 6, 7, 10],
    ...     [6, 2, 6, 7, 0, 7, 12],
    ...     [4, 4, 5, 6, 6, 0, 6],
    ...     [2, 4, 1, 3, 1, 7, 0],
    ... ]
    >>> games = pd.DataFrame(
    ...     [(teams[i], teams[j]) for i in range(7) for j in range(7) for _ in range(wins[i][j])],
    ...     columns=["winner", "loser"],
    ... )
    >>> bt = bradley_terry(games)
    >>> print((bt["strength"] - bt.loc["Baltimore", "strength"]).round(4))
    model
    Milwaukee    1.5814
    Detroit      1.4364
    Toronto      1.2945
    New York     1.2476
    Boston       1.1077
    Cleveland    0.6839
    Baltimore    0.0000
    Name: strength, dtype: float64
    >>> bt.loc["Milwaukee", ["wins", "losses", "ties", "n"]].tolist()
    [50, 28, 0, 78]
    """
    if prior < 0:
        raise ValueError(f"prior must be >= 0, got {prior}")
    table = _aggregate_comparisons(comparisons)
    w = table.effective_wins(prior)
    _check_identifiable(w, table.names, "bradley_terry")
    s = _fit_bt(w, tol=tol)
    cov = _laplacian_pinv(_bt_hessian(s, w + w.T))
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    ties_per = (table.ties + table.ties.T).sum(axis=1)
    wins_per, losses_per = table.wins.sum(axis=1), table.wins.sum(axis=0)
    out = pd.DataFrame(
        {
            "strength": s,
            "se": se,
            "elo": ELO_BASE + ELO_SCALE * s / LN10,
            "wins": wins_per.astype(np.int64),
            "losses": losses_per.astype(np.int64),
            "ties": ties_per.astype(np.int64),
            "n": (wins_per + losses_per + ties_per).astype(np.int64),
        },
        index=table.names.rename("model"),
    )
    return out.sort_values("strength", ascending=False, kind="stable")


def bradley_terry_bootstrap(
    comparisons: pd.DataFrame,
    *,
    rounds: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    prior: float = 0.0,
) -> pd.DataFrame:
    """Bootstrap confidence intervals for Bradley-Terry strengths.

    Each round resamples the comparisons with replacement (as row resampling would) by one multinomial draw
    over the aggregated outcome cells (ordered win pairs and unordered tie pairs), then refits from the
    full-data estimate. Returns a DataFrame indexed like :func:`bradley_terry` (strongest first) with
    ``strength`` (full-data MLE), ``lower``/``upper`` (percentile interval at level ``ci``), ``se`` (standard
    deviation over rounds) and the same three on the Elo scale (``elo``, ``elo_lower``, ``elo_upper``).

    A resample in which strengths are not identifiable raises ``ValueError`` (pass ``prior`` > 0).

    Examples
    --------
    The baseball data of :func:`bradley_terry`'s example (Agresti 2002, p. 438): ``strength`` is the full-data
    MLE, so relative to Baltimore it is the published Milwaukee 1.5814 ... Cleveland 0.6839, and each
    percentile interval contains it.

    >>> teams = ["Milwaukee", "Detroit", "Toronto", "New York", "Boston", "Cleveland", "Baltimore"]
    >>> wins = [  # wins[i][j]: games teams[i] won against teams[j]
    ...     [0, 7, 9, 7, 7, 9, 11],
    ...     [6, 0, 7, 5, 11, 9, 9],
    ...     [4, 6, 0, 7, 7, 8, 12],
    ...     [6, 8, 6, 0, 6, 7, 10],
    ...     [6, 2, 6, 7, 0, 7, 12],
    ...     [4, 4, 5, 6, 6, 0, 6],
    ...     [2, 4, 1, 3, 1, 7, 0],
    ... ]
    >>> games = pd.DataFrame(
    ...     [(teams[i], teams[j]) for i in range(7) for j in range(7) for _ in range(wins[i][j])],
    ...     columns=["winner", "loser"],
    ... )
    >>> boot = bradley_terry_bootstrap(games, rounds=200, seed=0)
    >>> print((boot["strength"] - boot.loc["Baltimore", "strength"]).round(4))
    model
    Milwaukee    1.5814
    Detroit      1.4364
    Toronto      1.2945
    New York     1.2476
    Boston       1.1077
    Cleveland    0.6839
    Baltimore    0.0000
    Name: strength, dtype: float64
    >>> bool(((boot["lower"] < boot["strength"]) & (boot["strength"] < boot["upper"])).all())
    True
    """
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci}")
    if prior < 0:
        raise ValueError(f"prior must be >= 0, got {prior}")
    table = _aggregate_comparisons(comparisons)
    k = table.k
    w_full = table.effective_wins(prior)
    _check_identifiable(w_full, table.names, "bradley_terry_bootstrap")
    s_full = _fit_bt(w_full)

    win_cells = np.flatnonzero(table.wins.ravel())
    tie_cells = np.flatnonzero(table.ties.ravel())
    cell_counts = np.concatenate([table.wins.ravel()[win_cells], table.ties.ravel()[tie_cells]])
    n_rows = int(cell_counts.sum())
    rng = np.random.default_rng(seed)
    p_cells = cell_counts / n_rows
    pseudo = prior * (1.0 - np.eye(k)) if prior > 0 else 0.0
    samples = np.empty((rounds, k))
    failed = 0
    for r in range(rounds):
        # One draw per round keeps memory at one cell vector however many models there are.
        draw = rng.multinomial(n_rows, p_cells).astype(np.float64)
        wins = np.zeros(k * k)
        wins[win_cells] = draw[: len(win_cells)]
        ties = np.zeros(k * k)
        ties[tie_cells] = draw[len(win_cells) :]
        t = ties.reshape(k, k)
        w = wins.reshape(k, k) + 0.5 * (t + t.T) + pseudo
        if csgraph.connected_components(sparse.csr_matrix(w > 0), directed=True, connection="strong")[0] != 1:
            failed += 1
            continue
        samples[r] = _fit_bt(w, start=s_full, tol=1e-8)
    if failed:
        raise ValueError(
            f"bradley_terry_bootstrap: in {failed} of {rounds} resamples some model never lost or never won, "
            "so its strength is infinite; pass prior=1.0 (one pseudo-win each way per pair) or collect more "
            "comparisons"
        )
    tail = (1.0 - ci) / 2.0
    lower, upper = np.quantile(samples, [tail, 1.0 - tail], axis=0)
    elo = ELO_SCALE / LN10
    out = pd.DataFrame(
        {
            "strength": s_full,
            "lower": lower,
            "upper": upper,
            "se": samples.std(axis=0, ddof=1) if rounds > 1 else np.full(k, np.nan),
            "elo": ELO_BASE + elo * s_full,
            "elo_lower": ELO_BASE + elo * lower,
            "elo_upper": ELO_BASE + elo * upper,
        },
        index=table.names.rename("model"),
    )
    return out.sort_values("strength", ascending=False, kind="stable")


# --------------------------------------------------------------------------------------------------------
# Plackett-Luce
# --------------------------------------------------------------------------------------------------------


def plackett_luce(
    rankings: Iterable[Sequence[Any]],
    *,
    prior: float = 0.0,
    ties: Literal["error", "skip"] = "error",
    tol: float = 1e-9,
    max_iter: int = 100_000,
) -> pd.Series:
    """Plackett-Luce log-strengths from rankings, by the MM algorithm of Hunter (2004).

    ``rankings`` is an iterable of rankings, each best -> worst: a list of items, or a list of tie groups as
    in the label schema (``[["r2"], ["r1"], ["r3"]]``). Tie groups of more than one item have no
    Plackett-Luce likelihood: ``ties="error"`` (default) raises, ``ties="skip"`` drops such rankings. Rankings
    of fewer than two items carry no information and are ignored. Returns a Series of mean-centred natural-log
    strengths indexed by item, strongest first (P(i first among S) = exp(s_i) / sum_{j in S} exp(s_j)).

    Raises ``ValueError`` when strengths are not identifiable (an item never ranked below / above the others);
    ``prior=c`` adds ``c`` pseudo-comparisons each way for every pair of items.

    Examples
    --------
    On rankings of two items Plackett-Luce is Bradley-Terry: each game of :func:`bradley_terry`'s example
    (Agresti 2002, p. 438) as the ranking [winner, loser] gives the published strengths relative to
    Baltimore (BradleyTerry2 vignette): Milwaukee 1.5814 ... Cleveland 0.6839.

    >>> teams = ["Milwaukee", "Detroit", "Toronto", "New York", "Boston", "Cleveland", "Baltimore"]
    >>> wins = [  # wins[i][j]: games teams[i] won against teams[j]
    ...     [0, 7, 9, 7, 7, 9, 11],
    ...     [6, 0, 7, 5, 11, 9, 9],
    ...     [4, 6, 0, 7, 7, 8, 12],
    ...     [6, 8, 6, 0, 6, 7, 10],
    ...     [6, 2, 6, 7, 0, 7, 12],
    ...     [4, 4, 5, 6, 6, 0, 6],
    ...     [2, 4, 1, 3, 1, 7, 0],
    ... ]
    >>> games = [[teams[i], teams[j]] for i in range(7) for j in range(7) for _ in range(wins[i][j])]
    >>> pl = plackett_luce(games)
    >>> print((pl - pl["Baltimore"]).round(4))
    item
    Milwaukee    1.5814
    Detroit      1.4364
    Toronto      1.2945
    New York     1.2476
    Boston       1.1077
    Cleveland    0.6839
    Baltimore    0.0000
    Name: strength, dtype: float64
    """
    if ties not in ("error", "skip"):
        raise ValueError(f"ties must be 'error' or 'skip', not {ties!r}")
    if prior < 0:
        raise ValueError(f"prior must be >= 0, got {prior}")
    parsed = _parse_rankings(rankings, ties)
    if not parsed:
        raise ValueError("plackett_luce: no ranking of two or more items to fit")
    flat = [x for r in parsed for x in r]
    names = _sorted_if_possible(pd.Index(pd.unique(pd.Series(flat, dtype=object)), dtype=object))
    k = len(names)
    position = {name: i for i, name in enumerate(names)}
    codes = np.fromiter((position[x] for x in flat), dtype=np.intp, count=len(flat))
    lengths = np.fromiter((len(r) for r in parsed), dtype=np.intp, count=len(parsed))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    groups = []
    for size in np.unique(lengths):
        first = starts[lengths == size]
        groups.append((codes[first[:, None] + np.arange(size)], np.ones(len(first))))
    if prior > 0:
        i, j = np.nonzero(~np.eye(k, dtype=bool))
        groups.append((np.stack([i, j], axis=1), np.full(len(i), prior)))

    beat = np.zeros((k, k))
    for idx, wt in groups:
        np.add.at(beat, (idx[:, :-1].ravel(), idx[:, 1:].ravel()), np.repeat(wt, idx.shape[1] - 1))
    _check_identifiable(beat, names, "plackett_luce")

    # w_i: weighted number of stages at which i was chosen (every position but the last).
    chosen = np.zeros(k)
    for idx, wt in groups:
        chosen += np.bincount(idx[:, :-1].ravel(), weights=np.repeat(wt, idx.shape[1] - 1), minlength=k)
    gamma = np.ones(k)
    for _ in range(max_iter):
        denom = np.zeros(k)
        for idx, wt in groups:
            g = gamma[idx]
            remaining = np.cumsum(g[:, ::-1], axis=1)[:, ::-1][
                :, :-1
            ]  # sum of gamma over stage r's choice set
            inv = np.cumsum(wt[:, None] / remaining, axis=1)
            contrib = np.concatenate([inv, inv[:, -1:]], axis=1)  # the last item sits in every stage
            denom += np.bincount(idx.ravel(), weights=contrib.ravel(), minlength=k)
        new = chosen / denom
        new /= np.exp(np.log(new).mean())
        delta = float(np.max(np.abs(np.log(new) - np.log(gamma))))
        gamma = new
        if delta < tol:
            break
    else:
        raise RuntimeError(
            f"plackett_luce did not converge in {max_iter} MM iterations (last change {delta:.2e})"
        )
    s = np.log(gamma)
    out = pd.Series(s - s.mean(), index=names.rename("item"), name="strength")
    return out.sort_values(ascending=False, kind="stable")


def _parse_rankings(rankings: Iterable[Sequence[Any]], ties: str) -> list[list[Hashable]]:
    parsed: list[list[Hashable]] = []
    for n, ranking in enumerate(rankings):
        if isinstance(ranking, str) or not isinstance(ranking, Iterable):
            raise ValueError(
                f"ranking #{n} is {ranking!r}; each ranking must be a list of items best -> worst"
            )
        items: list[Hashable] = []
        tied = False
        for entry in ranking:
            if isinstance(entry, (list, tuple)):
                if len(entry) == 0:
                    raise ValueError(f"ranking #{n} has an empty tie group; drop it")
                if len(entry) > 1:
                    if ties == "error":
                        raise ValueError(
                            f"ranking #{n} has tie group {list(entry)!r}; Plackett-Luce has no likelihood "
                            "for ties: pass ties='skip' to drop tied rankings, or fit bradley_terry on "
                            "the pairs"
                        )
                    tied = True
                items.extend(entry)
            else:
                items.append(entry)
        if tied:
            continue
        if len(set(items)) != len(items):
            raise ValueError(f"ranking #{n} lists an item twice: {items!r}")
        if len(items) >= 2:
            parsed.append(items)
    return parsed
