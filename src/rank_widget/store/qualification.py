"""Qualification sets, attempts, results and who is qualified: the store's side of issue 11.

- ``register_qualification`` keeps a named set of items with known answers (``gold``), an optional
  ``explanation`` per item, the pass mark, attempts allowed, cool-down and scoring rules. Registering changed
  content under the same name adds a version (1, 2, ...); the same content again is the same version.
- ``require_qualification(dataset, name)``: the team queue (``assign.claim_next``) refuses that dataset's
  items to anyone who has not passed ``name`` (``check_claim``, inside the claim's transaction).
- Attempts: ``start_attempt`` (checks attempts left and the cool-down) and ``finish_attempt`` (stores the
  result computed by ``rank_widget.qualification``: scoring uses scipy, which the store does not import). With
  PostgreSQL access control the database scores instead (``finish_attempt_in_db``: the SQL functions in
  store/access.py) and an annotator reads an item's answer only after labelling it (``answers``).
- ``qualification_events`` is append-only: passed, failed, granted, revoked, requalify (everyone, e.g. a new
  guideline version), reset (attempts). The latest event for (name, annotator) or for everyone decides.

Scoring rules are plain data validated here (``check_scoring``), so a stored set always scores the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from rank_widget.schema import MAX_STRENGTH, TIE
from rank_widget.store.database import UsesDatabase
from rank_widget.store.engine import StoreError

Store = UsesDatabase

MAX_NAME_CHARS = 200
MAX_REASON_CHARS = 2000
MAX_EXPLANATION_CHARS = 100_000
# passed / granted: qualified. failed / revoked / requalify / reset: not (reset restarts the attempt count).
QUALIFYING = ("passed", "granted")
EVENTS = ("passed", "failed", "granted", "revoked", "requalify", "reset")
RESTARTS = ("requalify", "revoked", "reset", "granted")  # attempts are counted after the latest of these
STRENGTH_RULES = ("direction", "within_1", "exact")
TIE_RULES = ("exact", "weak_ok")
DEFAULT_SCORING: dict[str, Any] = {
    "strength": "direction",  # only the winner counts; within_1: |strength - gold| <= 1; exact: equal
    "tie": "exact",  # a gold tie needs a tie; weak_ok: a strength-1 preference also matches a gold tie
    "tau_threshold": 0.6,  # ranking: Kendall's tau-b against the gold ranking >= this
    "rating_tolerance": 1,  # ratings: |rating - gold| <= this, per response and criterion
}
_ATTEMPT_COLS = ("attempt_id", "name", "version", "annotator", "attempt", "start_seq", "finished_at")
_ITEM_FIELDS = ("item_id", "prompt", "responses", "gold", "gold_ratings", "explanation")


class NotQualified(StoreError):
    """The annotator has not passed a qualification the dataset requires (the message says what to do)."""


def _name(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_CHARS:
        raise ValueError(
            f"{what} must be a non-empty string of at most {MAX_NAME_CHARS} characters, got {value!r}"
        )
    return value


def _reason(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REASON_CHARS:
        raise ValueError(
            f"reason must be a non-empty string of at most {MAX_REASON_CHARS} characters (it is recorded)"
        )
    return value.strip()


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


# -- validation ----------------------------------------------------------------------------------------------


def check_scoring(scoring: Mapping[str, Any] | None) -> dict[str, Any]:
    """The scoring rules with defaults filled in; a clear error for an unknown key or a bad value."""
    out = dict(DEFAULT_SCORING)
    if scoring is None:
        return out
    if not isinstance(scoring, Mapping):
        raise TypeError(
            f"scoring must be a dict of rules {sorted(DEFAULT_SCORING)}, got {type(scoring).__name__}"
        )
    unknown = sorted(set(scoring) - set(DEFAULT_SCORING))
    if unknown:
        raise ValueError(f"scoring: unknown rule {unknown[0]!r}; rules: {sorted(DEFAULT_SCORING)}")
    out.update(scoring)
    if out["strength"] not in STRENGTH_RULES:
        raise ValueError(
            f"scoring['strength'] must be one of {list(STRENGTH_RULES)}, got {out['strength']!r}"
        )
    if out["tie"] not in TIE_RULES:
        raise ValueError(f"scoring['tie'] must be one of {list(TIE_RULES)}, got {out['tie']!r}")
    tau = out["tau_threshold"]
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not -1 <= tau <= 1:
        raise ValueError(f"scoring['tau_threshold'] must be a number from -1 to 1, got {tau!r}")
    tol = out["rating_tolerance"]
    if isinstance(tol, bool) or not isinstance(tol, int) or tol < 0:
        raise ValueError(f"scoring['rating_tolerance'] must be an integer >= 0, got {tol!r}")
    out["tau_threshold"] = float(tau)
    return out


def _records(items: Any) -> list[dict[str, Any]]:
    if isinstance(items, pd.DataFrame):
        return [{str(k): v for k, v in r.items()} for r in items.to_dict("records")]
    if isinstance(items, (list, tuple)) and all(isinstance(r, Mapping) for r in items):
        return [dict(r) for r in items]
    raise TypeError("items must be a DataFrame or a list of dicts with item_id, prompt, responses and gold")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def normalise_gold(where: str, gold: Any, response_ids: list[str]) -> dict[str, Any]:
    """A gold answer -> ``{"winner", "strength"}`` (2 responses) or ``{"ranking"}`` (tie groups).

    Accepts a winner id or ``"tie"``; ``{"winner": .., "strength": ..}``; a ranking as tie groups
    (``[["r2"], ["r1", "r3"]]``) or a strict order (``["r2", "r1"]``); ``{"ranking": ..}``.
    """
    if isinstance(gold, np.ndarray):
        gold = gold.tolist()
    if _blank(gold) or (isinstance(gold, (list, tuple, Mapping, str)) and not gold):
        raise ValueError(f"{where}: field 'gold' is missing; every qualification item needs its known answer")
    strength = None
    if isinstance(gold, Mapping):
        extra = sorted(set(gold) - {"winner", "strength", "ranking"})
        if extra:
            raise ValueError(f"{where}: gold has unknown field {extra[0]!r} (winner, strength or ranking)")
        strength = gold.get("strength")
        gold = gold.get("ranking", gold.get("winner"))
        if _blank(gold):
            raise ValueError(f"{where}: gold needs 'winner' or 'ranking'")
    if isinstance(gold, str):
        if gold != TIE and gold not in response_ids:
            raise ValueError(f"{where}: gold winner {gold!r} is not one of the responses {response_ids}")
        if len(response_ids) != 2 and gold != TIE:
            gold = [[gold], [r for r in response_ids if r != gold]]
        elif len(response_ids) != 2:
            gold = [list(response_ids)]
        else:
            return {"winner": gold, "strength": _gold_strength(where, gold, strength)}
    groups = _groups(where, gold, response_ids)
    if len(response_ids) == 2:
        winner = TIE if len(groups) == 1 else groups[0][0]
        return {"winner": winner, "strength": _gold_strength(where, winner, strength)}
    if strength is not None:
        raise ValueError(f"{where}: gold strength applies to a pair of responses, not a ranking")
    return {"ranking": groups}


def _groups(where: str, gold: Any, response_ids: list[str]) -> list[list[str]]:
    if not isinstance(gold, (list, tuple)):
        raise ValueError(f"{where}: gold must be a winner id, 'tie', or a ranking, got {type(gold).__name__}")
    groups = [
        [g] if isinstance(g, str) else list(g.tolist() if isinstance(g, np.ndarray) else g) for g in gold
    ]
    flat = [r for g in groups for r in g]
    if sorted(flat) != sorted(response_ids) or not all(groups):
        raise ValueError(
            f"{where}: gold ranking {groups} must list each of the responses {response_ids} once"
        )
    return groups


def _gold_strength(where: str, winner: str, strength: Any) -> int | None:
    if _blank(strength):
        return 0 if winner == TIE else None
    if (
        isinstance(strength, bool)
        or not isinstance(strength, (int, np.integer))
        or not 0 <= strength <= MAX_STRENGTH
    ):
        raise ValueError(f"{where}: gold strength must be an integer 0..{MAX_STRENGTH}, got {strength!r}")
    if (int(strength) == 0) != (winner == TIE):
        raise ValueError(f"{where}: gold strength 0 means a tie and only a tie has strength 0")
    return int(strength)


def _gold_ratings(where: str, value: Any, response_ids: list[str]) -> dict[str, dict[str, int]] | None:
    if _blank(value) or value == {}:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: gold_ratings must be {{response_id: {{criterion: int}}}}")
    out: dict[str, dict[str, int]] = {}
    for rid, per in value.items():
        if rid not in response_ids or not isinstance(per, Mapping):
            raise ValueError(
                f"{where}: gold_ratings key {rid!r} is not a response of the item {response_ids}"
            )
        for crit, score in per.items():
            if isinstance(score, bool) or not isinstance(score, (int, np.integer)):
                raise ValueError(f"{where}: gold_ratings {rid}/{crit} must be an integer, got {score!r}")
        out[str(rid)] = {str(c): int(s) for c, s in per.items()}
    return out


def _item_row(i: int, rec: Mapping[str, Any]) -> dict[str, Any]:
    iid = rec.get("item_id")
    where = f"qualification item {i} ({iid!r})" if isinstance(iid, str) else f"qualification item {i}"
    if not isinstance(iid, str) or not iid:
        raise ValueError(f"{where}: field 'item_id' must be a non-empty string")
    responses = rec.get("responses")
    if isinstance(responses, np.ndarray):
        responses = responses.tolist()
    if not isinstance(responses, (list, tuple)) or len(responses) < 2:
        raise ValueError(f"{where}: field 'responses' must be a list of 2 or more {{response_id, text}}")
    rids = []
    for r in responses:
        if not isinstance(r, Mapping) or not isinstance(r.get("response_id"), str):
            raise ValueError(f"{where}: each response needs a 'response_id' string")
        rids.append(r["response_id"])
    if len(set(rids)) != len(rids):
        raise ValueError(f"{where}: response ids {rids} repeat")
    explanation = rec.get("explanation")
    if _blank(explanation):
        explanation = None
    elif not isinstance(explanation, str) or len(explanation) > MAX_EXPLANATION_CHARS:
        raise ValueError(
            f"{where}: field 'explanation' must be markdown text of at most {MAX_EXPLANATION_CHARS} chars"
        )
    content = {k: v for k, v in rec.items() if k not in _ITEM_FIELDS[3:] and not _blank(v)}
    content["responses"] = [dict(r) for r in responses]
    return {
        "item_id": iid,
        "seq": i,
        "content": _dumps(content),
        "gold": _dumps(normalise_gold(where, rec.get("gold"), rids)),
        "gold_ratings": (
            None if (gr := _gold_ratings(where, rec.get("gold_ratings"), rids)) is None else _dumps(gr)
        ),
        "explanation": explanation,
    }


# -- registration --------------------------------------------------------------------------------------------


def register_qualification(
    store: Store,
    name: str,
    items: Any,
    *,
    pass_mark: float = 0.8,
    max_attempts: int = 2,
    scoring: Mapping[str, Any] | None = None,
    cooldown: float = 0.0,
) -> int:
    """Store a qualification set; returns its version (the same content again returns the same version)."""
    _name("qualification name", name)
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, (int, float)) or not 0 < pass_mark <= 1:
        raise ValueError(f"pass_mark must be a share of items in (0, 1], e.g. 0.8; got {pass_mark!r}")
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
    if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)) or not 0 <= cooldown < math.inf:
        raise ValueError(f"cooldown must be a number of seconds >= 0 between attempts, got {cooldown!r}")
    rules = check_scoring(scoring)
    rows = [_item_row(i, rec) for i, rec in enumerate(_records(items))]
    if not rows:
        raise ValueError(f"qualification {name!r} has no items")
    ids = [r["item_id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(
            f"qualification {name!r}: item {next(i for i in ids if ids.count(i) > 1)!r} is listed twice"
        )
    digest = hashlib.sha256(
        _dumps([rows, float(pass_mark), max_attempts, float(cooldown), rules]).encode()
    ).hexdigest()
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        _refuse_production(store, cur, ids, f"qualification {name!r}")
        cur.execute(
            store.db.sql("SELECT version, digest FROM qualifications WHERE name = ? ORDER BY version DESC"),
            (name,),
        )
        found = cur.fetchone()
        if found is not None and found[1] == digest:
            return int(found[0])
        version = 1 if found is None else int(found[0]) + 1
        cur.execute(
            store.db.sql(
                "INSERT INTO qualifications (name, version, pass_mark, max_attempts, cooldown_s, scoring, "
                "digest, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                name,
                version,
                float(pass_mark),
                max_attempts,
                float(cooldown),
                _dumps(rules),
                digest,
                time.time(),
            ),
        )
        cur.executemany(
            store.db.sql(
                "INSERT INTO qualification_items (name, version, item_id, seq, content, gold, gold_ratings, "
                "explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            [
                (
                    name,
                    version,
                    r["item_id"],
                    r["seq"],
                    r["content"],
                    r["gold"],
                    r["gold_ratings"],
                    r["explanation"],
                )
                for r in rows
            ],
        )
    return version


def _refuse_production(store: Store, cur: Any, ids: list[str], what: str) -> None:
    """An item may not be both a qualification item and a production (team dataset) item."""
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        cur.execute(
            store.db.sql(
                f"SELECT item_id, dataset FROM team_items WHERE item_id IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY item_id LIMIT 1"
            ),
            tuple(chunk),
        )
        row = cur.fetchone()
        if row is not None:
            raise ValueError(
                f"{what}: item {row[0]!r} is also a production item of team dataset {row[1]!r}; an annotator "
                "would see its answer in training: give the qualification its own items"
            )


def refuse_qualification_items(store: Store, cur: Any, ids: list[str], dataset: str) -> None:
    """Called by ``assign.register_items``: production items must not be qualification items."""
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        cur.execute(
            store.db.sql(
                "SELECT item_id, name FROM qualification_items WHERE item_id IN "
                f"({', '.join('?' * len(chunk))}) ORDER BY item_id LIMIT 1"
            ),
            tuple(chunk),
        )
        row = cur.fetchone()
        if row is not None:
            raise ValueError(
                f"team dataset {dataset!r}: item {row[0]!r} is an item of qualification {row[1]!r}; its "
                "answer is shown in training, so it cannot be a production item: leave it out"
            )


def _latest_version(store: Store, cur: Any, name: str) -> tuple[int, float, int, float, dict[str, Any]]:
    cur.execute(
        store.db.sql(
            "SELECT version, pass_mark, max_attempts, cooldown_s, scoring FROM qualifications WHERE name = ? "
            "ORDER BY version DESC LIMIT 1"
        ),
        (name,),
    )
    row = cur.fetchone()
    if row is None:
        cur.execute("SELECT DISTINCT name FROM qualifications ORDER BY name")
        known = [r[0] for r in cur.fetchall()]
        raise ValueError(
            f"{store.db.url}: no qualification {name!r}; registered: {known} "
            "(store.register_qualification(name, items) registers one)"
        )
    return int(row[0]), float(row[1]), int(row[2]), float(row[3]), json.loads(row[4])


def qualification(store: Store, name: str, version: int | None = None) -> dict[str, Any]:
    """A stored qualification: settings and items (with gold and explanations: for scoring and leads only)."""
    _name("qualification name", name)
    with store.db.read() as conn, store.db.cursor(conn) as cur:
        latest, pass_mark, max_attempts, cooldown, rules = _latest_version(store, cur, name)
        v = latest if version is None else version
        if v != latest:
            cur.execute(
                store.db.sql(
                    "SELECT pass_mark, max_attempts, cooldown_s, scoring FROM qualifications "
                    "WHERE name = ? AND version = ?"
                ),
                (name, v),
            )
            row = cur.fetchone()
            if row is None:
                raise ValueError(f"qualification {name!r} has no version {v!r} (latest: {latest})")
            pass_mark, max_attempts, cooldown, rules = (
                float(row[0]),
                int(row[1]),
                float(row[2]),
                json.loads(row[3]),
            )
        if answers_hidden(store):
            cur.execute(
                "SELECT item_id, content, NULL, NULL, NULL FROM qualification_items "
                "WHERE name = %s AND version = %s ORDER BY seq",
                (name, v),
            )
        else:
            cur.execute(
                store.db.sql(
                    "SELECT item_id, content, gold, gold_ratings, explanation FROM qualification_items "
                    "WHERE name = ? AND version = ? ORDER BY seq"
                ),
                (name, v),
            )
        items = [
            {
                **json.loads(content),
                "item_id": iid,
                "gold": None if gold is None else json.loads(gold),
                "gold_ratings": None if gr is None else json.loads(gr),
                "explanation": expl,
            }
            for iid, content, gold, gr, expl in cur.fetchall()
        ]
    if answers_hidden(store):
        revealed = answers(store, name, v)
        items = [{**i, **revealed.get(i["item_id"], {})} for i in items]
    return {
        "name": name,
        "version": v,
        "pass_mark": pass_mark,
        "max_attempts": max_attempts,
        "cooldown": cooldown,
        "scoring": rules,
        "items": items,
    }


def answers_hidden(store: Store) -> bool:
    """With access control an annotator or adjudicator cannot read the answers (gold, gold_ratings,
    explanation) of a qualification item before labelling it: they come from ``answers`` (store/access.py)."""
    acc = store.db.access
    return acc.functions and not acc.lead


def answers(store: Store, name: str, version: int) -> dict[str, dict[str, Any]]:
    """item_id -> {gold, gold_ratings, explanation} for the items the connected person has labelled in an
    attempt at (name, version); through the ``rw_qualification_answers`` function (access control only)."""
    rows = store.db.query(
        "SELECT item_id, gold, gold_ratings, explanation FROM rw_qualification_answers(?, ?)",
        (name, int(version)),
    )
    return {
        str(iid): {
            "gold": json.loads(gold),
            "gold_ratings": None if gr is None else json.loads(gr),
            "explanation": expl,
        }
        for iid, gold, gr, expl in rows
    }


def finish_attempt_in_db(store: Store, attempt_id: str) -> dict[str, Any] | None:
    """With access control: ``rw_finish_qualification`` scores the attempt in the database from the caller's
    own labels and records passed or failed (the only way a pass is recorded). None: already closed."""
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        cur.execute("SELECT rw_finish_qualification(%s)", (attempt_id,))
        value = cur.fetchone()[0]
    if value is None:
        return None
    return json.loads(value) if isinstance(value, str) else dict(value)


def qualification_names(store: Store) -> list[str]:
    return [r[0] for r in store.db.query("SELECT DISTINCT name FROM qualifications ORDER BY name")]


# -- requirements and the claim check -----------------------------------------------------------------------


def require_qualification(store: Store, dataset: str, name: str) -> None:
    """From now on ``dataset``'s team queue serves only annotators who passed ``name``."""
    _name("dataset", dataset)
    _name("qualification name", name)
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        _latest_version(store, cur, name)
        cur.execute(store.db.sql("SELECT item_id FROM qualification_items WHERE name = ?"), (name,))
        ids = sorted({r[0] for r in cur.fetchall()})
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            cur.execute(
                store.db.sql(
                    "SELECT item_id FROM team_items WHERE dataset = ? AND item_id IN "
                    f"({', '.join('?' * len(chunk))}) "
                    "LIMIT 1"
                ),
                (dataset, *chunk),
            )
            row = cur.fetchone()
            if row is not None:
                raise ValueError(
                    f"team dataset {dataset!r}: item {row[0]!r} is also an item of qualification {name!r}; "
                    "remove it from one of them"
                )
        cur.execute(
            store.db.sql(
                "INSERT INTO dataset_qualifications (dataset, name, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (dataset, name) DO NOTHING"
            ),
            (dataset, name, time.time()),
        )
        # Leases taken before the requirement by people who lack it go back to the pool now.
        now = time.time()
        cur.execute(
            store.db.sql(
                "SELECT DISTINCT annotator FROM assignments WHERE dataset = ? AND state = 'leased' "
                "AND expires_at > ?"
            ),
            (dataset, now),
        )
        for (who,) in cur.fetchall():
            if missing(store, cur, dataset, who):
                cur.execute(
                    store.db.sql(
                        "UPDATE assignments SET state = 'released', expires_at = ? WHERE dataset = ? "
                        "AND annotator = ? AND state = 'leased' AND expires_at > ?"
                    ),
                    (now, dataset, who, now),
                )


