"""Formats people already have: Label Studio tasks out and annotations in, a Hugging Face dataset out, and
MT-Bench judgments in (the recipe in docs/bring-your-own-data.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import rank_widget as rw
from rank_widget.label_studio import PAIRWISE_CONFIG, RANKER_CONFIG, from_label_studio, to_label_studio_tasks
from rank_widget.schema import LabelError, current_labels, rejected_rows


def pair_items() -> pd.DataFrame:
    return rw.load_items(
        pd.DataFrame(
            {
                "item_id": ["q1", "q2"],
                "prompt": ["What is 2+2?", "Name a colour."],
                "response1": ["4", "blue"],
                "response2": ["5", "loud"],
                "model_a": ["m-good", "m-good"],
                "model_b": ["m-bad", "m-bad"],
            }
        ),
        responses=["response1", "response2"],
        models=["model_a", "model_b"],
    )


def rank_items() -> pd.DataFrame:
    return rw.load_items(
        [{"item_id": "r1", "prompt": "Best fruit?", "responses": ["apple", "pear", "plum"]}], format="list"
    )


def annotation(ann_id: int, user: int, result: list[dict[str, object]], **extra: object) -> dict[str, object]:
    # the shape of one annotation in Label Studio's JSON export (https://labelstud.io/guide/task_format.html)
    return {
        "id": ann_id,
        "completed_by": user,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": "2024-05-01T10:00:00.000000Z",
        "updated_at": "2024-05-01T10:00:05.500000Z",
        "lead_time": 5.5,
        "task": 1,
        **extra,
    }


def pairwise_result(selected: str) -> dict[str, object]:
    # Label Studio's Pairwise tag result (HumanSignal/label-studio-frontend src/tags/control/Pairwise.js:
    # createResult({}, {selected}, ...), selected "left" | "right")
    return {
        "id": "pw1",
        "from_name": "pw",
        "to_name": "text1,text2",
        "type": "pairwise",
        "value": {"selected": selected},
    }


def test_label_studio_pairwise_round_trip(tmp_path: Path) -> None:
    items = pair_items()
    tasks = to_label_studio_tasks(items, path=tmp_path / "tasks.json")
    assert json.loads((tmp_path / "tasks.json").read_text()) == tasks
    assert tasks[0]["data"] == {
        "item_id": "q1",
        "prompt": "What is 2+2?",
        "text1": "4",
        "text2": "5",
        "response_ids": ["response1", "response2"],
    }
    assert "m-good" not in json.dumps(tasks)  # blind: no model names
    assert '<Pairwise name="pw" toName="text1,text2"/>' in PAIRWISE_CONFIG
    # what Label Studio exports after two annotators labelled (and one skipped) the imported tasks
    export = [
        {
            **tasks[0],
            "id": 1,
            "annotations": [
                annotation(
                    11,
                    7,
                    [
                        pairwise_result("left"),
                        {
                            "from_name": "rationale",
                            "to_name": "text1",
                            "type": "textarea",
                            "value": {"text": ["4 is right"]},
                        },
                    ],
                ),
                annotation(12, 8, [pairwise_result("right")]),
            ],
        },
        {**tasks[1], "id": 2, "annotations": [annotation(21, 7, [], was_cancelled=True)]},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    labels = from_label_studio(path, items=items)
    assert labels[["item_id", "annotator", "status", "winner"]].values.tolist() == [
        ["q1", "ls-7", "submitted", "response1"],
        ["q1", "ls-8", "submitted", "response2"],
        ["q2", "ls-7", "skipped", None],
    ]
    assert labels["rationale"].tolist() == ["4 is right", "", ""]
    assert labels["active_ms"].tolist() == [5500, 5500, 5500]
    assert str(labels["submitted_at"].iat[0]) == "2024-05-01 10:00:05.500000+00:00"
    assert labels["display_order"].iat[0] == ["response1", "response2"]
    # the same export twice gives the same label ids (a store dedupes them)
    assert from_label_studio(json.dumps(export))["label_id"].tolist() == labels["label_id"].tolist()
    # and the labels feed the rest of the package
    trl = rw.to_trl(labels, items, tie_policy="drop")
    assert trl[["chosen", "rejected"]].values.tolist() == []  # one vote each way: a tied pair, dropped
    one = from_label_studio([{**export[0], "annotations": export[0]["annotations"][:1]}], items=items)
    assert rw.to_trl(one, items)[["prompt", "chosen", "rejected"]].values.tolist() == [
        ["What is 2+2?", "4", "5"]
    ]


def test_label_studio_ranker_round_trip() -> None:
    items = rank_items()
    tasks = to_label_studio_tasks(items)
    assert [r["id"] for r in tasks[0]["data"]["responses"]] == ["r1", "r2", "r3"]
    assert '<Ranker name="rank" toName="responses"/>' in RANKER_CONFIG
    # Ranker result (https://labelstud.io/tags/ranker.html): {"ranker": {list name: ids in the new order}}
    ranked = {
        "from_name": "rank",
        "to_name": "responses",
        "type": "ranker",
        "value": {"ranker": {"responses": ["r3", "r1", "r2"]}},
    }
    buckets = {
        "from_name": "rank",
        "to_name": "responses",
        "type": "ranker",
        "value": {"ranker": {"best": ["r2"], "rest": ["r1", "r3"], "_": []}},
    }
    export = [{**tasks[0], "id": 5, "annotations": [annotation(1, 3, [ranked]), annotation(2, 4, [buckets])]}]
    labels = from_label_studio(export, items=items)
    assert labels["task"].tolist() == ["ranking", "ranking"]
    assert labels["ranking"].tolist() == [[["r3"], ["r1"], ["r2"]], [["r2"], ["r1", "r3"]]]


def test_label_studio_bad_export_names_task_and_annotation() -> None:
    items = pair_items()
    tasks = to_label_studio_tasks(items)
    bad = [{**tasks[0], "id": 9, "annotations": [annotation(3, 1, [pairwise_result("middle")])]}]
    with pytest.raises(
        LabelError, match=r"row 0 \(item 'q1'\): field 'pairwise': task 9 annotation 3: .*'middle'"
    ):
        from_label_studio(bad, items=items)
    # all the bad annotations at once; errors="collect" keeps the good ones
    good = {"id": 8, **tasks[1], "annotations": [annotation(4, 1, [pairwise_result("left")])]}
    with pytest.raises(LabelError, match=r"from_label_studio: 2 bad cells in 2 rows"):
        from_label_studio([*bad, good, *bad], items=items)
    with pytest.warns(UserWarning, match="from_label_studio: left out 1 bad cell"):
        kept = from_label_studio([*bad, good], items=items, errors="collect")
    assert kept["item_id"].tolist() == ["q2"] and rejected_rows(kept)["row"].tolist() == [0]
    stranger = [
        {
            "id": 1,
            "data": {"item_id": "nope", "response_ids": ["a", "b"]},
            "annotations": [annotation(1, 1, [])],
        }
    ]
    with pytest.raises(LabelError, match="item 'nope' is not in items"):
        from_label_studio(stranger, items=items)
    with pytest.raises(ValueError, match="a JSON list of tasks"):
        from_label_studio({"tasks": []})
    with pytest.raises(ValueError, match="template must be"):
        to_label_studio_tasks(items, template="grid")


def test_to_hf_dataset_is_trl_preference_layout() -> None:
    import datasets  # the [hf] extra; in the dev extra and CI's pip lists

    items = pair_items()
    df = pd.DataFrame({"item": ["q1", "q2"], "ann": ["response1", "response2"]})
    labels = rw.import_labels(df, item_id="item", annotators=["ann"], responses=["response1", "response2"])
    ds = rw.to_hf_dataset(labels, items)
    assert isinstance(ds, datasets.Dataset)
    assert ds.column_names[:3] == ["prompt", "chosen", "rejected"]
    assert ds[0]["prompt"] == "What is 2+2?" and ds[0]["chosen"] == "4" and ds[0]["rejected"] == "5"
    assert ds[1]["chosen"] == "loud" and ds[1]["annotators"] == ["ann"]
    bare = rw.to_hf_dataset(labels, items, provenance=False)
    assert bare.column_names == ["prompt", "chosen", "rejected"] and len(bare) == 2


# ---------------------------------------------------------------------------------------------------------
# MT-Bench judgments: FastChat's data/mt_bench/model_judgment/gpt-4_pair.jsonl (one line per question x
# model pair x turn; g1 = model_1 shown first, g2 = the swapped game, both winners already named as
# "model_1" / "model_2" / "tie", "error" when the judgment did not parse; FastChat gen_judgment.py)


def write_mt_bench(tmp_path: Path) -> Path:
    lines = [
        {
            "question_id": 81,
            "model_1": "gpt-4",
            "model_2": "vicuna-13b-v1.3",
            "g1_winner": "model_1",
            "g2_winner": "model_1",
            "judge": ["gpt-4", "pair-v2"],
            "g1_user_prompt": "...",
            "g1_judgment": "[[A]]",
            "g2_user_prompt": "...",
            "g2_judgment": "[[B]]",
            "turn": 1,
            "tstamp": 1687221890.0,
        },
        {
            "question_id": 81,
            "model_1": "gpt-4",
            "model_2": "vicuna-13b-v1.3",
            "g1_winner": "tie",
            "g2_winner": "model_2",
            "judge": ["gpt-4", "pair-v2-multi-turn"],
            "g1_user_prompt": "...",
            "g1_judgment": "[[C]]",
            "g2_user_prompt": "...",
            "g2_judgment": "[[A]]",
            "turn": 2,
            "tstamp": 1687221891.0,
        },
        {
            "question_id": 82,
            "model_1": "alpaca-13b",
            "model_2": "gpt-4",
            "g1_winner": "model_2",
            "g2_winner": "error",
            "judge": ["gpt-4", "pair-v2"],
            "g1_user_prompt": "...",
            "g1_judgment": "[[B]]",
            "g2_user_prompt": "...",
            "g2_judgment": "I cannot decide",
            "turn": 1,
            "tstamp": 1687221892.0,
        },
    ]
    path = tmp_path / "gpt-4_pair.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_mt_bench_recipe(tmp_path: Path) -> None:
    # the recipe of docs/bring-your-own-data.md, "MT-Bench judgments"
    j = pd.read_json(write_mt_bench(tmp_path), lines=True)
    j["item"] = (
        "q"
        + j["question_id"].astype(str)
        + "-t"
        + j["turn"].astype(str)
        + ":"
        + j["model_1"]
        + ":"
        + j["model_2"]
    )
    j["when"] = pd.to_datetime(j["tstamp"], unit="s", utc=True)
    labels = rw.import_labels(
        j,
        item_id="item",
        annotators={"g1_winner": "gpt-4 (model_1 first)", "g2_winner": "gpt-4 (model_2 first)"},
        responses=["model_1", "model_2"],
        unknown="skip",
        submitted_at="when",
    )
    items = pd.DataFrame(
        {
            "item_id": j["item"],
            "prompt": "q" + j["question_id"].astype(str),
            "responses": [
                [
                    {"response_id": "model_1", "text": "", "model": a},
                    {"response_id": "model_2", "text": "", "model": b},
                ]
                for a, b in zip(j["model_1"], j["model_2"], strict=True)
            ],
        }
    )
    assert labels.attrs["unparsed"] == {"gpt-4 (model_1 first)": 0, "gpt-4 (model_2 first)": 1}
    cur = current_labels(labels, include_skipped=False)
    # row by row, g1 then g2 (q82's g2 "error" is an unparsed, skipped label)
    assert cur["winner"].tolist() == ["model_1", "model_1", "tie", "model_2", "model_2"]
    # both games agree (the consistency MT-Bench reports) on q81 turn 1 only
    wide = cur.pivot(index="item_id", columns="annotator", values="winner")
    agree = (wide["gpt-4 (model_1 first)"] == wide["gpt-4 (model_2 first)"]).sum()
    assert agree == 1
    board = rw.quality.leaderboard(labels, items, bootstrap=0).table.set_index("model")
    # gpt-4 wins q81 t1 in both games and q82 in g1; loses q81 t2's g2; ties q81 t2's g1
    assert board.loc["gpt-4", ["wins", "losses", "ties"]].tolist() == [3, 1, 1]
