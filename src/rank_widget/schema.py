"""The label record: columns, dtypes, validation, and the derived views.

This module is the one place the label schema is defined (design §3). Every other module (store, formats,
widget, quality) reads column names and rules from here.

A label is one submission of one annotator on one item. Labels are append-only: a re-label is a new row with
``revision`` one higher and ``supersedes`` naming the row it replaces.

Pairwise ``strength`` has one meaning everywhere: 0 = tie, 1 = slightly better, 2 = better, 3 = much better.
The widget's 5-point scale uses 0, 2 and 3; imported labels that only name a winner have strength ``<NA>``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

SCHEMA_VERSION = 1

TASKS = ("pairwise", "ranking")
STATUSES = ("submitted", "skipped", "withdrawn")
# No verdict: a skip, or an undo ("withdrawn" withdraws the label it supersedes; docs/data-contract.md).
NO_VERDICT = frozenset({"skipped", "withdrawn"})
SOURCES = ("widget", "import", "adjudication", "simulation", "judge")
DEFAULT_FLAGS = ("both_bad", "harmful", "needs_expertise", "guideline_unclear", "broken_item")
RATIONALE_RULES = (
    "off",
    "optional",
    "required",
    "required_if_tie",
    "required_if_strong",
    "required_if_flagged",
)
MAX_STRENGTH = 3
TIE = "tie"

# Size caps for anything that arrives from a browser or a file (characters / entries).
MAX_RATIONALE_CHARS = 10_000
MAX_FLAG_NOTE_CHARS = 2_000
MAX_ID_CHARS = 256
MAX_FLAGS = 32
MAX_SCALE = 10  # ratings are integers 1..scale; a session's scale is at most this (the widget's scale= range)

Kind = Literal["str", "int", "datetime", "ranking", "str_list", "ratings"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("label_id", "str", False, "unique id of this row (the widget's client-generated submit id)"),
    Column("item_id", "str", False, "the item labelled"),
    Column("annotator", "str", False, "who labelled (for adjudication: the adjudicator)"),
    Column("task", "str", False, "pairwise | ranking"),
    Column("status", "str", False, "submitted | skipped | withdrawn (an undo: no verdict)"),
    Column("ranking", "ranking", True, "tie groups best->worst of response ids, e.g. [['r2'], ['r1', 'r3']]"),
    Column("winner", "str", True, "pairwise: the better response id, or 'tie'"),
    Column("strength", "int", True, "pairwise: 0 tie, 1 slightly, 2 better, 3 much better"),
    Column("ratings", "ratings", True, "{response_id: {criterion: int}}"),
    Column("rationale", "str", False, "free text, '' when none"),
    Column("flags", "str_list", False, "edge-case flags, e.g. ['harmful']"),
    Column("flag_note", "str", False, "free text about the flags, '' when none"),
    Column("display_order", "str_list", False, "response ids in on-screen order (position A first)"),
    Column("guideline_version", "str", True, "the guidelines version the annotator saw"),
    Column("started_at", "datetime", True, "UTC time the item was first shown"),
    Column("submitted_at", "datetime", False, "UTC time of submission"),
    Column("active_ms", "int", True, "focused time on the item, idle and hidden-tab time excluded"),
    Column("revision", "int", False, "1 for the first label of item x annotator, +1 per re-label"),
    Column("supersedes", "str", True, "label_id of the revision this one replaces"),
    Column("source", "str", False, "widget | import | adjudication | simulation | judge"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
JSON_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind in ("ranking", "str_list", "ratings"))
DATETIME_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "datetime")
INT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "int")
STR_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "str")
# The annotator's answer: what a submit may carry and what the view is shown back (submission.py, session.py).
ANSWER_FIELDS: tuple[str, ...] = (
    "status",
    "ranking",
    "winner",
    "strength",
    "ratings",
    "rationale",
    "flags",
    "flag_note",
)

TIME_DTYPE: Final = "datetime64[us, UTC]"
Ranking = list[list[str]]
Ratings = dict[str, dict[str, int]]


class LabelError(ValueError):
    """A label that breaks the contract. The message names the label (or row) and the field."""

    def __init__(self, where: str, field: str, problem: str) -> None:
        self.where = where
        self.field = field
        self.problem = problem
        super().__init__(f"{where}: field {field!r}: {problem}")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------------------------------------
# Frames


def empty_labels() -> pd.DataFrame:
    """An empty labels DataFrame with every column in its canonical dtype."""
    return coerce_labels(pd.DataFrame({name: [] for name in COLUMN_NAMES}))


def coerce_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Put a labels DataFrame into canonical column order and dtypes (a new frame; extra columns last)."""
    missing = [c for c in COLUMN_NAMES if c not in df.columns]
    if missing:
        raise LabelError("labels", missing[0], "column is missing")
    out = df.copy()
    for name in INT_COLUMNS:
        out[name] = out[name].astype("Int64")
    for name in DATETIME_COLUMNS:
        out[name] = pd.to_datetime(out[name], utc=True, format="ISO8601").astype(TIME_DTYPE)
    for name in STR_COLUMNS:
        out[name] = out[name].astype(object).where(out[name].notna(), None)
    for name in JSON_COLUMNS:
        # a record without the key gives NaN here; the contract says None
        out[name] = out[name].astype(object).where(out[name].notna(), None)
    extra = [c for c in out.columns if c not in COLUMNS_BY_NAME]
    return out[list(COLUMN_NAMES) + extra].reset_index(drop=True)


