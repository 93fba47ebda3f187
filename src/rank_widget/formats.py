"""Label formats: import existing labels into the label schema, export to training formats, and files.

- ``import_labels``: labels that already exist elsewhere (a spreadsheet with one column per annotator, a long
  table with one row per judgement, an LLM judge's verdicts) -> the canonical labels DataFrame.
- ``to_trl``: labels + items -> TRL's preference format (``prompt``/``chosen``/``rejected``) with provenance.
- ``write_labels`` / ``read_labels``: JSONL and Parquet files that round-trip every field exactly.

Column names and rules come from ``schema`` (defined once there).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import random
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .schema import (
    COLUMNS,
    COLUMNS_BY_NAME,
    DATETIME_COLUMNS,
    SCHEMA_VERSION,
    SOURCES,
    TIE,
    LabelError,
    check_labels_frame,
    coerce_labels,
    current_labels,
    empty_labels,
    labels_frame,
    pairwise_to_ranking,
    utcnow,
    validate_label,
)

__all__ = ["import_labels", "read_labels", "to_trl", "write_labels"]


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
            raise ValueError(
                f"{what}: codes {key!r} and another key both mean {norm!r} but map to different "
                f"values ({out[norm]!r} vs {target!r}); keep one of them"
            )
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
    _check_import_args(df, item_id=item_id, task=task, source=source, unknown=unknown)
    if (annotator is not None) == (annotators is not None):
        raise ValueError(
            "give either annotators=[columns] (wide: one column per annotator) or "
            "annotator='column' with label='column' (long: one row per judgement)"
        )
    if annotator is not None:
        slots = [_long_slot(df, annotator, label, rationale)]
    else:
        assert annotators is not None
        slots = _wide_slots(df, annotators, rationale)
    codes = _normalise_coding(coding, "coding") if coding is not None else None
    strengths = _normalise_coding(strength, "strength") if isinstance(strength, Mapping) else None
    response_ids = _import_response_ids(task, responses, codes)
    when_col, fixed_when = _submitted_at(df, submitted_at)
    spec = _ImportSpec(
        task=task,
        source=source,
        guideline_version=guideline_version,
        codes=codes,
        strengths=strengths,
        fixed_strength=None if isinstance(strength, Mapping) else strength,
        response_ids=response_ids,
        when_col=when_col,
        fixed_when=fixed_when,
    )

    records: list[dict[str, Any]] = []
    skipped: list[tuple[int, str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    item_values = df[item_id].tolist()
    needed = {c for slot in slots for c in (slot.name_col, slot.value_col, slot.rationale_col) if c}
    columns = {c: df[c].tolist() for c in needed | ({when_col} if when_col else set())}
    skip_unknown = unknown == "skip" and task == "pairwise"
    for row, raw_item in enumerate(item_values):
        item = _item_id_text(raw_item, row, item_id)
        where = f"row {row} (item {item!r})"
        for slot in slots:
            value = columns[slot.value_col][row]
            if _is_missing_cell(value):
                continue
            if skip_unknown and not _known_code(value, codes, response_ids):
                skipped.append((row, slot.value_col, value))
                continue
            who = _slot_annotator(slot, columns, row, where)
            if (item, who) in seen:
                raise LabelError(
                    where,
                    slot.value_col,
                    f"annotator {who!r} already labelled item {item!r} in row "
                    f"{seen[item, who]}; an import holds one label per item and annotator",
                )
            seen[item, who] = row
            records.append(spec.label(item, who, value, slot, columns, row, where))
    out = labels_frame(records) if records else empty_labels()
    out.attrs["skipped"] = skipped
    return out


def _check_import_args(df: Any, *, item_id: str, task: str, source: str, unknown: str) -> None:
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


class _Slot(NamedTuple):
    """Where one label of a row comes from."""

    name_col: str | None  # the column naming the annotator (long form), else None
    fixed_name: str  # the annotator's name (wide form: one slot per annotator column)
    value_col: str  # the column holding the verdict or ranking
    rationale_col: str | None


def _long_slot(df: pd.DataFrame, annotator: str, label: str | None, rationale: Any) -> _Slot:
    if label is None:
        raise ValueError("long form needs label='column holding the verdict or ranking'")
    for col in (annotator, label):
        if col not in df.columns:
            raise ValueError(f"column {col!r} does not exist; the columns are {list(df.columns)}")
    if rationale is not None and not isinstance(rationale, str):
        raise ValueError("in long form rationale= is the name of the rationale column")
    return _Slot(annotator, "", label, rationale)


def _wide_slots(
    df: pd.DataFrame, annotators: Sequence[str] | Mapping[str, str], rationale: Any
) -> list[_Slot]:
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
        slots.append(_Slot(None, str(name), col, rcol))
    stray = set(rat_map) - set(names)
    if stray:
        raise ValueError(f"rationale= names {sorted(stray)}, which are not annotator columns")
    return slots


def _slot_annotator(slot: _Slot, columns: Mapping[str, list[Any]], row: int, where: str) -> str:
    if slot.name_col is None:
        return slot.fixed_name
    raw_name = columns[slot.name_col][row]
    if _blank(raw_name):
        raise LabelError(where, slot.name_col, "the annotator is missing; every judgement needs one")
    return _item_id_text(raw_name, row, slot.name_col)


def _import_response_ids(
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


def _submitted_at(df: pd.DataFrame, submitted_at: Any) -> tuple[str | None, pd.Timestamp | None]:
    """(column holding the times, or None; the time of every row, or None)."""
    if isinstance(submitted_at, str) and submitted_at in df.columns:
        return submitted_at, None
    if submitted_at is None:
        return None, pd.Timestamp(utcnow())
    return None, _timestamp(submitted_at, "import_labels", "submitted_at")


@dataclass(frozen=True)
class _ImportSpec:
    """What every imported label shares: the task, the codes and the provenance."""

    task: str
    source: str
    guideline_version: str | None
    codes: dict[Any, Any] | None
    strengths: dict[Any, int] | None
    fixed_strength: int | None
    response_ids: list[str] | None
    when_col: str | None
    fixed_when: pd.Timestamp | None

    def label(
        self,
        item: str,
        who: str,
        value: Any,
        slot: _Slot,
        columns: Mapping[str, list[Any]],
        row: int,
        where: str,
    ) -> dict[str, Any]:
        """One cell -> a validated label record."""
        rec: dict[str, Any] = {
            "label_id": _label_id("imp", self.source, item, who),
            "item_id": item,
            "annotator": who,
            "task": self.task,
            "status": "submitted",
            "source": self.source,
            "guideline_version": self.guideline_version,
            "revision": 1,
        }
        if self.task == "pairwise":
            rec.update(self._verdict(value, where, slot.value_col))
        else:
            rec["ranking"] = _decode_ranking(value, self.codes, where, slot.value_col)
        if slot.rationale_col is not None:
            text = columns[slot.rationale_col][row]
            rec["rationale"] = "" if _blank(text) else str(text)
        when_col = self.when_col
        rec["submitted_at"] = (
            _timestamp(columns[when_col][row], where, when_col) if when_col else self.fixed_when
        )
        ids = self.response_ids
        if self.task == "ranking" and ids is None:
            ids = [r for group in rec["ranking"] for r in group]
        try:
            return validate_label(rec, response_ids=ids)
        except LabelError as exc:
            raise LabelError(where, slot.value_col, f"{exc.field}: {exc.problem}") from exc

    def _verdict(self, value: Any, where: str, column: str) -> dict[str, Any]:
        winner, code = _decode_pairwise(value, self.codes, self.response_ids or [], where, column)
        if winner == TIE:
            return {"winner": winner, "strength": 0}
        if self.strengths is None:
            return {"winner": winner, "strength": self.fixed_strength}
        if code not in self.strengths:
            raise LabelError(where, column, f"code {value!r} has no entry in strength=")
        return {"winner": winner, "strength": self.strengths[code]}


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
            raise LabelError(
                where,
                column,
                f"code {value!r} is not in coding (known codes: {known}); add "
                "it to coding=, clean the cell, or pass unknown='skip'",
            )
        return str(codes[key]), key
    text = str(value).strip()
    if text != TIE and text not in response_ids:
        raise LabelError(
            where,
            column,
            f"{value!r} is neither 'tie' nor one of {list(response_ids)}; pass coding= to translate codes",
        )
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


# ---------------------------------------------------------------------------------------------------------
# TRL export

TRL_COLUMNS = (
    "prompt",
    "chosen",
    "rejected",
    "item_id",
    "chosen_id",
    "rejected_id",
    "chosen_model",
    "rejected_model",
    "n_votes",
    "agreement",
    "annotators",
    "label_ids",
    "source",
    "tie_broken",
    "strength",
)
TIE_POLICIES = ("drop", "random", "error")
PAIR_POLICIES = ("all", "best_vs_rest", "adjacent")
AGGREGATES = ("majority", "none")


_Vote = tuple[str, str, str, str, "int | None"]  # label_id, annotator, source, vote (id or tie), strength


def _ranking_pairs(groups: Sequence[Sequence[str]], policy: str) -> list[tuple[str, str, bool]]:
    """(better, worse, tied) pairs a ranking yields under ``policy``."""
    out: list[tuple[str, str, bool]] = []
    for g in groups[:1] if policy == "best_vs_rest" else groups:
        out.extend((a, b, True) for i, a in enumerate(g) for b in g[i + 1 :])
    if policy == "all":
        for i, hi in enumerate(groups):
            for lo in groups[i + 1 :]:
                out.extend((a, b, False) for a in hi for b in lo)
    elif policy == "best_vs_rest":
        for lo in groups[1:]:
            out.extend((a, b, False) for a in groups[0] for b in lo)
    else:  # adjacent
        for hi, lo in itertools.pairwise(groups):
            out.extend((a, b, False) for a in hi for b in lo)
    return out


def _as_list(value: Any) -> Any:
    if hasattr(value, "tolist") and not isinstance(value, (str, list)):
        return value.tolist()
    return value


def to_trl(
    labels: pd.DataFrame,
    items: pd.DataFrame,
    *,
    tie_policy: str = "drop",
    pairs: str = "all",
    aggregate: str = "majority",
    seed: int = 0,
    sources: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Preference pairs in TRL's format (``prompt``, ``chosen``, ``rejected``) with provenance columns.

    Uses each annotator's current, submitted labels (``schema.current_labels``). Text prompts give strings
    (TRL's standard format); chat prompts give TRL's conversational format: ``prompt`` is the list of
    messages, ``chosen``/``rejected`` are ``[{"role": "assistant", "content": ...}]``.

    - ``pairs`` (for N-way rankings): ``"all"`` every pair across tie groups; ``"best_vs_rest"`` the top
      group against every other response; ``"adjacent"`` each tie group against the next one.
    - ``aggregate="majority"``: one row per item x response pair; each label votes for a, for b, or tie (on
      the pairs its own ranking yields under ``pairs``); the side with more votes than both the other side and
      the tie votes wins, anything else is a tied pair. ``agreement`` = winning votes / ``n_votes``.
      ``aggregate="none"``: one row per label x pair (``n_votes`` 1).
    - An item with an adjudicated label (``source="adjudication"``) takes its latest adjudication alone; the
      annotators' votes on that item are ignored.
    - ``strength``: the mean pairwise strength (1..3) of the winning votes, NaN when unknown (rankings,
      imports without strength); rename it to ``margin`` for TRL's RewardTrainer if you want a margin loss.
    - ``tie_policy``: ``"drop"`` skips tied pairs; ``"random"`` orients them at random (seeded by ``seed``;
      ``tie_broken`` marks them); ``"error"`` raises ``ValueError`` naming the item and pair.

    - ``sources``: which label sources vote. Default: every source but ``"judge"`` (LLM judge verdicts are
      for calibration, not training data, unless you ask for them: ``sources=("widget", "judge")``).

    Rows follow the order of ``items``. Labels on items not in ``items`` raise ``ValueError``.
    """
    _check_trl_args(labels, items, tie_policy=tie_policy, pairs=pairs, aggregate=aggregate)
    labels = _of_sources(labels, sources)
    catalogue = _trl_catalogue(items)
    votes = _pair_votes(_deciding_labels(labels), catalogue, pairs)

    rng = random.Random(seed)
    rows: list[tuple[Any, ...]] = []
    for item, (prompt, resp) in catalogue.items():
        for (a, b), cast in votes.get(item, {}).items():
            groups = [[v] for v in cast] if aggregate == "none" else [cast]
            for group in groups:
                verdict = _pair_verdict(item, a, b, group, tie_policy, rng)
                if verdict is None:
                    continue
                chosen, rejected, n_win, tie_broken = verdict
                rows.append(_trl_row(item, prompt, resp, chosen, rejected, group, n_win, tie_broken))
    out = pd.DataFrame.from_records(rows, columns=list(TRL_COLUMNS))
    out["n_votes"] = out["n_votes"].astype("int64")
    out["agreement"] = out["agreement"].astype(float)
    out["tie_broken"] = out["tie_broken"].astype(bool)
    out["strength"] = out["strength"].astype(float)
    return out


