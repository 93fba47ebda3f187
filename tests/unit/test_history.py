"""Issue 14 findings 6 and 8, Python side: undo as a withdrawn revision, the session history, the submit's
`next` (return to where you were), review notes (re-queue reasons, comments on labels) and their messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import factories
from rank_widget import RankWidget
from rank_widget.audit import AuditWidget
from rank_widget.keymap import resolve_keymap
from rank_widget.store import open_store
from rank_widget.store import queues as queue_mod
from rank_widget.store.comments import MAX_COMMENT_CHARS
from rank_widget.store.tables import STORE_SCHEMA_VERSION


def pair_items(n: int = 6) -> list[dict[str, Any]]:
    return [
        {
            "item_id": f"i{k}",
            "prompt": f"question {k}",
            "responses": [
                {"response_id": f"x{k}", "text": "X", "model": "m1"},
                {"response_id": f"y{k}", "text": "Y", "model": "m2"},
            ],
        }
        for k in range(n)
    ]


class Session:
    """A RankWidget whose view is this test: messages in, replies recorded."""

    def __init__(self, store: Any, annotator: str = "ann", prefix: str = "c") -> None:
        self.prefix = prefix
        self.w = RankWidget(pair_items(), annotator=annotator, store=store, seed=3)
        self.sent: list[dict[str, Any]] = []
        self.w.send = lambda msg, *a, **k: self.sent.append(msg)  # type: ignore[method-assign]
        self.n = 0

    def msg(self, **content: Any) -> dict[str, Any]:
        before = len(self.sent)
        self.w.handle_message(content)
        return self.sent[-1] if len(self.sent) > before else {}

    def submit(self, index: int, status: str = "submitted", **extra: Any) -> dict[str, Any]:
        p = self.w._payload(index)
        self.n += 1
        label = {
            "status": status,
            "winner": p["display_order"][1] if status == "submitted" else None,
            "strength": 3 if status == "submitted" else None,
            "display_order": p["display_order"],
            "guideline_version": None,
            "started_at": None,
            "active_ms": None,
        }
        return self.msg(
            type="submit",
            client_id=f"{self.prefix}{self.n}",
            item_id=p["item_id"],
            index=index,
            label=label,
            **extra,
        )


@pytest.fixture
def s(tmp_path: Path) -> Session:
    return Session(str(tmp_path / "s.sqlite"))


def test_undo_appends_a_withdrawn_revision_and_keeps_every_row(s: Session) -> None:
    assert s.submit(0)["type"] == "ack"
    assert s.submit(1, "skipped")["type"] == "ack"
    assert s.w.position == 2
    reply = s.msg(type="undo", client_id="u1", label_id="c2")
    assert reply == {
        "type": "ack",
        "of": "undo",
        "client_id": "u1",
        "item_id": "i1",
        "label_id": "u1",
        "revision": 2,
        "detail": "c2",
    }
    assert s.w.position == 1  # back to the undone item
    rows = s.w.store.labels()
    assert list(rows["label_id"]) == ["c1", "c2", "u1"]  # nothing deleted
    undo = rows.iloc[2]
    assert undo["status"] == "withdrawn" and undo["supersedes"] == "c2" and undo["revision"] == 2
    assert undo["winner"] is None and undo["ranking"] is None and undo["ratings"] is None
    # The latest view (w.labels) shows the state after the undo: i1's current label is the withdrawal.
    current = s.w.labels.set_index("item_id")
    assert current.loc["i1", "status"] == "withdrawn" and current.loc["i0", "status"] == "submitted"
    assert s.w.progress["done"] == 1 and s.w.progress["skipped"] == 0
    # The item is labelled again as revision 3, and the session's next undo goes to the newest label.
    assert s.submit(1)["revision"] == 3
    assert s.msg(type="undo", client_id="u2", label_id=None)["detail"] == "c3"
    assert (
        s.msg(type="undo", client_id="u3", label_id=None)["detail"] == "c1"
    )  # the superseded c2 passed over
    reply = s.msg(type="undo", client_id="u4", label_id=None)
    assert reply["type"] == "reject" and "nothing to undo" in reply["message"]
    assert set(s.w.labels["status"]) == {"withdrawn"}


def test_a_withdrawn_item_is_not_done_on_resume(tmp_path: Path) -> None:
    path = str(tmp_path / "r.sqlite")
    a = Session(path)
    a.submit(0)
    a.submit(1)
    a.msg(type="undo", client_id="u", label_id="c2")
    b = Session(path)
    assert b.w.position == 1 and b.w.progress["done"] == 1
    assert b.w.current_item["label"]["status"] == "withdrawn"


@pytest.mark.parametrize(
    ("content", "field", "says"),
    [
        ({"label_id": "c1"}, "label_id", "not this session's last label"),
        ({"label_id": "nope"}, "label_id", "not this session's last label"),
        ({"label_id": 7}, "label_id", "must be null or a label id"),
        ({"label_id": "x" * 300}, "label_id", "must be null or a label id"),
        ({"label_id": None, "item_id": "i0"}, "item_id", "is not a field of an undo message"),
    ],
)
def test_undo_messages_are_checked_against_the_session(
    s: Session, content: dict, field: str, says: str
) -> None:
    s.submit(0)
    s.submit(1)
    reply = s.msg(type="undo", client_id="u", **content)
    assert reply["type"] == "reject" and reply["field"] == field and says in reply["message"], reply
    assert len(s.w.store.labels()) == 2  # nothing stored


def test_undo_only_this_sessions_own_labels(tmp_path: Path) -> None:
    path = str(tmp_path / "o.sqlite")
    first = Session(path)
    first.submit(0)
    later = Session(path)  # the same annotator, a new session: c1 is not in its log
    reply = later.msg(type="undo", client_id="u", label_id="c1")
    assert reply["type"] == "reject" and "nothing to undo" in reply["message"]
    with pytest.raises(LookupError):
        later.w.undo()
    # an undo of a label another session has since replaced is refused too
    other = Session(path, prefix="o")
    other.submit(0)
    assert first.msg(type="undo", client_id="u2", label_id="c1")["type"] == "reject"


def test_the_browser_cannot_submit_a_withdrawal(s: Session) -> None:
    reply = s.submit(0, "withdrawn")
    assert reply["type"] == "reject" and reply["field"] == "status"
    assert len(s.w.store.labels()) == 0


def test_submit_next_returns_to_where_the_labeler_was(s: Session) -> None:
    for i in range(4):
        s.submit(i)
    s.w.goto(1)
    assert s.submit(1, next=4)["type"] == "ack"
    assert s.w.position == 4  # not 2
    s.w.goto(0)
    for bad in (0, -1, 99, True, "4"):
        reply = s.submit(0, next=bad)
        assert reply["type"] == "reject" and reply["field"] == "next", (bad, reply)
    assert s.submit(0, next=6)["type"] == "ack"  # 6 = the queue's length: all done (Python parks at the last)
    assert s.w.position == 5


def test_history_message_lists_the_session_newest_first(s: Session) -> None:
    s.submit(0)
    s.submit(1, "skipped")
    s.msg(type="undo", client_id="u", label_id=None)
    reply = s.msg(type="history")
    assert reply["type"] == "history"
    entries = reply["entries"]
    assert [(e["item_id"], e["state"], e["current"]) for e in entries] == [
        ("i1", "undone", False),
        ("i0", "saved", True),
    ]
    order = s.w._payloads.order(0)
    assert entries[1]["summary"] == ("B much better" if order[1] == "y0" else "A much better")
    assert s.msg(type="history", extra=1) == {}  # refused (no reply: the view waits for none), only recorded
    assert s.w.history["event"].iloc[-1] == "reject" and "extra" in s.w.history["detail"].iloc[-1]


def test_keymap_has_undo_and_history_and_refuses_conflicts() -> None:
    km = resolve_keymap(None)
    assert km["undo"] == ["z", "Ctrl+z", "Meta+z"] and km["history"] == ["h"]
    with pytest.raises(ValueError, match="'z' is bound to both 'skip' and 'undo'"):
        resolve_keymap({"skip": "z"})
    assert resolve_keymap({"undo": "Ctrl+u"})["undo"] == ["Ctrl+u"]


def test_comments_on_labels(store_target: str) -> None:
    store = open_store(store_target)
    s = Session(store)
    s.submit(0)
    with pytest.raises(ValueError, match="is not in"):
        store.comment("nope", "text", by="lead")
    for text, says in [
        ("   ", "empty"),
        ("x" * (MAX_COMMENT_CHARS + 1), "the limit is 2000"),
        ("bad\x00nul", "control character"),
        (7, "must be a string"),
    ]:
        with pytest.raises(ValueError, match=says):
            store.comment("c1", text, by="lead")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="by must be a name"):
        store.comment("c1", "fine", by="")
    cid = store.comment("c1", "  Why B? <script>alert(1)</script>\nSee guideline 3  ", by="lead")
    frame = store.comments(annotator="ann")
    assert list(frame["comment_id"]) == [cid]
    row = frame.iloc[0]
    assert row["text"] == "Why B? <script>alert(1)</script>\nSee guideline 3"  # stored as given, trimmed
    assert (row["label_id"], row["item_id"], row["annotator"], row["author"]) == ("c1", "i0", "ann", "lead")
    assert row["read_at"] is None
    assert store.comments(item_ids=["i5"]).empty and len(store.comments(label_id="c1")) == 1
    with pytest.raises(ValueError, match="not a comment on 'eve'"):
        store.mark_comment_read(cid, "eve")
    assert store.mark_comment_read(cid, "ann") is True
    assert store.mark_comment_read(cid, "ann") is False
    assert store.comments()["read_at"].iloc[0] is not None


def test_the_annotator_sees_the_reason_and_the_comment_on_the_item(store_target: str) -> None:
    store = open_store(store_target)
    a = Session(store)
    a.submit(0)
    a.submit(1)
    queue_mod.requeue(
        store, ["i0"], queue="round2", reason="split on safety", added_by="lead", annotator="ann"
    )
    queue_mod.requeue(
        store, ["i1"], queue="round2", reason="for someone else", added_by="lead", annotator="eve"
    )
    cid = store.comment("c1", "Check the <b>second</b> answer", by="lead")
    b = Session(store, prefix="b")
    notes = b.w.current_item  # resumes at i2: no notes
    assert "notes" not in notes
    b.w.goto("i0")
    notes = b.w.current_item["notes"]
    assert [(n["kind"], n["text"], n["by"]) for n in notes] == [
        ("requeue", "split on safety", "lead"),
        ("comment", "Check the <b>second</b> answer", "lead"),
    ]
    assert notes[1]["id"] == cid and notes[1]["read"] is False
    b.w.goto("i1")
    assert "notes" not in b.w.current_item  # eve's re-queue is not for ann
    # A comment added while the session runs shows when the item is opened again.
    store.comment("c2", "and this one", by="lead")
    b.w.goto("i0")
    b.w.goto("i1")
    assert [n["text"] for n in b.w.current_item["notes"]] == ["and this one"]
    # Marking read: only comments on items shown, only this annotator's; an unknown id changes nothing.
    b.msg(type="note_read", comment_id=cid)
    assert store.comments(label_id="c1")["read_at"].iloc[0] is not None
    b.w.goto("i0")
    assert b.w.current_item["notes"][1]["read"] is True
    b.msg(type="note_read", comment_id="nope")
    assert b.w.history["event"].iloc[-1] == "reject"


def test_audit_widget_comments_on_a_label(tmp_path: Path) -> None:
    path = str(tmp_path / "a.sqlite")
    s = Session(path)
    s.submit(0)
    aw = AuditWidget(pair_items(), path, adjudicator="lead")
    sent: list[dict[str, Any]] = []
    aw.send = lambda msg, *a, **k: sent.append(msg)  # type: ignore[method-assign]
    aw.handle_message({"type": "comment", "client_id": "k1", "label_id": "c1", "text": "please re-check"})
    assert sent[-1]["type"] == "ack", sent[-1]
    aw.handle_message({"type": "comment", "client_id": "k2", "label_id": "zz", "text": "x"})
    assert sent[-1]["type"] == "reject" and sent[-1]["field"] == "label_id"
    aw.handle_message({"type": "comment", "client_id": "k3", "label_id": "c1", "text": ""})
    assert sent[-1]["type"] == "reject" and sent[-1]["field"] == "text"
    assert list(open_store(path).comments()["text"]) == ["please re-check"]
    with pytest.raises(ValueError, match="not one of this widget's labels"):
        aw.comment("nope", "x")


def test_store_schema_has_the_comments_migration(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "m.sqlite"))
    with store.db.read() as conn:
        from sqlalchemy import inspect

        assert "label_comments" in inspect(conn).get_table_names()
    assert STORE_SCHEMA_VERSION >= 4


def test_undo_in_a_ranking_session(tmp_path: Path) -> None:
    items = [
        {
            "item_id": f"k{i}",
            "prompt": "p",
            "responses": [{"response_id": f"k{i}-{c}", "text": c, "model": c} for c in "abc"],
        }
        for i in range(3)
    ]
    w = RankWidget(items, annotator="ann", store=str(tmp_path / "k.sqlite"), seed=1)
    sent: list[dict[str, Any]] = []
    w.send = lambda msg, *a, **k: sent.append(msg)  # type: ignore[method-assign]
    p = w.current_item
    order = p["display_order"]
    w.handle_message(
        factories.submit_message(
            p,
            client_id="r1",
            index=0,
            minimal=True,
            ranking=[[order[2]], [order[0], order[1]]],
            winner=...,
            strength=...,
            display_order=order,
            guideline_version=None,
            started_at=None,
            active_ms=None,
        )
    )
    assert sent[-1]["type"] == "ack"
    assert w.progress["store_done"] == 1
    record = w.undo()
    assert record["status"] == "withdrawn" and record["ranking"] is None and record["revision"] == 2
    assert w.position == 0 and w.progress["done"] == 0 and w.progress["store_done"] == 0
    assert w.labels["status"].tolist() == ["withdrawn"]
    w.handle_message({"type": "history"})
    assert sent[-1]["entries"][0]["state"] == "undone" and " > " in sent[-1]["entries"][0]["summary"]


@pytest.mark.postgres
def test_comments_under_access_control(pg_url: str) -> None:
    """team.setup: a lead comments as themselves; an annotator reads and marks read only comments on their
    own labels, and cannot write or edit comments (docs/security.md)."""
    from rank_widget.store import AccessDenied

    url = factories.team_urls(pg_url, ["hist_ann", "hist_other"], ["hist_lead"])
    ann = Session(open_store(url["hist_ann"]), annotator="hist_ann")
    ann.submit(0)
    other = Session(open_store(url["hist_other"]), annotator="hist_other", prefix="o")
    other.submit(0)
    lead = open_store(url["hist_lead"])
    mine = lead.comment("c1", "re-check item 0", by="hist_lead")
    lead.comment("o1", "for the other annotator", by="hist_lead")
    with pytest.raises((AccessDenied, Exception), match=r"row-level security|permission denied"):
        lead.comment("c1", "forged author", by="hist_ann")
    assert len(lead.comments()) == 2
    store = open_store(url["hist_ann"])
    seen = store.comments()
    assert list(seen["comment_id"]) == [mine]  # only comments on their own labels
    with pytest.raises((AccessDenied, Exception), match="permission denied"):
        store.comment("c1", "self-praise", by="hist_ann")
    assert store.mark_comment_read(mine, "hist_ann") is True
    # The annotator's widget on the access-controlled store shows the note and marks it read.
    w = Session(store, annotator="hist_ann", prefix="w")
    w.w.goto("i0")
    assert [n["text"] for n in w.w.current_item["notes"]] == ["re-check item 0"]
