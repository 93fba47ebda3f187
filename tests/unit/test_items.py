"""load_items: every input shape, every file type, ids, gold, unicode, and the bad-input corpus."""

from __future__ import annotations

import copy
import gzip
import hashlib
import importlib.util
import json
import pickle
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rank_widget import load_items
from rank_widget.items import MAX_TEXT_CHARS, ItemsError, ItemsWarning, stable_item_id

# The corpus lives next to this file; load it by path so it works whatever the test package layout.
_spec = importlib.util.spec_from_file_location(
    "rank_widget_bad_inputs", Path(__file__).with_name("bad_inputs.py")
)
assert _spec is not None and _spec.loader is not None
bad_inputs = sys.modules.setdefault("rank_widget_bad_inputs", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(bad_inputs)

UNICODE_SAMPLES = [
    "مرحبا بالعالم، كيف حالك؟",  # Arabic, right-to-left
    "שלום עולם",  # Hebrew
    "family: 👨\u200d👩\u200d👧\u200d👦 and flag 🏳️\u200d🌈",  # ZWJ sequences
    "cafe\u0301 vs café, Z\u0351\u0352\u0353algo",  # combining marks, NFD and NFC side by side
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "mixed: english ثم عربي then עברית 123",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math: ∑_{i=1}^n i² = n(n+1)(2n+1)/6",
    "line\u2028separator, paragraph\u2029separator, next-line\x85and tab\tend",  # raw in JSON strings
]


def responses_of(items: pd.DataFrame, row: int) -> list[dict[str, Any]]:
    return list(items["responses"].iloc[row])


def snapshot(source: Any) -> bytes:
    """A byte-exact fingerprint of a source, to prove load_items did not modify it."""
    if isinstance(source, Path):
        return source.read_bytes()
    if isinstance(source, pd.DataFrame):
        return pickle.dumps(
            (
                list(source.columns),
                source.index.tolist(),
                [source[c].tolist() for c in source.columns],
                source.dtypes.astype(str).tolist(),
            )
        )
    return pickle.dumps(source)


# ---------------------------------------------------------------------------------------------------------
# Wide columns


def test_wide_auto_detects_numbered_columns_in_numeric_order_and_keeps_metadata() -> None:
    df = pd.DataFrame(
        {
            "id": [10, 11],
            "prompt": ["P0", "P1"],
            "response10": ["j0", "j1"],
            "response2": ["b0", "b1"],
            "response1": ["a0", "a1"],
            "category": ["math", "code"],
            "difficulty": [3, 5],
        }
    )
    items = load_items(df)
    assert list(items.columns) == ["item_id", "prompt", "responses", "category", "difficulty"]
    assert items["item_id"].tolist() == ["10", "11"]
    assert [r["response_id"] for r in responses_of(items, 0)] == ["response1", "response2", "response10"]
    assert responses_of(items, 1) == [
        {"response_id": "response1", "text": "a1", "model": None},
        {"response_id": "response2", "text": "b1", "model": None},
        {"response_id": "response10", "text": "j1", "model": None},
    ]
    assert items["category"].tolist() == ["math", "code"]
    assert items["difficulty"].dtype == np.int64
    assert isinstance(items.index, pd.RangeIndex)


def test_wide_letter_columns_pick_up_parallel_model_columns() -> None:
    df = pd.DataFrame(
        {
            "prompt": ["p"],
            "response_a": ["A"],
            "response_b": ["B"],
            "model_a": ["atlas-7b"],
            "model_b": ["cirrus-mini"],
            "winner": ["model_a"],
        }
    )
    items = load_items(df)
    assert responses_of(items, 0) == [
        {"response_id": "response_a", "text": "A", "model": "atlas-7b"},
        {"response_id": "response_b", "text": "B", "model": "cirrus-mini"},
    ]
    assert "model_a" not in items.columns and items["winner"].tolist() == ["model_a"]


def test_wide_explicit_columns_models_prompt_and_id() -> None:
    df = pd.DataFrame(
        {
            "key": ["k1", "k2"],
            "q": ["Q1", "Q2"],
            "good": ["g1", "g2"],
            "bad": ["b1", "b2"],
            "gm": ["m-good", "m-good"],
            "bm": ["m-bad", None],
        }
    )
    items = load_items(df, prompt="q", responses=["good", "bad"], models=["gm", "bm"], item_id="key")
    assert items["item_id"].tolist() == ["k1", "k2"]
    assert items["prompt"].tolist() == ["Q1", "Q2"]
    assert responses_of(items, 1) == [
        {"response_id": "good", "text": "g2", "model": "m-good"},
        {"response_id": "bad", "text": "b2", "model": None},
    ]
    assert list(items.columns) == ["item_id", "prompt", "responses"]


def test_alpaca_instruction_and_input_are_joined_and_empty_input_is_omitted() -> None:
    rows = [
        {"idx": 0, "instruction": "Summarise.", "input": "A long text.", "response1": "a", "response2": "b"},
        {"idx": 1, "instruction": "Tell a joke.", "input": "", "response1": "a", "response2": "b"},
        {"idx": 2, "instruction": "Say hi.", "input": float("nan"), "response1": "a", "response2": "b"},
    ]
    items = load_items(rows)
    assert items["prompt"].tolist() == ["Summarise.\n\nA long text.", "Tell a joke.", "Say hi."]
    assert items["item_id"].tolist() == ["0", "1", "2"]
    assert "input" not in items.columns and "instruction" not in items.columns
    joined = load_items(rows, prompt=["input", "instruction"])
    assert joined["prompt"].tolist()[0] == "A long text.\n\nSummarise."


def test_coerce_text_is_opt_in_and_empty_responses_load_with_one_warning() -> None:
    rows = [{"prompt": "Is 7 prime?", "response1": True, "response2": ""}]
    with pytest.raises(ItemsError, match="coerce_text=True"):
        load_items(rows)
    with pytest.raises(ItemsError, match="text is empty and allow_empty=False"):
        load_items(rows, coerce_text=True, allow_empty=False)
    with pytest.warns(ItemsWarning, match=r"^1 empty response\(s\) in 1 item\(s\)") as caught:
        warned = load_items(rows, coerce_text=True)
    assert len(caught) == 1
    assert [r["text"] for r in responses_of(warned, 0)] == ["true", ""]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        items = load_items(rows, allow_empty=True, coerce_text=True)
    assert [r["text"] for r in responses_of(items, 0)] == ["true", ""]
    numbers = load_items([{"prompt": "2+2?", "response1": 4, "response2": 4.5}], coerce_text=True)
    assert [r["text"] for r in responses_of(numbers, 0)] == ["4", "4.5"]


# ---------------------------------------------------------------------------------------------------------
# List column


def test_list_of_strings_gets_r_ids_and_optional_model_list() -> None:
    rows = [{"prompt": "p", "responses": ["x", "y", "z"], "models": ["m1", "m2", "m3"]}]
    items = load_items(rows, models="models")
    assert responses_of(items, 0) == [
        {"response_id": "r1", "text": "x", "model": "m1"},
        {"response_id": "r2", "text": "y", "model": "m2"},
        {"response_id": "r3", "text": "z", "model": "m3"},
    ]


def test_list_of_dicts_reads_text_keys_ids_models_and_keeps_extras() -> None:
    rows = [
        {
            "id": "a",
            "question": "q",
            "responses": [
                {"text": "one", "model": "atlas-7b", "id": "left", "score": 4},
                {"text": "two", "model": "borealis-70b", "id": "right"},
            ],
        },
        {"id": "b", "question": "q2", "responses": [{"content": "c1"}, {"content": "c2"}]},
        {
            "id": "c",
            "question": "q3",
            "responses": [{"response": "x", "response_id": 7}, {"response": "y", "response_id": 8}],
        },
    ]
    items = load_items(rows)
    assert responses_of(items, 0) == [
        {"response_id": "left", "text": "one", "model": "atlas-7b"},
        {"response_id": "right", "text": "two", "model": "borealis-70b"},
    ]
    assert [r["response_id"] for r in responses_of(items, 1)] == ["r1", "r2"]
    assert [r["response_id"] for r in responses_of(items, 2)] == ["7", "8"]
    assert items["response_meta"].tolist()[0] == {"left": {"score": 4}}


def test_loading_a_loaded_frame_is_a_no_op() -> None:
    rows = [
        {
            "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
            "response1": "Hello",
            "response2": "Hey",
            "gold": [["response2"], ["response1"]],
            "topic": "greet",
        },
        {"prompt": "Two?", "response1": "2", "response2": "two", "gold": None, "topic": "math"},
    ]
    once = load_items(rows)
    twice = load_items(once)
    pd.testing.assert_frame_equal(once, twice)
    assert once["gold"].tolist() == [[["response2"], ["response1"]], None]


def test_responses_column_name_can_be_given() -> None:
    items = load_items([{"prompt": "p", "outs": ["a", "b"]}], responses="outs")
    assert [r["text"] for r in responses_of(items, 0)] == ["a", "b"]


# ---------------------------------------------------------------------------------------------------------
# TRL / Anthropic HH


def hh(*turns: str) -> str:
    return "".join(f"\n\n{'Human' if k % 2 == 0 else 'Assistant'}: {t}" for k, t in enumerate(turns))


def test_hh_strings_become_a_chat_prompt_and_anonymous_pair_with_gold() -> None:
    rows = [
        {
            "chosen": hh("Hi", "Hello! How can I help?", "Name a prime.", "7 is prime."),
            "rejected": hh("Hi", "Hello! How can I help?", "Name a prime.", "9 is prime."),
        },
        {"chosen": hh("Capital of France?", "Paris."), "rejected": hh("Capital of France?", "Lyon.")},
    ]
    items = load_items(rows)
    assert items["prompt"].iloc[0] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Name a prime."},
    ]
    assert items["prompt"].iloc[1] == "Capital of France?"  # a single user turn is a plain prompt
    for row, (good, bad) in enumerate([("7 is prime.", "9 is prime."), ("Paris.", "Lyon.")]):
        resp = responses_of(items, row)
        assert sorted(r["response_id"] for r in resp) == ["r1", "r2"]
        text = {r["response_id"]: r["text"] for r in resp}
        best, worst = items["gold"].iloc[row]
        assert text[best[0]] == good and text[worst[0]] == bad
    assert "chosen" not in items.columns and "rejected" not in items.columns


