"""Qualification under PostgreSQL access control (``team.setup``; docs/security.md): an annotator with their
own database credentials cannot read an item's answer before labelling it, cannot record a pass without
labelling the gold items correctly, and the honest path (label -> pass -> production claim, the widget's
training mode) still works. The database scores with SQL functions that must equal
``rank_widget.qualification``."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg
import pytest

import factories
from rank_widget import qualification as Q
from rank_widget.store import AccessDenied, open_store
from rank_widget.store import qualification as stored
from rank_widget.store.qualification import NotQualified
from rank_widget.widget import RankWidget

pytestmark = pytest.mark.postgres
N = 3


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _qitems() -> pd.DataFrame:
    return factories.make_items(
        N, prefix="q", gold=lambda i: "r2" if i == 1 else "r1", explanation="SECRET-{i}: why"
    )


@pytest.fixture
def team_db(pg_url: str) -> Iterator[dict[str, str]]:
    # setup is idempotent: run twice, as adding people does
    urls = factories.team_urls(pg_url, ["alice", "bob"], ["lead"], times=2)
    urls["admin"] = pg_url
    with open_store(urls["lead"]) as lead:
        lead.register_qualification("q-v1", _qitems(), pass_mark=1.0, max_attempts=2)
        lead.register_items("prod", [f"p{i:03d}" for i in range(4)], overlap=2)
        lead.require_qualification("prod", "q-v1")
    yield urls


def _label(store: Any, who: str, iid: str, winner: str, tag: str) -> None:
    factories.append_verdict(
        store, f"{who}:{iid}:{tag}", iid, who, winner, submitted_at="2026-12-02T10:00:00+00:00"
    )


def _refused(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> str:
    """Run ``sql`` as the connected annotator; it must be refused (the transaction is rolled back)."""
    with pytest.raises(psycopg.Error) as err:
        conn.execute(sql, params)
    conn.rollback()
    return str(err.value)


# -- the SQL scoring equals the Python scoring -------------------------------------------------------------


def _groups(ranks: list[int], ids: list[str]) -> list[list[str]]:
    return [[i for i, r in zip(ids, ranks, strict=True) if r == v] for v in sorted(set(ranks))]


def test_sql_kendall_tau_b_equals_scipy(pg_url: str, team_db: dict[str, str]) -> None:
    """rw_tau_b against scipy.stats.kendalltau (via kendall_tau_b) on every ranking of 4 responses with ties
    against several golds, plus the scipy documentation's example (x=[12,2,1,12,2], y=[1,4,7,1,0]:
    tau-b = -0.47140452079103173,
    docs.scipy.org/doc/scipy/reference/generated/scipy.stats.kendalltau.html)."""
    rankings = {tuple(_rank_ids(r)) for r in itertools.product(range(4), repeat=4)}
    golds = [[["a"], ["b"], ["c"], ["d"]], [["a", "b"], ["c"], ["d"]], [["d"], ["a", "b", "c"]]]
    cases = [(g, [list(x) for x in r]) for g in golds for r in sorted(rankings)]
    x, y = [12, 2, 1, 12, 2], [1, 4, 7, 1, 0]
    five = ["v", "w", "x", "y", "z"]
    cases.append((_groups([-v for v in x], five), _groups([-v for v in y], five)))
    cases.append((golds[0], [["a"], ["b"], ["c"]]))  # another set of responses: undefined
    with psycopg.connect(_libpq(team_db["alice"])) as conn:
        got = [
            conn.execute("SELECT rw_tau_b(%s::jsonb, %s::jsonb)", (json.dumps(g), json.dumps(r))).fetchone()[
                0
            ]
            for g, r in cases
        ]
    assert len(cases) > 150
    for (g, r), sql in zip(cases, got, strict=True):
        want = Q.kendall_tau_b(g, r)
        if math.isnan(want):
            assert sql is None, (g, r, sql)
        else:
            assert sql == pytest.approx(want, abs=1e-12), (g, r)
    assert got[-2] == pytest.approx(-0.47140452079103173, abs=1e-12)


def _rank_ids(ranks: tuple[int, ...]) -> list[tuple[str, ...]]:
    ids = ["a", "b", "c", "d"]
    return [tuple(i for i, r in zip(ids, ranks, strict=True) if r == v) for v in sorted(set(ranks))]


def _random_case(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    rules = {
        "strength": rng.choice(["direction", "within_1", "exact"]),
        "tie": rng.choice(["exact", "weak_ok"]),
        "tau_threshold": rng.choice([-0.2, 0.0, 0.33, 0.6, 1.0]),
        "rating_tolerance": rng.choice([0, 1, 2]),
    }
    ids = ["r1", "r2", "r3"][: rng.choice([2, 3])]
    if len(ids) == 2 and rng.random() < 0.6:
        w = rng.choice(["r1", "r2", "tie"])
        gold: dict[str, Any] = {"winner": w, "strength": 0 if w == "tie" else rng.choice([None, 1, 2, 3])}
    else:
        ranks = [rng.randrange(len(ids)) for _ in ids]
        gold = {"ranking": _groups(ranks, ids)}
    gold_ratings = None
    if rng.random() < 0.4:
        gold_ratings = {rid: {"helpful": rng.randrange(1, 6)} for rid in ids if rng.random() < 0.8} or None
    item = {"item_id": "x", "gold": gold, "gold_ratings": gold_ratings}
    if rng.random() < 0.1:
        return item, None, rules
    label: dict[str, Any] = {"label_id": "L", "status": "submitted" if rng.random() < 0.9 else "skipped"}
    if "winner" in gold:
        lw = rng.choice(["r1", "r2", "tie"])
        label.update(winner=lw, strength=0 if lw == "tie" else rng.choice([1, 2, 3]))
    else:
        label["ranking"] = _groups([rng.randrange(len(ids)) for _ in ids], ids)
    if gold_ratings and rng.random() < 0.9:
        label["ratings"] = {rid: {"helpful": rng.randrange(1, 6)} for rid in ids if rng.random() < 0.9}
    return item, label, rules


def test_sql_item_scoring_equals_python(pg_url: str, team_db: dict[str, str]) -> None:
    """rw_qual_score against score_item on 600 random items, labels and rule settings (pairwise winner, tie
    and strength rules; rankings with ties and thresholds; ratings with tolerances; skipped, unanswered)."""
    rng = random.Random(11)
    cases = [_random_case(rng) for _ in range(600)]
    with psycopg.connect(_libpq(team_db["alice"])) as conn:
        for item, label, rules in cases:
            lab = label or {}
            (sql,) = conn.execute(
                "SELECT rw_qual_score(%s::jsonb, %s::jsonb, %s::jsonb, %s, %s, %s, %s::jsonb, %s::jsonb)",
                (
                    json.dumps(item["gold"]),
                    None if item["gold_ratings"] is None else json.dumps(item["gold_ratings"]),
                    json.dumps(rules),
                    lab.get("status"),
                    lab.get("winner"),
                    lab.get("strength"),
                    None if lab.get("ranking") is None else json.dumps(lab["ranking"]),
                    None if lab.get("ratings") is None else json.dumps(lab["ratings"]),
                ),
            ).fetchone()
            want = Q.score_item(item, label, rules)
            where = (item, label, rules)
            assert sql["matched"] == want["matched"], where
            assert sql["checks"] == {k: bool(v) for k, v in want["checks"].items()}, where
            if want.get("tau") is not None:
                assert sql["tau"] == pytest.approx(want["tau"], abs=1e-12), where
    matched = sum(Q.score_item(*c)["matched"] for c in cases)
    assert 60 < matched < 540  # both outcomes well represented


# -- forging a pass and reading the answers ----------------------------------------------------------------


def test_forged_pass_is_refused(team_db: dict[str, str]) -> None:
    with open_store(team_db["alice"]) as a:
        att = Q.start_attempt(a, "q-v1", "alice")
    aid = att["attempt_id"]
    tries = []
    with psycopg.connect(_libpq(team_db["alice"])) as conn:
        tries.append(
            _refused(
                conn,
                "INSERT INTO qualification_events (name, annotator, event, reason, actor, at, attempt_id) "
                "VALUES ('q-v1', 'alice', 'passed', 'forged', 'alice', 0, %s)",
                (aid,),
            )
        )
        tries.append(
            _refused(
                conn, "UPDATE qualification_attempts SET passed = 1, score = 1 WHERE attempt_id = %s", (aid,)
            )
        )
        tries.append(
            _refused(
                conn,
                "INSERT INTO qualification_attempts (attempt_id, name, version, annotator, attempt, "
                "start_seq, "
                "started_at, finished_at, score, passed) VALUES ('f', 'q-v1', 1, 'alice', 9, 0, 0, 0, 1, 1)",
            )
        )
        tries.append(
            _refused(
                conn,
                "INSERT INTO qualification_results (attempt_id, item_id, label_id, matched, detail) "
                "VALUES (%s, 'q000', NULL, 1, '{}')",
                (aid,),
            )
        )
        # a second open attempt (to relabel after seeing the answers in the first) is refused
        tries.append(
            _refused(
                conn,
                "INSERT INTO qualification_attempts (attempt_id, name, version, annotator, attempt, "
                "start_seq, "
                "started_at) VALUES ('second', 'q-v1', 1, 'alice', 2, 0, 0)",
            )
        )
        # the tables' owner's scoring path is not open to her: finishing someone else's attempt neither
        tries.append(_refused(conn, "SELECT rw_finish_qualification('no-such-attempt')"))
    assert all(
        "permission denied" in t or "row-level security" in t or "no qualification" in t for t in tries
    )
    with open_store(team_db["bob"]) as b:
        batt = Q.start_attempt(b, "q-v1", "bob")
    with psycopg.connect(_libpq(team_db["alice"])) as conn:
        assert "may not finish" in _refused(conn, "SELECT rw_finish_qualification(%s)", (batt["attempt_id"],))
    # finishing her own attempt without labelling is a fail, never a pass; the queue still refuses
    with open_store(team_db["alice"]) as a:
        result = Q.finish_attempt(a, aid)
        assert not result.passed and result.score == 0
        assert a.qualification_events("q-v1")["event"].tolist() == ["failed"]
        with pytest.raises(NotQualified):
            a.claim("prod", "alice", 1)


def test_answers_unreadable_before_labelling(team_db: dict[str, str]) -> None:
    with psycopg.connect(_libpq(team_db["alice"])) as conn:
        for col in ("gold", "gold_ratings", "explanation", "*"):
            assert "permission denied" in _refused(conn, f"SELECT {col} FROM qualification_items")
        assert "permission denied" in _refused(conn, "SELECT digest FROM qualifications")
        assert conn.execute("SELECT count(*) FROM rw_qualification_answers('q-v1', 1)").fetchone()[0] == 0
        assert (
            conn.execute("SELECT count(*) FROM qualification_items").fetchone()[0] == N
        )  # content is public
    with open_store(team_db["alice"]) as a:
        att = Q.start_attempt(a, "q-v1", "alice")
        spec = stored.qualification(a, "q-v1")
        assert [i["gold"] for i in spec["items"]] == [None] * N
        assert not any("SECRET" in json.dumps(i) for i in spec["items"])
        _label(a, "alice", "q000", "r1", "1")
        revealed = stored.answers(a, "q-v1", att["version"])
        assert list(revealed) == ["q000"] and revealed["q000"]["explanation"] == "SECRET-0: why"
        assert revealed["q000"]["gold"] == {"winner": "r1", "strength": None}
    with open_store(team_db["bob"]) as b:  # alice's label reveals nothing to bob
        assert stored.answers(b, "q-v1", 1) == {}
    with open_store(team_db["lead"]) as lead:  # a lead reads every answer
        assert [i["gold"]["winner"] for i in stored.qualification(lead, "q-v1")["items"]] == [
            "r1",
            "r2",
            "r1",
        ]


def test_honest_pass_then_claim_and_revision_after_feedback_does_not_count(team_db: dict[str, str]) -> None:
    with open_store(team_db["alice"]) as a:
        att = Q.start_attempt(a, "q-v1", "alice")
        for iid, w in zip(["q000", "q001", "q002"], ["r1", "r2", "r1"], strict=True):
            _label(a, "alice", iid, w, "1")
        result = Q.finish_attempt(a, att["attempt_id"])
        assert result.passed and result.score == 1.0
        assert result.breakdown["overall"] == {"n": N, "matched": N, "rate": 1.0}
        assert a.qualification_attempts("q-v1", "alice")["passed"].tolist() == [True]
        assert a.claim("prod", "alice", 2) == ["p000", "p001"]
    with open_store(team_db["bob"]) as b:
        att = Q.start_attempt(b, "q-v1", "bob")
        _label(b, "bob", "q000", "r2", "1")  # wrong; the answer is now readable
        assert stored.answers(b, "q-v1", 1)["q000"]["gold"]["winner"] == "r1"
        _label(b, "bob", "q000", "r1", "2")  # a revision after seeing it: the first label counts
        _label(b, "bob", "q001", "r2", "1")
        _label(b, "bob", "q002", "r1", "1")
        result = Q.finish_attempt(b, att["attempt_id"])
        assert not result.passed and result.score == pytest.approx(2 / 3)
        assert [r["item_id"] for r in result.review] == ["q000"]
        assert result.review[0]["explanation"] == "SECRET-0: why"
        with pytest.raises(NotQualified):
            b.claim("prod", "bob", 1)
        with pytest.raises(AccessDenied):
            b.grant_qualification("q-v1", "bob", reason="self", by="bob")


def test_training_mode_under_access_control(team_db: dict[str, str]) -> None:
    """The widget's training flow (tests/unit/test_training.py) on a store with access control, as alice."""
    from test_training import _submit

    prod = factories.make_items(4, prefix="p", gold=None)
    w = RankWidget(
        prod, annotator="alice", store=team_db["alice"], dataset="prod", qualification="q-v1", seed=1
    )
    wire = factories.Wire(w)
    assert w._queue.ids == ["q000", "q001", "q002"]
    assert not any("SECRET" in json.dumps(i, default=str) for i in w._training.spec["items"])
    wire.custom(_submit(w, 0, "c-0", "r2"))  # wrong
    fb = w.training["feedback"]
    assert fb["matched"] is False and fb["explanation"] == "SECRET-0: why"
    wire.custom({"type": "feedback_read", "item_id": "q000"})
    for i, winner in ((1, "r2"), (2, "r1")):
        wire.custom(_submit(w, i, f"c-{i}", winner))
        assert wire.customs()[-1]["type"] == "ack", wire.customs()[-1]
        assert w.training["feedback"]["matched"] is True
        wire.custom({"type": "feedback_read", "item_id": f"q{i:03d}"})
    result = w.training["result"]
    assert result["passed"] is False and result["score"] == pytest.approx(2 / 3)
    assert result["review"] == [{"position": 0, "explanation": "SECRET-0: why"}]
    first = wire.first_with("SECRET-1")
    acked = next(k for k, m in enumerate(wire.sent) if m.get("content", {}).get("client_id") == "c-1")
    assert first is not None and first > acked
    w2 = RankWidget(
        prod, annotator="alice", store=team_db["alice"], dataset="prod", qualification="q-v1", seed=1
    )
    wire2 = factories.Wire(w2)
    for i, winner in enumerate(["r1", "r2", "r1"]):
        wire2.custom(_submit(w2, i, f"d-{i}", winner))
        wire2.custom({"type": "feedback_read", "item_id": f"q{i:03d}"})
    assert w2.training["result"]["passed"] is True
    w3 = RankWidget(prod, annotator="alice", store=team_db["alice"], dataset="prod", seed=1)
    assert w3._training is None and w3._queue.ids[0].startswith("p")


