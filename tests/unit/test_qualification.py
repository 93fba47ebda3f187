"""Qualification (issue 11): scoring rules, registration and versions, attempts, grant/revoke, and the team
queue refusing unqualified annotators, on SQLite and PostgreSQL (``store_target`` runs both)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

import factories
from rank_widget import qualification as Q
from rank_widget.store import StoreError, open_store
from rank_widget.store.qualification import DEFAULT_SCORING, NotQualified, check_scoring

RULES = dict(DEFAULT_SCORING)
PAIR = {"item_id": "q0", "gold": {"winner": "r1", "strength": 2}}
TIE_ITEM = {"item_id": "q1", "gold": {"winner": "tie", "strength": 0}}


def _lab(winner: str | None = "r1", strength: int | None = 2, **kw: Any) -> dict[str, Any]:
    return {"label_id": "x", "status": "submitted", "winner": winner, "strength": strength, **kw}


# -- scoring rules ------------------------------------------------------------------------------------------


def test_pairwise_winner_and_strength_rules() -> None:
    assert Q.score_item(PAIR, _lab("r1", 3), RULES)["matched"]  # direction: strength ignored
    assert not Q.score_item(PAIR, _lab("r2", 2), RULES)["matched"]
    assert not Q.score_item(PAIR, _lab("tie", 0), RULES)["matched"]  # a tie never matches a winner
    within = {**RULES, "strength": "within_1"}
    assert Q.score_item(PAIR, _lab("r1", 3), within)["checks"] == {"winner": True, "strength": True}
    assert Q.score_item(PAIR, _lab("r1", 1), within)["matched"]
    exact = {**RULES, "strength": "exact"}
    s = Q.score_item(PAIR, _lab("r1", 3), exact)
    assert s["checks"] == {"winner": True, "strength": False} and not s["matched"]
    # wrong winner: the strength criterion fails too (it measures strength toward the right answer)
    assert Q.score_item(PAIR, _lab("r2", 2), exact)["checks"] == {"winner": False, "strength": False}


def test_gold_tie_rules() -> None:
    assert Q.score_item(TIE_ITEM, _lab("tie", 0), RULES)["matched"]
    assert not Q.score_item(TIE_ITEM, _lab("r1", 1), RULES)["matched"]  # tie="exact"
    weak = {**RULES, "tie": "weak_ok"}
    assert Q.score_item(TIE_ITEM, _lab("r1", 1), weak)["matched"]
    assert not Q.score_item(TIE_ITEM, _lab("r1", 2), weak)["matched"]


def test_unanswered_and_skipped_do_not_match() -> None:
    assert Q.score_item(PAIR, None, RULES) == {
        "item_id": "q0",
        "label_id": None,
        "matched": False,
        "checks": {"winner": False},
        "answered": False,
    }
    assert not Q.score_item(PAIR, {"status": "skipped", "label_id": "s"}, RULES)["matched"]


def test_kendall_tau_b_matches_scipy_docs_example() -> None:
    # scipy.stats.kendalltau documentation example: x = [12, 2, 1, 12, 2], y = [1, 4, 7, 1, 0] gives
    # tau-b = -0.47140452079103173. As tie groups (ascending value = group index, a monotone map):
    x = {"a": 12, "b": 2, "c": 1, "d": 12, "e": 2}
    y = {"a": 1, "b": 4, "c": 7, "d": 1, "e": 0}

    def groups(v: dict[str, int]) -> list[list[str]]:
        return [[k for k in v if v[k] == val] for val in sorted(set(v.values()))]

    assert Q.kendall_tau_b(groups(x), groups(y)) == pytest.approx(-0.47140452079103173)
    # By hand: a > b > c against b > a > c: 2 concordant pairs, 1 discordant, no ties: (2 - 1) / 3.
    assert Q.kendall_tau_b([["a"], ["b"], ["c"]], [["b"], ["a"], ["c"]]) == pytest.approx(1 / 3)
    assert math.isnan(Q.kendall_tau_b([["a", "b", "c"]], [["a"], ["b"], ["c"]]))


def test_ranking_threshold() -> None:
    item = {"item_id": "q", "gold": {"ranking": [["a"], ["b"], ["c"]]}}
    swapped = {"status": "submitted", "label_id": "l", "ranking": [["b"], ["a"], ["c"]]}
    s = Q.score_item(item, swapped, RULES)
    assert s["tau"] == pytest.approx(1 / 3) and not s["matched"]  # 1/3 < 0.6
    assert Q.score_item(item, swapped, {**RULES, "tau_threshold": 0.3})["matched"]
    same = {"status": "submitted", "label_id": "l", "ranking": [["a"], ["b"], ["c"]]}
    assert Q.score_item(item, same, RULES)["tau"] == pytest.approx(1.0)
    flat = {"item_id": "q", "gold": {"ranking": [["a", "b", "c"]]}}
    assert Q.score_item(flat, {**same, "ranking": [["a", "b", "c"]]}, RULES)["matched"]
    assert not Q.score_item(flat, same, RULES)["matched"]


def test_ratings_within_tolerance() -> None:
    item = {**PAIR, "gold_ratings": {"r1": {"helpful": 5, "honest": 4}, "r2": {"helpful": 2}}}
    good = _lab(ratings={"r1": {"helpful": 4, "honest": 4}, "r2": {"helpful": 3}})
    s = Q.score_item(item, good, RULES)
    assert s["checks"] == {"winner": True, "rating:helpful": True, "rating:honest": True}
    far = _lab(ratings={"r1": {"helpful": 3, "honest": 4}, "r2": {"helpful": 2}})
    assert Q.score_item(item, far, RULES)["checks"]["rating:helpful"] is False
    assert Q.score_item(item, far, {**RULES, "rating_tolerance": 2})["matched"]
    missing = _lab(ratings={"r1": {"helpful": 5}})
    assert Q.score_item(item, missing, RULES)["checks"]["rating:honest"] is False


def test_breakdown_per_criterion() -> None:
    scored = [
        {"matched": True, "checks": {"winner": True, "rating:h": True}},
        {"matched": False, "checks": {"winner": True, "rating:h": False}},
        {"matched": False, "checks": {"winner": False}},
    ]
    table = Q.breakdown(scored)
    assert table["winner"] == {"n": 3, "matched": 2, "rate": 2 / 3}
    assert table["rating:h"] == {"n": 2, "matched": 1, "rate": 0.5}
    assert table["overall"] == {"n": 3, "matched": 1, "rate": 1 / 3}


@pytest.mark.parametrize(
    ("scoring", "message"),
    [
        ({"strength": "loose"}, "scoring['strength'] must be one of"),
        ({"tie": 1}, "scoring['tie'] must be one of"),
        ({"tau_threshold": 2}, "from -1 to 1"),
        ({"rating_tolerance": -1}, "integer >= 0"),
        ({"tau": 0.5}, "unknown rule 'tau'"),
    ],
)
def test_scoring_rules_are_validated(scoring: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        check_scoring(scoring)


# -- the store ----------------------------------------------------------------------------------------------


def _qitems(n: int = 5, prefix: str = "q") -> pd.DataFrame:
    return factories.make_items(n, prefix=prefix, gold=lambda i: "r1", explanation="**r1** follows rule {i}")


def _answer(store: Any, annotator: str, items: pd.DataFrame, winners: list[str], n: int = 0) -> None:
    for iid, w in zip(items["item_id"], winners, strict=True):
        factories.append_verdict(
            store, f"{annotator}:{iid}:{n}", iid, annotator, w, submitted_at="2026-12-01T10:00:00+00:00"
        )


def _take(store: Any, annotator: str, items: pd.DataFrame, winners: list[str], n: int = 0) -> Q.AttemptResult:
    att = Q.start_attempt(store, "q-v1", annotator)
    _answer(store, annotator, items, winners, n)
    return Q.finish_attempt(store, att["attempt_id"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gold": [None, "r1", "r1", "r1", "r1"]}, "qualification item 0 ('q000'): field 'gold' is missing"),
        ({"gold": ["r9", "r1", "r1", "r1", "r1"]}, "gold winner 'r9' is not one of the responses"),
        ({"gold": ["r1", {"winner": "r1", "strength": 0}, "r1", "r1", "r1"]}, "only a tie has strength 0"),
    ],
)
def test_bad_gold_is_refused_naming_the_item(store_target: str, change: dict[str, Any], message: str) -> None:
    items = _qitems()
    for col, values in change.items():
        items[col] = values
    with open_store(store_target) as s:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            s.register_qualification("q-v1", items)
        assert s.db.query("SELECT count(*) FROM qualifications") == [(0,)]  # nothing stored


@pytest.mark.parametrize("pass_mark", [0, -0.1, 1.01, True, "0.8"])
def test_pass_mark_outside_0_1(pass_mark: Any) -> None:
    refused = pytest.raises(ValueError, match=r"pass_mark must be a share .* \(0, 1\]")
    with open_store(":memory:") as s, refused:
        s.register_qualification("q-v1", _qitems(), pass_mark=pass_mark)


def test_unknown_qualification_name(store_target: str) -> None:
    with open_store(store_target) as s:
        s.register_qualification("q-v1", _qitems())
        s.register_items("prod", ["p1"], overlap=1)
        for call in (
            lambda: s.require_qualification("prod", "q-v2"),
            lambda: s.qualification_status("q-v2", "ann"),
            lambda: Q.start_attempt(s, "q-v2", "ann"),
            lambda: s.grant_qualification("q-v2", "ann", reason="r", by="lead"),
        ):
            with pytest.raises(ValueError, match=r"no qualification 'q-v2'; registered: \['q-v1'\]"):
                call()


def test_item_in_both_qualification_and_production(store_target: str) -> None:
    with open_store(store_target) as s:
        s.register_items("prod", ["p1", "q001"], overlap=1)
        with pytest.raises(ValueError, match="item 'q001' is also a production item of team dataset 'prod'"):
            s.register_qualification("q-v1", _qitems())
        s.register_qualification("other", _qitems(prefix="z"))
        with pytest.raises(ValueError, match="item 'z002' is an item of qualification 'other'"):
            s.register_items("prod", ["p2", "z002"])
        assert {r[0] for r in s.db.query("SELECT item_id FROM team_items")} == {"p1", "q001"}  # unchanged


def test_versions(store_target: str) -> None:
    with open_store(store_target) as s:
        items = _qitems()
        assert s.register_qualification("q-v1", items) == 1
        assert s.register_qualification("q-v1", items) == 1  # same content: same version
        assert s.register_qualification("q-v1", items, pass_mark=0.6) == 2
        changed = items.copy()
        changed.loc[0, "explanation"] = "new wording"
        assert s.register_qualification("q-v1", changed, pass_mark=0.6) == 3
        q = s.qualification("q-v1")
        assert (q["version"], q["pass_mark"], q["items"][0]["explanation"]) == (3, 0.6, "new wording")
        assert q["items"][0]["gold"] == {"winner": "r1", "strength": None}
        assert s.qualification("q-v1", 1)["pass_mark"] == 0.8


def test_queue_refuses_until_passed_then_serves(store_target: str) -> None:
    items = _qitems()
    with open_store(store_target) as s:
        s.register_qualification("q-v1", items, pass_mark=0.8, max_attempts=2)
        s.register_items("prod", [f"p{i}" for i in range(6)], overlap=2)
        s.require_qualification("prod", "q-v1")
        never = "requires qualification 'q-v1'; 'ann' has not taken it yet"
        with pytest.raises(NotQualified, match=never) as e:
            s.claim_next("prod", "ann")
        assert "qualification='q-v1'" in str(e.value)  # says what to do
        with pytest.raises(NotQualified):
            s.claim("prod", "ann", 3)
        assert s.leases("prod").empty
        failed = _take(s, "ann", items, ["r1", "r2", "r2", "r1", "r1"])
        assert (failed.passed, failed.score, failed.attempts_left) == (False, 0.6, 1)
        assert [r["item_id"] for r in failed.review] == ["q001", "q002"]
        assert failed.review[0]["explanation"] == "**r1** follows rule 1"
        assert failed.breakdown["winner"] == {"n": 5, "matched": 3, "rate": 0.6}
        with pytest.raises(NotQualified, match="'ann' did not pass it"):
            s.claim_next("prod", "ann")
        passed = _take(s, "ann", items, ["r1"] * 5, n=1)
        assert (passed.passed, passed.score, passed.attempt) == (True, 1.0, 2)
        assert s.claim("prod", "ann", 2) == ["p0", "p1"]
        attempts = s.qualification_attempts("q-v1", "ann")
        assert attempts["passed"].tolist() == [False, True]
        assert attempts["score"].tolist() == [0.6, 1.0]
        stored = s.db.query("SELECT count(*), sum(matched) FROM qualification_results")
        assert [tuple(int(v) for v in r) for r in stored] == [(10, 8)]


def test_requiring_releases_leases_of_the_unqualified(store_target: str) -> None:
    with open_store(store_target) as s:
        s.register_qualification("q-v1", _qitems(2))
        s.register_items("prod", ["p0", "p1", "p2"], overlap=1)
        assert s.claim_next("prod", "ann") == "p0"
        assert s.claim_next("prod", "bo") == "p1"
        s.grant_qualification("q-v1", "bo", reason="trained in person", by="lead")
        s.require_qualification("prod", "q-v1")
        assert s.leases("prod")["annotator"].tolist() == ["bo"]  # ann's lease went back to the pool


def test_attempts_cooldown_reset_grant_revoke(store_target: str) -> None:
    items = _qitems(3)
    with open_store(store_target) as s:
        s.register_qualification("q-v1", items, pass_mark=1.0, max_attempts=2, cooldown=3600)
        s.register_items("prod", ["p0", "p1", "p2"], overlap=1)
        s.require_qualification("prod", "q-v1")
        first = _take(s, "bo", items, ["r2", "r1", "r1"])
        assert not first.passed and first.retry_at is not None
        assert "Retry allowed in 60 min" in first.message()
        with pytest.raises(NotQualified, match="can retry qualification 'q-v1' in 60 min"):
            Q.start_attempt(s, "q-v1", "bo")
        s.reset_qualification("q-v1", "bo", reason="reviewed the misses together", by="lead")
        second = _take(s, "bo", items, ["r2", "r2", "r1"], n=1)
        assert second.attempts_left == 1  # the reset restarted the count
        with pytest.raises(NotQualified, match="cool-down"):
            Q.start_attempt(s, "q-v1", "bo")
        s.grant_qualification("q-v1", "bo", reason="senior annotator, vouched for", by="lead")
        assert s.qualification_status("q-v1", "bo")["qualified"]
        assert s.claim_next("prod", "bo") == "p0"
        s.revoke_qualification("q-v1", "bo", reason="gold accuracy fell to 40%", by="lead")
        assert s.leases("prod", "bo").empty  # the active lease went back to the pool
        with pytest.raises(NotQualified, match="had it revoked by a lead"):
            s.claim_next("prod", "bo")
        ev = s.qualification_events("q-v1")
        assert ev["event"].tolist() == ["failed", "reset", "failed", "granted", "revoked"]
        assert ev["reason"].tolist()[-2:] == ["senior annotator, vouched for", "gold accuracy fell to 40%"]
        assert ev["actor"].tolist()[-1] == "lead"
        with pytest.raises(ValueError, match="reason must be a non-empty string"):
            s.revoke_qualification("q-v1", "bo", reason=" ", by="lead")


def test_max_attempts_then_no_more(store_target: str) -> None:
    items = _qitems(2)
    with open_store(store_target) as s:
        s.register_qualification("q-v1", items, max_attempts=1)
        assert not _take(s, "cy", items, ["r2", "r2"]).passed
        with pytest.raises(NotQualified, match="has used all 1 attempts"):
            Q.start_attempt(s, "q-v1", "cy")


def test_requalify_for_everyone(store_target: str) -> None:
    items = _qitems(2)
    with open_store(store_target) as s:
        s.register_qualification("q-v1", items)
        s.register_items("prod", ["p0", "p1", "p2"], overlap=3)
        s.require_qualification("prod", "q-v1")
        assert _take(s, "ann", items, ["r1", "r1"]).passed
        assert s.claim_next("prod", "ann") == "p0"
        s.requalify("q-v1", reason="guidelines v2: ties need a rationale", by="lead")
        assert s.leases("prod").empty
        with pytest.raises(NotQualified, match="must take it again"):
            s.claim_next("prod", "ann")
        assert _take(s, "ann", items, ["r1", "r1"], n=1).passed  # the new attempt's labels, not the old
        assert s.claim_next("prod", "ann") is not None


def test_attempt_counts_only_its_own_labels(store_target: str) -> None:
    items = _qitems(2)
    with open_store(store_target) as s:
        s.register_qualification("q-v1", items)
        _answer(s, "dee", items, ["r1", "r1"])  # before the attempt: not part of it
        att = Q.start_attempt(s, "q-v1", "dee")
        result = Q.finish_attempt(s, att["attempt_id"])
        assert result.score == 0.0 and [i["answered"] for i in result.items] == [False, False]


def test_migration_from_v3_store(tmp_path: Any) -> None:
    from rank_widget.store import STORE_SCHEMA_VERSION

    path = tmp_path / "s.sqlite"
    with open_store(path) as s:
        assert s.schema_version == STORE_SCHEMA_VERSION
        s.register_qualification("q-v1", _qitems(2))
    with open_store(path) as s:
        assert s.qualification("q-v1")["version"] == 1


def test_unknown_dataset_still_errors_before_qualification(store_target: str) -> None:
    with open_store(store_target) as s, pytest.raises(StoreError, match="no team dataset 'nope'"):
        s.claim_next("nope", "ann")


@pytest.mark.postgres
def test_access_control_the_claim_function_enforces_it(pg_url: str) -> None:
    """With team.setup, claims go through the rw_claim SECURITY DEFINER function: it refuses too, an annotator
    records only their own attempt's outcome, and only a lead grants."""
    from rank_widget.store import AccessDenied

    url = factories.team_urls(pg_url, ["alice", "bob"], ["lead"])
    items = _qitems(2)
    with open_store(url["lead"]) as lead:
        lead.register_qualification("q-v1", items)
        lead.register_items("prod", [f"p{i}" for i in range(4)], overlap=2)
        lead.require_qualification("prod", "q-v1")
    with open_store(url["alice"]) as a:
        with pytest.raises(NotQualified, match="requires qualification 'q-v1', which 'alice' has not passed"):
            a.claim("prod", "alice", 2)
        assert _take(a, "alice", items, ["r1", "r1"]).passed
        assert a.claim("prod", "alice", 2) == ["p0", "p1"]
        with pytest.raises(AccessDenied):
            a.grant_qualification("q-v1", "bob", reason="friend", by="alice")
    with open_store(url["bob"]) as b:
        with pytest.raises(NotQualified):
            b.claim("prod", "bob", 1)
        with pytest.raises(AccessDenied):  # a pass with no attempt of his: refused by the database
            b.db.query(
                "INSERT INTO qualification_events (name, annotator, event, reason, actor, at) "
                "VALUES ('q-v1', 'bob', 'passed', 'forged', 'bob', 0) RETURNING seq"
            )
    with open_store(url["lead"]) as lead:
        lead.grant_qualification("q-v1", "bob", reason="passed the paper test", by="lead")
    with open_store(url["bob"]) as b:
        assert b.claim("prod", "bob", 1) == ["p0"]