def required_qualifications(store: Store, dataset: str) -> list[str]:
    rows = store.db.query(
        "SELECT name FROM dataset_qualifications WHERE dataset = ? ORDER BY name", (dataset,)
    )
    return [r[0] for r in rows]


# The latest event for (name, annotator) or for everyone (annotator NULL), per required qualification.
_MISSING = (
    "SELECT q.name, (SELECT e.event FROM qualification_events e WHERE e.name = q.name "
    "AND (e.annotator = ? OR e.annotator IS NULL) ORDER BY e.seq DESC LIMIT 1) "
    "FROM dataset_qualifications q WHERE q.dataset = ? ORDER BY q.name"
)


def missing(store: Store, cur: Any, dataset: str, annotator: str) -> list[tuple[str, str | None]]:
    """(qualification, latest event or None) for each qualification of ``dataset`` ``annotator`` lacks."""
    cur.execute(store.db.sql(_MISSING), (annotator, dataset))
    return [(n, e) for n, e in cur.fetchall() if e not in QUALIFYING]


def check_claim(store: Store, cur: Any, dataset: str, annotator: str) -> None:
    """Inside a claim's transaction: refuse with what to do when a required qualification is missing."""
    lacking = missing(store, cur, dataset, annotator)
    if not lacking:
        return
    name, event = lacking[0]
    why = {
        None: "has not taken it yet",
        "failed": "did not pass it",
        "revoked": "had it revoked by a lead",
        "requalify": "must take it again (the guidelines changed)",
        "reset": "must take it again",
    }.get(event, "has not passed it")
    raise NotQualified(
        f"{store.db.url}: team dataset {dataset!r} requires qualification {name!r}; {annotator!r} {why}: "
        f"take it first: RankWidget(items, store=..., dataset={dataset!r}, qualification={name!r}) serves it "
        "(or a lead can store.grant_qualification(...) with a reason)"
    )