def test_trl_ids_do_not_reveal_which_response_was_chosen() -> None:
    rows = [{"prompt": f"Question {i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(60)]
    items = load_items(rows)
    firsts = {gold[0][0] for gold in items["gold"]}
    assert firsts == {"r1", "r2"}
    again = load_items(rows)
    assert again["gold"].tolist() == items["gold"].tolist()  # stable order, not random per load


def test_trl_conversational_explicit_and_implicit_prompts() -> None:
    user = {"role": "user", "content": "2+2?"}
    explicit = [
        {
            "prompt": [user],
            "chosen": [{"role": "assistant", "content": "4"}],
            "rejected": [{"role": "assistant", "content": "5"}],
        }
    ]
    implicit = [
        {
            "chosen": [user, {"role": "assistant", "content": "4"}],
            "rejected": [user, {"role": "assistant", "content": "5"}],
        }
    ]
    a, b = load_items(explicit), load_items(implicit)
    assert a["prompt"].iloc[0] == [user]  # an explicit chat prompt stays a chat
    assert b["prompt"].iloc[0] == "2+2?"
    assert sorted(r["text"] for r in responses_of(a, 0)) == ["4", "5"]
    text_b = {r["response_id"]: r["text"] for r in responses_of(b, 0)}
    assert text_b[b["gold"].iloc[0][0][0]] == "4"


def test_trl_models_follow_their_responses() -> None:
    rows = [
        {
            "prompt": f"q{i}",
            "chosen": f"c{i}",
            "rejected": f"r{i}",
            "chosen_model": "atlas-7b",
            "rejected_model": "delta-chat",
        }
        for i in range(20)
    ]
    items = load_items(rows)
    for row in range(20):
        by_id = {r["response_id"]: r for r in responses_of(items, row)}
        chosen_id = items["gold"].iloc[row][0][0]
        assert by_id[chosen_id]["model"] == "atlas-7b" and by_id[chosen_id]["text"] == f"c{row}"


# ---------------------------------------------------------------------------------------------------------
# Chatbot Arena and UltraFeedback


def msg(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def test_arena_single_and_multi_turn() -> None:
    rows = [
        {
            "question_id": "b1",
            "model_a": "atlas-7b",
            "model_b": "cirrus-mini",
            "winner": "model_b",
            "conversation_a": [msg("user", "Hi"), msg("assistant", "Hello from A")],
            "conversation_b": [msg("user", "Hi"), msg("assistant", "Hello from B")],
            "turn": 1,
        },
        {
            "question_id": "b2",
            "model_a": "delta-chat",
            "model_b": "atlas-7b",
            "winner": "tie",
            "conversation_a": [
                msg("user", "Q1"),
                msg("assistant", "A1"),
                msg("user", "Q2"),
                msg("assistant", "A2"),
            ],
            "conversation_b": [
                msg("user", "Q1"),
                msg("assistant", "B1"),
                msg("user", "Q2"),
                msg("assistant", "B2"),
            ],
            "turn": 2,
        },
        {
            "question_id": "b3",
            "model_a": "x",
            "model_b": "y",
            "winner": "model_a",
            "conversation_a": [msg("system", "Be kind."), msg("user", "Q"), msg("assistant", "A")],
            "conversation_b": [msg("system", "Be kind."), msg("user", "Q"), msg("assistant", "B")],
            "turn": 1,
        },
    ]
    items = load_items(rows)
    assert items["item_id"].tolist() == ["b1", "b2", "b3"]
    assert items["prompt"].iloc[0] == "Hi"
    assert responses_of(items, 0) == [
        {"response_id": "r1", "text": "Hello from A", "model": "atlas-7b"},
        {"response_id": "r2", "text": "Hello from B", "model": "cirrus-mini"},
    ]
    # Diverging multi-turn battle: shared prompt is the first user turn; each side keeps its own later turns.
    assert items["prompt"].iloc[1] == "Q1"
    text_a = responses_of(items, 1)[0]["text"]
    assert "A1" in text_a and "Q2" in text_a and text_a.rstrip().endswith("A2") and "B1" not in text_a
    assert items["prompt"].iloc[2] == [msg("system", "Be kind."), msg("user", "Q")]
    assert items["winner"].tolist() == ["model_b", "tie", "model_a"]
    assert "conversation_a" not in items.columns and "model_a" not in items.columns


def test_arena_with_identical_history_keeps_the_multi_turn_chat_as_prompt() -> None:
    history = [msg("user", "Q1"), msg("assistant", "shared"), msg("user", "Q2")]
    items = load_items(
        [
            {
                "conversation_a": [*history, msg("assistant", "a")],
                "conversation_b": [*history, msg("assistant", "b")],
            }
        ]
    )
    assert items["prompt"].iloc[0] == history
    assert [r["text"] for r in responses_of(items, 0)] == ["a", "b"]
    assert [r["model"] for r in responses_of(items, 0)] == [None, None]


def test_ultrafeedback_completions() -> None:
    rows = [
        {
            "source": "evol",
            "instruction": "Explain recursion.",
            "models": ["atlas-7b", "borealis-70b"],
            "completions": [
                {
                    "model": "atlas-7b",
                    "response": "It calls itself.",
                    "overall_score": 6.5,
                    "principle": "help",
                },
                {"model": "borealis-70b", "response": "A loop.", "overall_score": 2.0, "principle": "help"},
            ],
        }
    ]
    items = load_items(rows)
    assert items["prompt"].tolist() == ["Explain recursion."]
    assert responses_of(items, 0) == [
        {"response_id": "r1", "text": "It calls itself.", "model": "atlas-7b"},
        {"response_id": "r2", "text": "A loop.", "model": "borealis-70b"},
    ]
    assert items["response_meta"].iloc[0]["r1"]["overall_score"] == 6.5
    assert items["source"].tolist() == ["evol"]
    assert items["models"].iloc[0] == ["atlas-7b", "borealis-70b"]


def test_format_forces_a_shape_over_auto_detection() -> None:
    rows = [{"prompt": "p", "chosen": "c", "rejected": "r", "response1": "one", "response2": "two"}]
    assert "gold" in load_items(rows).columns  # auto: chosen/rejected wins
    wide = load_items(rows, format="wide")
    assert [r["response_id"] for r in responses_of(wide, 0)] == ["response1", "response2"]
    assert wide["chosen"].tolist() == ["c"]


_WIDE_ROW = {"prompt": "p", "response1": "x", "response2": "y"}
_TRL_ROW = {"prompt": "p", "chosen": "c", "rejected": "r"}
_ARENA_ROW = {
    "conversation_a": [msg("user", "Hi"), msg("assistant", "A")],
    "conversation_b": [msg("user", "Hi"), msg("assistant", "B")],
}


@pytest.mark.parametrize(
    ("row", "kwargs", "field", "says"),
    [
        (_WIDE_ROW, {"item_id": "nope"}, "nope", "no such column (item_id=)"),
        ({"prompt": "p", "answer": "x"}, {}, "responses", "cannot tell where the responses are"),
        (_WIDE_ROW, {"format": "trl"}, "chosen", "format='trl' needs columns ['chosen', 'rejected']"),
        (
            _WIDE_ROW,
            {"format": "wide", "responses": "response1"},
            "responses",
            "wide format needs responses=",
        ),
        ({"prompt": "p", "answer": "x"}, {"format": "wide"}, "responses", "found no response columns"),
        (_WIDE_ROW, {"responses": ["response1", "gone"]}, "gone", "no such column (a response column)"),
        (_WIDE_ROW, {"responses": ["response1", "response1"]}, "responses", "names a column twice"),
        (_WIDE_ROW, {"models": ["m1"]}, "models", "one model column per response column (2)"),
        (_WIDE_ROW, {"models": ["m1", "m2"]}, "m1", "no such column (a model column)"),
        ({"prompt": "p", "responses": ["x", "y"]}, {"models": ["m"]}, "models", "names one column holding"),
        (_TRL_ROW, {"models": "m"}, "models", "models=[chosen_model_col, rejected_model_col]"),
        (_ARENA_ROW, {"models": ["m"]}, "models", "for arena, models=[model_a_col, model_b_col]"),
        (_WIDE_ROW, {"prompt": []}, "prompt", "prompt=[] names no column"),
        (_WIDE_ROW, {"prompt": ["prompt", "gone"]}, "gone", "no such column (prompt=)"),
    ],
)
def test_each_shape_planner_names_the_bad_column_argument(
    row: dict[str, Any], kwargs: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(ItemsError) as info:
        load_items([row], **kwargs)
    assert info.value.field == field
    assert says in str(info.value), str(info.value)


def test_arena_with_one_model_column_leaves_models_unknown() -> None:
    items = load_items([{**_ARENA_ROW, "model_a": "atlas-7b"}])
    assert [r.get("model") for r in responses_of(items, 0)] == [None, None]
    assert items["model_a"].tolist() == ["atlas-7b"]  # kept as metadata


def test_reserved_metadata_names_are_renamed_not_lost() -> None:
    rows = [
        {
            "prompt": "old prompt field",
            "conversation_a": [msg("user", "Q"), msg("assistant", "a")],
            "conversation_b": [msg("user", "Q"), msg("assistant", "b")],
        }
    ]
    items = load_items(rows)
    assert items["prompt"].iloc[0] == "Q"
    assert items["source_prompt"].tolist() == ["old prompt field"]


# ---------------------------------------------------------------------------------------------------------
# Ids and gold


def test_derived_item_id_follows_the_documented_recipe() -> None:
    prompt = [msg("system", "S"), msg("user", "Hé")]
    resp = [
        {"response_id": "r1", "text": "one 🎉", "model": "atlas-7b"},
        {"response_id": "r2", "text": "two", "model": None},
    ]
    parts = ["system", "S", "user", "Hé", "r1", "one 🎉", "atlas-7b", "r2", "two", ""]
    lengths = [6, 1, 4, 2, 2, 5, 8, 2, 3, -1]
    data = "c2:" + ",".join(map(str, lengths)) + "\n" + "".join(parts)
    expected = hashlib.sha1(data.encode("utf-8")).hexdigest()[:16]
    assert stable_item_id(prompt, resp) == expected
    items = load_items(
        [{"prompt": prompt, "responses": [{"text": "one 🎉", "model": "atlas-7b"}, {"text": "two"}]}]
    )
    assert items["item_id"].tolist() == [expected]
    plain = "s:1,2,1,1,2,1,-1\n" + "q" + "r1" + "a" + "m" + "r2" + "b" + ""
    pair = [
        {"response_id": "r1", "text": "a", "model": "m"},
        {"response_id": "r2", "text": "b", "model": None},
    ]
    assert stable_item_id("q", pair) == hashlib.sha1(plain.encode()).hexdigest()[:16]


def test_derived_ids_differ_when_any_text_differs_and_are_stable() -> None:
    base = {"prompt": "p", "response1": "a", "response2": "b"}
    ids = {
        load_items([{**base, **change}])["item_id"].iloc[0]
        for change in ({}, {"prompt": "p2"}, {"response1": "a2"}, {"response2": "b2"})
    }
    assert len(ids) == 4
    assert load_items([base])["item_id"].iloc[0] == load_items(pd.DataFrame([base]))["item_id"].iloc[0]
    # "ab" + "c" and "a" + "bc" must not collide: lengths are part of the hash.
    assert (
        load_items([{"prompt": "x", "response1": "ab", "response2": "c"}])["item_id"].iloc[0]
        != load_items([{"prompt": "x", "response1": "a", "response2": "bc"}])["item_id"].iloc[0]
    )


def test_integer_and_float_ids_become_strings() -> None:
    df = pd.DataFrame(
        {"id": [1.0, 2.0], "prompt": ["a", "b"], "response1": ["x", "x"], "response2": ["y", "y"]}
    )
    assert load_items(df)["item_id"].tolist() == ["1", "2"]


def test_gold_accepts_tie_groups_and_a_winner_id_for_pairs() -> None:
    rows = [
        {"id": "1", "prompt": "p", "responses": ["a", "b", "c"], "gold": [["r2"], ["r1", "r3"]]},
        {"id": "2", "prompt": "p", "responses": ["a", "b"], "gold": "r2"},
        {"id": "3", "prompt": "p", "responses": ["a", "b"], "gold": "tie"},
        {"id": "4", "prompt": "p", "responses": ["a", "b"]},
    ]
    items = load_items(rows)
    assert items["gold"].tolist() == [[["r2"], ["r1", "r3"]], [["r2"], ["r1"]], [["r1", "r2"]], None]
    with pytest.raises(ItemsError, match=r"row 0 \(item '1'\): field 'gold'"):
        load_items([{**rows[0], "gold": [["r2"], ["r1"]]}])  # r3 unranked


# ---------------------------------------------------------------------------------------------------------
# Files


def sample_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": "001",
            "prompt": "First?",
            "response1": "NA",
            "response2": "[not a list]",
            "n": 1,
            "tag": None,
        },
        {
            "id": "002",
            "prompt": UNICODE_SAMPLES[0],
            "response1": UNICODE_SAMPLES[2],
            "response2": "plain",
            "n": 2,
            "tag": "x",
        },
    ]


def check_sample(items: pd.DataFrame) -> None:
    assert items["item_id"].tolist() == ["001", "002"]
    assert [r["text"] for r in responses_of(items, 0)] == ["NA", "[not a list]"]
    assert items["prompt"].iloc[1] == UNICODE_SAMPLES[0]
    assert responses_of(items, 1)[0]["text"].encode() == UNICODE_SAMPLES[2].encode()
    assert items["n"].tolist() == [1, 2]


def test_jsonl_json_csv_parquet_and_gzip_files_load_the_same(tmp_path: Path) -> None:
    rows = sample_rows()
    paths = []
    p = tmp_path / "a.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n\n" for r in rows), encoding="utf-8")
    paths.append(p)
    p = tmp_path / "a.json"
    p.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    paths.append(p)
    p = tmp_path / "a.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    paths.append(p)
    p = tmp_path / "a.parquet"
    pd.DataFrame(rows).to_parquet(p)
    paths.append(p)
    p = tmp_path / "a.jsonl.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    paths.append(p)
    for path in paths:
        check_sample(load_items(path))
        check_sample(load_items(str(path)))