TRL_DEFAULT_SOURCES = tuple(s for s in SOURCES if s != "judge")


def _of_sources(labels: pd.DataFrame, sources: Sequence[str] | None) -> pd.DataFrame:
    chosen = TRL_DEFAULT_SOURCES if sources is None else ((sources,) if isinstance(sources, str) else sources)
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown or not chosen:
        raise ValueError(f"sources must be a non-empty list of {SOURCES}, got {sources!r}")
    if labels.empty or labels["source"].isin(chosen).all():
        return labels
    return labels[labels["source"].isin(chosen)]


def _check_trl_args(
    labels: pd.DataFrame, items: pd.DataFrame, *, tie_policy: str, pairs: str, aggregate: str
) -> None:
    if tie_policy not in TIE_POLICIES:
        raise ValueError(f"tie_policy must be one of {TIE_POLICIES}, got {tie_policy!r}")
    if pairs not in PAIR_POLICIES:
        raise ValueError(f"pairs must be one of {PAIR_POLICIES}, got {pairs!r}")
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    for col in ("item_id", "prompt", "responses"):
        if col not in items.columns:
            raise ValueError(f"items has no {col!r} column; build items with rank_widget.load_items")
    missing = [c for c in _TRL_LABEL_COLUMNS if c not in labels.columns]
    if missing:
        raise LabelError("labels", missing[0], "column is missing; pass a labels DataFrame")