def labels_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a canonical labels DataFrame from label records (dicts)."""
    rows = list(records)
    if not rows:
        return empty_labels()
    return coerce_labels(pd.DataFrame.from_records(rows, columns=list(COLUMN_NAMES)))


# ---------------------------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class LabelRules:
    """What a label must satisfy beyond its shape: the labelling session's configuration."""

    criteria: tuple[str, ...] = ()
    scale: int = 5  # ratings are integers 1..scale
    flags: tuple[str, ...] = DEFAULT_FLAGS
    rationale: str = "optional"
    max_rationale_chars: int = MAX_RATIONALE_CHARS
    allow_ties_in_ranking: bool = True
    ratings_required: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rationale not in RATIONALE_RULES:
            raise ValueError(f"rationale must be one of {RATIONALE_RULES}, got {self.rationale!r}")
        if not isinstance(self.scale, int) or not 2 <= self.scale <= MAX_SCALE:
            raise ValueError(f"scale must be an integer 2..{MAX_SCALE}, got {self.scale!r}")


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NA or value is pd.NaT


def _listish(value: Any) -> Any:
    """numpy arrays (what pandas/pyarrow hand back for list cells) as plain lists."""
    if isinstance(value, np.ndarray):
        return [_listish(v) for v in value.tolist()]
    return value


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored, or None when it can: a NUL character (PostgreSQL refuses it in text) or an
    unpaired surrogate (not encodable as UTF-8, so neither SQLite nor PostgreSQL nor a file can hold it)."""
    if "\x00" in value:
        return f"contains a NUL character (\\x00, at position {value.index(chr(0))}): remove it"
    if not value.isascii():  # O(1) in CPython: plain ASCII text pays nothing more
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (
                f"contains an unpaired surrogate ({value[exc.start]!r} at position {exc.start}), a broken "
                "character that cannot be stored: remove it"
            )
    return None


def _check_text(where: str, name: str, value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise LabelError(where, name, problem)
    return value


def _check_str(where: str, name: str, value: Any, *, cap: int = MAX_ID_CHARS, empty_ok: bool = False) -> str:
    if not isinstance(value, str):
        raise LabelError(where, name, f"must be a string, got {type(value).__name__}")
    if not empty_ok and not value:
        raise LabelError(where, name, "must not be empty")
    if len(value) > cap:
        raise LabelError(where, name, f"is {len(value)} characters; the limit is {cap}")
    return _check_text(where, name, value)


def normalise_ranking(where: str, value: Any, response_ids: Sequence[str] | None) -> Ranking:
    """Check a ranking is a list of non-empty tie groups that partition the item's response ids."""
    if not isinstance(value, (list, tuple)) or not value:
        raise LabelError(where, "ranking", "must be a non-empty list of tie groups")
    groups: Ranking = []
    seen: set[str] = set()
    for g in value:
        if isinstance(g, str):
            g = [g]
        if not isinstance(g, (list, tuple)) or not g:
            raise LabelError(where, "ranking", "each tie group must be a non-empty list of response ids")
        group = []
        for rid in g:
            if not isinstance(rid, str):
                raise LabelError(where, "ranking", f"response id {rid!r} is not a string")
            _check_text(where, "ranking", rid)
            if rid in seen:
                raise LabelError(where, "ranking", f"response id {rid!r} appears twice")
            seen.add(rid)
            group.append(rid)
        groups.append(group)
    if response_ids is not None:
        expected = set(response_ids)
        unknown = seen - expected
        if unknown:
            raise LabelError(
                where,
                "ranking",
                f"unknown response id(s) {sorted(unknown)}; this item has {sorted(expected)}",
            )
        missing = expected - seen
        if missing:
            raise LabelError(where, "ranking", f"response id(s) {sorted(missing)} are not ranked")
    return groups


def pairwise_to_ranking(winner: str, response_ids: Sequence[str]) -> Ranking:
    """The tie-group ranking equivalent to a pairwise verdict."""
    a, b = response_ids
    if winner == TIE:
        return [[a, b]]
    return [[winner], [b if winner == a else a]]


