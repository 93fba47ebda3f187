"""The judge calibration report: kappa on a published example (and against scikit-learn), planted accuracy
and position bias of a simulated judge recovered within their CIs, unparsed replies counted, by-category
rows, the plot, and the AuditWidget filter "human majority ≠ judge"."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

import rank_widget as rw
from factories import make_items
from rank_widget.audit.index import JUDGE_SHOW, AuditIndex, check_filters
from rank_widget.quality.judges import judge_report
from rank_widget.schema import labels_frame, validate_label
from rank_widget.simulate import Annotator, SimulatedJudge, simulate

RS = ["r1", "r2"]


def lab(
    lid: str, item: str, who: str, winner: str, source: str, order: list[str] | None = None
) -> dict[str, Any]:
    return validate_label(
        {
            "label_id": lid,
            "item_id": item,
            "annotator": who,
            "task": "pairwise",
            "winner": winner,
            "display_order": order or RS,
            "source": source,
            "submitted_at": "2026-01-05T09:00:00+00:00",
        },
        response_ids=RS,
    )


def test_kappa_on_the_published_example() -> None:
    # Wikipedia, "Cohen's kappa", worked example: 50 grant proposals read by two readers; both "Yes" 20, A yes
    # B no 5, A no B yes 10, both "No" 15: p_o = 0.7, p_e = 0.5, kappa = 0.4. Here the reader A is the human
    # (the majority of one) and B the judge; "Yes" = r1 wins, "No" = r2 wins.
    cells = [("r1", "r1")] * 20 + [("r1", "r2")] * 5 + [("r2", "r1")] * 10 + [("r2", "r2")] * 15
    rows = []
    for i, (human, judge) in enumerate(cells):
        rows.append(lab(f"h{i}", f"it{i:03d}", "reader", human, "widget"))
        rows.append(lab(f"j{i}", f"it{i:03d}", "gpt", judge, "judge"))
    rep = judge_report(labels_frame(rows), judge="gpt", bootstrap=200)
    s = rep.summary.set_index(["metric", "reference"])
    assert s.loc[("accuracy", "human majority"), "value"] == pytest.approx(0.7)
    assert s.loc[("cohen_kappa", "human majority"), "value"] == pytest.approx(0.4)
    u = rep.units
    assert cohen_kappa_score(u["human"], u["judge"]) == pytest.approx(0.4)  # scikit-learn agrees
    lo, hi = s.loc[("cohen_kappa", "human majority"), ["ci_low", "ci_high"]]
    assert lo < 0.4 < hi
    # judge_agreement is there, on the same units
    v = rep.versus_humans
    assert v.loc[v["role"] == "judge", "cohen_kappa"].iloc[0] == pytest.approx(0.4)


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    items = make_items(400, category=lambda i: ["math", "code", "chat"][i % 3])
    sim = simulate(items, [Annotator(f"h{k}", accuracy=0.9, tie_rate=0.0) for k in range(3)], seed=3)
    judge = SimulatedJudge(
        sim.truth, accuracy=0.85, position_bias=0.3, unparsable_rate=0.05, style="arena-hard", seed=3
    )
    run = rw.run_judge(items, judge, name="sim", progress=False)
    labels = pd.concat([sim.labels, run.labels], ignore_index=True)
    return items, labels, run


def test_planted_habits_are_recovered(simulated: tuple[pd.DataFrame, pd.DataFrame, Any]) -> None:
    items, labels, run = simulated
    rep = judge_report(labels, judge="sim", items=items, by="category", bootstrap=300)
    s = rep.summary.set_index(["metric", "reference"])
    # decisive verdicts pick the first shown at 0.5 + 0.3 / 2 = 0.65
    lo, hi = s.loc[("picks_first_shown", "0.5 = no position bias"), ["ci_low", "ci_high"]]
    assert lo < 0.65 < hi
    # each order names the truly better response with (1 - 0.3) * 0.85 + 0.3 / 2 = 0.745; the human
    # majority of three 0.9-accurate people is right 0.972 of the time: judge == majority about
    # 0.745 * 0.972 + 0.255 * 0.028 = 0.731
    acc1 = s.loc[("accuracy (order 1)", "human majority")]
    assert acc1["ci_low"] < 0.731 < acc1["ci_high"]
    # unparsed replies are counted, never scored
    assert rep.counts["unparsed"] == run.summary["unparsed"] > 0
    cons = s.loc[("both_order_consistency", "the judge itself"), "value"]
    assert 0.4 < cons < 0.9
    assert set(rep.by["group"]) == {"math", "code", "chat"}
    assert rep.by["n_units"].sum() == 2 * s.loc[("accuracy", "human majority"), "n_units"]
    assert rep.strengths.to_numpy().sum() > 0
    fig = rep.plot()
    assert fig.axes and fig._repr_png_()[:4] == b"\x89PNG"


def test_bad_judge_name_is_a_clear_error(simulated: tuple[pd.DataFrame, pd.DataFrame, Any]) -> None:
    _, labels, _ = simulated
    with pytest.raises(ValueError, match=r"no labels of judge 'gpt'.*'sim'"):
        judge_report(labels, judge="gpt")


def test_audit_filter_human_majority_differs_from_judge() -> None:
    items = make_items(3)
    rows = [
        lab("a0", "it000", "ann", "r1", "widget"),
        lab("b0", "it000", "bob", "r1", "widget"),
        lab("j0", "it000", "gpt", "r2", "judge"),  # differs
        lab("a1", "it001", "ann", "r2", "widget"),
        lab("j1", "it001", "gpt", "r2", "judge"),  # agrees
        lab("a2", "it002", "ann", "r1", "widget"),
        lab("b2", "it002", "bob", "r2", "widget"),
        lab("j2", "it002", "gpt", "r2", "judge"),  # no majority: not listed
    ]
    index = AuditIndex(items, labels_frame(rows))
    f = check_filters({"show": JUDGE_SHOW})
    assert list(index.filtered(f)["item_id"]) == ["it000"]
    assert JUDGE_SHOW in index.options["show"]
    assert np.all(index.filtered(check_filters({}))["item_id"].isin(["it000", "it001", "it002"]))