def test_label_seq_is_the_servers(team_db: dict[str, str]) -> None:
    """The first label per item counts, ordered by seq: a label inserted with a chosen seq (a wrong guess
    placed last, then the right answer placed first after seeing the answer) gets the server's next seq."""
    with open_store(team_db["alice"]) as a:
        att = Q.start_attempt(a, "q-v1", "alice")
        _label(a, "alice", "q001", "r2", "1")  # a template row to copy
    with psycopg.connect(_libpq(team_db["alice"])) as conn:
        cols = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'labels' "
                "AND column_name NOT IN ('label_id', 'item_id', 'winner', 'seq', 'revision') "
                "ORDER BY ordinal_position"
            )
        ]
        copy = (
            f"INSERT INTO labels (label_id, item_id, winner, seq, revision, {', '.join(cols)}) "
            f"SELECT %s, 'q000', %s, %s, %s, {', '.join(cols)} FROM labels WHERE label_id = 'alice:q001:1'"
        )
        conn.execute(copy, ("hi", "r2", 10**12, 1))  # wrong, "last"
        conn.commit()
        revealed = conn.execute("SELECT gold FROM rw_qualification_answers('q-v1', 1)").fetchall()
        assert len(revealed) == 2  # q000's answer is now readable
        conn.execute(copy, ("lo", "r1", att["start_seq"] + 1, 2))  # right, "first"
        conn.commit()
        seqs = dict(conn.execute("SELECT label_id, seq FROM labels WHERE item_id = 'q000'").fetchall())
    assert seqs["hi"] < seqs["lo"] < 10**12
    with open_store(team_db["alice"]) as a:
        _label(a, "alice", "q002", "r1", "1")
        result = Q.finish_attempt(a, att["attempt_id"])
    assert not result.passed and [r["item_id"] for r in result.review] == ["q000"]


