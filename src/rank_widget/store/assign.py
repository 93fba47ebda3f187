"""Team assignment on a shared store: an item queue with overlap k, expiring leases and gold items (issue 6).

One mechanism for both engines, in the store's own transactions:

- ``team_items`` rows are the queue. ``done`` counts annotators whose current label on the item is submitted
  (kept by the append hook, ``complete``), so "fewest labels first" is an index scan.
- ``assignments`` holds one row per (dataset, item, annotator): ``leased`` until ``expires_at``, then simply
  ignored (an expired lease needs no clean-up to return its slot), ``done``/``skipped`` once labelled, or
  ``released``.
- A claim hands out an item only while ``done + active leases < overlap``. On SQLite the claim runs in a
  ``BEGIN IMMEDIATE`` transaction (one writer at a time, so the count is exact). On PostgreSQL the candidate
  ``team_items`` row is taken with ``FOR UPDATE SKIP LOCKED`` (claimers never wait on each other) and, holding
  that row lock, the slot count is read again with a fresh statement: every claim and every completion of an
  item takes that same row lock first, so the re-count cannot be stale.

Times are epoch seconds from the claiming process's clock (annotators on one JupyterHub share it). The tables
are defined in ``tables.py``; the SQL here runs through the store's internal ``Database`` (``store.db``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from rank_widget.store import access
from rank_widget.store import qualification as _qualification
from rank_widget.store.access import AccessDenied
from rank_widget.store.database import UsesDatabase
from rank_widget.store.engine import StoreError

# A Store, typed by what this module uses of it (its Database): core imports this module, not the reverse.
Store = UsesDatabase

DEFAULT_LEASE_SECONDS = 600.0
MAX_DATASET_CHARS = 200
_RECHECKS = 50  # PostgreSQL: candidates tried in one claim when a race filled the first ones
_INSERT_CHUNK = 5000
COUNTED_SOURCES = access.COUNTED  # adjudication labels never fill an overlap slot

# "?" placeholders; Database.sql turns them into "%s" for psycopg.
_HOLDS = (
    "EXISTS (SELECT 1 FROM assignments a WHERE a.dataset = t.dataset AND a.item_id = t.item_id "
    "AND a.annotator = ? AND (a.state IN ('done', 'skipped') OR (a.state = 'leased' AND a.expires_at > ?)))"
)
_LABELLED = "EXISTS (SELECT 1 FROM latest l WHERE l.item_id = t.item_id AND l.annotator = ?)"
_ACTIVE = (
    "(SELECT count(*) FROM assignments a WHERE a.dataset = t.dataset AND a.item_id = t.item_id "
    "AND a.state = 'leased' AND a.expires_at > ?)"
)
_CANDIDATE = (
    "SELECT t.item_id FROM team_items t WHERE t.dataset = ? AND t.gold = ? "
    f"AND NOT {_HOLDS} AND NOT {_LABELLED} "
    f"AND (t.gold = 1 OR t.done + {_ACTIVE} < ?) {{exclude}}"
    "ORDER BY {order} LIMIT 1"
)
_COMPLETE_ASSIGNMENT = (
    "INSERT INTO assignments (dataset, item_id, annotator, state, claimed_at, expires_at, finished_at, "
    "label_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset, item_id, annotator) DO UPDATE SET "
    "state = excluded.state, finished_at = excluded.finished_at, label_id = excluded.label_id"
)
_UPSERT_ASSIGNMENT = (
    "INSERT INTO assignments (dataset, item_id, annotator, state, claimed_at, expires_at, finished_at, "
    "label_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset, item_id, annotator) DO UPDATE SET "
    "state = excluded.state, claimed_at = excluded.claimed_at, expires_at = excluded.expires_at, "
    "finished_at = excluded.finished_at, label_id = excluded.label_id"
)


def _check_name(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_DATASET_CHARS:
        raise ValueError(
            f"{what} must be a non-empty string of at most {MAX_DATASET_CHARS} characters, got {value!r}"
        )
    return value


def _check_lease(lease_seconds: float) -> float:
    if (
        isinstance(lease_seconds, bool)
        or not isinstance(lease_seconds, (int, float))
        or not math.isfinite(lease_seconds)
        or lease_seconds <= 0
    ):
        raise ValueError(f"lease_seconds must be a positive number of seconds, got {lease_seconds!r}")
    return float(lease_seconds)


def _dataset(store: Store, cur: Any, dataset: str) -> tuple[int, float]:
    cur.execute(store.db.sql("SELECT overlap, gold_share FROM team_datasets WHERE dataset = ?"), (dataset,))
    row = cur.fetchone()
    if row is None:
        raise StoreError(
            f"{store.db.url}: no team dataset {dataset!r}; call "
            f"store.register_items({dataset!r}, item_ids, overlap=...) first"
        )
    return int(row[0]), float(row[1])


# -- registration --------------------------------------------------------------------------------------------


def register_items(
    store: Store,
    dataset: str,
    item_ids: Iterable[str],
    *,
    overlap: int = 3,
    gold: Iterable[str] = (),
    gold_share: float = 0.0,
) -> int:
    """Put items in ``dataset``'s queue; returns how many were new. Idempotent: items already registered keep
    their counts; ``overlap`` and ``gold_share`` are (re)set for the whole dataset.

    ``overlap``: annotators per item (k). ``gold``: ids of gold / attention items (also registered; every
    annotator gets them, outside the overlap). ``gold_share``: the share of each annotator's claims that are
    gold items while any are left for them (0..1). Labels already in the store count.
    """
    _check_name("dataset", dataset)
    if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 1:
        raise ValueError(f"overlap must be an integer >= 1 (annotators per item), got {overlap!r}")
    if isinstance(gold_share, bool) or not isinstance(gold_share, (int, float)) or not 0 <= gold_share <= 1:
        raise ValueError(f"gold_share must be a number from 0 to 1, got {gold_share!r}")
    ids = [item_ids] if isinstance(item_ids, str) else list(item_ids)
    gold_ids = [gold] if isinstance(gold, str) else list(gold)
    for where, values in (("item_ids", ids), ("gold", gold_ids)):
        for i, iid in enumerate(values):
            if not isinstance(iid, str) or not iid:
                raise ValueError(f"{where}[{i}]: item ids are non-empty strings, got {iid!r}")
    gold_set = set(gold_ids)
    ordered = list(dict.fromkeys([*ids, *gold_ids]))
    now = time.time()
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        cur.execute(
            store.db.sql(
                "INSERT INTO team_datasets (dataset, overlap, gold_share, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (dataset) DO UPDATE SET overlap = excluded.overlap, "
                "gold_share = excluded.gold_share"
            ),
            (dataset, overlap, float(gold_share), now),
        )
        cur.execute(store.db.sql("SELECT item_id FROM team_items WHERE dataset = ?"), (dataset,))
        known = {r[0] for r in cur.fetchall()}
        cur.execute(
            store.db.sql("SELECT coalesce(max(seq), 0) FROM team_items WHERE dataset = ?"), (dataset,)
        )
        seq = int(cur.fetchone()[0])
        fresh = [iid for iid in ordered if iid not in known]
        _qualification.refuse_qualification_items(store, cur, fresh, dataset)  # issue 11
        rows = [(dataset, iid, seq + n + 1, int(iid in gold_set), 0) for n, iid in enumerate(fresh)]
        for i in range(0, len(rows), _INSERT_CHUNK):
            cur.executemany(
                store.db.sql(
                    "INSERT INTO team_items (dataset, item_id, seq, gold, done) VALUES (?, ?, ?, ?, ?)"
                ),
                rows[i : i + _INSERT_CHUNK],
            )
        if gold_set & known:  # an item named gold later becomes gold
            marks = [(dataset, iid) for iid in gold_set & known]
            cur.executemany(
                store.db.sql("UPDATE team_items SET gold = 1 WHERE dataset = ? AND item_id = ?"), marks
            )
        if fresh:
            _adopt_existing_labels(store, cur, dataset, now)
    return len(fresh)


def _adopt_existing_labels(store: Store, cur: Any, dataset: str, now: float) -> None:
    """Labels stored before the items were registered fill their slots (and are never handed out again)."""
    sources = ", ".join(f"'{s}'" for s in COUNTED_SOURCES)
    cur.execute(
        store.db.sql(
            "SELECT l.item_id, l.annotator, max(CASE WHEN l.status = 'submitted' THEN 1 ELSE 0 END), "
            "max(l.label_id) FROM latest l JOIN team_items t ON t.item_id = l.item_id AND t.dataset = ? "
            f"WHERE l.source IN ({sources}) AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.dataset = ? "
            "AND a.item_id = l.item_id AND a.annotator = l.annotator) GROUP BY l.item_id, l.annotator"
        ),
        (dataset, dataset),
    )
    found = cur.fetchall()
    if not found:
        return
    cur.executemany(
        store.db.sql(_UPSERT_ASSIGNMENT),
        [
            (dataset, item, ann, "done" if sub else "skipped", now, now, now, lid)
            for item, ann, sub, lid in found
        ],
    )
    per_item: dict[str, int] = {}
    for item, _ann, sub, _lid in found:
        per_item[item] = per_item.get(item, 0) + int(sub)
    cur.executemany(
        store.db.sql("UPDATE team_items SET done = done + ? WHERE dataset = ? AND item_id = ?"),
        [(n, dataset, item) for item, n in sorted(per_item.items()) if n],
    )


# -- claims --------------------------------------------------------------------------------------------------


def claim(
    store: Store, dataset: str, annotator: str, n: int = 1, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
) -> list[str]:
    """Lease up to ``n`` new items to ``annotator`` (fewer, or none, when the queue has no more for them).

    Never an item they hold, labelled or skipped; never beyond the overlap (labels + active leases); gold
    items mixed in at the dataset's ``gold_share``. Each claim is its own transaction.
    """
    if store.db.access.functions:
        return _claim_as_self(store, dataset, annotator, n, lease_seconds)
    out: list[str] = []
    for _ in range(n):
        got = claim_next(store, dataset, annotator, lease_seconds=lease_seconds)
        if got is None:
            break
        out.append(got)
    return out


def claim_next(
    store: Store, dataset: str, annotator: str, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
) -> str | None:
    """Lease the next item ``annotator`` should label in ``dataset``, or None when none is left for them."""
    _check_name("dataset", dataset)
    _check_name("annotator", annotator)
    lease = _check_lease(lease_seconds)
    if store.db.access.functions:
        got = _claim_as_self(store, dataset, annotator, 1, lease)
        return got[0] if got else None
    pg = store.db.dialect == "postgresql"
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        now = time.time()
        overlap, gold_share = _dataset(store, cur, dataset)
        _qualification.check_claim(store, cur, dataset, annotator)  # a required qualification (issue 11)
        kinds = [0, 1]
        if gold_share > 0 and _wants_gold(store, cur, dataset, annotator, now, gold_share):
            kinds = [1, 0]
        for gold in kinds:
            item = _claim_kind(store, cur, dataset, annotator, gold, overlap, now, pg)
            if item is not None:
                cur.execute(
                    store.db.sql(_UPSERT_ASSIGNMENT),
                    (dataset, item, annotator, "leased", now, now + lease, None, None),
                )
                return item
        return None


def _claim_as_self(store: Store, dataset: str, annotator: str, n: int, lease_seconds: float) -> list[str]:
    """Access control (store/access.py): the ``rw_claim`` function leases to ``session_user`` only, at most
    ``max_claim`` items per call; the store refuses another person's name or a larger claim first."""
    _check_name("dataset", dataset)
    lease = _check_lease(lease_seconds)
    acc = store.db.access
    acc.check_self(annotator, "claim items", store.db.url)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number of items >= 0, got {n!r}")
    if n == 0:
        return []
    if n > acc.max_claim:
        raise AccessDenied(
            f"{store.db.url}: a claim takes at most {acc.max_claim} items per call on this store, not {n} "
            f"(the team's cap, so nobody grabs the pool; docs/security.md)"
        )
    try:
        with store.db.write() as conn, store.db.cursor(conn) as cur:
            cur.execute("SELECT rw_claim(%s, %s, %s)", (dataset, n, lease))
            return [str(r[0]) for r in cur.fetchall()]
    except StoreError as exc:  # the function's refusal for a missing qualification (issue 11)
        if "requires qualification" in str(exc):
            raise _qualification.NotQualified(str(exc)) from exc
        raise


