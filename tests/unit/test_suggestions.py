"""RankWidget(suggestions=judge, reveal=...): with reveal="after" the judge's verdict is not on the wire until
the person's label is stored and acknowledged; with "before" it comes with the item; the mode is recorded with
every label (a ``suggestion`` note)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import rank_widget as rw
from factories import make_items, submit_message
from rank_widget.store import open_store
from rank_widget.store.notes import read_notes
from rank_widget.widget import RankWidget

SECRET = "JUDGE-SAYS-B-BECAUSE-42"


def judge(prompt: Any, responses: list[str]) -> str:
    return f"{SECRET} [[B]]"


def submit(w: RankWidget, n: int) -> dict[str, Any]:
    p = next(x for x in w.window if x["index"] == w.position)
    return submit_message(
        p, client_id=f"c{n}", index=p["index"], started_at="2026-01-05T09:00:00Z", active_ms=1000
    )


def widget(tmp_path: Path, reveal: str) -> tuple[RankWidget, list[tuple[str, Any]]]:
    items = make_items(4)
    store = open_store(tmp_path / "s.sqlite")
    rw.run_judge(items, judge, name="gpt", store=store, both_orders=False, progress=False)
    w = RankWidget(items, store=store, annotator="alice", suggestions="gpt", reveal=reveal, seed=1)
    events: list[tuple[str, Any]] = []

    def capture(msg: dict[str, Any], buffers: Any = None) -> None:
        events.append(("send", msg))

    w.send = capture  # type: ignore[method-assign]
    w.observe(lambda ch: events.append(("suggestion", ch["new"])), names="suggestion")
    return w, events


def on_the_wire(w: RankWidget, events: list[tuple[str, Any]]) -> str:
    """Everything the view could have seen: the synced state and every message sent."""
    return json.dumps(w.get_state(), default=str) + json.dumps([e[1] for e in events], default=str)


def test_after_reveals_only_once_the_label_is_stored(tmp_path: Path) -> None:
    w, events = widget(tmp_path, "after")
    assert w.suggestion == {} and SECRET not in on_the_wire(w, events)
    first = w.current_item["item_id"]
    w.handle_message({"type": "navigate", "to": 1})
    w.handle_message({"type": "navigate", "to": 0})
    assert SECRET not in on_the_wire(w, events)  # browsing shows nothing
    w.handle_message(submit(w, 1))
    kinds = [(k, v.get("type") if k == "send" else v.get("item_id")) for k, v in events]
    ack = kinds.index(("send", "ack"))
    shown = kinds.index(("suggestion", first))
    assert ack < shown  # revealed after the ack, never before
    assert SECRET in w.suggestion["rationale"] and w.suggestion["judge"] == "gpt"
    assert w.suggestion["winner"] in ("r1", "r2") and "model" not in json.dumps(w.suggestion)
    notes = read_notes(w.store, "suggestion")
    assert list(notes["status"]) == ["after"] and notes["label_id"].iloc[0] == "c1"
    assert notes["data"].iloc[0] == {"judge": "gpt", "reveal": "after", "judge_had_verdict": True}


def test_before_sends_the_verdict_with_the_item(tmp_path: Path) -> None:
    w, _events = widget(tmp_path, "before")
    assert w.suggestion["item_id"] == w.current_item["item_id"] and SECRET in w.suggestion["rationale"]
    w.handle_message({"type": "navigate", "to": 2})
    assert w.suggestion["item_id"] == w.current_item["item_id"]
    w.handle_message(submit(w, 1))
    assert list(read_notes(w.store, "suggestion")["status"]) == ["before"]


def test_bad_settings_are_clear_errors(tmp_path: Path) -> None:
    items = make_items(2)
    with pytest.raises(ValueError, match="reveal must be one of"):
        RankWidget(items, suggestions="gpt", reveal="during")
    with pytest.raises(ValueError, match="suggestions must be"):
        RankWidget(items, suggestions=3)  # type: ignore[arg-type]
    w = RankWidget(items, annotator="a")
    assert w.suggestion == {}