def test_attempts_and_cooldown_hold_against_raw_sql(team_db: dict[str, str]) -> None:
    """An attempt opened with raw SQL (skipping start_attempt's checks, with a made-up started_at) is refused
    at the finish during the cool-down, and after max_attempts failures."""
    with open_store(team_db["lead"]) as lead:
        lead.register_qualification("q-cool", _qitems().assign(item_id=["c0", "c1", "c2"]), cooldown=3600)
        lead.register_qualification("q-max", _qitems().assign(item_id=["m0", "m1", "m2"]), max_attempts=1)
    with open_store(team_db["alice"]) as a:
        for name in ("q-cool", "q-max"):
            assert not Q.finish_attempt(a, Q.start_attempt(a, name, "alice")["attempt_id"]).passed
        with pytest.raises(NotQualified):
            Q.start_attempt(a, "q-cool", "alice")
    with psycopg.connect(_libpq(team_db["alice"])) as conn:
        for name, aid, prefix in (("q-cool", "raw-c", "c"), ("q-max", "raw-m", "m")):
            conn.execute(
                "INSERT INTO qualification_attempts (attempt_id, name, version, annotator, attempt, "
                "start_seq, "
                "started_at) VALUES (%s, %s, 1, 'alice', 2, 0, 1e12)",
                (aid, name),
            )
            conn.commit()
            with open_store(team_db["alice"]) as a:
                for i, w in enumerate(["r1", "r2", "r1"]):
                    _label(a, "alice", f"{prefix}{i}", w, "2")
            why = _refused(conn, "SELECT rw_finish_qualification(%s)", (aid,))
            assert ("cool-down" if name == "q-cool" else "has used all 1 attempts") in why, why
    with open_store(team_db["alice"]) as a:
        events = a.qualification_events()
        assert "passed" not in events["event"].tolist()
