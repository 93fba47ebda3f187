"""Turning an adjudication (the view's ``adjudicate`` message, or ``AuditWidget.adjudicate``) into a label
record, and a ``requeue`` message into its arguments; trusting nothing in them.

Like submission.py for RankWidget: every field the view sends is type-checked here; the adjudicator, source,
task, display order and times come from the session and the index, never from the message. The record is then
checked once more by the store through schema.validate_label.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .. import schema
from .._protocol import Rejected, check_fields
from ..schema import LabelError
from .index import AuditIndex

MAX_REQUEUE_ITEMS = 1000
FIELD_CAP = 40  # unknown field names are echoed back at most this long


@dataclass(frozen=True)
class AdjudicationRequest:
    """An ``adjudicate`` message, checked for shape (the ranking is checked against the item later)."""

    item_id: str
    ranking: list[list[str]]
    rationale: str
    strength: int | None
    label_id: str


@dataclass(frozen=True)
class RequeueRequest:
    item_ids: list[str]
    reason: str
    queue: Any  # the store checks the queue name


def adjudication_request(content: Mapping[str, Any], index: AuditIndex) -> AdjudicationRequest:
    """Shape of an ``adjudicate`` message (raises Rejected); ``label_id`` is ``adj-<client_id>`` so a
    repeated message is stored once."""
    check_fields(content, {"client_id", "item_id", "ranking", "rationale", "strength"}, cap=FIELD_CAP)
    cid = content.get("client_id")
    if not isinstance(cid, str) or not 8 <= len(cid) <= 128:
        raise Rejected("client_id", "must be the view's id for this adjudication (8-128 characters)")
    iid = content.get("item_id")
    if iid not in index:
        raise Rejected("item_id", f"{str(iid)[:80]!r} is not an item with labels; refresh the list")
    ranking = content.get("ranking")
    if not isinstance(ranking, list) or not all(
        isinstance(g, list) and all(isinstance(r, str) for r in g) for g in ranking
    ):
        raise Rejected("ranking", "must be tie groups of response ids, best first, e.g. [['r2'], ['r1']]")
    rationale = content.get("rationale", "")
    if not isinstance(rationale, str):
        raise Rejected("rationale", "must be text")
    strength = content.get("strength")
    if strength is not None and (isinstance(strength, bool) or not isinstance(strength, int)):
        raise Rejected("strength", "must be 1, 2, 3 or null")
    return AdjudicationRequest(str(iid), ranking, rationale, strength, f"adj-{cid}")


def adjudication_record(
    index: AuditIndex,
    item_id: str,
    ranking: Sequence[Sequence[str]],
    rationale: str,
    *,
    adjudicator: str,
    rationale_required: bool,
    strength: int | None = None,
    label_id: str | None = None,
    started_at: datetime | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The label record of an adjudication of ``item_id`` and the item's response ids (raises LabelError
    naming the field). Pairwise: the winner is the top of ``ranking``; ``strength`` 1..3 or None."""
    if item_id not in index:
        raise LabelError(
            f"adjudication of item {str(item_id)[:80]!r}",
            "item_id",
            "has no labels to adjudicate; check the id",
        )
    rids = index.response_ids(item_id)
    where = f"adjudication of item {item_id!r}"
    if not isinstance(rationale, str):
        raise LabelError(where, "rationale", "must be text")
    if rationale_required and not rationale.strip():
        raise LabelError(where, "rationale", "is required: say why this is the final ranking")
    task = index.task_of(item_id, rids)
    record: dict[str, Any] = {
        "label_id": label_id or f"adj-{uuid.uuid4()}",
        "item_id": item_id,
        "annotator": adjudicator,
        "task": task,
        "status": "submitted",
        "ranking": [list(g) for g in ranking] if isinstance(ranking, (list, tuple)) else ranking,
        "rationale": rationale.strip(),
        "display_order": rids,
        "started_at": started_at,
        "submitted_at": datetime.now(timezone.utc),
        "source": "adjudication",
    }
    if task != "pairwise" and strength is not None:
        raise LabelError(where, "strength", "is for pairwise items only; leave it empty for a ranking")
    if task == "pairwise":
        norm = schema.normalise_ranking(where, record["ranking"], rids)
        tie = len(norm) == 1
        if tie and strength not in (None, 0):
            raise LabelError(
                where, "strength", f"a tie has no strength: leave it empty (or 0), got {strength!r}"
            )
        if strength is not None and not tie and (isinstance(strength, bool) or strength not in (1, 2, 3)):
            raise LabelError(where, "strength", f"must be 1, 2 or 3 for a decisive verdict, got {strength!r}")
        record["winner"] = schema.TIE if tie else norm[0][0]
        record["strength"] = 0 if tie else strength
    return record, rids


def requeue_request(content: Mapping[str, Any]) -> RequeueRequest:
    """Shape of a ``requeue`` message (raises Rejected); the store checks the ids, reason and queue name."""
    check_fields(content, {"client_id", "item_ids", "reason", "queue"}, cap=FIELD_CAP)
    ids = content.get("item_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise Rejected("item_ids", "select at least one item")
    if len(ids) > MAX_REQUEUE_ITEMS:
        raise Rejected("item_ids", f"{len(ids)} items in one message; the limit is {MAX_REQUEUE_ITEMS}")
    reason = content.get("reason")
    return RequeueRequest(ids, reason if isinstance(reason, str) else "", content.get("queue") or "requeue")


def requeue_rejection(exc: ValueError) -> Rejected:
    """The reject for a requeue the store refused, naming the field its message is about."""
    text = str(exc)
    field = "reason" if "reason" in text else "queue" if "queue name" in text else "item_ids"
    return Rejected(field, text)


def comment_request(content: Mapping[str, Any]) -> tuple[str, str]:
    """Shape of a ``comment`` message: (label_id, text); the store checks the label and the text's length."""
    check_fields(content, {"client_id", "label_id", "text"}, cap=FIELD_CAP)
    label_id, text = content.get("label_id"), content.get("text")
    if not isinstance(label_id, str) or not label_id or len(label_id) > 256:
        raise Rejected("label_id", "must be the id of a stored label")
    if not isinstance(text, str):
        raise Rejected("text", f"must be a string, got {type(text).__name__}")
    return label_id, text
