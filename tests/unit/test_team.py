"""Team assignment on one store (both engines): the queue's rules, leases, gold items, migration, monitor."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import factories
from rank_widget.store import STORE_SCHEMA_VERSION, StoreError, assign, open_store
from rank_widget.team import ANNOTATOR_COLUMNS, DATASET_COLUMNS, TeamMonitor


def _label(
    item: str,
    annotator: str,
    *,
    winner: str = "r1",
    status: str = "submitted",
    source: str = "widget",
    n: int = 0,
    when: str = "2026-11-28T10:00:00+00:00",
) -> dict[str, Any]:
    submitted = status == "submitted"
    return factories.label(
        f"{annotator}:{item}:{n}:{source}",
        item,
        annotator,
        status=status,
        display_order=["r1", "r2"],
        submitted_at=when,
        source=source,
        active_ms=4000,
        winner=winner if submitted else ...,  # ... = no such field
        strength=factories.decisive_strength(winner) if submitted else ...,
    )


def _take(store: Any, annotator: str, n: int = 1, dataset: str = "d", **kw: Any) -> list[str]:
    """Claim and label ``n`` items as ``annotator``; returns them in order."""
    got = []
    for _ in range(n):
        item = store.claim_next(dataset, annotator, **kw)
        if item is None:
            break
        store.append(_label(item, annotator), response_ids=["r1", "r2"])
        got.append(item)
    return got


def test_register_is_idempotent_and_validated(store_target: str) -> None:
    with open_store(store_target) as s:
        assert s.register_items("d", ["a", "b", "c"], overlap=2) == 3
        assert s.register_items("d", ["b", "c", "e"], overlap=2) == 1
        ds = assign.datasets(s)
        assert ds.to_dict("records") == [
            {"dataset": "d", "overlap": 2, "gold_share": 0.0, "items": 4, "gold_items": 0}
        ]
        assert list(assign.item_status(s, "d")["item_id"]) == ["a", "b", "c", "e"]  # registration order
        with pytest.raises(ValueError, match="overlap must be an integer >= 1"):
            s.register_items("d", ["x"], overlap=0)
        with pytest.raises(ValueError, match=r"item_ids\[1\]"):
            s.register_items("d", ["x", 5])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="gold_share"):
            s.register_items("d", ["x"], gold_share=1.5)
        with pytest.raises(StoreError, match=r"no team dataset 'nope'.*register_items"):
            s.claim_next("nope", "ann")
        with pytest.raises(ValueError, match="lease_seconds"):
            s.claim_next("d", "ann", lease_seconds=0)


def test_fewest_labels_first_and_overlap_cap(store_target: str) -> None:
    with open_store(store_target) as s:
        s.register_items("d", ["a", "b", "c"], overlap=2)
        assert _take(s, "ann1", 3) == ["a", "b", "c"]
        # ann2 gets the items in order; ann3 too, then nothing: each item has its 2 labels
        assert _take(s, "ann2", 1) == ["a"]
        assert _take(s, "ann3", 3) == ["b", "c"]
        assert s.claim_next("d", "ann2") is None  # ann2 labelled a; b and c have their 2 labels
        status = assign.item_status(s, "d")
        assert status["done"].tolist() == [2, 2, 2]
        assert set(status["state"]) == {"complete"}
        assert s.claim_next("d", "ann4") is None


def test_never_an_item_already_labelled_or_held(store_target: str) -> None:
    with open_store(store_target) as s:
        # labels stored before registration count and are never handed out again
        s.append(_label("a", "ann1"), response_ids=["r1", "r2"])
        s.append(_label("b", "ann2", source="import"), response_ids=["r1", "r2"])
        s.register_items("d", ["a", "b", "c"], overlap=3)
        assert assign.item_status(s, "d")["done"].tolist() == [1, 1, 0]
        # fewest labels first: c (0 labels) before b; a is ann1's own
        assert s.claim_next("d", "ann1") == "c"
        assert s.claim_next("d", "ann1") == "b"  # c is held by ann1 now, a is labelled
        assert s.claim_next("d", "ann1") is None
        assert sorted(s.leases("d", "ann1")["item_id"]) == ["b", "c"]


def test_active_leases_count_against_overlap_and_release(store_target: str) -> None:
    with open_store(store_target) as s:
        s.register_items("d", ["only"], overlap=2)
        assert s.claim_next("d", "ann1") == "only"
        assert s.claim_next("d", "ann2") == "only"
        assert s.claim_next("d", "ann3") is None  # 2 active leases fill the overlap
        assert s.release("d", "ann1") == 1
        assert s.release("d", "ann1") == 0
        assert s.claim_next("d", "ann3") == "only"
        assert sorted(s.leases("d")["annotator"]) == ["ann2", "ann3"]


def test_lease_expires_and_renew_extends(store_target: str) -> None:
    with open_store(store_target) as s:
        s.register_items("d", ["x", "y"], overlap=1)
        assert s.claim_next("d", "ann1", lease_seconds=0.4) == "x"
        assert s.claim_next("d", "ann2", lease_seconds=0.4) == "y"
        assert s.renew("d", "ann2", "y", lease_seconds=30) == 1
        time.sleep(0.6)
        assert s.renew("d", "ann1", "x") == 0  # expired: claim again
        assert s.renew("d", "ann2") == 1  # all of ann2's active leases
        assert s.claim_next("d", "ann3") == "x"  # ann1's lease returned to the pool
        assert s.claim_next("d", "ann4") is None  # y was renewed
        # a late label by the expired holder is still stored (never lose a label) and counted
        s.append(_label("x", "ann1"), response_ids=["r1", "r2"])
        st = assign.item_status(s, "d").set_index("item_id")
        assert st.loc["x", "done"] == 1 and st.loc["x", "leased"] == 1


def test_skip_is_not_a_label_but_not_served_again(store_target: str) -> None:
    with open_store(store_target) as s:
        s.register_items("d", ["a", "b"], overlap=1)
        assert s.claim_next("d", "ann1") == "a"
        s.append(_label("a", "ann1", status="skipped"), response_ids=["r1", "r2"])
        assert assign.item_status(s, "d")["done"].tolist() == [0, 0]
        assert s.claim_next("d", "ann1") == "b"
        assert s.claim_next("d", "ann2") == "a"  # the skipped item still needs its label
        rows = assign.assignment_rows(s, "d").set_index(["item_id", "annotator"])
        assert rows.loc[("a", "ann1"), "state"] == "skipped"
        # a re-label from skipped to submitted counts once; a second revision does not count again
        s.append(_label("a", "ann1", n=1), response_ids=["r1", "r2"])
        s.append(_label("a", "ann1", n=2, winner="r2"), response_ids=["r1", "r2"])
        assert assign.item_status(s, "d").set_index("item_id").loc["a", "done"] == 1


def test_adjudication_labels_do_not_fill_slots(store_target: str) -> None:
    with open_store(store_target) as s:
        s.register_items("d", ["a"], overlap=1)
        s.append(_label("a", "lead", source="adjudication"), response_ids=["r1", "r2"])
        assert assign.item_status(s, "d")["done"].tolist() == [0]
        assert s.claim_next("d", "ann1") == "a"
        assert s.claim_next("d", "lead") is None  # but the lead, having labelled it, is not given it


def test_gold_items_mixed_in_at_their_share(store_target: str) -> None:
    with open_store(store_target) as s:
        regular = [f"i{n:02d}" for n in range(40)]
        gold = ["g0", "g1", "g2", "g3"]
        s.register_items("d", regular, overlap=1, gold=gold, gold_share=0.25)
        assert assign.datasets(s)["gold_items"].tolist() == [4]
        for ann in ("ann1", "ann2"):
            got = _take(s, ann, 12)
            n_gold = sum(i.startswith("g") for i in got)
            assert n_gold == 3, got  # a quarter of 12
            assert got[0].startswith("g")  # the first claim already tops the share up
        # gold items ignore the overlap: both annotators labelled the same ones
        st = assign.item_status(s, "d").set_index("item_id")
        assert (st.loc[gold[:3], "done"] == 2).all()
        assert set(st.loc[gold, "state"]) == {"gold"}
        # with no regular items left for them, an annotator still gets the remaining gold
        assert s.claim_next("d", "ann3", lease_seconds=60) is not None


def test_append_many_completes_leases(store_target: str) -> None:
    with open_store(store_target) as s:
        s.register_items("d", ["a", "b", "c"], overlap=2)
        got = s.claim("d", "ann1", 3)
        assert got == ["a", "b", "c"]
        s.append_many([_label(i, "ann1") for i in got], response_ids={i: ["r1", "r2"] for i in got})
        assert assign.item_status(s, "d")["done"].tolist() == [1, 1, 1]
        assert s.leases("d").empty


def test_v1_store_migrates_to_team_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with open_store(path) as s:
        s.append(_label("a", "ann1"), response_ids=["r1", "r2"])
    # Make it a store as written before team assignment: store schema 1, only the v1 tables.
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in set(tables) - {"labels", "latest", "meta"}:
        con.execute(f"DROP TABLE {table}")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with open_store(path) as s:
        assert s.schema_version == STORE_SCHEMA_VERSION
        assert s.register_items("d", ["a", "b"], overlap=2) == 2
        assert s.claim_next("d", "ann1") == "b"
        assert len(s.labels()) == 1


def test_team_monitor_snapshot_and_html(store_target: str) -> None:
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "g"],
            "prompt": ["p"] * 4,
            "responses": [
                [
                    {"response_id": "r1", "text": "x", "model": "m1"},
                    {"response_id": "r2", "text": "y", "model": "m2"},
                ]
            ]
            * 4,
            "gold": [None, None, None, [["r1"], ["r2"]]],
        }
    )
    with open_store(store_target) as s:
        s.register_items("d", ["a", "b", "c"], overlap=2, gold=["g"])
        times = ["2026-11-28T10:00:00+00:00", "2026-11-28T10:30:00+00:00", "2026-11-28T11:00:00+00:00"]
        for ann, winners in (("<b>ann1</b>", ["r1", "r2", "r1"]), ("ann2", ["r1", "r2", "r2"])):
            for item, winner, when in zip(["a", "b", "g"], winners, times, strict=True):
                s.append(_label(item, ann, winner=winner, when=when), response_ids=["r1", "r2"])
        assert s.claim_next("d", "ann3") == "c"
        mon = TeamMonitor(s, dataset="d", items=items)
        snap = mon.snapshot()
        ann = snap["annotators"].set_index("annotator")
        assert list(snap["annotators"].columns) == list(ANNOTATOR_COLUMNS)
        assert ann.loc["ann2", "labelled"] == 3 and ann.loc["ann3", "leased"] == 1
        assert ann.loc["ann2", "per_hour"] == pytest.approx(2.0)  # 2 labels after the first, in 1 hour
        assert ann.loc["ann2", "median_active_s"] == pytest.approx(4.0)
        assert ann.loc["ann2", "gold_accuracy"] == pytest.approx(0.0)  # picked r2 on g, gold says r1
        assert ann.loc["<b>ann1</b>", "gold_accuracy"] == pytest.approx(1.0)
        ds = snap["datasets"].iloc[0]
        assert list(snap["datasets"].columns) == list(DATASET_COLUMNS)
        counts = (ds["items"], ds["gold_items"], ds["complete"], ds["in_progress"], ds["open"])
        assert counts == (3, 1, 2, 1, 0)
        assert not snap["agreement"].empty
        page = mon._repr_html_()
        assert "&lt;b&gt;ann1&lt;/b&gt;" in page and "<b>ann1</b>" not in page  # names are escaped
        assert "Agreement so far" in page
        with pytest.raises(ValueError, match="no team dataset 'zzz'"):
            TeamMonitor(s, dataset="zzz").snapshot()


def test_team_monitor_watch_refreshes(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    ours = not InteractiveShell.initialized()
    InteractiveShell.instance()  # a display system to publish to (as in a kernel)
    if ours:  # leave no shell behind for other tests
        request.addfinalizer(InteractiveShell.clear_instance)
    with open_store(tmp_path / "w.sqlite") as s:
        s.register_items("d", ["a"], overlap=1)
        mon = TeamMonitor(s)
        calls = []
        original = mon._repr_html_

        def counted() -> str:
            calls.append(time.monotonic())
            return original()

        mon._repr_html_ = counted  # type: ignore[method-assign]
        mon.watch(0.05)
        time.sleep(0.5)
        mon.stop()
        n = len(calls)
        time.sleep(0.2)
        assert n >= 3  # the first render plus refreshes
        assert len(calls) == n  # stop() stopped it
        with pytest.raises(ValueError, match="interval"):
            mon.watch(0)


def _items(n: int, gold: tuple[int, ...] = ()) -> pd.DataFrame:
    return factories.make_items(
        n,
        item_id="it{i}",
        model="m{r}",
        category=None,
        gold=lambda i: [["r1"], ["r2"]] if i in gold else None,
    )


def _submit(w: Any, index: int) -> None:
    p = w._payload(index)
    sent: list[dict[str, Any]] = []
    w.send = lambda msg, buffers=None: sent.append(msg)
    w.handle_message(factories.submit_message(p, client_id=f"c-{w.annotator}-{index}", index=index))
    assert sent and sent[-1]["type"] == "ack", sent


def test_rank_widget_labels_from_the_team_queue(store_target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from rank_widget.widget import RankWidget

    items = _items(14, gold=(13,))
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-alice")
    with open_store(store_target) as s:
        a = RankWidget(items, store=s, overlap=2)
        assert a.annotator == "hub-alice"  # the hub's user name by default
        assert a._queue.ids == [f"it{i}" for i in range(10)]  # a batch, fewest labels first
        b = RankWidget(items, store=s, overlap=2, annotator="bob")
        assert b._queue.ids == a._queue.ids  # overlap 2: the same items go to a second annotator
        c = RankWidget(items, store=s, overlap=2, annotator="carol")
        assert c._queue.ids == ["it10", "it11", "it12", "it13"]  # the rest; the gold item last
        dave = RankWidget(items, store=s, overlap=2, annotator="dave")
        assert dave._queue.ids == ["it10", "it11", "it12", "it13"]  # second labels; gold has no cap
        assert RankWidget(items, store=s, overlap=2, annotator="erin")._queue.ids == ["it13"]
        small = _items(2)
        RankWidget(small, store=s, overlap=1, dataset="small", annotator="x")
        with pytest.raises(ValueError, match="nothing left for 'y' in team dataset 'small'"):
            RankWidget(small, store=s, dataset="small", annotator="y")
        with pytest.warns(UserWarning, match="registered with overlap=2; overlap=3 is ignored"):
            RankWidget(items, store=s, overlap=3, annotator="carol")
        with pytest.raises(ValueError, match="drop queue="):
            RankWidget(items, store=s, overlap=2, queue=["it0"])
        before = s.leases("default", "bob").set_index("item_id")["expires_at"]
        _submit(b, 0)
        st = assign.item_status(s, "default").set_index("item_id")
        assert st.loc["it0", "done"] == 1 and st.loc["it0", "leased"] == 1  # bob's label, alice's lease
        after = s.leases("default", "bob").set_index("item_id")["expires_at"]
        assert "it0" not in after.index
        assert (after > before.loc[after.index]).all()  # the rest of bob's batch was renewed
        # blind labelling: alice's widget holds her labels only
        assert a.labels.empty and list(b.labels["annotator"]) == ["bob"]
        # a re-opened notebook resumes the same leased batch, topped up (only the gold item has room left)
        again = RankWidget(items, store=s, overlap=2, annotator="bob")
        assert again._queue.ids == [*(f"it{i}" for i in range(1, 10)), "it13"]
        assert assign.datasets(s).set_index("dataset").loc["default", "gold_items"] == 1


def test_rank_widget_leases_the_next_items_as_the_batch_runs_out(store_target: str) -> None:
    from rank_widget.team import TEAM_BATCH, TEAM_REFILL_AT
    from rank_widget.widget import RankWidget

    items = _items(25)
    with open_store(store_target) as s:
        w = RankWidget(items, store=s, overlap=1, annotator="ann")
        assert len(w._queue) == TEAM_BATCH
        lengths = []
        for index in range(25):
            _submit(w, index)  # every submit moves on to the next position
            lengths.append(w.queue_length)
        # refilled each time fewer than TEAM_REFILL_AT items were left, up to the 25 items there are
        first_refill = TEAM_BATCH - TEAM_REFILL_AT
        assert lengths[:first_refill] == [TEAM_BATCH] * first_refill
        assert lengths[first_refill] == TEAM_BATCH + TEAM_BATCH - (TEAM_REFILL_AT - 1)
        assert lengths[-1] == 25 and w._queue.ids == [f"it{i}" for i in range(25)]
        assert w.progress["done"] == 25
        assert s.leases("default").empty
        assert set(assign.item_status(s, "default")["state"]) == {"complete"}
        with pytest.raises(ValueError, match="nothing left for 'other'"):
            RankWidget(items, store=s, overlap=1, annotator="other")