# The value rules, as tables both validate_label (one record) and check_labels_frame (a file's labels) read.
ID_FIELDS: Final = ("label_id", "item_id", "annotator")  # non-empty strings of at most MAX_ID_CHARS
# free-text fields: (name, cap); empty allowed
TEXT_FIELDS: Final = (("rationale", MAX_RATIONALE_CHARS), ("flag_note", MAX_FLAG_NOTE_CHARS))
# (field, default when absent, allowed values): the label's enumerated fields, checked in this order
_ENUM_FIELDS: Final = (
    ("task", None, TASKS),
    ("status", "submitted", STATUSES),
    ("source", "widget", SOURCES),
)


def validate_label(
    record: Mapping[str, Any],
    *,
    response_ids: Sequence[str] | None = None,
    rules: LabelRules | None = None,
) -> dict[str, Any]:
    """Check one label record against the schema (and the item's response ids and the session's rules).

    Returns a normalised copy with every column present. Raises ``LabelError`` naming the label and field.
    ``response_ids`` is the item's responses; when given, the ranking must be a permutation of them.
    """
    rules = rules or LabelRules()
    where = f"label {record.get('label_id', '?')!r} (item {record.get('item_id', '?')!r})"
    unknown = set(record) - set(COLUMN_NAMES)
    if unknown:
        raise LabelError(where, sorted(unknown)[0], "is not a label field")
    out: dict[str, Any] = {}
    for name in ID_FIELDS:
        out[name] = _check_str(where, name, record.get(name))
    for name, default, allowed in _ENUM_FIELDS:
        value = record.get(name, default)
        if value not in allowed:
            raise LabelError(where, name, f"must be one of {allowed}, got {value!r}")
        out[name] = value
    task, status = out["task"], out["status"]
    if response_ids is not None:
        response_ids = list(response_ids)
        if task == "pairwise" and len(response_ids) != 2:
            raise LabelError(
                where, "task", f"pairwise needs exactly 2 responses; this item has {len(response_ids)}"
            )
    out.update(_check_choice(where, record, task, status, response_ids, rules))
    out["ratings"] = _check_ratings(where, record.get("ratings"), response_ids, rules, status)
    rationale = record.get("rationale") or ""
    out["rationale"] = _check_str(where, "rationale", rationale, cap=rules.max_rationale_chars, empty_ok=True)
    out["flags"] = _check_flags(
        where, record.get("flags"), rules.flags if out["source"] == "widget" else None
    )
    out["flag_note"] = _check_str(
        where, "flag_note", record.get("flag_note") or "", cap=MAX_FLAG_NOTE_CHARS, empty_ok=True
    )
    if status == "submitted":
        _check_rationale_rule(where, out, rules)
    out["display_order"] = _check_display_order(
        where, record.get("display_order"), out["ranking"], response_ids
    )
    out.update(_check_provenance(where, record))
    return out


def _check_choice(
    where: str,
    record: Mapping[str, Any],
    task: str,
    status: str,
    response_ids: list[str] | None,
    rules: LabelRules,
) -> dict[str, Any]:
    """The verdict fields (ranking, winner, strength) of a skip, a pairwise label or a ranking."""
    winner = record.get("winner")
    strength = record.get("strength")
    ranking = _listish(record.get("ranking"))
    if status in NO_VERDICT:
        return {"ranking": None, "winner": None, "strength": None}
    if task == "pairwise":
        return _check_pairwise(where, winner, strength, ranking, response_ids)
    ranking = normalise_ranking(where, ranking, response_ids)
    if not rules.allow_ties_in_ranking and any(len(g) > 1 for g in ranking):
        raise LabelError(where, "ranking", "ties are not allowed in this session")
    if not _is_blank(winner) or not _is_blank(strength):
        raise LabelError(where, "winner", "winner/strength are for pairwise labels only")
    return {"ranking": ranking, "winner": None, "strength": None}


def _check_pairwise(
    where: str, winner: Any, strength: Any, ranking: Any, response_ids: list[str] | None
) -> dict[str, Any]:
    if _is_blank(winner):
        if _is_blank(ranking):
            raise LabelError(where, "winner", "a pairwise label needs a winner (a response id or 'tie')")
        ranking = normalise_ranking(where, ranking, response_ids)
        winner = TIE if len(ranking) == 1 else ranking[0][0]
    winner = _check_str(where, "winner", winner)
    ids = _pairwise_ids(where, winner, ranking, response_ids)
    if ids is not None:
        ranking = pairwise_to_ranking(winner, ids)
    return {"ranking": ranking, "winner": winner, "strength": _check_strength(where, strength, winner)}


