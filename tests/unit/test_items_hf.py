"""load_items on Hugging Face ``datasets`` objects (issue 10): a Dataset, a DatasetDict with split=."""

from __future__ import annotations

import datasets
import pytest

from rank_widget import load_items
from rank_widget.items import ItemsError


def pairs(prefix: str, n: int) -> list[dict[str, object]]:
    return [
        {
            "prompt": f"{prefix} question {i}?",
            "chosen": [
                {"role": "user", "content": f"{prefix} question {i}?"},
                {"role": "assistant", "content": f"good {i}"},
            ],
            "rejected": [
                {"role": "user", "content": f"{prefix} question {i}?"},
                {"role": "assistant", "content": f"bad {i}"},
            ],
        }
        for i in range(n)
    ]


def test_a_dataset_in_trl_preference_layout() -> None:
    ds = datasets.Dataset.from_list(pairs("train", 3))
    items = load_items(ds)
    assert items["prompt"].tolist() == ["train question 0?", "train question 1?", "train question 2?"]
    for k in range(3):
        by_id = {r["response_id"]: r["text"] for r in items["responses"].iloc[k]}
        gold = items["gold"].iloc[k]
        assert (by_id[gold[0][0]], by_id[gold[1][0]]) == (f"good {k}", f"bad {k}")


def test_a_dataset_dict_needs_a_split_when_it_has_several() -> None:
    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(pairs("train", 3)),
            "test": datasets.Dataset.from_list(pairs("test", 2)),
        }
    )
    with pytest.raises(ItemsError) as info:
        load_items(dd)
    assert str(info.value) == (
        "items: field 'split': the DatasetDict has 2 splits ['train', 'test']; choose one with split=..., "
        "e.g. load_items(ds, split='train') or load_items(ds['train'])"
    )
    test = load_items(dd, split="test")
    assert test["prompt"].tolist() == ["test question 0?", "test question 1?"]
    with pytest.raises(ItemsError, match=r"no split 'dev'; the DatasetDict has splits \['train', 'test'\]"):
        load_items(dd, split="dev")


def test_a_dataset_dict_with_one_split_loads_it() -> None:
    dd = datasets.DatasetDict({"test": datasets.Dataset.from_list(pairs("only", 2))})
    assert len(load_items(dd)) == 2


def test_split_on_something_else_is_an_error() -> None:
    with pytest.raises(ItemsError, match=r"split= picks a split of a datasets\.DatasetDict; got a list"):
        load_items(pairs("x", 2), split="train")


def test_a_wide_dataset_with_models() -> None:
    ds = datasets.Dataset.from_dict(
        {
            "instruction": ["Say hi.", "Count to 3."],
            "output_1": ["Hi!", "1 2 3"],
            "output_2": ["", "1 2"],
            "generator_1": ["m1", "m1"],
            "generator_2": ["base", "base"],
        }
    )
    with pytest.warns(UserWarning, match="1 empty response"):
        items = load_items(ds)
    assert [[r["model"] for r in resp] for resp in items["responses"]] == [["m1", "base"], ["m1", "base"]]
