"""The labelling queue: which item is at which position, and the payload the view gets for it.

Kept apart from the traitlets widget so it can be reasoned about (and measured) on its own. Nothing here does
per-item work up front: payloads are built on demand, by position, and cached in a small LRU, so opening a
session on 100,000 items costs a few list operations (design §8).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._protocol import map_label_ids, wire_ids
from .guidelines import Guidelines
from .schema import ANSWER_FIELDS

if TYPE_CHECKING:
    from .store import Store

PREFETCH = 3  # items after the current one in the window (docs/protocol.md)
PAYLOAD_CACHE = 64
LABEL_CACHE = 256
MAX_METADATA_KEYS = 20
MAX_METADATA_CHARS = 200
ITEM_COLUMNS = ("item_id", "prompt", "responses")
# Columns never sent to the view: `gold` would give the answer away; `responses` models are stripped too.
HIDDEN_COLUMNS = frozenset({*ITEM_COLUMNS, "gold"})
LABEL_FIELDS_FOR_VIEW = ("label_id", *ANSWER_FIELDS, "revision")


class Queue:
    """An annotator's ordered list of items over an items DataFrame (positions index the queue)."""

    def __init__(self, items: pd.DataFrame, item_ids: Sequence[str] | None = None) -> None:
        self.items = items
        self._all_ids: list[str] = items["item_id"].tolist()
        if len(set(self._all_ids)) != len(self._all_ids):
            dup = items["item_id"][items["item_id"].duplicated()].iat[0]
            raise ValueError(f"item {dup!r} appears twice in items; item ids must be unique")
        self._row_of: dict[str, int] | None = None
        if item_ids is None:
            self._rows: list[int] | None = None  # identity: queue position == row
            self.ids = self._all_ids
        else:
            rows = []
            seen: set[str] = set()
            for i, iid in enumerate(item_ids):
                if not isinstance(iid, str):
                    raise TypeError(f"queue[{i}]: item ids are strings, got {type(iid).__name__} {iid!r}")
                if iid in seen:
                    raise ValueError(f"queue[{i}]: item {iid!r} is listed twice; list each item once")
                seen.add(iid)
                row = self.row_of(iid)
                if row is None:
                    raise ValueError(f"queue[{i}]: item {iid!r} is not in the items; check the id")
                rows.append(row)
            if not rows:
                raise ValueError("queue is empty; pass at least one item id (or queue=None for all items)")
            self._rows = rows
            self.ids = list(item_ids)
        self._pos_of: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def extend(self, item_ids: Sequence[str]) -> None:
        """Append items to a queue of listed ids (a team widget's next leased items, docs/team.md); the
        positions already handed out do not move."""
        if self._rows is None:
            raise ValueError("only a queue of listed item ids can be extended")
        for iid in item_ids:
            row = self.row_of(iid)
            if row is None or self.position_of(iid) is not None:
                raise ValueError(f"item {iid!r} is not in the items, or is already queued")
            self._rows.append(row)
            self.ids.append(iid)
            if self._pos_of is not None:
                self._pos_of[iid] = len(self.ids) - 1

    @property
    def rows(self) -> list[int] | None:
        """Item rows in queue order (None: every item, in order)."""
        return self._rows

    def row(self, position: int) -> int:
        return position if self._rows is None else self._rows[position]

    def row_of(self, item_id: str) -> int | None:
        if self._row_of is None:
            self._row_of = {iid: i for i, iid in enumerate(self._all_ids)}
        return self._row_of.get(item_id)

    def position_of(self, item_id: str) -> int | None:
        if self._rows is None:
            return self.row_of(item_id)
        if self._pos_of is None:
            self._pos_of = {iid: i for i, iid in enumerate(self.ids)}
        return self._pos_of.get(item_id)

    def first_not_in(self, done: Collection[str]) -> int:
        """The first position whose item is not in ``done`` (the last position when every item is done)."""
        if done:
            for i, iid in enumerate(self.ids):
                if iid not in done:
                    return i
            return len(self.ids) - 1
        return 0

    def responses(self, position: int) -> list[dict[str, Any]]:
        value: Any = self.items["responses"].iat[self.row(position)]
        return list(value)

    def response_ids(self, position: int) -> list[str]:
        return [str(r["response_id"]) for r in self.responses(position)]