# -- calibration while labelling ----------------------------------------------------------------------------


def _gold_labels(annotator: str, winners: list[str]) -> list[dict[str, Any]]:
    return [
        factories.label(
            f"{annotator}:{i}",
            f"g{i:02d}",
            annotator,
            status="submitted",
            winner=w,
            strength=factories.decisive_strength(w),
            ranking=[[w], [{"r1": "r2", "r2": "r1"}[w]]],
            display_order=["r1", "r2"],
            submitted_at=f"2026-12-01T10:{i:02d}:00+00:00",
            active_ms=4000,
        )
        for i, w in enumerate(winners)
    ]


def test_rolling_gold_accuracy_in_report_and_monitor(store_target: str) -> None:
    from rank_widget.quality import annotator_report
    from rank_widget.team import TeamMonitor

    items = factories.make_items(10, prefix="g", item_id="g{i:02d}")  # gold r1 > r2 on each
    slipping = ["r1"] * 5 + ["r2"] * 5  # right on the first 5 gold items, wrong on the last 5
    steady = ["r1"] * 9 + ["r2"]
    labels = factories.frame(*_gold_labels("ann", slipping), *_gold_labels("bo", steady))
    report = annotator_report(labels, items, gold_window=5, gold_threshold=0.7).set_index("annotator")
    assert report.loc["ann", "gold_accuracy"] == 0.5  # overall it looks middling...
    assert (report.loc["ann", "gold_recent_accuracy"], report.loc["ann", "gold_recent_n"]) == (0.0, 5)
    assert report.loc["ann", "gold_alert"]  # ...but the last 5 gold items are all wrong
    assert (report.loc["bo", "gold_recent_accuracy"], bool(report.loc["bo", "gold_alert"])) == (0.8, False)
    wide = annotator_report(labels, items, gold_window=20).set_index("annotator")
    assert (wide.loc["ann", "gold_recent_accuracy"], bool(wide.loc["ann", "gold_alert"])) == (0.5, True)
    with pytest.raises(ValueError, match="gold_window must be an integer >= 1"):
        annotator_report(labels, items, gold_window=0)
    with open_store(store_target) as s:
        s.append_many(_gold_labels("ann", slipping) + _gold_labels("bo", steady))
        snap = TeamMonitor(s, items=items, gold_window=5).snapshot()["annotators"].set_index("annotator")
        assert snap.loc["ann", "gold_recent_accuracy"] == 0.0 and snap.loc["ann", "gold_alert"]
        assert not snap.loc["bo", "gold_alert"]
