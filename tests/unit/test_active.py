"""rw.next_items: what each goal picks, that its recorded probabilities keep estimates unbiased, bad input,
and that RankWidget(queue=...) takes the result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rank_widget as rw
from factories import make_items
from rank_widget.active import NextItems, ipw_mean, judge_patterns
from rank_widget.simulate import Annotator, SimulatedJudge, simulate

MODELS = ["m0", "m1", "m2", "m3"]
PAIRS = [(a, b) for i, a in enumerate(MODELS) for b in MODELS[i + 1 :]]


def pool(n: int = 240) -> pd.DataFrame:
    return make_items(n, model=lambda i, j: PAIRS[i % len(PAIRS)][j])


def test_leaderboard_goal_goes_where_the_cis_are_widest() -> None:
    items = pool()
    # people have compared m0 and m1 a lot and nothing else
    m01 = [
        iid
        for iid, r in zip(items["item_id"], items["responses"], strict=True)
        if r[0]["model"] == "m0" and r[1]["model"] == "m1"
    ]
    sim = simulate(items[items["item_id"].isin(m01)], [Annotator("p", tie_rate=0.0)], seed=1)
    q = rw.next_items(sim.labels, items, goal="leaderboard", k=30, seed=0, explore=0.0)
    assert isinstance(q, NextItems) and isinstance(q, list) and len(q) == len(set(q)) == 30
    assert not set(q) & set(m01)  # labelled items are never offered again
    chosen = items.set_index("item_id").loc[list(q), "responses"]
    pairs_ = {tuple(sorted((r[0]["model"], r[1]["model"]))) for r in chosen}
    assert ("m0", "m1") not in pairs_ or len(pairs_) > 3  # the batch spreads over the uncompared pairs
    t = q.table
    assert list(t.columns) == ["item_id", "goal", "score", "probability", "reason"]
    assert ((t["probability"] > 0) & (t["probability"] <= 1)).all()
    assert t["reason"].str.contains(" vs ").all()


def test_leaderboard_from_no_labels_and_reproducible() -> None:
    items = pool()
    empty = rw.schema.empty_labels()
    a = rw.next_items(empty, items, k=10, seed=3)
    b = rw.next_items(empty, items, k=10, seed=3)
    assert list(a) == list(b) and len(a) == 10


@pytest.fixture(scope="module")
def judged() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, bool]]:
    items = make_items(300, model=lambda i, j: ["x", "y", "z"][(i + j) % 3])
    sim = simulate(items, [Annotator("p", accuracy=0.9, tie_rate=0.0)], seed=5)
    judge = SimulatedJudge(sim.truth, accuracy=0.8, position_bias=0.4, unparsable_rate=0.05, seed=5)
    run = rw.run_judge(items, judge, name="j", progress=False)
    pat = judge_patterns(run.labels).set_index("item_id")
    human = sim.labels.set_index("item_id")["winner"]
    correct = {
        iid: pat.loc[iid, "judge_verdict"] == ("a" if human[iid] == "r1" else "b") for iid in items["item_id"]
    }
    return items, pd.concat([run.labels, sim.labels.iloc[:60]], ignore_index=True), correct


def test_judge_goal_targets_uncertain_items(
    judged: tuple[pd.DataFrame, pd.DataFrame, dict[str, bool]],
) -> None:
    items, labels, _ = judged
    q = rw.next_items(labels, items, goal="judge", k=40, seed=0, explore=0.0)
    assert len(q) == 40 and not set(q) & set(labels.loc[labels["source"] == "simulation", "item_id"])
    pat = judge_patterns(labels).set_index("item_id")
    t = q.table
    assert set(t["reason"].str.extract(r"judges (\w+)")[0]) <= {"agree", "disagree", "unparsed"}
    # the probabilities are what the draw used: the larger score, the larger probability
    assert t.sort_values("score")["probability"].is_monotonic_increasing or t["score"].nunique() > 1
    assert set(pat.loc[list(q), "pattern"]) <= {"agree", "disagree", "unparsed"}


def test_judge_goal_with_recorded_probabilities_is_unbiased(
    judged: tuple[pd.DataFrame, pd.DataFrame, dict[str, bool]],
) -> None:
    """Over repeated draws, the inverse-probability-weighted accuracy centres on the true accuracy of the pool
    of candidates, while the plain mean of the targeted draws does not."""
    items, labels, correct = judged
    labelled = set(labels.loc[labels["source"] == "simulation", "item_id"])
    truth = np.mean([correct[i] for i in items["item_id"] if i not in labelled])
    ipw, plain = [], []
    for seed in range(40):
        q = rw.next_items(labels, items, goal="judge", k=1, seed=seed, explore=0.1)
        y = [float(correct[i]) for i in q]
        ipw.append(y[0] / q.table["probability"].iloc[0] / (len(items) - len(labelled)))
        plain.append(y[0])
    # one draw per repetition: the Horvitz-Thompson estimate y / (N p) is exactly unbiased
    se = np.std(ipw) / np.sqrt(len(ipw))
    assert abs(np.mean(ipw) - truth) < 3 * se
    assert ipw_mean([1.0, 0.0], [0.5, 0.25]) == pytest.approx(2 / 6)


def test_bad_input_is_a_clear_error(judged: tuple[pd.DataFrame, pd.DataFrame, dict[str, bool]]) -> None:
    items, labels, _ = judged
    with pytest.raises(ValueError, match="goal must be one of"):
        rw.next_items(labels, items, goal="fastest")
    with pytest.raises(ValueError, match="k must be"):
        rw.next_items(labels, items, k=0)
    with pytest.raises(ValueError, match="explore"):
        rw.next_items(labels, items, explore=2)
    human_only = labels[labels["source"] != "judge"]
    with pytest.raises(ValueError, match=r"run rw\.run_judge"):
        rw.next_items(human_only, items, goal="judge")
    one_model = make_items(4, model="same")
    with pytest.raises(ValueError, match="two different known models"):
        rw.next_items(rw.schema.empty_labels(), one_model)


def test_rank_widget_takes_the_queue(judged: tuple[pd.DataFrame, pd.DataFrame, dict[str, bool]]) -> None:
    items, labels, _ = judged
    q = rw.next_items(labels, items, goal="judge", k=5, seed=1)
    w = rw.RankWidget(items, queue=q, annotator="ann")
    assert w.queue_length == 5
    assert w.current_item["item_id"] == q[0]