def _wants_gold(store: Store, cur: Any, dataset: str, annotator: str, now: float, share: float) -> bool:
    cur.execute(
        store.db.sql(
            "SELECT t.gold, count(*) FROM assignments a JOIN team_items t ON t.dataset = a.dataset "
            "AND t.item_id = a.item_id WHERE a.dataset = ? AND a.annotator = ? "
            "AND (a.state IN ('done', 'skipped') OR (a.state = 'leased' AND a.expires_at > ?)) "
            "GROUP BY t.gold"
        ),
        (dataset, annotator, now),
    )
    counts = {int(g): int(c) for g, c in cur.fetchall()}
    n_gold = counts.get(1, 0)
    return n_gold < share * (n_gold + counts.get(0, 0) + 1)


def _claim_kind(
    store: Store, cur: Any, dataset: str, annotator: str, gold: int, overlap: int, now: float, pg: bool
) -> str | None:
    skipped: list[str] = []
    for _ in range(_RECHECKS):
        exclude = f"AND t.item_id NOT IN ({', '.join('?' * len(skipped))}) " if skipped else ""
        # Regular items: a lead's priorities, then fewest labels first. Gold items: the same order for
        # everyone, so annotators' gold accuracies are measured on the same items.
        order = "t.seq" if gold else access.CLAIM_ORDER
        sql = _CANDIDATE.format(exclude=exclude, order=order) + (" FOR UPDATE OF t SKIP LOCKED" if pg else "")
        cur.execute(store.db.sql(sql), (dataset, gold, annotator, now, annotator, now, overlap, *skipped))
        row = cur.fetchone()
        if row is None:
            return None
        item = str(row[0])
        if not pg or gold:
            return item  # SQLite: the write lock made the count exact; gold items have no cap
        # PostgreSQL: the candidate was chosen on the statement's snapshot; we now hold its row lock, which
        # every claim and completion of this item takes, so a fresh count is exact.
        cur.execute(
            "SELECT t.done + " + _ACTIVE.replace("?", "%s") + " FROM team_items t "
            "WHERE t.dataset = %s AND t.item_id = %s",
            (now, dataset, item),
        )
        if int(cur.fetchone()[0]) < overlap:
            return item
        skipped.append(item)
    return None