def test_json_file_with_bare_nan_tokens_and_jsonl_named_json(tmp_path: Path) -> None:
    p = tmp_path / "nan.json"
    p.write_text('[{"idx": 5, "instruction": "Do it.", "input": NaN, "response1": "a", "response2": "b"}]')
    items = load_items(p)
    assert items["prompt"].tolist() == ["Do it."] and items["item_id"].tolist() == ["5"]
    q = tmp_path / "lines.json"
    q.write_text(
        '{"prompt": "p", "response1": "a", "response2": "b"}\n{"prompt": "q", "response1": "a", '
        '"response2": "b"}\n'
    )
    assert len(load_items(q)) == 2


def test_csv_list_columns_are_read_as_json(tmp_path: Path) -> None:
    p = tmp_path / "list.csv"
    pd.DataFrame(
        {"prompt": ["p"], "responses": [json.dumps(["a", "b"])], "gold": [json.dumps([["r2"], ["r1"]])]}
    ).to_csv(p, index=False)
    items = load_items(p)
    assert [r["text"] for r in responses_of(items, 0)] == ["a", "b"]
    assert items["gold"].tolist() == [[["r2"], ["r1"]]]


def test_parquet_round_trip_of_a_loaded_frame_with_chats_and_gold(tmp_path: Path) -> None:
    rows = [
        {
            "prompt": [msg("user", "Hi"), msg("assistant", "Yo"), msg("user", "Bye")],
            "responses": ["a", "b"],
            "gold": [["r1"], ["r2"]],
        },
        {"prompt": "plain", "responses": ["c", "d"], "gold": None},
    ]
    items = load_items(rows)
    path = tmp_path / "items.parquet"
    pa_table = pa.Table.from_pandas(
        items.assign(prompt=items["prompt"].map(lambda p: p if isinstance(p, list) else [msg("user", p)]))
    )
    import pyarrow.parquet as pq

    pq.write_table(pa_table, path)
    back = load_items(path)
    assert back["prompt"].iloc[0] == rows[0]["prompt"]
    assert back["responses"].tolist() == items["responses"].tolist()
    assert back["gold"].tolist() == items["gold"].tolist()


