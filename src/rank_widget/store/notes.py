"""Label notes: facts about a label that are not part of the label contract (store migration 6).

Two kinds so far:

- ``judge_call``: one LLM judge call made by ``rank_widget.run_judge`` (raw reply, token counts and cost when
  the judge returned them, latency, attempts, how the reply parsed). Keyed by the label id the verdict has or
  will have; a call that failed (raised or timed out on every attempt) has a note with ``status="failed"``
  and no label, so a later run asks it again and the failure is never silently dropped.
- ``suggestion``: the suggestion mode a human label was made under (``RankWidget(suggestions=...)``).

One row per (label_id, kind); writing a note again replaces it (a failed call that later succeeds).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rank_widget.store.database import UsesDatabase
from rank_widget.store.tables import label_notes

NOTE_KINDS = ("judge_call", "suggestion")
NOTE_COLUMNS = ("label_id", "kind", "item_id", "annotator", "status", "data", "written_at")
MAX_NOTE_CHARS = 1_000_000  # the JSON text of one note


def _row(note: Mapping[str, Any], now: str) -> dict[str, Any]:
    where = f"note for label {note.get('label_id')!r}"
    kind = note.get("kind")
    if kind not in NOTE_KINDS:
        raise ValueError(f"{where}: field 'kind' must be one of {NOTE_KINDS}, got {kind!r}")
    for name in ("label_id", "item_id", "annotator", "status"):
        value = note.get(name)
        if not isinstance(value, str) or not value or len(value) > 256 or "\x00" in value:
            raise ValueError(f"{where}: field {name!r} must be a string of 1-256 characters, got {value!r}")
    data = note.get("data") or {}
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: field 'data' must be a dict, got {type(data).__name__}")
    text = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) > MAX_NOTE_CHARS:
        raise ValueError(
            f"{where}: field 'data' is {len(text)} characters of JSON; the limit is {MAX_NOTE_CHARS}"
        )
    if "\x00" in text:
        text = text.replace("\x00", "\\u0000")  # PostgreSQL refuses NUL in text; JSON keeps it escaped
    return {
        "label_id": note["label_id"],
        "kind": kind,
        "item_id": note["item_id"],
        "annotator": note["annotator"],
        "status": note["status"],
        "data": text,
        "written_at": now,
    }


def write_notes(store: UsesDatabase, notes: Iterable[Mapping[str, Any]]) -> int:
    """Store notes in one transaction (each replaces an earlier note of the same label and kind)."""
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    rows = [_row(n, now) for n in notes]
    if not rows:
        return 0
    insert = pg_insert if store.db.dialect == "postgresql" else sqlite_insert
    stmt = insert(label_notes)
    # an upsert, not delete + insert: on a store with access control roles may insert and update, never delete
    stmt = stmt.on_conflict_do_update(
        index_elements=["label_id", "kind"],
        set_={c: stmt.excluded[c] for c in ("item_id", "annotator", "status", "data", "written_at")},
    )
    with store.db.write() as conn:
        conn.execute(stmt, rows)
    return len(rows)


def read_notes(store: UsesDatabase, kind: str | None = None, *, annotator: str | None = None) -> pd.DataFrame:
    """Every note (optionally of one kind / annotator), ``data`` decoded to a dict."""
    n = label_notes.c
    stmt = select(*(getattr(n, c) for c in NOTE_COLUMNS)).order_by(n.written_at, n.label_id)
    if kind is not None:
        stmt = stmt.where(n.kind == kind)
    if annotator is not None:
        stmt = stmt.where(n.annotator == annotator)
    with store.db.read() as conn:
        rows = store.db.fetch(conn, stmt)
    out = pd.DataFrame(rows, columns=list(NOTE_COLUMNS), dtype=object)
    out["data"] = [json.loads(d) for d in out["data"]]
    return out