def _pairwise_ids(where: str, winner: str, ranking: Any, response_ids: list[str] | None) -> list[str] | None:
    """The two response ids the verdict is about (the item's, else the ranking's), checked against it."""
    ids = response_ids
    given = None if _is_blank(ranking) else normalise_ranking(where, ranking, None)
    if given is not None:
        implied = TIE if len(given) == 1 else given[0][0]
        if implied != winner:
            raise LabelError(where, "winner", f"{winner!r} disagrees with the ranking {given}")
        if ids is None:
            ids = [r for g in given for r in g]
    if ids is None:
        return None
    if len(ids) != 2:
        raise LabelError(where, "ranking", f"a pairwise label ranks exactly 2 responses, got {len(ids)}")
    if winner != TIE and winner not in ids:
        raise LabelError(where, "winner", f"{winner!r} is not one of this item's responses {list(ids)}")
    return ids


def _check_strength(where: str, strength: Any, winner: str) -> int | None:
    if _is_blank(strength):
        return 0 if winner == TIE else None
    if isinstance(strength, float) and strength.is_integer():
        strength = int(strength)
    if isinstance(strength, bool) or not isinstance(strength, (int, np.integer)):
        raise LabelError(where, "strength", f"must be an integer 0..{MAX_STRENGTH}")
    strength = int(strength)
    if not 0 <= strength <= MAX_STRENGTH:
        raise LabelError(where, "strength", f"must be 0..{MAX_STRENGTH}, got {strength}")
    if (strength == 0) != (winner == TIE):
        raise LabelError(where, "strength", "is 0 exactly when the winner is 'tie'")
    return strength


def _check_flags(where: str, value: Any, known: Sequence[str] | None) -> list[str]:
    """A list of distinct flag names; each one of ``known`` unless that is None (imports keep theirs)."""
    flags = _listish(value)
    flags = flags if isinstance(flags, (list, tuple)) else (flags or [])
    if not isinstance(flags, (list, tuple)) or len(flags) > MAX_FLAGS:
        raise LabelError(where, "flags", f"must be a list of at most {MAX_FLAGS} flag names")
    for f in flags:
        if known is not None and f not in known:
            raise LabelError(where, "flags", f"unknown flag {f!r}; known flags: {list(known)}")
        _check_str(where, "flags", f)
    if len(set(flags)) != len(flags):
        raise LabelError(where, "flags", "a flag is listed twice")
    return list(flags)


def _check_display_order(
    where: str, value: Any, ranking: Ranking | None, response_ids: list[str] | None
) -> list[str]:
    order = _listish(value)
    if _is_blank(order) or order == []:
        ranked = [r for g in ranking or [] for r in g]
        order = list(response_ids) if response_ids is not None else ranked
    if not isinstance(order, (list, tuple)) or not all(isinstance(r, str) for r in order):
        raise LabelError(where, "display_order", "must be a list of response ids")
    for rid in order:
        _check_text(where, "display_order", rid)
    if response_ids is not None and sorted(order) != sorted(response_ids):
        raise LabelError(where, "display_order", "must be a permutation of the item's response ids")
    if response_ids is None and ranking and order:
        ranked = sorted(r for g in ranking for r in g)
        if sorted(order) != ranked:
            raise LabelError(
                where,
                "display_order",
                f"{list(order)} must list the same response ids as the ranking {ranked}",
            )
    return list(order)