def test_pyarrow_table_source() -> None:
    table = pa.Table.from_pylist([{"prompt": "p", "response1": "a", "response2": "b"}])
    assert len(load_items(table)) == 1


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl"):
        load_items(tmp_path / "nope.jsonl")


# ---------------------------------------------------------------------------------------------------------
# Unicode passes through byte-identical


def test_unicode_is_untouched_in_prompts_texts_models_ids_and_metadata(tmp_path: Path) -> None:
    rows = [
        {
            "id": f"ид-{k}",
            "prompt": s,
            "response1": s + " A",
            "response2": "B " + s,
            "model_1": s[:20],
            "model_2": "m",
            "note": s,
        }
        for k, s in enumerate(UNICODE_SAMPLES)
    ]
    path = tmp_path / "u.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for source in (rows, pd.DataFrame(rows), path):
        items = load_items(source)
        for k, s in enumerate(UNICODE_SAMPLES):
            resp = responses_of(items, k)
            assert items["prompt"].iloc[k].encode("utf-8") == s.encode("utf-8")
            assert resp[0]["text"].encode("utf-8") == (s + " A").encode("utf-8")
            assert resp[1]["text"].encode("utf-8") == ("B " + s).encode("utf-8")
            assert resp[0]["model"] == s[:20]
            assert items["note"].iloc[k] == s
            assert items["item_id"].iloc[k] == f"ид-{k}"


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200), min_size=3, max_size=3
    )
)
def test_any_valid_unicode_round_trips(texts: list[str]) -> None:
    prompt = texts[0] if texts[0].strip() else "p" + texts[0]
    items = load_items([{"prompt": prompt, "response1": texts[1], "response2": texts[2]}])
    assert items["prompt"].iloc[0] == prompt
    assert [r["text"] for r in responses_of(items, 0)] == texts[1:]


