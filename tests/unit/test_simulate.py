"""simulate: synthetic annotators whose planted behaviour is recoverable from their labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import factories
from rank_widget import simulate as sim
from rank_widget.schema import COLUMN_NAMES, TIME_DTYPE, coerce_labels, current_labels, pairs, validate_label

MODELS = ["atlas-7b", "borealis-70b", "cirrus-mini", "delta-chat", "echo-3b"]


def make_items(n: int, k: int = 2, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    models = [rng.choice(MODELS, size=k, replace=False) for _ in range(n)]
    return factories.make_items(
        n,
        k,
        item_id="item-{i}",
        prompt="question {i}?",
        response_id="r{j}",
        text="answer {j} to {i}",
        model=lambda i, j: str(models[i][j]),
        category=None,
        gold=None,
    )


def truth_map(s: sim.Simulation) -> dict[tuple[str, str], float]:
    t = s.truth
    return dict(zip(zip(t["item_id"], t["response_id"], strict=True), t["quality"], strict=True))


def decisive(labels: pd.DataFrame) -> pd.DataFrame:
    sub = labels[(labels["status"] == "submitted") & (labels["winner"] != "tie")]
    return sub


def pick_a_rate(labels: pd.DataFrame) -> pd.Series:
    d = decisive(labels)
    return (d["winner"] == d["display_order"].str[0]).groupby(d["annotator"]).mean()


def accuracy_vs_truth(s: sim.Simulation) -> pd.Series:
    q = truth_map(s)
    d = decisive(s.labels)
    loser = [
        next(r for r in order if r != w) for order, w in zip(d["display_order"], d["winner"], strict=True)
    ]
    qw = np.array([q[(i, w)] for i, w in zip(d["item_id"], d["winner"], strict=True)])
    ql = np.array([q[(i, r)] for i, r in zip(d["item_id"], loser, strict=True)])
    keep = qw != ql
    correct = pd.Series(qw[keep] > ql[keep], index=d.index[keep])
    return correct.groupby(d["annotator"][keep]).mean()


@pytest.fixture(scope="module")
def biased() -> sim.Simulation:
    annotators = [
        sim.Annotator("careful", accuracy=0.9, position_bias=0.0, tie_rate=0.05, speed_ms=(20_000, 0.4)),
        sim.Annotator("lefty", accuracy=0.8, position_bias=0.3, tie_rate=0.15, speed_ms=(8_000, 0.6)),
        sim.Annotator("righty", accuracy=0.7, position_bias=-0.5, tie_rate=0.0, rationale_words=(3, 1)),
    ]
    return sim.simulate(make_items(4000), annotators, seed=7)


def test_labels_are_valid_canonical_rows(biased: sim.Simulation) -> None:
    labels = biased.labels
    assert list(labels.columns) == list(COLUMN_NAMES)
    pd.testing.assert_frame_equal(labels, coerce_labels(labels))
    assert str(labels["submitted_at"].dtype) == TIME_DTYPE
    assert labels["label_id"].is_unique
    assert (labels["source"] == "simulation").all()
    assert len(labels) == 3 * 4000
    for rec in labels.sample(300, random_state=0).to_dict("records"):
        clean = {k: (None if not isinstance(v, (list, dict)) and pd.isna(v) else v) for k, v in rec.items()}
        again = validate_label(clean, response_ids=["r0", "r1"])
        assert again["winner"] == rec["winner"] and again["ranking"] == rec["ranking"]
        assert again["display_order"] == rec["display_order"]


def test_timing_is_consistent(biased: sim.Simulation) -> None:
    labels = biased.labels
    span_us = (labels["submitted_at"] - labels["started_at"]) // pd.Timedelta(microseconds=1)
    assert (span_us >= labels["active_ms"].astype("int64") * 1000).all()
    for _, own in labels.groupby("annotator"):
        # one item at a time: the next item starts after the previous submit
        assert (own["started_at"].iloc[1:].to_numpy() > own["submitted_at"].iloc[:-1].to_numpy()).all()
    medians = labels.groupby("annotator")["active_ms"].median()
    assert medians["careful"] == pytest.approx(20_000, rel=0.05)
    assert medians["lefty"] == pytest.approx(8_000, rel=0.05)


def test_position_bias_is_recoverable(biased: sim.Simulation) -> None:
    rate = pick_a_rate(biased.labels)
    planted = sim.planted(biased.annotators).set_index("annotator")
    # position_bias b -> rate of picking displayed position A on decisive labels = 0.5 + b/2
    assert rate["careful"] == pytest.approx(0.5, abs=0.03)
    assert rate["lefty"] == pytest.approx(0.65, abs=0.03)
    assert rate["righty"] == pytest.approx(0.25, abs=0.03)
    measured_b = 2 * rate - 1
    assert measured_b["lefty"] == pytest.approx(0.3, abs=0.05)
    assert measured_b["righty"] == pytest.approx(-0.5, abs=0.05)
    for name in rate.index:
        assert rate[name] == pytest.approx(planted.loc[name, "pick_a_rate"], abs=0.03)


def test_accuracy_and_tie_rate_are_recoverable(biased: sim.Simulation) -> None:
    acc = accuracy_vs_truth(biased)
    planted = sim.planted(biased.annotators).set_index("annotator")
    assert acc["careful"] == pytest.approx(0.9, abs=0.03)  # no position bias: accuracy itself
    assert planted.loc["lefty", "accuracy_decisive"] == pytest.approx(0.7 * 0.8 + 0.15)
    for name in acc.index:
        assert acc[name] == pytest.approx(planted.loc[name, "accuracy_decisive"], abs=0.03)
    ties = (biased.labels["winner"] == "tie").groupby(biased.labels["annotator"]).mean()
    assert ties["careful"] == pytest.approx(0.05, abs=0.015)
    assert ties["lefty"] == pytest.approx(0.15, abs=0.02)
    assert ties["righty"] == 0.0
    tie_strength = biased.labels.loc[biased.labels["winner"] == "tie", "strength"]
    assert (tie_strength == 0).all()
    strong = decisive(biased.labels)["strength"]
    assert set(strong.unique()) <= {1, 2, 3}
    assert (strong == 2).mean() == pytest.approx(0.6, abs=0.03)  # default strength_habit (0, .6, .4)


def test_rationale_words(biased: sim.Simulation) -> None:
    words = biased.labels["rationale"].str.split().str.len()
    per = words.groupby(biased.labels["annotator"]).median()
    assert per["careful"] == 12 and per["righty"] == 3
    text = biased.labels["rationale"].iloc[0]
    assert text[0].isupper() and text.endswith(".")


def test_same_seed_same_labels_other_seed_differs() -> None:
    items = make_items(50)
    anns = [sim.Annotator("a"), sim.Annotator("b", position_bias=0.2)]
    one = sim.simulate_labels(items, anns, seed=3)
    two = sim.simulate_labels(items, anns, seed=3)
    pd.testing.assert_frame_equal(one, two)
    other = sim.simulate_labels(items, anns, seed=4)
    assert not one["winner"].equals(other["winner"])
    assert not set(one["label_id"]) & set(other["label_id"])


def test_overlap_assigns_exactly_k_annotators_per_item() -> None:
    items = make_items(300)
    anns = [sim.Annotator(f"w{i}") for i in range(5)]
    labels = sim.simulate_labels(items, anns, overlap=2, seed=1)
    per_item = labels.groupby("item_id")["annotator"].nunique()
    assert len(per_item) == 300 and (per_item == 2).all()
    per_annotator = labels["annotator"].value_counts()
    assert per_annotator.min() > 60  # spread over everyone (expected 120 each)


def test_truth_from_model_skill_orders_models() -> None:
    items = make_items(3000)
    s = sim.simulate(items, [sim.Annotator("a", accuracy=0.85), sim.Annotator("b", accuracy=0.85)], seed=11)
    assert set(s.skills) == set(MODELS)
    p = pairs(s.labels, items)
    p = p[p["winner"] != "tie"]
    win_model = np.where(p["outcome"] == 1.0, p["model_a"], p["model_b"])
    loss_model = np.where(p["outcome"] == 1.0, p["model_b"], p["model_a"])
    wins = pd.Series(win_model).value_counts()
    games = wins.add(pd.Series(loss_model).value_counts(), fill_value=0)
    win_rate = (wins / games).reindex(MODELS)
    skill = pd.Series(s.skills).reindex(MODELS)
    assert win_rate.rank().tolist() == skill.rank().tolist()


def test_gold_ranking_is_the_truth() -> None:
    items = make_items(400)
    items["gold"] = [[["r1"], ["r0"]]] * 400
    s = sim.simulate(items, [sim.Annotator("a", accuracy=1.0, tie_rate=0.0)], seed=2)
    assert (s.labels["winner"] == "r1").all()
    assert (s.truth.loc[s.truth["response_id"] == "r1", "true_rank"] == 0).all()


def test_ranking_task_plackett_luce_accuracy_on_adjacent_pairs() -> None:
    items = make_items(2500, k=4)
    ann = sim.Annotator("ranker", accuracy=0.75, tie_rate=0.1)
    s = sim.simulate(items, [ann], task="ranking", seed=5)
    labels = s.labels
    assert (labels["task"] == "ranking").all() and labels["winner"].isna().all()
    for rec in labels.head(200).to_dict("records"):
        flat = sorted(r for g in rec["ranking"] for r in g)
        assert flat == ["r0", "r1", "r2", "r3"]
    # true ranks per item; adjacent-in-truth pairs are ordered right with probability `accuracy`
    rank = dict(
        zip(zip(s.truth["item_id"], s.truth["response_id"], strict=True), s.truth["true_rank"], strict=True)
    )
    p = pairs(labels)
    ra = np.array([rank[k] for k in zip(p["item_id"], p["response_a"], strict=True)])
    rb = np.array([rank[k] for k in zip(p["item_id"], p["response_b"], strict=True)])
    adjacent = (np.abs(ra - rb) == 1) & (p["winner"] != "tie").to_numpy()
    right = np.where(ra < rb, p["outcome"] == 1.0, p["outcome"] == 0.0)[adjacent]
    assert right.mean() == pytest.approx(0.75, abs=0.03)
    # ties: each adjacent boundary of the ranking is merged with probability tie_rate
    boundaries = labels["ranking"].map(len) - 1
    assert (3 - boundaries.sum() / len(labels)) / 3 == pytest.approx(0.1, abs=0.02)


def test_auto_task_mixes_pairwise_and_ranking() -> None:
    items = pd.concat(
        [make_items(20, 2), make_items(20, 3, seed=2).assign(item_id=lambda d: d["item_id"] + "x")],
        ignore_index=True,
    )
    labels = sim.simulate_labels(items, [sim.Annotator("a")])
    assert labels["task"].value_counts().to_dict() == {"pairwise": 20, "ranking": 20}
    with pytest.raises(ValueError, match=r"item 'item-0x'.*'responses'.*exactly 2"):
        sim.simulate_labels(items, [sim.Annotator("a")], task="pairwise")


def test_skips_flags_too_fast_and_ratings() -> None:
    items = make_items(3000)
    ann = sim.Annotator("rusher", too_fast_rate=0.3, skip_rate=0.1, flag_rate=0.2, speed_ms=(10_000, 0.3))
    labels = sim.simulate_labels(
        items, [ann], seed=9, criteria=("helpfulness", "accuracy"), scale=5, guideline_version="v2"
    )
    skipped = labels[labels["status"] == "skipped"]
    assert len(skipped) / len(labels) == pytest.approx(0.1, abs=0.02)
    assert skipped["ranking"].isna().all() and skipped["winner"].isna().all()
    sub = labels[labels["status"] == "submitted"]
    fast = sub["active_ms"] < 3_000  # rushed labels take about a tenth of the 10 s median
    assert fast.mean() == pytest.approx(0.3, abs=0.03)
    assert (sub.loc[fast, "rationale"] == "").all()
    assert sub["flags"].map(len).mean() == pytest.approx(0.2, abs=0.03)
    assert (labels["guideline_version"] == "v2").all()
    assert (labels["ratings"].isna() == (labels["status"] == "skipped")).all()
    one = sub["ratings"].iloc[0]
    assert set(one) == {"r0", "r1"} and set(one["r0"]) == {"helpfulness", "accuracy"}
    values = [v for r in sub["ratings"] for per in r.values() for v in per.values()]
    assert min(values) >= 1 and max(values) <= 5


def test_ratings_rise_with_true_quality() -> None:
    items = make_items(1500)
    s = sim.simulate(items, [sim.Annotator("a", rating_noise=0.5)], criteria=("overall",), seed=4)
    q = truth_map(s)
    xs, ys = [], []
    for iid, ratings in zip(s.labels["item_id"], s.labels["ratings"], strict=True):
        for rid, per in ratings.items():
            xs.append(q[(iid, rid)])
            ys.append(per["overall"])
    assert np.corrcoef(xs, ys)[0, 1] > 0.6


def test_bad_parameters_name_annotator_and_field() -> None:
    with pytest.raises(ValueError, match=r"Annotator 'x': position_bias"):
        sim.Annotator("x", position_bias=1.5)
    with pytest.raises(ValueError, match=r"Annotator 'y': accuracy"):
        sim.Annotator("y", accuracy=-0.1)
    with pytest.raises(ValueError, match=r"Annotator 'z': strength_habit"):
        sim.Annotator("z", strength_habit=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="unique"):
        sim.simulate_labels(make_items(3), [sim.Annotator("a"), sim.Annotator("a")])
    with pytest.raises(ValueError, match="overlap"):
        sim.simulate_labels(make_items(3), [sim.Annotator("a")], overlap=2)
    one = make_items(2)
    one.at[1, "responses"] = one.at[1, "responses"][:1]
    with pytest.raises(ValueError, match=r"row 1 \(item 'item-1'\).*'responses'"):
        sim.simulate_labels(one, [sim.Annotator("a")])


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"annotators": []}, ValueError, "annotators is empty"),
        ({"annotators": ["a"]}, TypeError, "annotators must be Annotator objects"),
        ({"task": "rating"}, ValueError, "task must be 'pairwise', 'ranking' or 'auto', got 'rating'"),
        ({"overlap": 0}, ValueError, "overlap must be between 1 and the number of annotators (1), got 0"),
        ({"criteria": ["c"], "scale": 1}, ValueError, "scale must be an integer from 2 to 10, got 1"),
        ({"criteria": ["c"], "scale": 20}, ValueError, "scale must be an integer from 2 to 10, got 20"),
        ({"start": "2026-01-05 09:00"}, ValueError, "start must be timezone-aware"),
        ({"true_quality": {("item-0", "r0"): 1.0}}, ValueError, "true_quality has no value for response"),
    ],
)
def test_simulate_rejects_bad_arguments(kwargs: dict[str, Any], error: type[Exception], says: str) -> None:
    with pytest.raises(error) as info:
        sim.simulate(make_items(2), **{"annotators": [sim.Annotator("a")], **kwargs})
    assert says in str(info.value), str(info.value)


def test_simulate_pairwise_task_needs_two_responses_per_item() -> None:
    with pytest.raises(
        ValueError, match=r"row 0 \(item 'item-0'\).*has 3 responses; pairwise needs exactly 2"
    ):
        sim.simulate(make_items(2, k=3), [sim.Annotator("a")], task="pairwise")


def test_repeat_rate_makes_revisions_with_measurable_self_consistency() -> None:
    items = make_items(4000)
    ann = sim.Annotator("twice", accuracy=0.8, tie_rate=0.0, repeat_rate=0.25)
    labels = sim.simulate_labels(items, [ann], seed=12)
    first = labels[labels["revision"] == 1].set_index("item_id")
    second = labels[labels["revision"] == 2].set_index("item_id")
    assert len(first) == 4000
    assert len(second) / 4000 == pytest.approx(0.25, abs=0.02)
    assert (second["supersedes"] == first.loc[second.index, "label_id"]).all()
    assert (second["submitted_at"] > first.loc[second.index, "submitted_at"]).all()
    current = current_labels(labels)
    assert len(current) == 4000 and set(second["label_id"]) <= set(current["label_id"])
    # two independent content judgements agree with probability p^2 + (1 - p)^2
    same = (second["winner"] == first.loc[second.index, "winner"]).mean()
    assert same == pytest.approx(0.8**2 + 0.2**2, abs=0.04)
    with pytest.raises(ValueError, match=r"Annotator 'r': repeat_rate"):
        sim.Annotator("r", repeat_rate=2.0)


def test_same_seed_on_different_batches_draws_independently() -> None:
    v1 = make_items(300)
    v2 = v1.assign(item_id=v1["item_id"] + "-v2")
    anns = [sim.Annotator("a", tie_rate=0.3)]
    one = sim.simulate_labels(v1, anns, seed=5)
    two = sim.simulate_labels(v2, anns, seed=5)
    # the same truth (same models, same seed) but not the same coin flips label for label
    assert (one["winner"].to_numpy() != two["winner"].to_numpy()).any()
    assert (one["display_order"].map(tuple).to_numpy() != two["display_order"].map(tuple).to_numpy()).any()
    pd.testing.assert_frame_equal(one, sim.simulate_labels(v1, anns, seed=5))
