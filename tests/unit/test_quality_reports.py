"""Quality reports on hand-built label frames whose answers are known (or computed by hand below)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

import factories
from rank_widget.quality import (
    agreement,
    annotator_report,
    disagreement_scores,
    intransitive_triads,
    judge_agreement,
    leaderboard,
    plots,
    position_bias,
)
from rank_widget.quality.interrater import agreement_matrix
from rank_widget.schema import validate_label

matplotlib.use("Agg")

T0 = pd.Timestamp("2026-03-01T09:00:00Z")
_clock = iter(range(1_000_000))


def lab(
    item: str,
    annotator: str,
    winner: str | None = None,
    *,
    ranking: list[list[str]] | None = None,
    order: Sequence[str] = ("r1", "r2"),
    strength: int | None = None,
    label_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One validated label record; pairwise when ``winner`` is given, else a ranking."""
    rec: dict[str, Any] = {
        "label_id": label_id or f"{item}-{annotator}-{next(_clock)}",
        "item_id": item,
        "annotator": annotator,
        "task": "pairwise" if winner is not None else "ranking",
        "display_order": list(order),
        "submitted_at": T0 + pd.Timedelta(seconds=next(_clock)),
        "active_ms": 10_000,
        "guideline_version": "v1",
        "source": "simulation",
    }
    if winner is not None:
        rec["winner"] = winner
        rec["strength"] = strength if strength is not None else (0 if winner == "tie" else 2)
    else:
        rec["ranking"] = ranking
    rec.update(extra)
    return validate_label(rec, response_ids=list(order))


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    return factories.frame(*records, validate=False)


