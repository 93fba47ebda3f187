"""Unsaved drafts: what the labeler has entered on an item but not submitted yet (docs/protocol.md `draft`).

The view sends the draft of the item on screen (throttled); the widget keeps it in memory, per item, so a page
reload, a second view of the widget or the notebook reopened while the kernel lives can restore it. Drafts are
not labels: they never reach the store, and a submit of the item clears its draft.

A draft comes from the browser, so it is checked like a submit (design §9): known fields only, each of the
right type, response ids, criteria and flags of this session, ratings on the scale. A refused draft changes
nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._protocol import Rejected
from .schema import LabelRules

CHOICES = ("A3", "A2", "tie", "B2", "B3")  # the pairwise scale as the view names it (js/src/pairwise.ts)
DRAFT_FIELDS = ("choice", "ranking", "ratings", "rationale", "flags", "flag_note", "started_at")
MESSAGE_FIELDS = frozenset({"type", "item_id", "draft"})
MAX_DRAFTS = 256  # items whose draft is kept (the oldest go first); a draft is at most one message (256 KiB)
MAX_TIME_CHARS = 64


@dataclass(frozen=True)
class DraftContext:
    """What a draft is checked against: the session's task and rules, and the item's response ids."""

    task: str
    rules: LabelRules
    response_ids: Sequence[str]


def check_draft_message(content: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """Shape of a draft message: returns (item_id, draft). Raises Rejected naming the field."""
    unknown = sorted(str(k) for k in set(content) - MESSAGE_FIELDS)
    if unknown:
        raise Rejected(unknown[0][:80], "is not a field of a draft message")
    item_id = content.get("item_id")
    if not isinstance(item_id, str) or not item_id:
        raise Rejected("item_id", f"must be a non-empty string, got {type(item_id).__name__}")
    draft = content.get("draft")
    if not isinstance(draft, Mapping):
        raise Rejected("draft", f"must be an object, got {type(draft).__name__}")
    return item_id, draft


def check_draft(draft: Mapping[str, Any], ctx: DraftContext) -> dict[str, Any]:
    """A clean copy of a draft from the view (exactly DRAFT_FIELDS), or Rejected naming the bad field."""
    unknown = sorted(str(k) for k in set(draft) - set(DRAFT_FIELDS))
    if unknown:
        raise Rejected(f"draft.{unknown[0][:80]}", "is not a draft field")
    missing = [f for f in DRAFT_FIELDS if f not in draft]
    if missing:
        raise Rejected(f"draft.{missing[0]}", "is missing")
    return {
        "choice": _choice(draft["choice"], ctx.task),
        "ranking": _ranking(draft["ranking"], ctx),
        "ratings": _ratings(draft["ratings"], ctx),
        "rationale": _text("rationale", draft["rationale"]),
        "flags": _flags(draft["flags"], ctx.rules.flags),
        "flag_note": _text("flag_note", draft["flag_note"]),
        "started_at": _time(draft["started_at"]),
    }


def _choice(value: Any, task: str) -> str | None:
    if value is None:
        return None
    if task != "pairwise":
        raise Rejected("draft.choice", "must be null in a ranking session")
    if not isinstance(value, str) or value not in CHOICES:
        raise Rejected("draft.choice", f"must be one of {list(CHOICES)} or null, got {str(value)[:40]!r}")
    return value


def _ranking(value: Any, ctx: DraftContext) -> list[list[str]]:
    if not isinstance(value, list):
        raise Rejected("draft.ranking", f"must be a list of tie groups, got {type(value).__name__}")
    if value and ctx.task != "ranking":
        raise Rejected("draft.ranking", "must be empty in a pairwise session")
    known = set(ctx.response_ids)
    seen: set[str] = set()
    out = []
    for i, group in enumerate(value):
        if not isinstance(group, list) or not group:
            raise Rejected(f"draft.ranking[{i}]", "must be a non-empty list of response ids")
        for rid in group:
            if not isinstance(rid, str) or rid not in known:
                raise Rejected(f"draft.ranking[{i}]", f"{str(rid)[:80]!r} is not a response of this item")
            if rid in seen:
                raise Rejected(f"draft.ranking[{i}]", f"response {rid!r} is ranked twice")
            seen.add(rid)
        out.append(list(group))
    return out


def _ratings(value: Any, ctx: DraftContext) -> dict[str, dict[str, int]]:
    if not isinstance(value, Mapping):
        raise Rejected("draft.ratings", f"must be an object, got {type(value).__name__}")
    known = set(ctx.response_ids)
    out: dict[str, dict[str, int]] = {}
    for rid, per in value.items():
        if rid not in known:
            raise Rejected("draft.ratings", f"{str(rid)[:80]!r} is not a response of this item")
        if not isinstance(per, Mapping):
            raise Rejected(f"draft.ratings.{rid}", f"must be an object, got {type(per).__name__}")
        out[rid] = {c: _rating(rid, c, v, ctx.rules) for c, v in per.items()}
    return out


def _rating(rid: str, criterion: Any, value: Any, rules: LabelRules) -> int:
    if criterion not in rules.criteria:
        raise Rejected(f"draft.ratings.{rid}", f"{str(criterion)[:80]!r} is not a criterion of this session")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= rules.scale:
        raise Rejected(f"draft.ratings.{rid}.{criterion}", f"must be an integer 1..{rules.scale}")
    return int(value)


def _text(name: str, value: Any) -> str:
    """Free text; its size is capped by the message's (256 KiB). Must be valid Unicode (it is sent back)."""
    if not isinstance(value, str):
        raise Rejected(f"draft.{name}", f"must be a string, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Rejected(f"draft.{name}", "contains a broken character (a lone surrogate); retype it") from exc
    return value


def _flags(value: Any, allowed: Sequence[str]) -> list[str]:
    if not isinstance(value, list):
        raise Rejected("draft.flags", f"must be a list of flag ids, got {type(value).__name__}")
    for f in value:
        if not isinstance(f, str) or f not in allowed:
            raise Rejected("draft.flags", f"{str(f)[:80]!r} is not a flag of this session")
    if len(set(value)) != len(value):
        raise Rejected("draft.flags", "lists a flag twice")
    return list(value)


def _time(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_TIME_CHARS:
        raise Rejected("draft.started_at", "must be an ISO 8601 time string")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Rejected("draft.started_at", f"{value!r} is not an ISO 8601 time") from exc
    return value


class DraftBook:
    """The drafts kept in memory, by item id, the most recently written last (at most MAX_DRAFTS)."""

    def __init__(self, cap: int = MAX_DRAFTS) -> None:
        self._cap = cap
        self._drafts: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def keep(self, item_id: str, draft: dict[str, Any]) -> None:
        self._drafts[item_id] = draft
        self._drafts.move_to_end(item_id)
        while len(self._drafts) > self._cap:
            self._drafts.popitem(last=False)

    def get(self, item_id: str) -> dict[str, Any] | None:
        return self._drafts.get(item_id)

    def clear(self, item_id: str) -> bool:
        return self._drafts.pop(item_id, None) is not None

    def __len__(self) -> int:
        return len(self._drafts)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._drafts