# -- status, attempts, events -------------------------------------------------------------------------------


def _event(
    store: Store,
    cur: Any,
    name: str,
    annotator: str | None,
    event: str,
    reason: str,
    actor: str,
    attempt_id: str | None = None,
    detail: str | None = None,
) -> None:
    cur.execute(
        store.db.sql(
            "INSERT INTO qualification_events (name, annotator, event, reason, actor, at, attempt_id, "
            "detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        (name, annotator, event, reason, actor, time.time(), attempt_id, detail),
    )


def _release_leases(store: Store, cur: Any, name: str, annotator: str | None) -> None:
    """Active leases of datasets requiring ``name`` go back to the pool when someone loses it."""
    now = time.time()
    who = "" if annotator is None else " AND annotator = ?"
    cur.execute(
        store.db.sql(
            "UPDATE assignments SET state = 'released', expires_at = ? WHERE state = 'leased' "
            "AND expires_at > ? "
            f"AND dataset IN (SELECT dataset FROM dataset_qualifications WHERE name = ?){who}"
        ),
        (now, now, name) + (() if annotator is None else (annotator,)),
    )


def _status_in(store: Store, cur: Any, name: str, annotator: str) -> dict[str, Any]:
    version, pass_mark, max_attempts, cooldown, _rules = _latest_version(store, cur, name)
    cur.execute(
        store.db.sql(
            "SELECT seq, event, at, reason FROM qualification_events WHERE name = ? "
            "AND (annotator = ? OR annotator IS NULL) ORDER BY seq"
        ),
        (name, annotator),
    )
    events = cur.fetchall()
    last = events[-1] if events else None
    restart = max((s for s, e, _a, _r in events if e in RESTARTS), default=0)
    failures = [(s, a) for s, e, a, _r in events if e == "failed" and s > restart]
    cur.execute(
        store.db.sql(
            "SELECT attempt_id FROM qualification_attempts WHERE name = ? AND annotator = ? "
            "AND finished_at IS NULL ORDER BY started_at DESC LIMIT 1"
        ),
        (name, annotator),
    )
    open_attempt = cur.fetchone()
    retry_at = failures[-1][1] + cooldown if failures else None
    return {
        "name": name,
        "version": version,
        "annotator": annotator,
        "qualified": last is not None and last[1] in QUALIFYING,
        "last_event": None if last is None else last[1],
        "reason": None if last is None else last[3],
        "attempts_used": len(failures),
        "attempts_left": max(0, max_attempts - len(failures)),
        "max_attempts": max_attempts,
        "pass_mark": pass_mark,
        "retry_at": retry_at if retry_at is not None and retry_at > time.time() else None,
        "open_attempt": None if open_attempt is None else open_attempt[0],
    }


def status(store: Store, name: str, annotator: str) -> dict[str, Any]:
    """Whether ``annotator`` is qualified for ``name`` now, attempts used/left, when a retry is allowed."""
    _name("qualification name", name)
    _name("annotator", annotator)
    with store.db.read() as conn, store.db.cursor(conn) as cur:
        return _status_in(store, cur, name, annotator)


def start_attempt(store: Store, name: str, annotator: str) -> dict[str, Any]:
    """Open an attempt (or return the open one): ``{"attempt_id", "attempt", "version", "start_seq"}``.
    Refused when already qualified, when no attempts are left, or during the cool-down."""
    _name("qualification name", name)
    _name("annotator", annotator)
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        st = _status_in(store, cur, name, annotator)
        if st["open_attempt"] is not None:
            cur.execute(
                store.db.sql(
                    "SELECT attempt_id, attempt, version, start_seq FROM qualification_attempts "
                    "WHERE attempt_id = ?"
                ),
                (st["open_attempt"],),
            )
            aid, n, v, seq = cur.fetchone()
            return {"attempt_id": aid, "attempt": int(n), "version": int(v), "start_seq": int(seq)}
        if st["qualified"]:
            raise ValueError(f"{annotator!r} has already passed qualification {name!r}; nothing to retake")
        if st["attempts_left"] == 0:
            raise NotQualified(
                f"{annotator!r} has used all {st['max_attempts']} attempts at qualification {name!r}; "
                "ask a lead "
                f"to review your answers and reset your attempts (store.reset_qualification({name!r}, "
                f"{annotator!r}, reason=...))"
            )
        if st["retry_at"] is not None:
            wait = st["retry_at"] - time.time()
            raise NotQualified(
                f"{annotator!r} can retry qualification {name!r} in {wait / 60:.0f} min "
                "(cool-down after a failed "
                f"attempt); review the explanations of the items you missed meanwhile"
            )
        cur.execute("SELECT coalesce(max(seq), 0) FROM labels")
        start_seq = int(cur.fetchone()[0])
        cur.execute(
            store.db.sql("SELECT count(*) FROM qualification_attempts WHERE name = ? AND annotator = ?"),
            (name, annotator),
        )
        n = int(cur.fetchone()[0]) + 1
        aid = uuid.uuid4().hex
        cur.execute(
            store.db.sql(
                "INSERT INTO qualification_attempts (attempt_id, name, version, annotator, attempt, "
                "start_seq, "
                "started_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            (aid, name, st["version"], annotator, n, start_seq, time.time()),
        )
        return {"attempt_id": aid, "attempt": n, "version": st["version"], "start_seq": start_seq}


def attempt_labels(store: Store, attempt_id: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """The attempt row and the annotator's first label per qualification item made during it (the one whose
    feedback showed the answer: a revision after it does not count)."""
    with store.db.read() as conn, store.db.cursor(conn) as cur:
        cur.execute(
            store.db.sql(
                "SELECT attempt_id, name, version, annotator, attempt, start_seq, finished_at FROM "
                "qualification_attempts WHERE attempt_id = ?"
            ),
            (attempt_id,),
        )
        row = cur.fetchone()
        if row is None:
            raise ValueError(f"no qualification attempt {attempt_id!r} in {store.db.url}")
        att = dict(zip(_ATTEMPT_COLS, row, strict=True))
        cur.execute(
            store.db.sql(
                "SELECT l.label_id, l.item_id, l.status, l.winner, l.strength, l.ranking, l.ratings, l.seq "
                "FROM labels l JOIN qualification_items q ON q.item_id = l.item_id AND q.name = ? "
                "AND q.version = ? "
                "WHERE l.annotator = ? AND l.seq > ? ORDER BY l.seq"
            ),
            (att["name"], att["version"], att["annotator"], att["start_seq"]),
        )
        rows = cur.fetchall()
    frame = pd.DataFrame(
        rows, columns=["label_id", "item_id", "status", "winner", "strength", "ranking", "ratings", "seq"]
    )
    for col in ("ranking", "ratings"):
        frame[col] = [None if v is None else json.loads(v) for v in frame[col]]
    frame = frame.drop_duplicates("item_id", keep="first").reset_index(drop=True)
    return att, frame


def finish_attempt(
    store: Store,
    attempt_id: str,
    *,
    score: float,
    passed: bool,
    breakdown: Mapping[str, Any],
    results: Iterable[Mapping[str, Any]],
) -> bool:
    """Close an attempt with its result (computed by ``rank_widget.qualification``) and record passed/failed.
    Returns False when it was already closed (nothing changes)."""
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        cur.execute(
            store.db.sql(
                "UPDATE qualification_attempts SET finished_at = ?, score = ?, passed = ?, breakdown = ? "
                "WHERE attempt_id = ? AND finished_at IS NULL"
            ),
            (time.time(), float(score), int(passed), _dumps(breakdown), attempt_id),
        )
        if cur.rowcount != 1:
            return False
        cur.executemany(
            store.db.sql(
                "INSERT INTO qualification_results (attempt_id, item_id, label_id, matched, detail) "
                "VALUES (?, ?, ?, ?, ?)"
            ),
            [
                (
                    attempt_id,
                    r["item_id"],
                    r.get("label_id"),
                    int(bool(r["matched"])),
                    _dumps(r.get("detail", {})),
                )
                for r in results
            ],
        )
        cur.execute(
            store.db.sql("SELECT name, annotator FROM qualification_attempts WHERE attempt_id = ?"),
            (attempt_id,),
        )
        name, annotator = cur.fetchone()
        _event(
            store,
            cur,
            name,
            annotator,
            "passed" if passed else "failed",
            f"attempt scored {score:.3f}",
            annotator,
            attempt_id,
        )
    return True


def record_event(
    store: Store,
    name: str,
    annotator: str | None,
    event: str,
    *,
    reason: str,
    actor: str,
    detail: str | None = None,
) -> None:
    """A lead's decision: granted, revoked, reset (attempts) for one annotator, requalify for everyone."""
    _name("qualification name", name)
    if annotator is not None:
        _name("annotator", annotator)
    if event not in EVENTS:
        raise ValueError(f"event must be one of {list(EVENTS)}, got {event!r}")
    why = _reason(reason)
    _name("actor", actor)
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        _latest_version(store, cur, name)
        _event(store, cur, name, annotator, event, why, actor, None, detail)
        if event in ("revoked", "requalify", "reset"):
            _release_leases(store, cur, name, annotator)


def requalify_once(store: Store, name: str, *, guideline_version: str, actor: str) -> bool:
    """Ask everyone to re-qualify for ``name`` because of ``guideline_version``, once per version."""
    _name("qualification name", name)
    with store.db.write() as conn, store.db.cursor(conn) as cur:
        _latest_version(store, cur, name)
        cur.execute(
            store.db.sql(
                "SELECT 1 FROM qualification_events WHERE name = ? AND event = 'requalify' AND detail = ?"
            ),
            (name, guideline_version),
        )
        if cur.fetchone() is not None:
            return False
        _event(
            store,
            cur,
            name,
            None,
            "requalify",
            f"guideline version {guideline_version} requires re-qualification",
            actor,
            None,
            guideline_version,
        )
        _release_leases(store, cur, name, None)
    return True


def events(store: Store, name: str | None = None) -> pd.DataFrame:
    """The qualification history (append-only), oldest first, times as UTC."""
    cols = ["seq", "name", "annotator", "event", "reason", "actor", "at", "attempt_id", "detail"]
    sql = f"SELECT {', '.join(cols)} FROM qualification_events"
    params: tuple[Any, ...] = ()
    if name is not None:
        sql += " WHERE name = ?"
        params = (name,)
    frame = pd.DataFrame(store.db.query(sql + " ORDER BY seq", params), columns=cols)
    frame["at"] = pd.to_datetime(frame["at"].astype(float), unit="s", utc=True)
    return frame


def attempts(store: Store, name: str | None = None, annotator: str | None = None) -> pd.DataFrame:
    """Every attempt: who, which, when, score, passed, the per-criterion breakdown."""
    cols = [
        "attempt_id",
        "name",
        "version",
        "annotator",
        "attempt",
        "started_at",
        "finished_at",
        "score",
        "passed",
        "breakdown",
    ]
    sql = f"SELECT {', '.join(cols)} FROM qualification_attempts WHERE 1 = 1"
    params: tuple[Any, ...] = ()
    if name is not None:
        sql += " AND name = ?"
        params += (name,)
    if annotator is not None:
        sql += " AND annotator = ?"
        params += (annotator,)
    rows = store.db.query(sql + " ORDER BY started_at", params)
    frame = pd.DataFrame(rows, columns=cols)
    frame["breakdown"] = pd.Series(
        [json.loads(b) if isinstance(b, str) else None for b in frame["breakdown"]], dtype=object
    )
    frame["passed"] = pd.Series(
        [
            bool(p) if isinstance(p, (int, np.integer, float)) and not math.isnan(p) else None
            for p in frame["passed"]
        ],
        dtype=object,
    )
    for col in ("started_at", "finished_at"):
        frame[col] = pd.to_datetime(frame[col].astype(float), unit="s", utc=True)
    return frame


def results(store: Store, attempt_id: str) -> pd.DataFrame:
    rows = store.db.query(
        "SELECT item_id, label_id, matched, detail FROM qualification_results WHERE attempt_id = ? "
        "ORDER BY item_id",
        (attempt_id,),
    )
    return pd.DataFrame(
        [(i, lid, bool(m), json.loads(d)) for i, lid, m, d in rows],
        columns=["item_id", "label_id", "matched", "detail"],
    )
