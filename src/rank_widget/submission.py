"""Turning a `submit` message from the browser into a label record, trusting nothing in it.

The view is not trusted (design §9): every field is type-checked and size-capped here, the item must be the
one at `index`, the display order must be the one we sent, and the annotator, task, source and times come from
the session. The record is then checked once more by the store through schema.validate_label.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ._protocol import Rejected  # one rejection type for both widgets, defined with the envelope
from .schema import (
    ANSWER_FIELDS,
    MAX_FLAG_NOTE_CHARS,
    MAX_FLAGS,
    MAX_ID_CHARS,
    STATUSES,
    TIE,
    LabelError,
    LabelRules,
    Ranking,
    normalise_ranking,
    rank_of,
)

MAX_ACTIVE_MS = 24 * 3600 * 1000  # a day: anything above is a broken clock, not work
MESSAGE_FIELDS = frozenset({"type", "client_id", "item_id", "index", "label", "next"})
# What a submit may say; "withdrawn" is written by Python only, for an undo (history.py).
SUBMIT_STATUSES = ("submitted", "skipped")
LABEL_FIELDS = frozenset({*ANSWER_FIELDS, "display_order", "guideline_version", "started_at", "active_ms"})
REQUIRED_LABEL_FIELDS = ("status", "display_order", "guideline_version", "started_at", "active_ms")


@dataclass(frozen=True)
class ItemContext:
    """What the widget knows about the item at the submitted index."""

    index: int
    item_id: str
    response_ids: Sequence[str]
    display_order: Sequence[str]
    guideline_version: str | None
    guideline_needs_ack: bool
    guideline_acknowledged: bool


def check_envelope(content: Any) -> tuple[str, str, int, Mapping[str, Any]]:
    """Shape of a submit message: returns (client_id, item_id, index, label)."""
    unknown = sorted(set(content) - MESSAGE_FIELDS)
    if unknown:
        raise Rejected(unknown[0], "is not a field of a submit message")
    client_id = _str(content, "client_id", cap=MAX_ID_CHARS)
    item_id = _str(content, "item_id", cap=MAX_ID_CHARS)
    index = content.get("index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise Rejected("index", f"must be an integer queue position, got {type(index).__name__}")
    label = content.get("label")
    if not isinstance(label, Mapping):
        raise Rejected("label", f"must be an object, got {type(label).__name__}")
    return client_id, item_id, index, label


def check_next(content: Mapping[str, Any], index: int, length: int) -> int:
    """Where the view went after this submit (``next``, optional): the item after it by default, or further on
    (back to where the labeler was before re-labelling an earlier item); ``length`` means 'all done'."""
    nxt = content.get("next", index + 1)
    if isinstance(nxt, bool) or not isinstance(nxt, int):
        raise Rejected("next", f"must be an integer queue position, got {type(nxt).__name__}")
    if not index < nxt <= length:
        raise Rejected("next", f"{nxt} is not a position after {index} in the queue 0..{length}")
    return nxt


def build_record(
    label: Mapping[str, Any],
    *,
    client_id: str,
    item: ItemContext,
    annotator: str,
    task: str,
    rules: LabelRules,
    opened_at: datetime,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A label record for store.append from the `label` part of a submit message (raises Rejected)."""
    unknown = sorted(set(label) - LABEL_FIELDS)
    if unknown:
        raise Rejected(unknown[0], "is not a label field")
    for name in REQUIRED_LABEL_FIELDS:
        if name not in label:
            raise Rejected(name, "is missing from the label; reload the widget")
    now = now or datetime.now(timezone.utc)
    status = label["status"]
    if status not in STATUSES or status not in SUBMIT_STATUSES:
        raise Rejected("status", f"must be one of {list(SUBMIT_STATUSES)}, got {str(status)[:40]!r}")

    order = label["display_order"]
    if not isinstance(order, list) or order != list(item.display_order):
        raise Rejected("display_order", "is not the order this item was shown in; reload the widget")

    version = label["guideline_version"]
    if version is not None and not isinstance(version, str):
        raise Rejected("guideline_version", f"must be a string or null, got {type(version).__name__}")
    if version != item.guideline_version:
        raise Rejected(
            "guideline_version",
            f"this item is labelled under guidelines {item.guideline_version!r}, "
            f"the label says {version!r}; reload the widget",
        )
    if item.guideline_needs_ack and not item.guideline_acknowledged:
        raise Rejected(
            "guideline_version",
            f"the guidelines changed to version {item.guideline_version!r}; read "
            "the changes and confirm you have read them before submitting",
        )

    record: dict[str, Any] = {
        "label_id": client_id,
        "item_id": item.item_id,
        "annotator": annotator,
        "task": task,
        "status": status,
        "source": "widget",
        "display_order": list(order),
        "guideline_version": version,
        "submitted_at": now,
    }
    if status == "submitted":
        record.update(_verdict(label, task, item.response_ids))
    # A skip carries no verdict: whatever choice fields the view had in its draft are dropped.
    record["ratings"] = (
        _ratings(label.get("ratings"), item.response_ids, rules) if status == "submitted" else None
    )
    record["rationale"] = _str(label, "rationale", cap=rules.max_rationale_chars, empty_ok=True, default="")
    record["flags"] = _flags(label.get("flags"), rules)
    record["flag_note"] = _str(label, "flag_note", cap=MAX_FLAG_NOTE_CHARS, empty_ok=True, default="")
    started = _started_at(label["started_at"], opened_at, now)
    record["started_at"] = started
    record["active_ms"] = _active_ms(label["active_ms"], started, now)
    return record


