"""Blind labelling on the wire (issue 13, finding 5): no response id, model name or answer column of the items
reaches the browser, and ``metadata=`` refuses answer-like columns unless told otherwise.

In the wide shape the source's column names become the response ids (``responses=["gpt-4-0613", ...]``).
The view gets opaque ids (``r1..rN`` by position on screen) and Python maps them back, so the stored labels
keep the real ids. Every synced trait and every message the widget sends through its comm is scanned for the
names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import factories
import rank_widget as rw
from rank_widget.store import open_store
from rank_widget.widget import RankWidget

MODELS = ("gpt-4-0613", "claude-2.1")
SECRETS = (*MODELS, "JUDGE-PREFERS-A", "ANNOTATOR-BOB-SAYS-B", "secret-model-name")


def wide_items(n: int = 6) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "prompt": [f"Question {i}?" for i in range(n)],
            "gpt-4-0613": [f"first answer {i}" for i in range(n)],
            "claude-2.1": [f"second answer {i}" for i in range(n)],
            "winner": ["gpt-4-0613" if i % 2 else "claude-2.1" for i in range(n)],
            "judge_verdict": ["JUDGE-PREFERS-A"] * n,
            "annotator_bob": ["ANNOTATOR-BOB-SAYS-B"] * n,
            "category": ["claude-2.1" if i == 0 else "coding" for i in range(n)],  # a value naming a model
        }
    )
    return rw.load_items(df, responses=list(MODELS))


class Wire(factories.Wire):
    def leaks(self) -> list[str]:
        """Every secret found in the widget's whole synced state or in anything it sent."""
        text = json.dumps(self.w.get_state(), default=str) + json.dumps(self.sent, default=str)
        return [s for s in SECRETS if s in text]


def _submit(w: RankWidget, index: int, client_id: str, winner_pos: int = 0) -> dict[str, Any]:
    p = next(p for p in w.window if p["index"] == index)
    return factories.submit_message(
        p,
        client_id=client_id,
        index=index,
        minimal=True,
        winner=p["display_order"][winner_pos],
        ratings={p["display_order"][1]: {"clarity": 4}},
        guideline_version=None,
        started_at=factories.utc_now(),
        active_ms=900,
    )


def test_no_source_name_reaches_the_view_and_labels_keep_the_real_ids(tmp_path: Path) -> None:
    items = wide_items()
    path = tmp_path / "labels.sqlite"
    w = RankWidget(items, annotator="alice", store=path, seed=4, criteria=["clarity"], metadata=["category"])
    wire = Wire(w)
    assert wire.leaks() == []
    for p in w.window:
        assert p["display_order"] == ["r1", "r2"]
        assert [r["response_id"] for r in p["responses"]] == ["r1", "r2"]
    assert w.current_item["metadata"] == {}  # item 0's category names a model: left out
    w.goto(1)
    assert w.current_item["metadata"] == {"category": "coding"}
    w.goto(0)

    shown = {p["index"]: p for p in w.window}
    wire.custom(_submit(w, 0, "client-0001", winner_pos=0))
    wire.custom(_submit(w, 1, "client-0002", winner_pos=1))
    acks = wire.customs()
    assert [a["type"] for a in acks] == ["ack", "ack"], acks
    # what is stored is in the real ids: the response shown first on screen, etc.
    rows = w.store.labels()
    for (_, row), pos in zip(rows.iterrows(), (0, 1), strict=True):
        order = w._payloads.order(pos)
        shown_texts = [r["text"] for r in shown[pos]["responses"]] if pos in shown else None
        assert sorted(order) == sorted(MODELS) and row["display_order"] == order
        assert row["winner"] == order[pos]  # winner_pos 0 for item 0, 1 for item 1
        assert row["ratings"] == {order[1]: {"clarity": 4}}
        text_of = {r["response_id"]: r["text"] for r in items["responses"].iat[pos]}
        if shown_texts is not None:
            assert shown_texts == [text_of[rid] for rid in order]
    # Back to item 0: the prefill is in the view's ids too
    wire.custom({"type": "navigate", "to": 0})
    label = w.current_item["label"]
    assert label["winner"] == "r1"
    assert label["ratings"] == {"r2": {"clarity": 4}}
    # a reject names the view's ids, never the source's
    bad = _submit(w, 0, "client-0003")
    bad["label"]["ratings"] = {"r3": {"clarity": 1}}
    wire.custom(bad)
    reject = wire.customs()[-1]
    assert reject["type"] == "reject" and "r1" in reject["message"]
    assert wire.leaks() == []

    # a new session on the same store (resume): still nothing
    w2 = RankWidget(items, annotator="alice", store=path, seed=4, criteria=["clarity"])
    wire2 = Wire(w2)
    wire2.custom({"type": "navigate", "to": 1})
    assert w2.current_item["label"]["winner"] == "r2"
    assert wire2.leaks() == []