_TRL_LABEL_COLUMNS = (
    "label_id",
    "item_id",
    "annotator",
    "status",
    "ranking",
    "source",
    "submitted_at",
    "revision",
)
# item id -> (prompt: text or chat, {response id: (text, model)})
_Catalogue = dict[str, tuple[Any, dict[str, tuple[str, Any]]]]


def _trl_catalogue(items: pd.DataFrame) -> _Catalogue:
    catalogue: _Catalogue = {}
    for pos, (iid, prompt, responses) in enumerate(
        zip(items["item_id"].tolist(), items["prompt"].tolist(), items["responses"].tolist(), strict=True)
    ):
        resp = {str(r["response_id"]): (r["text"], r.get("model")) for r in _as_list(responses)}
        prompt = _as_list(prompt)
        if isinstance(prompt, list):
            prompt = [dict(m) for m in prompt]
        elif not isinstance(prompt, str):
            raise LabelError(f"items row {pos} (item {iid!r})", "prompt", "must be a string or a chat")
        catalogue[str(iid)] = (prompt, resp)
    return catalogue


def _deciding_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """The current submitted labels, except that an adjudicated item keeps its latest adjudication alone."""
    cur = current_labels(labels, include_skipped=False)
    adjudicated = cur[cur["source"] == "adjudication"]
    if not adjudicated.empty:
        latest = adjudicated.sort_values("submitted_at", kind="stable").drop_duplicates(
            "item_id", keep="last"
        )
        cur = pd.concat([cur[~cur["item_id"].isin(set(latest["item_id"]))], latest])
    if "strength" not in cur.columns:
        cur = cur.assign(strength=None)
    return cur