def metric(table: pd.DataFrame, name: str, criterion: str = "preference") -> pd.Series:
    rows = table[(table["metric"] == name) & (table["criterion"] == criterion)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# ---------------------------------------------------------------------------------------------------------
# agreement


def perfect_pairwise() -> pd.DataFrame:
    verdicts = {"i1": "r1", "i2": "r2", "i3": "tie", "i4": "r1", "i5": "r2", "i6": "r1"}
    strengths = {"i1": 3, "i2": 1, "i3": 0, "i4": 2, "i5": 3, "i6": 1}
    return frame(
        [
            lab(item, ann, w, strength=strengths[item], order=("r1", "r2") if k % 2 else ("r2", "r1"))
            for item, w in verdicts.items()
            for k, ann in enumerate(["x", "y", "z"])
        ]
    )


def test_perfect_agreement_gives_one_everywhere() -> None:
    table = agreement(perfect_pairwise(), bootstrap=200, seed=1)
    assert set(table["metric"]) == {"percent_agreement", "fleiss_kappa", "alpha_nominal", "alpha_ordinal"}
    for name in ("percent_agreement", "fleiss_kappa", "alpha_nominal", "alpha_ordinal"):
        row = metric(table, name)
        assert row["value"] == pytest.approx(1.0)
        assert row["ci_low"] == pytest.approx(1.0) and row["ci_high"] == pytest.approx(1.0)
        assert (row["n_items"], row["n_units"], row["n_annotators"]) == (6, 6, 3)
        assert row["task"] == "pairwise" and row["guideline_version"] == "v1"
    matrix = agreement_matrix(perfect_pairwise())
    assert matrix.to_numpy() == pytest.approx(np.ones((3, 3)))
    assert (
        matrix.attrs["n_shared"]["x"]["y"] == 6 and pd.DataFrame(matrix.attrs["n_shared"]).loc["y", "x"] == 6
    )
    assert pd.concat([matrix, matrix.copy()]).shape == (6, 3)  # plain dicts in attrs: concat compares them


def test_display_order_does_not_change_pair_relative_agreement() -> None:
    # the same verdicts shown in opposite orders to different annotators are still agreement
    labels = frame(
        [
            lab("i1", "x", "r1", order=("r1", "r2")),
            lab("i1", "y", "r1", order=("r2", "r1")),
            lab("i2", "x", "r2", order=("r2", "r1")),
            lab("i2", "y", "r2", order=("r1", "r2")),
        ]
    )
    assert metric(agreement(labels, bootstrap=0), "percent_agreement")["value"] == 1.0


def test_fleiss_and_percent_agreement_by_hand() -> None:
    # 4 items x 3 annotators. Category counts (a, b, tie) per item: (3,0,0), (2,1,0), (0,2,1), (1,1,1).
    # P_i = sum n(n-1) / (3*2): 1, 1/3, 1/3, 0 -> P-bar = 5/12. p_j = (6, 4, 2) / 12 -> P_e = (36+16+4)/144.
    votes = {
        "i1": ["r1", "r1", "r1"],
        "i2": ["r1", "r1", "r2"],
        "i3": ["r2", "r2", "tie"],
        "i4": ["r1", "r2", "tie"],
    }
    labels = frame([lab(i, ann, w) for i, ws in votes.items() for ann, w in zip("xyz", ws, strict=True)])
    table = agreement(labels, bootstrap=0)
    p_bar, p_e = 5 / 12, 56 / 144
    assert metric(table, "percent_agreement")["value"] == pytest.approx(p_bar)
    assert metric(table, "fleiss_kappa")["value"] == pytest.approx((p_bar - p_e) / (1 - p_e))
    assert math.isnan(metric(table, "fleiss_kappa")["ci_low"])  # bootstrap=0: no interval


def test_krippendorff_published_example_on_ratings() -> None:
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 observers x 12 units example
    # with missing values: alpha ordinal = 0.815, interval = 0.849. Units = item x response (6 items x 2).
    data = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    records = []
    for obs, values in data.items():
        for k in range(6):
            ratings = {
                rid: {"quality": v}
                for rid, v in (("r1", values[2 * k]), ("r2", values[2 * k + 1]))
                if v is not None
            }
            if ratings:
                records.append(lab(f"u{k}", obs, ranking=[["r1", "r2"]], ratings=ratings))
    table = agreement(frame(records), bootstrap=100)
    assert metric(table, "alpha_ordinal", "quality")["value"] == pytest.approx(0.815, abs=5e-4)
    assert metric(table, "alpha_interval", "quality")["value"] == pytest.approx(0.849, abs=5e-4)
    assert metric(table, "alpha_interval", "quality")["n_units"] == 11  # unit 12 has one value: not pairable


def test_kendall_w_on_rankings() -> None:
    three = ("r1", "r2", "r3")
    same = [lab("i1", a, ranking=[["r2"], ["r1"], ["r3"]], order=three) for a in "xyz"]
    # two raters with exactly reversed orders: rank sums all equal -> W = 0
    opposite = [
        lab("i2", "x", ranking=[["r1"], ["r2"], ["r3"]], order=three),
        lab("i2", "y", ranking=[["r3"], ["r2"], ["r1"]], order=three),
    ]
    table = agreement(frame(same + opposite), bootstrap=50)
    row = metric(table, "kendall_w")
    assert row["value"] == pytest.approx(0.5)  # mean of 1 and 0
    assert row["n_items"] == 2 and row["task"] == "ranking"
    assert row["ci_low"] == pytest.approx(0.0) and row["ci_high"] == pytest.approx(1.0)


def test_agreement_uses_current_labels_and_skips_adjudication() -> None:
    first = lab("i1", "y", "r2", label_id="old")
    records = [
        lab("i1", "x", "r1"),
        first,
        lab("i1", "y", "r1", revision=2, supersedes="old"),
        lab("i2", "x", "r2"),
        lab("i2", "y", "r2"),
        lab("i2", "boss", "r1", source="adjudication"),
    ]
    table = agreement(frame(records), bootstrap=0)
    row = metric(table, "percent_agreement")
    assert row["value"] == 1.0 and row["n_annotators"] == 2


def test_agreement_by_guideline_version_and_bootstrap_is_seeded() -> None:
    rng = np.random.default_rng(3)
    records = []
    for k in range(40):
        version = "v1" if k < 20 else "v2"
        truth = "r1" if k % 2 else "r2"
        for ann in "wxyz":
            noisy = rng.random() < (0.4 if version == "v1" else 0.05)
            records.append(
                lab(
                    f"i{k}",
                    ann,
                    ("r2" if truth == "r1" else "r1") if noisy else truth,
                    guideline_version=version,
                )
            )
    labels = frame(records)
    a = agreement(labels, by=("criterion", "guideline_version"), bootstrap=300, seed=7)
    b = agreement(labels, by=("criterion", "guideline_version"), bootstrap=300, seed=7)
    pd.testing.assert_frame_equal(a, b)
    fk = a[a["metric"] == "fleiss_kappa"].set_index("guideline_version")
    assert fk.loc["v2", "value"] > fk.loc["v1", "value"]
    for _, row in fk.iterrows():
        assert row["ci_low"] <= row["value"] <= row["ci_high"]
        assert row["ci_high"] - row["ci_low"] > 0.01


def test_agreement_rejects_unknown_group_column() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        agreement(perfect_pairwise(), by=("nope",), bootstrap=0)


def test_progress_is_printed_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    agreement(perfect_pairwise(), bootstrap=20, progress=True)
    assert "agreement bootstrap: " in capsys.readouterr().err
    agreement(perfect_pairwise(), bootstrap=20, progress=False)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------------------------
# disagreement


def test_disagreement_scores() -> None:
    labels = frame(
        [
            lab("calm", "x", "r1"),
            lab("calm", "y", "r1"),
            lab("calm", "z", "r1"),
            lab("split", "x", "r1"),
            lab("split", "y", "r1"),
            lab("split", "z", "r2"),
            lab("lonely", "x", "tie"),
        ]
    )
    d = disagreement_scores(labels).set_index("item_id")
    assert list(disagreement_scores(labels)["item_id"]) == ["split", "calm", "lonely"]
    assert d.loc["split", "majority"] == "r1"
    assert d.loc["split", "majority_share"] == pytest.approx(2 / 3)
    assert d.loc["split", "entropy"] == pytest.approx(
        -(2 / 3) * math.log2(2 / 3) - (1 / 3) * math.log2(1 / 3)
    )
    assert d.loc["split", "disagreement"] == pytest.approx(1 - 2 / 6)  # 2 of 6 ordered rater pairs agree
    assert d.loc["split", "outcomes"] == {"r1": 2, "r2": 1}
    assert d.loc["calm", "disagreement"] == 0.0 and d.loc["calm", "entropy"] == 0.0
    assert math.isnan(d.loc["lonely", "disagreement"]) and d.loc["lonely", "n_labels"] == 1


# ---------------------------------------------------------------------------------------------------------
# annotators


def test_position_bias_of_an_annotator_who_always_picks_a() -> None:
    orders = [("r1", "r2"), ("r2", "r1")]
    records = []
    for k in range(20):
        order = orders[k % 2]
        records.append(lab(f"i{k}", "lazy", order[0], order=order))  # always the one shown first
        records.append(lab(f"i{k}", "fair", "r1", order=order))  # always r1, wherever it is shown
    pb = position_bias(frame(records))
    lazy = pb[(pb["annotator"] == "lazy") & (pb["position"] == 0)].iloc[0]
    assert (lazy["rate"], lazy["n"], lazy["picks"], lazy["position_label"]) == (1.0, 20, 20, "A")
    assert lazy["p_value"] == pytest.approx(2 * 0.5**20)  # exact two-sided binomial test
    fair = pb[(pb["annotator"] == "fair") & (pb["position"] == 0)].iloc[0]
    assert fair["rate"] == 0.5 and fair["p_value"] == pytest.approx(1.0)
    assert fair["ci_low"] < 0.5 < fair["ci_high"]
    report = annotator_report(frame(records)).set_index("annotator")
    assert report.loc["lazy", "position_a_rate"] == 1.0
    assert report.loc["lazy", "position_a_p"] < 1e-5


def test_position_bias_on_rankings_uses_one_over_n() -> None:
    three = ("r1", "r2", "r3")
    records = [
        lab(f"i{k}", "x", ranking=[[three[k % 3]], [r for r in three if r != three[k % 3]]], order=three)
        for k in range(9)
    ]
    pb = position_bias(frame(records))
    assert list(pb["position_label"]) == ["A", "B", "C"]
    assert pb["expected"].tolist() == pytest.approx([1 / 3] * 3)
    assert pb["rate"].tolist() == pytest.approx([1 / 3] * 3)


def test_annotator_report_columns_by_hand() -> None:
    items = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(4)],
            "responses": [
                [
                    {"response_id": "r1", "text": "x", "model": "m1"},
                    {"response_id": "r2", "text": "y", "model": "m2"},
                ]
            ]
            * 4,
            "gold": [[["r1"], ["r2"]], [["r1"], ["r2"]], [["r2"], ["r1"]], None],
        }
    )
    records = []
    for k in range(4):
        records.append(lab(f"i{k}", "x", "r1", rationale="one two three", active_ms=20_000))
        records.append(lab(f"i{k}", "y", "r1", rationale="", active_ms=20_000, flags=["harmful"]))
    # z is fast, disagrees with x and y on i0 and i1, and ties on i3
    z = ["r2", "r2", "r1", "tie"]
    records += [lab(f"i{k}", "z", w, active_ms=1_000) for k, w in enumerate(z)]
    # x relabels i0 (same verdict) -> one repeated judgment, consistent
    records.append(lab("i0", "x", "r1", revision=2, rationale="still one two three", active_ms=20_000))
    records.append(lab("i9", "x", status="skipped", task="pairwise", order=("r1", "r2")))
    report = annotator_report(frame(records), items).set_index("annotator")
    # global median active time = 20 s -> too fast < 5 s
    assert report.loc["z", "too_fast_ms"] == 5_000
    assert (report.loc["z", "n_too_fast"], report.loc["z", "too_fast_share"]) == (4, 1.0)
    assert report.loc["x", "n_too_fast"] == 0
    assert report.loc["z", "tie_rate"] == 0.25 and report.loc["x", "tie_rate"] == 0.0
    assert report.loc["x", "rationale_words"] == 3.0  # median of (4, 3, 3, 3) words on current labels
    assert report.loc["y", "rationale_words"] == 0.0
    assert report.loc["y", "flag_rate"] == 1.0 and report.loc["x", "flag_rate"] == 0.0
    # x vs majority of (y, z): y and z agree on i2 only (r1) -> 1 comparable unit, x agrees
    assert (report.loc["x", "loo_agreement"], report.loc["x", "loo_n"]) == (1.0, 1)
    # z vs majority of (x, y) = r1 on all 4 items: z matches on i2 only
    assert (report.loc["z", "loo_agreement"], report.loc["z", "loo_n"]) == (0.25, 4)
    # gold on i0..i2: x says r1 three times -> right on i0, i1, wrong on i2
    assert report.loc["x", "gold_accuracy"] == pytest.approx(2 / 3) and report.loc["x", "gold_n"] == 3
    assert report.loc["z", "gold_accuracy"] == 0.0
    assert (report.loc["x", "self_consistency"], report.loc["x", "self_n"]) == (1.0, 1)
    assert math.isnan(report.loc["y", "self_consistency"])
    assert report.loc["x", "n_labels"] == 4 and report.loc["x", "n_skipped"] == 1
    assert report.loc["x", "median_active_ms"] == 20_000