def release(store: Store, dataset: str, annotator: str, item_id: str | None = None) -> int:
    """Give back ``annotator``'s active lease on ``item_id`` (all their leases in ``dataset`` when None);
    returns how many were released. The items go back to the pool at once."""
    _check_name("dataset", dataset)
    now = time.time()
    return _update_active_leases(
        store, "state = 'released', expires_at = ?", (now,), dataset, annotator, item_id, now
    )


def renew(
    store: Store,
    dataset: str,
    annotator: str,
    item_id: str | None = None,
    *,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> int:
    """Extend ``annotator``'s active lease on ``item_id`` (every active lease of theirs in ``dataset`` when
    None) to ``lease_seconds`` from now; returns how many were extended. 0 for an item means its lease had
    expired or was completed: claim again."""
    lease = _check_lease(lease_seconds)
    now = time.time()
    return _update_active_leases(store, "expires_at = ?", (now + lease,), dataset, annotator, item_id, now)


def _update_active_leases(
    store: Store,
    assignment: str,
    values: tuple[Any, ...],
    dataset: str,
    annotator: str,
    item_id: str | None,
    now: float,
) -> int:
    """``UPDATE assignments SET <assignment>`` on the annotator's unexpired leases in ``dataset`` (one item's
    when ``item_id`` is given), in one write transaction; returns how many rows changed. With access control
    the ``rw_leases_update`` function does it, on ``session_user``'s leases only."""
    if store.db.access.functions:
        release = assignment.startswith("state = 'released'")
        store.db.access.check_self(annotator, "release leases" if release else "renew leases", store.db.url)
        lease = None if release else float(values[0]) - now
        with store.db.write() as conn, store.db.cursor(conn) as cur:
            cur.execute("SELECT rw_leases_update(%s, %s, %s, %s)", (dataset, item_id, release, lease))
            return int(cur.fetchone()[0])
    sql = (
        f"UPDATE assignments SET {assignment} WHERE dataset = ? AND annotator = ? AND state = 'leased' "
        "AND expires_at > ?"
    )
    params: tuple[Any, ...] = (*values, dataset, annotator, now)
    if item_id is not None:
        sql += " AND item_id = ?"
        params += (item_id,)
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        cur.execute(store.db.sql(sql), params)
        return int(cur.rowcount)


# -- priorities: a lead's order for the next claims (issue 12: active sampling's picks) ----------------------

_CLAIM_FUNCTION = "rw_claim_one(text, text, integer, integer, double precision)"


def set_priorities(store: Store, dataset: str, item_ids: Iterable[str]) -> int:
    """Claims in ``dataset`` hand out these items first, in this order (each up to the overlap, as always);
    the other items follow as before (fewest labels first). Replaces the dataset's earlier priorities; an
    empty list clears them. Returns how many items are prioritised.

    ``item_ids``: registered, non-gold items of the dataset (``rw.next_items(...)`` as it is; gold items keep
    their own order). One write transaction, touching only the rows whose priority changes; on PostgreSQL a
    claim made while it runs passes over those rows (claims skip locked rows) and takes the next item. With
    ``team.setup`` this needs the lead role.
    """
    _check_name("dataset", dataset)
    ids = [item_ids] if isinstance(item_ids, str) else list(item_ids)
    for i, iid in enumerate(ids):
        if not isinstance(iid, str) or not iid:
            raise ValueError(f"item_ids[{i}]: item ids are non-empty strings, got {iid!r}")
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"item {dup!r} is listed twice; list each item once")
    acc = store.db.access
    if acc.on and not (acc.lead or acc.admin):
        raise AccessDenied(
            f"{store.db.url}: {acc.identity!r} may not set the claim order of team dataset {dataset!r}: "
            f"that needs the lead role ({access.SECURITY_DOC})"
        )
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        _dataset(store, cur, dataset)
        if store.db.dialect == "postgresql" and acc.on:
            _check_claim_function(store, cur)
        known = _priority_rows(store, cur, dataset, ids)
        for i, iid in enumerate(ids):
            if iid not in known:
                raise ValueError(
                    f"item_ids[{i}]: {iid!r} is not registered in team dataset {dataset!r}; register it "
                    f"first (store.register_items) or leave it out"
                )
            if known[iid][0]:
                raise ValueError(
                    f"item_ids[{i}]: {iid!r} is a gold item of {dataset!r}; gold items are mixed in at the "
                    f"dataset's gold_share in their own order, leave it out"
                )
        wanted = {iid: len(ids) - i for i, iid in enumerate(ids)}
        # item_id order: the completion hook locks team_items rows in that order too (no deadlock)
        changes = sorted(
            (iid, new) for iid, (_gold, old) in known.items() if (new := wanted.get(iid, 0)) != old
        )
        for i in range(0, len(changes), _INSERT_CHUNK):
            cur.executemany(
                store.db.sql("UPDATE team_items SET priority = ? WHERE dataset = ? AND item_id = ?"),
                [(new, dataset, iid) for iid, new in changes[i : i + _INSERT_CHUNK]],
            )
    return len(ids)