def _pair_votes(
    cur: pd.DataFrame, catalogue: _Catalogue, pairs: str
) -> dict[str, dict[tuple[str, str], list[_Vote]]]:
    """votes[item][(a, b)] with a before b in response order -> the votes cast on that pair."""
    votes: dict[str, dict[tuple[str, str], list[_Vote]]] = {}
    for rec in cur[
        ["label_id", "item_id", "annotator", "source", "ranking", "winner", "strength"]
    ].itertuples(index=False):
        raw_strength: Any = rec.strength
        strength = None if raw_strength is None or pd.isna(raw_strength) else int(raw_strength)
        item = str(rec.item_id)
        where = f"label {rec.label_id!r} (item {item!r})"
        if item not in catalogue:
            raise LabelError(
                where, "item_id", "this item is not in items; pass the items the labels are about"
            )
        resp = catalogue[item][1]
        ranking = _vote_ranking(rec.ranking, rec.winner, resp, where)
        order = {rid: k for k, rid in enumerate(resp)}
        for better, worse, tied in _ranking_pairs(ranking, pairs):
            a, b = (better, worse) if order[better] < order[worse] else (worse, better)
            vote = TIE if tied else better
            votes.setdefault(item, {}).setdefault((a, b), []).append(
                (str(rec.label_id), str(rec.annotator), str(rec.source), vote, None if tied else strength)
            )
    return votes


