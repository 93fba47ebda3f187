"""Training mode (issue 11): ``RankWidget(..., qualification=)`` serves the qualification items with feedback
after each stored label, refuses the next submit until the feedback is read, scores the attempt, and the
gold answer / explanation of an item is on the wire only after that item's label is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import factories
from rank_widget.store import open_store
from rank_widget.store.qualification import NotQualified
from rank_widget.widget import RankWidget

N_QUAL = 3


def _secret(i: int) -> str:
    return f"EXPLAIN-SECRET-{i}"


def qual_items() -> pd.DataFrame:
    return factories.make_items(
        N_QUAL,
        prefix="q",
        gold=lambda i: "r2" if i == 1 else "r1",
        explanation=lambda i: f"{_secret(i)}: the rule that decides item {i}",
    )


def prod_items() -> pd.DataFrame:
    return factories.make_items(6, prefix="p", gold=None)


def _submit(w: RankWidget, index: int, client_id: str, winner: str) -> dict[str, Any]:
    """A submit for the item at ``index`` whose winner is the response with REAL id ``winner``."""
    p = next(p for p in w.window if p["index"] == index)
    wire = {real: f"r{k + 1}" for k, real in enumerate(w._payloads.order(index))}
    return factories.submit_message(
        p,
        client_id=client_id,
        index=index,
        minimal=True,
        winner=wire[winner],
        guideline_version=None,
        started_at=factories.utc_now(),
        active_ms=900,
    )


def _setup(path: Path | str) -> None:
    with open_store(path) as s:
        s.register_qualification("q-v1", qual_items(), pass_mark=1.0, max_attempts=2)
        s.register_items("prod", prod_items()["item_id"].tolist(), overlap=2)
        s.require_qualification("prod", "q-v1")


def _answer_all(w: RankWidget, wire: factories.Wire, winners: list[str], tag: str) -> None:
    for i, winner in enumerate(winners):
        wire.custom(_submit(w, i, f"{tag}-{i}", winner))
        assert wire.customs()[-1]["type"] == "ack", wire.customs()[-1]
        wire.custom({"type": "feedback_read", "item_id": f"q{i:03d}"})


def test_fail_with_feedback_retry_pass_then_production(store_target: str) -> None:
    path = store_target  # a SQLite file, then a PostgreSQL database
    _setup(path)
    w = RankWidget(prod_items(), annotator="ann", store=path, dataset="prod", qualification="q-v1", seed=1)
    wire = factories.Wire(w)
    assert w._queue.ids == ["q000", "q001", "q002"] and w.queue_length == N_QUAL
    assert "gold" not in w.items.columns and "explanation" not in w.items.columns
    assert w.training["feedback"] is None and w.training["attempt"] == 1
    initial = json.dumps(w.get_state(), default=str)
    assert not any(_secret(i) in initial for i in range(N_QUAL))

    wire.custom(_submit(w, 0, "c-0", "r2"))  # wrong: gold is r1
    fb = w.training["feedback"]
    assert fb["item_id"] == "q000" and fb["matched"] is False
    assert fb["explanation"].startswith(_secret(0))
    letter = "AB"[w._payloads.order(0).index("r1")]
    assert fb["expected"] == f"Response {letter} is better"  # the gold, in the labeler's terms
    assert w.store.labels()["item_id"].tolist() == ["q000"]  # stored before any feedback
    # the next submit waits until the feedback is read; the reject changes nothing
    wire.custom(_submit(w, 1, "c-1", "r2"))
    assert wire.customs()[-1]["type"] == "reject" and "read the feedback" in wire.customs()[-1]["message"]
    assert len(w.store.labels()) == 1
    wire.custom({"type": "feedback_read", "item_id": "q001", "client_id": "r-1"})  # not the one on screen
    assert wire.customs()[-1]["type"] == "reject" and wire.customs()[-1]["field"] == "item_id"
    wire.custom({"type": "feedback_read", "item_id": "q000", "client_id": "r-2", "extra": 1})
    assert wire.customs()[-1]["field"] == "extra"
    wire.custom({"type": "feedback_read", "item_id": "q000"})
    assert w.training["feedback"] is None
    w.set_state({"training": {"feedback": None, "result": {"passed": True}}})  # the browser cannot set it
    assert w.training["result"] is None
    wire.custom(_submit(w, 1, "c-1b", "r2"))
    wire.custom({"type": "feedback_read", "item_id": "q001"})
    wire.custom(_submit(w, 2, "c-2", "r1"))
    assert w.training["result"] is None  # the last feedback first
    wire.custom({"type": "feedback_read", "item_id": "q002"})
    result = w.training["result"]
    assert result["passed"] is False and result["score"] == pytest.approx(2 / 3)
    assert result["review"] == [{"position": 0, "explanation": f"{_secret(0)}: the rule that decides item 0"}]
    assert {r["criterion"]: r["matched"] for r in result["breakdown"]} == {"winner": 2, "overall": 2}
    assert result["attempts_left"] == 1 and "You may retry now" in result["message"]
    assert w.qualification_result is not None and not w.qualification_result.passed

    # on the wire: each explanation only after the ack of its item's label (the ack follows the commit)
    for i in range(N_QUAL):
        acked = next(
            k
            for k, m in enumerate(wire.sent)
            if m.get("content", {}).get("item_id") == f"q{i:03d}"
            and m.get("content", {}).get("type") == "ack"
        )
        first = wire.first_with(_secret(i))
        assert first is not None and first > acked, (i, first, acked)

    # the production queue still refuses; a retry is a new attempt with none of the old answers prefilled
    with pytest.raises(NotQualified, match="requires qualification 'q-v1'; 'ann' did not pass it"):
        w.store.claim_next("prod", "ann")
    w2 = RankWidget(prod_items(), annotator="ann", store=path, dataset="prod", qualification="q-v1", seed=1)
    wire2 = factories.Wire(w2)
    assert w2.training["attempt"] == 2 and w2.position == 0 and w2.current_item["label"] is None
    _answer_all(w2, wire2, ["r1", "r2", "r1"], "d")
    assert w2.training["result"]["passed"] is True
    assert "Production labelling is unlocked" in w2.training["result"]["message"]

    w3 = RankWidget(prod_items(), annotator="ann", store=path, dataset="prod", qualification="q-v1", seed=1)
    assert w3._training is None and w3.training == {}
    assert w3._queue.ids[0].startswith("p")  # a production item, leased from the team queue
    assert not w3.store.leases("prod", "ann").empty


def test_requalify_on_a_guideline_version(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    _setup(path)
    with open_store(path) as s:
        s.grant_qualification("q-v1", "ann", reason="trained in person", by="lead")
    guides = [
        {"version": "v1", "markdown": "Prefer correct answers."},
        {"version": "v2", "markdown": "Prefer correct, then concise.", "from_item": 3, "requalify": True},
    ]
    w = RankWidget(prod_items(), annotator="ann", store=path, dataset="prod", guidelines=guides, seed=1)
    assert w._training is not None and w._training.name == "q-v1"  # the dataset's qualification, again
    assert w.guidelines["version"] == "v2"  # training uses the newest guidelines
    events = w.store.qualification_events("q-v1")
    assert events["event"].tolist() == ["granted", "requalify"] and events["detail"].tolist()[-1] == "v2"
    w2 = RankWidget(prod_items(), annotator="bo", store=path, dataset="prod", guidelines=guides, seed=1)
    assert w2._training is not None  # asked once per version: no second requalify event
    assert len(w2.store.qualification_events("q-v1")) == 2
    with pytest.raises(TypeError, match="field 'requalify' must be True or False"):
        RankWidget(
            prod_items(),
            annotator="cy",
            store=path,
            guidelines={"version": "v", "markdown": "m", "requalify": 1},
        )


def test_no_attempt_left_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    with open_store(path) as s:
        s.register_qualification("q-v1", qual_items(), max_attempts=1, pass_mark=1.0)
    w = RankWidget(prod_items(), annotator="ann", store=path, qualification="q-v1", seed=1)
    _answer_all(w, factories.Wire(w), ["r2", "r2", "r2"], "x")
    assert w.training["result"]["passed"] is False and "No attempts left" in w.training["result"]["message"]
    with pytest.raises(NotQualified, match="has used all 1 attempts"):
        RankWidget(prod_items(), annotator="ann", store=path, qualification="q-v1")
    with pytest.raises(ValueError, match="no qualification 'q-v9'"):
        RankWidget(prod_items(), annotator="ann", store=path, qualification="q-v9")


def test_feedback_read_outside_training_is_refused() -> None:
    w = RankWidget(prod_items(), annotator="ann", seed=1)
    wire = factories.Wire(w)
    wire.custom({"type": "feedback_read", "item_id": "p000", "client_id": "c"})
    assert wire.customs()[-1]["type"] == "reject" and "not training" in wire.customs()[-1]["message"]