def test_text_at_the_limit_loads_and_one_more_character_fails() -> None:
    ok = load_items([{"prompt": "p", "response1": "x" * MAX_TEXT_CHARS, "response2": "y"}])
    assert len(responses_of(ok, 0)[0]["text"]) == MAX_TEXT_CHARS
    with pytest.raises(ItemsError, match="1,000,001 characters"):
        load_items([{"prompt": "p", "response1": "x" * (MAX_TEXT_CHARS + 1), "response2": "y"}])


# ---------------------------------------------------------------------------------------------------------
# Input is never modified; errors name row and field


def test_successful_load_leaves_the_input_unchanged() -> None:
    rows = [
        {
            "prompt": [msg("user", "Hi")],
            "responses": [{"text": "a", "x": [1]}, {"text": "b"}],
            "gold": [["r1"], ["r2"]],
        }
    ]
    before = copy.deepcopy(rows)
    items = load_items(rows)
    items["responses"].iloc[0][0]["text"] = "changed"
    items["prompt"].iloc[0][0]["content"] = "changed"
    items["gold"].iloc[0][0].append("r9")
    assert rows == before
    frame = pd.DataFrame(
        {"prompt": ["p"], "response1": ["a"], "response2": ["b"], "n": [1]}, index=pd.Index(["x"])
    )
    snap = snapshot(frame)
    out = load_items(frame)
    out.loc[0, "n"] = 99
    assert snapshot(frame) == snap


