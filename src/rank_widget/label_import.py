"""``import_labels``: labels that already exist elsewhere -> the canonical labels DataFrame.

Checked a column at a time (pandas/numpy and one pass of plain Python per column; the codes of a column are
decoded once per distinct value), so 100,000 labels import in well under a second. Every check gives the
same message as ``schema.validate_label`` would, naming the source row and column.

Bad cells: ``errors="raise"`` (default) lists every one (the first 20 and a count) and imports nothing;
``errors="skip"`` leaves them out and warns with the count; ``errors="collect"`` does the same and lists them
in ``labels.attrs["rejected"]`` as plain records (``schema.rejected_records``); ``rejected_rows(labels)`` is
the DataFrame (``row``, ``item_id``, ``field``, ``reason``).

Unparsed verdicts (a judge's output that could not be read: a code not in ``coding`` with
``unknown="skip"``, or a blank cell with ``blank="unparsed"``) are kept, visibly: each becomes a label with
``status="skipped"`` and ``flags=["unparsed"]`` (the raw value in ``flag_note``), and
``labels.attrs["unparsed"]`` counts them per annotator. ``quality.judge_agreement`` reads them back
(``unparsed="wrong" | "tie" | "exclude"``).
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .schema import (
    COLUMN_NAMES,
    MAX_FLAG_NOTE_CHARS,
    MAX_ID_CHARS,
    MAX_RATIONALE_CHARS,
    MAX_STRENGTH,
    REJECTED_COLUMNS,
    SOURCES,
    TIE,
    LabelError,
    empty_labels,
    normalise_ranking,
    rejected_records,
    rejected_rows,
    text_problem,
    utcnow,
)

ERROR_MODES = ("raise", "skip", "collect")
BLANK_MODES = ("no_label", "unparsed")
UNPARSED_FLAG = "unparsed"
MAX_LISTED = 20  # errors="raise" lists this many bad cells, then a count


class ImportRowsError(LabelError):
    """Bad cells in an import, every one in ``rejected`` (row, item_id, field, reason); nothing imported."""

    def __init__(self, rejected: pd.DataFrame, what: str = "import_labels") -> None:
        first = rejected.iloc[0]
        lines = [
            _error_line(r.row, r.item_id, r.field, r.reason) for r in rejected.head(MAX_LISTED).itertuples()
        ]
        more = len(rejected) - len(lines)
        rows = rejected["row"].nunique()
        head = (
            f"{what}: {len(rejected)} bad cell{'s' * (len(rejected) != 1)} in {rows} "
            f"row{'s' * (rows != 1)}; nothing was imported. Fix them, or pass errors='skip' to import the "
            "good ones (errors='collect' also lists the bad ones: rank_widget.rejected_rows(labels))"
        )
        body = "\n  ".join(lines) + (f"\n  ... and {more} more" if more else "")
        ValueError.__init__(self, f"{head}:\n  {body}")
        self.where = _where(int(first.row), first.item_id)
        self.field = str(first.field)
        self.problem = str(first.reason)
        self.rejected = rejected


def _where(row: int, item: Any) -> str:
    if item is None or (isinstance(item, float) and math.isnan(item)):
        return f"row {row}"
    text = str(item)
    shown = text if len(text) <= 60 else text[:57] + "..."
    return f"row {row} (item {shown!r})"


def _error_line(row: Any, item: Any, column: Any, reason: Any) -> str:
    return f"{_where(int(row), item)}: field {column!r}: {reason}"


# ---------------------------------------------------------------------------------------------------------
# Small value helpers (the rules of the row-at-a-time version, kept exactly)


def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def code_key(value: Any) -> Any:
    """Normalise a code so 1, 1.0, "1", " 1 " and numpy ints all meet (judge files store codes as strings)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            return text.casefold()  # "Tie" and "tie" are the same code
        return str(int(number)) if number.is_integer() else text
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if math.isnan(number):
        return value
    return str(int(number)) if number.is_integer() else str(number)