def _verdict(label: Mapping[str, Any], task: str, response_ids: Sequence[str]) -> dict[str, Any]:
    ranking = _submitted_ranking(label.get("ranking"), response_ids)
    if task == "ranking":
        return _ranking_verdict(label, ranking)
    return _pairwise_verdict(label, ranking, response_ids)


def _submitted_ranking(ranking: Any, response_ids: Sequence[str]) -> Ranking | None:
    """The view's ranking (tie groups), normalised; None when it sent none."""
    if ranking is None:
        return None
    if not isinstance(ranking, list):
        raise Rejected(
            "ranking",
            f"must be a list of tie groups (lists of response ids), got {type(ranking).__name__}",
        )
    if not all(isinstance(group, list) for group in ranking):
        raise Rejected("ranking", "each tie group must be a list of response ids")
    try:
        return normalise_ranking("submit", ranking, response_ids)
    except LabelError as exc:
        raise Rejected("ranking", exc.problem) from exc


def _ranking_verdict(label: Mapping[str, Any], ranking: Ranking | None) -> dict[str, Any]:
    if ranking is None:
        raise Rejected("ranking", "rank every response before submitting")
    if label.get("winner") is not None or label.get("strength") is not None:
        raise Rejected("winner", "winner/strength are for pairwise labels; this session ranks")
    return {"ranking": ranking}


def _pairwise_verdict(
    label: Mapping[str, Any], ranking: Ranking | None, response_ids: Sequence[str]
) -> dict[str, Any]:
    winner = label.get("winner")
    strength = label.get("strength")
    if winner is None:
        raise Rejected("winner", "choose which response is better (or tie) before submitting")
    if not isinstance(winner, str) or (winner != TIE and winner not in response_ids):
        raise Rejected("winner", f"must be one of this item's responses {list(response_ids)} or 'tie'")
    if isinstance(strength, bool) or not isinstance(strength, int):
        raise Rejected(
            "strength",
            f"must be an integer 0..3 (0 tie, 2 better, 3 much better), got {type(strength).__name__}",
        )
    if not 0 <= strength <= 3:
        raise Rejected("strength", f"must be 0..3, got {strength}")
    if (strength == 0) != (winner == TIE):
        raise Rejected("strength", "is 0 exactly when the verdict is a tie")
    if ranking is not None and not _ranking_agrees(ranking, winner, response_ids):
        raise Rejected("ranking", "does not agree with the winner; reload the widget")
    return {"winner": winner, "strength": strength}


def _ranking_agrees(ranking: Ranking, winner: str, response_ids: Sequence[str]) -> bool:
    ranks = rank_of(ranking)
    a, b = response_ids
    return ranks[a] == ranks[b] if winner == TIE else ranks[winner] < ranks[b if winner == a else a]