def _vote_ranking(raw: Any, winner: Any, resp: Mapping[str, Any], where: str) -> list[list[str]]:
    """A label's ranking as lists of this item's response ids (derived from the winner if not stored)."""
    ranking = _as_list(raw)
    if (not isinstance(ranking, list) or not ranking) and isinstance(winner, str) and len(resp) == 2:
        if winner != TIE and winner not in resp:
            raise LabelError(where, "winner", f"{winner!r} is not one of this item's responses {list(resp)}")
        # a pairwise label stored without its ranking: derive it from the winner
        ranking = pairwise_to_ranking(winner, list(resp))
    if not isinstance(ranking, list) or not ranking:
        raise LabelError(where, "ranking", "a submitted label needs a ranking (or, pairwise, a winner)")
    groups = [_as_list(g) for g in ranking]
    for group in groups:
        for rid in group:
            if rid not in resp:
                raise LabelError(
                    where, "ranking", f"response {rid!r} is not one of this item's responses {list(resp)}"
                )
    return groups


def _pair_verdict(
    item: str, a: str, b: str, group: Sequence[_Vote], tie_policy: str, rng: random.Random
) -> tuple[str, str, int, bool] | None:
    """(chosen, rejected, winning votes, tie broken at random) for one pair, or None to drop a tie."""
    n_a = sum(1 for v in group if v[3] == a)
    n_b = sum(1 for v in group if v[3] == b)
    n_tie = len(group) - n_a - n_b
    if n_a > n_b and n_a > n_tie:
        return a, b, n_a, False
    if n_b > n_a and n_b > n_tie:
        return b, a, n_b, False
    if tie_policy == "drop":
        return None
    if tie_policy == "error":
        raise ValueError(
            f"item {item!r}: pair ({a!r}, {b!r}) is tied ({n_a} for {a!r}, {n_b} for "
            f"{b!r}, {n_tie} tie votes; labels {[v[0] for v in group]}); use "
            "tie_policy='drop' or 'random', or adjudicate the item"
        )
    chosen, rejected = (a, b) if rng.random() < 0.5 else (b, a)
    return chosen, rejected, n_a if chosen == a else n_b, True


