"""Named labelling queues kept in the store: items sent back for another round (AuditWidget's re-queue).

A queue is an ordered list of item ids under a name, optionally for one annotator, each entry with a reason
and who added it. Entries are append-only (the ``queue_items`` table, store migration 3): re-queueing an item
adds a row, and the queue's order is each item's first entry. ``RankWidget(items, store=s, queue=name)``
reads it through ``Store.queue_item_ids``.

Two names are computed from the labels rather than stored: ``"disagreements"`` (items whose annotators
disagree, most contested first) and ``"flagged"`` (items with a flag on a current label). Items that already
have an adjudication are left out of both: they are decided. How much annotators disagree is analysis
(``rank_widget.quality.disagreement_scores``), which storage does not import: the caller passes those scores
in (``scores=``); ``RankWidget(queue="disagreements")`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import or_, select

from rank_widget.store.database import UsesDatabase
from rank_widget.store.tables import latest, queue_items


class LabelStore(UsesDatabase, Protocol):
    """What this module needs of a ``rank_widget.store.Store``: its database and its current labels."""

    def current(self, annotator: str | None = None) -> pd.DataFrame: ...


COMPUTED_QUEUES = ("disagreements", "flagged")
QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
MAX_REASON_CHARS = 2_000
MAX_QUEUE_ITEMS = 100_000  # entries per call

QUEUE_COLUMNS = ("queue", "item_id", "annotator", "reason", "added_by", "added_at")


def check_queue_name(name: Any) -> str:
    if not isinstance(name, str) or not QUEUE_NAME.match(name):
        raise ValueError(
            f"queue name {str(name)[:80]!r} is not valid: use 1-64 letters, digits, '_', '-' "
            f"or '.', starting with a letter or digit"
        )
    if name in COMPUTED_QUEUES:
        raise ValueError(
            f"queue name {name!r} is computed from the labels; choose another name for "
            f"re-queued items (e.g. 'round2')"
        )
    return name


def requeue(
    store: LabelStore,
    item_ids: Iterable[str],
    *,
    queue: str,
    reason: str,
    added_by: str,
    annotator: str | None = None,
) -> int:
    """Add items to a named queue (one transaction); returns the number of entries written."""
    name = check_queue_name(queue)
    ids = [item_ids] if isinstance(item_ids, str) else list(item_ids)
    if not ids:
        raise ValueError("no items to re-queue; select at least one item")
    if len(ids) > MAX_QUEUE_ITEMS:
        raise ValueError(f"{len(ids)} items in one re-queue; the limit is {MAX_QUEUE_ITEMS}")
    for i, iid in enumerate(ids):
        if not isinstance(iid, str) or not iid or len(iid) > 256:
            raise ValueError(f"item_ids[{i}]: {str(iid)[:80]!r} is not an item id (1-256 characters)")
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"item {dup!r} is listed twice; list each item once")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason is required: say why these items go back (e.g. 'split on safety')")
    if len(reason) > MAX_REASON_CHARS:
        raise ValueError(f"reason is {len(reason)} characters; the limit is {MAX_REASON_CHARS}")
    for field, value in (("added_by", added_by), ("annotator", annotator)):
        if value is not None and (not isinstance(value, str) or not value or len(value) > 256):
            raise ValueError(f"{field} must be a name of 1-256 characters, got {value!r}")
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    rows = [
        {
            "queue": name,
            "item_id": iid,
            "annotator": annotator,
            "reason": reason.strip(),
            "added_by": added_by,
            "added_at": now,
        }
        for iid in ids
    ]
    with store.db.write() as conn:
        conn.execute(queue_items.insert(), rows)
    return len(rows)


def queue_entries(store: LabelStore, queue: str | None = None) -> pd.DataFrame:
    """Every stored queue entry (optionally of one queue), oldest first."""
    q = queue_items.c
    stmt = select(*(getattr(q, c) for c in QUEUE_COLUMNS)).order_by(q.seq)
    if queue is not None:
        stmt = stmt.where(q.queue == queue)
    with store.db.read() as conn:
        rows = store.db.fetch(conn, stmt)
    return pd.DataFrame(rows, columns=list(QUEUE_COLUMNS), dtype=object)


def queue_names(store: LabelStore) -> list[str]:
    with store.db.read() as conn:
        rows = store.db.fetch(conn, select(queue_items.c.queue).distinct())
    return sorted(r[0] for r in rows)


def queue_item_ids(
    store: LabelStore, name: str, annotator: str | None = None, *, scores: pd.DataFrame | None = None
) -> list[str]:
    """The item ids of a queue, in order: a stored queue (entries for everyone or for ``annotator``), or one
    of the computed ones (``"disagreements"``, ``"flagged"``).

    ``scores`` (``"disagreements"`` only, required there): one row per item with ``item_id`` and
    ``disagreement``, most contested first, as ``rank_widget.quality.disagreement_scores(store.current())``
    returns it. The queue keeps the order of the items with a disagreement above 0.
    """
    if name in COMPUTED_QUEUES:
        return _computed(store, name, scores)
    check_queue_name(name)
    q = queue_items.c
    stmt = select(q.item_id).where(q.queue == name).order_by(q.seq)
    if annotator is not None:
        stmt = stmt.where(or_(q.annotator.is_(None), q.annotator == annotator))
    with store.db.read() as conn:
        rows = store.db.fetch(conn, stmt)
    if not rows:
        known = queue_names(store)
        raise ValueError(
            f"queue {name!r} has no items{' for ' + repr(annotator) if annotator else ''} in "
            f"{store.db.url}; known queues: {[*COMPUTED_QUEUES, *known]}"
        )
    return list(dict.fromkeys(r[0] for r in rows))


def review_notes(store: LabelStore, annotator: str) -> pd.DataFrame:
    """The stored queue entries that concern ``annotator`` (theirs, or for everyone), oldest first: the
    reason a lead gave for sending each item back, which the labelling widget shows on that item."""
    q = queue_items.c
    stmt = (
        select(*(getattr(q, c) for c in QUEUE_COLUMNS))
        .where(or_(q.annotator.is_(None), q.annotator == annotator))
        .order_by(q.seq)
    )
    with store.db.read() as conn:
        rows = store.db.fetch(conn, stmt)
    return pd.DataFrame([tuple(r) for r in rows], columns=list(QUEUE_COLUMNS), dtype=object)


def queue_since(store: LabelStore, name: str, annotator: str | None = None) -> dict[str, str]:
    """item_id -> when it was last put in the stored queue ``name`` (UTC ISO-8601).

    A re-queued item asks for a fresh label: a label submitted before this time does not count as done for
    the queue (``RankWidget(queue=name)`` resumes at the first item without one). Computed queues return {}:
    they have no time of entry.
    """
    if name in COMPUTED_QUEUES:
        return {}
    check_queue_name(name)
    q = queue_items.c
    stmt = select(q.item_id, q.added_at).where(q.queue == name).order_by(q.seq)
    if annotator is not None:
        stmt = stmt.where(or_(q.annotator.is_(None), q.annotator == annotator))
    with store.db.read() as conn:
        rows = store.db.fetch(conn, stmt)
    return {str(iid): str(at) for iid, at in rows}  # later entries overwrite earlier ones


def _disagreement_ids(scores: pd.DataFrame | None) -> pd.Series:
    if scores is None:
        raise ValueError(
            "queue 'disagreements' ranks items by how much their annotators disagree, which the store does "
            "not compute: pass scores=rank_widget.quality.disagreement_scores(store.current())"
        )
    if not isinstance(scores, pd.DataFrame) or not {"item_id", "disagreement"} <= set(scores.columns):
        raise ValueError(
            "scores must be a DataFrame with 'item_id' and 'disagreement' columns, as "
            "rank_widget.quality.disagreement_scores returns"
        )
    return scores.loc[scores["disagreement"] > 0, "item_id"]


def _computed(store: LabelStore, name: str, scores: pd.DataFrame | None) -> list[str]:
    if name == "disagreements":
        ids = _disagreement_ids(scores)
        lt = latest.c
        with store.db.read() as conn:
            decided = {
                r[0] for r in store.db.fetch(conn, select(lt.item_id).where(lt.source == "adjudication"))
            }
    else:
        current = store.current()
        decided = set(current.loc[current["source"] == "adjudication", "item_id"])
        # skipped labels count: a labeler often flags a broken item and skips it
        votes = current[current["source"] != "adjudication"]
        ids = votes.loc[votes["flags"].map(len) > 0, "item_id"].drop_duplicates()
    out = [str(i) for i in ids if i not in decided]
    if not out:
        raise ValueError(
            f"queue {name!r} is empty in {store.db.url}: no undecided items "
            f"{'with disagreement' if name == 'disagreements' else 'with flags'}"
        )
    return out
