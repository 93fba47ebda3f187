"""AuditWidget: review labels item by item, most contested first; adjudicate and re-queue (issue 5).

Python holds the labels and does the ordering, filtering and paging; only the visible page (and the one item
opened) crosses the wire, so the view stays quick on 100,000 labels. Every message from the view is validated
here. An adjudication is a label with ``source="adjudication"`` by the adjudicator: it never supersedes or
changes anyone's label. Re-queued items go to a named queue in the store (``rank_widget.store.queues``) that
``RankWidget(items, store=..., queue=name)`` opens on. The wire protocol is in docs/audit.md.
"""

from __future__ import annotations

import difflib
import gc
import logging
import math
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import pandas as pd
import traitlets

from . import schema
from .schema import LabelError, LabelRules
from .widget import _CSS, _JS, _annotator, _ensure_static, _items_frame, _static_or_none

if TYPE_CHECKING:
    from .store import AppendResult, Store

log = logging.getLogger(__name__)

# Filters the view may set: name -> kind. Label filters keep an item when one of its current labels matches
# every label filter at once; the others are per item.
LABEL_FILTERS = ("annotator", "flag", "task", "criterion", "guideline_version", "source")
ITEM_FILTERS = ("model", "search", "show")
FILTERS = LABEL_FILTERS + ITEM_FILTERS
SHOW = ("all", "disagreements", "flagged", "unadjudicated", "adjudicated")
MAX_PAGE_SIZE = 200
MAX_OPTIONS = 500  # distinct values offered per filter drop-down
MAX_SEARCH_CHARS = 200
MAX_SNIPPET = 160
MAX_MESSAGE_CHARS = 64_000
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


