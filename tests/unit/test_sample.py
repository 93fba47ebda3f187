"""The bundled sample dataset loads, is valid, and has what the demos and tests rely on."""

from __future__ import annotations

import re
import warnings
from collections import Counter

import pandas as pd
import pytest

import rank_widget
from rank_widget import RankWidget, sample_items
from rank_widget.items import load_items
from rank_widget.schema import normalise_ranking

MODELS = {"atlas-7b", "borealis-70b", "cirrus-mini", "delta-chat"}
CATEGORIES = {"coding", "math", "writing", "advice", "safety"}


def test_sample_loads_through_the_public_api_with_unique_ids() -> None:
    items = rank_widget.sample_items()
    assert list(items.columns[:4]) == ["item_id", "prompt", "responses", "gold"]
    assert "category" in items.columns
    assert 35 <= len(items) <= 50
    assert items["item_id"].is_unique
    assert all(isinstance(i, str) and i for i in items["item_id"])


def test_every_item_is_valid_and_reloads_unchanged() -> None:
    items = sample_items()
    pd.testing.assert_frame_equal(load_items(items), items)  # a second pass finds nothing to fix
    for row in items.itertuples(index=False):
        ids = [r["response_id"] for r in row.responses]
        assert 2 <= len(ids) <= 4 and len(set(ids)) == len(ids)
        assert all(r["text"].strip() and r["model"] in MODELS for r in row.responses)
        texts = [r["text"] for r in row.responses]
        assert len(set(texts)) == len(texts), row.item_id


def test_categories_models_and_pairs() -> None:
    items = sample_items()
    assert set(items["category"]) == CATEGORIES
    assert min(Counter(items["category"]).values()) >= 5
    models = Counter(r["model"] for resp in items["responses"] for r in resp)
    assert set(models) == MODELS and min(models.values()) >= 10  # enough comparisons for a leaderboard
    n_resp = items["responses"].map(len)
    assert (n_resp == 2).sum() >= len(items) / 2  # pairwise is the default task
    assert (n_resp >= 3).sum() >= 5 and (n_resp == 4).any()


def test_gold_items_are_valid_rankings_and_not_always_the_same_position() -> None:
    items = sample_items()
    gold = items[items["gold"].notna()]
    assert len(gold) >= 2
    for row in gold.itertuples(index=False):
        ids = [r["response_id"] for r in row.responses]
        assert normalise_ranking(row.item_id, row.gold, ids) == row.gold
    assert len({g[0][0] for g in gold["gold"]}) > 1


def test_rich_content_is_present() -> None:
    items = sample_items()
    texts = [r["text"] for resp in items["responses"] for r in resp]
    longest = max(texts, key=len)
    assert 8_000 <= len(longest.encode("utf-8")) <= 10_500
    assert sum("```" in t for t in texts) >= 10
    assert any("$$" in t for t in texts)
    assert sum(bool(re.search(r"(?<!\$)\$[^$\n]+\$", t)) for t in texts) >= 5
    assert any("|---|" in t for t in texts)  # a markdown table
    assert any(re.search("[\u0600-\u06ff]", t) for t in texts)  # right-to-left script
    chats = [p for p in items["prompt"] if isinstance(p, list)]
    assert len(chats) >= 3
    assert all(len(c) >= 3 and c[-1]["role"] == "user" for c in chats)


def test_sample_kinds_split_pairs_and_sets_and_open_a_widget_without_a_warning() -> None:
    """Issue 14: the quickstart opened with a UserWarning because the whole sample mixes pairs and sets."""
    whole, pairs, sets = sample_items(), sample_items("pairs"), sample_items("sets")
    assert len(pairs) + len(sets) == len(whole)
    assert set(pairs["item_id"]) | set(sets["item_id"]) == set(whole["item_id"])
    assert (pairs["responses"].map(len) == 2).all() and (sets["responses"].map(len) >= 3).all()
    assert list(pairs.index) == list(range(len(pairs)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        assert RankWidget(pairs).task == "pairwise"
        assert RankWidget(sets).task == "ranking"
        assert RankWidget(whole, task="ranking").config["task"] == "ranking"
    with pytest.warns(UserWarning, match="left out"):  # the whole mix still says what it leaves out
        RankWidget(whole)
    with pytest.raises(ValueError, match="kind must be one of 'all', 'pairs', 'sets'"):
        sample_items("pair")
