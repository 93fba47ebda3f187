"""Active sampling that follows the labels (issue 12): ``RankWidget(queue=rw.ActiveQueue(...))`` re-draws from
the store's labels every ``refresh_every`` stored labels, and a lead's ``rw.refresh_team_queue`` puts
``next_items``' picks first in a team dataset's claims; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import rank_widget as rw
from factories import make_items, submit_message
from rank_widget.simulate import Annotator, simulate
from rank_widget.store import open_store

MODELS = ["m0", "m1", "m2", "m3"]
PAIRS = [(a, b) for i, a in enumerate(MODELS) for b in MODELS[i + 1 :]]
DS = "active"


def pool(n: int = 60, **kw: Any) -> pd.DataFrame:
    return make_items(n, model=lambda i, j: PAIRS[i % len(PAIRS)][j], **kw)


def _submit(w: rw.RankWidget, n: int) -> None:
    for _ in range(n):
        i = w.position
        w.handle_message(submit_message(w._payload(i), client_id=f"c-{i}", index=i), None)


def test_the_widget_redraws_as_labels_arrive(store_target: str) -> None:
    items = pool()
    m01 = [i for i, r in zip(items["item_id"], items["responses"], strict=True) if r[1]["model"] == "m1"]
    with open_store(store_target) as store:
        sim = simulate(items[items["item_id"].isin(m01)], [Annotator("earlier", tie_rate=0.0)], seed=1)
        store.append_many(sim.labels.to_dict("records"))
        aq = rw.ActiveQueue(k=10, refresh_every=4, seed=7)
        w = rw.RankWidget(items, store=store, queue=aq, annotator="ann", seed=1)
        w.send = lambda msg, buffers=None: None  # type: ignore[method-assign]
        first = list(w._queue.ids)
        assert len(first) == w.queue_length == 4 and not set(first) & set(m01)  # labelled: not drawn
        assert list(aq.draws["item_id"]) == first and set(aq.draws["draw"]) == {0}
        before = store.current()

        _submit(w, 3)
        assert w.queue_length == 4  # 3 labels: no draw yet
        _submit(w, 1)
        assert w.queue_length == 8 and w.position == 4  # the 4th label drew the next 4; the view moved on
        assert w._queue.ids[:4] == first  # positions already handed out never move
        second = aq.draws[aq.draws["draw"] == 1]
        assert second["labels_seen"].iloc[0] == len(before) + 4
        assert list(second["item_id"]) == w._queue.ids[4:] and not set(second["item_id"]) & set(first)
        # the draw is next_items on the store's labels as they are now (the seeds follow ActiveQueue's seed)
        seeds = np.random.default_rng(7)
        seeds.integers(2**31)
        seed = int(seeds.integers(2**31))
        now = rw.next_items(store.current(), items, k=4, seed=seed, exclude=first)
        assert list(now) == list(second["item_id"])
        assert np.allclose(now.table["probability"], second["probability"])
        stale = rw.next_items(before, items, k=4, seed=seed, exclude=first)
        assert stale.table["score"].tolist() != now.table["score"].tolist()  # the new labels moved it

        _submit(w, 4)
        assert w.queue_length == 10  # k=10 caps the queue: the last draw took 2
        _submit(w, 2)
        assert w.queue_length == 10 and aq.stopped == "k=10 items drawn"
        assert len(store.current(annotator="ann")) == 10
        assert aq.draws["probability"].between(0, 1, inclusive="right").all()


def test_an_active_queue_stops_when_nothing_is_left() -> None:
    items = pool(6)
    aq = rw.ActiveQueue(refresh_every=4, seed=0)
    w = rw.RankWidget(items, queue=aq, annotator="ann")
    w.send = lambda msg, buffers=None: None  # type: ignore[method-assign]
    _submit(w, 4)
    assert w.queue_length == 6  # the second draw had only 2 candidates
    _submit(w, 2)
    assert w.queue_length == 6 and "every item is labelled" in str(aq.stopped)


def test_bad_active_queues_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="goal must be one of"):
        rw.ActiveQueue(goal="fastest")
    with pytest.raises(ValueError, match="refresh_every must be an integer >= 1"):
        rw.ActiveQueue(refresh_every=0)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        rw.ActiveQueue(k=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"rw\.refresh_team_queue"):
        rw.RankWidget(pool(), queue=rw.ActiveQueue(), dataset="x", overlap=2, annotator="ann")
    with pytest.raises(ValueError, match="no unlabelled item has judge verdicts"):  # first draw: an error
        rw.RankWidget(pool(), queue=rw.ActiveQueue(goal="judge"), annotator="ann")


def _label(item: str, annotator: str) -> dict[str, Any]:
    return {
        "label_id": f"{annotator}:{item}",
        "item_id": item,
        "annotator": annotator,
        "task": "pairwise",
        "winner": "r1",
        "strength": 2,
        "display_order": ["r1", "r2"],
        "submitted_at": "2026-12-02T10:00:00+00:00",
        "source": "widget",
    }


def test_a_lead_refreshes_the_team_queue(store_target: str) -> None:
    items = pool(gold=None)
    gold = ["it059"]
    with open_store(store_target) as store:
        store.register_items(DS, items["item_id"].iloc[:50], overlap=2, gold=gold)  # it050..58 unregistered
        picks = rw.refresh_team_queue(store, items, DS, k=6, seed=3)
        assert store.priorities(DS) == list(picks) and len(picks) == 6
        assert not {*picks} & {*gold, *items["item_id"].iloc[50:]}  # only registered, non-gold items
        assert store.claim(DS, "alice", 6) == list(picks)  # claims follow the picks
        for item in picks[:2]:
            store.append(_label(item, "alice"), response_ids=["r1", "r2"])
        store.release(DS, "alice", picks[5])
        # two started items (labelled once, overlap 2) and three leased ones stay first, in order; the
        # released one is open again and may be drawn anew
        again = rw.refresh_team_queue(store, items, DS, k=4, seed=4)
        kept = [p for p in picks if p != picks[5]]
        assert store.priorities(DS) == [*kept, *again]
        assert not set(again) & set(kept) and len(again) == 4
        assert store.claim(DS, "bob", 3) == kept[:3]
        # a complete item is never drawn again
        for item in picks[:2]:
            store.append(_label(item, "bob"), response_ids=["r1", "r2"])
        third = rw.refresh_team_queue(store, items, DS, k=40, seed=5)
        assert not set(third) & set(picks[:2]) and set(store.priorities(DS)[:3]) == set(kept[2:])
        with pytest.raises(ValueError, match="has no items"):
            rw.refresh_team_queue(store, items, "nothing-here", k=2)