def test_error_rows_are_positions_even_with_a_custom_index() -> None:
    frame = pd.DataFrame(
        {"prompt": ["p", "q"], "response1": ["a", 7], "response2": ["b", "c"]}, index=[100, 200]
    )
    with pytest.raises(ItemsError, match=r"^row 1: field 'response1'"):
        load_items(frame)


def test_items_error_carries_row_item_and_field() -> None:
    with pytest.raises(ItemsError) as info:
        load_items([{"id": "a", "prompt": "p", "response1": "x", "response2": 3}])
    assert (info.value.row, info.value.item_id, info.value.field) == (0, "a", "response2")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("case", bad_inputs.CASES, ids=[c.name for c in bad_inputs.CASES])
def test_bad_input_is_rejected_naming_row_and_field(case: Any, tmp_path: Path) -> None:
    source = case.make(tmp_path)
    before = snapshot(source)
    with pytest.raises(ValueError) as info:
        load_items(source, **case.kwargs)
    message = str(info.value)
    assert message.startswith(case.where) or f"{case.where} " in message, message
    assert f"field {case.field!r}" in message, message
    assert case.says in message, message
    assert snapshot(source) == before


def test_bad_input_corpus_is_large_enough() -> None:
    assert len(bad_inputs.CASES) >= 20


