"""Label formats: import existing labels into the label schema, export to training formats, and files.

- ``import_labels``: labels that already exist elsewhere (a spreadsheet with one column per annotator, a long
  table with one row per judgement, an LLM judge's verdicts) -> the canonical labels DataFrame.
- ``to_trl``: labels + items -> TRL's preference format (``prompt``/``chosen``/``rejected``) with provenance.
- ``write_labels`` / ``read_labels``: JSONL and Parquet files that round-trip every field exactly.

Column names and rules come from ``schema`` (defined once there).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .schema import (
    SOURCES,
    TIE,
    LabelError,
    empty_labels,
    labels_frame,
    utcnow,
    validate_label,
)

__all__ = ["import_labels"]


# ---------------------------------------------------------------------------------------------------------
# Import


def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _code_key(value: Any) -> Any:
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


def _normalise_coding(coding: Mapping[Any, Any], what: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, target in coding.items():
        norm = _code_key(key)
        if norm in out and out[norm] != target:
            raise ValueError(f"{what}: codes {key!r} and another key both mean {norm!r} but map to different "
                             f"values ({out[norm]!r} vs {target!r}); keep one of them")
        out[norm] = target
    return out


def _item_id_text(value: Any, row: int, column: str) -> str:
    if _blank(value):
        raise LabelError(f"row {row}", column, "the item id is missing; every row needs one")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _label_id(prefix: str, source: str, item: str, annotator: str) -> str:
    # Deterministic, so importing the same file twice into a store is idempotent (store dedupes on label_id).
    digest = hashlib.sha1(json.dumps([source, item, annotator]).encode("utf-8")).hexdigest()[:20]
    return f"{prefix}-{digest}"


def _timestamp(value: Any, where: str, field: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise LabelError(where, field, f"is not a time: {value!r}") from exc
    if ts is pd.NaT:
        raise LabelError(where, field, "is missing; give a time or leave submitted_at=None for 'now'")
    if ts.tzinfo is None:
        raise LabelError(where, field, f"{value!r} has no timezone; give UTC times, e.g. '2024-01-01T00:00Z'")
    return ts.tz_convert("UTC")


def import_labels(
    df: pd.DataFrame,
    *,
    item_id: str,
    annotators: Sequence[str] | Mapping[str, str] | None = None,
    coding: Mapping[Any, Any] | None = None,
    task: str = "pairwise",
    source: str = "import",
    responses: Sequence[str] | None = None,
    strength: int | Mapping[Any, int] | None = None,
    guideline_version: str | None = None,
    submitted_at: Any = None,
    annotator: str | None = None,
    label: str | None = None,
    rationale: str | Mapping[str, str] | None = None,
    unknown: str = "error",
) -> pd.DataFrame:
    """Existing labels -> the canonical labels DataFrame (every row checked with ``schema.validate_label``).

    Wide form (one column per annotator, one row per item)::

        import_labels(df, item_id="idx", annotators=["annotator1", "annotator2", "annotator3"],
                      coding={0: "tie", 1: "response1", 2: "response2"})

    Long form (one row per judgement): ``annotator=`` names the annotator column and ``label=`` the column
    holding the verdict: ``import_labels(df, item_id="item", annotator="worker", label="choice")``.

    - ``annotators``: the annotator columns; a ``{column: name}`` dict renames them. The annotator name is the
      column name otherwise.
    - ``coding``: code in the cell -> a response id or ``"tie"`` (pairwise). Codes are normalised, so
      ``"1"``, ``1`` and ``1.0`` are the same code, and text codes ignore case; a cell that spells a target
      itself (``"Tie"``, ``"response1"``) needs no code. Without ``coding`` the cell holds the response id (or
      ``"tie"``) itself. For ``task="ranking"`` each cell holds a ranking: tie groups best->worst
      (``[["r2"], ["r1", "r3"]]``) or a list of ids best->worst (``["r2", "r1", "r3"]``), as a list or its
      JSON text; ``coding``, if given, maps the ids in the ranking.
    - ``responses``: the item's response ids (pairwise: exactly 2, in on-screen order A, B). Default for
      pairwise: the non-tie targets of ``coding`` in order. They must match the response ids of your items
      (``load_items`` uses the column names of the wide shape, e.g. ``response1``, ``response2``).
    - ``strength``: unknown by default (``<NA>``; ties get 0). An int gives every decisive label that
      strength; a ``{code: strength}`` dict maps each code (e.g. a 5-point scale coded 1..5).
    - ``rationale``: long form: a column name; wide form: ``{annotator column: rationale column}``.
    - ``submitted_at``: a time for every row, a column name, or None for now (UTC).
    - ``unknown``: what a code missing from ``coding`` does: ``"error"`` (default) or ``"skip"`` (no label;
      e.g. for an LLM judge whose output could not be parsed). The skipped cells are listed in
      ``result.attrs["skipped"]`` as ``(row, column, value)``.

    Missing cells (NaN, None, empty strings) are no label. A code not in ``coding`` raises ``LabelError`` (a
    ``ValueError``) naming the row and column; nothing is returned half-built. Label ids are deterministic
    (``"imp-"`` + a hash of source, item and annotator), so re-importing into a store does not duplicate.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"import_labels needs a pandas DataFrame, got {type(df).__name__}")
    if task not in ("pairwise", "ranking"):
        raise ValueError(f"task must be 'pairwise' or 'ranking', got {task!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if unknown not in ("error", "skip"):
        raise ValueError(f"unknown must be 'error' or 'skip', got {unknown!r}")
    if item_id not in df.columns:
        raise ValueError(f"item_id={item_id!r} is not a column; the columns are {list(df.columns)}")
    long_form = annotator is not None
    if long_form == (annotators is not None):
        raise ValueError("give either annotators=[columns] (wide: one column per annotator) or "
                         "annotator='column' with label='column' (long: one row per judgement)")

    # (annotator-name column or fixed name, value column, rationale column) per label slot
    slots: list[tuple[str | None, str, str, str | None]] = []
    if long_form:
        if label is None:
            raise ValueError("long form needs label='column holding the verdict or ranking'")
        for col in (annotator, label):
            if col not in df.columns:
                raise ValueError(f"column {col!r} does not exist; the columns are {list(df.columns)}")
        if rationale is not None and not isinstance(rationale, str):
            raise ValueError("in long form rationale= is the name of the rationale column")
        slots.append((annotator, "", label, rationale))
    else:
        assert annotators is not None
        names = dict(annotators) if isinstance(annotators, Mapping) else {c: str(c) for c in annotators}
        if not names:
            raise ValueError("annotators= is empty; name at least one annotator column")
        if isinstance(rationale, str):
            raise ValueError("in wide form rationale= maps annotator columns to rationale columns")
        rat_map = dict(rationale or {})
        for col, name in names.items():
            if col not in df.columns:
                raise ValueError(f"annotator column {col!r} does not exist; columns: {list(df.columns)}")
            rcol = rat_map.get(col)
            if rcol is not None and rcol not in df.columns:
                raise ValueError(f"rationale column {rcol!r} (for {col!r}) does not exist")
            slots.append((None, str(name), col, rcol))
        stray = set(rat_map) - set(names)
        if stray:
            raise ValueError(f"rationale= names {sorted(stray)}, which are not annotator columns")

    codes = _normalise_coding(coding, "coding") if coding is not None else None
    strengths: dict[Any, int] | None = None
    fixed_strength: int | None = None
    if isinstance(strength, Mapping):
        strengths = _normalise_coding(strength, "strength")
    elif strength is not None:
        fixed_strength = strength

    if task == "pairwise":
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
        response_ids: list[str] | None = pair
    else:
        response_ids = [str(r) for r in responses] if responses is not None else None

    when_col: str | None = None
    fixed_when: pd.Timestamp | None = None
    if isinstance(submitted_at, str) and submitted_at in df.columns:
        when_col = submitted_at
    elif submitted_at is None:
        fixed_when = pd.Timestamp(utcnow())
    else:
        fixed_when = _timestamp(submitted_at, "import_labels", "submitted_at")

    records: list[dict[str, Any]] = []
    skipped: list[tuple[int, str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    item_values = df[item_id].tolist()
    columns = {c: df[c].tolist() for c in {s[2] for s in slots} | {s[0] for s in slots if s[0]}
               | {s[3] for s in slots if s[3]} | ({when_col} if when_col else set())}
    for row, raw_item in enumerate(item_values):
        item = _item_id_text(raw_item, row, item_id)
        where = f"row {row} (item {item!r})"
        for name_col, fixed_name, value_col, rat_col in slots:
            value = columns[value_col][row]
            if _is_missing_cell(value):
                continue
            if unknown == "skip" and task == "pairwise" and not _known_code(value, codes, response_ids):
                skipped.append((row, value_col, value))
                continue
            if name_col is not None:
                raw_name = columns[name_col][row]
                if _blank(raw_name):
                    raise LabelError(where, name_col, "the annotator is missing; every judgement needs one")
                who = _item_id_text(raw_name, row, name_col)
            else:
                who = fixed_name
            key = (item, who)
            if key in seen:
                raise LabelError(where, value_col, f"annotator {who!r} already labelled item {item!r} in row "
                                 f"{seen[key]}; an import holds one label per item and annotator")
            seen[key] = row
            rec: dict[str, Any] = {
                "label_id": _label_id("imp", source, item, who),
                "item_id": item,
                "annotator": who,
                "task": task,
                "status": "submitted",
                "source": source,
                "guideline_version": guideline_version,
                "revision": 1,
            }
            if task == "pairwise":
                winner, code = _decode_pairwise(value, codes, response_ids or [], where, value_col)
                rec["winner"] = winner
                if winner == TIE:
                    rec["strength"] = 0
                elif strengths is not None:
                    if code not in strengths:
                        raise LabelError(where, value_col, f"code {value!r} has no entry in strength=")
                    rec["strength"] = strengths[code]
                else:
                    rec["strength"] = fixed_strength
            else:
                rec["ranking"] = _decode_ranking(value, codes, where, value_col)
            if rat_col is not None:
                text = columns[rat_col][row]
                rec["rationale"] = "" if _blank(text) else str(text)
            rec["submitted_at"] = (
                _timestamp(columns[when_col][row], where, when_col) if when_col else fixed_when
            )
            ids = response_ids
            if task == "ranking" and ids is None:
                ids = [r for group in rec["ranking"] for r in group]
            try:
                records.append(validate_label(rec, response_ids=ids))
            except LabelError as exc:
                raise LabelError(where, value_col, f"{exc.field}: {exc.problem}") from exc
    out = labels_frame(records) if records else empty_labels()
    out.attrs["skipped"] = skipped
    return out


def _is_missing_cell(value: Any) -> bool:
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) > 0:
        return len(value) == 0
    return _blank(value)


def _known_code(value: Any, codes: Mapping[Any, Any] | None, response_ids: Sequence[str] | None) -> bool:
    text = str(value).strip().casefold()
    direct = {TIE, *(str(r).casefold() for r in response_ids or [])}
    return (codes is not None and _code_key(value) in codes) or text in direct


def _decode_pairwise(
    value: Any, codes: Mapping[Any, Any] | None, response_ids: Sequence[str], where: str, column: str
) -> tuple[str, Any]:
    key = _code_key(value)
    if codes is not None and key not in codes:
        # a cell that spells the target itself ("Tie", "response1") needs no code
        direct = {TIE: TIE, **{str(r).casefold(): str(r) for r in response_ids}}
        if isinstance(value, str) and value.strip().casefold() in direct:
            return direct[value.strip().casefold()], key
    if codes is not None:
        if key not in codes:
            known = ", ".join(repr(k) for k in codes)
            raise LabelError(where, column, f"code {value!r} is not in coding (known codes: {known}); add "
                             "it to coding=, clean the cell, or pass unknown='skip'")
        return str(codes[key]), key
    text = str(value).strip()
    if text != TIE and text not in response_ids:
        raise LabelError(where, column, f"{value!r} is neither 'tie' nor one of {list(response_ids)}; pass "
                         "coding= to translate codes")
    return text, key


def _decode_ranking(value: Any, codes: Mapping[Any, Any] | None, where: str, column: str) -> list[list[str]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise LabelError(where, column, f"is not a ranking (a list or its JSON): {value[:80]!r}") from exc
    if hasattr(value, "tolist") and not isinstance(value, list):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not value:
        raise LabelError(where, column, "a ranking is a non-empty list of ids best->worst or of tie groups")

    def one(rid: Any) -> str:
        if codes is not None:
            key = _code_key(rid)
            if key not in codes:
                raise LabelError(where, column, f"id {rid!r} in the ranking is not in coding")
            return str(codes[key])
        if isinstance(rid, float) and rid.is_integer():
            rid = int(rid)
        return str(rid)

    groups: list[list[str]] = []
    for group in value:
        if hasattr(group, "tolist") and not isinstance(group, (list, str)):
            group = group.tolist()
        if isinstance(group, (list, tuple)):
            groups.append([one(r) for r in group])
        else:
            groups.append([one(group)])
    return groups