class Rejected(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# -- pure helpers -------------------------------------------------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while indexing: 100,000 labels make millions of small lists and dicts, and the
    collector's passes over them cost more than the indexing itself."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _none(value: Any) -> Any:
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


def _ranking_text(ranking: Any) -> str:
    if not ranking:
        return ""
    return " > ".join(" = ".join(g) for g in ranking)


# -- the widget ---------------------------------------------------------------------------------------------


class AuditWidget(anywidget.AnyWidget):
    """Audit labels in a notebook: items most contested first, filters, each annotator's label side by side,
    adjudication and re-queueing.

    ``AuditWidget(items, labels_or_store, *, adjudicator=None, store=None, page_size=20,
    rationale_required=True)``. ``labels_or_store`` is a labels DataFrame or a store (path, URL or Store).
    Adjudications and queues are written to that store; with a DataFrame, to ``store`` (in memory unless
    given). See docs/audit.md.
    """

    _esm = _static_or_none(_JS)
    _css = _static_or_none(_CSS)

    _view = traitlets.Unicode("audit").tag(sync=True)  # the one bundle dispatches on this
    config = traitlets.Dict().tag(sync=True)
    filters = traitlets.Dict().tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(20).tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    detail = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        items: Any,
        labels_or_store: Any,
        *,
        adjudicator: str | None = None,
        store: Any = None,
        page_size: int = 20,
        rationale_required: bool = True,
        **unknown: Any,
    ) -> None:
        if unknown:
            name = sorted(unknown)[0]
            options = ("adjudicator", "store", "page_size", "rationale_required")
            close = difflib.get_close_matches(name, options, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(
                f"AuditWidget got an unexpected keyword argument {name!r}.{hint} "
                f"Valid options: {', '.join(options)}"
            )
        _ensure_static(type(self))
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 200:
            raise ValueError(f"page_size must be an integer 1..{MAX_PAGE_SIZE}, got {page_size!r}")
        if not isinstance(rationale_required, bool):
            raise TypeError(f"rationale_required must be True or False, got {rationale_required!r}")
        self.adjudicator = _annotator(adjudicator)
        self.rationale_required = rationale_required
        self.items = _items_frame(items)
        self._item_row = pd.Index(self.items["item_id"].astype(object))
        if not self._item_row.is_unique:
            raise ValueError("items has repeated item_id values; item ids must be unique")

        from .store import open_store

        self._fixed: pd.DataFrame | None = None
        if isinstance(labels_or_store, pd.DataFrame):
            self._fixed = schema.coerce_labels(labels_or_store)
            self.store: Store = open_store(":memory:" if store is None else store)
        else:
            if store is not None:
                raise TypeError("pass the store once: as labels_or_store, or store= with a labels DataFrame")
            if labels_or_store is None:
                raise TypeError("labels_or_store must be a labels DataFrame, a store path/URL or a Store")
            self.store = open_store(labels_or_store)
        self._opened_at: dict[str, datetime] = {}
        self._history: list[dict[str, Any]] = []
        with _gc_paused():
            self._build()
        super().__init__(page_size=page_size, filters=self._default_filters())
        self._apply()
        self.on_msg(self._on_custom_msg)

    # -- index ---------------------------------------------------------------------------------------------

    def _read_labels(self) -> pd.DataFrame:
        stored = self.store.labels()
        if self._fixed is None:
            return stored
        if stored.empty:
            return self._fixed
        return pd.concat([self._fixed, stored], ignore_index=True)

    def _build(self) -> None:
        """Everything filtering and paging need, computed once per (re)load of the labels."""
        from .quality.interrater import disagreement_scores

        labels = self._read_labels()
        unknown = sorted(set(labels["item_id"]) - set(self._item_row))
        if unknown:
            raise ValueError(
                f"labels name {len(unknown)} item(s) not in items, e.g. {unknown[:3]}; pass the "
                "items the labels were made on"
            )
        self._labels = labels.reset_index(drop=True)
        self._pending: list[dict[str, Any]] = []  # adjudications not yet in the frames (_add_label)
        self._by_item: dict[str, Any] = dict(self._labels.groupby("item_id", sort=False).indices)  # type: ignore[arg-type, unused-ignore]
        cur = schema.current_labels(self._labels)
        self._current = cur.reset_index(drop=True)
        scores = disagreement_scores(self._labels).set_index("item_id")
        labelled = pd.unique(self._current["item_id"])
        rest = [i for i in labelled if i not in scores.index]  # only skipped/adjudicated labels
        order = list(scores.index) + sorted(rest)
        table = scores.reindex(order)
        table.index.name = "item_id"
        c = self._current
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
        self._table = table.reset_index()[list(ITEM_COLUMNS)]
        self._rank = pd.Series(np.arange(len(order)), index=pd.Index(order, dtype=object))
        self._cur_pos = self._rank.index.get_indexer(pd.Index(self._current["item_id"]))  # label -> list row
        self._criteria: dict[str, np.ndarray] | None = None  # criterion -> current-label rows (lazily)
        self._models: dict[str, np.ndarray] | None = None  # model -> list rows (lazily)
        self._texts: dict[str, str] | None = None  # item -> searchable text (lazily)
        self._rationales: np.ndarray = np.array([], dtype=object)
        self._options = self._filter_options()

    def _filter_options(self) -> dict[str, list[str]]:
        c = self._current

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

    def _default_filters(self) -> dict[str, Any]:
        return {**dict.fromkeys(FILTERS), "show": "all", "search": ""}

    def _model_items(self) -> dict[str, np.ndarray]:
        """model -> list rows of the items with a response by it (built on first use)."""
        if self._models is None:
            found: dict[str, list[int]] = {}
            pos = self._rank.index.get_indexer(pd.Index(self.items["item_id"]))
            with _gc_paused():
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
            with _gc_paused():
                for i, r in enumerate(self._current["ratings"]):
                    if isinstance(r, Mapping):
                        for crit in {c for per in r.values() for c in per}:
                            found.setdefault(crit, []).append(i)
            self._criteria = {c: np.asarray(v, dtype=np.int64) for c, v in found.items()}
        return self._criteria

    def _text_of(self, item_id: str) -> str:
        if self._texts is None:
            self._texts = {}
            self._rationales = self._labels["rationale"].to_numpy(dtype=object)
        text = self._texts.get(item_id)
        if text is None:
            prompt, responses = self._item(item_id)
            parts = [item_id, prompt_text(prompt)]
            parts += [str(r.get("text", "")) for r in responses]
            rows = self._by_item.get(item_id)
            if rows is not None:
                parts += [str(v) for v in self._rationales[rows] if v]
            parts += [str(r["rationale"]) for r in self._pending if r["item_id"] == item_id]
            text = "\n".join(parts).casefold()
            self._texts[item_id] = text
        return text

    # -- filtering and paging ------------------------------------------------------------------------------

    def _mark(self, positions: np.ndarray) -> np.ndarray:
        """List rows -> a boolean mask over the list (numpy: Arrow-backed str isin was 10x slower)."""
        hit = np.zeros(len(self._table), dtype=bool)
        hit[positions[positions >= 0]] = True
        return hit

    def filtered(self) -> pd.DataFrame:
        """The items passing the current filters, most contested first (one row per item)."""
        f = self.filters
        t = self._table
        keep = np.ones(len(t), dtype=bool)
        if any(f.get(k) for k in LABEL_FILTERS):
            self._fold_pending()
            c = self._current
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
                rated[self._label_criteria().get(f["criterion"], np.array([], dtype=np.int64))] = True
                m &= rated
            keep &= self._mark(self._cur_pos[m])
        if f.get("model"):
            keep &= self._mark(self._model_items().get(f["model"], np.array([], dtype=np.int64)))
        show = f.get("show") or "all"
        if show == "disagreements":
            keep &= (t["disagreement"] > 0).to_numpy(dtype=bool)
        elif show == "flagged":
            keep &= (t["flags"].map(len) > 0).to_numpy(dtype=bool)
        elif show == "unadjudicated":
            keep &= ~t["adjudicated"].to_numpy(dtype=bool)
        elif show == "adjudicated":
            keep &= t["adjudicated"].to_numpy(dtype=bool)
        out = t[keep]
        needle = (f.get("search") or "").strip().casefold()
        if needle:
            with _gc_paused():  # the first search builds the texts of the candidate items
                out = out[[needle in self._text_of(i) for i in out["item_id"]]]
        return out.reset_index(drop=True)

    def set_filters(self, **filters: Any) -> None:
        """Set filters by name (None or "" clears one); the page goes back to the first."""
        self._set_filters({**self.filters, **filters})

    def _set_filters(self, proposed: Mapping[str, Any]) -> None:
        clean = self._check_filters(proposed)
        with self.hold_sync():
            self.filters = clean
            self._apply(page=0)

    def _check_filters(self, proposed: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(proposed, Mapping):
            raise Rejected("filters", f"must be an object, got {type(proposed).__name__}")
        unknown = sorted(set(proposed) - set(FILTERS))
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), FILTERS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise Rejected(
                "filters", f"{str(unknown[0])[:40]!r} is not a filter{hint} Filters: {list(FILTERS)}"
            )
        clean = self._default_filters()
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

    def goto_page(self, page: int) -> None:
        if isinstance(page, bool) or not isinstance(page, int):
            raise TypeError(f"page must be an integer, got {type(page).__name__}")
        self._apply(page=page)

    def _apply(self, page: int | None = None) -> None:
        """Recompute the filtered list and send the visible page only."""
        self._filtered = self.filtered()
        n = len(self._filtered)
        last = max(0, math.ceil(n / self.page_size) - 1)
        p = min(max(self.page if page is None else page, 0), last)
        lo = p * self.page_size
        with self.hold_sync():
            self.total = n
            self.page = p
            page_rows: list[dict[Any, Any]] = self._filtered.iloc[lo : lo + self.page_size].to_dict("records")
            self.rows = [self._row_payload(r) for r in page_rows]
            if not self.config:
                self.config = self._config()

    def _config(self) -> dict[str, Any]:
        return {
            "adjudicator": self.adjudicator,
            "options": self._options,
            "filters": list(FILTERS),
            "rationale_required": self.rationale_required,
            "max_rationale_chars": schema.MAX_RATIONALE_CHARS,
            "max_reason_chars": 2000,
        }

    def _row_payload(self, r: Mapping[Any, Any]) -> dict[str, Any]:
        iid = r["item_id"]
        text = prompt_text(self._item(iid)[0])
        outcomes = r["outcomes"] if isinstance(r["outcomes"], Mapping) else {}
        top = dict(sorted(outcomes.items(), key=lambda kv: -kv[1])[:5])
        return {
            "item_id": iid,
            "rank": int(self._rank[iid]) + 1,
            "task": _none(r["task"]),
            "snippet": text[:MAX_SNIPPET],
            "n_labels": int(r["n_labels"]),
            "n_annotators": int(r["n_annotators"]),
            "disagreement": _none(r["disagreement"]),
            "majority": _none(r["majority"]),
            "majority_share": _none(r["majority_share"]),
            "outcomes": {str(k): int(v) for k, v in top.items()},
            "flags": list(r["flags"])[:10],
            "adjudicated": bool(r["adjudicated"]),
        }

    @property
    def table(self) -> pd.DataFrame:
        """The filtered item list (all pages), most contested first."""
        return self._filtered.copy()

    # -- one item ------------------------------------------------------------------------------------------

    def item_labels(self, item_id: str) -> pd.DataFrame:
        """Every revision of every label on one item (adjudications included), oldest first."""
        rows = self._by_item.get(item_id)
        base = schema.empty_labels() if rows is None else self._labels.iloc[np.sort(rows)]
        extra = [r for r in self._pending if r["item_id"] == item_id]
        if extra:
            base = pd.concat([base, schema.labels_frame(extra)], ignore_index=True)
        return base.reset_index(drop=True)

    def open_item(self, item_id: str) -> dict[str, Any]:
        """Show one item in full (sets ``detail``) and return that payload."""
        if not isinstance(item_id, str) or item_id not in self._rank.index:
            raise KeyError(f"item {str(item_id)[:80]!r} has no labels to audit; check the id")
        payload = self._detail(item_id)
        self._opened_at[item_id] = datetime.now(timezone.utc)
        self.detail = payload
        return payload

    def close_item(self) -> None:
        self.detail = {}

    def _item(self, item_id: str) -> tuple[Any, list[dict[str, Any]]]:
        """An item's prompt and responses."""
        row = int(self._item_row.get_loc(item_id))
        prompt: Any = self.items["prompt"].iat[row]
        responses: Any = self.items["responses"].iat[row]
        return prompt, list(responses)

    def _response_ids(self, item_id: str) -> list[str]:
        return [str(r["response_id"]) for r in self._item(item_id)[1]]

    def _detail(self, item_id: str) -> dict[str, Any]:
        prompt, raw = self._item(item_id)
        responses = [
            {
                "response_id": str(r["response_id"]),
                "text": str(r.get("text", "")),
                "model": r.get("model") if isinstance(r.get("model"), str) else None,
            }
            for r in raw
        ]
        rids = [str(r["response_id"]) for r in responses]
        every = self.item_labels(item_id)
        current = schema.current_labels(every)
        votes = current[(current["source"] != "adjudication") & (current["status"] == "submitted")]
        # an annotator with an imported and a widget label counts once: the later one
        votes = votes.sort_values("submitted_at", kind="stable").drop_duplicates("annotator", keep="last")
        prefill = majority_ranking(list(votes["ranking"]), rids)
        t = self._table.iloc[int(self._rank[item_id])]
        strengths = [int(s) for s in votes["strength"].dropna()]
        task = self._detail_task(item_id, rids)
        # annotators first (by name), adjudications last
        shown: list[dict[Any, Any]] = (
            current.assign(_adj=current["source"] == "adjudication")
            .sort_values(["_adj", "annotator", "source"], kind="stable")
            .to_dict("records")
        )
        return {
            "item_id": item_id,
            "task": task,
            "prompt": prompt
            if isinstance(prompt, str)
            else [{"role": str(x.get("role", "")), "content": str(x.get("content", ""))} for x in prompt],
            "responses": responses,
            "labels": [self._label_payload(r) for r in shown],
            "majority": {
                "outcome": _none(t["majority"]),
                "share": _none(t["majority_share"]),
                "disagreement": _none(t["disagreement"]),
                "ranking": prefill,
                "strength": int(np.median(strengths)) if strengths and len(prefill) > 1 else None,
            },
            "history": [
                {
                    "label_id": r["label_id"],
                    "annotator": r["annotator"],
                    "source": r["source"],
                    "revision": int(r["revision"]),
                    "status": r["status"],
                    "outcome": _ranking_text(r["ranking"]),
                    "supersedes": _none(r["supersedes"]),
                    "submitted_at": _none(r["submitted_at"]),
                }
                for r in every.to_dict("records")
            ],
        }

    @staticmethod
    def _label_payload(r: Mapping[Any, Any]) -> dict[str, Any]:
        return {
            "label_id": r["label_id"],
            "annotator": r["annotator"],
            "source": r["source"],
            "status": r["status"],
            "ranking": r["ranking"],
            "winner": _none(r["winner"]),
            "strength": _none(r["strength"]),
            "ratings": r["ratings"] or {},
            "rationale": r["rationale"] or "",
            "flags": list(r["flags"] or []),
            "flag_note": r["flag_note"] or "",
            "display_order": list(r["display_order"] or []),
            "guideline_version": _none(r["guideline_version"]),
            "revision": int(r["revision"]),
            "submitted_at": _none(r["submitted_at"]),
            "active_ms": _none(r["active_ms"]),
        }

    # -- adjudication and re-queue ---------------------------------------------------------------------------

    def adjudicate(
        self,
        item_id: str,
        ranking: Sequence[Sequence[str]],
        rationale: str = "",
        *,
        strength: int | None = None,
        label_id: str | None = None,
    ) -> AppendResult:
        """Store the final ranking of one item as ``source="adjudication"`` by the adjudicator (a new label;
        nobody's label changes). Pairwise: the winner is the top of ``ranking``; ``strength`` 1..3 optional.
        Raises ``LabelError`` naming the field."""
        if not isinstance(item_id, str) or item_id not in self._rank.index:
            raise LabelError(
                f"adjudication of item {str(item_id)[:80]!r}",
                "item_id",
                "has no labels to adjudicate; check the id",
            )
        rids = self._response_ids(item_id)
        where = f"adjudication of item {item_id!r}"
        if not isinstance(rationale, str):
            raise LabelError(where, "rationale", "must be text")
        if self.rationale_required and not rationale.strip():
            raise LabelError(where, "rationale", "is required: say why this is the final ranking")
        task = self._detail_task(item_id, rids)
        record: dict[str, Any] = {
            "label_id": label_id or f"adj-{uuid.uuid4()}",
            "item_id": item_id,
            "annotator": self.adjudicator,
            "task": task,
            "status": "submitted",
            "ranking": [list(g) for g in ranking] if isinstance(ranking, (list, tuple)) else ranking,
            "rationale": rationale.strip(),
            "display_order": rids,
            "started_at": self._opened_at.get(item_id),
            "submitted_at": datetime.now(timezone.utc),
            "source": "adjudication",
        }
        if task != "pairwise" and strength is not None:
            raise LabelError(where, "strength", "is for pairwise items only; leave it empty for a ranking")
        if task == "pairwise":
            norm = schema.normalise_ranking(where, record["ranking"], rids)
            tie = len(norm) == 1
            if strength is not None and not tie and (isinstance(strength, bool) or strength not in (1, 2, 3)):
                raise LabelError(
                    where, "strength", f"must be 1, 2 or 3 for a decisive verdict, got {strength!r}"
                )
            record["winner"] = schema.TIE if tie else norm[0][0]
            record["strength"] = 0 if tie else strength
        rules = LabelRules(max_rationale_chars=schema.MAX_RATIONALE_CHARS)
        result = self.store.append(record, response_ids=rids, rules=rules)
        if not result.duplicate:
            record.update(revision=result.revision, supersedes=result.supersedes)
            self._add_label(record, rids)
        return result

    def _detail_task(self, item_id: str, rids: Sequence[str]) -> str:
        t = self._table.iloc[int(self._rank[item_id])]["task"]
        if isinstance(t, str) and t in schema.TASKS:
            return "pairwise" if t == "pairwise" and len(rids) == 2 else "ranking"
        return "pairwise" if len(rids) == 2 else "ranking"

    def _add_label(self, record: Mapping[str, Any], rids: Sequence[str]) -> None:
        """Note a new adjudication without re-reading the store (it changes no vote, so not the order).

        It waits in ``_pending`` and is folded into the 100,000-row frames only when a label filter or
        ``adjudications`` needs it: copying those frames per adjudication cost more than the durable write.
        """
        valid = schema.validate_label(record, response_ids=rids)
        valid.update(revision=record["revision"], supersedes=record["supersedes"])
        self._pending.append(valid)
        iid = str(record["item_id"])
        pos = int(self._rank[iid])
        self._table.loc[self._table.index[pos], "adjudicated"] = True
        if self._texts is not None:
            self._texts.pop(iid, None)
        with self.hold_sync():
            self._apply()
            if self.detail.get("item_id") == iid:
                self.detail = self._detail(iid)

    def _fold_pending(self) -> None:
        if not self._pending:
            return
        frame = schema.labels_frame(self._pending)
        start = len(self._labels)
        self._labels = pd.concat([self._labels, frame], ignore_index=True)
        for k, iid in enumerate(frame["item_id"]):
            self._by_item[iid] = np.append(self._by_item.get(iid, np.array([], dtype=np.int64)), start + k)
        self._current = schema.current_labels(
            pd.concat([self._current, frame], ignore_index=True)
        ).reset_index(drop=True)
        self._cur_pos = self._rank.index.get_indexer(pd.Index(self._current["item_id"]))
        self._criteria = None
        self._texts = None  # row numbers moved on: rebuild on the next search
        self._pending = []

    def requeue(
        self, item_ids: Iterable[str], reason: str, *, queue: str = "requeue", annotator: str | None = None
    ) -> int:
        """Send items back for another round: adds them to the named ``queue`` in the store (for everyone, or
        for ``annotator``). Returns the number of entries written."""
        from .store import queues

        ids = [item_ids] if isinstance(item_ids, str) else list(item_ids)
        missing = [i for i in ids if not isinstance(i, str) or i not in self._item_row]
        if missing:
            raise ValueError(f"item {str(missing[0])[:80]!r} is not in the items; check the id")
        return queues.requeue(
            self.store, ids, queue=queue, reason=reason, added_by=self.adjudicator, annotator=annotator
        )

    @property
    def adjudications(self) -> pd.DataFrame:
        """Every adjudication (all revisions) known to this widget."""
        self._fold_pending()
        return self._labels[self._labels["source"] == "adjudication"].reset_index(drop=True)

    @property
    def history(self) -> pd.DataFrame:
        """Messages handled: time, type, outcome (ack / reject) and detail."""
        return pd.DataFrame(self._history, columns=["time", "type", "outcome", "detail"])

    def refresh(self) -> None:
        """Re-read the labels (teammates may have added some) and rebuild the list; filters are kept."""
        with _gc_paused():
            self._build()
        with self.hold_sync():
            self.config = self._config()
            self._apply()
            iid = self.detail.get("item_id")
            if isinstance(iid, str) and iid in self._rank.index:
                self.detail = self._detail(iid)

    # -- messages --------------------------------------------------------------------------------------------

    def _on_custom_msg(self, _widget: Any, content: Any, buffers: Any = None) -> None:
        self.handle_message(content, buffers)

    def handle_message(self, content: Any, buffers: Sequence[Any] | None = None) -> None:
        """Handle one message from the view (public so tests send exactly what the browser would). Never
        raises: a bad message changes nothing and is answered with a ``reject``."""
        kind = content.get("type") if isinstance(content, Mapping) else None
        cid = content.get("client_id") if isinstance(content, Mapping) else None
        cid = cid if isinstance(cid, str) and len(cid) <= 128 else None
        try:
            try:
                if buffers:
                    raise Rejected("message", "binary buffers are not accepted")
                if not isinstance(content, Mapping):
                    raise Rejected("message", f"must be an object, got {type(content).__name__}")
                if len(repr(content)) > MAX_MESSAGE_CHARS:
                    raise Rejected(
                        "message", f"is larger than {MAX_MESSAGE_CHARS} characters; shorten the text"
                    )
                handler = {
                    "filter": self._msg_filter,
                    "page": self._msg_page,
                    "open": self._msg_open,
                    "close": self._msg_close,
                    "adjudicate": self._msg_adjudicate,
                    "requeue": self._msg_requeue,
                }.get(kind if isinstance(kind, str) else "")
                if handler is None:
                    raise Rejected("type", f"unknown message type {str(kind)[:40]!r}")
                detail = handler(content)
                self._note(kind, "ack", detail)
                if cid is not None:
                    self.send({"type": "ack", "client_id": cid, "of": kind, "detail": detail})
            except Rejected as exc:
                self._note(kind, "reject", f"{exc.field}: {exc.message}")
                self.send(
                    {
                        "type": "reject",
                        "client_id": cid,
                        "of": kind,
                        "field": exc.field,
                        "message": exc.message,
                    }
                )
        except Exception as exc:  # never let an error escape into the kernel's comm handler
            log.exception("AuditWidget: error handling a message")
            self._note(kind, "error", f"{type(exc).__name__}: {exc}")
            try:
                self.send(
                    {
                        "type": "reject",
                        "client_id": cid,
                        "of": kind,
                        "field": "message",
                        "message": f"failed ({type(exc).__name__}: {exc}); nothing was changed by this "
                        "message unless it says otherwise; check the store and retry",
                    }
                )
            except Exception:
                log.exception("AuditWidget: could not report the error to the view")

    def _note(self, kind: Any, outcome: str, detail: str) -> None:
        self._history.append(
            {"time": datetime.now(timezone.utc), "type": str(kind)[:40], "outcome": outcome, "detail": detail}
        )
        del self._history[:-10_000]

    @staticmethod
    def _fields(content: Mapping[str, Any], allowed: set[str]) -> None:
        extra = sorted(set(content) - allowed - {"type", "client_id"})
        if extra:
            raise Rejected(str(extra[0])[:40], f"is not a field of a {content.get('type')} message")

    def _msg_filter(self, content: Mapping[str, Any]) -> str:
        self._fields(content, {"filters"})
        self._set_filters(self._check_filters(content.get("filters") or {}))
        return f"{self.total} items"

    def _msg_page(self, content: Mapping[str, Any]) -> str:
        self._fields(content, {"page"})
        p = content.get("page")
        if isinstance(p, bool) or not isinstance(p, int):
            raise Rejected("page", "must be an integer page number")
        self._apply(page=p)
        return f"page {self.page}"

    def _msg_open(self, content: Mapping[str, Any]) -> str:
        self._fields(content, {"item_id"})
        iid = content.get("item_id")
        if not isinstance(iid, str) or iid not in self._rank.index:
            raise Rejected("item_id", f"{str(iid)[:80]!r} is not an item with labels; refresh the list")
        self.open_item(iid)
        return iid

    def _msg_close(self, content: Mapping[str, Any]) -> str:
        self._fields(content, set())
        self.close_item()
        return ""

    def _msg_adjudicate(self, content: Mapping[str, Any]) -> str:
        self._fields(content, {"item_id", "ranking", "rationale", "strength"})
        cid = content.get("client_id")
        if not isinstance(cid, str) or not 8 <= len(cid) <= 128:
            raise Rejected("client_id", "must be the view's id for this adjudication (8-128 characters)")
        iid = content.get("item_id")
        if not isinstance(iid, str) or iid not in self._rank.index:
            raise Rejected("item_id", f"{str(iid)[:80]!r} is not an item with labels; refresh the list")
        ranking = content.get("ranking")
        if not isinstance(ranking, list) or not all(
            isinstance(g, list) and all(isinstance(r, str) for r in g) for g in ranking
        ):
            raise Rejected("ranking", "must be tie groups of response ids, best first, e.g. [['r2'], ['r1']]")
        rationale = content.get("rationale", "")
        if not isinstance(rationale, str):
            raise Rejected("rationale", "must be text")
        strength = content.get("strength")
        if strength is not None and (isinstance(strength, bool) or not isinstance(strength, int)):
            raise Rejected("strength", "must be 1, 2, 3 or null")
        try:
            result = self.adjudicate(iid, ranking, rationale, strength=strength, label_id=f"adj-{cid}")
        except LabelError as exc:
            raise Rejected(exc.field, exc.problem) from exc
        return f"{result.label_id} revision {result.revision}" + (" (duplicate)" if result.duplicate else "")

    def _msg_requeue(self, content: Mapping[str, Any]) -> str:
        self._fields(content, {"item_ids", "reason", "queue"})
        ids = content.get("item_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise Rejected("item_ids", "select at least one item")
        if len(ids) > 1000:
            raise Rejected("item_ids", f"{len(ids)} items in one message; the limit is 1000")
        queue = content.get("queue") or "requeue"
        reason = content.get("reason")
        try:
            n = self.requeue(ids, reason if isinstance(reason, str) else "", queue=queue)
        except ValueError as exc:
            field = "reason" if "reason" in str(exc) else "queue" if "queue name" in str(exc) else "item_ids"
            raise Rejected(field, str(exc)) from exc
        return f"{n} item(s) to queue {queue!r}"