def test_wide_detection_keeps_one_family_and_ignores_a_responses_column() -> None:
    rows = [
        {
            "prompt": "p",
            "response1": "a",
            "response2": "b",
            "response_x": "no",
            "output_1": "no",
            "responses": "not a list",
        }
    ]
    items = load_items(rows, format="wide")
    assert [r["response_id"] for r in responses_of(items, 0)] == ["response1", "response2"]
    assert items["response_x"].tolist() == ["no"] and items["source_responses"].tolist() == ["not a list"]


def test_trl_with_a_question_column_and_plain_strings() -> None:
    items = load_items([{"question": "Capital of Peru?", "chosen": "Lima.", "rejected": "Cusco."}])
    assert items["prompt"].tolist() == ["Capital of Peru?"]
    by_id = {r["response_id"]: r["text"] for r in responses_of(items, 0)}
    assert by_id[items["gold"].iloc[0][0][0]] == "Lima."


def test_hh_transcripts_win_over_a_guessed_prompt_column_but_not_a_named_one() -> None:
    rows = [{"prompt": "Human: Hi?", "chosen": hh("Hi?", "Hello."), "rejected": hh("Hi?", "Go away.")}]
    guessed = load_items(rows)
    assert guessed["prompt"].tolist() == ["Hi?"]
    assert sorted(r["text"] for r in responses_of(guessed, 0)) == ["Go away.", "Hello."]
    named = load_items(rows, prompt="prompt")
    assert named["prompt"].tolist() == ["Human: Hi?"]
    expected = sorted([hh("Hi?", "Go away."), hh("Hi?", "Hello.")])
    assert sorted(r["text"] for r in responses_of(named, 0)) == expected


