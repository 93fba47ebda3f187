"""Judge honesty: unparsed verdicts counted and scored by policy; position_bias on unrandomised orders.

The files are written in the documented shapes of the PandaLM release (WeOpenML/PandaLM, README "Test data":
``data/testset-v1.json`` with ``annotator1..3`` coded 0 tie / 1 response1 / 2 response2, and
``data/gpt-3.5-turbo-testset-v1.json`` with ``idx`` and ``gpt_result`` "1" / "2" / "Tie" or unparseable text).
On the real files (999 items, 25 unparseable GPT-3.5 verdicts) the policies give 71.07 % ("tie"), 69.77 %
("wrong") and 71.56 % on 974 items ("exclude"): docs/quality.md and benchmarks/check_judge_unparsed.py. (The
PandaLM paper's own accuracy table could not be opened here, so no policy is claimed to reproduce it.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rank_widget as rw
from rank_widget.quality import judge_agreement, position_bias

CODING = {0: "tie", 1: "response1", 2: "response2"}
# idx: annotator1..3 (human majority) | judge
ROWS = [
    (0, 1, 1, 1, "1"),  # response1 | right
    (1, 2, 2, 1, "2"),  # response2 | right
    (2, 0, 0, 2, "garbage"),  # tie | unparsed
    (3, 2, 2, 2, "1"),  # response2 | wrong
    (4, 1, 1, 2, "Tie"),  # response1 | wrong
    (5, 1, 2, 0, "garbage"),  # no majority (1-1-1) | unparsed, but no reference: not scored
    (6, 2, 2, 2, "garbage"),  # response2 | unparsed
]


def write_pandalm(tmp_path: Path) -> tuple[Path, Path]:
    test = [
        {
            "idx": i,
            "instruction": f"task {i}",
            "input": "",
            "response1": f"a{i}",
            "response2": f"b{i}",
            "annotator1": a1,
            "annotator2": a2,
            "annotator3": a3,
        }
        for i, a1, a2, a3, _ in ROWS
    ]
    judge = [{"idx": i, "gpt_result": g, "gpt_reason": "because", "gpt_reference": ""} for i, *_, g in ROWS]
    (tmp_path / "testset-v1.json").write_text(json.dumps(test))
    (tmp_path / "gpt-3.5-turbo-testset-v1.json").write_text(json.dumps(judge))
    return tmp_path / "testset-v1.json", tmp_path / "gpt-3.5-turbo-testset-v1.json"


def pandalm_labels(tmp_path: Path) -> pd.DataFrame:
    test_path, judge_path = write_pandalm(tmp_path)
    test = pd.DataFrame(json.loads(test_path.read_text()))
    gpt = pd.DataFrame(json.loads(judge_path.read_text()))
    humans = rw.import_labels(
        test, item_id="idx", annotators=["annotator1", "annotator2", "annotator3"], coding=CODING
    )
    judge = rw.import_labels(
        gpt,
        item_id="idx",
        annotators={"gpt_result": "gpt-3.5"},
        coding=CODING,
        unknown="skip",
        rationale={"gpt_result": "gpt_reason"},
    )
    assert judge.attrs["unparsed"] == {"gpt-3.5": 3}
    return pd.concat([humans, judge], ignore_index=True)


@pytest.mark.parametrize(
    ("policy", "n_units", "percent", "kappa"),
    [
        # parsed units 0, 1, 3, 4: right, right, wrong, wrong -> 2/4. Judge a 2, b 1, tie 1; majority a 2,
        # b 2:
        # p_e = (2*2 + 1*2 + 1*0) / 16 = 6/16 -> kappa (1/2 - 3/8) / (5/8) = 1/5
        ("exclude", 4, 2 / 4, 1 / 5),
        # units 0, 1, 2, 3, 4, 6; unparsed 2 and 6 are wrong -> 2/6. Judge a 2, b 1, tie 1, unparsed 2;
        # majority a 2, b 3, tie 1: p_e = (4 + 3 + 1) / 36 -> kappa (12/36 - 8/36) / (28/36) = 1/7
        ("wrong", 6, 2 / 6, 1 / 7),
        # unparsed read as tie: unit 2 (majority tie) right, unit 6 (majority response2) wrong -> 3/6.
        # Judge a 2, b 1, tie 3; majority a 2, b 3, tie 1: p_e = (4 + 3 + 3) / 36 -> kappa 8/26 = 4/13
        ("tie", 6, 3 / 6, 4 / 13),
    ],
)
def test_judge_agreement_unparsed_policies_by_hand(
    tmp_path: Path, policy: str, n_units: int, percent: float, kappa: float
) -> None:
    out = judge_agreement(pandalm_labels(tmp_path), judge="gpt-3.5", unparsed=policy)
    judge = out[out["role"] == "judge"].iloc[0]
    assert judge["n_units"] == n_units and judge["n_unparsed"] == 2  # unit 5 has no majority
    assert judge["percent"] == pytest.approx(percent)
    assert judge["cohen_kappa"] == pytest.approx(kappa)
    assert out.attrs["unparsed"] == policy


def test_judge_agreement_default_is_wrong_and_humans_rows_use_the_same_policy(tmp_path: Path) -> None:
    labels = pandalm_labels(tmp_path)
    default = judge_agreement(labels, judge="gpt-3.5")
    assert default.attrs["unparsed"] == "wrong"
    a1 = default.set_index("annotator").loc["annotator1"]
    # annotator2 and annotator3 agree on units 0 (r1), 3 (r2), 6 (r2); 1 (2 vs 1), 2 (0 vs 2), 4 (1 vs 2)
    # and 5 (2 vs 0) split. The judge on those: right, wrong, unparsed -> 1/3 (excluding unparsed: 1/2)
    assert a1["n_units"] == 3 and a1["n_unparsed"] == 1 and a1["judge_percent"] == pytest.approx(1 / 3)
    excl = judge_agreement(labels, judge="gpt-3.5", unparsed="exclude")
    assert excl.set_index("annotator").loc["annotator1", "judge_percent"] == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="unparsed must be one of"):
        judge_agreement(labels, judge="gpt-3.5", unparsed="drop")


def test_judge_with_only_unparsed_verdicts_is_reported_not_refused(tmp_path: Path) -> None:
    labels = pandalm_labels(tmp_path)
    only_fail = labels[~((labels["annotator"] == "gpt-3.5") & (labels["status"] == "submitted"))]
    out = judge_agreement(only_fail, judge="gpt-3.5")
    judge = out[out["role"] == "judge"].iloc[0]
    assert judge["n_units"] == 2 and judge["n_unparsed"] == 2 and judge["percent"] == 0.0


def test_position_bias_warns_and_withholds_p_on_imported_labels(tmp_path: Path) -> None:
    labels = pandalm_labels(tmp_path)
    with pytest.warns(UserWarning, match=r"never randomised for 'annotator1': imported labels.*both orders"):
        pb = position_bias(labels)
    assert not pb["order_randomised"].any() and pb["p_value"].isna().all()
    a1 = pb[(pb["annotator"] == "annotator1") & (pb["position"] == 0)].iloc[0]
    assert (a1["n"], a1["picks"]) == (6, 3)  # decisive: 0 r1, 1 r2, 3 r2, 4 r1, 5 r1, 6 r2


def widget_label(k: int, order: list[str], winner: str) -> dict[str, object]:
    return {
        "label_id": f"l{k}",
        "item_id": f"i{k}",
        "annotator": "ann",
        "task": "pairwise",
        "status": "submitted",
        "ranking": [[winner], [r for r in order if r != winner]],
        "winner": winner,
        "strength": 2,
        "ratings": None,
        "rationale": "",
        "flags": [],
        "flag_note": "",
        "display_order": order,
        "guideline_version": None,
        "started_at": None,
        "submitted_at": "2025-01-01T00:00Z",
        "active_ms": None,
        "revision": 1,
        "supersedes": None,
        "source": "widget",
    }


def test_position_bias_fixed_order_needs_8_labels_to_be_called_unrandomised() -> None:
    from rank_widget.schema import labels_frame

    fixed7 = labels_frame([widget_label(k, ["r1", "r2"], "r1") for k in range(7)])
    pb = position_bias(fixed7)  # 7 in one order: 1 in 64 under shuffling, not ruled out
    assert pb["order_randomised"].all() and pb["p_value"].notna().all()
    fixed8 = labels_frame([widget_label(k, ["r1", "r2"], "r1") for k in range(8)])
    with pytest.warns(UserWarning, match="the same display order in all 8 labels"):
        pb = position_bias(fixed8)
    assert not pb["order_randomised"].any()
    rng = np.random.default_rng(0)
    shuffled = labels_frame(
        [widget_label(k, ["r1", "r2"] if rng.random() < 0.5 else ["r2", "r1"], "r1") for k in range(40)]
    )
    assert position_bias(shuffled)["order_randomised"].all()
