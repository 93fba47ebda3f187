"""Calibration rounds (issue 11): the same small set for everyone, the team's answers after each stored label,
and the lead's report: agreement (existing metrics) and who deviated most."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

import factories
from rank_widget import calibration
from rank_widget.store import open_store
from rank_widget.widget import RankWidget

ITEMS = factories.make_items(4, prefix="c", gold=None)


def _vote(store: Any, who: str, item: str, winner: str, source: str = "widget") -> None:
    factories.append_verdict(
        store,
        f"{who}:{item}:{source}:{uuid.uuid4().hex[:8]}",
        item,
        who,
        winner,
        source=source,
        submitted_at=datetime.now(timezone.utc).isoformat(),
    )


def test_round_report_agreement_and_most_deviant(store_target: str) -> None:
    with open_store(store_target) as s:
        _vote(s, "ann", "c000", "r2")  # before the round: not part of it
        queue = calibration.start_round(s, "r1", ITEMS["item_id"].tolist(), by="lead")
        assert queue == "calibration-r1"
        for item in ITEMS["item_id"]:
            _vote(s, "ann", item, "r1")
            _vote(s, "bo", item, "r1")
            _vote(s, "cy", item, "r2")  # always against the other two
        report = calibration.round_report(s, "r1")
        assert report["annotators"] == ["ann", "bo", "cy"] and report["items"] == 4
        dev = report["deviation"].set_index("annotator")
        # leave-one-out: the others of cy say (r1, r1): cy never matches. The others of ann say (r1, r2), a
        # split with no majority: not scored (NaN), the same for bo.
        assert report["most_deviant"] == "cy" and dev.loc["cy", "deviation"] == 1.0
        assert dev.loc["cy", "n_votes"] == 4
        pa = report["agreement"].set_index("metric").loc["percent_agreement", "value"]
        assert pa == pytest.approx(1 / 3)  # per item 3 annotator pairs, 1 agreeing (ann-bo)
        with pytest.raises(ValueError, match="no calibration round 'nope'"):
            calibration.round_report(s, "nope")


def test_widget_shows_the_team_after_the_stored_label(tmp_path: Any) -> None:
    path = tmp_path / "s.sqlite"
    with open_store(path) as s:
        calibration.start_round(s, "r1", ITEMS["item_id"].tolist(), by="lead")
        _vote(s, "ann", "c000", "r1")
        _vote(s, "bo", "c000", "r1")
        _vote(s, "lead", "c000", "r2", source="adjudication")
    w = RankWidget(ITEMS, annotator="dee", store=path, queue="calibration-r1", seed=3)
    assert w.training["kind"] == "calibration" and w.training["feedback"] is None
    p = next(p for p in w.window if p["index"] == 0)
    order = w._payloads.order(0)
    assert p["item_id"] == "c000"
    w.handle_message(
        factories.submit_message(
            p,
            client_id="c-1",
            index=0,
            minimal=True,
            winner=f"r{order.index('r1') + 1}",
            guideline_version=None,
            started_at=datetime.now(timezone.utc).isoformat(),
            active_ms=800,
        )
    )
    fb = w.training["feedback"]
    letter_r1, letter_r2 = "AB"[order.index("r1")], "AB"[order.index("r2")]
    assert fb["expected"] == f"Adjudicated: Response {letter_r2} is better"
    assert fb["given"] == f"Response {letter_r1} is better" and fb["matched"] is False
    assert f"- Response {letter_r1} is better: 3 of 3" in fb["explanation"]
    w.handle_message({"type": "feedback_read", "item_id": "c000"})
    assert w.training["feedback"] is None
