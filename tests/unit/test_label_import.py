"""import_labels: every error at once (errors=), ids from load_items (items=), unparsed verdicts kept."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rank_widget.formats import import_labels
from rank_widget.items import load_items
from rank_widget.label_import import ImportRowsError
from rank_widget.schema import LabelError, current_labels, rejected_rows

CODING = {0: "tie", 1: "response1", 2: "response2"}


def bad_frame(n_bad: int = 25) -> pd.DataFrame:
    """40 rows, three annotators; annotator2 has code 7 in the first ``n_bad`` rows; row 39's id is blank."""
    codes2 = [7] * n_bad + [1] * (40 - n_bad)
    return pd.DataFrame(
        {
            "idx": [*range(39), None],
            "annotator1": [1] * 40,
            "annotator2": codes2,
            "annotator3": [2] * 40,
        }
    )


ANNOTATORS = ["annotator1", "annotator2", "annotator3"]


def test_raise_names_every_bad_row_first_20_and_a_count() -> None:
    with pytest.raises(ImportRowsError) as info:
        import_labels(bad_frame(), item_id="idx", annotators=ANNOTATORS, coding=CODING)
    err = info.value
    msg = str(err)
    # 25 bad codes + 1 missing id = 26 bad cells in 26 rows; 20 listed, then the count
    assert msg.startswith("import_labels: 26 bad cells in 26 rows; nothing was imported")
    assert "row 0 (item '0'): field 'annotator2': code 7 is not in coding" in msg
    assert "row 19 (item '19')" in msg and "row 20 (item" not in msg
    assert msg.rstrip().endswith("... and 6 more")
    assert isinstance(err, LabelError) and isinstance(err, ValueError)
    assert (err.where, err.field) == ("row 0 (item '0')", "annotator2")
    assert len(err.rejected) == 26
    assert err.rejected.iloc[-1].tolist() == [39, None, "idx", "the item id is missing; every row needs one"]


def test_skip_keeps_the_good_cells_and_warns_with_the_count() -> None:
    with pytest.warns(UserWarning, match=r"left out 26 bad cells in 26 row\(s\) \(errors='skip'\)"):
        labels = import_labels(
            bad_frame(), item_id="idx", annotators=ANNOTATORS, coding=CODING, errors="skip"
        )
    # rows 0..38 have good annotator1/annotator3 cells (78), annotator2 is good in rows 25..38 (14)
    assert len(labels) == 78 + 14
    assert "rejected" not in labels.attrs
    assert set(labels.loc[labels["annotator"] == "annotator2", "item_id"]) == {str(i) for i in range(25, 39)}


def test_collect_returns_the_rejected_cells_as_a_frame() -> None:
    with pytest.warns(UserWarning, match="errors='collect'"):
        labels = import_labels(
            bad_frame(3), item_id="idx", annotators=ANNOTATORS, coding=CODING, errors="collect"
        )
    rejected = rejected_rows(labels)
    assert list(rejected.columns) == ["row", "item_id", "field", "reason"]
    assert rejected["row"].tolist() == [0, 1, 2, 39]
    assert rejected["field"].tolist() == ["annotator2", "annotator2", "annotator2", "idx"]
    assert rejected["item_id"].tolist()[:3] == ["0", "1", "2"]
    assert len(labels) == 39 * 3 - 3


def test_collected_labels_still_merge_concatenate_and_save(tmp_path: Path) -> None:
    # rejected cells are plain records in attrs: a DataFrame there broke merge/concat (pandas compares attrs
    # with ==) and to_parquet (attrs are written as JSON)
    with pytest.warns(UserWarning, match="errors='collect'"):
        labels = import_labels(
            bad_frame(3), item_id="idx", annotators=ANNOTATORS, coding=CODING, errors="collect"
        )
    other = labels.copy()
    assert len(pd.concat([labels, other])) == 2 * len(labels)
    assert len(labels.merge(other[["label_id"]], on="label_id")) == len(labels)
    labels[["label_id", "item_id"]].to_parquet(tmp_path / "labels.parquet")
    again = pd.read_parquet(tmp_path / "labels.parquet")
    assert rejected_rows(again)["row"].tolist() == [0, 1, 2, 39]


