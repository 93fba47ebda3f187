"""Protocol gaps (issue 13, finding 6), through the message entry point the browser's messages reach:

- a submit for an item never sent to the view is refused (nothing stored);
- a replayed ``client_id`` carrying a different item or a different label is an error naming ``client_id``
  (nothing stored), while an exact replay stays an ack (RankWidget and AuditWidget);
- an adjudicated tie with a strength is refused, not stored with the strength silently set to 0.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from test_audit import Harness as AuditHarness
from test_audit import make_items as audit_items
from test_audit import make_labels
from test_widget import Harness

from factories import make_items
from rank_widget import schema
from rank_widget.audit import AuditWidget
from rank_widget.store import open_store
from rank_widget.widget import RankWidget


@pytest.fixture
def h() -> Harness:
    return Harness(RankWidget(make_items(40), annotator="alice", seed=1))


def test_submit_for_an_item_never_sent_is_refused(h: Harness) -> None:
    sent = {p["index"] for p in h.w.window}
    assert 30 not in sent
    msg = h.submit_msg(30)  # built from Python's payload: exactly what a view would send, had it been shown
    reply = h.send(msg)
    assert reply is not None and reply["type"] == "reject" and reply["field"] == "item_id"
    assert "never sent" in reply["message"]
    assert h.rows().empty
    # once the view has been sent the item (the labeler navigated there), the same submit is stored
    h.send({"type": "navigate", "to": 30})
    reply = h.send(msg)
    assert reply is not None and reply["type"] == "ack" and len(h.rows()) == 1


def test_an_item_sent_earlier_can_still_be_submitted(h: Harness) -> None:
    # Back to an item seen long ago (the view may have dropped it from its cache; it was sent, so a submit
    # for it is accepted).
    h.send({"type": "navigate", "to": 30})
    h.send({"type": "navigate", "to": 0})
    assert 30 not in h.w._sent
    assert h.send(h.submit_msg(30))["type"] == "ack"  # type: ignore[index]


def test_replayed_client_id_for_another_item_is_an_error(h: Harness) -> None:
    first = h.submit_msg(0)
    assert h.send(first)["type"] == "ack"  # type: ignore[index]
    other = h.submit_msg(1)
    other["client_id"] = first["client_id"]
    reply = h.send(other)
    assert reply is not None and reply["type"] == "reject" and reply["field"] == "client_id", reply
    assert "nothing was stored" in reply["message"]
    assert list(h.rows()["item_id"]) == ["it000"]


def test_replayed_client_id_with_another_verdict_is_an_error(h: Harness) -> None:
    first = h.submit_msg(0)
    assert h.send(first)["type"] == "ack"  # type: ignore[index]
    changed = copy.deepcopy(first)
    changed["label"].update(winner=first["label"]["display_order"][1], strength=3)
    reply = h.send(changed)
    assert reply is not None and reply["type"] == "reject" and reply["field"] == "client_id"
    assert "winner" in reply["message"]
    rationale = copy.deepcopy(first)
    rationale["label"]["rationale"] = "something else"
    assert h.send(rationale)["field"] == "client_id"  # type: ignore[index]
    assert len(h.rows()) == 1 and h.rows()["strength"].iat[0] == 2
    # the exact replay is still an ack (a resend after a lost reply)
    again = h.send(copy.deepcopy(first))
    assert again is not None and again["type"] == "ack" and again["duplicate"] is True


def test_replayed_client_id_of_a_skip_is_an_ack(h: Harness) -> None:
    skip = h.submit_msg(0, status="skipped", winner=None, strength=None)
    assert h.send(skip)["type"] == "ack"  # type: ignore[index]
    again = h.send(copy.deepcopy(skip))
    assert again is not None and again["type"] == "ack" and again["duplicate"] is True


# -- AuditWidget --------------------------------------------------------------------------------------------


@pytest.fixture
def ah(tmp_path: Path) -> AuditHarness:
    path = tmp_path / "labels.sqlite"
    with open_store(path) as s:
        s.append_many(make_labels())
    return AuditHarness(AuditWidget(audit_items(), path, adjudicator="lead"))


def _adj(item: str, ranking: list[list[str]], strength: int | None, cid: str = "adj-client-0001") -> dict:
    return {
        "type": "adjudicate",
        "client_id": cid,
        "item_id": item,
        "ranking": ranking,
        "strength": strength,
        "rationale": "because",
    }


def test_audit_replayed_client_id_for_another_item_or_verdict_is_an_error(ah: AuditHarness) -> None:
    ah.msg(type="open", item_id="it0")
    ah.msg(type="open", item_id="it1")
    assert ah.msg(**_adj("it1", [["r2"], ["r1"]], 3))["type"] == "ack"
    for other in (
        _adj("it0", [["r2"], ["r1"]], 3),
        _adj("it1", [["r1"], ["r2"]], 3),
        _adj("it1", [["r2"], ["r1"]], 1),
    ):
        reply = ah.msg(**other)
        assert reply["type"] == "reject" and reply["field"] == "client_id", reply
        assert "nothing was stored" in reply["message"]
    adjs = ah.w.adjudications
    assert list(adjs["item_id"]) == ["it1"] and adjs["strength"].iat[0] == 3
    assert ah.msg(**_adj("it1", [["r2"], ["r1"]], 3))["type"] == "ack"  # the exact replay
    assert len(ah.w.adjudications) == 1


def test_audit_python_api_replayed_label_id_is_an_error(ah: AuditHarness) -> None:
    ah.w.adjudicate("it1", [["r2"], ["r1"]], "x", strength=2, label_id="adj-fixed-id")
    with pytest.raises(schema.LabelError, match="label_id"):
        ah.w.adjudicate("it0", [["r2"], ["r1"]], "x", strength=2, label_id="adj-fixed-id")
    assert ah.w.adjudicate("it1", [["r2"], ["r1"]], "x", strength=2, label_id="adj-fixed-id").duplicate


@pytest.mark.parametrize("strength", [1, 3])
def test_adjudicated_tie_with_a_strength_is_refused(ah: AuditHarness, strength: int) -> None:
    ah.msg(type="open", item_id="it1")
    reply = ah.msg(**_adj("it1", [["r1", "r2"]], strength))
    assert reply["type"] == "reject" and reply["field"] == "strength", reply
    assert "tie" in reply["message"]
    assert ah.w.adjudications.empty
    with pytest.raises(schema.LabelError, match="strength"):
        ah.w.adjudicate("it1", [["r1", "r2"]], "x", strength=strength)
    # a tie without a strength (what the view sends) is stored as a tie
    assert ah.msg(**_adj("it1", [["r1", "r2"]], None, cid="adj-client-0002"))["type"] == "ack"
    adj = ah.w.adjudications.iloc[-1]
    assert adj["winner"] == "tie" and adj["strength"] == 0


def test_audit_adjudication_of_an_item_never_opened_is_refused(ah: AuditHarness) -> None:
    reply = ah.msg(**_adj("it1", [["r2"], ["r1"]], 3))
    assert reply["type"] == "reject" and reply["field"] == "item_id" and "never opened" in reply["message"]
    assert ah.w.adjudications.empty
    ah.msg(type="open", item_id="it1")
    assert ah.msg(**_adj("it1", [["r2"], ["r1"]], 3))["type"] == "ack"
