"""A team-mode RankWidget whose constructor fails leaves nothing leased (issue 13, finding 8).

On a SQLite file and on PostgreSQL (``store_target``): arguments that cannot work are refused before the items
are registered or leased, and a failure after the batch was leased releases it at once (not after the lease
time), while leases resumed from an earlier session are left alone.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from factories import make_items
from rank_widget.store import assign, open_store
from rank_widget.widget import RankWidget


def _mixed_items() -> pd.DataFrame:
    items = make_items(30, gold=None)
    three = make_items(1, 3, prefix="tri", gold=None)
    return pd.concat([items.iloc[:5], three, items.iloc[5:]], ignore_index=True)


def test_pairwise_on_a_mixed_dataset_is_refused_before_registering(store_target: str) -> None:
    items = _mixed_items()
    with pytest.raises(ValueError, match=r"tri000.*task='pairwise' needs exactly 2 responses"):
        RankWidget(items, annotator="alice", store=store_target, overlap=2, task="pairwise")
    with open_store(store_target) as s:
        assert assign.datasets(s).empty
    # the same store works for a ranking session on those items
    w = RankWidget(items, annotator="alice", store=store_target, overlap=2, task="ranking")
    with open_store(store_target) as s:
        assert len(assign.leases(s, "default", "alice")) == len(w._queue) == 10


@pytest.mark.parametrize(
    "bad",
    [
        {"guidelines": {"version": "v1"}},  # refused after the batch was leased
        {"guidelines": [{"version": "v1", "markdown": "a", "from_item": 2}]},
    ],
)
def test_a_failure_after_leasing_releases_the_batch(store_target: str, bad: dict[str, Any]) -> None:
    items = make_items(30, gold=None)
    with pytest.raises(ValueError):
        RankWidget(items, annotator="alice", store=store_target, overlap=2, **bad)
    with open_store(store_target) as s:
        assert assign.leases(s, "default").empty  # nothing stays leased
    # and the next constructor gets a batch at once
    RankWidget(items, annotator="alice", store=store_target, overlap=2)
    with open_store(store_target) as s:
        assert len(assign.leases(s, "default", "alice")) == 10


def test_resumed_leases_survive_a_failed_constructor(store_target: str) -> None:
    items = make_items(30, gold=None)
    first = RankWidget(items, annotator="alice", store=store_target, overlap=2)
    held = set(first._queue.ids)
    with pytest.raises(ValueError):
        RankWidget(items, annotator="alice", store=store_target, overlap=2, guidelines={"version": "v1"})
    with open_store(store_target) as s:
        assert set(assign.leases(s, "default", "alice")["item_id"]) == held
