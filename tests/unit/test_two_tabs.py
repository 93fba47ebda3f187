"""Two tabs of one annotator (issue 13, finding 9): two widgets (as two kernels would have) of the same
annotator on one SQLite file. The last save wins in the store; going back to an item shows the newest save,
whichever tab made it, and the progress counts follow."""

from __future__ import annotations

from pathlib import Path

from test_widget import Harness

from factories import make_items
from rank_widget.widget import RankWidget


def test_back_shows_the_other_tabs_newer_save(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    items = make_items(8)
    one = Harness(RankWidget(items, annotator="alice", store=path, seed=1))
    two = Harness(RankWidget(items, annotator="alice", store=path, seed=1))
    two._n = 1000  # each view makes its own client ids (UUIDs): keep the two harnesses' ids apart

    first = one.submit_msg(0, rationale="tab one")
    assert one.send(first)["type"] == "ack"  # type: ignore[index]
    assert one.w.position == 1
    # tab two, opened before, labels the same item differently: revision 2 supersedes tab one's
    second = two.submit_msg(0, winner=two.item(0)["display_order"][1], strength=3, rationale="tab two")
    assert two.send(second)["type"] == "ack"  # type: ignore[index]
    stored = one.rows()
    assert list(stored["revision"]) == [1, 2] and stored["rationale"].iat[-1] == "tab two"

    # tab one goes Back: the item shows tab two's label, not its own outdated one
    one.send({"type": "navigate", "to": 0})
    label = one.w.current_item["label"]
    assert label["rationale"] == "tab two" and label["revision"] == 2 and label["strength"] == 3
    sent = [p for p in one.w.window if p["index"] == 0]
    assert sent and sent[0]["label"]["rationale"] == "tab two"  # what the view was sent

    # a label tab two made on an item tab one has not labelled counts in tab one's progress once seen
    two.send({"type": "navigate", "to": 3})
    assert two.send(two.submit_msg(3, rationale="only in tab two"))["type"] == "ack"  # type: ignore[index]
    assert one.w.progress["done"] == 1
    one.send({"type": "navigate", "to": 3})
    assert one.w.current_item["label"]["rationale"] == "only in tab two"
    assert one.w.progress["done"] == 2
    # and re-labelling from tab one supersedes the newest revision
    again = one.submit_msg(3, rationale="tab one again")
    assert one.send(again)["type"] == "ack"  # type: ignore[index]
    rows = one.rows()
    last = rows[rows["item_id"] == "it003"].iloc[-1]
    assert last["revision"] == 2 and last["rationale"] == "tab one again"
    assert one.w.progress["done"] == 2
