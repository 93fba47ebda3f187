"""formats: import_labels, to_trl, write_labels/read_labels."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import factories
import rank_widget
from factories import frame
from rank_widget.formats import TRL_COLUMNS, import_labels, read_labels, to_trl, write_labels
from rank_widget.schema import (
    COLUMN_NAMES,
    LabelError,
    coerce_labels,
    current_labels,
    empty_labels,
    labels_frame,
)
from rank_widget.simulate import Annotator, simulate_labels

CODING = {0: "tie", 1: "response1", 2: "response2"}


def wide_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "idx": [0, 1, 2],
            "response1": ["a short answer", "yes", "four"],
            "response2": ["a longer answer", "no", "five"],
            "annotator1": [2, 0, 1],
            "annotator2": [2, 1, None],
            "annotator3": [1, 1, 2],
        }
    )


# ---------------------------------------------------------------------------------------------------------
# import_labels


def test_import_wide_pairwise_pandalm_shape() -> None:
    df = wide_frame()
    before = df.copy()
    labels = rank_widget.import_labels(
        df, item_id="idx", annotators=["annotator1", "annotator2", "annotator3"], coding=CODING
    )
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert list(labels.columns) == list(COLUMN_NAMES)
    assert len(labels) == 8  # 9 cells, one missing
    pd.testing.assert_frame_equal(labels, coerce_labels(labels))  # canonical dtypes
    got = {(r.item_id, r.annotator): (r.winner, r.strength) for r in labels.itertuples()}
    assert got[("0", "annotator1")] == ("response2", pd.NA)
    assert got[("1", "annotator1")] == ("tie", 0)
    assert got[("2", "annotator3")] == ("response2", pd.NA)
    assert ("2", "annotator2") not in got
    first = labels.iloc[0]
    assert first["ranking"] == [["response2"], ["response1"]]
    assert first["display_order"] == ["response1", "response2"]
    assert first["source"] == "import" and first["status"] == "submitted" and first["revision"] == 1
    assert labels["label_id"].is_unique
    assert labels["submitted_at"].notna().all()


def test_import_is_deterministic_and_renames_annotators() -> None:
    df = wide_frame()
    a = import_labels(
        df,
        item_id="idx",
        annotators={"annotator1": "alice", "annotator3": "carol"},
        coding=CODING,
        submitted_at="2024-05-01T12:00:00Z",
    )
    b = import_labels(
        df,
        item_id="idx",
        annotators={"annotator1": "alice", "annotator3": "carol"},
        coding=CODING,
        submitted_at="2024-05-01T12:00:00Z",
    )
    pd.testing.assert_frame_equal(a, b)
    assert set(a["annotator"]) == {"alice", "carol"}
    assert (a["submitted_at"] == pd.Timestamp("2024-05-01T12:00:00Z")).all()
    assert a["label_id"].str.startswith("imp-").all()


def test_import_string_codes_from_judge_file_map_to_int_coding() -> None:
    judge = pd.DataFrame(
        {
            "idx": [0, 1, 2, 3],
            "gpt_result": ["1", "2", "0", "Tie"],
            "gpt_reason": ["r1 is concise", "r2 is right", "same", "equal"],
        }
    )
    labels = import_labels(
        judge,
        item_id="idx",
        annotators={"gpt_result": "gpt-3.5"},
        coding=CODING,
        rationale={"gpt_result": "gpt_reason"},
    )
    assert labels["winner"].tolist() == ["response1", "response2", "tie", "tie"]
    assert labels["rationale"].tolist() == ["r1 is concise", "r2 is right", "same", "equal"]
    assert labels["annotator"].unique().tolist() == ["gpt-3.5"]


def test_import_float_codes_from_nan_column() -> None:
    df = pd.DataFrame({"idx": ["a", "b"], "ann": [1.0, float("nan")]})
    labels = import_labels(df, item_id="idx", annotators=["ann"], coding=CODING)
    assert labels["winner"].tolist() == ["response1"]


def test_import_unknown_code_names_row_and_column() -> None:
    df = wide_frame()
    df.loc[1, "annotator3"] = 7
    with pytest.raises(LabelError) as err:
        import_labels(df, item_id="idx", annotators=["annotator1", "annotator2", "annotator3"], coding=CODING)
    msg = str(err.value)
    assert "row 1" in msg and "'1'" in msg and "annotator3" in msg and "7" in msg


def test_import_unknown_skip_records_what_was_skipped() -> None:
    judge = pd.DataFrame({"idx": [0, 1], "gpt": ["garbage", "2"]})
    labels = import_labels(judge, item_id="idx", annotators=["gpt"], coding=CODING, unknown="skip")
    # the unparsed verdict is kept, visibly: a skipped label flagged "unparsed", counted per annotator
    assert labels["item_id"].tolist() == ["0", "1"]
    assert labels["status"].tolist() == ["skipped", "submitted"]
    assert labels["flags"].tolist() == [["unparsed"], []]
    assert labels["flag_note"].iat[0] == "unparsed verdict: 'garbage'"
    assert labels["winner"].tolist() == [None, "response2"]
    assert labels.attrs["unparsed"] == {"gpt": 1}
    assert labels.attrs["skipped"] == [(0, "gpt", "garbage")]
    assert current_labels(labels, include_skipped=False)["item_id"].tolist() == ["1"]


def test_import_strength_mapping_for_likert_codes() -> None:
    df = pd.DataFrame({"item": ["x", "y", "z"], "rater": [1, 3, 5]})
    coding = {1: "a", 2: "a", 3: "tie", 4: "b", 5: "b"}
    labels = import_labels(
        df, item_id="item", annotators=["rater"], coding=coding, strength={1: 3, 2: 1, 3: 0, 4: 1, 5: 3}
    )
    assert labels["winner"].tolist() == ["a", "tie", "b"]
    assert labels["strength"].tolist() == [3, 0, 3]


def test_import_duplicate_item_rows_rejected() -> None:
    df = pd.DataFrame({"idx": [5, 5], "ann": [1, 2]})
    with pytest.raises(LabelError, match=r"row 1 .*'ann'.*already labelled item '5' in row 0"):
        import_labels(df, item_id="idx", annotators=["ann"], coding=CODING)


def test_import_missing_item_id_and_bad_columns() -> None:
    df = pd.DataFrame({"idx": [None, 1], "ann": [1, 2]})
    with pytest.raises(LabelError, match=r"row 0.*'idx'"):
        import_labels(df, item_id="idx", annotators=["ann"], coding=CODING)
    with pytest.raises(ValueError, match="nope"):
        import_labels(df, item_id="idx", annotators=["nope"], coding=CODING)
    with pytest.raises(ValueError, match="item_id='id'"):
        import_labels(df, item_id="id", annotators=["ann"], coding=CODING)
    with pytest.raises(ValueError, match="exactly 2"):
        import_labels(df, item_id="idx", annotators=["ann"], responses=["a", "b", "c"])


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"annotators": ["ann"], "coding": CODING, "task": "rating"}, ValueError, "task must be 'pairwise'"),
        ({"annotators": ["ann"], "coding": CODING, "source": "web"}, ValueError, "source must be one of"),
        ({"annotators": ["ann"], "coding": CODING, "unknown": "drop"}, ValueError, "unknown must be 'error'"),
        ({"coding": CODING}, ValueError, "give either annotators=[columns]"),
        ({"annotators": ["ann"], "annotator": "who", "label": "ann"}, ValueError, "give either annotators"),
        ({"annotator": "who", "coding": CODING}, ValueError, "long form needs label="),
        ({"annotator": "who", "label": "gone"}, ValueError, "column 'gone' does not exist"),
        (
            {"annotator": "who", "label": "ann", "rationale": {"ann": "why"}},
            ValueError,
            "in long form rationale",
        ),
        ({"annotators": [], "coding": CODING}, ValueError, "annotators= is empty"),
        ({"annotators": ["ann"], "coding": CODING, "rationale": "why"}, ValueError, "in wide form rationale"),
        (
            {"annotators": ["ann"], "coding": CODING, "rationale": {"ann": "gone"}},
            ValueError,
            "'gone' (for 'ann')",
        ),
        (
            {"annotators": ["ann"], "coding": CODING, "rationale": {"x": "why"}},
            ValueError,
            "names ['x'], which",
        ),
        ({"annotators": ["ann"]}, ValueError, "pairwise import needs responses=[id_a, id_b] or a coding="),
        ({"annotators": ["ann"], "coding": CODING, "responses": ["a", "b"]}, ValueError, "coding maps to"),
        ({"annotators": ["ann"], "coding": CODING, "submitted_at": "2024-01-01"}, LabelError, "no timezone"),
        (
            {"annotators": ["ann"], "coding": CODING, "strength": {1: 2}},
            LabelError,
            "has no entry in strength=",
        ),
        ({"annotators": {"ann": "alice", "why": "alice"}, "coding": CODING}, LabelError, "already labelled"),
        ({"annotator": "who", "label": "ann", "coding": CODING}, LabelError, "the annotator is missing"),
    ],
)
def test_import_argument_and_cell_errors(kwargs: dict[str, Any], error: type[Exception], says: str) -> None:
    df = pd.DataFrame({"idx": [0, 1], "ann": [1, 2], "who": ["ann-1", None], "why": [1, 1]})
    with pytest.raises(error) as info:
        import_labels(df, item_id="idx", **kwargs)
    assert says in str(info.value), str(info.value)


def test_import_needs_a_dataframe() -> None:
    with pytest.raises(TypeError, match="needs a pandas DataFrame, got list"):
        import_labels([{"idx": 0, "ann": 1}], item_id="idx", annotators=["ann"], coding=CODING)  # type: ignore[arg-type]


def test_import_without_coding_reads_response_ids() -> None:
    df = pd.DataFrame({"idx": [1, 2], "ann": ["r2", "tie"]})
    labels = import_labels(df, item_id="idx", annotators=["ann"], responses=["r1", "r2"], strength=2)
    assert labels["winner"].tolist() == ["r2", "tie"]
    assert labels["strength"].tolist() == [2, 0]
    df.loc[0, "ann"] = "r9"
    with pytest.raises(LabelError, match=r"row 0.*'ann'.*'r9'"):
        import_labels(df, item_id="idx", annotators=["ann"], responses=["r1", "r2"])


def test_import_long_form_rankings() -> None:
    df = pd.DataFrame(
        {
            "item": ["q1", "q1", "q2"],
            "worker": ["w1", "w2", "w1"],
            "rank_col": [
                ["human", "bart", "bart-dpr"],
                [["bart", "human"], ["bart-dpr"]],
                '[["bart-dpr"], ["bart", "human"]]',
            ],
            "why": ["human is best", "", None],
        }
    )
    labels = import_labels(
        df, item_id="item", annotator="worker", label="rank_col", task="ranking", rationale="why"
    )
    assert labels["ranking"].tolist() == [
        [["human"], ["bart"], ["bart-dpr"]],
        [["bart", "human"], ["bart-dpr"]],
        [["bart-dpr"], ["bart", "human"]],
    ]
    assert labels["winner"].isna().all() and labels["strength"].isna().all()
    assert labels["rationale"].tolist() == ["human is best", "", ""]
    assert labels["annotator"].tolist() == ["w1", "w2", "w1"]


def test_import_ranking_checked_against_responses() -> None:
    df = pd.DataFrame({"item": ["q1"], "worker": ["w1"], "r": [["a", "a"]]})
    with pytest.raises(LabelError, match=r"row 0 .*'r'.*appears twice"):
        import_labels(df, item_id="item", annotator="worker", label="r", task="ranking")
    df = pd.DataFrame({"item": ["q1"], "worker": ["w1"], "r": [["a", "b"]]})
    with pytest.raises(LabelError, match=r"row 0 .*'r'.*not ranked"):
        import_labels(
            df, item_id="item", annotator="worker", label="r", task="ranking", responses=["a", "b", "c"]
        )


def test_imported_labels_have_current_view() -> None:
    labels = import_labels(
        wide_frame(), item_id="idx", annotators=["annotator1", "annotator2"], coding=CODING
    )
    assert len(current_labels(labels)) == len(labels)


# ---------------------------------------------------------------------------------------------------------
# to_trl

T0 = pd.Timestamp("2025-03-01T10:00:00Z")


def label(
    label_id: str,
    item: str,
    annotator: str,
    *,
    winner: str | None = None,
    ranking: list[list[str]] | None = None,
    task: str = "pairwise",
    source: str = "widget",
    status: str = "submitted",
    revision: int = 1,
    minutes: int = 0,
) -> dict[str, Any]:
    return factories.label(
        label_id,
        item,
        annotator,
        task=task,
        status=status,
        ranking=ranking,
        winner=winner,
        strength=factories.decisive_strength(winner),
        ratings=None,
        rationale="",
        flags=[],
        flag_note="",
        display_order=[],
        guideline_version=None,
        started_at=None,
        submitted_at=T0 + pd.Timedelta(minutes=minutes),
        active_ms=None,
        revision=revision,
        supersedes=None,
        source=source,
    )


def items_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": ["p1", "p2", "chat", "n3"],
            "prompt": [
                "What is 2+2?",
                "Name a colour.",
                [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello!"},
                    {"role": "user", "content": "Tell me a joke."},
                ],
                "Rank these.",
            ],
            "responses": [
                [
                    {"response_id": "a", "text": "4", "model": "m1"},
                    {"response_id": "b", "text": "5", "model": "m2"},
                ],
                [
                    {"response_id": "a", "text": "red", "model": "m1"},
                    {"response_id": "b", "text": "blue", "model": "m2"},
                ],
                [
                    {"response_id": "a", "text": "Knock knock.", "model": "m1"},
                    {"response_id": "b", "text": "No.", "model": None},
                ],
                [{"response_id": x, "text": f"text {x}", "model": f"m{x}"} for x in ("x", "y", "z")],
            ],
        }
    )


def test_trl_majority_with_provenance() -> None:
    labels = frame(
        label("l1", "p1", "ann1", winner="a"),
        label("l2", "p1", "ann2", winner="a"),
        label("l3", "p1", "ann3", winner="b"),
    )
    out = to_trl(labels, items_frame())
    assert list(out.columns) == list(TRL_COLUMNS)
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["prompt"], row["chosen"], row["rejected"]) == ("What is 2+2?", "4", "5")
    assert (row["chosen_id"], row["rejected_id"], row["chosen_model"], row["rejected_model"]) == (
        "a",
        "b",
        "m1",
        "m2",
    )
    assert row["n_votes"] == 3 and row["agreement"] == pytest.approx(2 / 3)
    assert row["annotators"] == ["ann1", "ann2", "ann3"] and row["label_ids"] == ["l1", "l2", "l3"]
    assert row["source"] == "widget" and not row["tie_broken"]
    assert row["strength"] == 2.0  # mean strength of the winning votes


def test_trl_strength_is_mean_of_known_winning_strengths() -> None:
    labels = frame(
        {**label("l1", "p1", "ann1", winner="a"), "strength": 3},
        {**label("l2", "p1", "ann2", winner="a"), "strength": 1},
        {**label("l3", "p1", "ann3", winner="a"), "strength": None},
        {**label("l4", "p2", "ann1", winner="b"), "strength": None},
    )
    out = to_trl(labels, items_frame()).set_index("item_id")
    assert out.loc["p1", "strength"] == 2.0
    assert np.isnan(out.loc["p2", "strength"])
    ranked = to_trl(
        frame(label("r1", "n3", "ann1", task="ranking", ranking=[["x"], ["y"], ["z"]])), items_frame()
    )
    assert ranked["strength"].isna().all()


def test_trl_tie_policies() -> None:
    labels = frame(
        label("l1", "p1", "ann1", winner="a"),
        label("l2", "p1", "ann2", winner="b"),  # 1-1 split
        label("l3", "p2", "ann1", winner="tie"),
        label("l4", "p2", "ann2", winner="tie"),
        label("l5", "p2", "ann3", winner="b"),  # 2 tie votes beat 1 vote for b
    )
    assert to_trl(labels, items_frame(), tie_policy="drop").empty
    with pytest.raises(ValueError, match=r"item 'p1': pair \('a', 'b'\) is tied.*\['l1', 'l2'\]"):
        to_trl(labels, items_frame(), tie_policy="error")
    one = to_trl(labels, items_frame(), tie_policy="random", seed=1)
    two = to_trl(labels, items_frame(), tie_policy="random", seed=1)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 2 and one["tie_broken"].all()
    assert set(one["item_id"]) == {"p1", "p2"}
    orientations = {
        tuple(to_trl(labels, items_frame(), tie_policy="random", seed=s)["chosen_id"]) for s in range(20)
    }
    assert len(orientations) > 1  # the seed really decides


def test_trl_chat_prompt_is_conversational() -> None:
    out = to_trl(frame(label("l1", "chat", "ann1", winner="b")), items_frame())
    row = out.iloc[0]
    assert row["prompt"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Tell me a joke."},
    ]
    assert row["chosen"] == [{"role": "assistant", "content": "No."}]
    assert row["rejected"] == [{"role": "assistant", "content": "Knock knock."}]
    assert row["chosen_model"] is None and row["rejected_model"] == "m1"


def test_trl_aggregate_none_one_row_per_label() -> None:
    labels = frame(
        label("l1", "p1", "ann1", winner="a"),
        label("l2", "p1", "ann2", winner="b"),
        label("l3", "p1", "ann3", winner="tie"),
    )
    out = to_trl(labels, items_frame(), aggregate="none")
    assert out["label_ids"].tolist() == [["l1"], ["l2"]]
    assert out["chosen_id"].tolist() == ["a", "b"]
    assert (out["n_votes"] == 1).all() and (out["agreement"] == 1.0).all()


def test_trl_ranking_pair_policies() -> None:
    labels = frame(label("r1", "n3", "ann1", task="ranking", ranking=[["x"], ["y"], ["z"]]))
    pairs_of = {
        policy: sorted(zip(out["chosen_id"], out["rejected_id"], strict=True))
        for policy in ("all", "best_vs_rest", "adjacent")
        for out in [to_trl(labels, items_frame(), pairs=policy)]
    }
    assert pairs_of["all"] == [("x", "y"), ("x", "z"), ("y", "z")]
    assert pairs_of["best_vs_rest"] == [("x", "y"), ("x", "z")]
    assert pairs_of["adjacent"] == [("x", "y"), ("y", "z")]
    tied = frame(label("r2", "n3", "ann1", task="ranking", ranking=[["y"], ["x", "z"]]))
    out = to_trl(tied, items_frame(), pairs="all")
    assert sorted(zip(out["chosen_id"], out["rejected_id"], strict=True)) == [("y", "x"), ("y", "z")]
    with pytest.raises(ValueError, match="tied"):
        to_trl(tied, items_frame(), pairs="adjacent", tie_policy="error")


def test_trl_adjudication_wins_over_votes() -> None:
    labels = frame(
        label("l1", "p1", "ann1", winner="a"),
        label("l2", "p1", "ann2", winner="a"),
        label("adj-old", "p1", "lead", winner="a", source="adjudication", minutes=1),
        label("adj", "p1", "lead2", winner="b", source="adjudication", minutes=5),
        label("l3", "p2", "ann1", winner="a"),
    )
    out = to_trl(labels, items_frame()).set_index("item_id")
    assert out.loc["p1", "chosen_id"] == "b" and out.loc["p1", "source"] == "adjudication"
    assert out.loc["p1", "label_ids"] == ["adj"] and out.loc["p1", "n_votes"] == 1
    assert out.loc["p2", "chosen_id"] == "a"


def test_trl_uses_current_submitted_labels_only() -> None:
    first = label("l1", "p1", "ann1", winner="a")
    second = {**label("l1b", "p1", "ann1", winner="b", revision=2, minutes=3), "supersedes": "l1"}
    skip = label("l2", "p1", "ann2", status="skipped")
    out = to_trl(frame(first, second, skip), items_frame())
    assert out["chosen_id"].tolist() == ["b"] and out["label_ids"].tolist() == [["l1b"]]


def test_trl_bad_input() -> None:
    labels = frame(label("l9", "nope", "ann1", winner="a"))
    with pytest.raises(LabelError, match=r"label 'l9' \(item 'nope'\).*'item_id'"):
        to_trl(labels, items_frame())
    good = frame(label("l1", "p1", "ann1", winner="a"))
    for kwargs in ({"tie_policy": "coin"}, {"pairs": "some"}, {"aggregate": "mean"}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            to_trl(good, items_frame(), **kwargs)
    with pytest.raises(ValueError, match="'prompt'"):
        to_trl(good, items_frame().drop(columns=["prompt"]))
    assert to_trl(labels_frame([]), items_frame()).empty


def test_trl_checks_each_label_against_its_item() -> None:
    good = frame(label("l1", "p1", "ann1", winner="a"))
    with pytest.raises(LabelError, match=r"labels.*'status'.*column is missing"):
        to_trl(good.drop(columns=["status"]), items_frame())
    no_ranking = good.assign(ranking=[None])
    assert to_trl(no_ranking, items_frame())["chosen_id"].tolist() == ["a"]  # derived from the winner
    with pytest.raises(LabelError, match=r"'winner'.*'c' is not one of this item's responses \['a', 'b'\]"):
        to_trl(no_ranking.assign(winner=["c"]), items_frame())
    with pytest.raises(LabelError, match=r"'ranking'.*needs a ranking \(or, pairwise, a winner\)"):
        to_trl(no_ranking.assign(winner=[None]), items_frame())
    with pytest.raises(LabelError, match=r"'ranking'.*response 'q' is not one of this item's responses"):
        to_trl(good.assign(ranking=[[["a"], ["q"]]]), items_frame())
    bad_prompt = items_frame()
    bad_prompt["prompt"] = [42, *bad_prompt["prompt"].tolist()[1:]]
    with pytest.raises(LabelError, match=r"items row 0 \(item 'p1'\).*'prompt'.*must be a string or a chat"):
        to_trl(good, bad_prompt)


def test_trl_from_imported_wide_labels() -> None:
    df = wide_frame()
    items = pd.DataFrame(
        {
            "item_id": ["0", "1", "2"],
            "prompt": ["q0", "q1", "q2"],
            "responses": [
                [
                    {"response_id": "response1", "text": r1, "model": None},
                    {"response_id": "response2", "text": r2, "model": None},
                ]
                for r1, r2 in zip(df["response1"], df["response2"], strict=True)
            ],
        }
    )
    labels = import_labels(
        df, item_id="idx", annotators=["annotator1", "annotator2", "annotator3"], coding=CODING
    )
    out = to_trl(labels, items)
    # item 0: 2 x response2, 1 x response1; item 1: tie, 1, 1 -> response1; item 2: 1 vs 2 -> tied, dropped
    assert out["item_id"].tolist() == ["0", "1"]
    assert out["chosen"].tolist() == ["a longer answer", "yes"]
    assert out["agreement"].tolist() == pytest.approx([2 / 3, 2 / 3])


# ---------------------------------------------------------------------------------------------------------
# write_labels / read_labels


def every_field_frame() -> pd.DataFrame:
    recs = [
        {
            **label("l1", "i1", "ann", winner="a"),
            "ranking": [["a"], ["b"]],
            "strength": None,
            "ratings": {"a": {"helpfulness": 5, "accuracy": 3}, "b": {"helpfulness": 1}},
            "rationale": "",
            "flags": ["harmful", "custom flag"],
            "flag_note": "note ✓",
            "display_order": ["b", "a"],
            "guideline_version": None,
            "started_at": pd.Timestamp("2024-01-01T00:00:00.123456Z"),
            "submitted_at": pd.Timestamp("2024-01-01T00:00:05.000001Z"),
            "active_ms": None,
        },
        {
            **label("l2", "i1", "ann", status="skipped", task="ranking", revision=2),
            "rationale": "RTL עברית, emoji 👩‍💻, combining é",
            "display_order": ["a", "b", "c"],
            "guideline_version": "",
            "submitted_at": pd.Timestamp("2024-06-30T23:59:59.999999+02:00"),
            "active_ms": 0,
            "supersedes": "l1",
        },
        {
            **label("l3", "i2", "judge", task="ranking", ranking=[["c"], ["a", "b"]], source="import"),
            "ratings": {},
            "strength": None,
            "guideline_version": "v2",
            "active_ms": 123456789,
        },
    ]
    return labels_frame(recs)


@pytest.mark.parametrize("ext", ["jsonl", "parquet"])
def test_write_read_round_trips_every_field(tmp_path: Path, ext: str) -> None:
    labels = every_field_frame()
    path = write_labels(labels, tmp_path / f"labels.{ext}")
    back = read_labels(path)
    pd.testing.assert_frame_equal(back, labels)
    # spelled out, so the nested values are certainly compared
    assert back.loc[0, "ratings"] == {"a": {"helpfulness": 5, "accuracy": 3}, "b": {"helpfulness": 1}}
    assert list(back.loc[0, "ratings"]) == ["a", "b"]
    assert back.loc[0, "ranking"] == [["a"], ["b"]] and back.loc[2, "ranking"] == [["c"], ["a", "b"]]
    assert back.loc[0, "guideline_version"] is None and back.loc[1, "guideline_version"] == ""
    assert back.loc[0, "rationale"] == "" and back.loc[1, "rationale"] == labels.loc[1, "rationale"]
    assert back.loc[0, "strength"] is pd.NA and back.loc[1, "active_ms"] == 0
    assert back.loc[0, "started_at"] == pd.Timestamp("2024-01-01T00:00:00.123456Z")
    assert back.loc[1, "submitted_at"] == pd.Timestamp("2024-06-30T21:59:59.999999Z")
    assert back.loc[1, "started_at"] is pd.NaT
    assert back.loc[2, "ratings"] == {} and back.loc[1, "ratings"] is None  # {} and None both kept
    changed = back.copy()
    changed.at[0, "ranking"] = [["b"], ["a"]]
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(changed, labels)


@pytest.mark.parametrize("ext", ["jsonl", "parquet"])
def test_round_trip_simulated_labels_and_extra_columns(tmp_path: Path, ext: str) -> None:
    items = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(300)],
            "prompt": ["q"] * 300,
            "responses": [
                [{"response_id": f"r{k}", "text": "t", "model": f"m{k}"} for k in range(2 + i % 3)]
                for i in range(300)
            ],
        }
    )
    labels = simulate_labels(
        items,
        [Annotator("a", flag_rate=0.3, skip_rate=0.1), Annotator("b")],
        criteria=("overall",),
        guideline_version="v1",
    )
    labels["batch"] = ["x" if i % 2 else "y" for i in range(len(labels))]
    back = read_labels(write_labels(labels, tmp_path / f"sim.{ext}"))
    pd.testing.assert_frame_equal(back, labels)


@pytest.mark.parametrize("ext", ["jsonl", "parquet"])
def test_empty_round_trip(tmp_path: Path, ext: str) -> None:
    back = read_labels(write_labels(empty_labels(), tmp_path / f"none.{ext}"))
    pd.testing.assert_frame_equal(back, empty_labels())


def test_read_jsonl_bad_lines_name_line_and_field(tmp_path: Path) -> None:
    path = write_labels(every_field_frame(), tmp_path / "l.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()

    def attempt(content: list[str]) -> str:
        bad = tmp_path / "bad.jsonl"
        bad.write_text("\n".join(content) + "\n", encoding="utf-8")
        with pytest.raises(ValueError) as err:
            read_labels(bad)
        return str(err.value)

    assert "line 2" in attempt([lines[0], "{not json", lines[2]])
    assert "line 1" in attempt(["[1, 2]"])
    rec = json.loads(lines[0])
    del rec["annotator"]
    msg = attempt([lines[1], json.dumps(rec)])
    assert "line 2" in msg and "'l1'" in msg and "'annotator'" in msg
    rec = json.loads(lines[0])
    rec["ranking"] = "a>b"
    msg = attempt([json.dumps(rec)])
    assert "'ranking'" in msg and "list of lists" in msg
    rec = json.loads(lines[0])
    rec["revision"] = "1"
    assert "'revision'" in attempt([json.dumps(rec)])
    rec = json.loads(lines[0])
    rec["submitted_at"] = "yesterday"
    msg = attempt([lines[1], json.dumps(rec)])
    assert "line 2" in msg and "'submitted_at'" in msg and "yesterday" in msg
    rec = json.loads(lines[0])
    rec["item_id"] = None
    assert "'item_id'" in attempt([json.dumps(rec)])


def test_read_parquet_checks_columns_and_types(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = write_labels(every_field_frame(), tmp_path / "l.parquet")
    table = pq.read_table(path)
    pq.write_table(table.drop_columns(["winner"]), tmp_path / "no_winner.parquet")
    with pytest.raises(LabelError, match=r"'winner'.*missing"):
        read_labels(tmp_path / "no_winner.parquet")
    idx = table.column_names.index("revision")
    pq.write_table(table.set_column(idx, "revision", pa.array(["1", "2", "1"])), tmp_path / "str_rev.parquet")
    with pytest.raises(LabelError, match=r"'revision'.*Arrow type string"):
        read_labels(tmp_path / "str_rev.parquet")
    idx = table.column_names.index("annotator")
    pq.write_table(table.set_column(idx, "annotator", pa.array(["a", None, "c"])), tmp_path / "null.parquet")
    with pytest.raises(LabelError, match=r"row 1 \(label 'l2'\).*'annotator'.*required"):
        read_labels(tmp_path / "null.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match="not a readable Parquet"):
        read_labels(tmp_path / "junk.parquet")


def test_write_bad_extension_and_failed_write_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'\.csv'"):
        write_labels(every_field_frame(), tmp_path / "labels.csv")
    with pytest.raises(ValueError, match=r"'\.txt'"):
        read_labels(tmp_path / "labels.txt")
    bad = every_field_frame()
    bad["blob"] = [object(), None, None]  # not serialisable
    with pytest.raises(TypeError):
        write_labels(bad, tmp_path / "labels.jsonl")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(LabelError, match="'label_id'"):
        write_labels(every_field_frame().drop(columns=["label_id"]), tmp_path / "x.jsonl")
    assert list(tmp_path.iterdir()) == []


def test_import_long_form_pairwise_with_coding_and_times() -> None:
    df = pd.DataFrame(
        {
            "item": [10, 10, 11],
            "worker": ["w1", "w2", "w1"],
            "choice": ["A", "b", "same"],
            "when": ["2024-02-01T10:00:00Z", "2024-02-01T10:05:00+01:00", "2024-02-02T08:00:00Z"],
        }
    )
    labels = import_labels(
        df,
        item_id="item",
        annotator="worker",
        label="choice",
        coding={"a": "response1", "b": "response2", "same": "tie"},
        submitted_at="when",
        guideline_version="v3",
    )
    assert labels["winner"].tolist() == ["response1", "response2", "tie"]
    assert labels["item_id"].tolist() == ["10", "10", "11"]
    assert labels["submitted_at"].tolist() == [
        pd.Timestamp("2024-02-01T10:00Z"),
        pd.Timestamp("2024-02-01T09:05Z"),
        pd.Timestamp("2024-02-02T08:00Z"),
    ]
    assert (labels["guideline_version"] == "v3").all()
    df.loc[1, "when"] = "2024-02-01 10:05"  # no timezone
    with pytest.raises(LabelError, match=r"row 1 .*'when'.*timezone"):
        import_labels(
            df,
            item_id="item",
            annotator="worker",
            label="choice",
            coding={"a": "response1", "b": "response2", "same": "tie"},
            submitted_at="when",
        )


def test_import_wide_rankings_with_coding() -> None:
    df = pd.DataFrame({"q": ["x", "y"], "judge": [[1, 3, 2], [[2, 3], [1]]]})
    labels = import_labels(
        df, item_id="q", annotators=["judge"], task="ranking", coding={1: "bart", 2: "human", 3: "pegasus"}
    )
    assert labels["ranking"].tolist() == [
        [["bart"], ["pegasus"], ["human"]],
        [["human", "pegasus"], ["bart"]],
    ]


def test_reimport_into_a_sqlite_store_is_idempotent(tmp_path: Path) -> None:
    from rank_widget.store import open_store

    df = wide_frame()
    kwargs: dict[str, Any] = {
        "item_id": "idx",
        "annotators": ["annotator1", "annotator2", "annotator3"],
        "coding": CODING,
    }
    with open_store(tmp_path / "labels.sqlite") as store:
        store.append_many(import_labels(df, **kwargs).to_dict("records"))
        store.append_many(import_labels(df, **kwargs).to_dict("records"))  # a second import, later
        assert store.count() == 8
        stored = store.labels()
    assert sorted(stored["label_id"]) == sorted(import_labels(df, **kwargs)["label_id"])
    assert set(stored["source"]) == {"import"}


# ---------------------------------------------------------------------------------------------------------
# read_labels checks values, not only types (issue 13, finding 4): the rules of schema.validate_label

# (row of every_field_frame, field, bad value, what the error says)
BAD_FILE_VALUES = {
    "status hacked": (
        1,
        "status",
        "hacked",
        "must be one of ('submitted', 'skipped', 'withdrawn'), got 'hacked'",
    ),
    "task bogus": (0, "task", "bogus", "must be one of ('pairwise', 'ranking'), got 'bogus'"),
    "source evil": (2, "source", "evil", "must be one of"),
    "strength 99": (0, "strength", 99, "must be 0..3, got 99"),
    "revision -3": (1, "revision", -3, "must be an integer >= 1, got -3"),
    "rating 10^6": (0, "ratings", {"a": {"helpfulness": 10**6}}, "= 1000000 is outside 1..10"),
    "empty annotator": (2, "annotator", "", "must not be empty"),
    "ranking repeats an id": (2, "ranking", [["c"], ["a", "c"]], "response id 'c' appears twice"),
    "winner contradicts ranking": (0, "winner", "b", "'b' disagrees with the ranking [['a'], ['b']]"),
    "duplicated label_id": (2, "label_id", "l1", "'l1' is also the id of an earlier label"),
    "NUL in rationale": (2, "rationale", "fine\x00", "contains a NUL character"),
    "skipped with a winner": (1, "winner", "a", "a skipped label has no ranking, winner or strength"),
    "pairwise without winner": (0, "winner", None, "a submitted pairwise label needs a winner"),
    "winner tie, ranking decisive": (0, "winner", "tie", "'tie' disagrees with the ranking [['a'], ['b']]"),
    "display order of other ids": (
        2,
        "display_order",
        ["a", "b", "z"],
        "must list the same response ids as the ranking",
    ),
    "oversized rationale": (1, "rationale", "x" * 10_001, "is 10001 characters; the limit is 10000"),
    "duplicated flag": (0, "flags", ["harmful", "harmful"], "a flag is listed twice"),
}


@pytest.mark.parametrize("ext", ["jsonl", "parquet"])
@pytest.mark.parametrize("case", list(BAD_FILE_VALUES))
def test_read_labels_refuses_bad_values(tmp_path: Path, ext: str, case: str) -> None:
    row, field, value, says = BAD_FILE_VALUES[case]
    labels = every_field_frame()
    labels[field] = labels[field].astype(object)
    labels.at[row, field] = value
    path = write_labels(labels, tmp_path / f"labels.{ext}")  # write_labels writes what it is given
    with pytest.raises(ValueError) as err:
        read_labels(path)
    msg = str(err.value)
    place = f"line {row + 1}" if ext == "jsonl" else f"row {row}"
    assert msg.startswith(f"{path} {place} (label "), msg
    assert f"field {field!r}" in msg and says in msg, msg
    assert "fix or remove this label in the file; nothing was loaded" in msg


def test_read_labels_refuses_a_lone_surrogate(tmp_path: Path) -> None:
    # A lone surrogate cannot be written as UTF-8, but JSON can spell it as an escape.
    path = write_labels(every_field_frame(), tmp_path / "l.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[2])
    rec["rationale"] = "half an emoji \ud83d"
    lines[2] = json.dumps(rec)  # ensure_ascii: the surrogate as the escape \ud83d
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LabelError, match=r"line 3 \(label 'l3'\): field 'rationale': contains an unpaired"):
        read_labels(path)


def test_read_labels_valid_edge_values_still_load(tmp_path: Path) -> None:
    labels = every_field_frame()
    labels["strength"] = labels["strength"].astype(object)
    labels.at[0, "strength"] = 3
    labels.at[0, "ratings"] = {"a": {"helpfulness": 10, "accuracy": 1}}
    labels.at[2, "rationale"] = "x" * 10_000
    labels = coerce_labels(labels)
    for ext in ("jsonl", "parquet"):
        pd.testing.assert_frame_equal(read_labels(write_labels(labels, tmp_path / f"ok.{ext}")), labels)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"strength": {1: 99, 2: 2}}, "strength: must be 0..3, got 99"),
        ({"source": "evil"}, "source must be one of"),
        ({"rationale": {"annotator1": "note"}}, "rationale: contains a NUL character"),
    ],
)
def test_import_labels_shares_the_value_rules(kwargs: dict[str, Any], says: str) -> None:
    df = wide_frame().assign(note=["fine", "also \x00 fine", "x"])
    with pytest.raises(ValueError, match=re.escape(says)):
        import_labels(df, item_id="idx", annotators=["annotator1", "annotator2"], coding=CODING, **kwargs)


def test_import_labels_refuses_an_empty_annotator_and_a_repeated_ranked_id() -> None:
    long = pd.DataFrame({"item": ["i1", "i2"], "who": ["w1", " "], "verdict": ["response1", "tie"]})
    with pytest.raises(LabelError, match=r"row 1 .*'who'.*annotator is missing"):
        import_labels(
            long, item_id="item", annotator="who", label="verdict", responses=["response1", "response2"]
        )
    ranks = pd.DataFrame({"item": ["i1"], "who": ["w1"], "order": [[["a"], ["b", "a"]]]})
    with pytest.raises(LabelError, match="response id 'a' appears twice"):
        import_labels(ranks, item_id="item", annotator="who", label="order", task="ranking")