def _trl_row(
    item: str,
    prompt: Any,
    resp: Mapping[str, tuple[str, Any]],
    chosen: str,
    rejected: str,
    group: Sequence[_Vote],
    n_win: int,
    tie_broken: bool,
) -> tuple[Any, ...]:
    c_text, c_model = resp[chosen]
    r_text, r_model = resp[rejected]
    if isinstance(prompt, list):
        p: Any = [dict(m) for m in prompt]
        c: Any = [{"role": "assistant", "content": c_text}]
        r: Any = [{"role": "assistant", "content": r_text}]
    else:
        p, c, r = prompt, c_text, r_text
    sources = sorted({v[2] for v in group})
    known = [v[4] for v in group if v[3] == chosen and v[4] is not None]
    return (
        p,
        c,
        r,
        item,
        chosen,
        rejected,
        c_model,
        r_model,
        len(group),
        n_win / len(group),
        [v[1] for v in group],
        [v[0] for v in group],
        "+".join(sources),
        tie_broken,
        sum(known) / len(known) if known else math.nan,
    )


# ---------------------------------------------------------------------------------------------------------
# Files: JSONL and Parquet that round-trip every field

JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")


def _file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise ValueError(f"{path}: unknown label file type {suffix!r}; use {JSONL_SUFFIXES + PARQUET_SUFFIXES}")


def _plain(value: Any) -> Any:
    """Python values JSON (and Arrow) can hold: numpy containers/scalars unwrapped, NaN/NA -> None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return _iso(value)
    return value


def _iso(ts: pd.Timestamp) -> str:
    # always microseconds and an explicit UTC offset, so the text parses back to the same instant
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ") if ts.tzinfo else ts.isoformat()


def write_labels(labels: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write labels to ``.jsonl`` (one JSON object per label) or ``.parquet``, chosen by the extension.

    Every field round-trips exactly through ``read_labels``: nested rankings, ratings dicts, flags, ``None``
    vs ``""``, ``<NA>`` integers, and UTC times to the microsecond. Columns beyond the schema are kept (as
    JSON / as Arrow infers them). The file is written to a temporary name and renamed, so a failed write
    leaves no half-written file behind. Returns the path.
    """
    target = Path(path)
    kind = _file_kind(target)
    frame = coerce_labels(labels)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if kind == "jsonl":
            _write_jsonl(frame, tmp)
        else:
            _write_parquet(frame, tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def _json_default(value: Any) -> Any:
    # numpy containers in list cells (e.g. a frame that went through pyarrow) serialise as their lists
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _write_jsonl(frame: pd.DataFrame, path: Path) -> None:
    columns: dict[str, list[Any]] = {}
    for name in frame.columns:
        series = frame[name]
        if name in DATETIME_COLUMNS:
            text = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # always microseconds, always UTC
            columns[name] = [None if isinstance(v, float) or v is None else v for v in text.tolist()]
        elif name in COLUMNS_BY_NAME and COLUMNS_BY_NAME[name].kind == "int":
            columns[name] = [None if v is pd.NA else int(v) for v in series.astype(object)]
        elif name in COLUMNS_BY_NAME:  # str and JSON columns hold plain values already
            columns[name] = series.tolist()
        else:
            columns[name] = [_plain(v) for v in series.tolist()]
    names = list(frame.columns)
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_json_default).encode
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(
            encode(dict(zip(names, values, strict=True))) + "\n"
            for values in zip(*(columns[n] for n in names), strict=True)
        )