def display_order(
    response_ids: Sequence[str], *, annotator: str, item_id: str, seed: Any, shuffle: bool
) -> list[str]:
    """On-screen order of an item's responses, stable for one (seed, annotator, item) across restarts."""
    order = list(response_ids)
    if shuffle:
        key = "\x1f".join(("rank_widget", repr(seed), annotator, item_id)).encode("utf-8", "surrogatepass")
        rng = random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))
        rng.shuffle(order)
    return order


def response_counts(items: pd.DataFrame) -> np.ndarray:
    """Number of responses of every item (one vectorised pass; names the first item that has no list)."""
    col = items["responses"].to_numpy()
    sized = (list, tuple, np.ndarray)
    if not set(map(type, col)) <= set(sized):
        row = next(i for i, r in enumerate(col) if not isinstance(r, sized))
        raise ValueError(
            f"item {items['item_id'].iat[row]!r} (row {row}): field 'responses' must be a list of "
            "{response_id, text, model}; load the data with rank_widget.load_items"
        )
    return np.fromiter(map(len, col), dtype=np.int64, count=len(col))


def check_item_shapes(
    items: pd.DataFrame, task: str, counts: np.ndarray, rows: Sequence[int] | None = None
) -> None:
    """Every item must have exactly 2 responses for pairwise, and at least 2 for ranking. Names the item."""
    if rows is not None:
        row_of = np.asarray(rows, dtype=np.int64)
        counts_of = counts[row_of]
    else:
        counts_of, row_of = counts, np.arange(len(counts))
    bad = np.flatnonzero(counts_of != 2) if task == "pairwise" else np.flatnonzero(counts_of < 2)
    if len(bad):
        row, n = int(row_of[bad[0]]), int(counts_of[bad[0]])
        iid = items["item_id"].iat[row]
        if task == "pairwise":
            raise ValueError(
                f"item {iid!r} (row {row}): task='pairwise' needs exactly 2 responses, this item has {n}; "
                "use task='ranking', or leave task unset to label the pairs only"
            )
        raise ValueError(f"item {iid!r} (row {row}): needs at least 2 responses to rank, has {n}")