def _priority_rows(store: Store, cur: Any, dataset: str, ids: list[str]) -> dict[str, tuple[int, int]]:
    """item -> (gold, priority) for the listed items and those prioritised now (index look-ups, not the
    whole dataset)."""
    sql = "SELECT item_id, gold, priority FROM team_items WHERE dataset = ? AND "
    cur.execute(store.db.sql(sql + "priority <> 0"), (dataset,))
    rows = list(cur.fetchall())
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        cur.execute(store.db.sql(sql + f"item_id IN ({', '.join('?' * len(chunk))})"), (dataset, *chunk))
        rows += cur.fetchall()
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


def _check_claim_function(store: Store, cur: Any) -> None:
    """A database set up before priorities claims in the old order: say so rather than be ignored."""
    cur.execute(
        "SELECT position('priority' IN p.prosrc) > 0 FROM pg_proc p WHERE p.oid = to_regprocedure(%s)",
        (_CLAIM_FUNCTION,),
    )
    row = cur.fetchone()
    if row is not None and not row[0]:
        raise StoreError(
            f"{store.db.url}: this database's claim function (rw_claim) was made by an older rank_widget and "
            f"ignores priorities; run rank_widget.team.setup(admin_url, ...) once more to update it "
            f"({access.SECURITY_DOC})"
        )


