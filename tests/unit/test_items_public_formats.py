"""load_items on small files written in each public format's documented shape (issue 10), the errors= modes,
ids and models found the way people name them, and the 'empty response' rule. Each test is one recipe of
docs/bring-your-own-data.md."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rank_widget import load_items, rejected_rows
from rank_widget.items import MAX_LISTED, ItemsError, ItemsWarning, stable_item_id


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def texts(items: pd.DataFrame, row: int) -> dict[str, str]:
    return {r["response_id"]: r["text"] for r in items["responses"].iloc[row]}


def models(items: pd.DataFrame, row: int) -> dict[str, str | None]:
    return {r["response_id"]: r["model"] for r in items["responses"].iloc[row]}


@contextlib.contextmanager
def no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---------------------------------------------------------------------------------------------------------
# Anthropic HH-RLHF: {"chosen": "\n\nHuman: ...\n\nAssistant: ...", "rejected": "..."} (Anthropic/hh-rlhf)


def hh(*turns: str) -> str:
    return "".join(f"\n\n{'Human' if k % 2 == 0 else 'Assistant'}: {t}" for k, t in enumerate(turns))


def test_hh_rlhf_reply_containing_turn_markers_parses_by_the_common_prefix(tmp_path: Path) -> None:
    rows = [
        {"chosen": hh("Is the sky blue?", "Yes, on a clear day."), "rejected": hh("Is the sky blue?", "No.")},
        {  # the chosen reply itself contains "\n\nHuman:" (the 5 rows of harmless-base that failed)
            "chosen": hh("Write a dialogue.", "Sure:\n\nHuman: hello\n\nAssistant: hi there"),
            "rejected": hh("Write a dialogue.", "I can't."),
        },
        {  # multi-turn: the earlier assistant turn is part of the prompt
            "chosen": hh("Hi", "Hello!", "Tell me a joke", "Why did the chicken cross the road?"),
            "rejected": hh("Hi", "Hello!", "Tell me a joke", "No."),
        },
    ]
    path = write_jsonl(tmp_path / "harmless-base-test.jsonl", rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        items = load_items(path)
    assert len(items) == 3
    assert items["prompt"].tolist()[:2] == ["Is the sky blue?", "Write a dialogue."]
    assert items["prompt"].iloc[2] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Tell me a joke"},
    ]
    second = texts(items, 1)
    chosen_id = items["gold"].iloc[1][0][0]
    assert second[chosen_id] == "Sure:\n\nHuman: hello\n\nAssistant: hi there"
    assert sorted(second.values()) == ["I can't.", "Sure:\n\nHuman: hello\n\nAssistant: hi there"]
    assert sorted(texts(items, 2).values()) == ["No.", "Why did the chicken cross the road?"]


def test_hh_rlhf_empty_reply_is_data_with_one_warning() -> None:
    rows = [
        {"chosen": hh("Q1", "A1"), "rejected": "\n\nHuman: Q1\n\nAssistant:"},
        {"chosen": hh("Q2", "A2"), "rejected": "\n\nHuman: Q2\n\nAssistant: "},
    ]
    with pytest.warns(ItemsWarning) as caught:
        items = load_items(rows)
    assert [str(w.message) for w in caught] == [
        "2 empty response(s) in 2 item(s) loaded as data (a model that answered nothing; the widget shows "
        "them as 'empty response'); pass allow_empty=True to silence this or allow_empty=False to refuse them"
    ]
    assert sorted(texts(items, 0).values()) == ["", "A1"]
    assert sorted(texts(items, 1).values()) == ["", "A2"]


def test_hh_rlhf_pair_answering_different_prompts_is_named() -> None:
    rows = [{"chosen": hh("Q1", "A"), "rejected": hh("Q2", "B")}]
    with pytest.raises(ItemsError, match=r"^row 0: field 'rejected': chosen and rejected share no"):
        load_items(rows)


# ---------------------------------------------------------------------------------------------------------
# UltraFeedback (openbmb/UltraFeedback): instruction + completions [{model, response, annotations, ...}]


def test_ultrafeedback_completions_file(tmp_path: Path) -> None:
    completion = {
        "custom_system_prompt": "Be honest.",
        "fine-grained_score": 4.25,
        "overall_score": 7.5,
        "principle": "honesty",
        "critique": "Good.",
    }
    rows = [
        {
            "source": "evol_instruct",
            "instruction": "Name a prime number.",
            "models": ["gpt-4", "alpaca-7b"],
            "completions": [
                {**completion, "model": "gpt-4", "response": "7"},
                {**completion, "model": "alpaca-7b", "response": "9", "overall_score": 2.0},
            ],
            "correct_answers": ["7"],
            "incorrect_answers": ["9"],
        }
    ]
    items = load_items(write_jsonl(tmp_path / "ultrafeedback.jsonl", rows))
    assert items["prompt"].tolist() == ["Name a prime number."]
    assert list(items["responses"].iloc[0]) == [
        {"response_id": "r1", "text": "7", "model": "gpt-4"},
        {"response_id": "r2", "text": "9", "model": "alpaca-7b"},
    ]
    assert items["response_meta"].iloc[0]["r2"]["overall_score"] == 2.0
    assert items["source"].tolist() == ["evol_instruct"]


# ---------------------------------------------------------------------------------------------------------
# Chatbot-Arena battles (lmsys/chatbot_arena_conversations, lmsys/mt_bench_human_judgments shape)


def conv(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def battle(qid: int, a: str, b: str, winner: str, answer_a: str, answer_b: str) -> dict[str, Any]:
    return {
        "question_id": qid,
        "model_a": a,
        "model_b": b,
        "winner": winner,
        "judge": "expert_1",
        "conversation_a": conv(f"Question {qid}?", answer_a),
        "conversation_b": conv(f"Question {qid}?", answer_b),
        "turn": 1,
    }


def test_arena_battles_with_repeated_question_id_combine_it_with_the_models(tmp_path: Path) -> None:
    rows = [
        battle(81, "gpt-4", "claude-v1", "model_a", "G81", "C81"),
        battle(81, "gpt-4", "vicuna-13b", "model_b", "G81", "V81"),
        battle(82, "gpt-4", "claude-v1", "tie", "G82", "C82"),
    ]
    with pytest.warns(ItemsWarning) as caught:
        items = load_items(write_jsonl(tmp_path / "battles.jsonl", rows))
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "'question_id' was picked automatically but is not unique (1 row(s) repeat an earlier value)" in (
        message
    )
    assert "item_id='<a column of unique ids>'" in message
    assert items["item_id"].tolist() == ["81:gpt-4:claude-v1", "81:gpt-4:vicuna-13b", "82:gpt-4:claude-v1"]
    assert items["question_id"].tolist() == [81, 81, 82]  # kept as metadata
    assert models(items, 1) == {"r1": "gpt-4", "r2": "vicuna-13b"}
    assert texts(items, 1) == {"r1": "G81", "r2": "V81"}
    assert items["prompt"].tolist() == ["Question 81?", "Question 81?", "Question 82?"]


def test_arena_battles_repeating_a_model_pair_get_derived_ids() -> None:
    rows = [
        battle(81, "gpt-4", "claude-v1", "model_a", "G81", "C81"),
        battle(81, "gpt-4", "claude-v1", "model_b", "G81 (resampled)", "C81"),
    ]
    with pytest.warns(ItemsWarning, match="derived from each item's content"):
        items = load_items(rows)
    expected = [stable_item_id(items["prompt"].iloc[k], items["responses"].iloc[k]) for k in range(2)]
    assert items["item_id"].tolist() == expected
    assert len(set(expected)) == 2


def test_an_error_about_an_automatic_column_says_so_and_how_to_choose() -> None:
    rows = [
        {"question": "Q?", "response_1": "a", "response_2": "b"},
        {"question": 5, "response_1": "a", "response_2": "c"},
    ]
    with pytest.raises(ItemsError) as info:
        load_items(rows)
    assert str(info.value).startswith(
        "row 1: field 'question': prompt must be a string, got int (5); convert it to text; pass "
        "coerce_text=True to use its JSON text (column 'question' was picked automatically; choose with "
        "prompt='<column>')"
    )


# ---------------------------------------------------------------------------------------------------------
# AlpacaEval annotations: instruction, output_1, generator_1, output_2, generator_2, annotator, preference


def alpaca_rows() -> list[dict[str, Any]]:
    long_instruction = "Summarise this text: " + "lorem ipsum " * 40  # over the 256-character id cap
    return [
        {
            "instruction": "Give three tips for staying healthy.",
            "output_1": "1. Eat well. 2. Sleep. 3. Move.",
            "generator_1": "gpt4_1106_preview",
            "output_2": "",  # the baseline really answered nothing
            "generator_2": "text_davinci_003",
            "dataset": "helpful_base",
            "annotator": "weighted_alpaca_eval_gpt4_turbo",
            "preference": 1.0,
        },
        {
            "instruction": long_instruction,
            "output_1": "A short summary.",
            "generator_1": "gpt4_1106_preview",
            "output_2": "Lorem.",
            "generator_2": "text_davinci_003",
            "dataset": "koala",
            "annotator": "weighted_alpaca_eval_gpt4_turbo",
            "preference": 1.92,
        },
    ]


def test_alpaca_eval_annotations_load_with_models_and_an_empty_baseline_output(tmp_path: Path) -> None:
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(alpaca_rows()), encoding="utf-8")
    with pytest.warns(ItemsWarning, match=r"^1 empty response\(s\) in 1 item\(s\)") as caught:
        items = load_items(path)
    assert len(caught) == 1
    assert models(items, 0) == {"output_1": "gpt4_1106_preview", "output_2": "text_davinci_003"}
    assert texts(items, 0) == {"output_1": "1. Eat well. 2. Sleep. 3. Move.", "output_2": ""}
    assert items["preference"].tolist() == [1.0, 1.92]
    assert "generator_1" not in items.columns
    assert all(len(i) == 16 for i in items["item_id"])  # derived: no id column, long prompts need none


def test_a_named_id_column_with_values_over_the_cap_gets_hashed_ids() -> None:
    rows = alpaca_rows()
    for r in rows:
        r["key"] = r["instruction"]
    with pytest.warns(ItemsWarning) as caught:
        items = load_items(rows, item_id="key", allow_empty=True)
    assert [str(w.message) for w in caught] == [
        "1 value(s) of the id column 'key' are longer than 256 characters; their item ids are 'sha1-' + 16 "
        "hex digits of the value (the column is not kept: it is the item id)"
    ]
    assert items["item_id"].iloc[0] == "Give three tips for staying healthy."
    import hashlib

    digest = hashlib.sha1(rows[1]["instruction"].encode("utf-8")).hexdigest()[:16]
    assert items["item_id"].iloc[1] == "sha1-" + digest


def test_models_mapping_takes_columns_and_model_names() -> None:
    rows = [{"prompt": "p", "ours": "a", "theirs": "b", "who": "model-x"}]
    with no_warnings():
        items = load_items(rows, responses=["ours", "theirs"], models={"ours": "who", "theirs": "gpt-4"})
    assert models(items, 0) == {"ours": "model-x", "theirs": "gpt-4"}
    assert "who" not in items.columns
    partial = load_items(rows, responses=["ours", "theirs"], models={"theirs": "gpt-4"})
    assert models(partial, 0) == {"ours": None, "theirs": "gpt-4"}
    with pytest.raises(ItemsError, match=r"models= maps \['nope'\], which are not response columns"):
        load_items(rows, responses=["ours", "theirs"], models={"nope": "x"})
    trl = load_items(
        [{"prompt": "p", "chosen": "a", "rejected": "b"}], models={"chosen": "m1", "rejected": "m2"}
    )
    assert sorted(m for m in models(trl, 0).values() if m) == ["m1", "m2"]
    # responses named after their systems (SQuALITY's bart / bart-dpr / human): {"bart": "bart"} names the
    # model; a response column is never read as a model column (it made every text a "model name")
    systems = [{"prompt": "p", "bart": "a summary " * 40, "human": "b"}]
    named = load_items(systems, responses=["bart", "human"], models={"bart": "bart", "human": "human"})
    assert models(named, 0) == {"bart": "bart", "human": "human"}


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (("output_1", "output_2", "generator_1", "generator_2"), ("g1", "g2")),
        (("response_1", "response_2", "model_1", "model_2"), ("g1", "g2")),
        (("response_a", "response_b", "model_a", "model_b"), ("g1", "g2")),
        (("response1", "response2", "response1_model", "response2_model"), ("g1", "g2")),
    ],
)
def test_model_column_spellings(columns: tuple[str, str, str, str], expected: tuple[str, str]) -> None:
    row = {"prompt": "p", columns[0]: "x", columns[1]: "y", columns[2]: "g1", columns[3]: "g2"}
    items = load_items([row])
    assert tuple(models(items, 0).values()) == expected


# ---------------------------------------------------------------------------------------------------------
# errors="raise" | "skip" | "collect"


def mixed_rows(n: int = 30, bad: int = 25) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"id": f"q{i}", "prompt": f"P{i}", "response1": f"a{i}", "response2": f"b{i}"} for i in range(n)
    ]
    for i in range(bad):
        rows[i]["response2"] = i  # not text
    return rows


def test_errors_raise_names_every_bad_row_first_20_and_a_count_and_loads_nothing() -> None:
    with pytest.raises(ItemsError) as info:
        load_items(mixed_rows())
    lines = str(info.value).split("\n")
    assert lines[0] == "25 of 30 rows cannot be loaded; nothing was loaded:"
    assert lines[1] == (
        "  row 0 (item 'q0'): field 'response2': text must be a string, got int (0); convert it to text; "
        "pass coerce_text=True to use its JSON text"
    )
    assert [ln.split(":")[0] for ln in lines[1 : 1 + MAX_LISTED]] == [
        f"  row {i} (item 'q{i}')" for i in range(20)
    ]
    assert lines[21] == "  ... and 5 more bad rows"
    assert "errors='skip'" in lines[22]
    assert len(info.value.errors) == 25
    assert [e.row for e in info.value.errors] == list(range(25))
    assert (info.value.row, info.value.field) == (0, "response2")


def test_errors_skip_loads_the_good_rows_and_warns_with_a_count() -> None:
    with pytest.warns(ItemsWarning) as caught:
        items = load_items(mixed_rows(), errors="skip")
    assert items["item_id"].tolist() == [f"q{i}" for i in range(25, 30)]
    assert [str(w.message).split(" (")[0] for w in caught] == ["25 of 30 rows were not loaded"]
    assert "rejected" not in items.attrs


def test_errors_collect_returns_the_rejected_rows() -> None:
    rows = mixed_rows(5, 1)
    rows.append({"id": "q3", "prompt": "P", "response1": "x", "response2": "y"})  # repeats row 3's id
    rows.append({"id": "q6", "prompt": "P6", "responses": None, "response1": None, "response2": "y"})
    with pytest.warns(ItemsWarning, match="rank_widget.rejected_rows\\(items\\) lists them"):
        items = load_items(rows, errors="collect", responses=["response1", "response2"], item_id="id")
    assert items["item_id"].tolist() == ["q1", "q2", "q3", "q4"]
    rejected = rejected_rows(items)
    assert list(rejected.columns) == ["row", "item_id", "field", "reason"]
    assert rejected["row"].tolist() == [0, 5, 6]
    assert rejected["item_id"].tolist() == ["q0", "q3", "q6"]
    assert rejected["field"].tolist() == ["response2", "id", "response1"]
    assert rejected["reason"].tolist() == [
        "text must be a string, got int (0); convert it to text; pass coerce_text=True to use its JSON text",
        "item id 'q3' is also the id of row 3; item ids must be unique: fix or drop one of them",
        "text is missing (NaN/None); fill it in or drop the row",
    ]


def test_errors_collect_with_nothing_wrong_has_an_empty_rejected_frame() -> None:
    with no_warnings():
        items = load_items(mixed_rows(3, 0), errors="collect")
    assert items.attrs["rejected"] == [] and list(rejected_rows(items).columns) == [
        "row",
        "item_id",
        "field",
        "reason",
    ]


def test_collected_frames_still_merge_concatenate_and_save(tmp_path: Path) -> None:
    # pandas compares attrs with == in merge/concat and writes them as JSON in to_parquet: the rejected rows
    # are plain records, so none of the three breaks (a DataFrame in attrs raised "truth value of a DataFrame
    # is ambiguous" from items.merge(items) and "not JSON serializable" from to_parquet)
    with pytest.warns(ItemsWarning):
        first = load_items(mixed_rows(4, 1), errors="collect")
    with pytest.warns(ItemsWarning):
        second = load_items(mixed_rows(5, 2), errors="collect")
    assert len(first.merge(first, on="item_id")) == len(first)
    assert len(first.merge(second, on="item_id")) == len(set(first["item_id"]) & set(second["item_id"]))
    assert len(pd.concat([first, second])) == len(first) + len(second)
    first.to_parquet(tmp_path / "items.parquet")
    again = pd.read_parquet(tmp_path / "items.parquet")
    assert rejected_rows(again).equals(rejected_rows(first)) and len(rejected_rows(again)) == 1


def test_errors_skip_with_every_row_bad_raises() -> None:
    with pytest.raises(ItemsError, match="no row could be loaded"):
        load_items(mixed_rows(3, 3), errors="skip")


def test_errors_mode_is_checked() -> None:
    with pytest.raises(ItemsError, match="unknown errors mode 'ignore'"):
        load_items(mixed_rows(3, 0), errors="ignore")


def test_skip_finds_every_bad_row_in_a_big_file(tmp_path: Path) -> None:
    rows = mixed_rows(2000, 0)
    bad = [3, 700, 701, 1999]
    for i in bad:
        rows[i]["response1"] = None
    with pytest.warns(ItemsWarning, match="^4 of 2000 rows were not loaded"):
        items = load_items(write_jsonl(tmp_path / "big.jsonl", rows), errors="collect")
    assert rejected_rows(items)["row"].tolist() == bad
    assert len(items) == 1996 and "q3" not in set(items["item_id"])


def test_several_bad_json_lines_are_named_at_once(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    good = json.dumps({"prompt": "p", "response1": "a", "response2": "b"})
    path.write_text("\n".join([good, "{oops", good, "[1,", good]) + "\n", encoding="utf-8")
    with pytest.raises(
        ItemsError, match=r"2 lines of '.*broken.jsonl' are not valid JSON: line 2 \(.*\), line 4"
    ):
        load_items(path)


# ---------------------------------------------------------------------------------------------------------
# Blank prompts


def test_blank_prompts_load_with_one_warning_and_refuse_with_allow_empty_false() -> None:
    rows = [
        {"prompt": "", "response1": "a", "response2": "b"},
        {"prompt": " \u200b", "response1": "c", "response2": "d"},
        {"prompt": "real", "response1": "e", "response2": "f"},
    ]
    with pytest.warns(ItemsWarning) as caught:
        items = load_items(rows)
    assert [str(w.message) for w in caught] == [
        "2 item(s) have a blank prompt (empty, only spaces or invisible characters); they loaded as they "
        "are: pass allow_empty=True to silence this or allow_empty=False to refuse them"
    ]
    assert items["prompt"].tolist() == ["", " \u200b", "real"]
    with pytest.raises(ItemsError, match=r"^2 of 3 rows cannot be loaded"):
        load_items(rows, allow_empty=False)


def test_empty_count_covers_only_the_rows_that_loaded() -> None:
    rows = [
        {"id": "a", "prompt": "P", "response1": "", "response2": "x"},
        {"id": "b", "prompt": "P", "response1": 5, "response2": ""},  # rejected: non-text
        {"id": "a", "prompt": "Q", "response1": "", "response2": ""},  # rejected: repeats id 'a'
        {"id": "c", "prompt": "R", "response1": "y", "response2": ""},
    ]
    with pytest.warns(ItemsWarning) as caught:
        items = load_items(rows, item_id="id", errors="skip")
    assert items["item_id"].tolist() == ["a", "c"]
    assert str(caught[0].message).startswith("2 empty response(s) in 2 item(s) loaded as data")
    assert str(caught[1].message).startswith("2 of 4 rows were not loaded")