def test_source_ids_are_refused_from_the_view() -> None:
    # The view may only use the ids it was given; the real ids are as unknown to it as any other string.
    w = RankWidget(wide_items(), annotator="alice", seed=4)
    wire = Wire(w)
    msg = _submit(w, 0, "client-0001")
    msg["label"]["winner"] = w._payloads.order(0)[0]
    wire.custom(msg)
    reply = wire.customs()[-1]
    assert reply["type"] == "reject" and reply["field"] == "winner"
    assert w.store.labels().empty
    assert wire.leaks() == []


@pytest.mark.parametrize(
    "column",
    [
        "winner",
        "judge_verdict",
        "annotator_bob",
        "chosen",
        "rejected",
        "label",
        "preference",
        "score_a",
        "rating",
        "model_b",
        "gpt4_score",
        "Winner",
    ],
)
def test_metadata_refuses_answer_like_columns(column: str) -> None:
    items = wide_items(2)
    items[column] = "x"
    with pytest.raises(ValueError, match="allow_answer_columns=True"):
        RankWidget(items, annotator="a", metadata=["category", column])
    w = RankWidget(items, annotator="a", metadata=[column], allow_answer_columns=True)
    assert w.current_item["metadata"] == {column: "x"}


def test_metadata_override_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="allow_answer_columns"):
        RankWidget(wide_items(2), annotator="a", allow_answer_columns="yes")
    with open_store(":memory:") as s:
        assert s.labels().empty


# -- AuditWidget ---------------------------------------------------------------------------------------------


def test_audit_view_gets_opaque_ids_and_adjudications_keep_the_real_ones(tmp_path: Path) -> None:
    items = wide_items(4)
    path = tmp_path / "labels.sqlite"
    for who, pos in (("alice", 0), ("bob", 1), ("cat", 0)):
        w = RankWidget(items, annotator=who, store=path, seed=4, criteria=["clarity"])
        wire = Wire(w)
        for i in range(4):
            wire.custom({"type": "navigate", "to": i})
            wire.custom(_submit(w, i, f"{who}-client-{i}", winner_pos=pos))
        assert len(w.labels) == 4
    audit = rw.AuditWidget(items, path, adjudicator="lead")
    wire = Wire(audit)
    for row in audit.rows:
        assert set(row["outcomes"]) <= {"r1", "r2", "tie"}, row
    item_id = audit.rows[0]["item_id"]
    wire.custom({"type": "open", "client_id": "open-00001", "item_id": item_id})
    d = audit.detail
    assert [r["response_id"] for r in d["responses"]] == ["r1", "r2"]
    assert {lab["winner"] for lab in d["labels"]} <= {"r1", "r2", "tie"}
    assert all(sorted(lab["display_order"]) == ["r1", "r2"] for lab in d["labels"])
    assert all(set(lab["ratings"]) <= {"r1", "r2"} for lab in d["labels"])
    assert d["majority"]["ranking"] in ([["r1"], ["r2"]], [["r2"], ["r1"]])
    # an adjudication in wire ids is stored in the real ids
    wire.custom(
        {
            "type": "adjudicate",
            "client_id": "adj-client-01",
            "item_id": item_id,
            "ranking": [["r2"], ["r1"]],
            "strength": 2,
            "rationale": "second is better",
        }
    )
    replies = wire.customs()
    assert replies[-1]["type"] == "ack", replies
    adj = audit.adjudications.iloc[-1]
    rids = audit._index.response_ids(item_id)
    assert adj["winner"] == rids[1] and adj["ranking"] == [[rids[1]], [rids[0]]] and rids[1] in MODELS
    # a wrong id is refused naming the view's ids only
    wire.custom(
        {
            "type": "adjudicate",
            "client_id": "adj-client-02",
            "item_id": item_id,
            "ranking": [["r2"], ["r9"]],
            "strength": 2,
            "rationale": "x",
        }
    )
    reject = wire.customs()[-1]
    assert reject["type"] == "reject" and reject["field"] == "ranking", reject
    assert wire.leaks() == []
    # Python gets the real ids: open_item's payload feeds adjudicate directly
    other = audit.rows[1]["item_id"]
    real = audit.open_item(other)
    assert sorted(r["response_id"] for r in real["responses"]) == sorted(MODELS)
    assert [r["response_id"] for r in audit.detail["responses"]] == ["r1", "r2"]  # what the view got
    audit.adjudicate(other, real["majority"]["ranking"], "majority is right", strength=2)
    assert audit.adjudications.iloc[-1]["ranking"] == real["majority"]["ranking"]
    assert wire.leaks() == []