def test_collect_without_problems_has_an_empty_rejected_frame_and_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labels = import_labels(
            bad_frame(0).iloc[:39], item_id="idx", annotators=ANNOTATORS, coding=CODING, errors="collect"
        )
    assert labels.attrs["rejected"] == [] and rejected_rows(labels).empty and len(labels) == 117


def test_every_kind_of_bad_cell_is_listed_in_one_go() -> None:
    df = pd.DataFrame(
        {
            "item": ["i1", "i1", "i2", "x" * 300, "i4", "i5"],
            "who": ["w1", "w1", None, "w1", "w1", "w1"],
            "verdict": ["response1", "response2", "tie", "tie", "maybe", "tie"],
            "when": [
                "2024-01-01T00:00Z",
                "2024-01-01T00:00Z",
                "2024-01-01T00:00Z",
                "2024-01-01T00:00Z",
                "2024-01-01T00:00Z",
                "2024-01-01 00:00",
            ],
            "why": ["", "", "", "", "", "bad \x00 text"],
        }
    )
    with pytest.raises(ImportRowsError) as info:
        import_labels(
            df,
            item_id="item",
            annotator="who",
            label="verdict",
            submitted_at="when",
            rationale="why",
            responses=["response1", "response2"],
        )
    got = info.value.rejected[["row", "field"]].values.tolist()
    assert got == [[1, "verdict"], [2, "who"], [3, "item"], [4, "verdict"], [5, "when"], [5, "why"]]
    reasons = info.value.rejected["reason"].tolist()
    assert "already labelled item 'i1' in row 0" in reasons[0]
    assert reasons[1] == "the annotator is missing; every judgement needs one"
    assert "is 300 characters; the limit is 256" in reasons[2] and "items=" in reasons[2]
    assert "'maybe' is neither 'tie' nor one of ['response1', 'response2']" in reasons[3]
    assert "has no timezone" in reasons[4]
    assert "NUL character" in reasons[5]


def test_errors_argument_is_checked() -> None:
    with pytest.raises(ValueError, match="errors must be one of"):
        import_labels(bad_frame(), item_id="idx", annotators=ANNOTATORS, coding=CODING, errors="ignore")
    with pytest.raises(ValueError, match="blank must be one of"):
        import_labels(bad_frame(), item_id="idx", annotators=ANNOTATORS, coding=CODING, blank="x")


# ---------------------------------------------------------------------------------------------------------
# items=: AlpacaEval annotations (instruction, output_1, output_2, generator_1, generator_2, preference);
# shape as in tatsu-lab/alpaca_eval's annotation files: preference 1.0 / 2.0 (1.5 a tie), None unparsed.

LONG = "Write a detailed essay on the history of the printing press. " * 10  # 610 characters: not an id


def alpaca_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "instruction": [LONG, "What is 2+2?", "Name a colour.", "Say hi."],
            "output_1": ["Gutenberg...", "4", "", "hi"],
            "output_2": ["Movable type...", "5", "blue", "hello"],
            "generator_1": ["gpt4_1106_preview"] * 4,
            "generator_2": ["my-model"] * 4,
            "preference": [2.0, 1.0, None, 1.5],
        }
    )


def alpaca_items(df: pd.DataFrame) -> pd.DataFrame:
    return load_items(df, prompt="instruction", responses=["output_1", "output_2"], allow_empty=True)


def test_items_gives_the_ids_so_long_text_keys_need_no_workaround() -> None:
    df = alpaca_frame()
    with pytest.raises(ImportRowsError, match="the limit is 256"):
        import_labels(
            df,
            item_id="instruction",
            annotators={"preference": "gpt4"},
            coding={1: "output_1", 2: "output_2", 1.5: "tie"},
        )
    items = alpaca_items(df)
    labels = import_labels(
        df,
        items=items,
        annotators={"preference": "gpt4"},
        coding={1: "output_1", 2: "output_2", 1.5: "tie"},
        blank="unparsed",
    )
    assert labels["item_id"].tolist() == items["item_id"].tolist()
    assert labels["winner"].tolist() == ["output_2", "output_1", None, "tie"]
    assert labels["status"].tolist() == ["submitted", "submitted", "skipped", "submitted"]
    assert labels.attrs["unparsed"] == {"gpt4": 1}
    assert labels["flag_note"].iat[2] == "unparsed verdict: blank"