def test_self_consistency_counts_changed_verdicts() -> None:
    records = [lab("i1", "x", "r1", label_id="a1"), lab("i1", "x", "r2", revision=2, supersedes="a1")]
    report = annotator_report(frame(records)).set_index("annotator")
    assert (report.loc["x", "self_consistency"], report.loc["x", "self_n"]) == (0.0, 1)


# ---------------------------------------------------------------------------------------------------------
# consistency


def triangle_items() -> pd.DataFrame:
    pairs = {"p12": ("m1", "m2"), "p23": ("m2", "m3"), "p31": ("m3", "m1")}
    return pd.DataFrame(
        {
            "item_id": list(pairs),
            "responses": [
                [
                    {"response_id": "r1", "text": "a", "model": a},
                    {"response_id": "r2", "text": "b", "model": b},
                ]
                for a, b in pairs.values()
            ],
        }
    )


def test_planted_intransitive_cycle_is_found() -> None:
    # cyc: m1 > m2, m2 > m3, m3 > m1 (always r1). lin: m1 > m2, m2 > m3, m1 > m3.
    records = [lab(i, "cyc", "r1") for i in ("p12", "p23", "p31")]
    records += [lab("p12", "lin", "r1"), lab("p23", "lin", "r1"), lab("p31", "lin", "r2")]
    tri = intransitive_triads(frame(records), triangle_items()).set_index("annotator")
    assert tri.loc["cyc", "n_intransitive"] == 1 and tri.loc["cyc", "n_complete_triads"] == 1
    assert tri.loc["cyc", "cycles"] == ["m1 > m2 > m3 > m1"]
    assert tri.loc["lin", "n_intransitive"] == 0 and tri.loc["lin", "n_complete_triads"] == 1
    report = annotator_report(frame(records), triangle_items()).set_index("annotator")
    assert report.loc["cyc", "intransitive_triads"] == 1 and report.loc["lin", "intransitive_triads"] == 0


