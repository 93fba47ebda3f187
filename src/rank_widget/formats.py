"""Label formats: import existing labels into the label schema, export to training formats, and files.

- ``import_labels``: labels that already exist elsewhere (a spreadsheet with one column per annotator, a long
  table with one row per judgement, an LLM judge's verdicts) -> the canonical labels DataFrame.
- ``to_trl``: labels + items -> TRL's preference format (``prompt``/``chosen``/``rejected``) with provenance.
- ``write_labels`` / ``read_labels``: JSONL and Parquet files that round-trip every field exactly.

Column names and rules come from ``schema`` (defined once there).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import label_import as li
from .gc_pause import gc_paused
from .schema import (
    COLUMNS,
    COLUMNS_BY_NAME,
    DATETIME_COLUMNS,
    MAX_ID_CHARS,
    SCHEMA_VERSION,
    SOURCES,
    TIE,
    LabelError,
    check_labels_frame,
    coerce_labels,
    current_labels,
    empty_labels,
    pairwise_to_ranking,
    text_problem,
)

__all__ = ["import_labels", "read_labels", "to_trl", "write_labels"]


# ---------------------------------------------------------------------------------------------------------
# Import (the column-at-a-time machinery lives in label_import)


def import_labels(
    df: pd.DataFrame,
    *,
    item_id: str | None = None,
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
    blank: str = "no_label",
    errors: str = "raise",
    items: pd.DataFrame | None = None,
    prompt: str | None = None,
) -> pd.DataFrame:
    """Existing labels -> the canonical labels DataFrame (checked by ``schema.validate_label``'s rules).

    Wide form (one column per annotator, one row per item)::

        import_labels(df, item_id="idx", annotators=["annotator1", "annotator2", "annotator3"],
                      coding={0: "tie", 1: "response1", 2: "response2"})

    Long form (one row per judgement): ``annotator=`` names the annotator column and ``label=`` the column
    holding the verdict: ``import_labels(df, item_id="item", annotator="worker", label="choice")``.

    - ``item_id``: the column holding each row's item id. Or ``items=``: the DataFrame ``load_items`` made
      from these same rows (row-aligned); the ids are taken from it, so long-text keys (AlpacaEval's
      ``instruction``) need no id column. Each row's prompt (column ``prompt=``, default the first of
      ``prompt, instruction, question, query, input, chosen, conversation_a, turns``) is checked against its
      item's; a mismatch raises ``ValueError`` naming the first rows. Rows ``load_items`` left out (listed in
      ``items.attrs["rejected"]``) are left out here too.
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
    - ``unknown``: what a code missing from ``coding`` does: ``"error"`` (default: a bad cell) or
      ``"skip"``: an unparsed verdict (an LLM judge whose output could not be read), kept as below.
    - ``blank``: a blank cell (NaN, None, ``""``) is ``"no_label"`` (default: the annotator did not label
      this item) or ``"unparsed"`` (a judge's verdict that did not parse, e.g. AlpacaEval's ``preference``
      None), kept as below.
    - ``errors``: ``"raise"`` (default) raises ``LabelError`` (a ``ValueError``) listing every bad cell (the
      first 20 and a count) with its row, column and reason, and imports nothing; ``"skip"`` leaves the bad
      cells out (the row's other cells still import) and warns with the count; ``"collect"`` does the same
      and lists them in ``labels.attrs["rejected"]``; ``rank_widget.rejected_rows(labels)`` shows them as a
      DataFrame (``row``, ``item_id``, ``field``, ``reason``).

    Unparsed verdicts are kept, visibly: a label with ``status="skipped"``, ``flags=["unparsed"]`` and the
    raw value in ``flag_note``; ``labels.attrs["unparsed"]`` counts them per annotator (every annotator
    listed, 0 when none) and ``attrs["skipped"]`` lists ``(row, column, value)`` of each.
    ``quality.judge_agreement(..., unparsed=...)`` decides how they count. Label ids are deterministic
    (``"imp-"`` + a hash of source, item and annotator), so re-importing into a store does not duplicate.
    """
    li.check_args(df, task=task, source=source, unknown=unknown, errors=errors, blank=blank)
    if (item_id is None) == (items is None):
        raise ValueError(
            "give item_id='column' (the column holding each row's item id) or items=load_items(same rows)"
        )
    if item_id is not None and item_id not in df.columns:
        raise ValueError(f"item_id={item_id!r} is not a column; the columns are {list(df.columns)}")
    if (annotator is not None) == (annotators is not None):
        raise ValueError(
            "give either annotators=[columns] (wide: one column per annotator) or "
            "annotator='column' with label='column' (long: one row per judgement)"
        )
    if annotator is not None:
        slots = [li.long_slot(df, annotator, label, rationale)]
    else:
        assert annotators is not None
        slots = li.wide_slots(df, annotators, rationale)
    codes = li.normalise_coding(coding, "coding") if coding is not None else None
    li.check_strength_arg(strength)
    spec = li.Spec(
        task=task,
        source=source,
        guideline_version=_guideline(guideline_version),
        codes=codes,
        strengths=li.normalise_coding(strength, "strength") if isinstance(strength, Mapping) else None,
        fixed_strength=None if isinstance(strength, Mapping) or strength is None else int(strength),
        response_ids=li.response_ids_for(task, responses, codes),
        skip_unknown=unknown == "skip" and task == "pairwise",
        blank_unparsed=blank == "unparsed",
    )
    with gc_paused():
        problems = li.Problems()
        times = li.submitted_times(df, submitted_at, problems)
        if items is not None:
            ids = li.ids_from_items(df, items, prompt)
        else:
            assert item_id is not None
            ids = li.item_ids(df, item_id, problems)
        row_ok = np.array([i is not None for i in ids], dtype=bool)
        parts = [li.slot_cells(df, slot, spec, ids, row_ok, problems) for slot in slots]
        out, rows = li.assemble(parts, spec, ids, times, problems, slots)
    out = li.finish(out, problems, ids, errors)
    names = [s.fixed_name for s in slots if s.name_col is None] or sorted(set(out["annotator"]))
    out.attrs["unparsed"] = li.unparsed_counts(out, names)
    unparsed = out["status"].eq("skipped").to_numpy() if len(out) else np.zeros(0, dtype=bool)
    value_col = {s.value_col for s in slots}
    col = next(iter(value_col)) if len(value_col) == 1 else None
    out.attrs["skipped"] = [
        (int(r), col or _column_of(out, i, slots), _raw_cell(df, int(r), col or _column_of(out, i, slots)))
        for i, r in zip(np.flatnonzero(unparsed).tolist(), rows[unparsed].tolist(), strict=True)
    ]
    return out


def _guideline(value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value)
    if not text or len(text) > MAX_ID_CHARS or text_problem(text) is not None:
        raise LabelError(
            "import_labels",
            "guideline_version",
            f"must be a non-empty id of at most {MAX_ID_CHARS} characters",
        )
    return text


def _column_of(out: pd.DataFrame, i: int, slots: Sequence[li.Slot]) -> str:
    who = out["annotator"].iat[i]
    return next((s.value_col for s in slots if s.fixed_name == who), slots[0].value_col)


def _raw_cell(df: pd.DataFrame, row: int, column: str) -> Any:
    value = df[column].iat[row]
    return value.item() if isinstance(value, np.generic) else value


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
