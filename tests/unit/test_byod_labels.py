"""The recipes of docs/bring-your-own-data.md, "Labels from elsewhere", run as written.

Each input file is written here in its format's documented shape:
- alpaca_eval_annotations.json: tatsu-lab/alpaca_eval annotation records (instruction, output_1, output_2,
  generator_1, generator_2, preference 1 / 2 / 1.5, None when the judge's output did not parse);
- human_labels.json: the same rows with three human verdicts (PandaLM's coding 0 tie / 1 / 2);
- testset-v1.json, gpt-3.5-turbo-testset-v1.json: PandaLM's test set (idx, cmp_key, instruction, input with
  bare NaN tokens, response1/2, one the JSON value true, annotator1..3 coded 0 tie / 1 / 2) and its GPT-3.5
  run (idx, gpt_result "1" / "2" / "Tie" / "garbage"), as in WeOpenML/PandaLM's data/ folder;
- all-responses.jsonl: SQuALITY's human evaluation (nyu-mll/SQuALITY data/human-eval: passage-id, questions
  "0".."4" -> bart / bart-dpr / human -> response, reviews with worker_id, ratings and 1-3 ranks);
- gpt-4_pair.jsonl: FastChat's MT-Bench pairwise judgments (question_id, model_1, model_2, g1_winner,
  g2_winner, judge, turn, tstamp);
- label_studio_export.json: Label Studio's JSON export (https://labelstud.io/guide/task_format.html) of the
  tasks to_label_studio_tasks wrote, with Pairwise results ({"selected": "left" | "right"}).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "bring-your-own-data.md"


def recipes() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Labels from elsewhere", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def write_inputs(folder: Path) -> None:
    long = "Explain, step by step and with examples, how a hash map handles collisions. " * 5  # > 256 chars
    rows = [
        (long, "Chaining...", "Open addressing...", 2.0, (2, 2, 1)),
        ("What is 2+2?", "4", "5", 1.0, (1, 1, 1)),
        ("Name a colour.", "", "blue", None, (2, 2, 2)),  # the baseline answered nothing; judge unparsed
        ("Say hi.", "hi", "hello", 1.5, (0, 0, 1)),
    ]
    ann = [
        {
            "instruction": i,
            "output_1": o1,
            "output_2": o2,
            "generator_1": "gpt4_1106_preview",
            "generator_2": "my-model",
            "annotator": "weighted_alpaca_eval_gpt4_turbo",
            "preference": p,
        }
        for i, o1, o2, p, _ in rows
    ]
    (folder / "alpaca_eval_annotations.json").write_text(json.dumps(ann))
    humans = [{"instruction": i, "human1": h[0], "human2": h[1], "human3": h[2]} for i, _, _, _, h in rows]
    (folder / "human_labels.json").write_text(json.dumps(humans))
    mt = [
        {
            "question_id": 81,
            "model_1": "gpt-4",
            "model_2": "vicuna-13b-v1.3",
            "g1_winner": "model_1",
            "g2_winner": "model_1",
            "judge": ["gpt-4", "pair-v2"],
            "turn": 1,
            "tstamp": 1687221890.0,
        },
        {
            "question_id": 82,
            "model_1": "alpaca-13b",
            "model_2": "gpt-4",
            "g1_winner": "model_2",
            "g2_winner": "error",
            "judge": ["gpt-4", "pair-v2"],
            "turn": 1,
            "tstamp": 1687221892.0,
        },
    ]
    (folder / "gpt-4_pair.jsonl").write_text("".join(json.dumps(x) + "\n" for x in mt))
    nan = float("nan")  # json.dumps writes the bare NaN token PandaLM's file has
    pandalm = [
        (
            0,
            "bloom-7b_llama-7b",
            "Fix the grammar.",
            "me and him goes",
            "He and I go.",
            "Him and me go.",
            (1, 1, 1),
        ),
        (1, "opt-7b_pythia-6.9b", "Name a prime.", nan, True, "7", (2, 2, 2)),
        (2, "llama-7b_opt-7b", "Say hi.", "", "hi", "hello", (0, 0, 1)),
        (3, "pythia-6.9b_bloom-7b", "Add 2 and 3.", nan, "5", "6", (1, 1, 2)),
    ]
    test_set = [
        {
            "idx": idx,
            "motivation_app": "Grammarly",
            "cmp_key": key,
            "instruction": instruction,
            "input": given,
            "response1": r1,
            "response2": r2,
            **{f"annotator{k + 1}": v for k, v in enumerate(votes)},
        }
        for idx, key, instruction, given, r1, r2, votes in pandalm
    ]
    (folder / "testset-v1.json").write_text(json.dumps(test_set))
    gpt = [
        {"idx": i, "gpt_result": r, "gpt_reason": "...", "gpt_reference": "..."}
        for i, r in enumerate(["1", "2", "Tie", "garbage"])
    ]
    (folder / "gpt-3.5-turbo-testset-v1.json").write_text(json.dumps(gpt))
    orders = {"0": ["human", "bart-dpr", "bart"], "1": ["human", "bart", "bart-dpr"]}  # both workers agree

    def system(q: str, name: str) -> dict[str, Any]:
        rank = orders[q].index(name) + 1
        reviews = [
            {
                "system": name,
                "worker_id": worker,
                "overall-rank": rank,
                "correctness-rank": rank,
                "selection-rank": rank,
                "overall-rating": 100 - 30 * rank,
                "correctness-rating": 100 - 30 * rank,
                "selection-rating": 100 - 30 * rank,
                "annotations": [],
            }
            for worker in ("3", "7")
        ]
        return {"response": f"{name} summary for question {q}", "reviews": reviews, "overall": {}}

    squality = {
        "passage-id": "50827",
        "questions": {q: {s: system(q, s) for s in ("bart", "bart-dpr", "human")} for q in orders},
    }
    (folder / "all-responses.jsonl").write_text(json.dumps(squality) + "\n")
    items = [
        {"item_id": "q1", "prompt": "What is 2+2?", "response1": "4", "response2": "5"},
        {"item_id": "q2", "prompt": "Name a colour.", "response1": "loud", "response2": "blue"},
    ]
    (folder / "my_items.jsonl").write_text("".join(json.dumps(x) + "\n" for x in items))
    export = [
        {
            "id": k + 1,
            "data": {
                "item_id": it["item_id"],
                "prompt": it["prompt"],
                "text1": it["response1"],
                "text2": it["response2"],
                "response_ids": ["response1", "response2"],
            },
            "annotations": [
                {
                    "id": 10 + k,
                    "completed_by": 3,
                    "was_cancelled": False,
                    "lead_time": 2.0,
                    "created_at": "2024-05-01T10:00:00Z",
                    "updated_at": "2024-05-01T10:00:02Z",
                    "result": [
                        {
                            "from_name": "pw",
                            "to_name": "text1,text2",
                            "type": "pairwise",
                            "value": {"selected": side},
                        }
                    ],
                }
            ],
        }
        for k, (it, side) in enumerate(zip(items, ["left", "right"], strict=True))
    ]
    (folder / "label_studio_export.json").write_text(json.dumps(export))


def test_the_recipes_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    blocks = recipes()
    assert len(blocks) == 7
    ns: dict[str, Any] = {}
    for block in blocks[:2]:
        exec(compile(block, str(DOC), "exec"), ns)  # our own documentation's code
    # AlpacaEval judge: ids from the items (the first instruction is too long to be an id), one unparsed
    assert ns["judge"]["item_id"].tolist() == ns["items"]["item_id"].tolist()
    for block in blocks[2:]:
        exec(compile(block, str(DOC), "exec"), ns)
    assert ns["judge"].attrs["unparsed"] == {"gpt4_turbo": 1}
    # PandaLM: models from cmp_key, the JSON true as text, a bare NaN input left out of the prompt
    pl_items = ns["pl_items"].set_index("item_id")
    assert [r["model"] for r in pl_items.loc["0", "responses"]] == ["bloom-7b", "llama-7b"]
    assert (
        pl_items.loc["1", "responses"][0]["text"] == "true" and pl_items.loc["1", "prompt"] == "Name a prime."
    )
    assert len(ns["people"]) == 12 and ns["gpt35"].attrs["unparsed"] == {"gpt-3.5": 1}
    assert set(ns["pl_board"].table["model"]) == {"bloom-7b", "llama-7b", "opt-7b", "pythia-6.9b"}
    # majorities: response1, response2, tie, response1; GPT-3.5: 1, 2, Tie, garbage (read as a tie) -> 3 of 4
    gpt_row = ns["pl_report"].set_index("annotator").loc["gpt-3.5"]
    assert (gpt_row["n_units"], gpt_row["n_unparsed"], gpt_row["percent"]) == (4, 1, 0.75)
    # SQuALITY: one item per question, the systems as models, one ranking per question x worker
    assert ns["sq_items"]["item_id"].tolist() == ["50827-q0", "50827-q1"]
    assert [r["model"] for r in ns["sq_items"]["responses"].iloc[0]] == ["bart", "bart-dpr", "human"]
    got = ns["sq_labels"][["item_id", "annotator", "ranking"]].values.tolist()
    assert got == [
        ["50827-q0", "w3", [["human"], ["bart-dpr"], ["bart"]]],
        ["50827-q0", "w7", [["human"], ["bart-dpr"], ["bart"]]],
        ["50827-q1", "w3", [["human"], ["bart"], ["bart-dpr"]]],
        ["50827-q1", "w7", [["human"], ["bart"], ["bart-dpr"]]],
    ]
    w = ns["sq_agreement"].set_index("metric").loc["kendall_w"]
    assert (w["value"], w["n_items"]) == (1.0, 2)  # the two workers rank alike
    assert ns["sq_board"].table["model"].iloc[0] == "human"
    judge_row = ns["report"].iloc[0]
    # human majority: output_2, output_1, output_2, tie; judge: output_2, output_1, unparsed, tie -> 3 of 4
    assert (judge_row["n_units"], judge_row["n_unparsed"], judge_row["percent"]) == (4, 1, 0.75)
    # MT-Bench: 2 items x 2 games, q82's swapped game unparsed; gpt-4 wins all 3 parsed games
    assert ns["mt"].attrs["unparsed"] == {"gpt-4 (model_1 first)": 0, "gpt-4 (model_2 first)": 1}
    board = ns["board"].table.set_index("model")
    assert board.loc["gpt-4", ["wins", "losses", "ties"]].tolist() == [3, 0, 0]
    # Label Studio: tasks out, annotations in
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert [t["data"]["item_id"] for t in tasks] == ["q1", "q2"]
    assert ns["ls_labels"][["item_id", "annotator", "winner"]].values.tolist() == [
        ["q1", "ls-3", "response1"],
        ["q2", "ls-3", "response2"],
    ]
    # Hugging Face: TRL's layout, written as JSONL
    ds = ns["ds"]
    assert ds.column_names[:3] == ["prompt", "chosen", "rejected"]
    assert [ds[0]["chosen"], ds[1]["chosen"]] == ["4", "blue"]
    written = pd.read_json(tmp_path / "preferences.jsonl", lines=True)
    assert written["rejected"].tolist() == ["5", "loud"]