def test_items_refuses_rows_in_another_order_naming_them() -> None:
    df = alpaca_frame()
    items = alpaca_items(df)
    shuffled = df.iloc[[1, 0, 2, 3]].reset_index(drop=True)
    with pytest.raises(
        ValueError, match=r"prompts of 2 row\(s\) do not match their items.*row 0 \('What is 2\+2\?'"
    ):
        import_labels(shuffled, items=items, annotators=["preference"], coding={1: "output_1", 2: "output_2"})
    with pytest.raises(ValueError, match="items= has 3 items but the labels have 4 rows"):
        import_labels(
            df, items=items.iloc[:3], annotators=["preference"], coding={1: "output_1", 2: "output_2"}
        )
    with pytest.raises(ValueError, match="give item_id='column'"):
        import_labels(df, annotators=["preference"], coding={1: "output_1", 2: "output_2"})
    with pytest.raises(ValueError, match="prompt='the column holding the prompt'"):
        import_labels(
            df.rename(columns={"instruction": "text"}),
            items=items,
            annotators=["preference"],
            coding={1: "output_1", 2: "output_2"},
        )


def test_items_check_accepts_joined_prompts() -> None:
    # PandaLM shape: load_items joins instruction + input; the row's instruction is part of the prompt
    df = pd.DataFrame(
        {
            "instruction": ["Translate.", "Sum these."],
            "input": ["bonjour", "1, 2"],
            "response1": ["hello", "3"],
            "response2": ["hi", "4"],
            "annotator1": [1, 2],
        }
    )
    items = load_items(df)
    labels = import_labels(df, items=items, annotators=["annotator1"], coding=CODING)
    assert labels["item_id"].tolist() == items["item_id"].tolist()


# ---------------------------------------------------------------------------------------------------------
# unparsed verdicts


def test_blank_is_no_label_by_default_and_unparsed_when_asked() -> None:
    df = pd.DataFrame({"idx": [0, 1, 2], "judge": ["1", None, "garbage"]})
    plain = import_labels(df, item_id="idx", annotators=["judge"], coding=CODING, unknown="skip")
    assert plain["item_id"].tolist() == ["0", "2"] and plain.attrs["unparsed"] == {"judge": 1}
    kept = import_labels(
        df, item_id="idx", annotators=["judge"], coding=CODING, unknown="skip", blank="unparsed"
    )
    assert kept["status"].tolist() == ["submitted", "skipped", "skipped"]
    assert kept.attrs["unparsed"] == {"judge": 2}
    (r1, c1, v1), second = kept.attrs["skipped"]  # pandas reads the None of a text column as NaN
    assert (r1, c1, pd.isna(v1), second) == (1, "judge", True, (2, "judge", "garbage"))
    assert kept["ranking"].tolist() == [[["response1"], ["response2"]], None, None]
    assert kept["display_order"].tolist() == [["response1", "response2"]] * 3
    assert len(current_labels(kept, include_skipped=False)) == 1


def test_a_hundred_thousand_labels_import_with_the_same_values_as_row_by_row() -> None:
    # the column-at-a-time checks give the very labels validate_label gives one row at a time
    from rank_widget.schema import validate_label

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"idx": np.arange(2_000), "a": rng.integers(0, 3, 2_000), "b": rng.integers(0, 3, 2_000)}
    )
    labels = import_labels(
        df, item_id="idx", annotators=["a", "b"], coding=CODING, submitted_at="2025-01-01T00:00Z"
    )
    for rec in labels.sample(50, random_state=0).to_dict("records"):
        again = validate_label(rec, response_ids=["response1", "response2"])
        assert again["winner"] == rec["winner"] and again["ranking"] == rec["ranking"]
        assert again["strength"] == (None if pd.isna(rec["strength"]) else rec["strength"])


