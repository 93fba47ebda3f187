"""Metric primitives against published examples (each cited) and independent computations."""

from __future__ import annotations

import itertools
import math

import choix
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score

from rank_widget.quality import (
    bradley_terry,
    bradley_terry_bootstrap,
    cohen_kappa,
    fleiss_kappa,
    kendall_tau_b,
    kendall_w,
    krippendorff_alpha,
    plackett_luce,
)
from rank_widget.quality.metrics import _alpha_from_counts

NAN = np.nan

# ------------------------------------------------------------------------------------------------------------
# Cohen's kappa
# ------------------------------------------------------------------------------------------------------------


def test_cohen_kappa_artstein_poesio_2008_table_1() -> None:
    # Artstein & Poesio (2008) "Inter-coder agreement for computational linguistics", Table 1: contingency
    # [[20, 20], [10, 50]] -> kappa = 0.348 (also scikit-learn's test_cohen_kappa).
    a = [0] * 40 + [1] * 60
    b = [0] * 20 + [1] * 20 + [0] * 10 + [1] * 50
    assert cohen_kappa(a, b) == pytest.approx(0.348, abs=5e-4)
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa(b, a), abs=1e-15)


def test_cohen_kappa_artstein_poesio_table_4_multiclass() -> None:
    # Artstein & Poesio (2008), Table 4 (three categories): kappa = 0.8013 (scikit-learn test_cohen_kappa).
    a = [0] * 46 + [1] * 44 + [2] * 10
    b = [0] * 52 + [1] * 32 + [2] * 16
    assert cohen_kappa(a, b) == pytest.approx(0.8013, abs=5e-5)


def test_cohen_kappa_weighted_sklearn_reference_values() -> None:
    # scikit-learn sklearn/metrics/tests/test_classification.py::test_cohen_kappa, "Weighting example":
    # none 0.9315, linear 0.9412, quadratic 0.9541.
    a = [0] * 46 + [1] * 44 + [2] * 10
    b = [0] * 50 + [1] * 40 + [2] * 10
    assert cohen_kappa(a, b) == pytest.approx(0.9315, abs=5e-5)
    assert cohen_kappa(a, b, weights="linear") == pytest.approx(0.9412, abs=5e-5)
    assert cohen_kappa(a, b, weights="quadratic") == pytest.approx(0.9541, abs=5e-5)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn_on_random_ratings(weights: str | None) -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 5, 300)
    b = np.clip(a + rng.integers(-2, 3, 300), 0, 4)
    expected = cohen_kappa_score(a, b, weights=weights)
    assert cohen_kappa(a, b, weights=weights) == pytest.approx(expected, abs=1e-12)  # type: ignore[arg-type]


def test_cohen_kappa_categories_order_sets_weight_distances() -> None:
    # String labels with an explicit order behave exactly like their ordinal codes.
    order = ["bad", "ok", "good", "great"]
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, 200)
    b = np.clip(a + rng.integers(-1, 2, 200), 0, 3)
    sa, sb = [order[i] for i in a], [order[i] for i in b]
    for weights in ("linear", "quadratic"):
        assert cohen_kappa(sa, sb, weights=weights, categories=order) == pytest.approx(
            cohen_kappa(a, b, weights=weights), abs=1e-12
        )
    # Sorted order (alphabetical) is a different distance, so a different weighted kappa.
    assert cohen_kappa(sa, sb, weights="linear") != pytest.approx(cohen_kappa(a, b, weights="linear"))


def test_cohen_kappa_drops_missing_pairs_and_reports_unknown_labels() -> None:
    a = [1, 2, None, 1, 2, float("nan"), 2]
    b = [1, 2, 1, 2, 2, 2, None]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa([1, 2, 1, 2], [1, 2, 2, 2]))
    with pytest.raises(ValueError, match=r"a\[2\] is 3, which is not in categories"):
        cohen_kappa([1, 2, 3], [1, 2, 2], categories=[1, 2])
    with pytest.raises(ValueError, match="a has 2 labels but b has 3"):
        cohen_kappa([1, 2], [1, 2, 3])
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))


