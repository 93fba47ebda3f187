"""AuditWidget: review labels item by item, most contested first; adjudicate and re-queue (issue 5).

The widget holds the traitlets and dispatches the view's messages; the per-item index (order, filters, paging,
search, payloads) is ``audit.index`` and the adjudication record ``audit.adjudication``. Only the visible page
(and the one item opened) crosses the wire, so the view stays quick on 100,000 labels. An adjudication is a
label with ``source="adjudication"`` by the adjudicator: it never supersedes or changes anyone's label.
Re-queued items go to a named queue in the store (``rank_widget.store.queues``) that
``RankWidget(items, store=..., queue=name)`` opens on. The wire protocol is in docs/audit.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

import anywidget
import pandas as pd
import traitlets

from .. import schema
from .._protocol import (
    STATIC_CSS,
    STATIC_JS,
    Envelope,
    Handler,
    MessageDispatch,
    Rejected,
    check_fields,
    ensure_static,
    items_frame,
    map_ids,
    replay_mismatch,
    resolve_annotator,
    scrub_ids,
    static_or_none,
    unknown_kwarg_message,
)
from ..schema import LabelError, LabelRules
from .adjudication import (
    FIELD_CAP,
    adjudication_record,
    adjudication_request,
    comment_request,
    requeue_rejection,
    requeue_request,
)
from .index import FILTERS, AuditIndex, check_filters, default_filters, gc_paused, item_rows, page_bounds

if TYPE_CHECKING:
    from ..store import AppendResult, Store

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 200
MAX_HISTORY = 10_000  # messages kept in ``history``
OPTIONS = ("adjudicator", "store", "page_size", "rationale_required")


class AuditWidget(MessageDispatch, anywidget.AnyWidget):
    """Audit labels in a notebook: items most contested first, filters, each annotator's label side by side,
    adjudication and re-queueing.

    ``AuditWidget(items, labels_or_store, *, adjudicator=None, store=None, page_size=20,
    rationale_required=True)``. ``labels_or_store`` is a labels DataFrame or a store (path, URL or Store).
    Adjudications and queues are written to that store; with a DataFrame, to ``store`` (in memory unless
    given). See docs/audit.md.
    """

    _esm = static_or_none(STATIC_JS)
    _css = static_or_none(STATIC_CSS)
    SHORTEN: ClassVar[str] = "the rationale or reason"
    CLIENT_ID_CAP: ClassVar[int | None] = 128

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
            raise TypeError(unknown_kwarg_message("AuditWidget", unknown, OPTIONS))
        ensure_static(type(self))
        whole = isinstance(page_size, int) and not isinstance(page_size, bool)
        if not whole or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be an integer 1..{MAX_PAGE_SIZE}, got {page_size!r}")
        if not isinstance(rationale_required, bool):
            raise TypeError(f"rationale_required must be True or False, got {rationale_required!r}")
        self.adjudicator = resolve_annotator(adjudicator)
        self.rationale_required = rationale_required
        self.items = items_frame(items)
        self._item_row = item_rows(self.items)
        self._fixed: pd.DataFrame | None = None
        self.store: Store = self._open(labels_or_store, store)
        self.adjudicator = resolve_annotator(adjudicator, self.store.identity)  # access control: session_user
        self._opened_at: dict[str, datetime] = {}
        self._history: list[dict[str, Any]] = []
        with gc_paused():  # the labels read included, as before the index moved out of the widget
            self._index = AuditIndex(self.items, self._read_labels(), self._item_row)
        super().__init__(page_size=page_size, filters=default_filters())
        self._apply()
        self.on_msg(self._on_custom_msg)

    def _open(self, labels_or_store: Any, store: Any) -> Store:
        from ..store import open_store

        if isinstance(labels_or_store, pd.DataFrame):
            self._fixed = schema.coerce_labels(labels_or_store)
            return open_store(":memory:" if store is None else store)
        if store is not None:
            raise TypeError("pass the store once: as labels_or_store, or store= with a labels DataFrame")
        if labels_or_store is None:
            raise TypeError("labels_or_store must be a labels DataFrame, a store path/URL or a Store")
        return open_store(labels_or_store)

    def _read_labels(self) -> pd.DataFrame:
        stored = self.store.labels()
        if self._fixed is None:
            return stored
        if stored.empty:
            return self._fixed
        return pd.concat([self._fixed, stored], ignore_index=True)

    # -- Python-side checks of the traits (the view may set none of them: MessageDispatch.set_state) ---------

    @traitlets.validate("page_size")
    def _check_page_size(self, proposal: Any) -> int:
        value = proposal["value"]
        if not 1 <= value <= MAX_PAGE_SIZE:
            raise traitlets.TraitError(f"page_size must be an integer 1..{MAX_PAGE_SIZE}, got {value!r}")
        return int(value)

    @traitlets.validate("page")
    def _check_page(self, proposal: Any) -> int:
        if proposal["value"] < 0:
            raise traitlets.TraitError(f"page must be 0 or more, got {proposal['value']!r}")
        return int(proposal["value"])

    @traitlets.validate("filters")
    def _check_filters_trait(self, proposal: Any) -> dict[str, Any]:
        try:
            return check_filters(proposal["value"])
        except Rejected as exc:
            raise traitlets.TraitError(f"filters: {exc.field} {exc.message}") from exc

    # -- the list ------------------------------------------------------------------------------------------

    def filtered(self) -> pd.DataFrame:
        """The items passing the current filters, most contested first (one row per item)."""
        return self._index.filtered(self.filters)

    def set_filters(self, **filters: Any) -> None:
        """Set filters by name (None or "" clears one); the page goes back to the first."""
        self._set_filters({**self.filters, **filters})

    def _set_filters(self, proposed: Mapping[str, Any]) -> None:
        clean = check_filters(proposed)
        with self.hold_sync():
            self.filters = clean
            self._apply(page=0)

    def goto_page(self, page: int) -> None:
        if isinstance(page, bool) or not isinstance(page, int):
            raise TypeError(f"page must be an integer, got {type(page).__name__}")
        self._apply(page=page)

    def _apply(self, page: int | None = None) -> None:
        """Recompute the filtered list and send the visible page only."""
        self._filtered = self.filtered()
        n = len(self._filtered)
        p, lo = page_bounds(n, self.page if page is None else page, self.page_size)
        with self.hold_sync():
            self.total = n
            self.page = p
            page_rows: list[dict[Any, Any]] = self._filtered.iloc[lo : lo + self.page_size].to_dict("records")
            self.rows = [self._index.row_payload(r) for r in page_rows]
            if not self.config:
                self.config = self._config()

    def _config(self) -> dict[str, Any]:
        return {
            "adjudicator": self.adjudicator,
            "options": self._index.options,
            "filters": list(FILTERS),
            "rationale_required": self.rationale_required,
            "max_rationale_chars": schema.MAX_RATIONALE_CHARS,
            "max_reason_chars": 2000,
        }

    @property
    def table(self) -> pd.DataFrame:
        """The filtered item list (all pages), most contested first."""
        return self._filtered.copy()

    # -- one item ------------------------------------------------------------------------------------------

    def item_labels(self, item_id: str) -> pd.DataFrame:
        """Every revision of every label on one item (adjudications included), oldest first."""
        return self._index.item_labels(item_id)

    def open_item(self, item_id: str) -> dict[str, Any]:
        """Show one item in full (sets ``detail``, which the view gets with opaque response ids ``r1..rN``)
        and return the same payload with the items' real response ids (what ``adjudicate`` takes)."""
        self._show(item_id)
        return self._index.detail(item_id, wire=False)

    def _show(self, item_id: str) -> None:
        if item_id not in self._index:
            raise KeyError(f"item {str(item_id)[:80]!r} has no labels to audit; check the id")
        payload = self._index.detail(item_id)
        self._opened_at[item_id] = datetime.now(timezone.utc)
        self.detail = payload

    def close_item(self) -> None:
        self.detail = {}

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
        record, rids = adjudication_record(
            self._index,
            item_id,
            ranking,
            rationale,
            adjudicator=self.adjudicator,
            rationale_required=self.rationale_required,
            strength=strength,
            label_id=label_id,
            started_at=self._opened_at.get(item_id) if isinstance(item_id, str) else None,
        )
        rules = LabelRules(max_rationale_chars=schema.MAX_RATIONALE_CHARS)
        result = self.store.append(record, response_ids=rids, rules=rules)
        if result.duplicate:  # an exact replay; the same id for another adjudication is an error
            stored = self.store.labels(annotator=self.adjudicator, item_ids=[item_id], source="adjudication")
            mismatch = replay_mismatch(stored, schema.validate_label(record, response_ids=rids, rules=rules))
            if mismatch is not None:
                raise LabelError(
                    f"adjudication of item {item_id[:80]!r}",
                    "label_id",
                    f"{record['label_id'][:80]!r} is already the id of a different label (its {mismatch} "
                    "differs); nothing was stored",
                )
        else:
            record.update(revision=result.revision, supersedes=result.supersedes)
            self._add_label(record, rids)
        return result

    def _add_label(self, record: Mapping[str, Any], rids: Sequence[str]) -> None:
        """Show a new adjudication without re-reading the store (it changes no vote, so not the order)."""
        valid = schema.validate_label(record, response_ids=rids)
        valid.update(revision=record["revision"], supersedes=record["supersedes"])
        self._index.add(valid)
        iid = str(record["item_id"])
        with self.hold_sync():
            self._apply()
            if self.detail.get("item_id") == iid:
                self.detail = self._index.detail(iid)

    def requeue(
        self, item_ids: Iterable[str], reason: str, *, queue: str = "requeue", annotator: str | None = None
    ) -> int:
        """Send items back for another round: adds them to the named ``queue`` in the store (for everyone, or
        for ``annotator``). Returns the number of entries written."""
        from ..store import queues

        ids = [item_ids] if isinstance(item_ids, str) else list(item_ids)
        missing = [i for i in ids if not isinstance(i, str) or i not in self._item_row]
        if missing:
            raise ValueError(f"item {str(missing[0])[:80]!r} is not in the items; check the id")
        return queues.requeue(
            self.store, ids, queue=queue, reason=reason, added_by=self.adjudicator, annotator=annotator
        )

    def comment(self, label_id: str, text: str) -> str:
        """Leave a comment on an annotator's label (any revision); they see it on that item the next time
        they open it in RankWidget. Returns the comment id. ``text`` is shown as plain text, at most
        ``rank_widget.store.comments.MAX_COMMENT_CHARS`` characters."""
        if not isinstance(label_id, str) or label_id not in self._label_ids():
            raise ValueError(f"label {str(label_id)[:80]!r} is not one of this widget's labels; check the id")
        return self.store.comment(label_id, text, by=self.adjudicator)

    def _label_ids(self) -> set[str]:
        return set(self.store.labels(item_ids=list(self._item_row))["label_id"])

    @property
    def adjudications(self) -> pd.DataFrame:
        """Every adjudication (all revisions) known to this widget."""
        return self._index.adjudications()

    @property
    def history(self) -> pd.DataFrame:
        """Messages handled: time, type, outcome (ack / reject / error) and detail."""
        return pd.DataFrame(self._history, columns=["time", "type", "outcome", "detail"])

    def refresh(self) -> None:
        """Re-read the labels (teammates may have added some) and rebuild the list; filters are kept."""
        with gc_paused():
            self._index = AuditIndex(self.items, self._read_labels(), self._item_row)
        with self.hold_sync():
            self.config = self._config()
            self._apply()
            iid = self.detail.get("item_id")
            if isinstance(iid, str) and iid in self._index:
                self.detail = self._index.detail(iid)

    # -- messages (MessageDispatch.handle_message checks the envelope, then calls these) ---------------------

    def _message_handlers(self) -> Mapping[str, Handler]:
        return {
            "filter": self._msg_filter,
            "page": self._msg_page,
            "open": self._msg_open,
            "close": self._msg_close,
            "adjudicate": self._msg_adjudicate,
            "requeue": self._msg_requeue,
            "comment": self._msg_comment,
        }

    def _record(self, env: Envelope, outcome: str, detail: str) -> None:
        self._history.append(
            {
                "time": datetime.now(timezone.utc),
                "type": str(env.kind)[:40],
                "outcome": outcome,
                "detail": detail,
            }
        )
        del self._history[:-MAX_HISTORY]

    def _reply_context(self, env: Envelope) -> dict[str, Any]:
        return {"of": env.kind}

    def _failure_message(self, exc: Exception) -> str:
        from ..store import StoreError

        if isinstance(exc, StoreError):  # it says what to do (a read-only store, a lock); writes are atomic
            return f"{exc}; nothing was changed"
        return (
            f"failed ({type(exc).__name__}: {exc}); nothing was changed by this message unless it says "
            "otherwise; check the store and retry"
        )

    def _msg_filter(self, content: Mapping[str, Any]) -> str:
        check_fields(content, {"client_id", "filters"}, cap=FIELD_CAP)
        self._set_filters(check_filters(content.get("filters") or {}))
        return f"{self.total} items"

    def _msg_page(self, content: Mapping[str, Any]) -> str:
        check_fields(content, {"client_id", "page"}, cap=FIELD_CAP)
        p = content.get("page")
        if isinstance(p, bool) or not isinstance(p, int):
            raise Rejected("page", "must be an integer page number")
        self._apply(page=p)
        return f"page {self.page}"

    def _msg_open(self, content: Mapping[str, Any]) -> str:
        check_fields(content, {"client_id", "item_id"}, cap=FIELD_CAP)
        iid = content.get("item_id")
        if not isinstance(iid, str) or iid not in self._index:
            raise Rejected("item_id", f"{str(iid)[:80]!r} is not an item with labels; refresh the list")
        self._show(iid)
        return iid

    def _msg_close(self, content: Mapping[str, Any]) -> str:
        check_fields(content, {"client_id"}, cap=FIELD_CAP)
        self.close_item()
        return ""

    def _msg_adjudicate(self, content: Mapping[str, Any]) -> str:
        req = adjudication_request(content, self._index)
        if req.item_id not in self._opened_at:  # the view adjudicates the item it shows, never another
            raise Rejected("item_id", f"{req.item_id[:80]!r} was never opened in this view; open it first")
        ids = self._index.wire_ids(req.item_id)  # the view ranks the wire ids (r1..rN)
        ranking = map_ids(req.ranking, {w: r for r, w in ids.items()})
        try:
            result = self.adjudicate(
                req.item_id, ranking, req.rationale, strength=req.strength, label_id=req.label_id
            )
        except LabelError as exc:
            problem = scrub_ids(exc.problem, ids)
            if exc.field == "label_id":  # the message's label id is adj-<client_id>
                raise Rejected("client_id", f"{problem}: reload the widget") from exc
            raise Rejected(exc.field, problem) from exc
        return f"{result.label_id} revision {result.revision}" + (" (duplicate)" if result.duplicate else "")

    def _msg_requeue(self, content: Mapping[str, Any]) -> str:
        req = requeue_request(content)
        try:
            n = self.requeue(req.item_ids, req.reason, queue=req.queue)
        except ValueError as exc:
            raise requeue_rejection(exc) from exc
        return f"{n} item(s) to queue {req.queue!r}"

    def _msg_comment(self, content: Mapping[str, Any]) -> str:
        label_id, text = comment_request(content)
        try:
            return self.comment(label_id, text)
        except ValueError as exc:
            raise Rejected("label_id" if "label" in str(exc) else "text", str(exc)) from exc
