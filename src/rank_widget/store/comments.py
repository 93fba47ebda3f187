"""Comments on labels: a lead's review note that the annotator sees when they next open the item.

``store.comment(label_id, text, by=...)`` adds one (the ``label_comments`` table, store migration 4); the
comment belongs to the label's item and annotator, so the annotator's widget shows it on that item whatever
revision they are at. ``store.comments(...)`` lists them; ``store.mark_comment_read(comment_id, annotator)``
records that the annotator read it (the only update: ``read_at`` is set once). Comment text is untrusted: the
widgets render it as text, never HTML; it is capped at ``MAX_COMMENT_CHARS`` and may not hold NUL or control
characters other than newline and tab.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from sqlalchemy import select

from rank_widget.store.database import UsesDatabase
from rank_widget.store.tables import label_comments, labels

MAX_COMMENT_CHARS = 2_000
MAX_NAME_CHARS = 256
COMMENT_COLUMNS = (
    "comment_id",
    "label_id",
    "item_id",
    "annotator",
    "text",
    "author",
    "created_at",
    "read_at",
)


def check_comment_text(text: Any) -> str:
    """The comment text, checked (a ValueError says what is wrong)."""
    if not isinstance(text, str):
        raise ValueError(f"comment text must be a string, got {type(text).__name__}")
    text = text.strip()
    if not text:
        raise ValueError("comment text is empty: say what the annotator should look at")
    if len(text) > MAX_COMMENT_CHARS:
        raise ValueError(
            f"comment text is {len(text)} characters; the limit is {MAX_COMMENT_CHARS}: shorten it"
        )
    bad = next((c for c in text if (ord(c) < 32 and c not in "\n\t") or 0xD800 <= ord(c) <= 0xDFFF), None)
    if bad is not None:
        raise ValueError(f"comment text holds a control character {bad!r} (U+{ord(bad):04X}); remove it")
    return text


def _check_name(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_CHARS:
        raise ValueError(f"{field} must be a name of 1-{MAX_NAME_CHARS} characters, got {str(value)[:80]!r}")
    return value


def add_comment(store: UsesDatabase, label_id: str, text: str, *, by: str) -> str:
    """Comment on the stored label ``label_id``; returns the new comment's id (committed before return)."""
    if not isinstance(label_id, str) or not label_id or len(label_id) > MAX_NAME_CHARS:
        raise ValueError(f"label_id must be a label id of 1-{MAX_NAME_CHARS} characters, got {label_id!r}")
    body = check_comment_text(text)
    author = _check_name("by", by)
    lc = labels.c
    with store.db.write() as conn:
        found = store.db.fetch(conn, select(lc.item_id, lc.annotator).where(lc.label_id == label_id))
        if not found:
            raise ValueError(f"label {label_id[:80]!r} is not in {store.db.url}; comment on a stored label")
        item_id, annotator = found[0]
        comment_id = uuid.uuid4().hex
        conn.execute(
            label_comments.insert(),
            [
                {
                    "comment_id": comment_id,
                    "label_id": label_id,
                    "item_id": str(item_id),
                    "annotator": str(annotator),
                    "text": body,
                    "author": author,
                    "created_at": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                    "read_at": None,
                }
            ],
        )
    return comment_id


def list_comments(
    store: UsesDatabase,
    *,
    item_ids: Iterable[str] | None = None,
    annotator: str | None = None,
    label_id: str | None = None,
) -> pd.DataFrame:
    """Comments, oldest first, optionally of some items, one annotator's labels, or one label."""
    c = label_comments.c
    stmt = select(*(getattr(c, k) for k in COMMENT_COLUMNS)).order_by(c.seq)
    if item_ids is not None:
        ids = [item_ids] if isinstance(item_ids, str) else list(item_ids)
        stmt = stmt.where(c.item_id.in_(ids))
    if annotator is not None:
        stmt = stmt.where(c.annotator == annotator)
    if label_id is not None:
        stmt = stmt.where(c.label_id == label_id)
    with store.db.read() as conn:
        rows = store.db.fetch(conn, stmt)
    return pd.DataFrame([tuple(r) for r in rows], columns=list(COMMENT_COLUMNS), dtype=object)


def mark_read(store: UsesDatabase, comment_id: str, annotator: str) -> bool:
    """Mark a comment on ``annotator``'s label as read; False when it was read already. A comment that is
    not on that annotator's labels is a ValueError (nobody marks another annotator's comments)."""
    if not isinstance(comment_id, str) or not comment_id or len(comment_id) > MAX_NAME_CHARS:
        raise ValueError(f"comment_id must be a comment id, got {str(comment_id)[:80]!r}")
    c = label_comments.c
    with store.db.write() as conn:
        found = store.db.fetch(conn, select(c.annotator, c.read_at).where(c.comment_id == comment_id))
        if not found or found[0][0] != annotator:
            raise ValueError(f"comment {comment_id[:80]!r} is not a comment on {annotator!r}'s labels")
        if found[0][1] is not None:
            return False
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        conn.execute(label_comments.update().where(c.comment_id == comment_id).values(read_at=now))
    return True
