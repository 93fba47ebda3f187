"""formats: import_labels, to_trl, write_labels/read_labels."""

from __future__ import annotations

import pandas as pd
import pytest

import rank_widget
from rank_widget.formats import import_labels
from rank_widget.schema import COLUMN_NAMES, LabelError, coerce_labels, current_labels

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
    assert labels["item_id"].tolist() == ["1"]
    assert labels.attrs["skipped"] == [(0, "gpt", "garbage")]


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