def test_triads_pool_by_majority_and_rankings_are_never_cyclic() -> None:
    three = ("r1", "r2", "r3")
    # one N-way ranking: its 3 pairs are transitive by construction; response ids are the things (no items)
    rankings = [
        lab("i1", "x", ranking=[["r1"], ["r2", "r3"]], order=three),
        lab("i2", "x", ranking=[["r3"], ["r2"], ["r1"]], order=three),
    ]
    tri = intransitive_triads(frame(rankings), by=None)
    # pooled over the two rankings: r1 v r2 split 1-1 -> no edge, so no complete triad
    assert tri.loc[0, "n_intransitive"] == 0 and tri.loc[0, "n_complete_triads"] == 0
    assert tri.loc[0, "group"] == "all"


# ---------------------------------------------------------------------------------------------------------
# models


def arena() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Items whose responses are written by models A, B, C; A > B 8-2, B > C 8-2 plus one tie, A > C 9-1."""
    games = [("A", "B", 8, 2, 0), ("B", "C", 8, 2, 1), ("A", "C", 9, 1, 0)]
    items, records = [], []
    for m1, m2, w1, w2, ties in games:
        outcomes = ["r1"] * w1 + ["r2"] * w2 + ["tie"] * ties
        for k, w in enumerate(outcomes):
            iid = f"{m1}{m2}-{k}"
            items.append(
                {
                    "item_id": iid,
                    "responses": [
                        {"response_id": "r1", "text": "x", "model": m1},
                        {"response_id": "r2", "text": "y", "model": m2},
                    ],
                }
            )
            records.append(lab(iid, "h", w))
    return frame(records), pd.DataFrame(items)


def test_leaderboard_order_counts_and_win_matrix() -> None:
    labels, items = arena()
    board = leaderboard(labels, items, bootstrap=200, seed=0)
    t = board.table.set_index("model")
    assert list(board.table["model"]) == ["A", "B", "C"]
    assert list(board.table["rank"]) == [1, 2, 3]
    # B: 2-8 against A, 8-2 and one tie against C
    assert (t.loc["B", "wins"], t.loc["B", "losses"], t.loc["B", "ties"], t.loc["B", "n"]) == (10, 10, 1, 21)
    assert t.loc["B", "win_rate"] == pytest.approx((10 + 0.5) / 21)
    assert t.loc["A", "win_rate"] == pytest.approx(17 / 20)
    assert board.win_matrix.loc["A", "B"] == pytest.approx(0.8)
    assert board.win_matrix.loc["B", "C"] == pytest.approx(8.5 / 11)
    assert board.win_matrix.loc["C", "B"] == pytest.approx(2.5 / 11)
    assert math.isnan(board.win_matrix.loc["A", "A"])
    assert ((t["ci_low"] <= t["elo"]) & (t["elo"] <= t["ci_high"])).all()
    # C wins 3 of 31: some resamples leave A without a loss, so the fit falls back to one pseudo-win each way
    assert board.settings["prior"] == 1.0
    assert leaderboard(labels, items, bootstrap=0).settings["prior"] == 0.0
    assert "A" in board._repr_html_()


def test_leaderboard_strengths_match_choix() -> None:
    # an independent fit: choix's maximum-likelihood Bradley-Terry (ties split as half wins, as ours)
    choix = pytest.importorskip("choix")
    labels, items = arena()
    board = leaderboard(labels, items, bootstrap=0)
    names = ["A", "B", "C"]
    wins = np.zeros((3, 3))
    for w, lo, tie in board.comparisons.itertuples(index=False):
        i, j = names.index(w), names.index(lo)
        if tie:
            wins[i, j] += 0.5
            wins[j, i] += 0.5
        else:
            wins[i, j] += 1
    params = choix.opt_pairwise(
        3, [(i, j) for i in range(3) for j in range(3) for _ in range(int(2 * wins[i, j]))], alpha=0.0
    )
    ours = board.table.set_index("model").loc[names, "strength"].to_numpy()
    assert ours - ours.mean() == pytest.approx(params - params.mean(), abs=1e-4)
    assert board.table["ci_low"].isna().all()


def test_leaderboard_falls_back_to_a_prior_when_a_model_never_loses() -> None:
    labels, items = arena()
    keep = [
        not (iid.startswith("AB") or iid.startswith("AC")) or w == "r1"
        for iid, w in zip(labels["item_id"], labels["winner"], strict=True)
    ]
    board = leaderboard(labels[keep].reset_index(drop=True), items, bootstrap=20)
    assert board.settings["prior"] == 1.0
    assert board.table.loc[0, "model"] == "A"


def test_leaderboard_without_models_says_what_to_do() -> None:
    labels, items = arena()
    items["responses"] = [[{**r, "model": None} for r in resp] for resp in items["responses"]]
    with pytest.raises(ValueError, match="'model'"):
        leaderboard(labels, items, bootstrap=0)


def test_judge_agreement_by_hand() -> None:
    table = {  # item: h1, h2, h3, judge
        "i1": ("r1", "r1", "r1", "r1"),
        "i2": ("r2", "r2", "r1", "r2"),
        "i3": ("r1", "r2", "r2", "r1"),
        "i4": ("tie", "tie", "r1", "tie"),
        "i5": ("r2", "r2", "r2", "r1"),
        "i6": ("r1", "tie", "r2", "r1"),
    }
    names = ("h1", "h2", "h3", "gpt")
    labels = frame([lab(i, n, w) for i, ws in table.items() for n, w in zip(names, ws, strict=True)])
    out = judge_agreement(labels, judge="gpt")
    judge = out[out["role"] == "judge"].iloc[0]
    # human majority: i1 r1, i2 r2, i3 r2, i4 tie, i5 r2, i6 none (1-1-1). Judge matches i1, i2, i4: 3/5.
    # kappa: judge marginals (a 3, b 1, tie 1), majority (a 1, b 3, tie 1): p_e = 7/25
    assert judge["n_units"] == 5 and judge["percent"] == pytest.approx(0.6)
    assert judge["cohen_kappa"] == pytest.approx((0.6 - 7 / 25) / (1 - 7 / 25))
    h1 = out[out["annotator"] == "h1"].iloc[0]
    # majority of h2, h3: i1 r1, i3 r2, i5 r2 (others split). h1: r1, r1, r2 -> 2/3;
    # kappa: h1 (a 2, b 1), ref (a 1, b 2): p_e = 4/9 -> (2/3 - 4/9) / (5/9) = 0.4
    assert h1["n_units"] == 3 and h1["percent"] == pytest.approx(2 / 3)
    assert h1["cohen_kappa"] == pytest.approx(0.4)
    # the judge on the same 3 units against the same reference: r1, r1, r1 vs r1, r2, r2 -> 1/3, kappa 0
    assert h1["judge_percent"] == pytest.approx(1 / 3) and h1["judge_cohen_kappa"] == pytest.approx(0.0)
    assert set(out["annotator"]) == {"gpt", "h1", "h2", "h3"}
    with pytest.raises(ValueError, match="'claude'"):
        judge_agreement(labels, judge="claude")


# ---------------------------------------------------------------------------------------------------------
# plots


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_plots_render_what_they_are_given() -> None:
    from matplotlib.figure import Figure

    labels, items = arena()
    records = [
        lab(f"i{k}", "lazy", ("r1", "r2")[k % 2], order=(("r1", "r2"), ("r2", "r1"))[k % 2])
        for k in range(10)
    ]
    records += [lab(f"i{k}", "fair", "r1", order=(("r1", "r2"), ("r2", "r1"))[k % 2]) for k in range(10)]
    people = frame(records)

    heat = plots.agreement_heatmap(agreement_matrix(people))
    assert isinstance(heat, Figure) and [t.get_text() for t in heat.axes[0].get_xticklabels()] == [
        "fair",
        "lazy",
    ]

    bars = plots.position_bias_bars(position_bias(people))
    assert [round(p.get_height(), 3) for p in bars.axes[0].patches] == [0.5, 1.0]

    report = annotator_report(people)
    scatter = plots.speed_vs_agreement(report)
    assert scatter.axes[0].collections[0].get_offsets().shape == (2, 2)

    board = leaderboard(labels, items, bootstrap=50)
    lb = plots.leaderboard_plot(board)
    assert [t.get_text().split(" ")[0] for t in lb.axes[0].get_yticklabels()] == ["C", "B", "A"]

    versions = frame(
        [
            lab(f"i{k}", a, "r1", guideline_version=v)
            for k, v in enumerate(["v1", "v1", "v2", "v2"])
            for a in "xy"
        ]
        + [lab("i0", "z", "r2", guideline_version="v1"), lab("i2", "z", "r1", guideline_version="v2")]
    )
    by_version = agreement(versions, by=("criterion", "guideline_version"), bootstrap=20)
    gv = plots.agreement_by_guideline(by_version, metrics=("percent_agreement",))
    assert [t.get_text() for t in gv.axes[0].get_xticklabels()] == ["v1", "v2"]
    for fig in (heat, bars, scatter, lb, gv):
        assert _png(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_vectorised_alpha_bootstrap_matches_the_metric(level: str) -> None:
    from rank_widget.quality import krippendorff_alpha
    from rank_widget.quality.interrater import AlphaBootstrap

    rng = np.random.default_rng(5)
    truth = rng.integers(0, 7, size=60)
    data = truth + rng.integers(-1, 2, size=(4, 60))  # 4 raters x 60 units, values around the truth
    data = np.where(rng.random((4, 60)) < 0.2, np.nan, data.astype(float))
    unit_item = np.arange(60) // 2  # two units per item
    boot = AlphaBootstrap.build(data, unit_item, 30, level)  # type: ignore[arg-type]
    assert boot is not None
    everything_once = np.ones((1, 30))
    assert boot.alphas(everything_once)[0] == pytest.approx(krippendorff_alpha(data, level=level), abs=1e-12)
    # a resample with repeats equals the metric on the explicitly repeated columns
    draw = rng.integers(0, 30, size=30)
    cols = np.concatenate([np.flatnonzero(unit_item == i) for i in draw])
    weights = np.bincount(draw, minlength=30)[None, :].astype(float)
    assert boot.alphas(weights)[0] == pytest.approx(krippendorff_alpha(data[:, cols], level=level), abs=1e-12)


def test_vectorised_count_bootstrap_matches_fleiss_and_percent() -> None:
    from rank_widget.quality import fleiss_kappa
    from rank_widget.quality.interrater import CountBootstrap, percent_agreement_counts

    rng = np.random.default_rng(11)
    counts = rng.multinomial(3, [0.5, 0.2, 0.3], size=40).astype(float)  # 40 units x 3 raters x 3 categories
    counts[:5] = rng.multinomial(2, [0.5, 0.2, 0.3], size=5)  # a few units with 2 raters: Fleiss skips them
    unit_item = np.arange(40) // 4
    boot = CountBootstrap(counts, unit_item, 10)
    once = np.ones((1, 10))
    assert boot.percent(once)[0] == pytest.approx(percent_agreement_counts(counts), abs=1e-12)
    assert boot.fleiss(once)[0] == pytest.approx(fleiss_kappa(counts[5:]), abs=1e-12)
    draw = rng.integers(0, 10, size=10)
    rows = np.concatenate([np.flatnonzero(unit_item == i) for i in draw])
    rows3 = rows[counts[rows].sum(axis=1) == 3]
    weights = np.bincount(draw, minlength=10)[None, :].astype(float)
    assert boot.percent(weights)[0] == pytest.approx(percent_agreement_counts(counts[rows]), abs=1e-12)
    assert boot.fleiss(weights)[0] == pytest.approx(fleiss_kappa(counts[rows3]), abs=1e-12)


def test_reports_on_no_labels_are_empty_not_errors() -> None:
    from rank_widget.schema import empty_labels

    none = empty_labels()
    assert agreement(none).empty and disagreement_scores(none).empty and position_bias(none).empty
    assert annotator_report(none).empty and intransitive_triads(none).empty and agreement_matrix(none).empty
    assert "n_labels" in annotator_report(none).columns and "metric" in agreement(none).columns
    with pytest.raises(ValueError, match="no comparisons"):
        leaderboard(none, pd.DataFrame({"item_id": [], "responses": []}))


def test_a_figure_shows_itself_as_png_without_pyplot() -> None:
    fig = plots.position_bias_bars(position_bias(perfect_pairwise()))
    assert fig._repr_png_().startswith(b"\x89PNG")  # what Jupyter calls when no inline backend is active


def test_agreement_by_guideline_names_labels_without_a_version() -> None:
    labels = frame(
        [lab(f"i{k}", a, ("r1", "r2")[k % 2], guideline_version=None) for k in range(4) for a in "xy"]
    )
    table = agreement(labels, by=("criterion", "guideline_version"), bootstrap=0)
    fig = plots.agreement_by_guideline(table, metrics=("percent_agreement",))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["(none)"]
    assert fig.axes[0].lines[0].get_ydata()[0] == 1.0