def priorities(store: Store, dataset: str) -> list[str]:
    """The prioritised items of ``dataset``, first claimed first (``set_priorities``)."""
    rows = store.db.query(
        "SELECT item_id FROM team_items WHERE dataset = ? AND priority > 0 ORDER BY priority DESC", (dataset,)
    )
    return [str(r[0]) for r in rows]


def leases(store: Store, dataset: str, annotator: str | None = None) -> pd.DataFrame:
    """Active leases (one row each: dataset, item_id, annotator, claimed_at, expires_at as UTC times)."""
    now = time.time()
    sql = (
        "SELECT dataset, item_id, annotator, claimed_at, expires_at FROM assignments WHERE dataset = ? "
        "AND state = 'leased' AND expires_at > ?"
    )
    params: tuple[Any, ...] = (dataset, now)
    if annotator is not None:
        sql += " AND annotator = ?"
        params += (annotator,)
    rows = store.db.query(sql + " ORDER BY claimed_at, item_id", params)
    frame = pd.DataFrame(rows, columns=["dataset", "item_id", "annotator", "claimed_at", "expires_at"])
    for col in ("claimed_at", "expires_at"):
        frame[col] = pd.to_datetime(frame[col].astype(float), unit="s", utc=True)
    return frame


def datasets(store: Store) -> pd.DataFrame:
    """Registered datasets: overlap, gold_share, items, gold items."""
    rows = store.db.query(
        "SELECT d.dataset, d.overlap, d.gold_share, count(t.item_id), "
        "coalesce(sum(t.gold), 0) FROM team_datasets d LEFT JOIN team_items t "
        "ON t.dataset = d.dataset GROUP BY d.dataset, d.overlap, d.gold_share "
        "ORDER BY d.dataset",
    )
    return pd.DataFrame(
        [(d, int(o), float(g), int(n), int(ng)) for d, o, g, n, ng in rows],
        columns=["dataset", "overlap", "gold_share", "items", "gold_items"],
    )


