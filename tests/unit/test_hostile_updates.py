"""Hostile ``update`` messages: the browser may set no synced trait of either widget (issue 13, finding 3).

ipywidgets applies a front end's ``update`` message straight to synced traits (``Widget.set_state``).
These tests send the real comm message shape ``{"method": "update", "state": {...}, "buffer_paths": []}``
through the widget's comm (``comm.handle_msg``, the kernel's entry point for the browser's messages) for every
synced trait of RankWidget and AuditWidget, with wrong types, out-of-range and huge numbers, nested junk and
keys the view never sets, and show that nothing changes, the view is sent Python's value back, and the next
valid message still works.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import traitlets
from test_audit import make_items as audit_items
from test_audit import make_labels

from factories import Wire, make_items, submit_message, utc_now
from rank_widget.audit import AuditWidget
from rank_widget.store import open_store
from rank_widget.widget import RankWidget

JUNK: list[Any] = [
    None,
    0,
    -1,
    1_000_000,
    10**30,
    -(10**30),
    1.5,
    1e308,
    True,
    "",
    "x" * 100_000,
    "<img src=x onerror=alert(1)>",
    [],
    [1, [2, [3, {"a": None}]]],
    {},
    {"__proto__": {"polluted": True}},
    {"nested": {"deep": [{"x": 10**20}]}},
    "IPY_MODEL_0123456789abcdef",
]
# Values aimed at a particular trait (the findings' own, and near-valid ones).
AIMED: dict[str, list[Any]] = {
    "page_size": [0, 1_000_000, 200, 1, 5],
    "page": [-3, 10**9, 1],
    "filters": [{"search": 5}, {"show": "hacked"}, {"nope": "x"}, {"search": "dogs"}, {}],
    "position": [-5, 10**9, 3, "2"],
    "window": [[{"index": 0, "item_id": "evil", "prompt": "x", "responses": []}]],
    "config": [{"task": "ranking"}, {"annotator": "bob"}],
    "guideline_ack": ["v9", None],
    "progress": [{"done": 10**9, "total": -1}],
    "queue_length": [0, 10**9],
    "detail": [{"item_id": "it0", "labels": []}],
    "rows": [[{"item_id": "it0"}]],
    "total": [-1, 10**9],
    "_view": ["label"],
    "_esm": ["export default {render(){fetch('//evil')}}"],
    "_css": ["body{display:none}"],
}
# Keys no widget has, or the view never sets.
UNKNOWN_KEYS = ["annotator", "store", "_handle_msg", "__class__", "comm", "keys", "x" * 300]


def _snapshot(w: Any) -> str:
    state = w.get_state()
    return json.dumps({k: v for k, v in state.items() if k != "layout"}, sort_keys=True, default=str)


def _int_like(v: Any) -> bool:
    """A value traitlets' Int takes (an int, or a float with an integral value)."""
    return not isinstance(v, bool) and (isinstance(v, int) or (isinstance(v, float) and v.is_integer()))


def _hammer(w: Any, wire: Wire) -> tuple[int, int]:
    """Send every hostile update for every synced trait; returns (tried, refused)."""
    tried = refused = 0
    keys = sorted(set(w.keys))
    assert keys, "the widget has synced traits"
    cases: list[dict[str, Any]] = []
    for key in keys:
        for value in [*AIMED.get(key, []), *JUNK]:
            cases.append({key: value})
    cases += [{k: "x"} for k in UNKNOWN_KEYS]
    cases.append({k: None for k in keys})  # everything at once
    for state in cases:
        before = _snapshot(w)
        rejects = len([h for h in _reject_history(w)])
        wire.sent.clear()
        wire.update(state)
        tried += 1
        assert _snapshot(w) == before, f"update {str(state)[:120]} changed the state"
        settable = set(state) & set(w.VIEW_SETTABLE)
        if not settable:
            assert len(_reject_history(w)) == rejects + 1, f"update {str(state)[:120]} was not recorded"
        elif not all(_int_like(state[k]) for k in settable):
            # a view-settable trait's validator refused it (recorded with its reason, and as not set)
            assert len(_reject_history(w)) > rejects, f"update {str(state)[:120]} was not recorded"
        # else: a well-typed value for a view-settable trait whose validator keeps Python's value
        # (RankWidget's `stored`): nothing changed (checked above), the view is sent Python's value (below)
        # (a view-settable value equal to Python's needs nothing sent back: the view's copy is Python's)
        restored = [k for k in state if k in w.keys and not (k in settable and state[k] == w.get_state(k)[k])]
        if restored:  # the view's copy is put back to Python's value
            assert wire.states(), f"update {str(state)[:120]}: the view was not sent the real value"
            back = wire.states()[-1]
            assert set(back) == set(restored)
            for k in restored:
                assert json.dumps(back[k], default=str) == json.dumps(w.get_state(k)[k], default=str)
        refused += 1
    # not an object at all
    for junk in (None, [], "state", 5):
        before = _snapshot(w)
        wire.update(junk)
        tried += 1
        assert _snapshot(w) == before
        refused += 1
    return tried, refused


def _reject_history(w: Any) -> list[Any]:
    h = w.history
    if "outcome" in h.columns:  # AuditWidget
        return list(h[(h["type"] == "update") & (h["outcome"] == "reject")]["detail"])
    return list(
        h[(h["event"] == "reject") & h["detail"].str.contains("cannot be set|state must|Error")]["detail"]
    )


# -- RankWidget ------------------------------------------------------------------------------------------


