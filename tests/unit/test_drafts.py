"""Unsaved drafts (issue 13, finding 10): the view's `draft` message is validated, kept in memory per item,
shown to a new view through the `drafts` trait, and cleared by a submit of the item. Driven through the same
entry point the browser's messages reach, with a real SQLite store."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from factories import make_items, submit_message
from rank_widget._protocol import MAX_MESSAGE_BYTES
from rank_widget.drafts import MAX_DRAFTS, DraftBook
from rank_widget.widget import RankWidget

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


def widget(tmp_path: Path, **kw: Any) -> tuple[RankWidget, list[dict[str, Any]]]:
    options: dict[str, Any] = {"annotator": "ann", "store": str(tmp_path / "d.sqlite"), "seed": 1}
    options.update(kw)
    items = options.pop("items", make_items(8))
    w = RankWidget(items, **options)
    sent: list[dict[str, Any]] = []
    w.send = lambda msg, buffers=None: sent.append(msg)  # type: ignore[method-assign]
    return w, sent


def pair_draft(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "choice": "A2",
        "ranking": [],
        "ratings": {},
        "rationale": "half-written: A is right bec",
        "flags": [],
        "flag_note": "",
        "started_at": NOW,
    }
    d.update(over)
    return d


def draft_msg(item_id: str, draft: dict[str, Any]) -> dict[str, Any]:
    return {"type": "draft", "item_id": item_id, "draft": draft}


def submit_msg(w: RankWidget, index: int, rationale: str = "") -> dict[str, Any]:
    return submit_message(
        w._payload(index),
        client_id=f"c-{index}-{rationale[:5]}",
        index=index,
        rationale=rationale,
        started_at=NOW,
        active_ms=1000,
    )


def test_a_valid_draft_is_kept_and_shown_to_a_new_view(tmp_path: Path) -> None:
    w, sent = widget(tmp_path, flags=["harmful"], criteria=["helpful"], scale=5)
    item = w.current_item
    d = pair_draft(ratings={item["display_order"][0]: {"helpful": 4}}, flags=["harmful"], flag_note="hm")
    w.handle_message(draft_msg(item["item_id"], d))
    assert sent == []  # no reply: the view waits for none
    assert w.drafts == {"item_id": item["item_id"], "draft": d}
    # What a page reload gets: the synced state of the widget carries the draft of the item at `position`.
    assert w.get_state()["drafts"] == {"item_id": item["item_id"], "draft": d}
    assert json.loads(json.dumps(w.get_state()["drafts"])) == w.drafts
    # A draft of another shown item is kept too, and shown when the widget moves there.
    other = w._payload(1)["item_id"]
    w.handle_message(draft_msg(other, pair_draft(choice="B3", rationale="other item")))
    assert w.drafts["item_id"] == item["item_id"]
    w.goto(1)
    assert w.drafts == {"item_id": other, "draft": pair_draft(choice="B3", rationale="other item")}
    w.goto(0)
    assert w.drafts["draft"]["rationale"] == "half-written: A is right bec"
    # A newer draft replaces the older one.
    w.handle_message(draft_msg(item["item_id"], pair_draft(rationale="A is right because of the base case")))
    assert w.drafts["draft"]["rationale"] == "A is right because of the base case"
    assert "draft" in set(w.history["event"])


def test_a_ranking_draft_in_progress(tmp_path: Path) -> None:
    w, _ = widget(tmp_path, items=make_items(4, k=4), task="ranking")
    item = w.current_item
    partial = [[item["display_order"][2]], [item["display_order"][0], item["display_order"][1]]]
    w.handle_message(draft_msg(item["item_id"], pair_draft(choice=None, ranking=partial)))
    assert w.drafts["draft"]["ranking"] == partial


def test_a_submit_clears_the_items_draft_and_stores_the_label(tmp_path: Path) -> None:
    w, sent = widget(tmp_path)
    iid = w.current_item["item_id"]
    w.handle_message(draft_msg(iid, pair_draft(rationale="typed")))
    w.handle_message(submit_msg(w, 0, rationale="typed, then finished"))
    assert sent[-1]["type"] == "ack", sent
    assert iid not in w._draft_book
    w.goto(0)
    assert w.drafts == {}
    assert w.labels.set_index("item_id").loc[iid, "rationale"] == "typed, then finished"
    # A rejected submit keeps the draft.
    other = w._payload(1)["item_id"]
    w.handle_message(draft_msg(other, pair_draft()))
    bad = submit_msg(w, 1)
    bad["label"]["strength"] = 7
    w.handle_message(bad)
    assert sent[-1]["type"] == "reject"
    assert other in w._draft_book


HOSTILE: list[tuple[str, dict[str, Any], str]] = [
    ("choice not on the scale", {"choice": "A9"}, "draft.choice"),
    ("choice of the wrong type", {"choice": 3}, "draft.choice"),
    ("ranking in a pairwise session", {"ranking": [["r1"]]}, "draft.ranking"),
    ("ranking not a list", {"ranking": "r1>r2"}, "draft.ranking"),
    ("rating of an unknown response", {"ratings": {"zz": {"helpful": 3}}}, "draft.ratings"),
    ("rating off the scale", {"ratings": {"r1": {"helpful": 99}}}, "draft.ratings.r1.helpful"),
    ("rating a bool", {"ratings": {"r1": {"helpful": True}}}, "draft.ratings.r1.helpful"),
    ("rating an unknown criterion", {"ratings": {"r1": {"evil": 3}}}, "draft.ratings.r1"),
    ("rationale not text", {"rationale": ["x"]}, "draft.rationale"),
    ("rationale with a lone surrogate", {"rationale": "a\ud800b"}, "draft.rationale"),
    ("unknown flag", {"flags": ["pwned"]}, "draft.flags"),
    ("flag twice", {"flags": ["harmful", "harmful"]}, "draft.flags"),
    ("flag note not text", {"flag_note": 5}, "draft.flag_note"),
    ("started_at not a time", {"started_at": "yesterday"}, "draft.started_at"),
    ("started_at huge", {"started_at": "2026" * 100}, "draft.started_at"),
    ("unknown field", {"label_id": "x"}, "draft.label_id"),
]


@pytest.mark.parametrize(("case", "over", "field"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_drafts_are_refused_and_change_nothing(
    tmp_path: Path, case: str, over: dict[str, Any], field: str
) -> None:
    w, sent = widget(tmp_path, flags=["harmful"], criteria=["helpful"], scale=5, shuffle=False)
    iid = w.current_item["item_id"]
    w.handle_message(draft_msg(iid, pair_draft(rationale="the good one")))
    before = dict(w.drafts)
    w.handle_message(draft_msg(iid, pair_draft(**over)))
    assert w.drafts == before, case
    assert sent == []  # refused silently to the view (it waits for no reply), recorded in the history
    last = w.history.iloc[-1]
    assert last["event"] == "reject" and str(last["detail"]).startswith(f"draft: {field}:"), last["detail"]


def test_drafts_for_items_never_shown_or_malformed_messages_are_refused(tmp_path: Path) -> None:
    w, sent = widget(tmp_path, items=make_items(60))
    far = w._payload(50)["item_id"]  # in the queue, but never sent to the view
    cases = [
        draft_msg(far, pair_draft()),
        draft_msg("not-an-item", pair_draft()),
        {"type": "draft", "item_id": w.current_item["item_id"]},  # no draft
        {"type": "draft", "item_id": 5, "draft": pair_draft()},
        {"type": "draft", "item_id": w.current_item["item_id"], "draft": pair_draft(), "extra": 1},
        {"type": "draft", "item_id": w.current_item["item_id"], "draft": {"choice": "A2"}},  # fields missing
        # over the envelope's size cap (256 KiB): refused before the handler
        draft_msg(w.current_item["item_id"], pair_draft(rationale="x" * MAX_MESSAGE_BYTES)),
    ]
    for msg in cases:
        w.handle_message(msg)
        assert w.drafts == {}
        assert len(w._draft_book) == 0
    assert sent == []
    rejects = w.history[w.history["event"] == "reject"]
    assert len(rejects) == len(cases)
    assert "was not shown in this widget" in rejects.iloc[0]["detail"]
    # Once the view was sent the far item, its draft is accepted.
    w.goto(50)
    w.handle_message(draft_msg(far, pair_draft()))
    assert w.drafts["item_id"] == far


def test_the_browser_cannot_set_the_drafts_trait(tmp_path: Path) -> None:
    w, _ = widget(tmp_path)
    iid = w.current_item["item_id"]
    w.handle_message(draft_msg(iid, pair_draft(rationale="mine")))
    kept = dict(w.drafts)
    # What ipywidgets does with an `update` message from the front end: set_state.
    w.set_state({"drafts": {"item_id": iid, "draft": pair_draft(rationale="<img src=x onerror=alert(1)>")}})
    assert w.drafts == kept
    w.set_state({"drafts": {"item_id": "it005", "draft": "junk"}})
    assert w.drafts == kept


def test_the_draft_book_is_bounded() -> None:
    book = DraftBook()
    for i in range(MAX_DRAFTS + 10):
        book.keep(f"i{i}", {"n": i})
    assert len(book) == MAX_DRAFTS
    assert "i0" not in book and f"i{MAX_DRAFTS + 9}" in book
    assert book.clear("i20") and not book.clear("i20")


def test_drafts_use_the_views_ids_not_the_sources(tmp_path: Path) -> None:
    """The view knows responses only by their wire ids (r1..rN, issue 13 finding 5): a draft in those ids is
    kept and restored as sent; a draft naming the source's ids (here model names) is refused."""
    items = make_items(3)
    items["responses"] = [
        [{**r, "response_id": name} for r, name in zip(rs, ["gpt-4-0613", "claude-2.1"], strict=True)]
        for rs in items["responses"]
    ]
    w, _ = widget(tmp_path, items=items, criteria=["helpful"], scale=5)
    item_id = w._payload(0)["item_id"]
    wire = list(w._payload(0)["display_order"])
    assert sorted(wire) == ["r1", "r2"]
    kept = pair_draft(ratings={wire[1]: {"helpful": 2}})
    w.handle_message(draft_msg(item_id, kept))
    assert w.drafts == {"item_id": item_id, "draft": kept}
    w.handle_message(draft_msg(item_id, pair_draft(ratings={"gpt-4-0613": {"helpful": 5}})))
    assert w.drafts == {"item_id": item_id, "draft": kept}  # refused: unchanged
    assert "gpt-4-0613" not in json.dumps(w.get_state())