def item_status(store: Store, dataset: str) -> pd.DataFrame:
    """One row per registered item: gold, done (submitted labels), active leases, overlap, state
    (complete | in_progress | open | gold)."""
    now = time.time()
    rows = store.db.query(
        f"SELECT t.item_id, t.gold, t.done, d.overlap, {_ACTIVE} FROM team_items t "
        "JOIN team_datasets d ON d.dataset = t.dataset WHERE t.dataset = ? ORDER BY t.seq",
        (now, dataset),
    )
    frame = pd.DataFrame(
        [(i, bool(g), int(dn), int(a), int(o)) for i, g, dn, o, a in rows],
        columns=["item_id", "gold", "done", "leased", "overlap"],
    )
    cols = (frame["gold"], frame["done"], frame["leased"], frame["overlap"])
    state = [
        "gold" if g else "complete" if dn >= o else "in_progress" if (dn or a) else "open"
        for g, dn, a, o in zip(*cols, strict=True)
    ]
    frame["state"] = pd.Series(state, dtype=object)
    return frame


def assignment_rows(store: Store, dataset: str) -> pd.DataFrame:
    """Every assignment row of ``dataset`` (for audits and the monitor)."""
    rows = store.db.query(
        "SELECT item_id, annotator, state, claimed_at, expires_at, finished_at, label_id "
        "FROM assignments WHERE dataset = ? ORDER BY claimed_at",
        (dataset,),
    )
    return pd.DataFrame(
        rows, columns=["item_id", "annotator", "state", "claimed_at", "expires_at", "finished_at", "label_id"]
    )