def test_jsonl_with_a_byte_order_mark_and_windows_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    rows = [
        {"prompt": "p", "response1": "a", "response2": "b"},
        {"prompt": "q", "response1": "c", "response2": "d"},
    ]
    path.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\r\n" for r in rows).encode("utf-8"))
    assert load_items(path)["prompt"].tolist() == ["p", "q"]


_STREAM_ROWS = [
    {"item_id": "a", "prompt": "p", "response1": "x" * 40, "response2": "", "n": 1},
    {"item_id": "b", "prompt": "q", "response1": "é" * 30, "response2": "y", "n": 2},
    # the same keys in another order, then one key missing: the reader switches to whole records
    {"prompt": "r", "item_id": "c", "response2": "z", "response1": "w", "n": 3},
    {"item_id": "d", "prompt": "s", "response1": "v", "response2": "u"},
    {"item_id": "e", "prompt": "t", "response1": "\u2028 in text", "response2": "k", "n": None},
]


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\n\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_jsonl_read_in_blocks_loads_what_the_records_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, ending: str, final_newline: bool
) -> None:
    """The JSON-lines reader parses a block at a time (lines longer than a block, keys that change order or
    go missing part-way, a BOM, CRLF, blank lines, no final newline): the result is the records' own."""
    monkeypatch.setattr("rank_widget.item_sources._READ_BYTES", block)
    text = ending.join(json.dumps(r, ensure_ascii=False) for r in _STREAM_ROWS)
    text += ending if final_newline else ""
    expected = load_items([dict(r) for r in _STREAM_ROWS], allow_empty=True)
    plain = tmp_path / "rows.jsonl"
    plain.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    packed = tmp_path / "rows.jsonl.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    for path in (plain, packed):
        pd.testing.assert_frame_equal(load_items(path, allow_empty=True), expected)


def test_jsonl_of_one_shape_loads_like_its_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rank_widget.item_sources._READ_BYTES", 100)
    rows = [{"prompt": f"p{i}", "response1": f"a{i}", "response2": "b" * (i + 1), "k": i} for i in range(50)]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    pd.testing.assert_frame_equal(load_items(path), load_items(rows))
    non_dict = tmp_path / "list_line.jsonl"
    non_dict.write_text(json.dumps(rows[0]) + "\n[1, 2]\n", encoding="utf-8")
    with pytest.raises(ItemsError, match=r"row 1.*each item must be a dict"):
        load_items(non_dict)
    empty_records = tmp_path / "empty_records.jsonl"
    empty_records.write_text("{}\n{}\n", encoding="utf-8")
    with pytest.raises(ItemsError, match=r"where the responses are in columns \[\]"):
        load_items(empty_records)


def test_items_error_pickles_with_every_bad_row() -> None:
    rows = [
        {"prompt": 1, "response1": "a", "response2": "b"},
        {"prompt": "p", "response1": 2, "response2": "b"},
    ]
    with pytest.raises(ItemsError) as info:
        load_items(rows)
    copy_ = pickle.loads(pickle.dumps(info.value))
    assert type(copy_) is ItemsError and str(copy_) == str(info.value)
    assert [(e.row, e.field) for e in copy_.errors] == [(0, "prompt"), (1, "response1")]
    single = pickle.loads(pickle.dumps(ItemsError(3, "x", "prompt", "bad")))
    assert single.errors == [single] and (single.row, single.item_id, single.problem) == (3, "x", "bad")


def test_numpy_strings_come_out_as_plain_str() -> None:
    items = load_items([{"prompt": np.str_("p"), "response1": np.str_("é"), "response2": np.str_("b")}])
    assert [type(r["text"]) for r in responses_of(items, 0)] == [str, str]
    assert type(items["prompt"].iloc[0]) is str


def test_explicit_prompt_repeated_inside_the_message_lists_is_not_doubled() -> None:
    # UltraFeedback-binarized style: a text prompt, and chosen/rejected that start with the same user turn.
    rows = [
        {
            "prompt": "Name a colour.",
            "prompt_id": "x1",
            "chosen": [msg("user", "Name a colour."), msg("assistant", "Blue.")],
            "rejected": [msg("user", "Name a colour."), msg("assistant", "Seven.")],
            "score_chosen": 9.0,
            "score_rejected": 2.0,
        }
    ]
    items = load_items(rows)
    assert items["prompt"].tolist() == ["Name a colour."]
    assert sorted(r["text"] for r in responses_of(items, 0)) == ["Blue.", "Seven."]
    assert items["score_chosen"].tolist() == [9.0] and items["prompt_id"].tolist() == ["x1"]