def _submit(w: RankWidget, index: int, client_id: str) -> dict[str, Any]:
    p = next(p for p in w.window if p["index"] == index)
    return submit_message(
        p, client_id=client_id, index=index, minimal=True, started_at=utc_now(), active_ms=1000
    )


def test_rank_widget_refuses_every_hostile_update(capsys: pytest.CaptureFixture[str]) -> None:
    w = RankWidget(make_items(8), annotator="alice", seed=1)
    wire = Wire(w)
    tried, refused = _hammer(w, wire)
    assert tried == refused and tried > 400
    print(f"\nRankWidget: hostile updates tried {tried}, refused {refused}")
    # Nothing was stored, and `stored` (the one view-settable trait) still shows Python's count, 0.
    assert len(w.store.labels()) == 0 and w.stored == 0
    # The next valid message still works: stored, acked, and the view is moved on.
    wire.sent.clear()
    wire.custom(_submit(w, 0, "after-hostile-1"))
    acks = [m for m in wire.customs() if m["type"] == "ack"]
    assert acks and acks[0]["client_id"] == "after-hostile-1" and acks[0]["duplicate"] is False
    assert len(w.store.labels()) == 1
    assert w.position == 1 and any(s.get("position") == 1 for s in wire.states())
    # The view's bump after the ack proposes any number: Python's count (1) stays, and the view is sent it.
    wire.sent.clear()
    wire.update({"stored": 10**9})
    assert w.stored == 1 and wire.states()[-1] == {"stored": 1}


def test_rank_widget_position_from_the_view_is_refused() -> None:
    # position is Python's: the view navigates with a message, never by setting the trait.
    w = RankWidget(make_items(8), annotator="alice", seed=1)
    wire = Wire(w)
    wire.update({"position": 5})
    assert w.position == 0
    assert wire.states()[-1] == {"position": 0}
    wire.custom({"type": "navigate", "to": 5})
    assert w.position == 5


# -- AuditWidget -----------------------------------------------------------------------------------------


@pytest.fixture
def audit(tmp_path: Path) -> AuditWidget:
    path = tmp_path / "labels.sqlite"
    with open_store(path) as s:
        s.append_many(make_labels())
    return AuditWidget(audit_items(), path, adjudicator="lead", page_size=2)


def _adjudicate(wire: Wire, client_id: str) -> None:
    wire.custom({"type": "open", "client_id": f"open-{client_id}", "item_id": "it1"})
    wire.custom(
        {
            "type": "adjudicate",
            "client_id": client_id,
            "item_id": "it1",
            "ranking": [["r1"], ["r2"]],
            "rationale": "r1 answers the question",
            "strength": 2,
        }
    )


def test_audit_widget_refuses_every_hostile_update(audit: AuditWidget) -> None:
    wire = Wire(audit)
    tried, refused = _hammer(audit, wire)
    assert tried == refused and tried > 400
    print(f"\nAuditWidget: hostile updates tried {tried}, refused {refused}")


@pytest.mark.parametrize(
    "state", [{"page_size": 0}, {"page_size": 1_000_000}, {"filters": {"search": 5}}, {"page": -1}]
)
def test_audit_findings_then_a_valid_adjudication_is_stored_and_shown(
    audit: AuditWidget, state: dict[str, Any]
) -> None:
    wire = Wire(audit)
    wire.update(state)
    assert audit.page_size == 2 and audit.filters["search"] == "" and audit.page == 0
    wire.sent.clear()
    _adjudicate(wire, "adjudication-0001")
    acks = [m for m in wire.customs() if m["type"] == "ack"]
    assert [a["client_id"] for a in acks] == ["open-adjudication-0001", "adjudication-0001"], wire.customs()
    assert len(audit.adjudications) == 1
    # the view is told: the row of it1 (on the first page) now shows it adjudicated
    rows = [s["rows"] for s in wire.states() if "rows" in s]
    assert rows and any(r["item_id"] == "it1" and r["adjudicated"] for r in rows[-1])
    # and the next filter and page messages work
    wire.custom({"type": "filter", "client_id": "filter-0001", "filters": {"search": "dogs"}})
    wire.custom({"type": "page", "client_id": "page-00001", "page": 1})
    assert [m["type"] for m in wire.customs()[-2:]] == ["ack", "ack"]
    assert audit.page == 1 and audit.filters["search"] == "dogs"


def test_audit_traits_are_validated_in_python_too(audit: AuditWidget) -> None:
    for name, value in (("page_size", 0), ("page_size", 201), ("page", -1), ("filters", {"search": 5})):
        with pytest.raises(traitlets.TraitError, match=name if name != "filters" else "search"):
            setattr(audit, name, value)
    assert audit.page_size == 2 and audit.page == 0 and audit.filters["search"] == ""


def test_a_view_settable_trait_still_passes_its_validator(tmp_path: Path) -> None:
    # A trait a view must set goes in VIEW_SETTABLE and is still checked (RankWidget's `stored` is one).
    class Settable(AuditWidget):
        VIEW_SETTABLE = frozenset({"page_size"})

    path = tmp_path / "labels.sqlite"
    with open_store(path) as s:
        s.append_many(make_labels())
    w = Settable(audit_items(), path, adjudicator="lead", page_size=2)
    wire = Wire(w)
    wire.update({"page_size": 0})
    assert w.page_size == 2 and wire.states()[-1] == {"page_size": 2}
    assert any("page_size" in d for d in _reject_history(w))
    wire.update({"page_size": 5, "page": 3})  # the settable one is set, the other refused
    assert w.page_size == 5 and w.page == 0