# -- completion (called from Store.append inside its transaction) -------------------------------------------


def complete(store: Store, cur: Any, labels: Sequence[Mapping[str, Any]]) -> None:
    """Record newly stored labels against the team queue: the annotator's assignment becomes done/skipped and
    the item's ``done`` count follows its current status. Runs inside the append's transaction, so the label
    and its slot commit together. Adjudication labels are not counted (adjudicators are a role)."""
    counted = [lab for lab in labels if lab["source"] in COUNTED_SOURCES]
    if not counted:
        return
    if len(counted) > 1:  # bulk imports into a store without team datasets: one probe, not one per chunk
        cur.execute("SELECT 1 FROM team_items LIMIT 1")
        if cur.fetchone() is None:
            return
    items = sorted({lab["item_id"] for lab in counted})
    registered: dict[str, list[str]] = {}
    pg = store.db.dialect == "postgresql"
    for i in range(0, len(items), 500):
        chunk = items[i : i + 500]
        # PostgreSQL: take the team_items row locks first, in a fixed order (claims take the same locks).
        cur.execute(
            store.db.sql(
                f"SELECT item_id, dataset FROM team_items WHERE item_id IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY item_id, dataset" + (" FOR UPDATE" if pg else "")
            ),
            tuple(chunk),
        )
        for item, ds in cur.fetchall():
            registered.setdefault(item, []).append(ds)
    if not registered:
        return
    now = time.time()
    for lab in counted:
        for ds in registered.get(lab["item_id"], ()):
            key = (ds, lab["item_id"], lab["annotator"])
            cur.execute(
                store.db.sql(
                    "SELECT state FROM assignments WHERE dataset = ? AND item_id = ? AND annotator = ?"
                ),
                key,
            )
            prev = cur.fetchone()
            was_done = prev is not None and prev[0] == "done"
            state = "done" if lab["status"] == "submitted" else "skipped"
            cur.execute(store.db.sql(_COMPLETE_ASSIGNMENT), (*key, state, now, now, now, lab["label_id"]))
            delta = int(state == "done") - int(was_done)
            if delta:
                cur.execute(
                    store.db.sql("UPDATE team_items SET done = done + ? WHERE dataset = ? AND item_id = ?"),
                    (delta, ds, lab["item_id"]),
                )