def _ratings(value: Any, response_ids: Sequence[str], rules: LabelRules) -> dict[str, dict[str, int]] | None:
    if value is None or value == {}:
        if rules.ratings_required and rules.criteria:
            raise Rejected("ratings", f"rate every response on {list(rules.criteria)} before submitting")
        return None
    if not isinstance(value, Mapping):
        raise Rejected("ratings", "must be {response_id: {criterion: integer}}")
    if not rules.criteria:
        raise Rejected("ratings", "this session has no rating criteria; ratings are not accepted")
    out: dict[str, dict[str, int]] = {}
    for rid, per in value.items():
        if rid not in response_ids:
            raise Rejected(
                "ratings", f"unknown response id {str(rid)[:80]!r}; this item has {list(response_ids)}"
            )
        scores = _response_ratings(rid, per, rules)
        if scores:
            out[rid] = scores
    if rules.ratings_required:
        _require_ratings(out, response_ids, rules)
    return out or None


def _response_ratings(rid: str, per: Any, rules: LabelRules) -> dict[str, int]:
    """One response's {criterion: score}; criteria left unrated (None) are left out."""
    if not isinstance(per, Mapping):
        raise Rejected("ratings", f"ratings of {rid!r} must be {{criterion: integer}}")
    out: dict[str, int] = {}
    for crit, score in per.items():
        if crit not in rules.criteria:
            raise Rejected("ratings", f"unknown criterion {str(crit)[:80]!r}; known: {list(rules.criteria)}")
        if score is None:
            continue  # a criterion left unrated
        if isinstance(score, bool) or not isinstance(score, int):
            raise Rejected("ratings", f"{rid}/{crit} must be an integer 1..{rules.scale}")
        if not 1 <= score <= rules.scale:
            raise Rejected("ratings", f"{rid}/{crit} = {score} is outside 1..{rules.scale}")
        out[crit] = score
    return out


def _require_ratings(
    out: Mapping[str, Mapping[str, int]], response_ids: Sequence[str], rules: LabelRules
) -> None:
    for rid in response_ids:
        for crit in rules.criteria:
            if crit not in out.get(rid, {}):
                raise Rejected("ratings", f"rate {rid} on {crit!r} before submitting")


def _flags(value: Any, rules: LabelRules) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_FLAGS:
        raise Rejected("flags", f"must be a list of at most {MAX_FLAGS} flag ids")
    for f in value:
        if not isinstance(f, str) or f not in rules.flags:
            raise Rejected("flags", f"unknown flag {str(f)[:80]!r}; known flags: {list(rules.flags)}")
    if len(set(value)) != len(value):
        raise Rejected("flags", "a flag is listed twice")
    return list(value)


def _str(
    src: Mapping[str, Any], name: str, *, cap: int, empty_ok: bool = False, default: str | None = None
) -> str:
    value = src.get(name, default)
    if value is None and default is not None:
        value = default
    if not isinstance(value, str):
        raise Rejected(name, f"must be a string, got {type(value).__name__}")
    if not empty_ok and not value:
        raise Rejected(name, "must not be empty")
    if len(value) > cap:
        raise Rejected(name, f"is {len(value)} characters; the limit is {cap}: shorten it")
    return value


def _started_at(value: Any, opened_at: datetime, now: datetime) -> datetime | None:
    """When the item was first shown, clamped into [widget opened, now] (browser clocks drift)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise Rejected("started_at", "must be an ISO 8601 UTC time string")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Rejected("started_at", f"is not an ISO 8601 time: {value[:64]!r}") from exc
    if ts.tzinfo is None:
        raise Rejected("started_at", "must carry a time zone (UTC, ending in 'Z')")
    ts = ts.astimezone(timezone.utc)
    return min(max(ts, opened_at), now)


def _active_ms(value: Any, started: datetime | None, now: datetime) -> int | None:
    """Focused time, capped by the wall time since the item was shown (plus a second for clock skew)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise Rejected("active_ms", "must be a non-negative number of milliseconds")
    cap = MAX_ACTIVE_MS
    if started is not None:
        cap = min(cap, int((now - started + timedelta(seconds=1)) / timedelta(milliseconds=1)))
    return int(min(value, cap))
