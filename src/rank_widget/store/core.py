"""The durable label store: append-only label rows with store-assigned revisions (design §5).

Every ``append`` is one committed transaction before it returns, so a caller may then acknowledge the label
as saved.
SQLite files run in WAL mode with ``synchronous=FULL``; PostgreSQL is the same schema through SQLAlchemy Core.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple, cast

import pandas as pd
from sqlalchemy import Connection, Engine, exists, func, inspect, literal, select, text
from sqlalchemy.exc import OperationalError

from rank_widget import schema
from rank_widget.gc_pause import gc_paused
from rank_widget.store import access, assign, columns, comments, queues
from rank_widget.store import engine as _engine
from rank_widget.store import qualification as _qual
from rank_widget.store.database import Database
from rank_widget.store.engine import DEFAULT_BUSY_TIMEOUT, StoreError, Target
from rank_widget.store.tables import APP_NAME, MIGRATIONS, STORE_SCHEMA_VERSION, labels, latest, meta

_log = logging.getLogger(__name__)
_COLS = schema.COLUMN_NAMES
_JSON = frozenset(schema.JSON_COLUMNS)
_TIMES = frozenset(schema.DATETIME_COLUMNS)
_INTS = frozenset(schema.INT_COLUMNS)
_MAX_RETRIES = 50  # PostgreSQL: attempts when a concurrent writer took the same revision number
_IN_CHUNK = 500  # ids per IN (...) lookup
# One thread runs the chunk queries while the caller decodes. Two made 1M labels no faster on 2 cores
# (1.9-2.0 s wall) and cost 0.5 s more CPU (3.0 s vs 2.5 s) contending with the decoding thread.
_READ_WORKERS = 1


class AppendResult(NamedTuple):
    label_id: str
    revision: int
    supersedes: str | None
    duplicate: bool


# One shared encoder: json.dumps with options builds a new one per call.
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _json_text(value: Any) -> str | None:
    return None if value is None else _JSON_ENCODER.encode(value)


def _time_text(value: datetime | None) -> str | None:
    # validate_label returns UTC Timestamps, so the text ends in "+00:00". datetime.isoformat is 2x faster
    # than Timestamp's and drops the nanoseconds the canonical datetime64[us] dtype cannot hold anyway.
    return None if value is None else datetime.isoformat(value, timespec="microseconds")


def _identity(value: Any) -> Any:
    return value


_ENCODERS = tuple(
    (name, _json_text if name in _JSON else _time_text if name in _TIMES else _identity) for name in _COLS
)
INSERT_COLUMNS = ", ".join(_COLS)
_LATEST_COLS = ("item_id", "annotator", "source", "label_id", "revision", "status", "seq")
# Plain SQL, the same on SQLite (>= 3.24) and PostgreSQL; "?" becomes "%s" for psycopg (Database.sql).
_FIND_LABEL = "SELECT revision, supersedes, item_id, annotator FROM labels WHERE label_id = ?"
_FIND_LATEST = "SELECT label_id, revision FROM latest WHERE item_id = ? AND annotator = ? AND source = ?"
_INSERT_LABEL = f"INSERT INTO labels ({INSERT_COLUMNS}) VALUES ({', '.join('?' * len(_COLS))})"
# The WHERE keeps `latest` monotonic under concurrent writers.
_UPSERT_LATEST = (
    f"INSERT INTO latest ({', '.join(_LATEST_COLS)}) {{rows}} "
    "ON CONFLICT (item_id, annotator, source) DO UPDATE SET label_id = excluded.label_id, "
    "revision = excluded.revision, status = excluded.status, seq = excluded.seq "
    "WHERE excluded.revision > latest.revision"
)
_UPSERT_LATEST_ONE = _UPSERT_LATEST.format(rows=f"VALUES ({', '.join('?' * len(_LATEST_COLS))})")
# Bulk: the batch's latest rows go to a temporary table first; their seq comes from the inserted labels.
# ("WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join's ON.)
_LATEST_IN = "latest_in"
_LATEST_IN_COLUMNS = "item_id TEXT, annotator TEXT, source TEXT, label_id TEXT, revision BIGINT, status TEXT"
_UPSERT_LATEST_BULK = _UPSERT_LATEST.format(
    rows=f"SELECT {', '.join('i.' + k for k in _LATEST_COLS[:-1])}, l.seq FROM {_LATEST_IN} i "
    f"JOIN labels l ON l.label_id = i.label_id WHERE true"
)


def _is_unique_violation(exc: BaseException) -> bool:
    """A concurrent writer won the race (retry), as opposed to a broken row (a bug: do not retry)."""
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


def encode(label: Mapping[str, Any]) -> tuple[Any, ...]:
    """A validated label (schema.validate_label output) -> the ``labels`` row values in COLUMN_NAMES order."""
    return tuple(fn(label[name]) for name, fn in _ENCODERS)


class Store:
    """Label storage on SQLite (a file or ``:memory:``) or PostgreSQL. Use ``open_store`` to get one.

    Thread-safe: one lock serialises this object's use of the database (the widget's message handler and
    the analyst's cells may run on different threads). Several processes may share one store; revision
    numbers stay consistent (SQLite: BEGIN IMMEDIATE; PostgreSQL: a unique constraint and retry).
    """

    def __init__(self, engine: Engine, target: Target) -> None:
        # Connections, the lock, transactions and error messages: shared with assign and queues.
        self.db = Database(engine, target)
        self.dialect: str = self.db.dialect  # "sqlite" | "postgresql"
        self.path = target.path  # the SQLite file, else None
        self.url = target.display

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def identity(self) -> str | None:
        """The database role labels are stored as (``session_user``) when the PostgreSQL store has access
        control (``rank_widget.team.setup``; docs/security.md), else None: then any annotator name is
        accepted."""
        return self.db.access.identity if self.db.access.on else None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- schema ----------------------------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        """Opened with ``open_store(..., read_only=True)``: every write raises ``StoreError``."""
        return self.db.read_only

    @property
    def schema_version(self) -> int:
        with self.db.read() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one()
            return int(value)

    # -- writes ----------------------------------------------------------------------------------------------

    def append(
        self,
        record: Mapping[str, Any],
        *,
        response_ids: Sequence[str] | None = None,
        rules: schema.LabelRules | None = None,
    ) -> AppendResult:
        """Validate and durably store one label; committed before return.

        The store assigns ``revision`` (1 + the latest for this item x annotator x source) and ``supersedes``
        (that latest row's label_id); values passed in the record are ignored. A ``label_id`` already stored
        is not written again: the stored row's revision comes back with ``duplicate=True``.
        """
        label = schema.validate_label(record, response_ids=response_ids, rules=rules)
        self.db.access.check_label(label, self.url)
        for _attempt in range(_MAX_RETRIES):
            try:
                with self.db.write() as conn:
                    return self._append_in(conn, label)
            except self.db.integrity_errors as exc:
                # PostgreSQL: a concurrent writer committed the same label_id or revision first; look again
                # after a short random pause so the same writers do not collide again in lockstep.
                if not _is_unique_violation(exc):
                    raise
                self._check_hidden_label_id(exc, _attempt, label["label_id"])
                time.sleep(random.uniform(0, 0.001 * (_attempt + 1)))
        raise StoreError(
            f"{self.url}: could not store label {label['label_id']!r} after {_MAX_RETRIES} "
            f"attempts (heavy concurrent writing to item {label['item_id']!r}); retry"
        )

    def _check_hidden_label_id(self, exc: BaseException, attempt: int, label_id: str) -> None:
        """With access control, a label_id taken by another person's label is invisible (row-level security):
        the first retry finds a concurrent writer's own duplicate; a second clash is that hidden label."""
        diag = getattr(getattr(exc, "orig", None) or exc, "diag", None)
        if (
            self.db.access.on
            and attempt >= 1
            and getattr(diag, "constraint_name", None) == "uq_labels_label_id"
        ):
            raise StoreError(
                f"{self.url}: label_id {label_id!r} is already used by a label you cannot see (another "
                f"person's); label ids must be unique: give this label a new id"
            ) from exc

    def _append_in(self, conn: Connection, label: dict[str, Any]) -> AppendResult:
        # The widget's hot path: plain SQL on the transaction's DBAPI cursor (SQLAlchemy's statement handling
        # cost more CPU than SQLite itself here).
        with self.db.cursor(conn) as cur:
            lid = label["label_id"]
            cur.execute(self.db.sql(_FIND_LABEL), (lid,))
            found = cur.fetchone()
            if found is not None:
                rev, sup, item, ann = found
                if (item, ann) != (label["item_id"], label["annotator"]):
                    _log.warning(
                        "label_id %r is already stored for item %r by %r; the label for item %r by "
                        "%r was not stored (label ids must be unique)",
                        lid,
                        item,
                        ann,
                        label["item_id"],
                        label["annotator"],
                    )
                return AppendResult(lid, int(rev), sup, True)
            cur.execute(self.db.sql(_FIND_LATEST), (label["item_id"], label["annotator"], label["source"]))
            prev = cur.fetchone()
            label["revision"] = 1 if prev is None else int(prev[1]) + 1
            label["supersedes"] = None if prev is None else prev[0]
            if self.dialect == "postgresql":
                cur.execute(self.db.sql(_INSERT_LABEL) + " RETURNING seq", encode(label))
                label["seq"] = cur.fetchone()[0]
            else:
                cur.execute(_INSERT_LABEL, encode(label))
                label["seq"] = cur.lastrowid
            if not self.db.access.on:  # with access control, the labels trigger does both (access.py)
                cur.execute(self.db.sql(_UPSERT_LATEST_ONE), tuple(label[k] for k in _LATEST_COLS))
                assign.complete(self, cur, [label])  # team queue: completes this item x annotator's lease
            return AppendResult(lid, label["revision"], label["supersedes"], False)

    def append_many(
        self,
        records: Iterable[Mapping[str, Any]] | pd.DataFrame,
        *,
        response_ids: Mapping[str, Sequence[str]] | None = None,
        rules: schema.LabelRules | None = None,
    ) -> list[AppendResult]:
        """Validate and store many labels in ONE transaction (all or nothing), in order.

        ``records``: label dicts, or a labels DataFrame (``simulate``, ``import_labels``, ``read_labels``).
        Same rules as ``append``: store-assigned revisions, label_ids already stored (or repeated within
        ``records``) are duplicates and not written. ``response_ids`` maps item_id -> that item's response
        ids.
        """
        # iterating a frame gives its column names, not its rows
        rows = cast(
            "Iterable[Mapping[str, Any]]",
            records.to_dict("records") if isinstance(records, pd.DataFrame) else records,
        )
        with gc_paused():
            validated = [
                schema.validate_label(
                    r,
                    response_ids=None if response_ids is None else response_ids.get(str(r.get("item_id"))),
                    rules=rules,
                )
                for r in rows
            ]
            if not validated:
                return []
            for v in validated:
                self.db.access.check_label(v, self.url)
            for _attempt in range(_MAX_RETRIES):
                try:
                    with self.db.write() as conn:
                        return self._append_many_in(conn, [dict(v) for v in validated])
                except self.db.integrity_errors as exc:
                    if not _is_unique_violation(exc):
                        raise
                    self._check_hidden_label_id(exc, _attempt, "(one of this batch)")
                    time.sleep(random.uniform(0, 0.01 * (_attempt + 1)))
        raise StoreError(
            f"{self.url}: could not store {len(validated)} labels after {_MAX_RETRIES} attempts "
            f"(heavy concurrent writing); retry"
        )

    def _append_many_in(self, conn: Connection, batch: list[dict[str, Any]]) -> list[AppendResult]:
        c, lt = labels.c, latest.c
        empty = conn.execute(select(literal(1)).where(exists(select(c.seq)))).first() is None
        stored: dict[str, tuple[int, str | None]] = {}
        current: dict[tuple[str, str, str], tuple[int, str]] = {}
        if not empty:  # look up only what this batch touches, in index-sized chunks
            ids = list({lab["label_id"] for lab in batch})
            for i in range(0, len(ids), _IN_CHUNK):
                for lid, rev, sup in self.db.fetch(
                    conn,
                    select(c.label_id, c.revision, c.supersedes).where(
                        c.label_id.in_(ids[i : i + _IN_CHUNK])
                    ),
                ):
                    stored[lid] = (int(rev), sup)
            items = list({lab["item_id"] for lab in batch})
            for i in range(0, len(items), _IN_CHUNK):
                q = select(lt.item_id, lt.annotator, lt.source, lt.revision, lt.label_id).where(
                    lt.item_id.in_(items[i : i + _IN_CHUNK])
                )
                for item, ann, src, rev, lid in self.db.fetch(conn, q):
                    current[(item, ann, src)] = (int(rev), lid)
        results: list[AppendResult] = []
        rows: list[tuple[Any, ...]] = []
        touched: dict[tuple[str, str, str], tuple[str, int, str]] = {}
        new_ids: set[str] = set()
        for lab in batch:
            lid = lab["label_id"]
            if lid in stored:
                rev, sup = stored[lid]
                results.append(AppendResult(lid, rev, sup, True))
                continue
            key = (lab["item_id"], lab["annotator"], lab["source"])
            prev = current.get(key)
            lab["revision"] = 1 if prev is None else prev[0] + 1
            lab["supersedes"] = None if prev is None else prev[1]
            current[key] = (lab["revision"], lid)
            touched[key] = (lid, lab["revision"], lab["status"])
            stored[lid] = (lab["revision"], lab["supersedes"])
            rows.append(encode(lab))
            new_ids.add(lid)
            results.append(AppendResult(lid, lab["revision"], lab["supersedes"], False))
        if rows and self.db.access.on:
            # Access control: plain INSERTs (COPY FROM is refused under row-level security); the labels
            # trigger writes `latest` and completes the leases.
            with self.db.cursor(conn) as cur:
                cur.executemany(self.db.sql(_INSERT_LABEL), rows)
        elif rows:
            self._bulk_insert(conn, rows, [(*key, *val) for key, val in touched.items()])
            # Team queue: the new labels complete their leases in the same transaction.
            with self.db.cursor(conn) as cur:
                assign.complete(self, cur, [lab for lab in batch if lab["label_id"] in new_ids])
        return results

    def _bulk_insert(
        self, conn: Connection, rows: list[tuple[Any, ...]], latest_rows: list[tuple[Any, ...]]
    ) -> None:
        """Insert encoded rows on the transaction's own DBAPI connection: executemany (SQLite) or COPY
        (PostgreSQL); SQLAlchemy's per-row parameter processing cost more than the database at 1M rows."""
        cols_in = ", ".join(_LATEST_COLS[:-1])
        with self.db.cursor(conn) as cur:
            if self.dialect == "postgresql":
                with cur.copy(f"COPY labels ({INSERT_COLUMNS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cur.execute(f"CREATE TEMP TABLE {_LATEST_IN} ({_LATEST_IN_COLUMNS}) ON COMMIT DROP")
                with cur.copy(f"COPY {_LATEST_IN} ({cols_in}) FROM STDIN") as copy:
                    for row in latest_rows:
                        copy.write_row(row)
            else:
                cur.executemany(_INSERT_LABEL, rows)
                cur.execute(f"DROP TABLE IF EXISTS temp.{_LATEST_IN}")
                cur.execute(f"CREATE TEMP TABLE {_LATEST_IN} ({_LATEST_IN_COLUMNS})")
                cur.executemany(f"INSERT INTO {_LATEST_IN} VALUES (?, ?, ?, ?, ?, ?)", latest_rows)
            cur.execute(_UPSERT_LATEST_BULK)
            if self.dialect == "sqlite":
                cur.execute(f"DROP TABLE temp.{_LATEST_IN}")

    # -- reads -----------------------------------------------------------------------------------------------

    def labels(
        self,
        *,
        annotator: str | None = None,
        item_ids: Iterable[str] | None = None,
        source: str | None = None,
    ) -> pd.DataFrame:
        """Every stored revision (optionally filtered), in insertion order, in the canonical dtypes.

        With access control (docs/security.md) an annotator reads only their own labels; asking for another
        annotator's raises ``AccessDenied``."""
        self.db.access.check_read(annotator, self.url)
        c = labels.c
        where: list[Any] = []
        if annotator is not None:
            where.append(c.annotator == annotator)
        if source is not None:
            where.append(c.source == source)
        wanted: set[str] | None = None
        if item_ids is not None:
            wanted = {item_ids} if isinstance(item_ids, str) else set(item_ids)
            if len(wanted) <= _IN_CHUNK:
                where.append(c.item_id.in_(sorted(wanted)))
                wanted = None
        frame = self._read(where)
        if wanted is not None:
            frame = frame[frame["item_id"].isin(wanted)].reset_index(drop=True)
        return frame

    def current(self, annotator: str | None = None) -> pd.DataFrame:
        """The latest revision per (item, annotator, source), skipped labels included, in insertion order.

        The same rows as ``schema.current_labels(store.labels())``, read through the ``latest`` table.
        """
        self.db.access.check_read(annotator, self.url)
        where: list[Any] = [] if annotator is None else [labels.c.annotator == annotator]
        return self._read(where, latest_only=True)

    def _read(self, where: list[Any], *, latest_only: bool = False) -> pd.DataFrame:
        with gc_paused(), self.db.readers() as connect:
            # In-memory SQLite: one shared connection, so no parallel readers.
            workers = 0 if self.db.single_connection else _READ_WORKERS
            return columns.read(connect, self.dialect, where, workers=workers, latest_only=latest_only)

    def labelled_item_ids(self, annotator: str, *, source: str | None = None) -> set[str]:
        """Items this annotator has a current label on (submitted or skipped): resume skips them."""
        lt = latest.c
        stmt = select(lt.item_id).distinct().where(lt.annotator == annotator)
        if source is not None:
            stmt = stmt.where(lt.source == source)
        with self.db.read() as conn:
            return {r[0] for r in self.db.fetch(conn, stmt)}

    def latest_of(self, item_id: str, annotator: str) -> list[tuple[str, str, str]]:
        """``(label_id, status, source)`` of the annotator's current label of one item, one per source: a
        primary-key lookup (the widget re-reads the item on screen with it: another session may have saved
        since)."""
        lt = latest.c
        stmt = select(lt.label_id, lt.status, lt.source).where(
            lt.item_id == item_id, lt.annotator == annotator
        )
        with self.db.read() as conn:
            return [(str(r[0]), str(r[1]), str(r[2])) for r in self.db.fetch(conn, stmt)]

    def covered_item_ids(self) -> set[str]:
        """Items with at least one current submitted label from anyone (adjudications not counted)."""
        lt = latest.c
        stmt = select(lt.item_id).distinct().where(lt.status == "submitted", lt.source != "adjudication")
        with self.db.read() as conn:
            return {r[0] for r in self.db.fetch(conn, stmt)}

    def count(self, annotator: str | None = None) -> int:
        """Number of current labels whose status is submitted (skips and superseded revisions not counted)."""
        lt = latest.c
        stmt = select(func.count()).select_from(latest).where(lt.status == "submitted")
        if annotator is not None:
            stmt = stmt.where(lt.annotator == annotator)
        with self.db.read() as conn:
            return int(self.db.fetch(conn, stmt)[0][0])

    def queue_item_ids(
        self, name: str, annotator: str | None = None, *, scores: pd.DataFrame | None = None
    ) -> list[str]:
        """Item ids of a named queue (``RankWidget(queue=name)``); see ``rank_widget.store.queues``.

        ``scores``: for ``"disagreements"``, the caller's ``rank_widget.quality.disagreement_scores`` frame
        (the store does not compute agreement itself)."""
        return queues.queue_item_ids(self, name, annotator, scores=scores)

    def queue_since(self, name: str, annotator: str | None = None) -> dict[str, str]:
        """item_id -> when it was last (re-)queued in ``name``; see ``rank_widget.store.queues``."""
        return queues.queue_since(self, name, annotator)

    # -- comments on labels (rank_widget.store.comments; docs/audit.md) ------------------------------------

    def comment(self, label_id: str, text: str, *, by: str) -> str:
        """Comment on a stored label (the annotator sees it on that item); returns the comment id."""
        return comments.add_comment(self, label_id, text, by=by)

    def comments(
        self,
        *,
        item_ids: Iterable[str] | None = None,
        annotator: str | None = None,
        label_id: str | None = None,
    ) -> pd.DataFrame:
        """Comments on labels, oldest first; see ``rank_widget.store.comments``."""
        return comments.list_comments(self, item_ids=item_ids, annotator=annotator, label_id=label_id)

    def mark_comment_read(self, comment_id: str, annotator: str) -> bool:
        """Record that ``annotator`` read a comment on their label (False: it was read already)."""
        return comments.mark_read(self, comment_id, annotator)

    def review_notes(self, annotator: str) -> pd.DataFrame:
        """Re-queue entries for ``annotator`` (or for everyone): the lead's reasons; see ``queues``."""
        return queues.review_notes(self, annotator)

    # -- team assignment (rank_widget.store.assign; docs/team.md) -------------------------------------------

    def register_items(
        self,
        dataset: str,
        item_ids: Iterable[str],
        *,
        overlap: int = 3,
        gold: Iterable[str] = (),
        gold_share: float = 0.0,
    ) -> int:
        """Queue items for team labelling with ``overlap`` annotators each; see ``assign.register_items``."""
        return assign.register_items(
            self, dataset, item_ids, overlap=overlap, gold=gold, gold_share=gold_share
        )

    def set_priorities(self, dataset: str, item_ids: Iterable[str]) -> int:
        """Claims hand out these items first, in this order (e.g. ``rw.next_items``); see
        ``assign.set_priorities``."""
        return assign.set_priorities(self, dataset, item_ids)

    def priorities(self, dataset: str) -> list[str]:
        """The prioritised items of ``dataset``, first claimed first; see ``assign.priorities``."""
        return assign.priorities(self, dataset)

    def claim_next(
        self, dataset: str, annotator: str, *, lease_seconds: float = assign.DEFAULT_LEASE_SECONDS
    ) -> str | None:
        """Lease the next item for ``annotator`` (None: nothing left for them); see ``assign.claim_next``."""
        return assign.claim_next(self, dataset, annotator, lease_seconds=lease_seconds)

    def claim(
        self, dataset: str, annotator: str, n: int = 1, *, lease_seconds: float = assign.DEFAULT_LEASE_SECONDS
    ) -> list[str]:
        """Lease up to ``n`` items for ``annotator``; see ``assign.claim``."""
        return assign.claim(self, dataset, annotator, n, lease_seconds=lease_seconds)

    def release(self, dataset: str, annotator: str, item_id: str | None = None) -> int:
        """Give back active leases; see ``assign.release``."""
        return assign.release(self, dataset, annotator, item_id)

    def renew(
        self,
        dataset: str,
        annotator: str,
        item_id: str | None = None,
        *,
        lease_seconds: float = assign.DEFAULT_LEASE_SECONDS,
    ) -> int:
        """Extend active leases; see ``assign.renew``."""
        return assign.renew(self, dataset, annotator, item_id, lease_seconds=lease_seconds)

    def leases(self, dataset: str, annotator: str | None = None) -> pd.DataFrame:
        """Active leases of ``dataset``; see ``assign.leases``."""
        return assign.leases(self, dataset, annotator)

    # -- qualification (store/qualification.py; docs/qualification.md) ---------------------------------------

    def register_qualification(
        self,
        name: str,
        items: Any,
        *,
        pass_mark: float = 0.8,
        max_attempts: int = 2,
        scoring: Mapping[str, Any] | None = None,
        cooldown: float = 0.0,
    ) -> int:
        """Store a qualification set (items with ``gold`` and optional ``explanation``); returns its version.
        See ``store.qualification.register_qualification``."""
        return _qual.register_qualification(
            self,
            name,
            items,
            pass_mark=pass_mark,
            max_attempts=max_attempts,
            scoring=scoring,
            cooldown=cooldown,
        )

    def require_qualification(self, dataset: str, name: str) -> None:
        """The team queue of ``dataset`` serves only annotators who passed ``name``."""
        _qual.require_qualification(self, dataset, name)

    def qualification(self, name: str, version: int | None = None) -> dict[str, Any]:
        """A stored qualification set with its gold answers (for scoring and leads; never sent to a view)."""
        return _qual.qualification(self, name, version)

    def qualification_status(self, name: str, annotator: str) -> dict[str, Any]:
        """Qualified or not, attempts used and left, when a retry is allowed."""
        return _qual.status(self, name, annotator)

    def grant_qualification(self, name: str, annotator: str, *, reason: str, by: str) -> None:
        """A lead qualifies ``annotator`` without (another) attempt; the reason is recorded."""
        _qual.record_event(self, name, annotator, "granted", reason=reason, actor=by)

    def revoke_qualification(self, name: str, annotator: str, *, reason: str, by: str) -> None:
        """A lead withdraws ``annotator``'s qualification (their active leases return to the pool)."""
        _qual.record_event(self, name, annotator, "revoked", reason=reason, actor=by)

    def reset_qualification(self, name: str, annotator: str, *, reason: str, by: str) -> None:
        """A lead gives ``annotator`` a fresh set of attempts."""
        _qual.record_event(self, name, annotator, "reset", reason=reason, actor=by)

    def requalify(self, name: str, *, reason: str, by: str) -> None:
        """Everyone must pass ``name`` again (e.g. the guidelines changed)."""
        _qual.record_event(self, name, None, "requalify", reason=reason, actor=by)

    def qualification_events(self, name: str | None = None) -> pd.DataFrame:
        """Who passed, failed, was granted, revoked or asked to re-qualify, when and why (append-only)."""
        return _qual.events(self, name)

    def qualification_attempts(self, name: str | None = None, annotator: str | None = None) -> pd.DataFrame:
        """Every attempt with its score and per-criterion breakdown."""
        return _qual.attempts(self, name, annotator)

    def __bool__(self) -> bool:
        return True  # an empty store is still a store (``store or default`` must not replace it)

    def __len__(self) -> int:
        """Number of stored label rows (every revision)."""
        with self.db.read() as conn:
            return int(self.db.fetch(conn, select(func.count()).select_from(labels))[0][0])


def _open_read_only(tgt: Target, busy_timeout: float) -> Store:
    if tgt.kind != "sqlite-file":
        raise StoreError(
            f"{tgt.display}: read_only=True opens SQLite store files; on PostgreSQL connect as a role that "
            "may only read (docs/security.md)"
        )
    assert tgt.path is not None
    uri = _engine.check_read_only_file(tgt.path, busy_timeout)
    store = Store(_engine.sqlite_engine(tgt, busy_timeout, read_only_uri=uri), tgt)
    store.db.read_only = True
    try:
        with store.db.read() as conn:
            tables = set(inspect(conn).get_table_names())
            rows = dict(conn.execute(select(meta.c.key, meta.c.value)).all()) if "meta" in tables else None
        version = _engine.check_existing(str(tgt.path), tables, rows)
        if version < STORE_SCHEMA_VERSION:
            raise StoreError(
                f"{tgt.path}: is an empty store or was written by an older rank_widget (store schema "
                f"{version}; this version reads {STORE_SCHEMA_VERSION}) and read_only=True cannot upgrade "
                "it: open it once without read_only where it can be written, or open a copy"
            )
    except BaseException:
        store.close()
        raise
    return store


def _migrate(db: Database) -> None:
    """Apply every migration newer than the stored schema version, in one write transaction."""
    with db.write() as conn:
        if db.dialect == "postgresql":
            # Two processes opening a fresh database at once: the second waits, then sees the tables.
            conn.execute(text("SELECT pg_advisory_xact_lock(7252012345)"))
        tables = set(inspect(conn).get_table_names())
        rows = None
        if "meta" in tables:
            rows = {k: v for k, v in conn.execute(select(meta.c.key, meta.c.value)).all()}
        version = _engine.check_existing(db.url, tables, rows)
        for m in MIGRATIONS:
            if m.version > version:
                m.apply(conn)
        if version == 0:
            conn.execute(
                meta.insert(),
                [
                    {"key": "app", "value": APP_NAME},
                    {
                        "key": "created_at",
                        "value": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    },
                    {"key": "schema_version", "value": str(STORE_SCHEMA_VERSION)},
                    {"key": "label_schema_version", "value": str(schema.SCHEMA_VERSION)},
                ],
            )
        elif version < STORE_SCHEMA_VERSION:
            conn.execute(
                meta.update().where(meta.c.key == "schema_version").values(value=str(STORE_SCHEMA_VERSION))
            )


def open_store(
    target: Store | str | os.PathLike[str],
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    read_only: bool = False,
) -> Store:
    """Open (creating if needed) a label store.

    ``target``: a file path (SQLite, created if missing), ``":memory:"``, ``"sqlite:///path"``,
    ``"postgresql://user@host/db"`` (psycopg 3), or a Store (returned as is). ``busy_timeout`` is how long (s)
    to wait for another process's lock. Raises ``StoreError`` for a corrupt, foreign, newer or locked store,
    leaving it unmodified.

    ``read_only=True`` (SQLite files): open an existing store to read it (labels, audit, quality reports)
    without changing a byte, also from a read-only folder or mount; every write raises ``StoreError``.
    """
    if isinstance(target, Store):
        if read_only and not target.read_only:
            raise StoreError(
                f"{target.url}: this Store is open for writing; pass its path to open_store(path, "
                "read_only=True) for a read-only one"
            )
        return target
    tgt = _engine.resolve(target)
    if read_only:
        return _open_read_only(tgt, busy_timeout)
    if tgt.kind == "sqlite-file":
        assert tgt.path is not None
        _engine.check_sqlite_file(tgt.path, busy_timeout)
        access.warn_if_shared(tgt.path)  # a team file on a hub: no access control (docs/security.md)
        eng = _engine.sqlite_engine(tgt, busy_timeout)
    elif tgt.kind == "sqlite-memory":
        eng = _engine.sqlite_engine(tgt, busy_timeout)
    else:
        eng = _engine.postgres_engine(tgt)
    store = Store(eng, tgt)
    try:
        _migrate(store.db)
        if store.dialect == "postgresql":
            with store.db.read() as conn, store.db.cursor(conn) as cur:
                store.db.access = access.detect(cur)
    except StoreError:
        eng.dispose()
        raise
    except OperationalError as exc:
        eng.dispose()
        raise StoreError(
            f"{tgt.display}: cannot connect ({exc.orig}); check the URL, that the server is "
            f"running, and the credentials"
        ) from exc
    except BaseException:
        eng.dispose()
        raise
    return store
