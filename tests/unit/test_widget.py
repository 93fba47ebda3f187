"""RankWidget's Python side, driven through the same message entry point the browser's messages reach.

Messages are dicts exactly like the view sends (docs/protocol.md); outgoing messages are captured by replacing
``send`` on the instance. Stores are real (SQLite in memory or in a file under tmp_path).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from factories import make_items, submit_message, utc_now
from rank_widget import _protocol
from rank_widget._protocol import MAX_MESSAGE_BYTES, map_ids
from rank_widget.schema import DEFAULT_FLAGS, MAX_RATIONALE_CHARS
from rank_widget.session import PREFETCH
from rank_widget.store import open_store
from rank_widget.widget import RankWidget, StaticAssetsMissing


class Harness:
    """A widget plus everything it sent, and helpers to build the messages the view would send."""

    def __init__(self, w: RankWidget) -> None:
        self.w = w
        self.sent: list[dict[str, Any]] = []
        self.rows_at_send: list[int] = []
        self._n = 0

        def capture(msg: dict[str, Any], buffers: Any = None) -> None:
            # Record how many rows the store held when the message left: an ack must follow the write.
            try:
                self.rows_at_send.append(len(w.store.labels()))
            except RuntimeError:  # a closed store (the store-failure test)
                self.rows_at_send.append(-1)
            self.sent.append(msg)

        w.send = capture  # type: ignore[method-assign]

    def item(self, index: int) -> dict[str, Any]:
        found = [p for p in self.w.window if p["index"] == index]
        return found[0] if found else self.w._payload(index)

    def submit_msg(self, index: int, **label: Any) -> dict[str, Any]:
        self._n += 1
        p = self.item(index)
        if self.w.task == "ranking":
            label = {"winner": None, "strength": None, "ranking": [[r] for r in p["display_order"]], **label}
        label.setdefault("started_at", utc_now())
        return submit_message(p, client_id=f"client-{self._n}-{index}", index=index, **label)

    def submit_each(self, *indices: int) -> None:
        """Send a submit for each of the items at ``indices``, in turn."""
        for index in indices:
            self.send(self.submit_msg(index))

    def real(self, index: int, value: Any) -> Any:
        """A label field as the view sends it (wire ids r1..rN by position on screen) with the stored ids."""
        return map_ids(value, {w: r for r, w in self.w._payloads.ids(index).items()})

    def send(self, msg: Any, buffers: Any = None) -> dict[str, Any] | None:
        before = len(self.sent)
        self.w.handle_message(msg, buffers)
        return self.sent[-1] if len(self.sent) > before else None

    def rows(self) -> pd.DataFrame:
        return self.w.store.labels()


@pytest.fixture
def h() -> Harness:
    return Harness(RankWidget(make_items(), annotator="alice", seed=1))


# -- submit -> store -> ack --


def test_submit_is_stored_then_acked_and_advances(h: Harness) -> None:
    msg = h.submit_msg(0, rationale="clearer")
    reply = h.send(msg)
    assert reply == {
        "type": "ack",
        "client_id": msg["client_id"],
        "item_id": "it000",
        "label_id": msg["client_id"],
        "revision": 1,
        "duplicate": False,
    }
    assert h.rows_at_send[-1] == 1  # the row was in the store when the ack left
    row = h.rows().iloc[0]
    assert row["label_id"] == msg["client_id"]
    assert row["annotator"] == "alice" and row["source"] == "widget" and row["task"] == "pairwise"
    assert row["winner"] == h.real(0, msg["label"]["winner"]) and row["strength"] == 2
    assert row["display_order"] == h.real(0, msg["label"]["display_order"]) == h.w._payloads.order(0)
    assert row["rationale"] == "clearer"
    assert h.w.position == 1
    assert h.w.progress["done"] == 1 and h.w.progress["store_done"] == 1
    assert len(h.w.labels) == 1


def test_message_through_the_comm_dispatch_path(h: Harness) -> None:
    # ipywidgets routes a browser's custom message through _handle_custom_msg to the on_msg callbacks.
    msg = h.submit_msg(0)
    h.w._handle_custom_msg(msg, [])
    assert h.sent[-1]["type"] == "ack"
    assert len(h.rows()) == 1


def test_double_submit_stores_one_row_and_acks_twice(h: Harness) -> None:
    msg = h.submit_msg(0)
    first = h.send(msg)
    second = h.send(copy.deepcopy(msg))
    assert first is not None and second is not None
    assert first["type"] == second["type"] == "ack"
    assert first["duplicate"] is False and second["duplicate"] is True
    assert second["revision"] == 1
    assert len(h.rows()) == 1
    assert h.w.position == 1  # the duplicate does not move the labeler again


def test_skip_is_stored_and_counted(h: Harness) -> None:
    reply = h.send(h.submit_msg(0, status="skipped", winner=None, strength=None))
    assert reply is not None and reply["type"] == "ack"
    row = h.rows().iloc[0]
    assert row["status"] == "skipped" and row["winner"] is None and pd.isna(row["strength"])
    assert h.w.progress == {"done": 0, "total": 6, "skipped": 1, "store_done": 0, "store_total": 6}
    assert list(h.w.history["event"]).count("skip") == 1


def test_ranking_task_with_ties() -> None:
    h = Harness(RankWidget(make_items(4, 3), annotator="bob", task="ranking", seed=3))
    order = h.item(0)["display_order"]
    reply = h.send(h.submit_msg(0, ranking=[[order[2]], [order[0], order[1]]]))
    assert reply is not None and reply["type"] == "ack"
    assert h.rows().iloc[0]["ranking"] == h.real(0, [[order[2]], [order[0], order[1]]])
    bad = h.send(h.submit_msg(1, ranking=[[order[0]], [order[1]]]))  # one response left out
    assert bad is not None and bad["type"] == "reject" and bad["field"] == "ranking"
    assert len(h.rows()) == 1


def test_pairwise_ranking_must_agree_with_winner(h: Harness) -> None:
    order = h.item(0)["display_order"]
    reply = h.send(h.submit_msg(0, winner=order[0], strength=3, ranking=[[order[1]], [order[0]]]))
    assert reply is not None and reply["field"] == "ranking"
    ok = h.send(h.submit_msg(0, winner="tie", strength=0, ranking=[[order[0], order[1]]]))
    assert ok is not None and ok["type"] == "ack"
    assert h.rows().iloc[0]["winner"] == "tie"


# -- tampered messages: each rejected with the right field, nothing stored --


def _set(path: str, value: Any) -> Any:
    def change(msg: dict[str, Any]) -> dict[str, Any]:
        target = msg
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
        return msg

    return change


def _drop(path: str) -> Any:
    def change(msg: dict[str, Any]) -> dict[str, Any]:
        target = msg
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
        return msg

    return change


TAMPERED = {
    "unknown response id as winner": (_set("label.winner", "r9"), "winner"),
    "unknown response id in ranking": (_set("label.ranking", [["r1"], ["r9"]]), "ranking"),
    "another item's id": (_set("item_id", "it003"), "item_id"),
    "wrong index": (_set("index", 4), "item_id"),
    "index out of range": (_set("index", 99), "index"),
    "negative index": (_set("index", -1), "index"),
    "bool index": (_set("index", True), "index"),
    "string index": (_set("index", "0"), "index"),
    "out-of-range rating": (_set("label.ratings", {"r1": {"helpfulness": 9}}), "ratings"),
    "zero rating": (_set("label.ratings", {"r1": {"helpfulness": 0}}), "ratings"),
    "string rating": (_set("label.ratings", {"r1": {"helpfulness": "5"}}), "ratings"),
    "unknown criterion": (_set("label.ratings", {"r1": {"charm": 3}}), "ratings"),
    "rating of unknown response": (_set("label.ratings", {"r7": {"helpfulness": 3}}), "ratings"),
    "ratings not a dict": (_set("label.ratings", [1, 2]), "ratings"),
    "oversize rationale": (_set("label.rationale", "x" * (MAX_RATIONALE_CHARS + 1)), "rationale"),
    "rationale not a string": (_set("label.rationale", 42), "rationale"),
    "unknown flag": (_set("label.flags", ["boring"]), "flags"),
    "flags not a list": (_set("label.flags", "harmful"), "flags"),
    "flag listed twice": (_set("label.flags", ["harmful", "harmful"]), "flags"),
    "oversize flag note": (_set("label.flag_note", "n" * 2001), "flag_note"),
    "string strength": (_set("label.strength", "2"), "strength"),
    "float strength": (_set("label.strength", 2.5), "strength"),
    "bool strength": (_set("label.strength", True), "strength"),
    "strength out of range": (_set("label.strength", 4), "strength"),
    "tie with strength": (_set("label.winner", "tie"), "strength"),
    "dict ranking": (_set("label.ranking", {"r1": 1, "r2": 2}), "ranking"),
    "ranking with a non-list group": (_set("label.ranking", ["r1", "r2"]), "ranking"),
    "tampered display order": (_set("label.display_order", ["r9", "r1"]), "display_order"),
    "display order not a list": (_set("label.display_order", "r1,r2"), "display_order"),
    "bad status": (_set("label.status", "maybe"), "status"),
    "annotator smuggled in": (_set("label.annotator", "mallory"), "annotator"),
    "revision smuggled in": (_set("label.revision", 7), "revision"),
    "unknown top-level field": (_set("annotator", "mallory"), "annotator"),
    "missing client_id": (_drop("client_id"), "client_id"),
    "empty client_id": (_set("client_id", ""), "client_id"),
    "client_id not a string": (_set("client_id", 12), "client_id"),
    "oversize client_id": (_set("client_id", "c" * 300), "client_id"),
    "missing item_id": (_drop("item_id"), "item_id"),
    "missing index": (_drop("index"), "index"),
    "missing label": (_drop("label"), "label"),
    "label not an object": (_set("label", "A better"), "label"),
    "missing status": (_drop("label.status"), "status"),
    "missing display_order": (_drop("label.display_order"), "display_order"),
    "missing guideline_version": (_drop("label.guideline_version"), "guideline_version"),
    "missing started_at": (_drop("label.started_at"), "started_at"),
    "missing active_ms": (_drop("label.active_ms"), "active_ms"),
    "missing winner": (_set("label.winner", None), "winner"),
    "winner not a string": (_set("label.winner", 1), "winner"),
    "wrong guideline version": (_set("label.guideline_version", "v9"), "guideline_version"),
    "started_at garbage": (_set("label.started_at", "yesterday"), "started_at"),
    "started_at without zone": (_set("label.started_at", "2026-01-01T10:00:00"), "started_at"),
    "negative active_ms": (_set("label.active_ms", -5), "active_ms"),
    "string active_ms": (_set("label.active_ms", "100"), "active_ms"),
    "huge message": (_set("label.padding", "p" * (MAX_MESSAGE_BYTES + 10)), "message"),
    "NaN in message": (_set("label.active_ms", float("nan")), "message"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_tampered_submit_is_rejected_and_nothing_stored(case: str) -> None:
    h = Harness(RankWidget(make_items(), annotator="alice", criteria=["helpfulness"], seed=1))
    change, field = TAMPERED[case]
    msg = change(h.submit_msg(0))
    reply = h.send(msg)
    assert reply is not None and reply["type"] == "reject", reply
    assert reply["field"] == field, reply
    assert isinstance(reply["message"], str) and reply["message"]
    assert len(h.rows()) == 0
    assert h.w.position == 0 and h.w.progress["done"] == 0
    assert h.w.history["event"].iloc[-1] == "reject"


def test_ratings_rejected_when_session_has_no_criteria(h: Harness) -> None:
    reply = h.send(h.submit_msg(0, ratings={"r1": {"helpfulness": 3}}))
    assert reply is not None and reply["type"] == "reject" and reply["field"] == "ratings"
    assert len(h.rows()) == 0


def test_valid_ratings_are_stored() -> None:
    h = Harness(RankWidget(make_items(), annotator="alice", criteria=["helpfulness", "clarity"], scale=7))
    reply = h.send(h.submit_msg(0, ratings={"r1": {"helpfulness": 7, "clarity": 1}, "r2": {"clarity": None}}))
    assert reply is not None and reply["type"] == "ack"
    assert h.rows().iloc[0]["ratings"] == h.real(0, {"r1": {"helpfulness": 7, "clarity": 1}})


def test_ratings_required() -> None:
    h = Harness(RankWidget(make_items(), annotator="alice", criteria=["helpfulness"], ratings_required=True))
    reply = h.send(h.submit_msg(0, ratings={"r1": {"helpfulness": 4}}))
    assert reply is not None and reply["field"] == "ratings"
    reply = h.send(h.submit_msg(0, ratings={"r1": {"helpfulness": 4}, "r2": {"helpfulness": 2}}))
    assert reply is not None and reply["type"] == "ack"


@pytest.mark.parametrize(
    "content",
    [None, "submit", 42, ["submit"], {"type": "dance"}, {"no": "type"}],
    ids=["none", "string", "int", "list", "unknown type", "no type"],
)
def test_malformed_messages_change_nothing(h: Harness, content: Any) -> None:
    before = (h.w.position, dict(h.w.progress), list(h.w.window))
    h.send(content)
    assert (h.w.position, dict(h.w.progress), list(h.w.window)) == before
    assert len(h.rows()) == 0
    assert h.w.history["event"].iloc[-1] == "reject"


def test_binary_buffers_rejected(h: Harness) -> None:
    reply = h.send(h.submit_msg(0), [b"\x00" * 10])
    assert reply is not None and reply["field"] == "message"
    assert len(h.rows()) == 0


def test_store_failure_is_a_reject_not_an_exception() -> None:
    store = open_store(":memory:")
    h = Harness(RankWidget(make_items(), annotator="alice", store=store))
    store.close()
    reply = h.send(h.submit_msg(0))  # must not raise
    assert reply is not None and reply["type"] == "reject" and reply["field"] == "message"
    assert "error" in set(h.w.history["event"])


def test_failure_after_storing_is_logged_not_rejected() -> None:
    # Item 5 is malformed (not from load_items): building the next window fails after item 2 is stored.
    items = make_items(10)
    items.at[5, "responses"] = [{"response_id": "r1", "text": "ok"}, {"response_id": "r2", "text": None}]
    h = Harness(RankWidget(items, annotator="alice"))
    for i in range(3):
        reply = h.send(h.submit_msg(i))
        assert reply is not None and reply["type"] == "ack", reply
    assert len(h.rows()) == 3
    errors = h.w.history[h.w.history["event"] == "error"]
    assert len(errors) >= 1 and all("it005" in d for d in errors["detail"])


# -- rationale rules --

RULE_CASES = [
    # rule, label overrides, accepted?
    ("off", {"rationale": ""}, True),
    ("off", {"rationale": "because"}, False),
    ("optional", {"rationale": ""}, True),
    ("optional", {"rationale": "because"}, True),
    ("required", {"rationale": ""}, False),
    ("required", {"rationale": "   "}, False),
    ("required", {"rationale": "because"}, True),
    ("required_if_tie", {"winner": "tie", "strength": 0, "rationale": ""}, False),
    ("required_if_tie", {"winner": "tie", "strength": 0, "rationale": "equal"}, True),
    ("required_if_tie", {"strength": 3, "rationale": ""}, True),
    ("required_if_strong", {"strength": 3, "rationale": ""}, False),
    ("required_if_strong", {"strength": 3, "rationale": "far better"}, True),
    ("required_if_strong", {"strength": 2, "rationale": ""}, True),
    ("required_if_flagged", {"flags": ["harmful"], "rationale": ""}, False),
    ("required_if_flagged", {"flags": ["harmful"], "rationale": "unsafe advice"}, True),
    ("required_if_flagged", {"flags": [], "rationale": ""}, True),
]


@pytest.mark.parametrize(("rule", "label", "accepted"), RULE_CASES)
def test_rationale_rules(rule: str, label: dict[str, Any], accepted: bool) -> None:
    h = Harness(RankWidget(make_items(), annotator="alice", rationale=rule))
    reply = h.send(h.submit_msg(0, **label))
    assert reply is not None
    if accepted:
        assert reply["type"] == "ack", reply
        assert len(h.rows()) == 1
    else:
        assert reply["type"] == "reject" and reply["field"] == "rationale", reply
        assert len(h.rows()) == 0


def test_required_rationale_does_not_block_a_skip() -> None:
    h = Harness(RankWidget(make_items(), annotator="alice", rationale="required"))
    reply = h.send(h.submit_msg(0, status="skipped", winner=None, strength=None))
    assert reply is not None and reply["type"] == "ack"


def test_rationale_cap_is_configurable() -> None:
    h = Harness(RankWidget(make_items(), annotator="alice", max_rationale_chars=10))
    assert h.w.config["max_rationale_chars"] == 10
    reply = h.send(h.submit_msg(0, rationale="x" * 11))
    assert reply is not None and reply["field"] == "rationale"


# -- guidelines --


def test_guideline_change_requires_ack() -> None:
    versions = [
        {"version": "v1", "markdown": "# Rules\n\nPrefer correct answers.", "from_item": 0},
        {
            "version": "v2",
            "markdown": "# Rules\n\nPrefer correct answers.\n\nTies are allowed.",
            "from_item": "it002",
        },
    ]
    h = Harness(RankWidget(make_items(), annotator="alice", guidelines=versions))
    assert h.w.guidelines == {"version": "v1", "markdown": versions[0]["markdown"], "changes": None}
    for i in (0, 1):
        reply = h.send(h.submit_msg(i))
        assert reply is not None and reply["type"] == "ack"
    assert h.w.position == 2
    assert h.w.guidelines["version"] == "v2"
    assert "Ties are allowed." in h.w.guidelines["changes"]
    assert h.item(2)["guideline_version"] == "v2"

    reply = h.send(h.submit_msg(2))
    assert reply is not None and reply["type"] == "reject" and reply["field"] == "guideline_version"
    assert len(h.rows()) == 2
    stale = h.send(h.submit_msg(2, guideline_version="v1"))
    assert stale is not None and stale["field"] == "guideline_version"

    h.send({"type": "ack_guidelines", "version": "v2"})
    assert h.w.guideline_ack == "v2"
    reply = h.send(h.submit_msg(2))
    assert reply is not None and reply["type"] == "ack"
    assert h.rows().iloc[-1]["guideline_version"] == "v2"
    # Going back to a v1 item needs no acknowledgement: v1 is where the session started.
    reply = h.send(h.submit_msg(0))
    assert reply is not None and reply["type"] == "ack"


def test_unknown_guideline_ack_is_ignored() -> None:
    h = Harness(
        RankWidget(make_items(), annotator="alice", guidelines={"version": "v1", "markdown": "Be fair."})
    )
    h.send({"type": "ack_guidelines", "version": "v7"})
    assert h.w.guideline_ack is None
    assert h.w.history["event"].iloc[-1] == "reject"


def test_guideline_forms() -> None:
    items = make_items()
    w = RankWidget(items, annotator="a", guidelines="Prefer *correct* answers.")
    assert w.guidelines == {"version": None, "markdown": "Prefer *correct* answers.", "changes": None}
    w = RankWidget(items, annotator="a", guidelines={"version": 3, "markdown": "x"})
    assert w.guidelines["version"] == "3"
    w = RankWidget(items, annotator="a")
    assert w.guidelines == {"version": None, "markdown": "", "changes": None}
    explained = [
        {"version": "a", "markdown": "x"},
        {"version": "b", "markdown": "y", "from_item": 3, "changes": "Now y."},
    ]
    w = RankWidget(items, annotator="a", guidelines=explained)
    w.goto(3)
    assert w.guidelines == {"version": "b", "markdown": "y", "changes": "Now y."}


@pytest.mark.parametrize(
    ("guidelines", "error"),
    [
        (42, TypeError),
        ([], TypeError),
        (
            [{"version": "v1", "markdown": "a"}, {"version": "v1", "markdown": "b", "from_item": 2}],
            ValueError,
        ),
        ([{"version": "v1", "markdown": "a"}, {"version": "v2", "markdown": "b"}], ValueError),
        (
            [{"version": "v1", "markdown": "a"}, {"version": "v2", "markdown": "b", "from_item": "nope"}],
            ValueError,
        ),
        (
            [{"version": "v1", "markdown": "a"}, {"version": "v2", "markdown": "b", "from_item": 99}],
            ValueError,
        ),
        ([{"version": "v1", "markdown": "a", "from_item": 2}], ValueError),
        ({"version": "v1", "text": "a"}, ValueError),
        ({"version": "v1"}, ValueError),
        ({"version": "v1", "markdown": 5}, TypeError),
    ],
)
def test_bad_guidelines_rejected(guidelines: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        RankWidget(make_items(), annotator="a", guidelines=guidelines)


# -- resume, revisions, window --


def test_resume_from_sqlite_file_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    items = make_items(8)
    h = Harness(RankWidget(items, annotator="alice", store=path))
    h.submit_each(0, 1, 2)
    h.send(h.submit_msg(3, status="skipped", winner=None, strength=None))
    h.send(h.submit_msg(5))  # out of order: navigated ahead
    h.w.close()  # the kernel "restarts"

    again = RankWidget(items, annotator="alice", store=str(path))
    assert again.position == 4  # first item with no current label
    assert again.progress == {"done": 4, "total": 8, "skipped": 1, "store_done": 4, "store_total": 8}
    assert len(again.labels) == 5
    # The previous item (a skip) is in the window with its stored label; Back shows earlier labels too.
    prev = next(p for p in again.window if p["index"] == 3)
    assert prev["label"]["status"] == "skipped"
    again.goto(0)
    first = again.current_item["label"]
    assert first["label_id"] == h.sent[0]["label_id"]
    assert first["revision"] == 1 and first["status"] == "submitted"
    other = RankWidget(items, annotator="bob", store=path)
    assert other.position == 0
    assert other.progress["done"] == 0 and other.progress["store_done"] == 4


def test_requeued_items_ask_for_a_fresh_label(tmp_path: Path) -> None:
    from rank_widget.store import queues

    path = tmp_path / "round2.sqlite"
    items = make_items(4)
    h = Harness(RankWidget(items, annotator="alice", store=path))
    h.submit_each(0, 1, 2, 3)
    h.w.close()
    store = open_store(path)
    queues.requeue(store, ["it001", "it003"], queue="round2", reason="annotators disagree", added_by="lead")
    # Labelled before the re-queue: does not count; the session starts on the first re-queued item.
    r2 = Harness(RankWidget(items, annotator="alice", store=store, queue="round2"))
    r2._n = 100  # fresh client ids (a repeated one would be acked as a duplicate)
    assert r2.w.queue_length == 2 and r2.w.position == 0 and r2.w.progress["done"] == 0
    assert r2.w.current_item["item_id"] == "it001" and r2.w.current_item["label"] is None
    reply = r2.send(r2.submit_msg(0))
    assert reply is not None and reply["type"] == "ack" and reply["revision"] == 2
    r2.w.close()
    again = RankWidget(items, annotator="alice", store=store, queue="round2")
    assert again.position == 1 and again.progress["done"] == 1  # resumes at the one still to re-label
    assert again.current_item["item_id"] == "it003"


def test_team_progress_counts_items_not_labels(tmp_path: Path) -> None:
    items = make_items(4)
    store = open_store(tmp_path / "team.sqlite")
    for name in ("ann1", "ann2", "ann3"):  # three labelers on the same two items
        h = Harness(RankWidget(items, annotator=name, store=store))
        h._n = {"ann1": 0, "ann2": 100, "ann3": 200}[name]
        h.submit_each(0, 1)
    w = RankWidget(items, annotator="dora", store=store)
    assert w.progress["store_done"] == 2 and w.progress["store_total"] == 4  # never more than the queue
    assert w.progress["done"] == 0 and w.position == 0


def test_resume_when_everything_is_labelled(tmp_path: Path) -> None:
    path = tmp_path / "done.sqlite"
    items = make_items(3)
    h = Harness(RankWidget(items, annotator="alice", store=path))
    h.submit_each(0, 1, 2)
    assert h.w.position == 2  # stays on the last item
    again = RankWidget(items, annotator="alice", store=path)
    assert again.position == 2 and again.progress["done"] == 3


def test_back_and_resubmit_makes_revision_2(h: Harness) -> None:
    first = h.submit_msg(0, rationale="first thought")
    h.send(first)
    h.send(h.submit_msg(1))
    h.send({"type": "navigate", "to": 0})
    assert h.w.position == 0
    prefill = h.item(0)["label"]
    assert prefill is not None and prefill["label_id"] == first["client_id"]
    assert prefill["rationale"] == "first thought" and prefill["revision"] == 1
    order = h.item(0)["display_order"]
    second = h.submit_msg(0, winner=order[1], strength=3, rationale="on reflection")
    reply = h.send(second)
    assert reply is not None and reply["type"] == "ack" and reply["revision"] == 2
    rows = h.rows()
    assert len(rows) == 3
    latest = rows[rows["label_id"] == second["client_id"]].iloc[0]
    assert latest["revision"] == 2 and latest["supersedes"] == first["client_id"]
    current = h.w.labels
    assert len(current) == 2
    assert current.set_index("item_id").loc["it000", "rationale"] == "on reflection"
    assert h.w.progress["done"] == 2 and h.w.progress["store_done"] == 2
    # Back on the revised item, the prefill is the new revision.
    h.send({"type": "navigate", "to": 2})
    h.send({"type": "navigate", "to": 0})
    assert h.item(0)["label"]["revision"] == 2


class ViewCache:
    """What the view holds: it keeps every item payload it is sent, keyed by index (js/src/view/app.ts)."""

    def __init__(self, w: RankWidget) -> None:
        self.w = w
        self.items: dict[int, dict[str, Any]] = {}
        self.absorb()

    def absorb(self) -> list[int]:
        sent = [p["index"] for p in self.w.window]
        self.items.update({p["index"]: p for p in self.w.window})
        return sent


def test_window_carries_only_the_current_item_and_its_neighbours() -> None:
    h = Harness(RankWidget(make_items(100), annotator="alice"))
    view = ViewCache(h.w)
    assert sorted(view.items) == list(range(0, PREFETCH + 1))
    for target in (50, 51, 52, 53, 54, 53, 52, 10, 99, 98):
        h.send({"type": "navigate", "to": target})
        sent = view.absorb()
        assert target in sent and len(sent) <= PREFETCH + 2
        assert all(abs(i - target) <= PREFETCH + 1 for i in sent)
        # The view has the current item, both neighbours and the prefetch in the direction of travel.
        for neighbour in (target - 1, target, target + 1):
            if 0 <= neighbour < 100:
                assert neighbour in view.items
        assert [p["item_id"] for p in h.w.window] == [f"it{i:03d}" for i in sent]


def test_a_step_sends_the_current_item_and_one_new_item() -> None:
    h = Harness(RankWidget(make_items(100), annotator="alice"))
    h.send({"type": "navigate", "to": 50})  # a jump: the whole window
    assert [p["index"] for p in h.w.window] == [49, 50, 51, 52, 53]
    for step in (51, 52, 53):
        h.send({"type": "navigate", "to": step})
        assert [p["index"] for p in h.w.window] == [step, step + PREFETCH]
    h.send({"type": "navigate", "to": 52})  # back: the view has 49..53 already
    assert [p["index"] for p in h.w.window] == [52]
    h.send({"type": "navigate", "to": 51})  # the prefetch extends backwards
    assert [p["index"] for p in h.w.window] == [48, 51]
    # Submits advance: the current item, and one new prefetch item once the view lacks it.
    expected = {51: [52], 52: [53], 53: [54, 57], 54: [55, 58]}
    for index, window in expected.items():
        reply = h.send(h.submit_msg(index))
        assert reply is not None and reply["type"] == "ack"
        assert [p["index"] for p in h.w.window] == window


def test_window_carries_a_changed_label() -> None:
    h = Harness(RankWidget(make_items(10), annotator="alice"))
    h.submit_each(0, 1)
    h.send({"type": "navigate", "to": 0})  # item 0 was sent before its label existed: sent again, with it
    assert h.w.window[0]["index"] == 0 and h.w.window[0]["label"]["status"] == "submitted"


def test_navigate_clamps_and_validates(h: Harness) -> None:
    h.send({"type": "navigate", "to": 1000})
    assert h.w.position == 5
    h.send({"type": "navigate", "to": -3})
    assert h.w.position == 0
    for bad in (
        {"type": "navigate", "to": "3"},
        {"type": "navigate"},
        {"type": "navigate", "to": 2.0},
        {"type": "navigate", "to": 1, "extra": 1},
    ):
        h.send(bad)
        assert h.w.position == 0
        assert h.w.history["event"].iloc[-1] == "reject"


def test_state_is_independent_of_dataset_size() -> None:
    def state_bytes(n: int) -> int:
        w = RankWidget(make_items(n), annotator="alice")
        state = {
            k: getattr(w, k)
            for k in (
                "config",
                "guidelines",
                "window",
                "position",
                "queue_length",
                "progress",
                "guideline_ack",
            )
        }
        return len(json.dumps(state))

    small, large = state_bytes(10), state_bytes(5000)
    assert abs(large - small) < 100  # only the digits of counts and ids differ


# -- payloads and display order --


def test_payload_is_blind_and_small(h: Harness) -> None:
    p = h.w.current_item
    assert set(p) == {
        "index",
        "item_id",
        "prompt",
        "responses",
        "display_order",
        "metadata",
        "guideline_version",
        "label",
    }
    assert all(set(r) == {"response_id", "text"} for r in p["responses"])  # no model names
    assert [r["response_id"] for r in p["responses"]] == p["display_order"]
    assert p["metadata"] == {}  # blind by default: no source column is shown unless named
    json.dumps(h.w.window)  # plain JSON


def test_metadata_is_opt_in_and_never_the_answer() -> None:
    items = make_items(2)
    items["category"] = ["code", "math"]
    items["winner"] = ["model_a", "tie"]  # e.g. an Arena column: must never reach the labeler unasked
    w = RankWidget(items, annotator="a", metadata=["category"])
    assert w.current_item["metadata"] == {"category": "code"}
    with pytest.raises(ValueError, match="gold"):
        RankWidget(items, annotator="a", metadata=["gold"])
    with pytest.raises(ValueError, match="nope"):
        RankWidget(items, annotator="a", metadata=["nope"])


def test_metadata_is_truncated_and_scalar_only() -> None:
    items = make_items(2)
    items["notes"] = ["n" * 500, None]
    items["tags"] = [["a"], ["b"]]
    items["difficulty"] = [1.5, float("nan")]  # (a column named "score" now needs allow_answer_columns=True)
    w = RankWidget(items, annotator="a", metadata=["notes", "tags", "difficulty"])
    meta = w.current_item["metadata"]
    assert len(meta["notes"]) == 200 and "tags" not in meta and meta["difficulty"] == 1.5
    w.goto(1)
    assert w.current_item["metadata"]["difficulty"] is None


def test_chat_prompts_are_sent_as_turns() -> None:
    items = make_items(2)
    items["prompt"] = [
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "and?"},
        ],
        "plain",
    ]
    w = RankWidget(items, annotator="a")
    assert w.current_item["prompt"][2] == {"role": "user", "content": "and?"}
    items["prompt"] = [[{"role": "user", "text": "hi"}], "plain"]
    with pytest.raises(ValueError, match=r"it000.*prompt turn 0"):
        RankWidget(items, annotator="a")


def test_display_order_is_seeded_per_annotator_and_item() -> None:
    items = make_items(40)

    def orders(annotator: str, seed: Any = None, shuffle: bool = True) -> list[list[str]]:
        w = RankWidget(items, annotator=annotator, seed=seed, shuffle=shuffle)
        return [w._payloads.order(i) for i in range(40)]

    alice = orders("alice")
    assert alice == orders("alice")  # stable across restarts
    assert alice != orders("bob")
    assert alice != orders("alice", seed=7)
    flips = sum(o != ["r1", "r2"] for o in alice)
    assert 5 < flips < 35  # both positions are used
    assert orders("alice", shuffle=False) == [["r1", "r2"]] * 40


def test_display_order_is_recorded(h: Harness) -> None:
    orders = []
    for i in range(4):
        msg = h.submit_msg(i)
        orders.append(h.real(i, msg["label"]["display_order"]))
        h.send(msg)
    assert list(h.rows()["display_order"]) == orders == [h.w._payloads.order(i) for i in range(4)]


# -- callbacks, history, navigation helpers --


def test_on_submit_called_after_durable_append(h: Harness) -> None:
    seen: list[tuple[str, int]] = []

    def callback(record: dict[str, Any]) -> None:
        seen.append((record["label_id"], len(h.w.store.labels())))

    def broken(record: dict[str, Any]) -> None:
        raise RuntimeError("callback bug")

    h.w.on_submit(callback)
    h.w.on_submit(broken)
    msg = h.submit_msg(0)
    h.send(msg)
    h.send(copy.deepcopy(msg))  # a duplicate is not a new label
    assert seen == [(msg["client_id"], 1)]
    assert "on_submit callback" in " ".join(h.w.history["detail"])
    with pytest.raises(TypeError):
        h.w.on_submit("not callable")  # type: ignore[arg-type]


def test_history_records_events(h: Harness) -> None:
    h.send(h.submit_msg(0))
    h.send({"type": "navigate", "to": 3})
    h.send(h.submit_msg(3, strength="x"))
    events = list(h.w.history["event"])
    assert events[0] == "shown"
    for event in ("submit", "ack", "navigate", "reject"):
        assert event in events
    assert list(h.w.history.columns) == ["time", "event", "index", "item_id", "client_id", "detail"]


def test_goto(h: Harness) -> None:
    h.w.goto("it004")
    assert h.w.position == 4 and h.w.current_item["item_id"] == "it004"
    h.w.goto(1)
    assert h.w.position == 1
    with pytest.raises(KeyError):
        h.w.goto("missing")
    with pytest.raises(IndexError):
        h.w.goto(6)
    with pytest.raises(TypeError):
        h.w.goto(1.0)  # type: ignore[arg-type]


def test_queue_subset_and_order() -> None:
    items = make_items(6)
    h = Harness(RankWidget(items, annotator="alice", queue=["it004", "it001"]))
    assert h.w.queue_length == 2 and h.w.current_item["item_id"] == "it004"
    reply = h.send(h.submit_msg(0))
    assert reply is not None and reply["type"] == "ack"
    assert h.w.current_item["item_id"] == "it001"
    for bad, error in (
        (["it001", "it001"], ValueError),
        (["zzz"], ValueError),
        ([], ValueError),
        ("named", ValueError),
        (5, TypeError),
    ):
        with pytest.raises(error):
            RankWidget(items, annotator="alice", queue=bad)


def test_started_at_clamped_and_active_ms_capped(h: Harness) -> None:
    future = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    h.send(h.submit_msg(0, started_at=future, active_ms=10**12))
    row = h.rows().iloc[0]
    assert row["started_at"] <= row["submitted_at"]
    assert row["active_ms"] <= 1000  # started "now" after clamping: at most the 1 s clock-skew allowance
    past = "1999-01-01T00:00:00Z"
    h.send(h.submit_msg(1, started_at=past))
    row = h.rows().iloc[1]
    assert row["started_at"] >= pd.Timestamp(h.w._opened_at)


# -- construction arguments --


def test_annotator_from_jupyterhub_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-user")
    w = RankWidget(make_items(), store=None)
    assert w.annotator == "hub-user" and w.config["annotator"] == "hub-user"


def test_annotator_falls_back_to_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    import getpass

    assert RankWidget(make_items()).annotator == getpass.getuser()


def test_unknown_kwarg_is_a_type_error_with_a_hint() -> None:
    with pytest.raises(TypeError, match=r"'anotator'.*Did you mean 'annotator'"):
        RankWidget(make_items(), anotator="alice")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        RankWidget(make_items(), colour="red")  # type: ignore[call-arg]


THIRD = {"response_id": "r3", "text": "more", "model": None}


def test_pairwise_needs_exactly_two_responses_and_names_the_item() -> None:
    items = make_items(5)
    items.at[3, "responses"] = [*items.at[3, "responses"], THIRD]
    with pytest.raises(ValueError, match=r"it003.*exactly 2 responses"):
        RankWidget(items, annotator="a", task="pairwise")
    w = RankWidget(items, annotator="a", task="ranking")
    assert len(w._payload(3)["responses"]) == 3
    # A queue that leaves the odd item out is fine for pairwise.
    RankWidget(items, annotator="a", task="pairwise", queue=["it000", "it001"])


def test_task_left_unset_labels_the_pairs() -> None:
    mixed = make_items(5)
    mixed.at[3, "responses"] = [*mixed.at[3, "responses"], THIRD]
    with pytest.warns(UserWarning, match="the 4 items with 2 responses; 1 items"):
        w = RankWidget(mixed, annotator="a")
    assert w.task == "pairwise" and w.config["task"] == "pairwise"
    assert w.queue_length == 4 and "it003" not in w._queue.ids
    assert RankWidget(make_items(3), annotator="a").task == "pairwise"
    assert RankWidget(make_items(3, 3), annotator="a").task == "ranking"
    # An explicit queue is taken as given: with a 3-response item in it, the session ranks.
    assert RankWidget(mixed, annotator="a", queue=["it003", "it000"]).task == "ranking"
    assert RankWidget(mixed, annotator="a", queue=["it001", "it000"]).task == "pairwise"


def test_too_few_responses_to_rank() -> None:
    items = make_items(3, 3)
    items.at[1, "responses"] = items.at[1, "responses"][:1]
    with pytest.raises(ValueError, match=r"it001.*at least 2"):
        RankWidget(items, annotator="a", task="ranking")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"task": "triplet"}, ValueError, "task"),
        ({"criteria": "helpfulness"}, TypeError, "criteria"),
        ({"criteria": ["a", "a"]}, ValueError, "twice"),
        ({"criteria": ["ok", ""]}, ValueError, "criterion"),
        ({"scale": 1}, ValueError, "scale"),
        ({"scale": 11}, ValueError, "scale"),
        ({"scale": 5.0}, TypeError, "scale"),
        ({"scale": True}, TypeError, "scale"),
        ({"rationale": "sometimes"}, ValueError, "rationale"),
        ({"flags": "harmful"}, TypeError, "flags"),
        ({"flags": ["a", "a"]}, ValueError, "twice"),
        ({"flags": [{"label": "no id"}]}, ValueError, "id"),
        ({"flags": [3]}, TypeError, "flags"),
        ({"annotator": ""}, ValueError, "annotator"),
        ({"annotator": 7}, TypeError, "annotator"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
        ({"store": 3.5}, TypeError, "store"),
        ({"ratings_required": True}, ValueError, "criteria"),
        ({"max_rationale_chars": 0}, ValueError, "max_rationale_chars"),
    ],
)
def test_arguments_are_validated(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        RankWidget(make_items(), **{"annotator": "a", **kwargs})


def test_items_frame_checks() -> None:
    items = make_items(3)
    items.loc[2, "item_id"] = "it000"
    with pytest.raises(ValueError, match=r"it000.*twice"):
        RankWidget(items, annotator="a")
    with pytest.raises(ValueError, match="empty"):
        RankWidget(make_items(3).iloc[0:0], annotator="a")
    twins = make_items(3)
    twins.at[0, "responses"] = [{"response_id": "r1", "text": "a"}, {"response_id": "r1", "text": "b"}]
    with pytest.raises(ValueError, match=r"it000.*'r1' appears twice"):
        RankWidget(twins, annotator="a")
    not_text = make_items(3)
    not_text.at[1, "responses"] = [{"response_id": "r1", "text": "a"}, {"response_id": "r2", "text": 5}]
    with pytest.raises(ValueError, match=r"it001.*'text'"):
        RankWidget(not_text, annotator="a", queue=["it001"])


def test_items_in_other_shapes_go_through_load_items() -> None:
    rows = [{"id": i, "question": f"q{i}", "response1": f"a{i}", "response2": f"b{i}"} for i in range(3)]
    h = Harness(RankWidget(rows, annotator="a", shuffle=False))
    assert h.w.queue_length == 3
    item = h.w.current_item
    assert item["item_id"] == "0" and item["prompt"] == "q0"
    assert [r["text"] for r in item["responses"]] == ["a0", "b0"]
    reply = h.send(h.submit_msg(0))
    assert reply is not None and reply["type"] == "ack"
    with pytest.raises(ValueError):
        RankWidget([{"id": 1, "question": "only one answer", "response1": "a"}], annotator="a")


def test_flags_config() -> None:
    w = RankWidget(make_items(), annotator="a")
    assert [f["id"] for f in w.config["flags"]] == list(DEFAULT_FLAGS)
    assert all(f["label"] and f["label"] != f["id"] for f in w.config["flags"])
    h = Harness(
        RankWidget(make_items(), annotator="a", flags=["too_long", {"id": "pii", "label": "Personal data"}])
    )
    assert h.w.config["flags"] == [
        {"id": "too_long", "label": "Too long"},
        {"id": "pii", "label": "Personal data"},
    ]
    reply = h.send(h.submit_msg(0, flags=["pii"], flag_note="phone number in answer"))
    assert reply is not None and reply["type"] == "ack"
    assert h.rows().iloc[0]["flags"] == ["pii"]
    reply = h.send(h.submit_msg(1, flags=["harmful"]))  # a default flag, not in this session
    assert reply is not None and reply["field"] == "flags"


def test_config_matches_protocol() -> None:
    w = RankWidget(
        make_items(), annotator="a", criteria=["helpfulness"], scale=7, rationale="required_if_tie"
    )
    assert set(w.config) == {
        "task",
        "criteria",
        "scale",
        "rationale",
        "max_rationale_chars",
        "flags",
        "annotator",
        "show_diff",
        "collapse_chars",
        "allow_remote_images",
        "ratings_required",
        "keymap",
        "durable",
    }
    assert w.config["criteria"] == ["helpfulness"] and w.config["scale"] == 7
    assert w.config["allow_remote_images"] is False
    assert w.queue_length == 6


def test_store_argument_forms(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.sqlite")
    w = RankWidget(make_items(), annotator="a", store=store)
    assert w.store is store
    w.close()
    assert len(store.labels()) == 0  # a store passed in is not closed by the widget
    w2 = RankWidget(make_items(), annotator="a", store=f"sqlite:///{tmp_path / 'url.sqlite'}")
    assert w2.store.path == tmp_path / "url.sqlite"


def test_missing_front_end_build_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_protocol, "STATIC_JS", tmp_path / "widget.js")
    with pytest.raises(StaticAssetsMissing, match="npm run build"):
        RankWidget(make_items(), annotator="a")
