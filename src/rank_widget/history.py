"""The labelling session's own history: undo, the history panel and the review notes shown on an item.

- ``SessionLog``: every submit and skip this widget stored, newest last. Undo (``z``) withdraws the newest one
  that is still its item's current label, by appending a ``withdrawn`` revision (nothing is deleted; see
  docs/data-contract.md "Undo"). The view names the label it means to undo; Python checks that id against
  this log and never trusts it beyond that.
- ``ReviewNotes``: what a lead said about an item: the reason it was re-queued (``store/queues.py``) and the
  comments on this annotator's labels (``store/comments.py``). Read from the store once, and again for the
  item on screen (a lead may comment while the annotator works). The text is untrusted: the view shows it
  as text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._protocol import Rejected, check_fields
from .schema import MAX_ID_CHARS, TIE

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)

HISTORY_ENTRIES = 50  # entries the history panel gets (newest first)
MAX_NOTES = 5  # review notes per item sent to the view (newest)
MAX_NOTE_CHARS = 2_000
STRENGTH_WORDS = {1: "slightly better", 2: "better", 3: "much better"}


@dataclass
class Entry:
    """One submit or skip of this session."""

    label_id: str
    item_id: str
    index: int
    status: str  # submitted | skipped
    revision: int
    at: datetime
    summary: str
    record: dict[str, Any]  # the stored record (real response ids): an undo copies its display order
    undone_by: str | None = None  # label_id of the withdrawn revision that undid it


def letters(display_order: Sequence[str]) -> dict[str, str]:
    """Real response id -> its on-screen letter (A first)."""
    return {rid: chr(65 + i) for i, rid in enumerate(display_order)}


def verdict_summary(record: Mapping[str, Any]) -> str:
    """A short verdict in screen letters, e.g. 'A better', 'B > A = C', 'Skipped'."""
    status = record.get("status")
    if status == "skipped":
        return "Skipped"
    if status == "withdrawn":
        return "Undone"
    pos = letters(list(record.get("display_order") or []))
    winner = record.get("winner")
    if winner is not None:
        if winner == TIE:
            return "Tie"
        return f"{pos.get(str(winner), '?')} {STRENGTH_WORDS.get(int(record.get('strength') or 2), 'better')}"
    ranking = record.get("ranking") or []
    return " > ".join(" = ".join(sorted(pos.get(str(r), "?") for r in group)) for group in ranking)


class SessionLog:
    """The submits and skips this widget stored (memory only: the labels themselves are in the store)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(self, record: Mapping[str, Any], index: int) -> None:
        if record["status"] not in ("submitted", "skipped"):
            return
        self.entries.append(
            Entry(
                label_id=str(record["label_id"]),
                item_id=str(record["item_id"]),
                index=index,
                status=str(record["status"]),
                revision=int(record.get("revision") or 1),
                at=record.get("submitted_at") or datetime.now(timezone.utc),
                summary=verdict_summary(record),
                record=dict(record),
            )
        )

    def undo_target(self, current_label: Mapping[str, str | None]) -> Entry | None:
        """The newest entry not undone that is still its item's current label (``current_label``: item id ->
        this annotator's current label id). An entry a later label of the same item superseded is passed
        over: undoing the later one must not bring a withdrawn label back."""
        for entry in reversed(self.entries):
            if entry.undone_by is None and current_label.get(entry.item_id) == entry.label_id:
                return entry
        return None

    def view(
        self, current_label: Mapping[str, str | None], limit: int = HISTORY_ENTRIES
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` entries for the history panel (plain JSON)."""
        out = []
        for e in reversed(self.entries[-limit:]):
            state = "undone" if e.undone_by else ("skipped" if e.status == "skipped" else "saved")
            out.append(
                {
                    "label_id": e.label_id,
                    "item_id": e.item_id,
                    "index": e.index,
                    "state": state,
                    "revision": e.revision,
                    "at": e.at.isoformat(),
                    "summary": e.summary,
                    "current": current_label.get(e.item_id) == e.label_id,
                }
            )
        return out


def check_undo_message(content: Mapping[str, Any]) -> tuple[str, str | None]:
    """An ``undo`` message: (client_id, label_id the view means to undo, or None for 'the last one')."""
    check_fields(content, {"client_id", "label_id"}, article="an")
    client_id = content.get("client_id")
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_ID_CHARS:
        raise Rejected("client_id", f"must be a string of 1-{MAX_ID_CHARS} characters")
    label_id = content.get("label_id")
    if label_id is not None and (
        not isinstance(label_id, str) or not label_id or len(label_id) > MAX_ID_CHARS
    ):
        raise Rejected("label_id", f"must be null or a label id of 1-{MAX_ID_CHARS} characters")
    return client_id, label_id


def withdrawn_record(entry: Entry, client_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The revision that withdraws ``entry``'s label: status 'withdrawn', no verdict, no ratings or text; the
    same item, annotator, task, display order and guideline version as the label it withdraws."""
    rec = entry.record
    return {
        "label_id": client_id,
        "item_id": rec["item_id"],
        "annotator": rec["annotator"],
        "task": rec["task"],
        "status": "withdrawn",
        "source": "widget",
        "ranking": None,
        "winner": None,
        "strength": None,
        "ratings": None,
        "rationale": "",
        "flags": [],
        "flag_note": "",
        "display_order": list(rec["display_order"]),
        "guideline_version": rec.get("guideline_version"),
        "started_at": None,
        "submitted_at": now or datetime.now(timezone.utc),
        "active_ms": None,
    }


def _cut(text: Any) -> str:
    s = str(text)
    return s if len(s) <= MAX_NOTE_CHARS else s[: MAX_NOTE_CHARS - 1] + "\u2026"


class ReviewNotes:
    """Re-queue reasons and comments on one annotator's labels, by item (what the view shows on the item)."""

    def __init__(self, store: Store, annotator: str) -> None:
        self.store = store
        self.annotator = annotator
        self._requeued: dict[str, list[dict[str, Any]]] = {}
        self._comments: dict[str, list[dict[str, Any]]] = {}
        try:
            for row in store.review_notes(annotator).to_dict("records"):
                self._requeued.setdefault(str(row["item_id"]), []).append(
                    {
                        "kind": "requeue",
                        "id": f"q:{row['queue']}:{row['added_at']}",
                        "text": _cut(row["reason"]),
                        "by": str(row["added_by"]),
                        "at": str(row["added_at"]),
                        "queue": str(row["queue"]),
                        "read": False,
                    }
                )
            self._load_comments(None)
        except Exception as exc:  # a store without these tables' rights (access control): no notes, no crash
            log.warning("RankWidget: could not read review notes for %r: %s", annotator, exc)

    def _load_comments(self, item_id: str | None) -> None:
        frame = self.store.comments(annotator=self.annotator, item_ids=None if item_id is None else [item_id])
        if item_id is not None:
            self._comments.pop(item_id, None)
        for row in frame.to_dict("records"):
            self._comments.setdefault(str(row["item_id"]), []).append(
                {
                    "kind": "comment",
                    "id": str(row["comment_id"]),
                    "text": _cut(row["text"]),
                    "by": str(row["author"]),
                    "at": str(row["created_at"]),
                    "label_id": str(row["label_id"]),
                    "read": row["read_at"] is not None,
                }
            )

    def reread(self, item_id: str) -> bool:
        """Read the comments of one item again (the item shown); True when they changed."""
        before = self._comments.get(item_id)
        try:
            self._load_comments(item_id)
        except Exception as exc:
            log.warning("RankWidget: could not re-read the comments of %r: %s", item_id, exc)
            return False
        return self._comments.get(item_id) != before

    def for_item(self, item_id: str, revision_of: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
        """The newest notes of an item, oldest first (re-queue reasons and comments, by time)."""
        notes = [*self._requeued.get(item_id, ()), *self._comments.get(item_id, ())]
        if not notes:
            return []
        notes.sort(key=lambda n: n["at"])
        out = [dict(n) for n in notes[-MAX_NOTES:]]
        if revision_of:
            for n in out:
                if n.get("label_id") in revision_of:
                    n["revision"] = revision_of[n["label_id"]]
        return out

    def comment_of(self, comment_id: str) -> str | None:
        """The item id of one of this annotator's comments, or None."""
        for iid, notes in self._comments.items():
            if any(n["id"] == comment_id for n in notes):
                return iid
        return None

    def mark_read(self, comment_id: str) -> None:
        self.store.mark_comment_read(comment_id, self.annotator)
        for notes in self._comments.values():
            for n in notes:
                if n["id"] == comment_id:
                    n["read"] = True


def check_note_read(content: Mapping[str, Any]) -> str:
    """A ``note_read`` message: the comment id."""
    check_fields(content, {"comment_id"}, article="a")
    cid = content.get("comment_id")
    if not isinstance(cid, str) or not cid or len(cid) > MAX_ID_CHARS:
        raise Rejected("comment_id", f"must be a comment id of 1-{MAX_ID_CHARS} characters")
    return cid