class CurrentLabels:
    """One annotator's current label per item: id/status/source of every item (cheap columns, read once),
    and full records only for the items the view needs (window prefill), fetched from the store on demand."""

    def __init__(self, store: Store, annotator: str, since: Mapping[str, str] | None = None) -> None:
        """``since``: item_id -> UTC ISO time; a label submitted before it is not current for this session
        (a re-queued item asks for a fresh label)."""
        self.store = store
        self.annotator = annotator
        self.since = dict(since or {})
        self.meta: dict[str, tuple[str, str, str]] = {}  # item_id -> (label_id, status, source)
        self._records: OrderedDict[str, dict[str, Any]] = OrderedDict()
        if store.labelled_item_ids(annotator):  # the cheap query first: a fresh annotator costs no DataFrame
            frame = store.current(annotator=annotator)
            if since:
                cutoff = pd.to_datetime(frame["item_id"].map(since), utc=True, format="ISO8601")
                frame = frame[cutoff.isna() | (frame["submitted_at"] >= cutoff)]
            columns = [frame[c].tolist() for c in ("item_id", "label_id", "status", "source")]
            for iid, lid, status, source in zip(*columns, strict=True):
                # One label per item for the view: the widget's own wins over imported/simulated ones.
                if iid not in self.meta or source == "widget":
                    self.meta[iid] = (lid, status, source)

    def reread(self, item_id: str) -> tuple[tuple[str, str, str] | None, tuple[str, str, str] | None]:
        """Check this annotator's current label of one item in the store again (a primary-key lookup; the full
        record is read only when it changed): another session of the same annotator (a second tab or kernel)
        may have saved a newer one. Returns what was current before and what is now."""
        before = self.meta.get(item_id)
        if item_id in self.since:  # a re-queued item: only labels after its time count (rare; the full read)
            return before, self._reread_since(item_id, before)
        found = self.store.latest_of(item_id, self.annotator)
        if not found:
            return before, before
        mine = [f for f in found if f[2] == "widget"]
        now = (mine or found)[0]
        if now != before:
            frame = self.store.labels(annotator=self.annotator, item_ids=[item_id])
            rows = frame[frame["label_id"] == now[0]].to_dict("records")
            if not rows:
                return before, before
            self.meta[item_id] = now
            self._remember({str(k): v for k, v in rows[-1].items()})
        return before, now

    def _reread_since(self, item_id: str, before: tuple[str, str, str] | None) -> tuple[str, str, str] | None:
        from .schema import current_labels

        frame = self.store.labels(annotator=self.annotator, item_ids=[item_id])
        if not frame.empty:
            cutoff = pd.to_datetime(self.since[item_id], utc=True, format="ISO8601")
            frame = frame[frame["submitted_at"] >= cutoff]
        if frame.empty:
            return before
        latest = current_labels(frame)
        mine = latest[latest["source"] == "widget"]
        rec = (mine if len(mine) else latest).iloc[-1].to_dict()
        now = (str(rec["label_id"]), str(rec["status"]), str(rec["source"]))
        if now != before:
            self.meta[item_id] = now
            self._remember({str(k): v for k, v in rec.items()})
        return now

    def label_id(self, item_id: str) -> str | None:
        found = self.meta.get(item_id)
        return found[0] if found else None

    def records(self, item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Full current records of those items that have one (one store query for the uncached ones)."""
        missing = [i for i in item_ids if i in self.meta and i not in self._records]
        if missing:
            frame = self.store.labels(annotator=self.annotator, item_ids=missing)
            wanted = {self.meta[i][0] for i in missing}
            for rec in frame[frame["label_id"].isin(wanted)].to_dict("records"):
                self._remember({str(k): v for k, v in rec.items()})
        out = {}
        for i in item_ids:
            if i in self._records:
                self._records.move_to_end(i)
                out[i] = self._records[i]
        return out

    def stored(self, record: Mapping[str, Any]) -> tuple[str, str, str] | None:
        """Record a label just appended; returns what was current for that item before."""
        previous = self.meta.get(record["item_id"])
        self.meta[record["item_id"]] = (record["label_id"], record["status"], record["source"])
        self._remember(dict(record))
        return previous

    def _remember(self, record: dict[str, Any]) -> None:
        self._records[record["item_id"]] = record
        self._records.move_to_end(record["item_id"])
        while len(self._records) > LABEL_CACHE:
            self._records.popitem(last=False)


class PayloadBuilder:
    """Builds (and caches) the static part of an item payload; the label prefill is added per call."""

    def __init__(
        self,
        queue: Queue,
        guidelines: Guidelines,
        *,
        annotator: str,
        seed: Any,
        shuffle: bool,
        metadata_columns: Sequence[str] = (),
        allow_answers: bool = False,
    ) -> None:
        self.queue = queue
        self.guidelines = guidelines
        self.annotator = annotator
        self.seed = seed
        self.shuffle = shuffle
        self._cache: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._meta_cols = [c for c in metadata_columns if c not in HIDDEN_COLUMNS]
        self._allow_answers = allow_answers

    def order(self, position: int) -> list[str]:
        """The real response ids in display order (the view gets ``wire_ids`` of them)."""
        return display_order(
            self.queue.response_ids(position),
            annotator=self.annotator,
            item_id=self.queue.ids[position],
            seed=self.seed,
            shuffle=self.shuffle,
        )

    def ids(self, position: int) -> dict[str, str]:
        """Real response id -> wire id for the item at ``position``."""
        return wire_ids(self.order(position))

    def static(self, position: int) -> dict[str, Any]:
        hit = self._cache.get(position)
        if hit is not None:
            self._cache.move_to_end(position)
            return hit
        items = self.queue.items
        row = self.queue.row(position)
        item_id = self.queue.ids[position]
        responses = self.queue.responses(position)
        by_id = _check_responses(item_id, responses)
        order = display_order(
            list(by_id), annotator=self.annotator, item_id=item_id, seed=self.seed, shuffle=self.shuffle
        )
        wire = wire_ids(order)
        payload = {
            "index": position,
            "item_id": item_id,
            "prompt": _prompt(item_id, items["prompt"].iat[row]),
            # Models and the source's response ids are not sent: labelling is blind to them.
            "responses": [{"response_id": wire[rid], "text": by_id[rid]["text"]} for rid in order],
            "display_order": [wire[rid] for rid in order],
            "metadata": self._metadata(row, responses),
            "guideline_version": self.guidelines.version_at(position),
        }
        self._cache[position] = payload
        if len(self._cache) > PAYLOAD_CACHE:
            self._cache.popitem(last=False)
        return payload

    def payload(self, position: int, label: Mapping[str, Any] | None) -> dict[str, Any]:
        out = dict(self.static(position))
        out["label"] = map_label_ids(view_label(label), self.ids(position)) if label is not None else None
        return out

    def _metadata(self, row: int, responses: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        # A value naming one of the item's responses (its id or model) would unblind the label: left out.
        names = {str(r.get(k)).casefold() for r in responses for k in ("response_id", "model") if r.get(k)}
        for col in self._meta_cols[:MAX_METADATA_KEYS]:
            value = scalar(self.queue.items[col].iat[row])
            if value is _SKIP:
                continue
            if isinstance(value, str) and value.strip().casefold() in names and not self._allow_answers:
                continue
            if isinstance(value, str) and len(value) > MAX_METADATA_CHARS:
                value = value[: MAX_METADATA_CHARS - 1] + "…"
            out[str(col)[:MAX_METADATA_CHARS]] = value
        return out


_SKIP = object()


def _check_responses(item_id: str, responses: Sequence[Any]) -> dict[str, Mapping[str, Any]]:
    """response_id -> response, checked (the items frame may not have come through load_items)."""
    by_id: dict[str, Mapping[str, Any]] = {}
    for k, r in enumerate(responses):
        if not isinstance(r, Mapping) or not isinstance(r.get("response_id"), str) or not r["response_id"]:
            raise ValueError(
                f"item {item_id!r}: responses[{k}] needs a non-empty string 'response_id'; load "
                "the data with rank_widget.load_items"
            )
        if not isinstance(r.get("text"), str):
            raise ValueError(f"item {item_id!r}: responses[{k}] field 'text' must be a string")
        if r["response_id"] in by_id:
            raise ValueError(f"item {item_id!r}: response id {r['response_id']!r} appears twice")
        by_id[r["response_id"]] = r
    return by_id


def scalar(value: Any) -> Any:
    """A JSON-safe scalar, None for missing values, or _SKIP for anything that is not a scalar."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return str(pd.Timestamp(value).isoformat())
    return _SKIP


def _prompt(item_id: str, value: Any) -> str | list[dict[str, str]]:
    """A text prompt, or a chat as [{role, content}] turns (checked: the frame may not be load_items')."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        turns = []
        for k, t in enumerate(value):
            if not (isinstance(t, Mapping) and all(isinstance(t.get(f), str) for f in ("role", "content"))):
                raise ValueError(
                    f"item {item_id!r}: prompt turn {k} must be {{'role': str, 'content': str}};"
                    " load the data with rank_widget.load_items"
                )
            turns.append({"role": t["role"], "content": t["content"]})
        return turns
    return "" if scalar(value) is None else str(value)


def jsonable(value: Any) -> Any:
    """Plain-JSON copy of a label field read back from a DataFrame (numpy arrays, NA, numpy ints)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    out = scalar(value)
    return str(value) if out is _SKIP else out


def view_label(label: Mapping[str, Any]) -> dict[str, Any]:
    """The prefill the view gets for an item already labelled (docs/protocol.md `label`)."""
    return {k: jsonable(label.get(k)) for k in LABEL_FIELDS_FOR_VIEW}


def window_positions(position: int, length: int, *, backward: bool = False) -> list[int]:
    """The previous item, the current one and the next PREFETCH (mirrored when the labeler goes back)."""
    if backward:
        return list(range(max(0, position - PREFETCH), min(length, position + 2)))
    return list(range(max(0, position - 1), min(length, position + PREFETCH + 1)))
