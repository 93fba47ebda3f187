"""The audit's per-item index: one row per labelled item, most contested first; filters, paging, search and
the payloads the view gets (a page of rows, one opened item).

Pure: built from an items frame and a labels frame, no widget and no store, so it can be tested and measured
on its own (benchmarks/bench_audit.py drives it through the widget on 100,000 labels). Filter values are
checked here because both the Python API and the view's ``filter`` message set them.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import pandas as pd

from .. import schema
from .._protocol import Rejected, did_you_mean, map_ids, map_label_ids, wire_ids, wire_outcome

# Filters the view may set: name -> kind. Label filters keep an item when one of its current labels matches
# every label filter at once; the others are per item.
LABEL_FILTERS = ("annotator", "flag", "task", "criterion", "guideline_version", "source")
ITEM_FILTERS = ("model", "search", "show")
FILTERS = LABEL_FILTERS + ITEM_FILTERS
JUDGE_SHOW = (
    "human majority ≠ judge"  # an LLM judge's verdict differs from the human majority (docs/judges.md)
)
SHOW = ("all", "disagreements", "flagged", "unadjudicated", "adjudicated", JUDGE_SHOW)
MAX_OPTIONS = 500  # distinct values offered per filter drop-down
MAX_SEARCH_CHARS = 200
MAX_SNIPPET = 160
NO_VERSION = "(none)"  # how labels without a guideline version are filtered / shown
ITEM_COLUMNS = (
    "item_id",
    "task",
    "n_labels",
    "n_annotators",
    "disagreement",
    "entropy",
    "majority",
    "majority_share",
    "outcomes",
    "flags",
    "adjudicated",
)
_NO_ROWS = np.array([], dtype=np.int64)


# -- pure helpers -------------------------------------------------------------------------------------------


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while indexing: 100,000 labels make millions of small lists and dicts, and the
    collector's passes over them cost more than the indexing itself."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def json_scalar(value: Any) -> Any:
    """JSON-safe scalar: NaN / NA / NaT -> None, numpy scalars -> Python."""
    if value is None:
        return None
    if isinstance(value, (list, dict, str, bool)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def prompt_text(prompt: Any) -> str:
    """The prompt as one string (a chat's turns joined), for snippets and search."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, (list, tuple)):
        return "\n".join(str(t.get("content", "")) for t in prompt if isinstance(t, Mapping))
    return "" if prompt is None else str(prompt)


def majority_ranking(
    rankings: Sequence[Sequence[Sequence[str]]], response_ids: Sequence[str]
) -> list[list[str]]:
    """The adjudication prefill: the most common full ranking; when none is most common, responses ordered by
    mean rank (equal means tied). ``response_ids`` in item order breaks nothing: ties stay ties."""
    keys = [tuple(tuple(sorted(g)) for g in r) for r in rankings if r]
    if not keys:
        return [list(response_ids)]
    counts = Counter(keys).most_common()
    if len(counts) == 1 or counts[0][1] > counts[1][1]:
        return [list(g) for g in counts[0][0]]
    total: dict[str, float] = dict.fromkeys(response_ids, 0.0)
    for r in rankings:
        for rid, rank in schema.rank_of(r).items():
            total[rid] = total.get(rid, 0.0) + rank
    means = {rid: round(total.get(rid, 0.0) / len(keys), 9) for rid in response_ids}
    out: list[list[str]] = []
    for value in sorted(set(means.values())):
        out.append([rid for rid in response_ids if means[rid] == value])
    return out


def ranking_text(ranking: Any) -> str:
    if not ranking:
        return ""
    return " > ".join(" = ".join(g) for g in ranking)


def default_filters() -> dict[str, Any]:
    return {**dict.fromkeys(FILTERS), "show": "all", "search": ""}


def check_filters(proposed: Any) -> dict[str, Any]:
    """Filters as the index takes them (every name, unset ones None), or Rejected naming the bad one."""
    if not isinstance(proposed, Mapping):
        raise Rejected("filters", f"must be an object, got {type(proposed).__name__}")
    unknown = sorted(set(proposed) - set(FILTERS))
    if unknown:
        close = did_you_mean(str(unknown[0]), FILTERS)
        hint = f"; did you mean {close!r}?" if close else ""
        raise Rejected("filters", f"{str(unknown[0])[:40]!r} is not a filter{hint} Filters: {list(FILTERS)}")
    clean = default_filters()
    for key, value in proposed.items():
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise Rejected(key, f"must be a string or null, got {type(value).__name__}")
        if key == "search":
            if len(value) > MAX_SEARCH_CHARS:
                raise Rejected("search", f"is {len(value)} characters; the limit is {MAX_SEARCH_CHARS}")
        elif key == "show":
            if value not in SHOW:
                raise Rejected("show", f"must be one of {list(SHOW)}, got {value[:40]!r}")
        elif len(value) > schema.MAX_ID_CHARS:
            raise Rejected(key, f"is longer than {schema.MAX_ID_CHARS} characters")
        clean[key] = value
    return clean


def page_bounds(n: int, page: int, page_size: int) -> tuple[int, int]:
    """The page clamped to the pages there are, and the first row on it."""
    last = max(0, math.ceil(n / page_size) - 1)
    p = min(max(page, 0), last)
    return p, p * page_size


def item_rows(items: pd.DataFrame) -> pd.Index[Any]:
    """item id -> row of ``items``; refuses repeated ids."""
    rows = pd.Index(items["item_id"].astype(object))
    if not rows.is_unique:
        raise ValueError("items has repeated item_id values; item ids must be unique")
    return rows


def label_payload(r: Mapping[Any, Any]) -> dict[str, Any]:
    """One current label as the opened item shows it."""
    return {
        "label_id": r["label_id"],
        "annotator": r["annotator"],
        "source": r["source"],
        "status": r["status"],
        "ranking": r["ranking"],
        "winner": json_scalar(r["winner"]),
        "strength": json_scalar(r["strength"]),
        "ratings": r["ratings"] or {},
        "rationale": r["rationale"] or "",
        "flags": list(r["flags"] or []),
        "flag_note": r["flag_note"] or "",
        "display_order": list(r["display_order"] or []),
        "guideline_version": json_scalar(r["guideline_version"]),
        "revision": int(r["revision"]),
        "submitted_at": json_scalar(r["submitted_at"]),
        "active_ms": json_scalar(r["active_ms"]),
    }


def _history_payload(r: Mapping[Any, Any], ids: Mapping[str, str]) -> dict[str, Any]:
    return {
        "label_id": r["label_id"],
        "annotator": r["annotator"],
        "source": r["source"],
        "revision": int(r["revision"]),
        "status": r["status"],
        "outcome": ranking_text(map_ids(r["ranking"], ids)),
        "supersedes": json_scalar(r["supersedes"]),
        "submitted_at": json_scalar(r["submitted_at"]),
    }


# -- the index ----------------------------------------------------------------------------------------------


class AuditIndex:
    """Every labelled item in audit order with what filtering and paging need, built once per labels frame.

    ``table`` has one row per labelled item (``ITEM_COLUMNS``), most contested first. New adjudications are
    added with ``add`` (they change no vote, so not the order).
    """

    def __init__(self, items: pd.DataFrame, labels: pd.DataFrame, rows: pd.Index[Any] | None = None) -> None:
        from ..quality.interrater import disagreement_scores

        self.items = items
        self.item_row = item_rows(items) if rows is None else rows
        unknown = sorted(set(labels["item_id"]) - set(self.item_row))
        if unknown:
            raise ValueError(
                f"labels name {len(unknown)} item(s) not in items, e.g. {unknown[:3]}; pass the "
                "items the labels were made on"
            )
        with gc_paused():
            self.labels = labels.reset_index(drop=True)
            self.pending: list[dict[str, Any]] = []  # adjudications not yet in the frames (add)
            self._by_item: dict[str, Any] = dict(self.labels.groupby("item_id", sort=False).indices)  # type: ignore[arg-type, unused-ignore]
            self.current = schema.current_labels(self.labels).reset_index(drop=True)
            self.table, order = _item_table(self.current, disagreement_scores(self.labels))
            self.rank = pd.Series(np.arange(len(order)), index=pd.Index(order, dtype=object))
            # current label -> its item's list row
            self._cur_pos = self.rank.index.get_indexer(pd.Index(self.current["item_id"]))
            self._criteria: dict[str, np.ndarray] | None = None  # criterion -> current-label rows (lazily)
            self._models: dict[str, np.ndarray] | None = None  # model -> list rows (lazily)
            self._texts: dict[str, str] | None = None  # item -> searchable text (lazily)
            self._rationales: np.ndarray = np.array([], dtype=object)
            self.options = self._filter_options()

    def __contains__(self, item_id: object) -> bool:
        """Whether the item has labels (is in the list)."""
        return isinstance(item_id, str) and item_id in self.rank.index

    def position(self, item_id: str) -> int:
        """The item's place in the audit order (0 = most contested)."""
        return int(self.rank[item_id])

    # -- lazily built lookups ----------------------------------------------------------------------------

    def _filter_options(self) -> dict[str, list[str]]:
        c = self.current

        def top(values: pd.Series) -> list[str]:
            counts = values.dropna().astype(str).value_counts()
            return sorted(counts.index[:MAX_OPTIONS])

        flags = c["flags"].explode()
        gv = c["guideline_version"].astype(object).where(c["guideline_version"].notna(), NO_VERSION)
        criteria = {crit for ratings in c["ratings"].dropna() for per in ratings.values() for crit in per}
        models: set[str] = set()
        first = self.items["responses"]
        for responses in first.iloc[: min(len(first), 20_000)]:  # a sample is enough for the drop-down
            for r in responses:
                m = r.get("model")
                if isinstance(m, str) and m:
                    models.add(m)
        return {
            "annotator": top(c["annotator"]),
            "flag": top(flags),
            "task": top(c["task"]),
            "criterion": sorted(criteria)[:MAX_OPTIONS],
            "guideline_version": top(gv),
            "model": sorted(models)[:MAX_OPTIONS],
            "source": top(c["source"]),
            "show": list(SHOW),
        }

    def _model_items(self) -> dict[str, np.ndarray]:
        """model -> list rows of the items with a response by it (built on first use)."""
        if self._models is None:
            found: dict[str, list[int]] = {}
            pos = self.rank.index.get_indexer(pd.Index(self.items["item_id"]))
            with gc_paused():
                for p, responses in zip(pos, self.items["responses"], strict=True):
                    if p < 0:
                        continue
                    for m in {r.get("model") for r in responses}:
                        if isinstance(m, str) and m:
                            found.setdefault(m, []).append(int(p))
            self._models = {m: np.asarray(v, dtype=np.int64) for m, v in found.items()}
        return self._models

    def _label_criteria(self) -> dict[str, np.ndarray]:
        """criterion -> rows of the current labels rating on it (built on first use)."""
        if self._criteria is None:
            found: dict[str, list[int]] = {}
            with gc_paused():
                for i, r in enumerate(self.current["ratings"]):
                    if isinstance(r, Mapping):
                        for crit in {c for per in r.values() for c in per}:
                            found.setdefault(crit, []).append(i)
            self._criteria = {c: np.asarray(v, dtype=np.int64) for c, v in found.items()}
        return self._criteria

    def _text_of(self, item_id: str) -> str:
        if self._texts is None:
            self._texts = {}
            self._rationales = self.labels["rationale"].to_numpy(dtype=object)
        text = self._texts.get(item_id)
        if text is None:
            prompt, responses = self.item(item_id)
            parts = [item_id, prompt_text(prompt)]
            parts += [str(r.get("text", "")) for r in responses]
            rows = self._by_item.get(item_id)
            if rows is not None:
                parts += [str(v) for v in self._rationales[rows] if v]
            parts += [str(r["rationale"]) for r in self.pending if r["item_id"] == item_id]
            text = "\n".join(parts).casefold()
            self._texts[item_id] = text
        return text

    # -- filtering and paging ----------------------------------------------------------------------------

    def _mark(self, positions: np.ndarray) -> np.ndarray:
        """List rows -> a boolean mask over the list (numpy: Arrow-backed str isin was 10x slower)."""
        hit = np.zeros(len(self.table), dtype=bool)
        hit[positions[positions >= 0]] = True
        return hit

    def _label_mask(self, f: Mapping[str, Any]) -> np.ndarray:
        """The list rows with a current label matching every label filter in ``f``."""
        self.fold_pending()
        c = self.current
        m = np.ones(len(c), dtype=bool)
        for col in ("annotator", "task", "source"):
            if f.get(col):
                m &= (c[col] == f[col]).to_numpy(dtype=bool)
        if f.get("guideline_version"):
            want = f["guideline_version"]
            gv = c["guideline_version"]
            m &= (gv.isna() if want == NO_VERSION else gv == want).to_numpy(dtype=bool)
        if f.get("flag"):
            m &= c["flags"].map(lambda fl: f["flag"] in fl).to_numpy(dtype=bool)
        if f.get("criterion"):
            rated = np.zeros(len(c), dtype=bool)
            rated[self._label_criteria().get(f["criterion"], _NO_ROWS)] = True
            m &= rated
        return self._mark(self._cur_pos[m])

    def _show_mask(self, show: str) -> np.ndarray | None:
        t = self.table
        if show == "disagreements":
            return (t["disagreement"] > 0).to_numpy(dtype=bool)
        if show == "flagged":
            return (t["flags"].map(len) > 0).to_numpy(dtype=bool)
        if show == "unadjudicated":
            return ~t["adjudicated"].to_numpy(dtype=bool)
        if show == "adjudicated":
            return t["adjudicated"].to_numpy(dtype=bool)
        if show == JUDGE_SHOW:
            return t["item_id"].isin(judge_disagrees(self.current)).to_numpy(dtype=bool)
        return None

    def filtered(self, filters: Mapping[str, Any]) -> pd.DataFrame:
        """The items passing ``filters`` (as ``check_filters`` returns them), most contested first."""
        f = filters
        keep = np.ones(len(self.table), dtype=bool)
        if any(f.get(k) for k in LABEL_FILTERS):
            keep &= self._label_mask(f)
        if f.get("model"):
            keep &= self._mark(self._model_items().get(f["model"], _NO_ROWS))
        shown = self._show_mask(f.get("show") or "all")
        if shown is not None:
            keep &= shown
        out = self.table[keep]
        needle = (f.get("search") or "").strip().casefold()
        if needle:
            with gc_paused():  # the first search builds the texts of the candidate items
                out = out[[needle in self._text_of(i) for i in out["item_id"]]]
        return out.reset_index(drop=True)

    def row_payload(self, r: Mapping[Any, Any]) -> dict[str, Any]:
        """One row of the visible page."""
        iid = r["item_id"]
        prompt, responses = self.item(iid)
        text = prompt_text(prompt)
        ids = wire_ids([str(x["response_id"]) for x in responses])
        outcomes = r["outcomes"] if isinstance(r["outcomes"], Mapping) else {}
        top = {wire_outcome(k, ids): v for k, v in sorted(outcomes.items(), key=lambda kv: -kv[1])[:5]}
        return {
            "item_id": iid,
            "rank": self.position(iid) + 1,
            "task": json_scalar(r["task"]),
            "snippet": text[:MAX_SNIPPET],
            "n_labels": int(r["n_labels"]),
            "n_annotators": int(r["n_annotators"]),
            "disagreement": json_scalar(r["disagreement"]),
            "majority": wire_outcome(json_scalar(r["majority"]), ids),
            "majority_share": json_scalar(r["majority_share"]),
            "outcomes": {str(k): int(v) for k, v in top.items()},
            "flags": list(r["flags"])[:10],
            "adjudicated": bool(r["adjudicated"]),
        }

    # -- one item ----------------------------------------------------------------------------------------

    def item(self, item_id: str) -> tuple[Any, list[dict[str, Any]]]:
        """An item's prompt and responses."""
        row = cast(int, self.item_row.get_loc(item_id))  # an int: item ids are unique (item_rows)
        prompt: Any = self.items["prompt"].iat[row]
        responses: Any = self.items["responses"].iat[row]
        return prompt, list(responses)

    def response_ids(self, item_id: str) -> list[str]:
        return [str(r["response_id"]) for r in self.item(item_id)[1]]

    def wire_ids(self, item_id: str) -> dict[str, str]:
        """Real response id -> the id the view gets (``r1..rN`` in the item's order; docs/audit.md)."""
        return wire_ids(self.response_ids(item_id))

    def task_of(self, item_id: str, rids: Sequence[str]) -> str:
        """The task an adjudication of the item is: its labels' task, pairwise only for two responses."""
        t = self.table.iloc[self.position(item_id)]["task"]
        if isinstance(t, str) and t in schema.TASKS:
            return "pairwise" if t == "pairwise" and len(rids) == 2 else "ranking"
        return "pairwise" if len(rids) == 2 else "ranking"

    def item_labels(self, item_id: str) -> pd.DataFrame:
        """Every revision of every label on one item (adjudications included), oldest first."""
        rows = self._by_item.get(item_id)
        base = schema.empty_labels() if rows is None else self.labels.iloc[np.sort(rows)]
        extra = [r for r in self.pending if r["item_id"] == item_id]
        if extra:
            base = pd.concat([base, schema.labels_frame(extra)], ignore_index=True)
        return base.reset_index(drop=True)

    def detail(self, item_id: str, *, wire: bool = True) -> dict[str, Any]:
        """The opened item: prompt, responses with models, every current label, the majority, the history.
        Response ids are the view's (``r1..rN`` in the item's order), or with ``wire=False`` the real ones."""
        prompt, raw = self.item(item_id)
        real = [str(r["response_id"]) for r in raw]
        ids = wire_ids(real) if wire else {r: r for r in real}
        responses = [
            {
                "response_id": ids[str(r["response_id"])],
                "text": str(r.get("text", "")),
                "model": r.get("model") if isinstance(r.get("model"), str) else None,
            }
            for r in raw
        ]
        rids = list(ids)
        every = self.item_labels(item_id)
        current = schema.current_labels(every)
        # annotators first (by name), adjudications last
        shown: list[dict[Any, Any]] = (
            current.assign(_adj=current["source"] == "adjudication")
            .sort_values(["_adj", "annotator", "source"], kind="stable")
            .to_dict("records")
        )
        return {
            "item_id": item_id,
            "task": self.task_of(item_id, rids),
            "prompt": prompt
            if isinstance(prompt, str)
            else [{"role": str(x.get("role", "")), "content": str(x.get("content", ""))} for x in prompt],
            "responses": responses,
            "labels": [map_label_ids(label_payload(r), ids) for r in shown],
            "majority": self._majority(item_id, current, rids, ids),
            "history": [_history_payload(r, ids) for r in every.to_dict("records")],
        }

    def _majority(
        self, item_id: str, current: pd.DataFrame, rids: list[str], ids: Mapping[str, str]
    ) -> dict[str, Any]:
        votes = current[(current["source"] != "adjudication") & (current["status"] == "submitted")]
        # an annotator with an imported and a widget label counts once: the later one
        votes = votes.sort_values("submitted_at", kind="stable").drop_duplicates("annotator", keep="last")
        prefill = majority_ranking(list(votes["ranking"]), rids)
        t = self.table.iloc[self.position(item_id)]
        strengths = [int(s) for s in votes["strength"].dropna()]
        return {
            "outcome": wire_outcome(json_scalar(t["majority"]), ids),
            "share": json_scalar(t["majority_share"]),
            "disagreement": json_scalar(t["disagreement"]),
            "ranking": map_ids(prefill, ids),
            "strength": int(np.median(strengths)) if strengths and len(prefill) > 1 else None,
        }

    # -- new adjudications -------------------------------------------------------------------------------

    def add(self, label: dict[str, Any]) -> None:
        """Note a new (validated, stored) adjudication without rebuilding.

        It waits in ``pending`` and is folded into the 100,000-row frames only when a label filter or
        ``adjudications`` needs it: copying those frames per adjudication cost more than the durable write.
        """
        self.pending.append(label)
        iid = str(label["item_id"])
        self.table.loc[self.table.index[self.position(iid)], "adjudicated"] = True
        if self._texts is not None:
            self._texts.pop(iid, None)

    def fold_pending(self) -> None:
        if not self.pending:
            return
        frame = schema.labels_frame(self.pending)
        start = len(self.labels)
        self.labels = pd.concat([self.labels, frame], ignore_index=True)
        for k, iid in enumerate(frame["item_id"]):
            self._by_item[iid] = np.append(self._by_item.get(iid, np.array([], dtype=np.int64)), start + k)
        self.current = schema.current_labels(pd.concat([self.current, frame], ignore_index=True)).reset_index(
            drop=True
        )
        self._cur_pos = self.rank.index.get_indexer(pd.Index(self.current["item_id"]))
        self._criteria = None
        self._texts = None  # row numbers moved on: rebuild on the next search
        self.pending = []

    def adjudications(self) -> pd.DataFrame:
        """Every adjudication (all revisions) in the index."""
        self.fold_pending()
        return self.labels[self.labels["source"] == "adjudication"].reset_index(drop=True)


def judge_disagrees(current: pd.DataFrame) -> set[str]:
    """Items where a judge's current verdict (``source="judge"``) differs from the human majority (the single
    most common outcome of the other sources' current labels, adjudications left out)."""
    from ..quality.interrater import outcome_string

    c = current[current["status"] == "submitted"]
    if c.empty:
        return set()
    outcome = pd.Series(
        [outcome_string(t, w, r) for t, w, r in zip(c["task"], c["winner"], c["ranking"], strict=True)],
        index=c.index,
        dtype=object,
    )
    is_judge = (c["source"] == "judge").to_numpy()
    human = ~is_judge & (c["source"] != "adjudication").to_numpy()
    counts = pd.crosstab(c.loc[human, "item_id"], outcome[human])
    if counts.empty:
        return set()
    top = counts.max(axis=1)
    unique = (counts.eq(top, axis=0)).sum(axis=1) == 1
    majority = counts.idxmax(axis=1)[unique]
    judged = pd.DataFrame({"item_id": c.loc[is_judge, "item_id"], "outcome": outcome[is_judge]})
    judged = judged[judged["item_id"].isin(majority.index)]
    differs = judged["outcome"].to_numpy() != majority.reindex(judged["item_id"]).to_numpy()
    return set(judged.loc[differs, "item_id"])


def _item_table(current: pd.DataFrame, scores: pd.DataFrame) -> tuple[pd.DataFrame, list[Any]]:
    """One row per labelled item (``ITEM_COLUMNS``) in audit order, and that order."""
    scores = scores.set_index("item_id")
    labelled = pd.unique(current["item_id"])
    rest = [i for i in labelled if i not in scores.index]  # only skipped/adjudicated labels
    order = list(scores.index) + sorted(rest)
    table = scores.reindex(order)
    table.index.name = "item_id"
    c = current
    voters = c[c["source"] != "adjudication"]
    table["n_annotators"] = voters.groupby("item_id")["annotator"].nunique().reindex(order).fillna(0)
    table["task"] = c.groupby("item_id")["task"].first().reindex(order)
    flagged = voters[voters["flags"].map(len) > 0]
    flags_of = flagged.groupby("item_id")["flags"].agg(lambda s: sorted({f for fl in s for f in fl}))
    table["flags"] = flags_of.reindex(order)
    table["flags"] = table["flags"].map(lambda v: v if isinstance(v, list) else [])
    adjudicated = set(c.loc[c["source"] == "adjudication", "item_id"])
    table["adjudicated"] = [i in adjudicated for i in order]
    table["n_labels"] = voters.groupby("item_id").size().reindex(order).fillna(0).astype("int64")
    return table.reset_index()[list(ITEM_COLUMNS)], order