def _check_provenance(where: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """guideline_version, the times, the revision chain."""
    out: dict[str, Any] = {}
    gv = record.get("guideline_version")
    out["guideline_version"] = None if _is_blank(gv) else _check_str(where, "guideline_version", str(gv))
    out["started_at"] = _check_time(where, "started_at", record.get("started_at"), nullable=True)
    out["submitted_at"] = _check_time(where, "submitted_at", record.get("submitted_at"), nullable=False)
    active = record.get("active_ms")
    if _is_blank(active):
        out["active_ms"] = None
    else:
        if isinstance(active, bool) or not isinstance(active, (int, np.integer, float)) or active < 0:
            raise LabelError(where, "active_ms", "must be a non-negative number of milliseconds")
        out["active_ms"] = int(active)
    revision = record.get("revision", 1)
    if isinstance(revision, bool) or not isinstance(revision, (int, np.integer)) or revision < 1:
        raise LabelError(where, "revision", "must be an integer >= 1")
    out["revision"] = int(revision)
    sup = record.get("supersedes")
    out["supersedes"] = None if _is_blank(sup) else _check_str(where, "supersedes", sup)
    return out


def _check_ratings(
    where: str, value: Any, response_ids: Sequence[str] | None, rules: LabelRules, status: str
) -> Ratings | None:
    if _is_blank(value) or value == {}:
        if rules.ratings_required and rules.criteria and status == "submitted":
            raise LabelError(where, "ratings", f"ratings on {list(rules.criteria)} are required")
        return None
    if not isinstance(value, Mapping):
        raise LabelError(where, "ratings", "must be {response_id: {criterion: int}}")
    out: Ratings = {}
    for rid, per in value.items():
        if response_ids is not None and rid not in response_ids:
            raise LabelError(where, "ratings", f"unknown response id {rid!r}")
        out[_check_str(where, "ratings", str(rid))] = _check_response_ratings(where, rid, per, rules)
    if rules.ratings_required and rules.criteria and status == "submitted" and response_ids is not None:
        for rid in response_ids:
            missing = next((c for c in rules.criteria if c not in out.get(rid, {})), None)
            if missing is not None:
                raise LabelError(where, "ratings", f"{rid}/{missing} is required")
    return out


def _check_response_ratings(where: str, rid: Any, per: Any, rules: LabelRules) -> dict[str, int]:
    if not isinstance(per, Mapping):
        raise LabelError(where, "ratings", f"ratings of {rid!r} must be {{criterion: int}}")
    out: dict[str, int] = {}
    for crit, score in per.items():
        if rules.criteria and crit not in rules.criteria:
            raise LabelError(where, "ratings", f"unknown criterion {crit!r}; known: {list(rules.criteria)}")
        if isinstance(score, float) and score.is_integer():
            score = int(score)
        if isinstance(score, bool) or not isinstance(score, (int, np.integer)):
            raise LabelError(where, "ratings", f"{rid}/{crit} must be an integer")
        top = rules.scale if rules.criteria else MAX_SCALE  # without the session's criteria: the widest scale
        if not 1 <= score <= top:
            raise LabelError(where, "ratings", f"{rid}/{crit} = {score} is outside 1..{top}")
        out[_check_str(where, "ratings", str(crit))] = int(score)
    return out


def _check_rationale_rule(where: str, label: Mapping[str, Any], rules: LabelRules) -> None:
    rule = rules.rationale
    text = label["rationale"].strip()
    if rule == "off":
        if text:
            raise LabelError(where, "rationale", "rationales are off in this session")
        return
    needed = (
        rule == "required"
        or (rule == "required_if_tie" and _is_tie(label))
        or (rule == "required_if_strong" and (label.get("strength") or 0) >= MAX_STRENGTH)
        or (rule == "required_if_flagged" and bool(label["flags"]))
    )
    if needed and not text:
        raise LabelError(where, "rationale", f"a rationale is required here (rule: {rule})")


def _is_tie(label: Mapping[str, Any]) -> bool:
    if label.get("winner") == TIE:
        return True
    return any(len(g) > 1 for g in label.get("ranking") or [])


def _check_time(where: str, name: str, value: Any, *, nullable: bool) -> pd.Timestamp | None:
    if _is_blank(value):
        if nullable:
            return None
        raise LabelError(where, name, "is required")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise LabelError(where, name, f"is not a time: {value!r}") from exc
    if ts.tzinfo is None:
        raise LabelError(where, name, "must be timezone-aware (UTC)")
    return ts.tz_convert("UTC")


# ---------------------------------------------------------------------------------------------------------
# Validation of a whole labels frame (a file's labels): validate_label's rules, column at a time


def check_labels_frame(frame: pd.DataFrame, where: Callable[[int], str]) -> None:
    """Check the values of a canonical labels frame (``coerce_labels`` output) by ``validate_label``'s rules.

    For labels read from a file, where the item's response ids and the session's rules are unknown: so no
    check against the item's responses, the session's flag names, criteria, scale or rationale rule (ratings
    must be within 1..``MAX_SCALE``). Unlike ``validate_label`` nothing is normalised: a value the store would
    never have written (a skipped label with a verdict, a pairwise label without a winner) is refused.
    Also refused: a ``label_id`` used twice. The enumerated, numeric and text fields are checked a column at
    a time; the nested fields (ranking against winner, ratings, flags, display order) a row at a time with
    ``validate_label``'s own helpers. Raises ``LabelError`` naming ``where(row)`` and the field.
    """
    if frame.empty:
        return
    _frame_enums(frame, where)
    _frame_strings(frame, where)
    _frame_numbers(frame, where)
    _frame_unique_ids(frame, where)
    _frame_nested(frame, where)


def _first(mask: Any) -> int | None:
    hits = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(hits[0]) if len(hits) else None


def _frame_enums(frame: pd.DataFrame, where: Callable[[int], str]) -> None:
    for name, _default, allowed in _ENUM_FIELDS:
        i = _first(~frame[name].isin(allowed).to_numpy())
        if i is not None:
            raise LabelError(where(i), name, f"must be one of {allowed}, got {frame[name].iloc[i]!r}")


def _frame_strings(frame: pd.DataFrame, where: Callable[[int], str]) -> None:
    """Lengths and characters of the text fields (None already refused where the column is not nullable)."""
    caps = [*((n, MAX_ID_CHARS, False) for n in ID_FIELDS), *((n, cap, True) for n, cap in TEXT_FIELDS)]
    caps += [("winner", MAX_ID_CHARS, False), ("supersedes", MAX_ID_CHARS, False)]
    caps += [("guideline_version", MAX_ID_CHARS, True)]  # "" and None both round-trip
    for name, cap, empty_ok in caps:
        values = frame[name].tolist()
        i = _first_bad_text(values)  # also finds a value that is not a string
        if i is not None:
            _check_str(where(i), name, values[i], cap=1 << 62, empty_ok=True)  # the type and the text
        lengths = np.array([-1 if v is None else len(v) for v in values], dtype=np.int64)
        i = _first((lengths > cap) | ((lengths == 0) & (not empty_ok)))
        if i is not None:
            _check_str(where(i), name, values[i], cap=cap, empty_ok=empty_ok)


def _first_bad_text(values: list[Any]) -> int | None:
    """The first value that is not a string or has a NUL or an unpaired surrogate (None is skipped); one join
    and one search when there is none."""
    try:
        joined = "".join(values) if None not in values else "".join([v for v in values if v is not None])
        if text_problem(joined) is None:
            return None
    except TypeError:
        pass
    return next(
        i
        for i, v in enumerate(values)
        if v is not None and (type(v) is not str or text_problem(v) is not None)
    )


def _frame_numbers(frame: pd.DataFrame, where: Callable[[int], str]) -> None:
    checks = (
        ("strength", lambda v: (v < 0) | (v > MAX_STRENGTH), f"must be 0..{MAX_STRENGTH}, got {{}}"),
        ("revision", lambda v: v < 1, "must be an integer >= 1, got {}"),
        ("active_ms", lambda v: v < 0, "must be a non-negative number of milliseconds, got {}"),
    )
    for name, bad, problem in checks:
        values = frame[name].to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            i = _first(bad(values) & ~np.isnan(values))
        if i is not None:
            raise LabelError(where(i), name, problem.format(frame[name].iloc[i]))


def _frame_unique_ids(frame: pd.DataFrame, where: Callable[[int], str]) -> None:
    ids = frame["label_id"]
    i = _first(ids.duplicated().to_numpy())
    if i is not None:
        first = int(np.flatnonzero((ids == ids.iloc[i]).to_numpy())[0])
        raise LabelError(
            where(i),
            "label_id",
            f"{ids.iloc[i]!r} is also the id of an earlier label ({where(first)}); every label has its own "
            "label_id: remove the duplicate",
        )


def _frame_nested(frame: pd.DataFrame, where: Callable[[int], str]) -> None:
    """The nested fields: a quick pass over every row, then, only if it finds something, the slow pass with
    validate_label's helpers to name the row and the problem (the quick pass accepts nothing they refuse)."""
    columns = ("task", "status", "ranking", "winner", "strength", "display_order", "ratings", "flags")
    strengths = frame["strength"].astype(object).where(frame["strength"].notna(), None).tolist()
    values = [strengths if c == "strength" else frame[c].tolist() for c in columns]
    if (
        all(map(_row_ok, *values[:6]))
        and _ratings_column_ok(values[6])
        and _flags_column_ok(values[7])
        and _ids_text_ok(values[2], values[5])
    ):
        return
    for i, (task, status, ranking, winner, strength, order, ratings, flags) in enumerate(
        zip(*values, strict=True)
    ):
        try:
            _check_stored_verdict(task, status, ranking, winner, strength)
            if ratings:
                _check_ratings("", ratings, None, _FILE_RULES, status)
            if flags:
                _check_flags("", flags, None)
            if order:
                _check_display_order("", order, ranking, None)
        except LabelError as exc:
            raise LabelError(where(i), exc.field, exc.problem) from None


def _row_ok(task: Any, status: Any, ranking: Any, winner: Any, strength: Any, order: Any) -> bool:
    """True when the verdict surely passes _frame_nested's slow pass (False: let the slow pass decide)."""
    if status in NO_VERDICT:
        return ranking is None and winner is None and strength is None
    if task == "pairwise" and (
        winner is None or (strength is not None and (strength == 0) != (winner == TIE))
    ):
        return False
    if ranking is None:
        return task == "pairwise"
    try:  # list.__len__ refuses anything but a list: a TypeError is a malformed ranking
        if type(ranking) is not list or not all(map(list.__len__, ranking)) or not ranking:
            return False
    except TypeError:
        return False
    flat = [r for g in ranking for r in g]
    if len(set(flat)) != len(flat) or (order and sorted(order) != sorted(flat)):
        return False
    if task == "pairwise":
        return len(flat) == 2 and winner == (TIE if len(ranking) == 1 else ranking[0][0])
    return winner is None and strength is None


def _ratings_column_ok(column: list[Any]) -> bool:
    """Every ratings cell {response_id: {criterion: int 1..MAX_SCALE}} with short non-empty keys."""
    cells = [v for v in column if v]
    if not cells:
        return True
    chain = itertools.chain.from_iterable
    # dict.values refuses anything but a dict, a set anything unhashable: a TypeError is a malformed cell
    try:
        pers = list(chain(map(dict.values, cells)))
        values = list(chain(map(dict.values, pers)))
        keys = set(chain(cells)) | set(chain(pers))  # the distinct keys: a handful, however many rows
    except TypeError:
        return False
    if set(map(type, values)) - {int}:  # before deduplicating: {1, True} == {1}
        return False
    scores = set(values)
    return (
        set(map(type, keys)) <= {str}
        and (not scores or (min(scores) >= 1 and max(scores) <= MAX_SCALE))
        and min(map(len, keys), default=1) > 0
        and max(map(len, keys), default=0) <= MAX_ID_CHARS
        and text_problem("".join(keys)) is None
    )


def _flags_column_ok(column: list[Any]) -> bool:
    """Every flags cell a list of at most MAX_FLAGS distinct, short, non-empty strings."""
    cells = [v for v in column if v]
    if not cells:
        return True
    if any(type(v) is not list or len(v) > MAX_FLAGS or len(set(v)) != len(v) for v in cells):
        return False
    flat = [f for v in cells for f in v]
    return set(map(type, flat)) <= {str} and min(map(len, flat)) > 0 and max(map(len, flat)) <= MAX_ID_CHARS


def _ids_text_ok(rankings: list[Any], orders: list[Any]) -> bool:
    """No NUL or unpaired surrogate in the response ids of the rankings and display orders (one join each)."""
    chain = itertools.chain.from_iterable
    try:  # the distinct ids only: a few per dataset
        ranked = "".join(set(chain(chain(r for r in rankings if r))))
        shown = "".join(set(chain(o for o in orders if o)))
    except TypeError:  # a non-string (or unhashable) somewhere: the slow pass names it
        return False
    return text_problem(ranked) is None and text_problem(shown) is None


_FILE_RULES: Final = LabelRules()  # no criteria: ratings within 1..MAX_SCALE


def _check_stored_verdict(task: str, status: str, ranking: Any, winner: Any, strength: Any) -> None:
    """The verdict fields as the store writes them (validate_label's output), checked, not repaired."""
    if status in NO_VERDICT:
        if ranking is not None or winner is not None or strength is not None:
            field = "ranking" if ranking is not None else "winner" if winner is not None else "strength"
            raise LabelError(
                "",
                field,
                "a skipped label has no ranking, winner or strength: clear them, or mark it submitted",
            )
        return
    if task == "ranking":
        normalise_ranking("", ranking, None)
        if winner is not None or strength is not None:
            raise LabelError("", "winner", "winner/strength are for pairwise labels only: clear them")
        return
    if winner is None:
        raise LabelError("", "winner", "a submitted pairwise label needs a winner (a response id or 'tie')")
    _check_strength("", strength, winner)
    if ranking is not None:
        _pairwise_ids("", winner, ranking, None)


# ---------------------------------------------------------------------------------------------------------
# Rows left out by errors="skip"/"collect" (load_items, import_labels, from_label_studio)

REJECTED_COLUMNS = ("row", "item_id", "field", "reason")


def rejected_records(rejected: pd.DataFrame) -> list[dict[str, Any]]:
    """The rejected rows as plain records for ``frame.attrs["rejected"]``.

    Plain dicts, not a DataFrame: pandas compares ``attrs`` with ``==`` when it merges or concatenates (a
    DataFrame there makes ``items.merge(...)`` raise "truth value of a DataFrame is ambiguous") and writes
    them as JSON in ``to_parquet`` (a DataFrame there cannot be written)."""
    return [
        {
            "row": int(row),
            "item_id": None if item_id is None or item_id is pd.NA or item_id != item_id else str(item_id),
            "field": str(field_),
            "reason": str(reason),
        }
        for row, item_id, field_, reason in zip(
            rejected["row"], rejected["item_id"], rejected["field"], rejected["reason"], strict=True
        )
    ]


def rejected_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows ``errors="collect"`` left out of ``frame`` (items from ``load_items``, labels from
    ``import_labels`` / ``from_label_studio``), as a DataFrame with the columns ``row`` (0-based position in
    the source), ``item_id``, ``field`` and ``reason``; empty when none was left out (or ``frame`` was not
    loaded with ``errors="collect"``)."""
    records = frame.attrs.get("rejected") or []
    return pd.DataFrame(
        {
            "row": pd.array([r["row"] for r in records], dtype="Int64"),
            "item_id": pd.array([r["item_id"] for r in records], dtype=object),
            "field": pd.array([r["field"] for r in records], dtype=object),
            "reason": pd.array([r["reason"] for r in records], dtype=object),
        },
        columns=list(REJECTED_COLUMNS),
    )


# ---------------------------------------------------------------------------------------------------------
# Derived views: pure functions over a labels DataFrame


def current_labels(labels: pd.DataFrame, *, include_skipped: bool = True) -> pd.DataFrame:
    """The latest revision per (item, annotator, source): what each annotator currently says per item."""
    if labels.empty:
        return labels.copy()
    order = labels.sort_values(["revision", "submitted_at"], kind="stable")
    latest = order.drop_duplicates(["item_id", "annotator", "source"], keep="last")
    if not include_skipped:
        latest = latest[latest["status"] == "submitted"]
    return latest.sort_index().reset_index(drop=True)


def rank_of(ranking: Sequence[Sequence[str]]) -> dict[str, int]:
    """Tie-group index (0 = best) of each response id."""
    return {rid: i for i, group in enumerate(ranking) for rid in group}


PAIR_COLUMNS = (
    "label_id",
    "item_id",
    "annotator",
    "task",
    "source",
    "guideline_version",
    "response_a",
    "response_b",
    "pos_a",
    "pos_b",
    "winner",
    "outcome",
    "strength",
    "signed_strength",
)


def pairs(labels: pd.DataFrame, items: pd.DataFrame | None = None, *, current: bool = True) -> pd.DataFrame:
    """One row per label x unordered response pair (a < b by id), ties kept.

    ``outcome`` is 1.0 when a is preferred, 0.0 when b is, 0.5 for a tie. ``winner`` is the preferred id or
    'tie'. ``pos_a``/``pos_b`` are the 0-based on-screen positions. ``signed_strength`` is +strength when a
    wins, -strength when b wins, 0 on ties (pairwise labels only; ``<NA>`` when strength is unknown). With
    ``items``, ``model_a``/``model_b`` are added.
    """
    src = (
        current_labels(labels, include_skipped=False) if current else labels[labels["status"] == "submitted"]
    )
    rows: list[tuple[Any, ...]] = []
    rec: Any  # a row of itertuples
    for rec in src[
        [
            "label_id",
            "item_id",
            "annotator",
            "task",
            "source",
            "guideline_version",
            "ranking",
            "display_order",
            "strength",
        ]
    ].itertuples(index=False):
        ranking = rec.ranking
        if ranking is None or (isinstance(ranking, float) and math.isnan(ranking)):
            continue
        rank = rank_of(ranking)
        pos = {rid: i for i, rid in enumerate(rec.display_order)} if rec.display_order is not None else {}
        strength = rec.strength
        signed: Any
        for a, b in itertools.combinations(sorted(rank), 2):
            ra, rb = rank[a], rank[b]
            if ra == rb:
                winner, outcome, signed = TIE, 0.5, 0
            elif ra < rb:
                winner, outcome, signed = a, 1.0, strength
            else:
                winner, outcome, signed = b, 0.0, None if _is_blank(strength) else -strength
            if rec.task != "pairwise":
                signed = pd.NA
            rows.append(
                (
                    rec.label_id,
                    rec.item_id,
                    rec.annotator,
                    rec.task,
                    rec.source,
                    rec.guideline_version,
                    a,
                    b,
                    pos.get(a),
                    pos.get(b),
                    winner,
                    outcome,
                    strength if rec.task == "pairwise" else pd.NA,
                    signed,
                )
            )
    out = pd.DataFrame.from_records(rows, columns=list(PAIR_COLUMNS))
    for name in ("pos_a", "pos_b", "strength", "signed_strength"):
        out[name] = out[name].where(out[name].notna(), None).astype("Int64")
    out["outcome"] = out["outcome"].astype(float)
    if items is not None and not out.empty:
        models = {
            (iid, r["response_id"]): r.get("model")
            for iid, resp in zip(items["item_id"], items["responses"], strict=True)
            for r in resp
        }
        out["model_a"] = [models.get(k) for k in zip(out["item_id"], out["response_a"], strict=True)]
        out["model_b"] = [models.get(k) for k in zip(out["item_id"], out["response_b"], strict=True)]
    return out


RATINGS_LONG_COLUMNS = (
    "label_id",
    "item_id",
    "annotator",
    "source",
    "guideline_version",
    "response_id",
    "criterion",
    "value",
)


def ratings_long(labels: pd.DataFrame, *, current: bool = True) -> pd.DataFrame:
    """One row per label x response x criterion with the integer rating."""
    src = (
        current_labels(labels, include_skipped=False) if current else labels[labels["status"] == "submitted"]
    )
    records: Any = src[["label_id", "item_id", "annotator", "source", "guideline_version", "ratings"]]
    records = records.itertuples(index=False)
    rows = [
        (rec.label_id, rec.item_id, rec.annotator, rec.source, rec.guideline_version, rid, crit, value)
        for rec in records
        if isinstance(rec.ratings, Mapping)
        for rid, per in rec.ratings.items()
        for crit, value in per.items()
    ]
    out = pd.DataFrame.from_records(rows, columns=list(RATINGS_LONG_COLUMNS))
    out["value"] = out["value"].astype("Int64")
    return out
