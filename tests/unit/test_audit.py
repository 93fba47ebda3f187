"""AuditWidget's Python side (ordering, filters, paging, item detail, adjudication, re-queue) and the store's
named queues, driven through the same message entry point the browser's messages reach.

Outgoing messages are captured by replacing ``send`` on the instance; stores are real SQLite (in memory or a
file under tmp_path; ``store_target`` adds PostgreSQL when RANK_WIDGET_PG_URL is set).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from hashlib import sha256
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import factories
from rank_widget import formats, schema
from rank_widget.audit import AuditWidget, majority_ranking
from rank_widget.quality import disagreement_scores
from rank_widget.store import STORE_SCHEMA_VERSION, StoreError, open_store
from rank_widget.store import queues as queue_mod
from rank_widget.widget import RankWidget

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


RANKINGS = {"r1": [["r1"], ["r2"]], "r2": [["r2"], ["r1"]], "tie": [["r1", "r2"]]}


def make_items(n: int = 6) -> pd.DataFrame:
    return factories.make_items(
        n,
        item_id="it{i}",
        prompt=lambda i: f"Question {i} about {'cats' if i == 3 else 'dogs'}?",
        text=lambda i, j: f"{('first', 'second')[j]} answer {i}",
        model=lambda i, j: "alpha" if j == 0 else "beta" if i < 4 else "gamma",
        category=None,
        gold=None,
    )


def label(
    item: str,
    who: str,
    winner: str,
    *,
    n: int = 0,
    flags: list[str] | None = None,
    gv: str | None = "v1",
    ratings: dict[str, Any] | None = None,
    status: str = "submitted",
    rationale: str = "",
) -> dict[str, Any]:
    skipped = status == "skipped"
    return factories.label(
        f"{item}-{who}-{n}",
        item,
        who,
        status=status,
        winner=None if skipped else winner,
        ranking=None if skipped else RANKINGS[winner],
        strength=None if skipped else factories.decisive_strength(winner),
        ratings=ratings,
        rationale=rationale,
        flags=flags or [],
        display_order=["r1", "r2"],
        guideline_version=gv,
        submitted_at=T0 + timedelta(minutes=n),
        source="import",
    )


def make_labels() -> list[dict[str, Any]]:
    """it0: 2-1 split; it1: three ways (most contested); it2: unanimous; it3: 2-1 with a flag and a rationale;
    it4: one label only (v2, rated on 'clarity'); it5: no labels."""
    return [
        label("it0", "ann", "r1", n=1),
        label("it0", "bob", "r1", n=2),
        label("it0", "cat", "r2", n=3),
        label("it1", "ann", "r1", n=4),
        label("it1", "bob", "r2", n=5),
        label("it1", "cat", "tie", n=6),
        label("it2", "ann", "r2", n=7),
        label("it2", "bob", "r2", n=8),
        label("it2", "cat", "r2", n=9),
        label("it3", "ann", "r2", n=10, flags=["harmful"], rationale="mentions a poison"),
        label("it3", "bob", "r2", n=11),
        label("it3", "cat", "r1", n=12),
        label("it4", "dan", "r1", n=13, gv="v2", ratings={"r1": {"clarity": 4}, "r2": {"clarity": 2}}),
        # ann changed her mind on it0: revision 2 (same verdict), so the history has two rows for her
        label("it0", "ann", "r1", n=14),
    ]


class Harness:
    def __init__(self, w: AuditWidget) -> None:
        self.w = w
        self.sent: list[dict[str, Any]] = []
        self.n = 0

        def capture(msg: dict[str, Any], buffers: Any = None) -> None:
            self.sent.append(msg)

        w.send = capture  # type: ignore[method-assign]

    def msg(self, **content: Any) -> dict[str, Any]:
        self.n += 1
        content.setdefault("client_id", f"client-{self.n:04d}")
        self.w.handle_message(content)
        return self.sent[-1]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "labels.sqlite"
    with open_store(path) as s:
        s.append_many(make_labels())
    return path


@pytest.fixture
def h(store_path: Path) -> Harness:
    return Harness(AuditWidget(make_items(), store_path, adjudicator="lead", page_size=2))


def ids(w: AuditWidget) -> list[str]:
    return list(w.table["item_id"])


# -- list, order, paging -----------------------------------------------------------------------------------


def test_items_are_ordered_most_contested_first_and_only_one_page_is_synced(h: Harness) -> None:
    w = h.w
    # it1 splits three ways (disagreement 1), it0/it3 2-1 (2/3), it2 unanimous (0), it4 a single label (NaN)
    assert ids(w) == ["it1", "it0", "it3", "it2", "it4"]
    assert w.total == 5 and w.page == 0
    assert [r["item_id"] for r in w.rows] == ["it1", "it0"]
    first = w.rows[0]
    assert first["disagreement"] == pytest.approx(1.0)
    assert first["outcomes"] == {"r1": 1, "r2": 1, "tie": 1}
    assert first["majority"] is None and first["n_labels"] == 3
    assert w.rows[1]["majority"] == "r1"  # it0: ann's latest revision counts once
    assert h.msg(type="page", page=2)["type"] == "ack"
    assert [r["item_id"] for r in w.rows] == ["it4"]
    assert w.rows[0]["disagreement"] is None  # NaN does not cross the wire
    h.msg(type="page", page=99)
    assert w.page == 2  # clamped to the last page


def test_filters(h: Harness) -> None:
    w = h.w
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"show": "disagreements"}, ["it1", "it0", "it3"]),
        ({"show": "flagged"}, ["it3"]),
        ({"annotator": "dan"}, ["it4"]),
        ({"flag": "harmful"}, ["it3"]),
        ({"flag": "harmful", "annotator": "bob"}, []),  # label filters match one label together
        ({"task": "pairwise"}, ["it1", "it0", "it3", "it2", "it4"]),
        ({"criterion": "clarity"}, ["it4"]),
        ({"guideline_version": "v2"}, ["it4"]),
        ({"model": "gamma"}, ["it4"]),
        ({"source": "import"}, ["it1", "it0", "it3", "it2", "it4"]),
        ({"source": "widget"}, []),
        ({"search": "CATS"}, ["it3"]),  # the prompt, case-insensitive
        ({"search": "poison"}, ["it3"]),  # a rationale
        ({"search": "it2"}, ["it2"]),  # the item id
    ]
    for filters, expected in cases:
        reply = h.msg(type="filter", filters=filters)
        assert reply["type"] == "ack", reply
        assert ids(w) == expected, filters
        assert w.total == len(expected) and w.page == 0
    assert w.config["options"]["annotator"] == ["ann", "bob", "cat", "dan"]
    assert w.config["options"]["model"] == ["alpha", "beta", "gamma"]
    assert w.config["options"]["guideline_version"] == ["v1", "v2"]


def test_bad_messages_change_nothing(h: Harness) -> None:
    w = h.w
    h.msg(type="filter", filters={"show": "flagged"})
    before = (dict(w.filters), w.total, list(w.rows))
    bad = [
        {"type": "filter", "filters": {"annotatr": "ann"}},
        {"type": "filter", "filters": {"show": "everything"}},
        {"type": "filter", "filters": {"search": "x" * 500}},
        {"type": "filter", "filters": {"annotator": 3}},
        {"type": "filter", "filters": "ann"},
        {"type": "page", "page": "2"},
        {"type": "open", "item_id": "it5"},  # no labels
        {"type": "launch"},
        {"type": "filter", "filters": {}, "extra": 1},
    ]
    for content in bad:
        reply = h.msg(**content)
        assert reply["type"] == "reject", content
        assert reply["message"]
        assert (dict(w.filters), w.total, list(w.rows)) == before
    assert h.sent[1]["field"] == "filters" and "annotator" in h.sent[1]["message"]
    w.handle_message("not a dict")
    assert w.history["outcome"].iloc[-1] == "reject"


# -- one item ----------------------------------------------------------------------------------------------


def test_open_shows_every_annotator_side_by_side_with_majority_and_history(h: Harness) -> None:
    w = h.w
    assert h.msg(type="open", item_id="it0")["type"] == "ack"
    d = w.detail
    assert d["item_id"] == "it0" and d["task"] == "pairwise"
    assert d["prompt"] == "Question 0 about dogs?"
    assert [r["model"] for r in d["responses"]] == ["alpha", "beta"]  # the auditor sees models
    assert [(x["annotator"], x["winner"], x["revision"]) for x in d["labels"]] == [
        ("ann", "r1", 2),
        ("bob", "r1", 1),
        ("cat", "r2", 1),
    ]
    assert d["labels"][0]["display_order"] == ["r1", "r2"]
    assert d["majority"]["outcome"] == "r1"
    assert d["majority"]["ranking"] == [["r1"], ["r2"]]  # the adjudication prefill
    assert d["majority"]["strength"] == 2
    assert [(x["annotator"], x["revision"]) for x in d["history"]] == [
        ("ann", 1),
        ("bob", 1),
        ("cat", 1),
        ("ann", 2),
    ]
    assert d["history"][3]["supersedes"] == "it0-ann-1"
    h.msg(type="open", item_id="it3")
    flagged = next(x for x in w.detail["labels"] if x["annotator"] == "ann")
    assert flagged["flags"] == ["harmful"] and flagged["rationale"] == "mentions a poison"
    h.msg(type="close")
    assert w.detail == {}


def test_majority_prefill_without_a_majority_orders_by_mean_rank() -> None:
    # r1 first twice, r2 first once, r3 always last: no full ranking is most common
    rankings = [[["r1"], ["r2"], ["r3"]], [["r2"], ["r1"], ["r3"]], [["r1", "r2"], ["r3"]]]
    assert majority_ranking(rankings, ["r1", "r2", "r3"]) == [["r1", "r2"], ["r3"]]
    assert majority_ranking(rankings[:1] * 2 + rankings[1:2], ["r1", "r2", "r3"]) == [["r1"], ["r2"], ["r3"]]
    assert majority_ranking([], ["r1", "r2"]) == [["r1", "r2"]]


# -- adjudication ------------------------------------------------------------------------------------------


def test_adjudicate_from_the_view_is_stored_as_its_own_source(h: Harness, store_path: Path) -> None:
    w = h.w
    before = open_store(store_path).labels()
    h.msg(type="open", item_id="it1")
    msg = {
        "type": "adjudicate",
        "client_id": "adj-client-0001",
        "item_id": "it1",
        "ranking": [["r2"], ["r1"]],
        "strength": 3,
        "rationale": "r2 answers the question",
    }
    reply = h.msg(**msg)
    assert reply["type"] == "ack", reply
    with open_store(store_path) as s:
        after = s.labels()
    assert len(after) == len(before) + 1
    # nobody's label changed
    pd.testing.assert_frame_equal(after.iloc[: len(before)].reset_index(drop=True), before)
    adj = after.iloc[-1]
    assert adj["source"] == "adjudication" and adj["annotator"] == "lead"
    assert adj["item_id"] == "it1" and adj["winner"] == "r2" and adj["strength"] == 3
    assert adj["ranking"] == [["r2"], ["r1"]] and adj["rationale"] == "r2 answers the question"
    assert adj["revision"] == 1 and pd.isna(adj["supersedes"])
    assert adj["label_id"] == "adj-adj-client-0001"
    # the same client id again: acknowledged, not stored twice
    assert h.msg(**msg)["type"] == "ack"
    assert len(open_store(store_path).labels()) == len(before) + 1
    # the view sees it at once
    assert w.detail["labels"][-1]["source"] == "adjudication"
    assert [r["adjudicated"] for r in w.rows if r["item_id"] == "it1"] == [True]
    h.msg(type="filter", filters={"search": "answers the question"})
    assert ids(w) == ["it1"] and w._index.pending  # found while still pending
    h.msg(type="filter", filters={"show": "unadjudicated"})
    assert "it1" not in ids(w)
    h.msg(type="filter", filters={"show": "adjudicated"})
    assert ids(w) == ["it1"]
    h.msg(type="filter", filters={"source": "adjudication", "annotator": "lead"})
    assert ids(w) == ["it1"]
    # the adjudication's rationale is searchable, before and after it is folded into the label frames
    h.msg(type="filter", filters={"search": "ANSWERS THE QUESTION"})
    assert ids(w) == ["it1"]
    # a second adjudication by the same adjudicator is a new revision of the adjudication only
    w.adjudicate("it1", [["r1", "r2"]], "on reflection a tie")
    adjs = w.adjudications
    assert list(adjs["revision"]) == [1, 2] and adjs["winner"].iloc[-1] == "tie"
    assert adjs["supersedes"].iloc[-1] == "adj-adj-client-0001"


def test_to_trl_prefers_the_adjudicated_label(h: Harness, store_path: Path) -> None:
    items = make_items()
    with open_store(store_path) as s:
        trl = formats.to_trl(s.labels(), items)
    assert trl.loc[trl["item_id"] == "it0", "chosen"].item() == "first answer 0"
    h.w.adjudicate("it0", [["r2"], ["r1"]], "r2 is correct; the majority missed the bug", strength=2)
    with open_store(store_path) as s:
        trl = formats.to_trl(s.labels(), items)
    assert trl.loc[trl["item_id"] == "it0", "chosen"].item() == "second answer 0"


def test_bad_adjudications_are_rejected_and_store_nothing(h: Harness, store_path: Path) -> None:
    n = len(open_store(store_path).labels())
    base = {"type": "adjudicate", "item_id": "it1", "ranking": [["r2"], ["r1"]], "rationale": "why"}
    h.msg(type="open", item_id="it1")
    cases = [
        ({"item_id": "it0"}, "item_id"),  # an item the view never opened
        ({"ranking": [["r2"], ["r9"]]}, "ranking"),
        ({"ranking": [["r2"]]}, "ranking"),
        ({"ranking": "r2"}, "ranking"),
        ({"rationale": "  "}, "rationale"),
        ({"strength": 7}, "strength"),
        ({"strength": True}, "strength"),
        ({"item_id": "it5"}, "item_id"),
        ({"annotator": "mallory"}, "annotator"),  # the adjudicator's name is not the view's to set
        ({"source": "widget"}, "source"),
        ({"client_id": "x"}, "client_id"),
    ]
    for change, field in cases:
        reply = h.msg(**{**base, **change})
        assert reply["type"] == "reject" and reply["field"] == field, (change, reply)
    assert len(open_store(store_path).labels()) == n


def test_audit_a_read_only_store(store_path: Path) -> None:
    # a lead audits a store they may only read (an archive, a read-only share): the list, items and labels
    # work; an adjudication is refused in Python with the reason, and the view gets it in a reject, no ack
    before = sha256(store_path.read_bytes()).hexdigest()
    store = open_store(store_path, read_only=True)
    h = Harness(AuditWidget(make_items(), store, adjudicator="lead", page_size=2))
    assert ids(h.w)[:2] == ["it1", "it0"] and len(h.w.item_labels("it1")) == 3
    h.msg(type="open", item_id="it1")
    reply = h.msg(type="adjudicate", item_id="it1", ranking=[["r2"], ["r1"]], rationale="why")
    assert reply["type"] == "reject" and reply["message"] == (
        f"{store_path}: this store was opened with read_only=True, so it cannot be written; open it without "
        "read_only (from a writable location) to label, adjudicate or import; nothing was changed"
    ), reply
    with pytest.raises(StoreError, match="RankWidget saves every label to its store"):
        RankWidget(make_items(), store=store, annotator="ann")
    with pytest.raises(StoreError, match="opened with read_only=True, so it cannot be written"):
        h.w.adjudicate("it2", [["r2"], ["r1"]], "unanimous")
    store.close()
    assert sha256(store_path.read_bytes()).hexdigest() == before
    assert open_store(store_path).labels(source="adjudication").empty


def test_adjudicator_comes_from_the_session(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-lead")
    w = AuditWidget(make_items(), store_path)
    assert w.adjudicator == "hub-lead" and w.config["adjudicator"] == "hub-lead"
    w.adjudicate("it2", [["r2"], ["r1"]], "unanimous and right")
    assert open_store(store_path).labels(source="adjudication")["annotator"].tolist() == ["hub-lead"]


def test_labels_dataframe_with_a_separate_store(tmp_path: Path) -> None:
    frame = schema.labels_frame(schema.validate_label(r) for r in make_labels())
    out = tmp_path / "adjudications.sqlite"
    w = AuditWidget(make_items(), frame, adjudicator="lead", store=out)
    assert ids(w)[0] == "it1"
    w.adjudicate("it1", [["r1"], ["r2"]], "r1 is right")
    with open_store(out) as s:
        stored = s.labels()
    assert list(stored["source"]) == ["adjudication"]  # the frame's labels are not copied into the store
    with pytest.raises(TypeError, match="pass the store once"):
        AuditWidget(make_items(), out, store=out)
    with pytest.raises(TypeError, match="page_sze"):
        AuditWidget(make_items(), frame, page_sze=5)
    with pytest.raises(ValueError, match="not in items"):
        AuditWidget(make_items(3), frame)


# -- re-queue and named queues -------------------------------------------------------------------------------


def test_requeue_goes_to_the_store_and_rank_widget_opens_on_it(h: Harness, store_path: Path) -> None:
    reply = h.msg(type="requeue", item_ids=["it3", "it1"], reason="annotators split", queue="round2")
    assert reply["type"] == "ack", reply
    with open_store(store_path) as s:
        entries = queue_mod.queue_entries(s, "round2")
        assert list(entries["item_id"]) == ["it3", "it1"]
        assert set(entries["reason"]) == {"annotators split"} and set(entries["added_by"]) == {"lead"}
        assert s.queue_item_ids("round2", "eve") == ["it3", "it1"]
        w = RankWidget(make_items(), store=s, queue="round2", annotator="eve")
        assert w.queue_length == 2 and w.current_item["item_id"] == "it3"
    # re-queueing again keeps each item's first place
    h.w.requeue(["it1", "it0"], "another look", queue="round2")
    assert open_store(store_path).queue_item_ids("round2") == ["it3", "it1", "it0"]
    for change, field in [
        ({"reason": ""}, "reason"),
        ({"item_ids": []}, "item_ids"),
        ({"item_ids": ["nope"]}, "item_ids"),
        ({"queue": "disagreements"}, "queue"),
        ({"queue": "bad name!"}, "queue"),
    ]:
        bad = {"type": "requeue", "item_ids": ["it0"], "reason": "why", "queue": "round3", **change}
        reply = h.msg(**bad)
        assert reply["type"] == "reject" and reply["field"] == field, (change, reply)
    assert queue_mod.queue_names(open_store(store_path)) == ["round2"]


def test_computed_queues_skip_adjudicated_items(h: Harness, store_path: Path) -> None:
    with open_store(store_path) as s:
        scores = disagreement_scores(s.current())  # the store ranks this queue by its caller's scores
        assert s.queue_item_ids("disagreements", scores=scores) == ["it1", "it0", "it3"]
        assert s.queue_item_ids("flagged") == ["it3"]
    h.w.adjudicate("it1", [["r1"], ["r2"]], "decided")
    with open_store(store_path) as s:
        assert s.queue_item_ids("disagreements", scores=disagreement_scores(s.current())) == ["it0", "it3"]
        w = RankWidget(make_items(), store=s, queue="disagreements", annotator="eve")
        assert w.queue_length == 2
        with pytest.raises(ValueError, match="known queues"):
            s.queue_item_ids("round9")


def test_queues_per_annotator(store_target: str) -> None:
    with open_store(store_target) as s:
        assert s.schema_version == STORE_SCHEMA_VERSION >= 3
        queue_mod.requeue(s, ["a", "b"], queue="r2", reason="everyone", added_by="lead")
        queue_mod.requeue(s, ["c"], queue="r2", reason="only for ann", added_by="lead", annotator="ann")
        assert s.queue_item_ids("r2", "ann") == ["a", "b", "c"]
        assert s.queue_item_ids("r2", "bob") == ["a", "b"]
        with pytest.raises(ValueError, match="listed twice"):
            queue_mod.requeue(s, ["a", "a"], queue="r2", reason="x", added_by="lead")


def test_a_store_from_before_queues_is_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rank_widget.store import core, engine, tables

    queues_version = next(m.version for m in tables.MIGRATIONS if "queues" in m.description)
    older = tuple(m for m in tables.MIGRATIONS if m.version < queues_version)
    path = tmp_path / "old.sqlite"
    # write a store as the version before queues did (its migrations only)
    with monkeypatch.context() as m:
        m.setattr(core, "MIGRATIONS", older)
        m.setattr(core, "STORE_SCHEMA_VERSION", older[-1].version)
        m.setattr(engine, "STORE_SCHEMA_VERSION", older[-1].version)
        with open_store(path) as s:
            s.append_many(make_labels())
            assert s.schema_version == queues_version - 1
    con = sqlite3.connect(path)
    assert "queue_items" not in {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    con.close()
    with open_store(path) as s:
        assert s.schema_version == STORE_SCHEMA_VERSION
        queue_mod.requeue(s, ["it0"], queue="r2", reason="x", added_by="lead")
        assert s.queue_item_ids("r2") == ["it0"]
        assert len(s.labels()) == len(make_labels())


def test_ranking_items_refresh_and_paging(tmp_path: Path) -> None:
    items = pd.DataFrame(
        {
            "item_id": ["k0", "k1"],
            "prompt": [[{"role": "user", "content": "Rank these"}], "Rank those"],
            "responses": [[{"response_id": f"r{j}", "text": f"t{j}", "model": None} for j in (1, 2, 3)]] * 2,
        }
    )

    def rank(item: str, who: str, ranking: list[list[str]], n: int) -> dict[str, Any]:
        return {
            "label_id": f"{item}-{who}-{n}",
            "item_id": item,
            "annotator": who,
            "task": "ranking",
            "ranking": ranking,
            "submitted_at": T0 + timedelta(minutes=n),
            "source": "widget",
        }

    path = tmp_path / "rank.sqlite"
    with open_store(path) as s:
        s.append_many(
            [
                rank("k0", "ann", [["r1"], ["r2"], ["r3"]], 1),
                rank("k0", "bob", [["r1"], ["r2", "r3"]], 2),
                rank("k0", "cat", [["r1"], ["r2"], ["r3"]], 3),
                rank("k1", "ann", [["r3"], ["r2"], ["r1"]], 4),
            ]
        )
    w = AuditWidget(items, path, adjudicator="lead", page_size=1)
    assert ids(w) == ["k0", "k1"] and [r["item_id"] for r in w.rows] == ["k0"]
    d = w.open_item("k0")
    assert d["task"] == "ranking" and d["prompt"] == [{"role": "user", "content": "Rank these"}]
    assert d["majority"]["ranking"] == [["r1"], ["r2"], ["r3"]] and d["majority"]["strength"] is None
    w.adjudicate("k0", [["r1"], ["r3"], ["r2"]], "r3 is more complete")
    with pytest.raises(schema.LabelError, match="strength"):
        w.adjudicate("k0", [["r1"], ["r3"], ["r2"]], "x", strength=2)
    with pytest.raises(schema.LabelError, match="not ranked"):
        w.adjudicate("k0", [["r1"], ["r3"]], "missing r2")
    w.goto_page(1)
    assert [r["item_id"] for r in w.rows] == ["k1"]
    # a teammate labels k1 elsewhere: refresh picks it up, keeps the filters and the opened item
    w.set_filters(show="disagreements")
    assert ids(w) == ["k0"]
    with open_store(path) as s:
        s.append(rank("k1", "bob", [["r1"], ["r2"], ["r3"]], 5))
    w.refresh()
    assert ids(w) == ["k1", "k0"] and w.filters["show"] == "disagreements"
    assert w.detail["item_id"] == "k0" and w.detail["labels"][-1]["source"] == "adjudication"
