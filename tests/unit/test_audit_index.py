"""The audit's pure parts, without a widget: the per-item index (order, filters, paging, search, payloads) and
the adjudication checks (message/call -> label record, requeue message -> arguments).

Labels go through an in-memory store once so they carry the revisions and supersedes the store assigns.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest

from rank_widget import schema
from rank_widget._protocol import Rejected
from rank_widget.audit.adjudication import (
    adjudication_record,
    adjudication_request,
    requeue_rejection,
    requeue_request,
)
from rank_widget.audit.index import (
    FILTERS,
    ITEM_COLUMNS,
    MAX_SEARCH_CHARS,
    MAX_SNIPPET,
    AuditIndex,
    check_filters,
    default_filters,
    item_rows,
    page_bounds,
)
from rank_widget.store import open_store

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
VERDICTS = {"r1": [["r1"], ["r2"]], "r2": [["r2"], ["r1"]], "tie": [["r1", "r2"]]}


def items_frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [f"it{i}" for i in range(n)],
            "prompt": [f"Question {i} about {'cats' if i == 3 else 'dogs'}?" for i in range(n)],
            "responses": [
                [
                    {"response_id": "r1", "text": f"first answer {i}", "model": "alpha"},
                    {
                        "response_id": "r2",
                        "text": f"second answer {i}",
                        "model": "beta" if i < 4 else "gamma",
                    },
                ]
                for i in range(n)
            ],
        }
    )


def vote(item: str, who: str, winner: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "label_id": f"{item}-{who}-{n}",
        "item_id": item,
        "annotator": who,
        "task": "pairwise",
        "winner": winner,
        "ranking": VERDICTS[winner],
        "strength": 0 if winner == "tie" else 2,
        "display_order": ["r1", "r2"],
        "guideline_version": "v1",
        "submitted_at": T0 + timedelta(minutes=n),
        "source": "import",
        **extra,
    }


def stored_labels() -> pd.DataFrame:
    """it1 splits three ways; it0 and it3 2-1 (it3 flagged, with a rationale); it2 unanimous; it4 one label
    (v2, rated on clarity); it5 none. ann re-labelled it0 (revision 2)."""
    rows = [
        vote("it0", "ann", "r1", 1),
        vote("it0", "bob", "r1", 2),
        vote("it0", "cat", "r2", 3),
        vote("it1", "ann", "r1", 4),
        vote("it1", "bob", "r2", 5),
        vote("it1", "cat", "tie", 6),
        vote("it2", "ann", "r2", 7),
        vote("it2", "bob", "r2", 8),
        vote("it3", "ann", "r2", 10, flags=["harmful"], rationale="mentions a poison"),
        vote("it3", "bob", "r2", 11),
        vote("it3", "cat", "r1", 12),
        vote(
            "it4",
            "dan",
            "r1",
            13,
            guideline_version="v2",
            ratings={"r1": {"clarity": 4}, "r2": {"clarity": 2}},
        ),
        vote("it0", "ann", "r1", 14),
    ]
    with open_store(":memory:") as s:
        s.append_many(rows)
        return s.labels()


@pytest.fixture
def index() -> AuditIndex:
    return AuditIndex(items_frame(), stored_labels())


def order(idx: AuditIndex, **filters: Any) -> list[str]:
    return list(idx.filtered(check_filters(filters))["item_id"])


def adjudication(idx: AuditIndex, item_id: str, winner: str, rationale: str) -> dict[str, Any]:
    """A stored-looking adjudication, as AuditWidget hands it to ``add``."""
    record, rids = adjudication_record(
        idx, item_id, VERDICTS[winner], rationale, adjudicator="lead", rationale_required=True, strength=3
    )
    valid = schema.validate_label(record, response_ids=rids)
    valid.update(revision=1, supersedes=None)
    return valid


# -- the index ---------------------------------------------------------------------------------------------


def test_the_table_has_one_row_per_labelled_item_most_contested_first(index: AuditIndex) -> None:
    t = index.table
    assert list(t.columns) == list(ITEM_COLUMNS)
    assert list(t["item_id"]) == ["it1", "it0", "it3", "it2", "it4"]
    it0 = t.set_index("item_id").loc["it0"]
    assert it0["n_labels"] == 3 and it0["n_annotators"] == 3 and it0["majority"] == "r1"
    assert list(t.set_index("item_id").loc["it3", "flags"]) == ["harmful"]
    assert not t["adjudicated"].any()
    assert "it1" in index and "it5" not in index and 5 not in index
    assert index.position("it1") == 0 and index.position("it4") == 4


def test_every_filter_alone_and_label_filters_together(index: AuditIndex) -> None:
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({}, ["it1", "it0", "it3", "it2", "it4"]),
        ({"show": "disagreements"}, ["it1", "it0", "it3"]),
        ({"show": "flagged"}, ["it3"]),
        ({"show": "adjudicated"}, []),
        ({"show": "unadjudicated"}, ["it1", "it0", "it3", "it2", "it4"]),
        ({"annotator": "dan"}, ["it4"]),
        ({"flag": "harmful"}, ["it3"]),
        ({"flag": "harmful", "annotator": "bob"}, []),  # one label must match both
        ({"criterion": "clarity"}, ["it4"]),
        ({"guideline_version": "v2"}, ["it4"]),
        ({"guideline_version": "(none)"}, []),
        ({"model": "gamma"}, ["it4"]),
        ({"source": "widget"}, []),
        ({"search": "CATS"}, ["it3"]),  # the prompt, case-insensitive
        ({"search": "poison"}, ["it3"]),  # a rationale
        ({"search": "second answer 2"}, ["it2"]),  # a response
        ({"search": "it2"}, ["it2"]),  # the id
        ({"show": "disagreements", "model": "beta", "search": "dogs"}, ["it1", "it0"]),
    ]
    for filters, expected in cases:
        assert order(index, **filters) == expected, filters


def test_filter_options_are_the_values_in_the_labels(index: AuditIndex) -> None:
    o = index.options
    assert o["annotator"] == ["ann", "bob", "cat", "dan"]
    assert o["model"] == ["alpha", "beta", "gamma"]
    assert o["guideline_version"] == ["v1", "v2"] and o["criterion"] == ["clarity"]
    assert o["flag"] == ["harmful"] and o["show"][0] == "all"


def test_check_filters_names_the_bad_one() -> None:
    assert check_filters({}) == default_filters()
    assert set(default_filters()) == set(FILTERS)
    assert check_filters({"annotator": "ann", "search": "", "flag": None})["annotator"] == "ann"
    bad: list[tuple[Any, str, str]] = [
        ({"annotatr": "ann"}, "filters", "did you mean 'annotator'"),
        ("ann", "filters", "must be an object"),
        ({"annotator": 3}, "annotator", "string or null"),
        ({"search": "x" * (MAX_SEARCH_CHARS + 1)}, "search", "the limit is"),
        ({"show": "everything"}, "show", "must be one of"),
        ({"source": "s" * (schema.MAX_ID_CHARS + 1)}, "source", "longer than"),
    ]
    for proposed, field, words in bad:
        with pytest.raises(Rejected) as err:
            check_filters(proposed)
        assert err.value.field == field and words in err.value.message, proposed


def test_page_bounds_clamp_to_the_pages_there_are() -> None:
    assert page_bounds(5, 0, 2) == (0, 0)
    assert page_bounds(5, 2, 2) == (2, 4)
    assert page_bounds(5, 99, 2) == (2, 4)
    assert page_bounds(5, -3, 2) == (0, 0)
    assert page_bounds(0, 4, 20) == (0, 0)


def test_row_payload_is_json_safe(index: AuditIndex) -> None:
    rows = index.table.to_dict("records")
    first = index.row_payload(rows[0])
    assert first["item_id"] == "it1" and first["rank"] == 1
    assert first["outcomes"] == {"r1": 1, "r2": 1, "tie": 1} and first["majority"] is None
    assert first["snippet"] == "Question 1 about dogs?"[:MAX_SNIPPET]
    single = index.row_payload(rows[-1])
    assert single["item_id"] == "it4" and single["disagreement"] is None  # NaN does not cross the wire
    assert all(type(v) in (str, int, float, bool, list, dict, type(None)) for v in single.values())


def test_detail_of_one_item(index: AuditIndex) -> None:
    d = index.detail("it0")
    assert d["task"] == "pairwise" and d["prompt"] == "Question 0 about dogs?"
    assert [r["model"] for r in d["responses"]] == ["alpha", "beta"]
    assert [(x["annotator"], x["revision"]) for x in d["labels"]] == [("ann", 2), ("bob", 1), ("cat", 1)]
    assert d["majority"]["ranking"] == [["r1"], ["r2"]] and d["majority"]["strength"] == 2
    assert [(x["annotator"], x["revision"]) for x in d["history"]] == [
        ("ann", 1),
        ("bob", 1),
        ("cat", 1),
        ("ann", 2),
    ]
    assert len(index.item_labels("it0")) == 4 and index.item_labels("it5").empty
    assert index.response_ids("it0") == ["r1", "r2"]


def test_an_added_adjudication_is_searchable_pending_and_after_folding(index: AuditIndex) -> None:
    order(index, search="anything")  # builds the search texts before the adjudication arrives
    index.add(adjudication(index, "it1", "r2", "r2 answers the question"))
    assert index.pending and order(index, show="adjudicated") == ["it1"]
    assert order(index, search="ANSWERS THE QUESTION") == ["it1"]  # while pending
    assert index.detail("it1")["labels"][-1]["source"] == "adjudication"
    assert order(index, source="adjudication", annotator="lead") == ["it1"]  # a label filter folds it in
    assert not index.pending
    assert order(index, search="answers the question") == ["it1"]  # after folding
    adjs = index.adjudications()
    assert list(adjs["item_id"]) == ["it1"] and adjs["winner"].iloc[0] == "r2"
    assert list(index.table["item_id"]) == ["it1", "it0", "it3", "it2", "it4"]  # the order did not change


def test_bad_items_or_labels_are_refused() -> None:
    twice = items_frame(3)
    twice.loc[2, "item_id"] = "it0"
    with pytest.raises(ValueError, match="repeated item_id"):
        item_rows(twice)
    with pytest.raises(ValueError, match="not in items"):
        AuditIndex(items_frame(3), stored_labels())


# -- adjudication --------------------------------------------------------------------------------------------


def test_adjudication_record_comes_from_the_session_not_the_caller(index: AuditIndex) -> None:
    record, rids = adjudication_record(
        index,
        "it0",
        [["r2"], ["r1"]],
        "  r2 is right  ",
        adjudicator="lead",
        rationale_required=True,
        strength=3,
    )
    assert rids == ["r1", "r2"]
    assert record["annotator"] == "lead" and record["source"] == "adjudication"
    assert record["task"] == "pairwise" and record["display_order"] == ["r1", "r2"]
    assert record["winner"] == "r2" and record["strength"] == 3 and record["rationale"] == "r2 is right"
    assert record["label_id"].startswith("adj-") and record["status"] == "submitted"
    schema.validate_label(record, response_ids=rids)  # what the store checks again
    tie, _ = adjudication_record(
        index, "it0", [["r1", "r2"]], "", adjudicator="lead", rationale_required=False, label_id="adj-x"
    )
    assert tie["winner"] == schema.TIE and tie["strength"] == 0 and tie["label_id"] == "adj-x"


@pytest.mark.parametrize(
    ("item_id", "ranking", "rationale", "strength", "field"),
    [
        ("it5", [["r1"], ["r2"]], "why", None, "item_id"),  # no labels
        (7, [["r1"], ["r2"]], "why", None, "item_id"),
        ("it0", [["r1"], ["r9"]], "why", None, "ranking"),
        ("it0", [["r1"]], "why", None, "ranking"),
        ("it0", [["r1"], ["r2"]], "   ", None, "rationale"),
        ("it0", [["r1"], ["r2"]], 5, None, "rationale"),
        ("it0", [["r1"], ["r2"]], "why", 7, "strength"),
        ("it0", [["r1"], ["r2"]], "why", True, "strength"),
    ],
)
def test_adjudication_record_names_the_bad_field(
    index: AuditIndex, item_id: Any, ranking: Any, rationale: Any, strength: Any, field: str
) -> None:
    with pytest.raises(schema.LabelError) as err:
        adjudication_record(
            index, item_id, ranking, rationale, adjudicator="lead", rationale_required=True, strength=strength
        )
    assert err.value.field == field


def test_adjudication_request_trusts_nothing_in_the_message(index: AuditIndex) -> None:
    good = {
        "type": "adjudicate",
        "client_id": "client-0001",
        "item_id": "it0",
        "ranking": [["r2"], ["r1"]],
        "rationale": "why",
        "strength": 2,
    }
    req = adjudication_request(good, index)
    assert (req.item_id, req.ranking, req.rationale, req.strength) == ("it0", [["r2"], ["r1"]], "why", 2)
    assert req.label_id == "adj-client-0001"  # a repeated message is stored once
    cases: list[tuple[dict[str, Any], str]] = [
        ({"annotator": "mallory"}, "annotator"),  # the adjudicator is not the view's to set
        ({"source": "widget"}, "source"),
        ({"x" * 60: 1}, "x" * 40),  # unknown names are echoed back capped
        ({"client_id": "short"}, "client_id"),
        ({"client_id": None}, "client_id"),
        ({"item_id": "it5"}, "item_id"),
        ({"item_id": ["it0"]}, "item_id"),
        ({"ranking": "r2"}, "ranking"),
        ({"ranking": [["r2"], [1]]}, "ranking"),
        ({"rationale": None}, "rationale"),
        ({"strength": "2"}, "strength"),
        ({"strength": False}, "strength"),
    ]
    for change, field in cases:
        with pytest.raises(Rejected) as err:
            adjudication_request({**good, **change}, index)
        assert err.value.field == field, change


def test_requeue_request_and_the_store_refusal() -> None:
    req = requeue_request({"type": "requeue", "client_id": "c", "item_ids": ["it0"], "reason": "why"})
    assert (req.item_ids, req.reason, req.queue) == (["it0"], "why", "requeue")
    assert requeue_request({"type": "requeue", "item_ids": ["a"], "reason": 3, "queue": "r2"}).reason == ""
    for content, field in [
        ({"item_ids": []}, "item_ids"),
        ({"item_ids": "it0"}, "item_ids"),
        ({"item_ids": ["x"] * 1001}, "item_ids"),
        ({"item_ids": ["it0"], "annotator": "bob"}, "annotator"),
    ]:
        with pytest.raises(Rejected) as err:
            requeue_request({"type": "requeue", **content})
        assert err.value.field == field, content
    assert requeue_rejection(ValueError("a reason is required")).field == "reason"
    assert requeue_rejection(ValueError("'bad name!' is not a valid queue name")).field == "queue"
    assert requeue_rejection(ValueError("item 'x' is not in the items")).field == "item_ids"