def _arrow_types() -> dict[str, Any]:
    import pyarrow as pa

    ratings = pa.map_(pa.string(), pa.map_(pa.string(), pa.int64()))
    by_kind = {
        "str": pa.string(),
        "int": pa.int64(),
        "datetime": pa.timestamp("us", tz="UTC"),
        "ranking": pa.list_(pa.list_(pa.string())),
        "str_list": pa.list_(pa.string()),
        "ratings": ratings,
    }
    return {c.name: by_kind[c.kind] for c in COLUMNS}


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = _arrow_types()
    arrays: list[Any] = []
    fields: list[Any] = []
    for col in COLUMNS:
        series = frame[col.name]
        if col.kind == "datetime":
            arr = pa.Array.from_pandas(series, type=types[col.name])
        elif col.kind == "int":
            arr = pa.array(
                [None if v is pd.NA else int(v) for v in series.astype(object)], type=types[col.name]
            )
        elif col.kind == "ratings":
            arr = pa.array(
                [
                    None if v is None else {str(k): dict(per) for k, per in _plain(v).items()}
                    for v in series.tolist()
                ],
                type=types[col.name],
            )
        elif col.kind in ("ranking", "str_list"):
            arr = pa.array([_plain(v) for v in series.tolist()], type=types[col.name])
        else:
            arr = pa.array(series.tolist(), type=types[col.name])
        arrays.append(arr)
        fields.append(pa.field(col.name, types[col.name], nullable=col.nullable))
    for name in frame.columns:
        if name not in COLUMNS_BY_NAME:
            arr = pa.array([_plain(v) for v in frame[name].tolist()])
            arrays.append(arr)
            fields.append(pa.field(str(name), arr.type))
    meta = {b"rank_widget": json.dumps({"schema_version": SCHEMA_VERSION, "kind": "labels"}).encode()}
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))
    pq.write_table(table, path)


