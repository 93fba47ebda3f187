"""schema: the label contract (validate_label rules and messages, frames and dtypes, derived views)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest

import factories
from rank_widget.schema import (
    COLUMN_NAMES,
    COLUMNS,
    DATETIME_COLUMNS,
    INT_COLUMNS,
    JSON_COLUMNS,
    MAX_FLAG_NOTE_CHARS,
    MAX_FLAGS,
    MAX_ID_CHARS,
    MAX_RATIONALE_CHARS,
    MAX_SCALE,
    PAIR_COLUMNS,
    RATINGS_LONG_COLUMNS,
    STR_COLUMNS,
    TIME_DTYPE,
    LabelError,
    LabelRules,
    check_labels_frame,
    coerce_labels,
    current_labels,
    empty_labels,
    labels_frame,
    pairs,
    pairwise_to_ranking,
    rank_of,
    ratings_long,
    text_problem,
    validate_label,
)

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
AB = ["a", "b"]


def rec(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"label_id": "L1", "item_id": "I1", "annotator": "ann", "task": "pairwise"}
    return factories.label(**{**base, "winner": "a", "strength": 2, "submitted_at": T0, **over})


def fails(record: dict[str, Any], field: str, fragment: str, **kwargs: Any) -> LabelError:
    with pytest.raises(LabelError) as err:
        validate_label(record, **kwargs)
    e = err.value
    assert e.field == field, str(e)
    assert fragment in str(e), str(e)
    # every message names the label and item, and the field
    assert f"label {record.get('label_id', '?')!r}" in str(e) and f"field {field!r}" in str(e)
    return e


# ---------------------------------------------------------------------------------------------------------
# columns


def test_columns_are_defined_once_and_partitioned() -> None:
    assert len(set(COLUMN_NAMES)) == len(COLUMN_NAMES) == len(COLUMNS)
    groups = [set(JSON_COLUMNS), set(DATETIME_COLUMNS), set(INT_COLUMNS), set(STR_COLUMNS)]
    assert set().union(*groups) == set(COLUMN_NAMES)
    assert sum(len(g) for g in groups) == len(COLUMN_NAMES)
    assert set(INT_COLUMNS) == {"strength", "active_ms", "revision"}
    assert set(DATETIME_COLUMNS) == {"started_at", "submitted_at"}


# ---------------------------------------------------------------------------------------------------------
# validate_label: identity, enums


def test_valid_pairwise_label_is_normalised() -> None:
    out = validate_label(rec(), response_ids=AB)
    assert set(out) == set(COLUMN_NAMES)
    assert out["ranking"] == [["a"], ["b"]]
    assert out["status"] == "submitted" and out["source"] == "widget" and out["revision"] == 1
    assert (
        out["display_order"] == AB
        and out["flags"] == []
        and out["rationale"] == ""
        and out["flag_note"] == ""
    )
    assert out["ratings"] is None and out["supersedes"] is None and out["started_at"] is None
    assert out["submitted_at"] == pd.Timestamp(T0)


@pytest.mark.parametrize("field", ["label_id", "item_id", "annotator"])
def test_identity_fields(field: str) -> None:
    fails(rec(**{field: ...}), field, "must be a string")
    fails(rec(**{field: 7}), field, "must be a string, got int")
    fails(rec(**{field: ""}), field, "must not be empty")
    fails(rec(**{field: "x" * (MAX_ID_CHARS + 1)}), field, f"the limit is {MAX_ID_CHARS}")


def test_unknown_field_and_enums() -> None:
    fails(rec(colour="red"), "colour", "is not a label field")
    fails(rec(task="triage"), "task", "must be one of ('pairwise', 'ranking')")
    fails(rec(status="done"), "status", "must be one of ('submitted', 'skipped', 'withdrawn')")
    fails(rec(source="api"), "source", "must be one of")
    fails(rec(), "task", "pairwise needs exactly 2 responses; this item has 3", response_ids=["a", "b", "c"])


def test_skipped_label_drops_verdict() -> None:
    out = validate_label(rec(status="skipped", winner="b", strength=3), response_ids=AB)
    assert out["ranking"] is None and out["winner"] is None and out["strength"] is None


# ---------------------------------------------------------------------------------------------------------
# pairwise verdicts


def test_pairwise_winner_rules() -> None:
    fails(rec(winner=None, strength=None), "winner", "needs a winner")
    fails(rec(winner="c"), "winner", "'c' is not one of this item's responses", response_ids=AB)
    fails(rec(winner=3), "winner", "must be a string")
    tie = validate_label(rec(winner="tie", strength=None), response_ids=AB)
    assert tie["ranking"] == [["a", "b"]] and tie["strength"] == 0
    from_ranking = validate_label(rec(winner=None, strength=None, ranking=[["b"], ["a"]]), response_ids=AB)
    assert from_ranking["winner"] == "b" and from_ranking["strength"] is None
    tie_ranking = validate_label(rec(winner=None, strength=None, ranking=[["a", "b"]]))
    assert tie_ranking["winner"] == "tie" and tie_ranking["strength"] == 0
    fails(rec(winner=None, ranking=[["a"], ["b"], ["c"]]), "ranking", "ranks exactly 2 responses, got 3")


def test_pairwise_winner_and_ranking_must_agree() -> None:
    fails(rec(winner="a", ranking=[["b"], ["a"]]), "winner", "disagrees with the ranking", response_ids=AB)
    fails(rec(winner="tie", strength=0, ranking=[["b"], ["a"]]), "winner", "disagrees with the ranking")
    same = validate_label(rec(winner="b", ranking=[["b"], ["a"]]), response_ids=AB)
    assert same["ranking"] == [["b"], ["a"]]


def test_pairwise_strength_rules() -> None:
    assert validate_label(rec(strength=None), response_ids=AB)["strength"] is None  # unknown strength
    assert validate_label(rec(strength=3.0), response_ids=AB)["strength"] == 3
    assert validate_label(rec(strength=np.int64(1)), response_ids=AB)["strength"] == 1
    fails(rec(strength=True), "strength", "must be an integer 0..3")
    fails(rec(strength=2.5), "strength", "must be an integer 0..3")
    fails(rec(strength="2"), "strength", "must be an integer 0..3")
    fails(rec(strength=4), "strength", "must be 0..3, got 4")
    fails(rec(strength=-1), "strength", "must be 0..3, got -1")
    fails(rec(strength=0), "strength", "is 0 exactly when the winner is 'tie'")
    fails(rec(winner="tie", strength=2), "strength", "is 0 exactly when the winner is 'tie'")


# ---------------------------------------------------------------------------------------------------------
# rankings


def ranking_rec(ranking: Any, **over: Any) -> dict[str, Any]:
    return rec(**{"task": "ranking", "winner": None, "strength": None, "ranking": ranking, **over})


def test_ranking_rules() -> None:
    ids = ["r1", "r2", "r3"]
    out = validate_label(ranking_rec([["r2"], ["r1", "r3"]]), response_ids=ids)
    assert out["ranking"] == [["r2"], ["r1", "r3"]] and out["winner"] is None and out["strength"] is None
    assert validate_label(ranking_rec(["r2", "r1", "r3"]), response_ids=ids)["ranking"] == [
        ["r2"],
        ["r1"],
        ["r3"],
    ]
    assert validate_label(ranking_rec((("r3",), ("r1", "r2"))))["ranking"] == [["r3"], ["r1", "r2"]]
    fails(ranking_rec(None), "ranking", "must be a non-empty list of tie groups")
    fails(ranking_rec([]), "ranking", "must be a non-empty list of tie groups")
    fails(ranking_rec("r1>r2"), "ranking", "must be a non-empty list of tie groups")
    fails(ranking_rec([["r1"], []]), "ranking", "each tie group must be a non-empty list")
    fails(ranking_rec([["r1"], [2]]), "ranking", "response id 2 is not a string")
    fails(ranking_rec([["r1"], ["r1"]]), "ranking", "'r1' appears twice")
    fails(ranking_rec([["r1"], ["r2"], ["r9"]]), "ranking", "unknown response id(s) ['r9']", response_ids=ids)
    fails(ranking_rec([["r1"], ["r2"]]), "ranking", "response id(s) ['r3'] are not ranked", response_ids=ids)
    fails(
        ranking_rec([["r1", "r2"], ["r3"]]),
        "ranking",
        "ties are not allowed",
        rules=LabelRules(allow_ties_in_ranking=False),
    )
    fails(ranking_rec([["r1"], ["r2"]], winner="r1"), "winner", "for pairwise labels only")
    fails(ranking_rec([["r1"], ["r2"]], strength=1), "winner", "for pairwise labels only")


# ---------------------------------------------------------------------------------------------------------
# ratings


def test_ratings_rules() -> None:
    rules = LabelRules(criteria=("helpful", "correct"), scale=5)
    ok = validate_label(rec(ratings={"a": {"helpful": 5, "correct": 1.0}}), response_ids=AB, rules=rules)
    assert ok["ratings"] == {"a": {"helpful": 5, "correct": 1}}
    assert validate_label(rec(ratings={}), response_ids=AB)["ratings"] is None
    fails(rec(ratings=[1, 2]), "ratings", "must be {response_id: {criterion: int}}")
    fails(rec(ratings={"z": {"helpful": 3}}), "ratings", "unknown response id 'z'", response_ids=AB)
    fails(rec(ratings={"a": 3}), "ratings", "ratings of 'a' must be {criterion: int}")
    fails(rec(ratings={"a": {"style": 3}}), "ratings", "unknown criterion 'style'", rules=rules)
    fails(rec(ratings={"a": {"helpful": "3"}}), "ratings", "a/helpful must be an integer", rules=rules)
    fails(rec(ratings={"a": {"helpful": True}}), "ratings", "a/helpful must be an integer", rules=rules)
    fails(rec(ratings={"a": {"helpful": 6}}), "ratings", "a/helpful = 6 is outside 1..5", rules=rules)
    fails(rec(ratings={"a": {"helpful": 0}}), "ratings", "outside 1..5", rules=rules)
    required = LabelRules(criteria=("helpful",), ratings_required=True)
    fails(rec(), "ratings", "ratings on ['helpful'] are required", rules=required, response_ids=AB)
    fails(
        rec(ratings={"a": {"helpful": 2}}),
        "ratings",
        "b/helpful is required",
        rules=required,
        response_ids=AB,
    )
    # a skip needs no ratings
    assert validate_label(rec(status="skipped"), rules=required, response_ids=AB)["ratings"] is None


# ---------------------------------------------------------------------------------------------------------
# rationale, flags


def test_rationale_rules() -> None:
    fails(rec(rationale=5), "rationale", "must be a string")
    fails(rec(rationale="x" * (MAX_RATIONALE_CHARS + 1)), "rationale", f"the limit is {MAX_RATIONALE_CHARS}")
    fails(rec(rationale="abcdef"), "rationale", "the limit is 5", rules=LabelRules(max_rationale_chars=5))
    fails(rec(rationale="why"), "rationale", "rationales are off", rules=LabelRules(rationale="off"))
    fails(
        rec(rationale="  "),
        "rationale",
        "required here (rule: required)",
        rules=LabelRules(rationale="required"),
    )
    assert (
        validate_label(rec(rationale="because"), rules=LabelRules(rationale="required"))["rationale"]
        == "because"
    )
    tie_rule = LabelRules(rationale="required_if_tie")
    fails(rec(winner="tie", strength=0), "rationale", "required_if_tie", rules=tie_rule)
    fails(ranking_rec([["a", "b"], ["c"]]), "rationale", "required_if_tie", rules=tie_rule)
    assert validate_label(rec(), rules=tie_rule)["rationale"] == ""
    strong = LabelRules(rationale="required_if_strong")
    fails(rec(strength=3), "rationale", "required_if_strong", rules=strong)
    assert validate_label(rec(strength=2), rules=strong)["strength"] == 2
    flagged = LabelRules(rationale="required_if_flagged")
    fails(rec(flags=["harmful"]), "rationale", "required_if_flagged", rules=flagged)
    # a skip is never held to the rationale rule
    assert (
        validate_label(rec(status="skipped"), rules=LabelRules(rationale="required"))["status"] == "skipped"
    )


def test_flags_rules() -> None:
    assert validate_label(rec(flags=["harmful", "both_bad"]))["flags"] == ["harmful", "both_bad"]
    fails(rec(flags="harmful"), "flags", f"must be a list of at most {MAX_FLAGS}")
    fails(rec(flags=["x"] * (MAX_FLAGS + 1), source="import"), "flags", f"at most {MAX_FLAGS}")
    fails(rec(flags=["spicy"]), "flags", "unknown flag 'spicy'; known flags")
    assert validate_label(rec(flags=["spicy"]), rules=LabelRules(flags=("spicy",)))["flags"] == ["spicy"]
    assert validate_label(rec(flags=["spicy"], source="import"))["flags"] == ["spicy"]  # imports keep theirs
    fails(rec(flags=["harmful", "harmful"]), "flags", "a flag is listed twice")
    fails(rec(flags=[""], source="import"), "flags", "must not be empty")
    fails(rec(flag_note="n" * (MAX_FLAG_NOTE_CHARS + 1)), "flag_note", f"the limit is {MAX_FLAG_NOTE_CHARS}")


# ---------------------------------------------------------------------------------------------------------
# display order, guideline, times, counters


def test_display_order_rules() -> None:
    assert validate_label(rec(display_order=["b", "a"]), response_ids=AB)["display_order"] == ["b", "a"]
    assert validate_label(rec(ranking=[["b"], ["a"]], winner="b"))["display_order"] == ["b", "a"]
    assert validate_label(rec(display_order=np.array(["b", "a"])), response_ids=AB)["display_order"] == [
        "b",
        "a",
    ]
    fails(rec(display_order="ab"), "display_order", "must be a list of response ids")
    fails(rec(display_order=["a", 1]), "display_order", "must be a list of response ids")
    fails(rec(display_order=["a", "c"]), "display_order", "permutation", response_ids=AB)
    fails(rec(display_order=["a"]), "display_order", "permutation", response_ids=AB)


def test_guideline_times_and_counters() -> None:
    assert validate_label(rec(guideline_version=2))["guideline_version"] == "2"
    assert validate_label(rec(guideline_version=float("nan")))["guideline_version"] is None
    fails(rec(submitted_at=None), "submitted_at", "is required")
    fails(rec(submitted_at=datetime(2025, 1, 1)), "submitted_at", "must be timezone-aware")
    fails(rec(submitted_at="not a time"), "submitted_at", "is not a time")
    fails(rec(started_at="2025-01-01T00:00:00"), "started_at", "must be timezone-aware")
    plus2 = timezone(timedelta(hours=2))
    out = validate_label(
        rec(submitted_at=datetime(2025, 1, 1, 12, tzinfo=plus2), started_at="2025-01-01T09:59Z")
    )
    assert out["submitted_at"] == pd.Timestamp("2025-01-01T10:00Z") and str(out["submitted_at"].tz) == "UTC"
    assert out["started_at"] == pd.Timestamp("2025-01-01T09:59Z")
    assert validate_label(rec(active_ms=1234.9))["active_ms"] == 1234
    fails(rec(active_ms=-1), "active_ms", "non-negative")
    fails(rec(active_ms="5"), "active_ms", "non-negative")
    fails(rec(active_ms=True), "active_ms", "non-negative")
    fails(rec(revision=0), "revision", "integer >= 1")
    fails(rec(revision=1.0), "revision", "integer >= 1")
    assert validate_label(rec(revision=np.int64(3), supersedes="L0"))["revision"] == 3
    fails(rec(supersedes=5), "supersedes", "must be a string")


def test_label_rules_reject_bad_configuration() -> None:
    with pytest.raises(ValueError, match="rationale must be one of"):
        LabelRules(rationale="sometimes")
    with pytest.raises(ValueError, match=r"scale must be an integer 2\.\.10"):
        LabelRules(scale=1)
    with pytest.raises(ValueError, match=r"scale must be an integer 2\.\.10, got 11"):
        LabelRules(scale=MAX_SCALE + 1)


def test_pairwise_to_ranking_and_rank_of() -> None:
    assert pairwise_to_ranking("b", AB) == [["b"], ["a"]]
    assert pairwise_to_ranking("tie", AB) == [["a", "b"]]
    assert rank_of([["r2"], ["r1", "r3"]]) == {"r2": 0, "r1": 1, "r3": 1}


# ---------------------------------------------------------------------------------------------------------
# frames


def test_empty_and_coerced_dtypes() -> None:
    empty = empty_labels()
    assert list(empty.columns) == list(COLUMN_NAMES) and empty.empty
    for name in INT_COLUMNS:
        assert str(empty[name].dtype) == "Int64"
    for name in DATETIME_COLUMNS:
        assert str(empty[name].dtype) == TIME_DTYPE
    for name in (*STR_COLUMNS, *JSON_COLUMNS):
        assert empty[name].dtype == object
    raw = pd.DataFrame([validate_label(rec(active_ms=5)), validate_label(rec(label_id="L2", strength=None))])
    raw["submitted_at"] = ["2025-01-02T03:04:05.678901Z", "2025-01-02T03:04:06+00:00"]  # text times parse
    raw["extra"] = [1, 2]
    out = coerce_labels(raw[["extra", *reversed(COLUMN_NAMES)]])
    assert list(out.columns) == [*COLUMN_NAMES, "extra"]
    assert str(out["submitted_at"].dtype) == TIME_DTYPE
    assert out.loc[0, "submitted_at"] == pd.Timestamp(T0)
    assert out["strength"].tolist() == [2, pd.NA] and out["active_ms"].tolist() == [5, pd.NA]
    assert out.loc[0, "guideline_version"] is None and out.loc[0, "supersedes"] is None
    with pytest.raises(LabelError, match=r"'winner'.*missing"):
        coerce_labels(raw.drop(columns=["winner"]))


def test_labels_frame_missing_keys_become_none_not_nan() -> None:
    frame = labels_frame(
        [
            {
                "label_id": "x",
                "item_id": "i",
                "annotator": "a",
                "task": "pairwise",
                "status": "skipped",
                "submitted_at": T0,
                "revision": 1,
                "source": "widget",
            }
        ]
    )
    for name in (*JSON_COLUMNS, *STR_COLUMNS):
        if name not in ("label_id", "item_id", "annotator", "task", "status", "source"):
            assert frame.loc[0, name] is None, name


def test_labels_frame_round_trip_of_validated_records() -> None:
    recs = [
        validate_label(rec(label_id=f"L{i}", winner=w, strength=s), response_ids=AB)
        for i, (w, s) in enumerate([("a", 2), ("tie", 0), ("b", None)])
    ]
    frame = labels_frame(recs)
    assert frame["winner"].tolist() == ["a", "tie", "b"]
    assert frame["ranking"].tolist() == [[["a"], ["b"]], [["a", "b"]], [["b"], ["a"]]]
    pd.testing.assert_frame_equal(coerce_labels(frame), frame)
    assert labels_frame([]).equals(empty_labels())


# ---------------------------------------------------------------------------------------------------------
# derived views


def history() -> pd.DataFrame:
    t = pd.Timestamp(T0)
    rows = [
        validate_label(
            rec(
                label_id="1",
                annotator="ann",
                winner="a",
                strength=2,
                display_order=["b", "a"],
                submitted_at=t,
            ),
            response_ids=AB,
        ),
        validate_label(
            rec(
                label_id="2",
                annotator="ann",
                winner="b",
                strength=3,
                revision=2,
                supersedes="1",
                display_order=["b", "a"],
                submitted_at=t + pd.Timedelta(seconds=5),
            ),
            response_ids=AB,
        ),
        validate_label(
            rec(label_id="3", annotator="bob", winner="tie", strength=0, submitted_at=t), response_ids=AB
        ),
        validate_label(rec(label_id="4", annotator="cat", status="skipped", submitted_at=t), response_ids=AB),
        validate_label(
            rec(
                label_id="5",
                annotator="ann",
                source="adjudication",
                winner="a",
                strength=None,
                submitted_at=t,
            ),
            response_ids=AB,
        ),
        validate_label(
            ranking_rec(
                [["r3"], ["r1", "r2"]],
                label_id="6",
                item_id="I2",
                annotator="ann",
                display_order=["r1", "r2", "r3"],
                submitted_at=t,
                ratings={"r1": {"q": 2}, "r3": {"q": 5, "s": 4}},
            ),
            response_ids=["r1", "r2", "r3"],
        ),
    ]
    return labels_frame(rows)


def test_current_labels() -> None:
    labels = history()
    cur = current_labels(labels)
    assert sorted(cur["label_id"]) == [
        "2",
        "3",
        "4",
        "5",
        "6",
    ]  # revision 2 replaces 1; adjudication separate
    assert sorted(current_labels(labels, include_skipped=False)["label_id"]) == ["2", "3", "5", "6"]
    # the latest revision wins even when rows arrive out of order
    shuffled = labels.iloc[::-1].reset_index(drop=True)
    assert sorted(current_labels(shuffled)["label_id"]) == ["2", "3", "4", "5", "6"]
    assert current_labels(empty_labels()).empty


def test_pairs_view() -> None:
    p = pairs(history())
    assert list(p.columns) == list(PAIR_COLUMNS)
    by = p.set_index("label_id")
    assert (
        by.loc["2", "winner"] == "b"
        and by.loc["2", "outcome"] == 0.0
        and by.loc["2", "signed_strength"] == -3
    )
    assert by.loc["2", "pos_a"] == 1 and by.loc["2", "pos_b"] == 0  # shown b first
    assert (
        by.loc["3", "winner"] == "tie"
        and by.loc["3", "outcome"] == 0.5
        and by.loc["3", "signed_strength"] == 0
    )
    assert by.loc["5", "signed_strength"] is pd.NA and by.loc["5", "outcome"] == 1.0  # unknown strength
    assert "4" not in by.index and "1" not in by.index  # skip and superseded revision excluded
    ranked = p[p["label_id"] == "6"].set_index(["response_a", "response_b"])
    assert ranked.loc[("r1", "r2"), "winner"] == "tie"
    assert ranked.loc[("r1", "r3"), "winner"] == "r3" and ranked.loc[("r1", "r3"), "outcome"] == 0.0
    assert ranked.loc[("r2", "r3"), "winner"] == "r3"
    assert ranked["strength"].isna().all() and ranked["signed_strength"].isna().all()
    for name in ("pos_a", "pos_b", "strength", "signed_strength"):
        assert str(p[name].dtype) == "Int64"
    assert len(pairs(history(), current=False)) == len(p) + 1  # the superseded label too
    items = pd.DataFrame(
        {
            "item_id": ["I1", "I2"],
            "prompt": ["p", "q"],
            "responses": [
                [
                    {"response_id": "a", "text": "x", "model": "m1"},
                    {"response_id": "b", "text": "y", "model": "m2"},
                ],
                [{"response_id": r, "text": r, "model": None} for r in ("r1", "r2", "r3")],
            ],
        }
    )
    with_models = pairs(history(), items).set_index("label_id")
    assert with_models.loc["2", "model_a"] == "m1" and with_models.loc["2", "model_b"] == "m2"
    empty = pairs(empty_labels())
    assert empty.empty and list(empty.columns) == list(PAIR_COLUMNS)


def test_ratings_long_view() -> None:
    long = ratings_long(history())
    assert list(long.columns) == list(RATINGS_LONG_COLUMNS)
    assert sorted(zip(long["response_id"], long["criterion"], long["value"], strict=True)) == [
        ("r1", "q", 2),
        ("r3", "q", 5),
        ("r3", "s", 4),
    ]
    assert str(long["value"].dtype) == "Int64"
    assert ratings_long(empty_labels()).empty


# ---------------------------------------------------------------------------------------------------------
# text no store can hold (issue 13, finding 9): refused up front, naming the field, for both engines


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("rationale", "good\x00bad", "contains a NUL character (\\x00, at position 4): remove it"),
        ("rationale", "half an emoji \ud83d", "contains an unpaired surrogate ('\\ud83d' at position 14)"),
        ("flag_note", "\udc00", "contains an unpaired surrogate"),
        ("annotator", "al\x00ice", "contains a NUL character"),
        ("guideline_version", "v1\x00", "contains a NUL character"),
        ("supersedes", "\ud800x", "unpaired surrogate"),
    ],
)
def test_text_with_nul_or_lone_surrogate_is_refused(field: str, value: str, says: str) -> None:
    fails(rec(**{field: value}), field, says)


def test_nul_or_surrogate_in_nested_ids_is_refused() -> None:
    fails(rec(source="import", flags=["ok", "bad\x00"]), "flags", "NUL")
    fails(rec(ratings={"a": {"help\ud800": 3}}), "ratings", "unpaired surrogate")
    fails(rec(ratings={"a\x00": {"help": 3}}), "ratings", "NUL")
    fails(ranking_rec([["a\x00"], ["b"]], task="ranking"), "ranking", "NUL")
    fails(rec(display_order=["a", "b\x00"]), "display_order", "NUL")


def test_text_problem_passes_ordinary_text() -> None:
    for text in ("", "plain", "RTL עברית, emoji 👩‍💻, combining é", "\u200b\ufeff", "tab\tnewline\n"):
        assert text_problem(text) is None
    assert validate_label(rec(rationale="emoji 👩‍💻 ✓"))["rationale"] == "emoji 👩‍💻 ✓"


def test_ratings_without_session_criteria_are_within_the_widest_scale() -> None:
    assert validate_label(rec(ratings={"a": {"q": MAX_SCALE}}))["ratings"] == {"a": {"q": MAX_SCALE}}
    fails(rec(ratings={"a": {"q": 10**6}}), "ratings", f"a/q = 1000000 is outside 1..{MAX_SCALE}")
    fails(rec(ratings={"a": {"q": 0}}), "ratings", f"outside 1..{MAX_SCALE}")


def test_display_order_must_match_the_ranking_without_response_ids() -> None:
    ok = validate_label(rec(ranking=[["b"], ["a"]], winner="b", display_order=["a", "b"]))
    assert ok["display_order"] == ["a", "b"]
    fails(
        rec(ranking=[["b"], ["a"]], winner="b", display_order=["a", "z"]),
        "display_order",
        "same response ids",
    )


def test_check_labels_frame_quick_pass_defers_to_the_record_rules() -> None:
    # check_labels_frame's quick pass accepts nothing validate_label's helpers refuse, even in a frame that
    # did not come from a typed file (a bool is an int to Python, and {1, True} == {1})
    good = labels_frame(
        [validate_label(rec(label_id=f"L{i}", ratings={"a": {"q": 1}, "b": {"q": 3}})) for i in range(3)]
    )
    check_labels_frame(good, lambda i: f"row {i}")
    for bad, says in (
        ({"a": {"q": True}}, "a/q must be an integer"),
        ({"a": {"q": 2.5}}, "a/q must be an integer"),
        ({"a": {"": 2}}, "must not be empty"),
        ({"a": [1]}, "ratings of 'a' must be {criterion: int}"),
    ):
        frame = good.copy()
        frame.at[2, "ratings"] = bad
        with pytest.raises(LabelError, match=re.escape(f"row 2: field 'ratings': {says}")):
            check_labels_frame(frame, lambda i: f"row {i}")
    frame = good.copy()
    frame.at[1, "flags"] = ["x", 3]
    with pytest.raises(LabelError, match="row 1: field 'flags': must be a string"):
        check_labels_frame(frame, lambda i: f"row {i}")
    frame = good.copy()
    frame.at[0, "winner"] = 7
    with pytest.raises(LabelError, match="row 0: field 'winner': must be a string, got int"):
        check_labels_frame(frame, lambda i: f"row {i}")