# ------------------------------------------------------------------------------------------------------------
# Fleiss' kappa
# ------------------------------------------------------------------------------------------------------------

# Wikipedia "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories; kappa = 0.210.
FLEISS_WIKI = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_wikipedia_worked_example() -> None:
    assert fleiss_kappa(FLEISS_WIKI) == pytest.approx(0.210, abs=5e-4)
    # Same value to full precision as Fleiss (1971) eq. for P-bar and P-e, computed independently here.
    t = np.array(FLEISS_WIKI, dtype=float)
    n = 14
    p_bar = np.mean([(sum(x * (x - 1) for x in row)) / (n * (n - 1)) for row in t])
    p_e = sum((t[:, j].sum() / t.sum()) ** 2 for j in range(5))
    assert fleiss_kappa(FLEISS_WIKI) == pytest.approx((p_bar - p_e) / (1 - p_e), abs=1e-14)


def test_fleiss_kappa_perfect_agreement_and_errors() -> None:
    perfect = [[3, 0], [0, 3], [3, 0]]
    assert fleiss_kappa(perfect) == pytest.approx(1.0)
    frame = pd.DataFrame([[2, 1], [1, 1]], index=["item-a", "item-b"], columns=["A", "B"])
    with pytest.raises(ValueError, match=r"row 'item-b' has 2 ratings but row 'item-a' has 3"):
        fleiss_kappa(frame)
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        fleiss_kappa([[1.5, 0.5], [1, 1]])
    assert math.isnan(fleiss_kappa([[3, 0], [3, 0]]))


# ------------------------------------------------------------------------------------------------------------
# Krippendorff's alpha
# ------------------------------------------------------------------------------------------------------------

# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units,
# values 1..5, missing data. Published: nominal .743, ordinal .815, interval .849, ratio .797.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_2011_four_coders_twelve_units(level: str, published: float) -> None:
    assert krippendorff_alpha(K2011, level=level) == pytest.approx(published, abs=5e-4)  # type: ignore[arg-type]
    assert krippendorff_alpha(K2011, level=level) == pytest.approx(  # type: ignore[arg-type]
        _alpha_by_definition(np.array(K2011, dtype=float), level), abs=1e-12
    )


def test_krippendorff_2011_binary_two_observers() -> None:
    # Krippendorff (2011), section A: two observers, binary data, 10 units; alpha = 0.095.
    data = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    assert krippendorff_alpha(data) == pytest.approx(0.095, abs=5e-4)
    # By hand: o01 = 4, n0 = 14, n1 = 6, n = 20 -> 1 - (n - 1) * o01 / (n0 * n1) = 1 - 76/84.
    assert krippendorff_alpha(data) == pytest.approx(1 - 76 / 84, abs=1e-12)