def normalise_coding(coding: Mapping[Any, Any], what: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, target in coding.items():
        norm = code_key(key)
        if norm in out and out[norm] != target:
            raise ValueError(
                f"{what}: codes {key!r} and another key both mean {norm!r} but map to different "
                f"values ({out[norm]!r} vs {target!r}); keep one of them"
            )
        out[norm] = target
    return out


def _id_text(value: Any) -> str | None:
    """An id cell as text (1.0 -> "1"), None when blank."""
    if _blank(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    elif isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _id_problem(text: str, what: str) -> str | None:
    if len(text) > MAX_ID_CHARS:
        return (
            f"{what} is {len(text)} characters; the limit is {MAX_ID_CHARS} (pass items= to take the ids "
            "from load_items)"
            if what == "the item id"
            else f"{what} is {len(text)} characters; the limit is {MAX_ID_CHARS}"
        )
    return text_problem(text)


def _is_missing_cell(value: Any) -> bool:
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) > 0:
        return len(value) == 0
    return _blank(value)


def _missing_mask(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.StringDtype):  # pandas 3's default for text: blank text is missing too
        return (series.isna() | series.str.strip().eq("")).to_numpy(dtype=bool, na_value=True)
    if series.dtype != object:
        return series.isna().to_numpy()
    return np.fromiter((_is_missing_cell(v) for v in series.tolist()), dtype=bool, count=len(series))


def label_id(prefix: str, source: str, item: str, annotator: str) -> str:
    """Deterministic label id: importing the same file twice into a store is idempotent (dedupe on label_id).

    ``sha1(json.dumps([source, item, annotator]))[:20]``; the JSON text is built with json's own C string
    encoder, byte-identical to ``json.dumps`` and several times faster.
    """
    enc = encode_basestring_ascii
    text = f"[{enc(source)}, {enc(item)}, {enc(annotator)}]"
    return f"{prefix}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:20]}"


# ---------------------------------------------------------------------------------------------------------
# Where each label comes from


class Slot(NamedTuple):
    """Where one label of a row comes from."""

    name_col: str | None  # the column naming the annotator (long form), else None
    fixed_name: str  # the annotator's name (wide form: one slot per annotator column)
    value_col: str  # the column holding the verdict or ranking
    rationale_col: str | None


def long_slot(df: pd.DataFrame, annotator: str, label: str | None, rationale: Any) -> Slot:
    if label is None:
        raise ValueError("long form needs label='column holding the verdict or ranking'")
    for col in (annotator, label):
        if col not in df.columns:
            raise ValueError(f"column {col!r} does not exist; the columns are {list(df.columns)}")
    if rationale is not None and not isinstance(rationale, str):
        raise ValueError("in long form rationale= is the name of the rationale column")
    if rationale is not None and rationale not in df.columns:
        raise ValueError(f"rationale column {rationale!r} does not exist; the columns are {list(df.columns)}")
    return Slot(annotator, "", label, rationale)


def wide_slots(df: pd.DataFrame, annotators: Sequence[str] | Mapping[str, str], rationale: Any) -> list[Slot]:
    names = dict(annotators) if isinstance(annotators, Mapping) else {c: str(c) for c in annotators}
    if not names:
        raise ValueError("annotators= is empty; name at least one annotator column")
    if isinstance(rationale, str):
        raise ValueError("in wide form rationale= maps annotator columns to rationale columns")
    rat_map = dict(rationale or {})
    slots = []
    for col, name in names.items():
        if col not in df.columns:
            raise ValueError(f"annotator column {col!r} does not exist; columns: {list(df.columns)}")
        rcol = rat_map.get(col)
        if rcol is not None and rcol not in df.columns:
            raise ValueError(f"rationale column {rcol!r} (for {col!r}) does not exist")
        slots.append(Slot(None, str(name), col, rcol))
    stray = set(rat_map) - set(names)
    if stray:
        raise ValueError(f"rationale= names {sorted(stray)}, which are not annotator columns")
    return slots


# ---------------------------------------------------------------------------------------------------------
# The collected errors


@dataclass
class Problems:
    rows: list[int] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def add(self, row: int, column: str, reason: str) -> None:
        self.rows.append(int(row))
        self.fields.append(str(column))
        self.reasons.append(reason)

    def add_many(self, rows: Any, column: str, reason: str) -> None:
        for r in np.asarray(rows, dtype=int).tolist():
            self.add(r, column, reason)

    def frame(self, items: Sequence[str | None]) -> pd.DataFrame:
        out = pd.DataFrame(
            {
                "row": np.asarray(self.rows, dtype="int64"),
                "item_id": pd.Series([items[r] for r in self.rows], dtype=object),
                "field": self.fields,
                "reason": self.reasons,
            },
            columns=list(REJECTED_COLUMNS),
        )
        return out.sort_values(["row"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
# The import


@dataclass(frozen=True)
class Spec:
    """What every imported label shares: the task, the codes and the provenance."""

    task: str
    source: str
    guideline_version: str | None
    codes: dict[Any, Any] | None
    strengths: dict[Any, int] | None
    fixed_strength: int | None
    response_ids: list[str] | None
    skip_unknown: bool
    blank_unparsed: bool


class Cells(NamedTuple):
    """The labels of one slot, before assembly (positions index the source rows)."""

    rows: np.ndarray
    annotator: list[str]
    winner: list[Any]
    strength: list[Any]
    ranking: list[Any]
    rationale: list[str]
    unparsed: np.ndarray  # bool per cell
    raw: list[Any]  # the raw cell value (for the unparsed note)


def check_args(df: Any, *, task: str, source: str, unknown: str, errors: str, blank: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"import_labels needs a pandas DataFrame, got {type(df).__name__}")
    if task not in ("pairwise", "ranking"):
        raise ValueError(f"task must be 'pairwise' or 'ranking', got {task!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if unknown not in ("error", "skip"):
        raise ValueError(f"unknown must be 'error' or 'skip', got {unknown!r}")
    if errors not in ERROR_MODES:
        raise ValueError(f"errors must be one of {ERROR_MODES}, got {errors!r}")
    if blank not in BLANK_MODES:
        raise ValueError(f"blank must be one of {BLANK_MODES}, got {blank!r}")


def response_ids_for(
    task: str, responses: Sequence[str] | None, codes: Mapping[Any, Any] | None
) -> list[str] | None:
    """The item's response ids: pairwise, exactly 2 (from responses= or the coding's targets)."""
    if task != "pairwise":
        return [str(r) for r in responses] if responses is not None else None
    if responses is None:
        if codes is None:
            raise ValueError("pairwise import needs responses=[id_a, id_b] or a coding= naming them")
        responses = list(dict.fromkeys(v for v in codes.values() if v != TIE))
    pair = [str(r) for r in responses]
    if len(pair) != 2:
        raise ValueError(f"pairwise labels compare exactly 2 responses; got responses={pair}")
    if codes is not None:
        bad = [v for v in codes.values() if v != TIE and v not in pair]
        if bad:
            raise ValueError(f"coding maps to {bad[0]!r}, which is not 'tie' or one of {pair}")
    return pair


def check_strength_arg(strength: Any) -> None:
    if strength is None or isinstance(strength, Mapping):
        return
    if isinstance(strength, bool) or not isinstance(strength, (int, np.integer)):
        raise LabelError("import_labels", "strength", f"must be an integer 0..{MAX_STRENGTH}")
    if not 1 <= int(strength) <= MAX_STRENGTH:
        raise LabelError(
            "import_labels",
            "strength",
            f"strength: must be 1..{MAX_STRENGTH} for decisive labels, got {strength}",
        )


def ids_checked(
    values: list[Any], rows: np.ndarray, column: str, what: str, missing: str, problems: Problems
) -> list[str | None]:
    """Each id cell as text (None where missing or unusable, the problem recorded against its row); each
    distinct value is converted and checked once."""
    idx, uniques = _distinct(values)
    texts: list[str | None] = []
    reasons: list[str | None] = []
    for value in uniques:
        text = _id_text(value)
        problem = missing if text is None else _id_problem(text, what)
        texts.append(None if problem is not None else text)
        reasons.append(None if problem is None or text is None else f"{what.split()[-1]}: {problem}")
        if text is None:
            reasons[-1] = missing
    per_distinct_problems(idx, reasons, rows, column, problems)
    return [texts[i] for i in idx.tolist()]


def item_ids(df: pd.DataFrame, item_id: str, problems: Problems) -> list[str | None]:
    """Each row's item id as text (None where missing or unusable, with the problem recorded)."""
    series = df[item_id]
    if pd.api.types.is_integer_dtype(series.dtype) and not series.isna().any():
        texts: list[str | None] = [*series.astype(str).tolist()]  # numbers: always a usable id
        return texts
    return ids_checked(
        series.tolist(),
        np.arange(len(series)),
        item_id,
        "the item id",
        "the item id is missing; every row needs one",
        problems,
    )


def decode_pairwise_value(value: Any, spec: Spec) -> tuple[str, Any] | str:
    """(winner, code key) for one distinct cell value, or the reason it cannot be read."""
    key = code_key(value)
    ids = spec.response_ids or []
    codes = spec.codes
    if codes is not None and key not in codes:
        # a cell that spells the target itself ("Tie", "response1") needs no code
        direct = {TIE: TIE, **{str(r).casefold(): str(r) for r in ids}}
        if isinstance(value, str) and value.strip().casefold() in direct:
            return direct[value.strip().casefold()], key
        known = ", ".join(repr(k) for k in codes)
        return (
            f"code {value!r} is not in coding (known codes: {known}); add "
            "it to coding=, clean the cell, or pass unknown='skip'"
        )
    if codes is not None:
        return str(codes[key]), key
    text = str(value).strip()
    if text.casefold() == TIE:
        return TIE, key
    if text not in ids:
        return f"{value!r} is neither 'tie' nor one of {list(ids)}; pass coding= to translate codes"
    return text, key


def _strength_of(winner: str, key: Any, value: Any, spec: Spec) -> int | str | None:
    if winner == TIE:
        return 0
    if spec.strengths is None:
        return spec.fixed_strength
    if key not in spec.strengths:
        return f"code {value!r} has no entry in strength="
    s = spec.strengths[key]
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
        return f"strength: must be an integer 0..{MAX_STRENGTH}"
    if not 0 <= int(s) <= MAX_STRENGTH:
        return f"strength: must be 0..{MAX_STRENGTH}, got {s}"
    if int(s) == 0:
        return "strength: is 0 exactly when the winner is 'tie'"
    return int(s)


def _distinct(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """(index of each value's distinct value, the distinct values); unhashable values compare by repr."""
    try:
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
        return np.asarray(codes), list(uniques)
    except TypeError:
        keys = [repr(v) for v in values]
        codes, uniq_keys = pd.factorize(pd.Series(keys, dtype=object))
        first = {k: values[i] for i, k in reversed(list(enumerate(keys)))}
        return np.asarray(codes), [first[k] for k in uniq_keys]


def per_distinct_problems(
    idx: np.ndarray, reasons: Sequence[str | None], rows: np.ndarray, column: str, problems: Problems
) -> np.ndarray:
    """Record the problem of every cell whose distinct value has one (O(cells), however many values are
    bad); returns the mask of those cells."""
    bad_u = np.array([u for u, r in enumerate(reasons) if r is not None], dtype=np.int64)
    mask = np.isin(idx, bad_u) if len(bad_u) else np.zeros(len(idx), dtype=bool)
    for p in np.flatnonzero(mask).tolist():
        reason = reasons[int(idx[p])]
        assert reason is not None
        problems.add(int(rows[p]), column, reason)
    return mask


def pairwise_cells(
    values: list[Any], rows: np.ndarray, spec: Spec, column: str, problems: Problems
) -> tuple[np.ndarray, list[Any], list[Any], np.ndarray]:
    """Decode a column's verdicts: (ok mask, winners, strengths, unparsed mask), per cell in ``values``."""
    n = len(values)
    ok = np.ones(n, dtype=bool)
    unparsed = np.zeros(n, dtype=bool)
    winners: list[Any] = [None] * n
    strengths: list[Any] = [None] * n
    if n == 0:
        return ok, winners, strengths, unparsed
    idx, uniques = _distinct(values)
    decoded: list[tuple[str, Any] | None] = []
    reasons: list[str | None] = []
    skip: list[bool] = []
    for value in uniques:
        got = decode_pairwise_value(value, spec)
        if isinstance(got, str):
            decoded.append(None)
            skip.append(spec.skip_unknown)
            reasons.append(None if spec.skip_unknown else got)
            continue
        winner, key = got
        s = _strength_of(winner, key, value, spec)
        if isinstance(s, str):
            decoded.append(None)
            skip.append(False)
            reasons.append(s)
            continue
        decoded.append((winner, s))
        skip.append(False)
        reasons.append(None)
    at = idx.tolist()
    winners = [None if decoded[u] is None else decoded[u][0] for u in at]
    strengths = [None if decoded[u] is None else decoded[u][1] for u in at]
    unparsed = np.asarray(skip, dtype=bool)[idx]
    ok = ~per_distinct_problems(idx, reasons, rows, column, problems)
    return ok, winners, strengths, unparsed


def decode_ranking(value: Any, codes: Mapping[Any, Any] | None) -> list[list[str]] | str:
    """A ranking cell -> tie groups of ids, or the reason it cannot be read."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return f"is not a ranking (a list or its JSON): {value[:80]!r}"
    if hasattr(value, "tolist") and not isinstance(value, list):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not value:
        return "a ranking is a non-empty list of ids best->worst or of tie groups"
    groups: list[list[str]] = []
    for group in value:
        if hasattr(group, "tolist") and not isinstance(group, (list, str)):
            group = group.tolist()
        members = list(group) if isinstance(group, (list, tuple)) else [group]
        out = []
        for rid in members:
            if codes is not None:
                key = code_key(rid)
                if key not in codes:
                    return f"id {rid!r} in the ranking is not in coding"
                out.append(str(codes[key]))
            else:
                if isinstance(rid, float) and rid.is_integer():
                    rid = int(rid)
                out.append(str(rid))
        groups.append(out)
    return groups


def ranking_cells(
    values: list[Any], rows: np.ndarray, spec: Spec, column: str, problems: Problems
) -> tuple[np.ndarray, list[Any]]:
    ok = np.ones(len(values), dtype=bool)
    rankings: list[Any] = [None] * len(values)
    for i, value in enumerate(values):
        got = decode_ranking(value, spec.codes)
        if isinstance(got, str):
            ok[i] = False
            problems.add(int(rows[i]), column, got)
            continue
        try:
            rankings[i] = normalise_ranking("", got, spec.response_ids)
        except LabelError as exc:
            ok[i] = False
            problems.add(int(rows[i]), column, f"{exc.field}: {exc.problem}")
    return ok, rankings


def annotator_names(
    slot: Slot, df: pd.DataFrame, rows: np.ndarray, problems: Problems
) -> tuple[np.ndarray, list[str]]:
    """(ok mask, annotator name) per cell of ``rows``."""
    if slot.name_col is None:
        name = slot.fixed_name
        problem = "must not be empty" if not name else _id_problem(name, "annotator")
        if problem is not None:
            problems.add_many(rows, slot.value_col, f"annotator: {problem}")
            return np.zeros(len(rows), dtype=bool), [name] * len(rows)
        return np.ones(len(rows), dtype=bool), [name] * len(rows)
    raw = df[slot.name_col].to_numpy(dtype=object)[rows].tolist()
    names = ids_checked(
        raw, rows, slot.name_col, "annotator", "the annotator is missing; every judgement needs one", problems
    )
    ok = np.fromiter((n is not None for n in names), dtype=bool, count=len(names))
    return ok, [n or "" for n in names]


def rationales(
    slot: Slot, df: pd.DataFrame, rows: np.ndarray, problems: Problems
) -> tuple[np.ndarray, list[str]]:
    ok = np.ones(len(rows), dtype=bool)
    if slot.rationale_col is None:
        return ok, [""] * len(rows)
    idx, uniques = _distinct(df[slot.rationale_col].to_numpy(dtype=object)[rows].tolist())
    texts = ["" if _blank(t) else str(t) for t in uniques]
    reasons = [
        f"rationale: is {len(text)} characters; the limit is {MAX_RATIONALE_CHARS}"
        if len(text) > MAX_RATIONALE_CHARS
        else (None if text_problem(text) is None else f"rationale: {text_problem(text)}")
        for text in texts
    ]
    ok = ~per_distinct_problems(idx, reasons, rows, slot.rationale_col, problems)
    return ok, [texts[i] for i in idx.tolist()]


def submitted_times(df: pd.DataFrame, submitted_at: Any, problems: Problems) -> pd.Series:
    """Per source row, the UTC submission time (NaT where the row's time is bad; the problem recorded)."""
    n = len(df)
    if not (isinstance(submitted_at, str) and submitted_at in df.columns):
        ts = pd.Timestamp(utcnow()) if submitted_at is None else fixed_time(submitted_at)
        return pd.Series(pd.DatetimeIndex([ts]).as_unit("us").repeat(n))
    col = df[submitted_at]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        parsed = col.dt.tz_convert("UTC").reset_index(drop=True)
        missing = parsed.isna().to_numpy()
        problems.add_many(
            np.flatnonzero(missing),
            submitted_at,
            "is missing; give a time or leave submitted_at=None for 'now'",
        )
        return parsed.astype("datetime64[us, UTC]")
    if pd.api.types.infer_dtype(col, skipna=False) == "string":
        return _string_times(col.reset_index(drop=True), submitted_at, problems)
    values = col.tolist()
    idx, uniques = _distinct(values)
    parsed_u: list[Any] = []
    for value in uniques:
        try:
            parsed_u.append(fixed_time(value))
        except LabelError as exc:
            parsed_u.append(exc.problem)
    good = [isinstance(p, pd.Timestamp) for p in parsed_u]
    stamps = pd.Series(
        [p if g else pd.NaT for p, g in zip(parsed_u, good, strict=True)], dtype="datetime64[us, UTC]"
    )
    out = pd.Series(stamps.to_numpy()[idx], dtype="datetime64[us, UTC]")
    reasons = [None if g else str(p) for p, g in zip(parsed_u, good, strict=True)]
    per_distinct_problems(idx, reasons, np.arange(len(values)), submitted_at, problems)
    return out


_TZ_SUFFIX = r"(?:[zZ]|[+-]\d\d(?::?\d\d)?|UTC)\s*$"


def _string_times(col: pd.Series, column: str, problems: Problems) -> pd.Series:
    """A column of ISO time strings, parsed at once; a string without a timezone is a problem."""
    parsed = pd.to_datetime(col, utc=True, format="ISO8601", errors="coerce")
    blank = col.str.strip().eq("").to_numpy()
    naive = ~col.str.contains(_TZ_SUFFIX, regex=True).to_numpy() & ~blank
    bad = parsed.isna().to_numpy() & ~blank
    for i in np.flatnonzero(blank | bad | naive).tolist():
        value = col.iat[i]
        try:
            fixed_time(value)  # the one-value rules give the message
            reason = f"{value!r} has no timezone; give UTC times, e.g. '2024-01-01T00:00Z'"
        except LabelError as exc:
            reason = exc.problem
        problems.add(i, column, reason)
    out = parsed.astype("datetime64[us, UTC]")
    out = out.where(~(blank | bad | naive))
    return out


def fixed_time(value: Any) -> pd.Timestamp:
    if _blank(value):
        raise LabelError(
            "import_labels", "submitted_at", "is missing; give a time or leave submitted_at=None for 'now'"
        )
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise LabelError("import_labels", "submitted_at", f"is not a time: {value!r}") from exc
    if ts is pd.NaT:
        raise LabelError(
            "import_labels", "submitted_at", "is missing; give a time or leave submitted_at=None for 'now'"
        )
    if ts.tzinfo is None:
        raise LabelError(
            "import_labels",
            "submitted_at",
            f"{value!r} has no timezone; give UTC times, e.g. '2024-01-01T00:00Z'",
        )
    return ts.tz_convert("UTC")


def slot_cells(
    df: pd.DataFrame, slot: Slot, spec: Spec, items: list[str | None], row_ok: np.ndarray, problems: Problems
) -> Cells:
    """Every label one slot (an annotator column, or the long form's label column) yields."""
    series = df[slot.value_col]
    missing = _missing_mask(series)
    blank_unparsed = spec.blank_unparsed and spec.task == "pairwise"
    take = (~missing) | blank_unparsed
    take &= row_ok
    rows = np.flatnonzero(take)
    values = series.to_numpy(dtype=object)[rows].tolist()
    is_blank = missing[rows]
    ok = np.ones(len(rows), dtype=bool)
    unparsed = is_blank.copy()
    winners: list[Any] = [None] * len(rows)
    strengths: list[Any] = [None] * len(rows)
    rankings: list[Any] = [None] * len(rows)
    present = np.flatnonzero(~is_blank)
    present_values = [values[i] for i in present.tolist()]
    if spec.task == "pairwise":
        p_ok, p_win, p_str, p_unp = pairwise_cells(
            present_values, rows[present], spec, slot.value_col, problems
        )
        ok[present] = p_ok
        unparsed[present] = p_unp
        for j, i in enumerate(present.tolist()):
            winners[i] = p_win[j]
            strengths[i] = p_str[j]
    else:
        r_ok, r_rank = ranking_cells(present_values, rows[present], spec, slot.value_col, problems)
        ok[present] = r_ok
        for j, i in enumerate(present.tolist()):
            rankings[i] = r_rank[j]
    a_ok, names = annotator_names(slot, df, rows, problems)
    t_ok, texts = rationales(slot, df, rows, problems)
    keep = ok & a_ok & t_ok
    sel = np.flatnonzero(keep).tolist()
    return Cells(
        rows=rows[keep],
        annotator=[names[i] for i in sel],
        winner=[winners[i] for i in sel],
        strength=[strengths[i] for i in sel],
        ranking=[rankings[i] for i in sel],
        rationale=[texts[i] for i in sel],
        unparsed=unparsed[keep],
        raw=[values[i] for i in sel],
    )


def _note(value: Any) -> str:
    text = "blank" if _is_missing_cell(value) else repr(value)
    note = f"unparsed verdict: {text}"
    note = note if len(note) <= MAX_FLAG_NOTE_CHARS else note[: MAX_FLAG_NOTE_CHARS - 3] + "..."
    problem = text_problem(note)
    return note if problem is None else "unparsed verdict (its text cannot be stored)"


def label_ids(prefix: str, source: str, items: list[Any], annotators: list[str]) -> list[str]:
    """``label_id`` for many labels at once (the same ids, without a call per label)."""
    enc = encode_basestring_ascii
    sha1 = hashlib.sha1
    head = f"[{enc(source)}, "
    item_text = {i: enc(i) for i in set(items)}
    ann_text = {a: enc(a) for a in set(annotators)}
    return [
        f"{prefix}-{sha1(f'{head}{item_text[i]}, {ann_text[a]}]'.encode()).hexdigest()[:20]}"
        for i, a in zip(items, annotators, strict=True)
    ]


def _flat(parts: list[Cells], name: str, pick: list[int]) -> list[Any]:
    values = [v for p in parts for v in getattr(p, name)]
    return values if len(pick) == len(values) else [values[i] for i in pick]


def _duplicates(
    rows: np.ndarray, item: list[Any], annot: list[str], cols: list[str], problems: Problems
) -> np.ndarray:
    """True for each label whose item x annotator came earlier (recorded as a problem naming that row)."""
    if not len(rows):
        return np.zeros(0, dtype=bool)
    item_code, _ = pd.factorize(pd.Series(item, dtype=object))
    ann_code, ann_names = pd.factorize(pd.Series(annot, dtype=object))
    key = item_code.astype(np.int64) * max(len(ann_names), 1) + ann_code
    dup = pd.Series(key).duplicated(keep="first").to_numpy()
    if dup.any():
        first_row = dict(zip(key[~dup].tolist(), rows[~dup].tolist(), strict=True))
        for i in np.flatnonzero(dup).tolist():
            problems.add(
                int(rows[i]),
                cols[i],
                f"annotator {annot[i]!r} already labelled item {item[i]!r} in row "
                f"{first_row[int(key[i])]}; an import holds one label per item and annotator",
            )
    return dup


def _pairwise_rankings(winner: list[Any], unparsed: list[bool], ids: list[str]) -> list[Any]:
    a, b = ids
    return [
        None if u else [[a, b]] if w == TIE else [[a], [b]] if w == a else [[b], [a]]
        for u, w in zip(unparsed, winner, strict=True)
    ]


def assemble(
    parts: list[Cells],
    spec: Spec,
    items: list[str | None],
    times: pd.Series,
    problems: Problems,
    slots: list[Slot],
) -> tuple[pd.DataFrame, np.ndarray]:
    """The labels frame from every slot's cells (duplicates of item x annotator are problems); also each
    label's source row."""
    rows = np.concatenate([p.rows for p in parts]) if parts else np.zeros(0, dtype=int)
    cols = [s.value_col for s, p in zip(slots, parts, strict=True) for _ in range(len(p.rows))]
    annot = [a for p in parts for a in p.annotator]
    item = [items[r] for r in rows.tolist()]
    dup = _duplicates(rows, item, annot, cols, problems)
    keep = ~dup & ~times.isna().to_numpy()[rows] if len(rows) else np.zeros(0, dtype=bool)
    sel = np.flatnonzero(keep)
    pick = sel.tolist()
    if len(pick) != len(rows):
        rows, annot, item = rows[sel], [annot[i] for i in pick], [item[i] for i in pick]
    n = len(rows)
    if n == 0:
        return empty_labels(), rows
    unparsed_arr = (np.concatenate([p.unparsed for p in parts]) if parts else np.zeros(0, dtype=bool))[sel]
    unparsed = unparsed_arr.tolist()
    winner = _flat(parts, "winner", pick)
    ids = spec.response_ids
    if spec.task == "pairwise":
        assert ids is not None
        ranking = _pairwise_rankings(winner, unparsed, ids)
        order: list[Any] = [[*ids] for _ in range(n)]
    else:
        ranking = _flat(parts, "ranking", pick)
        order = [[*ids] if ids is not None else [r for g in rk for r in g] for rk in ranking]
    strength = np.array([math.nan if s is None else s for s in _flat(parts, "strength", pick)], dtype=float)
    if unparsed_arr.any():
        raw = _flat(parts, "raw", pick)
        notes = [_note(v) if u else "" for u, v in zip(unparsed, raw, strict=True)]
        flags = [[UNPARSED_FLAG] if u else [] for u in unparsed]
        strength[unparsed_arr] = math.nan
        winner = [None if u else w for u, w in zip(unparsed, winner, strict=True)]
    else:
        notes = [""] * n
        flags = [[] for _ in range(n)]
    source = spec.source
    frame = pd.DataFrame(
        {
            "label_id": pd.Series(label_ids("imp", source, item, annot), dtype=object),
            "item_id": pd.Series(item, dtype=object),
            "annotator": pd.Series(annot, dtype=object),
            "task": pd.Series([spec.task] * n, dtype=object),
            "status": pd.Series(np.where(unparsed_arr, "skipped", "submitted"), dtype=object),
            "ranking": pd.Series(ranking, dtype=object),
            "winner": pd.Series(winner if spec.task == "pairwise" else [None] * n, dtype=object),
            "strength": pd.array(
                strength if spec.task == "pairwise" else np.full(n, math.nan), dtype="Int64"
            ),
            "ratings": pd.Series([None] * n, dtype=object),
            "rationale": pd.Series(_flat(parts, "rationale", pick), dtype=object),
            "flags": pd.Series(flags, dtype=object),
            "flag_note": pd.Series(notes, dtype=object),
            "display_order": pd.Series(order, dtype=object),
            "guideline_version": pd.Series([spec.guideline_version] * n, dtype=object),
            "started_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[us, UTC]"),
            "submitted_at": times.iloc[rows].reset_index(drop=True).astype("datetime64[us, UTC]"),
            "active_ms": pd.array(np.full(n, math.nan), dtype="Int64"),
            "revision": pd.array(np.ones(n, dtype="int64"), dtype="Int64"),
            "supersedes": pd.Series([None] * n, dtype=object),
            "source": pd.Series([source] * n, dtype=object),
        },
        columns=list(COLUMN_NAMES),
    )
    slot_of = np.concatenate([np.full(len(p.rows), k) for k, p in enumerate(parts)])[sel]
    order_rows = np.lexsort((slot_of, rows))  # source order: row by row, annotator columns left to right
    if not (order_rows == np.arange(n)).all():
        frame = frame.take(order_rows).reset_index(drop=True)
        rows = rows[order_rows]
    return frame, rows  # built in the canonical dtypes (test_label_import checks it equals coerce_labels')


def finish(
    labels: pd.DataFrame,
    problems: Problems,
    items: list[str | None],
    errors: str,
    what: str = "import_labels",
) -> pd.DataFrame:
    rejected = problems.frame(items)
    if len(rejected):
        if errors == "raise":
            raise ImportRowsError(rejected, what)
        warnings.warn(
            f"{what}: left out {len(rejected)} bad cell{'s' * (len(rejected) != 1)} in "
            f"{rejected['row'].nunique()} row(s) (errors={errors!r}); first: "
            f"{_error_line(*rejected.iloc[0][list(REJECTED_COLUMNS)].tolist())}"
            + (
                ""
                if errors == "collect"
                else "; pass errors='collect' to list them (rank_widget.rejected_rows(labels))"
            ),
            UserWarning,
            stacklevel=3,
        )
    if errors == "collect":
        labels.attrs["rejected"] = rejected_records(rejected)
    return labels


def unparsed_counts(labels: pd.DataFrame, annotators: Sequence[str]) -> dict[str, int]:
    counts = {str(a): 0 for a in annotators}
    if labels.empty:
        return counts
    mask = labels["status"].eq("skipped") & labels["flags"].map(lambda f: UNPARSED_FLAG in f)
    for name, n in labels.loc[mask, "annotator"].value_counts().items():
        counts[str(name)] = int(n)
    return counts


# ---------------------------------------------------------------------------------------------------------
# items=: the ids of the items load_items made from the same rows

PROMPT_GUESSES = ("prompt", "instruction", "question", "query", "input", "chosen", "conversation_a", "turns")


def _prompt_text(prompt: Any) -> str:
    """An item's prompt as text: the text itself, or a chat's last user message."""
    if isinstance(prompt, str):
        return prompt
    if hasattr(prompt, "tolist") and not isinstance(prompt, list):
        prompt = prompt.tolist()
    if isinstance(prompt, list):
        users = [m.get("content", "") for m in prompt if isinstance(m, Mapping) and m.get("role") == "user"]
        return str(users[-1]) if users else ""
    return "" if prompt is None else str(prompt)


def _source_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if _is_missing_cell(value):
        return ""
    if hasattr(value, "tolist") and not isinstance(value, list):
        value = value.tolist()
    if isinstance(value, list):
        return "\n".join(_source_text(m.get("content", "") if isinstance(m, Mapping) else m) for m in value)
    return str(value)


def _same_prompt(source: str, item: str) -> bool:
    if source == item:
        return True
    # load_items may join columns (instruction + input) or take the shared part of two conversations
    return bool(source) and bool(item) and (item in source or source in item)


def ids_from_items(df: pd.DataFrame, items: Any, prompt: str | None) -> list[str | None]:
    """Each row's item id from the items load_items made from the rows (None for a row load_items left out,
    listed in ``items.attrs["rejected"]``), checking the prompts match row by row."""
    if not isinstance(items, pd.DataFrame) or not {"item_id", "prompt"} <= set(items.columns):
        raise TypeError("items= takes the DataFrame load_items returned for the same rows")
    rows = np.arange(len(df))
    if len(items) < len(df):
        dropped = set(rejected_rows(items)["row"].dropna().astype(int).tolist())
        rows = np.array([r for r in rows.tolist() if r not in dropped], dtype=int)
    if len(rows) != len(items):
        raise ValueError(
            f"items= has {len(items)} items but the labels have {len(rows)} rows: pass the items load_items "
            "made from these same rows, in the same order (or give item_id='column')"
        )
    column = prompt if prompt is not None else next((c for c in PROMPT_GUESSES if c in df.columns), None)
    if column is None:
        raise ValueError(
            "import_labels(items=...) checks each row's prompt against its item, but none of the columns "
            f"{list(PROMPT_GUESSES)} is here; pass prompt='the column holding the prompt'"
        )
    if column not in df.columns:
        raise ValueError(f"prompt={column!r} is not a column; the columns are {list(df.columns)}")
    source = [_source_text(v) for v in df[column].to_numpy(dtype=object)[rows].tolist()]
    made = [_prompt_text(p) for p in items["prompt"].tolist()]
    bad = [i for i, (s, m) in enumerate(zip(source, made, strict=True)) if not _same_prompt(s, m)]
    if bad:
        shown = ", ".join(
            f"row {int(rows[i])} ({source[i][:40]!r} vs item "
            f"{str(items['item_id'].iat[i])!r}: {made[i][:40]!r})"
            for i in bad[:5]
        )
        raise ValueError(
            f"import_labels(items=...): the prompts of {len(bad)} row(s) do not match their items, so "
            f"the rows are not in the order load_items saw them: {shown}. Pass the items made from these "
            "rows in the same order, or prompt='column' if the prompt is in another column"
        )
    out: list[str | None] = [None] * len(df)
    for r, iid in zip(rows.tolist(), items["item_id"].tolist(), strict=True):
        out[r] = str(iid)
    return out