def read_labels(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a labels file written by ``write_labels`` (``.jsonl`` or ``.parquet``) into the canonical frame.

    Each row is checked for the shape of every field and for the values ``schema.validate_label`` allows
    (``schema.check_labels_frame``: the enumerations, strength/revision/rating ranges, non-empty ids, a
    ranking without repeated ids, a winner that agrees with the ranking, text without NUL characters or
    unpaired surrogates, every ``label_id`` once). A bad one raises ``LabelError`` (a ``ValueError``) naming
    the file, the line (JSONL, from 1) or row (Parquet, from 0), the label and the field. Nothing is returned
    half-read.
    """
    source = Path(path)
    kind = _file_kind(source)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such labels file")
    try:
        return _read_jsonl(source) if kind == "jsonl" else _read_parquet(source)
    except LabelError as exc:
        raise LabelError(
            exc.where, exc.field, f"{exc.problem} (fix or remove this label in the file; nothing was loaded)"
        ) from None


def _check_value(where: str, name: str, value: Any) -> None:
    col = COLUMNS_BY_NAME[name]
    if value is None:
        if not col.nullable:
            raise LabelError(where, name, "is missing (null); this field is required")
        return
    kind = col.kind
    ok: bool
    if kind == "str":
        ok = isinstance(value, str)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "datetime":
        ok = isinstance(value, str)
    elif kind == "str_list":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif kind == "ranking":
        ok = isinstance(value, list) and all(
            isinstance(g, list) and all(isinstance(r, str) for r in g) for g in value
        )
    else:
        ok = isinstance(value, dict) and all(
            isinstance(per, dict)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in per.values())
            for per in value.values()
        )
    if not ok:
        expected = {
            "str": "a string",
            "int": "an integer",
            "datetime": "an ISO time string",
            "str_list": "a list of strings",
            "ranking": "a list of lists of response ids",
            "ratings": "{response_id: {criterion: int}}",
        }[kind]
        raise LabelError(where, name, f"must be {expected}, got {json.dumps(value)[:80]}")


def _check_times(frame: pd.DataFrame, where: Callable[[int], str]) -> None:
    for name in DATETIME_COLUMNS:
        raw = frame[name]
        parsed = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce")
        bad = parsed.isna() & raw.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise LabelError(where(i), name, f"is not an ISO time: {raw.iloc[i]!r}")


def _column_ok(kind: str, nullable: bool, values: list[Any]) -> bool:
    """Fast whole-column shape check; on False the caller finds and names the bad row."""
    if kind in ("str", "datetime"):
        return all(type(v) is str or (v is None and nullable) for v in values)
    if kind == "int":
        return all(type(v) is int or (v is None and nullable) for v in values)
    if kind == "str_list":
        return all(type(v) is list and all(type(x) is str for x in v) for v in values)
    if kind == "ranking":
        return all(
            (v is None and nullable)
            or (type(v) is list and all(type(g) is list and all(type(r) is str for r in g) for g in v))
            for v in values
        )
    return all(
        v is None
        or (
            type(v) is dict
            and all(type(per) is dict and all(type(x) is int for x in per.values()) for per in v.values())
        )
        for v in values
    )


def _read_jsonl(path: Path) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    line_nos: list[int] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{path}: line {line_no}: not valid JSON ({exc.msg} at column {exc.colno})"
                ) from exc
            if not isinstance(rec, dict):
                raise ValueError(
                    f"{path}: line {line_no}: expected a JSON object (one label), got {type(rec).__name__}"
                )
            records.append(rec)
            line_nos.append(line_no)
    if not records:
        return empty_labels()

    def where(i: int) -> str:
        return f"{path} line {line_nos[i]} (label {records[i].get('label_id', '?')!r})"

    missing = object()
    columns: dict[str, list[Any]] = {}
    for col in COLUMNS:
        values = [rec.get(col.name, missing) for rec in records]
        if not _column_ok(col.kind, col.nullable, values):
            for i, value in enumerate(values):  # the slow path only runs to name the bad row
                if value is missing:
                    raise LabelError(
                        where(i), col.name, "is missing; every label line has every schema field"
                    )
                _check_value(where(i), col.name, value)
        columns[col.name] = values
    extra = list(dict.fromkeys(k for rec in records for k in rec if k not in COLUMNS_BY_NAME))
    for name in extra:
        columns[name] = [rec.get(name) for rec in records]
    frame = pd.DataFrame(
        {
            name: pd.Series(values, dtype=object)
            if name in COLUMNS_BY_NAME and COLUMNS_BY_NAME[name].kind not in ("int", "datetime")
            else values
            for name, values in columns.items()
        }
    )
    _check_times(frame, where)
    out = coerce_labels(frame)
    check_labels_frame(out, where)
    return out


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"{path}: not a readable Parquet file ({exc})") from exc
    types = _arrow_types()
    names = table.column_names
    for col in COLUMNS:
        if col.name not in names:
            raise LabelError(path.name, col.name, "column is missing; this is not a labels file")
        got = table.schema.field(col.name).type
        if not got.equals(types[col.name]) and not (col.kind == "str" and pa.types.is_large_string(got)):
            raise LabelError(path.name, col.name, f"has Arrow type {got}, expected {types[col.name]}")
    data: dict[str, Any] = {}
    label_ids = table.column("label_id").to_pylist()

    def where(i: int) -> str:
        return f"{path} row {i} (label {label_ids[i]!r})"

    for col in COLUMNS:
        chunked = table.column(col.name)
        if not col.nullable and chunked.null_count:
            i = int(np.flatnonzero(chunked.is_null().to_numpy(zero_copy_only=False))[0])
            raise LabelError(where(i), col.name, "is missing (null); this field is required")
        if col.kind == "datetime":
            data[col.name] = chunked.to_pandas()
        elif col.kind == "ratings":
            data[col.name] = [
                None if v is None else {k: dict(per) for k, per in v} for v in chunked.to_pylist()
            ]
        else:
            data[col.name] = chunked.to_pylist()
    frame = pd.DataFrame(
        {
            name: pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
            for name, values in data.items()
        }
    )
    extra = [n for n in names if n not in COLUMNS_BY_NAME]
    if extra:
        frame = pd.concat([frame, table.select(extra).to_pandas()], axis=1)
    out = coerce_labels(frame)
    check_labels_frame(out, where)
    return out