def test_krippendorff_wikipedia_three_coders_fifteen_units() -> None:
    # Wikipedia "Krippendorff's alpha" example (also the krippendorff package docstring): nominal 0.691358,
    # interval 0.810845.
    data = [
        [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
        [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
        [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
    ]
    assert krippendorff_alpha(data, level="nominal") == pytest.approx(0.691358, abs=5e-7)
    assert krippendorff_alpha(data, level="interval") == pytest.approx(0.810845, abs=5e-7)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_complete_multirater_data_matches_definition(level: str) -> None:
    # "Some tools compute alpha wrongly on complete data with more than two raters": check 5 raters x 40
    # units, no missing values, against the coincidence-matrix definition computed pair by pair below.
    rng = np.random.default_rng(11)
    truth = rng.integers(1, 6, 40)
    data = np.clip(truth[None, :] + rng.integers(-1, 2, (5, 40)), 1, 5).astype(float)
    expected = _alpha_by_definition(data, level)
    assert krippendorff_alpha(data, level=level) == pytest.approx(expected, abs=1e-12)  # type: ignore[arg-type]
    assert krippendorff_alpha(data.astype(int), level=level) == pytest.approx(expected, abs=1e-12)  # type: ignore[arg-type]


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_large_domain_path_matches_package_path(level: str) -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(1, 9, (4, 300)).astype(float)
    data[rng.random(data.shape) < 0.25] = NAN
    mask = ~np.isnan(data)
    domain, codes = np.unique(data[mask], return_inverse=True)
    unit = np.nonzero(mask)[1]
    counts = np.bincount(unit * len(domain) + codes, minlength=300 * len(domain)).reshape(300, -1)
    counts = counts[counts.sum(axis=1) >= 2]
    assert _alpha_from_counts(counts, domain, level) == pytest.approx(
        krippendorff_alpha(data, level=level),  # type: ignore[arg-type]
        abs=1e-12,
    )


def _interval_alpha_closed_form(data: np.ndarray) -> float:
    """Interval alpha without a coincidence matrix: D_o = within-unit squared differences over ordered pairs
    (sum = 2 m sum(x^2) - 2 (sum x)^2 per unit, / (m - 1)), D_e = the same over all pairable values."""
    m = (~np.isnan(data)).sum(axis=0)
    pairable = m >= 2
    sx, sxx = np.nansum(data, axis=0)[pairable], np.nansum(data**2, axis=0)[pairable]
    mp = m[pairable]
    n = int(mp.sum())
    d_o = float(((2 * mp * sxx - 2 * sx**2) / (mp - 1)).sum()) / n
    d_e = float(2 * n * sxx.sum() - 2 * sx.sum() ** 2) / (n * (n - 1))
    return 1 - d_o / d_e


def test_krippendorff_interval_many_distinct_values_matches_closed_form() -> None:
    # Continuous scores: ~6,000 distinct values, far too many for the package's N x V x V array.
    rng = np.random.default_rng(2)
    data = rng.normal(size=2000)[None, :] + rng.normal(scale=0.5, size=(3, 2000))
    data[rng.random(data.shape) < 0.1] = NAN
    expected = _interval_alpha_closed_form(data)
    assert krippendorff_alpha(data, level="interval") == pytest.approx(expected, abs=1e-10)


def test_krippendorff_rating_scale_on_many_units_matches_closed_form() -> None:
    # 30-point scale x 40,000 units: few values, but N x V x V is past the size where we leave the package.
    rng = np.random.default_rng(12)
    truth = rng.integers(0, 30, 40_000)
    data = np.clip(truth[None, :] + rng.integers(-3, 4, (3, 40_000)), 0, 29).astype(float)
    data[rng.random(data.shape) < 0.2] = NAN
    expected = _interval_alpha_closed_form(data)
    assert krippendorff_alpha(data, level="interval") == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("level", ["ordinal", "ratio"])
def test_krippendorff_many_values_sparse_path_matches_definition(level: str) -> None:
    # 250 units x ~700 distinct values is past the size where we leave the package (N x V x V cells).
    rng = np.random.default_rng(8)
    truth = rng.integers(0, 1000, 250)
    data = (truth[None, :] + rng.integers(0, 40, (3, 250))).astype(float)
    data[rng.random(data.shape) < 0.15] = NAN
    got = krippendorff_alpha(data, level=level)  # type: ignore[arg-type]
    assert got == pytest.approx(_alpha_by_definition(data, level), abs=1e-10)


def test_krippendorff_invariant_to_unit_and_rater_order() -> None:
    data = np.array(K2011, dtype=float)
    rng = np.random.default_rng(0)
    # data[::-1]: the last rater skips the last pairable units (a past bug sized the count table from it).
    for shuffled in [data[::-1], *(data[rng.permutation(4)][:, rng.permutation(12)] for _ in range(10))]:
        for level in ("nominal", "ordinal", "interval", "ratio"):
            assert krippendorff_alpha(shuffled, level=level) == pytest.approx(  # type: ignore[arg-type]
                krippendorff_alpha(data, level=level),  # type: ignore[arg-type]
                abs=1e-12,
            )


def test_krippendorff_strings_and_missing_values() -> None:
    letters = {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
    as_strings = [[None if np.isnan(v) else letters[int(v)] for v in row] for row in K2011]
    assert krippendorff_alpha(as_strings, level="nominal") == pytest.approx(0.743421052631579, abs=1e-12)
    frame = pd.DataFrame(as_strings).astype("string")  # missing stays NA on pandas 2.2 and 3
    assert krippendorff_alpha(frame) == pytest.approx(0.743421052631579, abs=1e-12)
    with pytest.raises(ValueError, match="needs numeric values"):
        krippendorff_alpha(as_strings, level="ordinal")


def test_krippendorff_nullable_integer_frame() -> None:
    frame = pd.DataFrame(K2011).astype("Int64")  # NaN -> <NA>
    assert krippendorff_alpha(frame, level="ordinal") == pytest.approx(0.8153875037548814, abs=1e-12)


def test_krippendorff_degenerate_inputs() -> None:
    assert math.isnan(krippendorff_alpha([[1, 1, 1], [1, 1, NAN]]))
    with pytest.raises(ValueError, match="no unit was coded by two or more raters"):
        krippendorff_alpha([[1, NAN], [NAN, 2]])
    with pytest.raises(ValueError, match="at least two raters"):
        krippendorff_alpha([[1, 2, 3]])


def _alpha_by_definition(data: np.ndarray, level: str) -> float:
    """Krippendorff (2011): coincidences o_ck, marginals n_c, metric delta^2, alpha = 1 - D_o / D_e."""
    values = np.unique(data[~np.isnan(data)])
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for u in range(data.shape[1]):
        col = data[:, u][~np.isnan(data[:, u])]
        if len(col) < 2:
            continue
        for i, j in itertools.permutations(range(len(col)), 2):
            o[index[col[i]], index[col[j]]] += 1 / (len(col) - 1)
    n_c = o.sum(axis=0)
    n = n_c.sum()

    def delta(c: int, k: int) -> float:
        x, y = values[c], values[k]
        if level == "nominal":
            return float(x != y)
        if level == "interval":
            return float((x - y) ** 2)
        if level == "ratio":
            return float(((x - y) / (x + y)) ** 2)
        lo, hi = min(c, k), max(c, k)
        return float((n_c[lo : hi + 1].sum() - (n_c[c] + n_c[k]) / 2) ** 2)

    d = np.array([[delta(c, k) for k in range(len(values))] for c in range(len(values))])
    d_o = (o * d).sum() / n
    d_e = (np.outer(n_c, n_c) * d).sum() / (n * (n - 1))
    return float(1 - d_o / d_e)


# ------------------------------------------------------------------------------------------------------------
# Kendall's W and tau-b
# ------------------------------------------------------------------------------------------------------------

# R packages irr / DescTools, dataset `anxiety` (20 subjects x 3 raters, with ties). irr::kendall(anxiety,
# correct=TRUE) reports Wt = 0.54, Chisq(19) = 30.8, p = 0.0429 (as asserted in pyirr's port of irr's tests).
ANXIETY = pd.DataFrame(
    {
        "rater1": [3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3],
        "rater2": [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4],
        "rater3": [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2],
    }
)


def test_kendall_w_irr_anxiety_with_tie_correction() -> None:
    w = kendall_w(ANXIETY)
    n, m = ANXIETY.shape
    chisq = m * (n - 1) * w
    assert round(w, 2) == 0.54
    assert round(chisq, 1) == 30.8
    assert round(float(stats.chi2.sf(chisq, n - 1)), 4) == 0.0429
    # Uncorrected W is smaller (the tie correction shrinks the denominator).
    assert kendall_w(ANXIETY, correction=False) < w


def test_kendall_w_equals_tie_corrected_friedman_statistic() -> None:
    # Independent identity: W_t = chi2_Friedman / (m (n - 1)), scipy's Friedman statistic being tie-corrected.
    rng = np.random.default_rng(4)
    ratings = rng.integers(1, 5, (12, 6))  # 12 objects x 6 raters, many ties
    chi2 = stats.friedmanchisquare(*ratings).statistic  # one sample per object; raters are the blocks
    assert kendall_w(ratings) == pytest.approx(chi2 / (6 * (12 - 1)), abs=1e-12)


def test_kendall_w_extremes_and_missing() -> None:
    same = np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]])
    assert kendall_w(same) == pytest.approx(1.0)
    assert kendall_w(np.array([[1, 2], [2, 1]])) == pytest.approx(0.0)
    frame = pd.DataFrame({"ann1": [1, 2, 3], "ann2": [1, None, 3]}, index=["x", "y", "z"])
    with pytest.raises(ValueError, match="object 'y' has no rating from rater 'ann2'"):
        kendall_w(frame)


def test_kendall_tau_b_scipy_documentation_example() -> None:
    # scipy.stats.kendalltau docstring example: x = [12, 2, 1, 12, 2], y = [1, 4, 7, 1, 0] -> tau-b
    # -0.47140452079103173.
    assert kendall_tau_b([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]) == pytest.approx(-0.47140452079103173, abs=1e-12)


def test_kendall_tau_b_matches_definition_with_ties() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.integers(0, 4, 30), rng.integers(0, 4, 30)
    conc = disc = tx = ty = 0
    for i, j in itertools.combinations(range(30), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        conc += dx * dy > 0
        disc += dx * dy < 0
        tx += dx == 0 and dy != 0
        ty += dy == 0 and dx != 0
    expected = (conc - disc) / math.sqrt((conc + disc + tx) * (conc + disc + ty))
    assert kendall_tau_b(x, y) == pytest.approx(expected, abs=1e-12)
    assert kendall_tau_b([1, None, 3, 4], [2, 5, None, 8]) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------------------------
# Bradley-Terry
# ------------------------------------------------------------------------------------------------------------

# Agresti, Categorical Data Analysis (2nd ed., 2002, p. 438): 1987 American League East, 13 games per pair.
# BradleyTerry2 vignette (`baseballModel1`, Baltimore = 0): Milwaukee 1.5814, Detroit 1.4364, Toronto 1.2945,
# New York 1.2476, Boston 1.1077, Cleveland 0.6839. wins[i][j] = games TEAMS[i] won against TEAMS[j].
TEAMS = ["Milwaukee", "Detroit", "Toronto", "New York", "Boston", "Cleveland", "Baltimore"]
WINS = [
    [0, 7, 9, 7, 7, 9, 11],
    [6, 0, 7, 5, 11, 9, 9],
    [4, 6, 0, 7, 7, 8, 12],
    [6, 8, 6, 0, 6, 7, 10],
    [6, 2, 6, 7, 0, 7, 12],
    [4, 4, 5, 6, 6, 0, 6],
    [2, 4, 1, 3, 1, 7, 0],
]
PUBLISHED = [1.5814, 1.4364, 1.2945, 1.2476, 1.1077, 0.6839, 0.0]


def _baseball() -> pd.DataFrame:
    rows = [(TEAMS[i], TEAMS[j]) for i in range(7) for j in range(7) for _ in range(WINS[i][j])]
    return pd.DataFrame(rows, columns=["winner", "loser"])


def test_bradley_terry_agresti_baseball() -> None:
    bt = bradley_terry(_baseball())
    relative = bt["strength"] - bt.loc["Baltimore", "strength"]
    for team, value in zip(TEAMS, PUBLISHED, strict=True):
        assert relative[team] == pytest.approx(value, abs=1e-4)
    assert list(bt.index) == TEAMS  # sorted strongest first
    assert bt["strength"].mean() == pytest.approx(0.0, abs=1e-12)
    assert bt.loc["Milwaukee", ["wins", "losses", "ties", "n"]].tolist() == [50, 28, 0, 78]
    assert bt["elo"].to_numpy() == pytest.approx(1000 + 400 * bt["strength"].to_numpy() / math.log(10))


def test_bradley_terry_se_matches_numerical_fisher_information() -> None:
    # Independent: finite-difference Hessian of the log-likelihood in the reference-coded parameters
    # (Baltimore = 0), inverted, then mapped to the centred parametrisation s = theta - mean(theta).
    bt = bradley_terry(_baseball()).loc[TEAMS]
    w = np.array(WINS, dtype=float)

    def loglik(theta6: np.ndarray) -> float:
        s = np.append(theta6, 0.0)
        d = s[:, None] - s[None, :]
        return float(-(w * np.logaddexp(0, -d)).sum())

    theta = (bt["strength"] - bt.loc["Baltimore", "strength"]).to_numpy()[:6]
    h, eps = np.zeros((6, 6)), 1e-4
    for i in range(6):
        for j in range(6):
            e_i, e_j = np.eye(6)[i] * eps, np.eye(6)[j] * eps
            h[i, j] = (
                loglik(theta + e_i + e_j)
                - loglik(theta + e_i - e_j)
                - loglik(theta - e_i + e_j)
                + loglik(theta - e_i - e_j)
            ) / (4 * eps * eps)
    cov_theta = np.zeros((7, 7))
    cov_theta[:6, :6] = np.linalg.inv(-h)
    centre = np.eye(7) - 1 / 7
    cov_s = centre @ cov_theta @ centre.T
    assert bt["se"].to_numpy() == pytest.approx(np.sqrt(np.diag(cov_s)), rel=1e-5)


def _bt_games(
    rng: np.random.Generator, true: np.ndarray, rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` random pairings of the ``len(true)`` models (a model drawn against itself is dropped), a_wins
    drawn by the Bradley-Terry probability with strengths ``true``: (a, b, a_wins)."""
    k = len(true)
    a, b = rng.integers(0, k, rows), rng.integers(0, k, rows)
    keep = a != b
    a, b = a[keep], b[keep]
    return a, b, rng.random(len(a)) < 1 / (1 + np.exp(true[b] - true[a]))


def test_bradley_terry_matches_choix_and_logistic_regression() -> None:
    # The Chatbot Arena method (logistic regression on +1/-1 design, no intercept, no penalty) and choix's
    # exact optimiser fit the same likelihood: strengths agree to 1e-4 after centring.
    rng = np.random.default_rng(0)
    k, rows = 6, 3000
    true = rng.normal(size=k)
    a, b, a_wins = _bt_games(rng, true, rows)
    winner, loser = np.where(a_wins, a, b), np.where(a_wins, b, a)
    ours = bradley_terry(pd.DataFrame({"winner": winner, "loser": loser})).sort_index()["strength"].to_numpy()

    ref = choix.opt_pairwise(k, list(zip(winner, loser, strict=True)), alpha=0.0, tol=1e-12)
    assert ours == pytest.approx(ref - ref.mean(), abs=1e-4)

    x = np.zeros((len(a), k))
    x[np.arange(len(a)), a] = 1.0
    x[np.arange(len(a)), b] = -1.0
    lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-10, max_iter=10_000).fit(x, a_wins)
    coef = lr.coef_[0]
    assert ours == pytest.approx(coef - coef.mean(), abs=1e-4)


def test_bradley_terry_tie_counts_half_a_win_each_way() -> None:
    df = pd.DataFrame(
        {
            "winner": ["a", "a", "b", "c", "a", "b", "c", "c"],
            "loser": ["b", "c", "c", "a", "b", "a", "b", "a"],
            "tie": [False, False, False, False, True, True, False, True],
        }
    )
    # Doubling: each decisive row twice, each tie as one win each way -> the same likelihood up to a factor 2.
    decisive = df[~df["tie"]]
    ties = df[df["tie"]]
    doubled = pd.concat(
        [decisive, decisive, ties, ties.rename(columns={"winner": "loser", "loser": "winner"})]
    ).drop(columns="tie")
    ours = bradley_terry(df)
    expected = bradley_terry(doubled)["strength"].to_numpy()
    assert ours["strength"].to_numpy() == pytest.approx(expected, abs=1e-9)
    assert ours.loc["a", ["wins", "losses", "ties", "n"]].tolist() == [2, 1, 3, 6]
    assert ours["ties"].sum() == 2 * 3


def test_bradley_terry_recovers_known_strengths() -> None:
    rng = np.random.default_rng(1)
    k, rows = 8, 200_000
    true = np.linspace(-1.5, 1.5, k)
    a, b, a_wins = _bt_games(rng, true, rows)
    names = np.array([f"model-{i}" for i in range(k)])
    df = pd.DataFrame({"winner": names[np.where(a_wins, a, b)], "loser": names[np.where(a_wins, b, a)]})
    bt = bradley_terry(df).loc[names]
    assert np.abs(bt["strength"].to_numpy() - true).max() < 4 * bt["se"].max()
    assert bt["se"].max() < 0.02


def test_bradley_terry_never_losing_model_raises_or_uses_prior() -> None:
    df = pd.DataFrame({"winner": ["a", "a", "b", "c"], "loser": ["b", "c", "c", "b"]})
    with pytest.raises(ValueError, match=r"\{a\} never lost to the others.*prior=1.0"):
        bradley_terry(df)
    bt = bradley_terry(df, prior=1.0)
    assert bt.index[0] == "a"
    assert np.isfinite(bt["strength"]).all()
    disconnected = pd.DataFrame({"winner": ["a", "b", "c", "d"], "loser": ["b", "a", "d", "c"]})
    with pytest.raises(ValueError, match="never compared with the others"):
        bradley_terry(disconnected)


def test_bradley_terry_input_errors() -> None:
    with pytest.raises(ValueError, match=r"missing column\(s\) \['loser'\]"):
        bradley_terry(pd.DataFrame({"winner": ["a"]}))
    with pytest.raises(ValueError, match="row 1: 'x' is both winner and loser"):
        bradley_terry(pd.DataFrame({"winner": ["a", "x"], "loser": ["b", "x"]}))
    with pytest.raises(ValueError, match="row 0: 'loser' is missing"):
        bradley_terry(pd.DataFrame({"winner": ["a"], "loser": [None]}))
    with pytest.raises(ValueError, match="row 1: 'tie' is 'no'; use True or False"):
        bradley_terry(pd.DataFrame({"winner": ["a", "b"], "loser": ["b", "a"], "tie": [False, "no"]}))
    with_int_ties = pd.DataFrame({"winner": ["a", "b", "a"], "loser": ["b", "a", "b"], "tie": [0, 0, 1]})
    assert bradley_terry(with_int_ties).loc["a", "ties"] == 1


def test_bradley_terry_bootstrap_intervals() -> None:
    rng = np.random.default_rng(3)
    k, rows = 5, 20_000
    true = np.linspace(-1, 1, k)
    a, b, a_wins = _bt_games(rng, true, rows)
    tie = rng.random(len(a)) < 0.1
    df = pd.DataFrame({"winner": np.where(a_wins, a, b), "loser": np.where(a_wins, b, a), "tie": tie})
    boot = bradley_terry_bootstrap(df, rounds=400, seed=1)
    point = bradley_terry(df)
    assert list(boot.index) == list(point.index)
    assert boot["strength"].to_numpy() == pytest.approx(point["strength"].to_numpy(), abs=1e-8)
    assert (boot["lower"] < boot["strength"]).all() and (boot["strength"] < boot["upper"]).all()
    # With this much data the bootstrap SE approximates the Fisher-information SE (its own sampling error is
    # about 1/sqrt(2 * 400) = 3.5%).
    assert boot["se"].to_numpy() == pytest.approx(point["se"].to_numpy(), rel=0.15)
    again = bradley_terry_bootstrap(df, rounds=400, seed=1)
    pd.testing.assert_frame_equal(boot, again)
    assert boot["elo_upper"].to_numpy() == pytest.approx(1000 + 400 * boot["upper"].to_numpy() / math.log(10))


def test_bradley_terry_bootstrap_matches_row_resampling() -> None:
    # The multinomial draw over aggregated cells is the same distribution as resampling rows with
    # replacement: compare the spread with a naive row bootstrap (independent code path: refit per resample).
    rng = np.random.default_rng(21)
    rows = 3000
    true = np.array([-0.6, -0.1, 0.2, 0.5])
    a, b, a_wins = _bt_games(rng, true, rows)
    tie = rng.random(len(a)) < 0.15
    df = pd.DataFrame({"winner": np.where(a_wins, a, b), "loser": np.where(a_wins, b, a), "tie": tie})
    ours = bradley_terry_bootstrap(df, rounds=600, seed=2).sort_index()
    naive = np.array(
        [
            bradley_terry(df.iloc[rng.integers(0, len(df), len(df))]).sort_index()["strength"].to_numpy()
            for _ in range(600)
        ]
    )
    # Each SE estimate has ~3% sampling error at 600 rounds; 15% separates "same distribution" from a bug
    # such as resampling cells instead of rows (which would roughly double or halve the spread).
    assert ours["se"].to_numpy() == pytest.approx(naive.std(axis=0, ddof=1), rel=0.15)


def test_bradley_terry_bootstrap_degenerate_resamples() -> None:
    # With three comparisons, some resamples contain only wins for one model.
    df = pd.DataFrame({"winner": ["a", "b", "c", "a"], "loser": ["b", "c", "a", "c"]})
    with pytest.raises(ValueError, match=r"resamples some model never lost or never won.*prior=1.0"):
        bradley_terry_bootstrap(df, rounds=50)
    boot = bradley_terry_bootstrap(df, rounds=50, prior=1.0)
    assert np.isfinite(boot[["lower", "upper"]].to_numpy()).all()


# ------------------------------------------------------------------------------------------------------------
# Plackett-Luce
# ------------------------------------------------------------------------------------------------------------


def test_plackett_luce_matches_choix_opt_rankings() -> None:
    # choix.opt_rankings maximises the same Plackett-Luce likelihood with a generic optimiser.
    rng = np.random.default_rng(0)
    k = 6
    true = rng.normal(size=k)
    rankings = []
    for _ in range(300):
        size = int(rng.integers(2, k + 1))
        subset = rng.choice(k, size, replace=False)
        # Sample a PL ranking: Gumbel-max trick on log-strengths.
        order = subset[np.argsort(-(true[subset] + rng.gumbel(size=size)))]
        rankings.append([int(x) for x in order])
    ours = plackett_luce(rankings, tol=1e-12).sort_index().to_numpy()
    ref = choix.opt_rankings(k, [tuple(r) for r in rankings], alpha=0.0, tol=1e-12)
    assert ours == pytest.approx(ref - ref.mean(), abs=1e-6)


def test_plackett_luce_on_pairs_is_bradley_terry() -> None:
    pairs = [[TEAMS[i], TEAMS[j]] for i in range(7) for j in range(7) for _ in range(WINS[i][j])]
    pl = plackett_luce(pairs, tol=1e-12)
    bt = bradley_terry(_baseball())["strength"]
    assert pl.loc[TEAMS].to_numpy() == pytest.approx(bt.loc[TEAMS].to_numpy(), abs=1e-8)


def test_plackett_luce_tie_groups_and_errors() -> None:
    grouped = [[["r2"], ["r1"], ["r3"]], [["r1"], ["r2"], ["r3"]], [["r3"], ["r1"]], [["r2"], ["r3"]]]
    flat = [["r2", "r1", "r3"], ["r1", "r2", "r3"], ["r3", "r1"], ["r2", "r3"]]
    pd.testing.assert_series_equal(plackett_luce(grouped), plackett_luce(flat))
    with pytest.raises(ValueError, match=r"ranking #1 has tie group \['a', 'b'\].*ties='skip'"):
        plackett_luce([["a", "b"], [["a", "b"], ["c"]]])
    skipped = plackett_luce([*flat, [["r1", "r2"], ["r3"]]], ties="skip")
    pd.testing.assert_series_equal(skipped, plackett_luce(flat))
    with pytest.raises(ValueError, match=r"\{a\} never lost to the others"):
        plackett_luce([["a", "b", "c"], ["a", "c", "b"]])
    assert plackett_luce([["a", "b", "c"], ["a", "c", "b"]], prior=0.5).index[0] == "a"
    with pytest.raises(ValueError, match="lists an item twice"):
        plackett_luce([["a", "b", "a"]])