@pytest.mark.parametrize("dtype", [object, "string", None])
def test_blank_text_cells_are_no_label_whatever_the_text_dtype(dtype: Any) -> None:
    # pandas 3 reads text as a string dtype, pandas 2 as object: "" and "  " are blank either way
    df = pd.DataFrame({"idx": [1, 2, 3], "a": pd.array(["1", "", "  "], dtype=dtype)})
    labels = import_labels(df, item_id="idx", annotators=["a"], coding=CODING)
    assert labels["item_id"].tolist() == ["1"]
    kept = import_labels(df, item_id="idx", annotators=["a"], coding=CODING, blank="unparsed")
    assert kept["status"].tolist() == ["submitted", "skipped", "skipped"]


def test_many_distinct_bad_values_each_get_their_own_reason() -> None:
    # a judge column of free text: every bad value is distinct; each row's reason names its own value
    n = 3_000
    df = pd.DataFrame({"idx": range(n), "judge": ["1" if i % 2 else f"ramble {i}" for i in range(n)]})
    with pytest.warns(UserWarning, match="left out 1500 bad cells"):
        labels = import_labels(df, item_id="idx", annotators=["judge"], coding=CODING, errors="collect")
    rejected = rejected_rows(labels)
    assert rejected["row"].tolist() == list(range(0, n, 2))
    assert all(
        f"'ramble {r}'" in reason for r, reason in zip(rejected["row"], rejected["reason"], strict=True)
    )
    skipped = import_labels(df, item_id="idx", annotators=["judge"], coding=CODING, unknown="skip")
    assert skipped.attrs["unparsed"] == {"judge": 1500}
    assert skipped.loc[skipped["item_id"] == "4", "flag_note"].item() == "unparsed verdict: 'ramble 4'"


def test_labels_follow_the_source_order_row_by_row() -> None:
    # the order row-at-a-time import gave: each row's annotator columns left to right
    df = pd.DataFrame({"idx": [0, 1], "a": [1, None], "b": [2, 1], "c": [0, 2]})
    labels = import_labels(df, item_id="idx", annotators=["a", "b", "c"], coding=CODING)
    assert labels[["item_id", "annotator"]].values.tolist() == [
        ["0", "a"],
        ["0", "b"],
        ["0", "c"],
        ["1", "b"],
        ["1", "c"],
    ]


def test_label_ids_are_the_documented_hash() -> None:
    # sha1(json.dumps([source, item, annotator]))[:20]: the ids main gave, so re-imports stay idempotent
    import hashlib
    import json

    from rank_widget.label_import import label_ids

    items = ["x", 'é"\\ \n\u2028', "🙂", "x"]
    annotators = ["a", "a\x01", "b", "z"]
    expected = [
        "imp-" + hashlib.sha1(json.dumps(["import", i, a]).encode()).hexdigest()[:20]
        for i, a in zip(items, annotators, strict=True)
    ]
    assert label_ids("imp", "import", items, annotators) == expected


@pytest.mark.parametrize("task", ["pairwise", "ranking"])
def test_the_frame_is_built_in_the_canonical_dtypes(task: str) -> None:
    # import_labels builds its columns directly instead of calling coerce_labels: they must agree
    from rank_widget.schema import coerce_labels

    if task == "pairwise":
        df = pd.DataFrame({"idx": [0, 1, 2], "a": ["1", "garbage", None], "b": [2, 0, 1]})
        labels = import_labels(
            df,
            item_id="idx",
            annotators=["a", "b"],
            coding=CODING,
            unknown="skip",
            blank="unparsed",
            strength={0: 0, 1: 2, 2: 3, "1": 2},
        )
    else:
        df = pd.DataFrame({"item": ["i1", "i2"], "who": ["w", "w"], "rank": [["x", "y"], [["y", "x"]]]})
        labels = import_labels(
            df,
            item_id="item",
            annotator="who",
            label="rank",
            task="ranking",
            submitted_at="2025-01-01T00:00Z",
        )
    pd.testing.assert_frame_equal(labels, coerce_labels(labels))
