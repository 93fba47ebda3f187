"""RankWidget: the labelling widget's Python side (traitlets state + message handling, docs/protocol.md).

Python is authoritative: the view gets only the current item and a small window around it, and every message
it sends is validated here before anything is stored. A label is acknowledged only after the store has
committed it (design §4).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec

import anywidget
import numpy as np
import pandas as pd
import traitlets

from . import schema
from ._protocol import (
    STATIC_CSS,
    STATIC_JS,
    Envelope,
    Handler,
    MessageDispatch,
    Rejected,
    check_fields,
    ensure_static,
    items_frame,
    map_label_ids,
    replay_mismatch,
    replay_rejection,
    resolve_annotator,
    scrub_ids,
    static_or_none,
    unknown_kwarg_message,
    wire_ids,
)
from ._protocol import StaticAssetsMissing as StaticAssetsMissing  # raised by RankWidget(); part of its API
from .drafts import DraftBook, DraftContext, check_draft, check_draft_message
from .guidelines import Guidelines, parse_guidelines
from .history import Entry, ReviewNotes, SessionLog, check_note_read, check_undo_message, withdrawn_record
from .keymap import resolve_keymap
from .schema import DEFAULT_FLAGS, RATIONALE_RULES, TASKS, LabelError, LabelRules
from .session import (
    HIDDEN_COLUMNS,
    CurrentLabels,
    PayloadBuilder,
    Queue,
    check_item_shapes,
    response_counts,
    window_positions,
)
from .store.notes import write_notes
from .submission import ItemContext, build_record, check_envelope, check_next
from .suggestions import Suggester, check_suggestions

if TYPE_CHECKING:
    from .store import Store
    from .team import TeamSession

log = logging.getLogger(__name__)

MAX_FLAG_LABEL_CHARS = 120
MAX_CRITERIA = 20
# The view keeps the 64 items nearest to the one it shows; Python assumes it still has those sent within
# this distance of the current position.
SENT_RADIUS = 24
STORE_COUNT_REFRESH_S = 30.0  # how often the team-wide count is re-read from the store (it can be slow)
FLAG_LABELS = {
    "both_bad": "Both bad",
    "harmful": "Harmful",
    "needs_expertise": "Needs expertise",
    "guideline_unclear": "Guideline unclear",
    "broken_item": "Broken item",
}
MAX_HISTORY = 200_000  # events kept in memory (the labels themselves are all in the store)
HISTORY_COLUMNS = ("time", "event", "index", "item_id", "client_id", "detail")


# Column names that look like an answer (docs/labeling.md): shown as metadata only with
# allow_answer_columns=True. Whole names, prefixes and suffixes (after _ - . or a space), any case.
ANSWER_WORDS = (
    "winner|chosen|rejected|label|labels|labeler|labeller|preference|preferred|verdict|answer|choice|ranking|"
    "rank|score|scores|rating|ratings|model|models|judge|judges|judgement|judgment|annotator|annotators|vote|"
    "votes|better|best|worse|correct|truth|reward|elo|win|wins|loser|gold"
)
ANSWER_COLUMN = re.compile(rf"(?i)^(?:{ANSWER_WORDS})(?:$|[_\-. ]|\d)|[_\-. ](?:{ANSWER_WORDS})$")


def _metadata_columns(
    metadata: Sequence[str] | None, items: pd.DataFrame, *, allow_answer_columns: bool = False
) -> list[str]:
    """Metadata columns shown to the labeler: none unless named, so labeling stays blind by default.

    Source tables often carry answers (an Arena ``winner``, other annotators' votes, a judge's verdict);
    showing every scalar column would leak them into the labels. Names that look like an answer
    (``ANSWER_COLUMN``) need ``allow_answer_columns=True``.
    """
    if metadata is None:
        return []
    if isinstance(metadata, str) or not all(isinstance(c, str) for c in metadata):
        raise TypeError(f"metadata must be a list of column names, got {metadata!r}")
    hidden = sorted(set(metadata) & HIDDEN_COLUMNS)
    if hidden:
        raise ValueError(f"metadata column(s) {hidden} cannot be shown to labelers (ids, text or answers)")
    answers = [c for c in metadata if ANSWER_COLUMN.search(c)]
    if answers and not allow_answer_columns:
        raise ValueError(
            f"metadata column(s) {answers} look like answers (a winner, a preference, a score, a model, a "
            "judge's or another annotator's verdict) and would unblind the labels; leave them out, or pass "
            "allow_answer_columns=True if they really are not answers"
        )
    missing = [c for c in metadata if c not in items.columns]
    if missing:
        raise ValueError(f"metadata column(s) {missing} are not in the items; columns: {list(items.columns)}")
    return list(metadata)


_P = ParamSpec("_P")


def _release_team_on_failure(init: Callable[_P, None]) -> Callable[_P, None]:
    """A constructor that fails after leasing team items releases them (instead of leaving them leased for
    the lease time with no widget to label them)."""

    @functools.wraps(init)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            init(*args, **kwargs)
        except BaseException:
            team = getattr(args[0], "_team", None)
            if team is not None:
                try:
                    team.abandon()
                except Exception:
                    log.exception("RankWidget: could not release the leases of a failed constructor")
            raise

    return wrapper


class RankWidget(MessageDispatch, anywidget.AnyWidget):
    """Label preferences between model responses in a notebook: pairwise A/B with strength, or N-way rankings.

    ``RankWidget(items, *, annotator=None, task="pairwise", criteria=None, scale=5, rationale="optional",
    flags=None, guidelines=None, store=None, shuffle=True, seed=None, queue=None)``; see docs/labeling.md.
    Labels land in ``store`` (in memory unless given a path/URL/Store) and in ``w.labels``.
    """

    # Checked in __init__ so a missing build gets a clear error instead of an import failure.
    _esm = static_or_none(STATIC_JS)
    _css = static_or_none(STATIC_CSS)
    SHORTEN: ClassVar[str] = "the rationale or note"
    # The view bumps `stored` after each ack (see the trait); its validator keeps Python's count.
    VIEW_SETTABLE: ClassVar[frozenset[str]] = frozenset({"stored"})

    config = traitlets.Dict().tag(sync=True)
    guidelines = traitlets.Dict().tag(sync=True)
    window: traitlets.List[Any] = traitlets.List().tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    queue_length = traitlets.Int(0).tag(sync=True)
    progress = traitlets.Dict().tag(sync=True)
    guideline_ack = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    # The unsaved draft of the item at `position` ({"item_id", "draft"}, or {}): the view restores it when it
    # renders (page reload, a second view). Python's alone: a value the browser sets is replaced (see below).
    drafts = traitlets.Dict().tag(sync=True)
    # How many labels this widget stored (submits and skips, revisions included). The view bumps it after each
    # ack, so a host that re-runs cells only on a browser-side change (marimo's mo.ui.anywidget) sees every
    # submit (docs/hosts.md). Python's alone: whatever the browser proposes, the trait shows the count.
    stored = traitlets.Int(0).tag(sync=True)
    # Training mode (docs/qualification.md): feedback on the last stored qualification label, then the result.
    training = traitlets.Dict().tag(sync=True)
    # An LLM judge's verdict (suggestions=, docs/judges.md): {} until revealed
    suggestion = traitlets.Dict().tag(sync=True)

    @_release_team_on_failure
    def __init__(
        self,
        items: Any,
        *,
        annotator: str | None = None,
        task: str | None = None,
        criteria: Sequence[str] | None = None,
        scale: int = 5,
        rationale: str = "optional",
        flags: Sequence[str | Mapping[str, str]] | None = None,
        guidelines: Any = None,
        store: Any = None,
        shuffle: bool = True,
        seed: Any = None,
        queue: Sequence[str] | str | None = None,
        ratings_required: bool = False,
        max_rationale_chars: int = schema.MAX_RATIONALE_CHARS,
        collapse_chars: int = 3000,
        show_diff: bool = False,
        allow_remote_images: bool = False,
        metadata: Sequence[str] | None = None,
        overlap: int | None = None,
        dataset: str | None = None,
        allow_answer_columns: bool = False,
        keymap: Mapping[str, Any] | None = None,
        qualification: str | None = None,
        suggestions: str | None = None,
        reveal: str = "after",
        **unknown: Any,
    ) -> None:
        if unknown:
            raise TypeError(unknown_kwarg_message("RankWidget", unknown, _OPTIONS))
        ensure_static(type(self))
        self._opened_at = datetime.now(timezone.utc)
        self._history: deque[dict[str, Any]] = deque(maxlen=MAX_HISTORY)
        self._callbacks: list[Callable[[dict[str, Any]], Any]] = []
        self._draft_book = DraftBook()  # unsaved drafts by item id (memory only: drafts are not labels)

        self.annotator = resolve_annotator(annotator)
        if task is not None and task not in TASKS:
            raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}")
        crit = _criteria(criteria)
        scale = _int_option("scale", scale, 2, schema.MAX_SCALE)
        if rationale not in RATIONALE_RULES:
            raise ValueError(f"rationale must be one of {list(RATIONALE_RULES)}, got {rationale!r}")
        flag_list = _flags(flags)
        active_keymap = resolve_keymap(keymap)  # docs/labeling.md "Keyboard": refused before any store work
        max_rationale_chars = _int_option(
            "max_rationale_chars", max_rationale_chars, 1, schema.MAX_RATIONALE_CHARS
        )
        collapse_chars = _int_option("collapse_chars", collapse_chars, 0, 10_000_000)
        for name, value in (
            ("shuffle", shuffle),
            ("ratings_required", ratings_required),
            ("show_diff", show_diff),
            ("allow_remote_images", allow_remote_images),
        ):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False, got {value!r}")
        if ratings_required and not crit:
            raise ValueError("ratings_required=True needs criteria=[...] to rate on")
        self.rules = LabelRules(
            criteria=tuple(crit),
            scale=scale,
            flags=tuple(f["id"] for f in flag_list),
            rationale=rationale,
            max_rationale_chars=max_rationale_chars,
            ratings_required=ratings_required,
        )

        self.items = items_frame(items)
        if not isinstance(allow_answer_columns, bool):
            raise TypeError(f"allow_answer_columns must be True or False, got {allow_answer_columns!r}")
        metadata_columns = _metadata_columns(metadata, self.items, allow_answer_columns=allow_answer_columns)
        self.store: Store = _open_store(store)
        self.annotator = resolve_annotator(annotator, self.store.identity)  # access control: session_user
        # Qualification (docs/qualification.md): someone who has not passed it gets its items first.
        from .training import start as start_training
        from .training import training_guidelines

        self._training = start_training(self.store, self.annotator, qualification, dataset, guidelines)
        if self._training is not None:
            self.items, metadata_columns = items_frame(self._training.items()), []
            guidelines, queue, overlap, dataset = (
                training_guidelines(guidelines),
                self._training.item_ids,
                None,
                None,
            )
        # Team labelling (docs/team.md): the queue is this annotator's leased batch from the store.
        self._team: TeamSession | None = None
        if overlap is not None or dataset is not None:
            if queue is not None:
                raise ValueError(
                    "overlap=/dataset= take items from the store's team queue; drop queue= (active "
                    "sampling for a team: a lead runs rw.refresh_team_queue, docs/judges.md)"
                )
            if task is not None:  # checked before the items are registered and leased
                check_item_shapes(self.items, task, response_counts(self.items))
            from .team import TeamSession

            self._team = TeamSession(self.store, self.items, self.annotator, overlap=overlap, dataset=dataset)
        # Active sampling (docs/judges.md): an ActiveQueue draws from the store's labels, again as they come.
        self._active, queue = _start_active(queue, self.store, self.items)
        self._active_at = 0  # self._stored_count at the last draw
        queue_ids = self._team.item_ids if self._team else _queue_ids(queue, self.store, self.annotator)
        counts = response_counts(self.items)
        self.task, queue_ids = _choose_task(task, self.items, counts, queue_ids)
        self._queue = Queue(self.items, queue_ids)
        check_item_shapes(self.items, self.task, counts, self._queue.rows)
        self._guidelines: Guidelines = parse_guidelines(guidelines, self._resolve_position)
        self._acked: set[str] = set()
        if self._training is None:  # a calibration round's queue: the team's answers after each label
            from .calibration import for_queue

            self._training = for_queue(self.store, queue, self.annotator)  # type: ignore[assignment]
        self._payloads = PayloadBuilder(
            self._queue,
            self._guidelines,
            annotator=self.annotator,
            seed=seed,
            shuffle=shuffle,
            metadata_columns=metadata_columns,
            allow_answers=allow_answer_columns,
        )
        # This annotator's current labels: for resume, progress and the Back prefill.
        self._labels = CurrentLabels(
            self.store,
            self.annotator,
            since=self._training.since()
            if self._training
            else _queue_since(queue, self.store, self.annotator),
        )
        self._session_log = SessionLog()  # this session's submits and skips: undo and the history panel
        self._notes = ReviewNotes(self.store, self.annotator)  # re-queue reasons, comments on the labels
        # Queue items labelled by anyone (the team's progress): never more than the queue's length.
        self._covered = self._covered_in_queue()
        self._store_done_at = time.monotonic()
        queued = self._queue.position_of
        in_queue = [status for iid, (_, status, _) in self._labels.meta.items() if queued(iid) is not None]
        self._done = in_queue.count("submitted")
        self._skipped = len(in_queue) - self._done
        self._stored_count = 0  # the `stored` trait: labels stored by this widget
        # Positions whose payload the view was sent (and still keeps).
        self._sent: set[int] = set()
        # Items ever sent to the view this session: a submit for any other item is refused.
        self._shown_ids: set[str] = set()
        self._last_position = -1
        self._ready = False

        config = {
            "task": self.task,
            "criteria": crit,
            "scale": scale,
            "rationale": rationale,
            "max_rationale_chars": max_rationale_chars,
            "flags": flag_list,
            "annotator": self.annotator,
            "show_diff": show_diff and self.task == "pairwise",
            "collapse_chars": collapse_chars,
            "allow_remote_images": allow_remote_images,
            "ratings_required": ratings_required,
            "keymap": active_keymap,
            # False for ":memory:": the view then says "Not saved to disk", never "Saved ✓" (issue 14).
            "durable": self.store.db.target.kind != "sqlite-memory",
        }
        # A withdrawn label (an undo) leaves its item to label again.
        judge, reveal = check_suggestions(suggestions, reveal)
        self._suggester = Suggester(self.store, judge, reveal) if judge is not None else None
        start = self._queue.first_not_in([i for i, m in self._labels.meta.items() if m[1] != "withdrawn"])
        super().__init__(config=config, queue_length=len(self._queue), position=start)
        self._ready = True
        self._refresh(force=True, shown=True)
        if self._training is not None:
            self._publish_training()
        self.on_msg(self._on_custom_msg)

    # -- public API ------------------------------------------------------------------------------------------

    @property
    def labels(self) -> pd.DataFrame:
        """This annotator's current labels (latest revision per item), read from the store.

        ``w.store.labels()`` has every revision of every annotator.
        """
        return self.store.current(annotator=self.annotator)

    @property
    def history(self) -> pd.DataFrame:
        """Every event of this widget (the latest 200,000): shown, submit, skip, ack, reject, navigate,
        guidelines, error; with UTC times."""
        return pd.DataFrame(list(self._history), columns=list(HISTORY_COLUMNS))

    @property
    def current_item(self) -> dict[str, Any]:
        """The item at ``position`` as the view gets it (responses in display order, no model names)."""
        return self._payload(self.position)

    def goto(self, target: int | str) -> None:
        """Move to a queue position (int) or an item id (str)."""
        if isinstance(target, str):
            pos = self._queue.position_of(target)
            if pos is None:
                raise KeyError(f"item {target!r} is not in this widget's queue")
            self._move(pos)
        elif isinstance(target, int) and not isinstance(target, bool):
            if not 0 <= target < len(self._queue):
                raise IndexError(f"position {target} is outside the queue 0..{len(self._queue) - 1}")
            self._move(target)
        else:
            raise TypeError(
                f"goto takes a queue position (int) or an item id (str), got {type(target).__name__}"
            )

    def on_submit(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Call ``callback(label_record)`` after each label is durably stored (duplicates excluded)."""
        if not callable(callback):
            raise TypeError("on_submit needs a callable taking the label record")
        self._callbacks.append(callback)

    # -- messages --------------------------------------------------------------------------------------------

    # handle_message (MessageDispatch) checks the envelope and calls these; a submit acks itself, once stored.

    def _message_handlers(self) -> Mapping[str, Handler]:
        return {
            "submit": self._submit,
            "navigate": self._navigate,
            "ack_guidelines": self._ack_guidelines,
            "draft": self._draft,
            "undo": self._undo,
            "history": self._send_history,
            "note_read": self._note_read,
            "feedback_read": self._feedback_read,
        }

    def _record(self, env: Envelope, outcome: str, detail: str) -> None:
        if outcome == "reject":
            detail = f"{env.kind}: {detail}"
        self._log(outcome, None, env.item_id, env.client_id, detail)

    def _replies_to(self, env: Envelope) -> bool:
        # A bad navigate/ack_guidelines from the view is only logged; the view waits for no reply to them.
        return env.kind == "submit" or env.client_id is not None

    def _reply_context(self, env: Envelope) -> dict[str, Any]:
        return {"item_id": env.item_id}

    def _failure_message(self, exc: Exception) -> str:
        return f"could not save ({type(exc).__name__}: {exc}); try again, and if it persists check the store"

    def _submit(self, content: Mapping[str, Any]) -> None:
        client_id, item_id, index, label = check_envelope(content)
        if self._training is not None:
            self._training.check_submit(item_id)  # the feedback on the previous item is read first
        if not 0 <= index < len(self._queue):
            raise Rejected(
                "index", f"{index} is outside the queue 0..{len(self._queue) - 1}; reload the widget"
            )
        next_index = check_next(content, index, len(self._queue))
        if self._queue.ids[index] != item_id:
            raise Rejected(
                "item_id", f"item {item_id[:80]!r} is not the item at position {index}; reload the widget"
            )
        if item_id not in self._shown_ids:
            raise Rejected("item_id", f"item {item_id[:80]!r} was never sent to this view; reload the widget")
        version = self._guidelines.version_at(index)
        # The view knows the responses by their wire ids (r1..rN on screen); the record gets the real ones.
        real_order = self._payloads.order(index)
        wire = wire_ids(real_order)
        item = ItemContext(
            index=index,
            item_id=item_id,
            response_ids=[wire[r] for r in real_order],
            display_order=[wire[r] for r in real_order],
            guideline_version=version,
            guideline_needs_ack=self._guidelines.needs_ack(version),
            guideline_acknowledged=version in self._acked,
        )
        record = build_record(
            label,
            client_id=client_id,
            item=item,
            annotator=self.annotator,
            task=self.task,
            rules=self.rules,
            opened_at=self._opened_at,
        )
        record = map_label_ids(record, {w: r for r, w in wire.items()})
        self._log("submit" if record["status"] == "submitted" else "skip", index, item_id, client_id, "")
        response_ids = self._queue.response_ids(index)
        try:
            # Checked here too so a rule failure is a reject before the store is touched.
            valid = schema.validate_label(record, response_ids=response_ids, rules=self.rules)
            result = self.store.append(record, response_ids=response_ids, rules=self.rules)
        except LabelError as exc:
            raise Rejected(exc.field, scrub_ids(exc.problem, wire)) from exc
        if result.duplicate:  # an exact replay is acked; the same id for another label is an error
            stored = self.store.labels(annotator=self.annotator, item_ids=[item_id], source="widget")
            mismatch = replay_mismatch(stored, valid)
            if mismatch is not None:
                raise replay_rejection(client_id, mismatch)
        # Durable now: only from here on may the view show "saved". Nothing after this point may turn into
        # a reject: the label is stored, so later failures are logged, never reported as "not saved".
        if self._suggester is not None and not result.duplicate:
            try:  # the suggestion mode this label was made under (docs/judges.md); never blocks the ack
                write_notes(self.store, [self._suggester.note(result.label_id, item_id, self.annotator)])
            except Exception as exc:
                log.exception("RankWidget: could not record the suggestion mode")
                self._log("error", index, item_id, client_id, f"suggestion note: {type(exc).__name__}: {exc}")
        try:
            self.send(
                {
                    "type": "ack",
                    "client_id": client_id,
                    "item_id": item_id,
                    "label_id": result.label_id,
                    "revision": result.revision,
                    "duplicate": result.duplicate,
                }
            )
            self._log(
                "ack",
                index,
                item_id,
                client_id,
                f"revision {result.revision}" + (" (duplicate)" if result.duplicate else ""),
            )
            if not result.duplicate:
                record.update(revision=result.revision, supersedes=result.supersedes)
                self._after_store(record, index, next_index)
            if self._suggester is not None and self._suggester.reveal == "after":
                self.suggestion = self._suggester.message(item_id, wire)  # only now: the label is stored
        except Exception as exc:
            log.exception("RankWidget: error after storing a label")
            self._log("error", index, item_id, client_id, f"after storing: {type(exc).__name__}: {exc}")

    def _after_store(self, record: dict[str, Any], index: int, next_index: int | None = None) -> None:
        if self._training is not None:  # the label is stored: only now may its answer reach the view
            order = self._payloads.order(index)
            self._training.after_store(record, order, wire_ids(order))
            self._publish_training()
        if self._draft_book.clear(record["item_id"]):  # the label supersedes the draft
            self._publish_draft()
        if self._team is not None:
            self._team.renew()  # the label completed its lease; keep the rest of the batch leased
            self._team_refill(index)
        self._stored_count += 1
        self.stored = self._stored_count
        if self._active is not None:
            self._active_refill(index)
        previous = self._labels.stored(record)
        was = previous[1] if previous else None
        self._done += (record["status"] == "submitted") - (was == "submitted")
        self._skipped += (record["status"] == "skipped") - (was == "skipped")
        if record["status"] == "submitted":
            self._covered.add(record["item_id"])
        self._session_log.add(record, index)
        # The view went on to `next_index` (the next item, or back to where the labeler was: issue 14).
        target = min(index + 1 if next_index is None else next_index, len(self._queue) - 1)
        if self.position == index and target > index:
            self._move(target)  # refreshes window and progress
        else:
            self._refresh()
        for callback in list(self._callbacks):
            try:
                callback(dict(record))
            except Exception as exc:
                log.exception("RankWidget: on_submit callback failed")
                self._log(
                    "error",
                    index,
                    record["item_id"],
                    record["label_id"],
                    f"on_submit callback: {type(exc).__name__}: {exc}",
                )

    def _team_refill(self, index: int) -> None:
        """Near the end of a team batch, lease the next items and append them to the queue (docs/team.md)."""
        from .team import TEAM_BATCH, TEAM_REFILL_AT

        left = len(self._queue) - 1 - index
        if self._team is None or left >= TEAM_REFILL_AT:
            return

        def fits(item_id: str) -> bool:  # the item has the responses this session's task needs
            row = self._queue.row_of(item_id)
            responses: Any = [] if row is None else self.items["responses"].iat[row]
            return len(responses) == 2 if self.task == "pairwise" else len(responses) >= 2

        fresh = self._team.more(TEAM_BATCH - left, self._queue.position_of, fits)
        if fresh:
            self._queue.extend(fresh)
            self.queue_length = len(self._queue)

    def _active_refill(self, index: int) -> None:
        """An ActiveQueue draws its next items from the store's labels every ``refresh_every`` labels (or when
        its items run out); they are appended, so no position moves (docs/judges.md)."""
        left = len(self._queue) - 1 - index
        if not self._active.due(self._stored_count - self._active_at, left):
            return
        self._active_at = self._stored_count
        counts = response_counts(self.items)
        fits = counts == 2 if self.task == "pairwise" else counts >= 2
        unfit = self.items["item_id"][~fits].tolist()
        fresh = self._active.draw(self.store.current(), self.items, exclude=[*self._queue.ids, *unfit])
        if fresh:
            self._queue.extend(fresh)
            self.queue_length = len(self._queue)

    def _current_label_ids(self) -> dict[str, str | None]:
        return {e.item_id: self._labels.label_id(e.item_id) for e in self._session_log.entries}

    def _undo_target(self) -> Entry | None:
        """The label `z` would withdraw, after re-reading its item in the store (another tab or kernel of
        this annotator may have labelled it since: then it is no longer this session's to undo)."""
        entry = self._session_log.undo_target(self._current_label_ids())
        if entry is not None:
            self._reread(entry.item_id)
            entry = self._session_log.undo_target(self._current_label_ids())
        return entry

    def undo(self) -> dict[str, Any]:
        """Withdraw this session's last submit or skip (what ``z`` does): appends a ``withdrawn`` revision and
        moves to that item. Returns the new revision's record; a LookupError when there is nothing to undo."""
        entry = self._undo_target()
        if entry is None:
            raise LookupError("nothing to undo: this session has no submit or skip that is still current")
        return self._withdraw(entry, str(uuid.uuid4()))

    def _undo(self, content: Mapping[str, Any]) -> None:
        """The view's `z`: undo the last submit or skip of this session (its `label_id` is checked against
        this session's own log; null means 'the last one'). Acks once the withdrawn revision is stored."""
        client_id, label_id = check_undo_message(content)
        entry = self._undo_target()
        if entry is None:
            raise Rejected("label_id", "nothing to undo: this session has no submit or skip left to undo")
        if label_id is not None and label_id != entry.label_id:
            raise Rejected(
                "label_id",
                f"{label_id[:80]!r} is not this session's last label (that is item {entry.item_id!r}); "
                "press z again to undo that one",
            )
        record = self._withdraw(entry, client_id)
        self.send(
            {
                "type": "ack",
                "of": "undo",
                "client_id": client_id,
                "item_id": entry.item_id,
                "label_id": record["label_id"],
                "revision": record["revision"],
                "detail": entry.label_id,
            }
        )

    def _withdraw(self, entry: Entry, label_id: str) -> dict[str, Any]:
        record = withdrawn_record(entry, label_id)
        response_ids = self._queue.response_ids(entry.index)
        try:
            result = self.store.append(record, response_ids=response_ids, rules=self.rules)
        except LabelError as exc:
            raise Rejected(exc.field, exc.problem) from exc
        record.update(revision=result.revision, supersedes=result.supersedes)
        entry.undone_by = result.label_id
        self._log(
            "undo", entry.index, entry.item_id, label_id, f"withdrew {entry.label_id} (rev {result.revision})"
        )
        previous = self._labels.stored(record)
        was = previous[1] if previous else None
        self._done -= was == "submitted"
        self._skipped -= was == "skipped"
        if was == "submitted":
            self._covered = self._covered_in_queue()  # the team count: another annotator may still cover it
        if self._draft_book.clear(entry.item_id):
            self._publish_draft()
        if self.position != entry.index:
            self._move(entry.index)  # back to the undone item, to label it again
        else:
            self._refresh(force=True, shown=True)
        return record

    def _send_history(self, content: Mapping[str, Any]) -> None:
        """The history panel asks for this session's recent labels (answered with a `history` message)."""
        check_fields(content, set())
        self.send({"type": "history", "entries": self._session_log.view(self._current_label_ids())})

    def _note_read(self, content: Mapping[str, Any]) -> None:
        """The annotator marked a lead's comment on their label as read (only comments on items shown)."""
        comment_id = check_note_read(content)
        item_id = self._notes.comment_of(comment_id)
        if item_id is None or item_id not in self._shown_ids:
            raise Rejected("comment_id", f"{comment_id[:80]!r} is not a comment on an item shown here")
        self._notes.mark_read(comment_id)
        self._log("note_read", self._queue.position_of(item_id), item_id, None, comment_id)

    def _navigate(self, content: Mapping[str, Any]) -> None:
        check_fields(content, {"to"})
        to = content.get("to")
        if isinstance(to, bool) or not isinstance(to, int):
            raise Rejected("to", f"must be an integer queue position, got {type(to).__name__}")
        target = min(max(to, 0), len(self._queue) - 1)
        self._log("navigate", target, self._queue.ids[target], None, f"from {self.position}")
        self._move(target)

    def _ack_guidelines(self, content: Mapping[str, Any]) -> None:
        check_fields(content, {"version"}, article="an")
        version = content.get("version")
        if not isinstance(version, str) or not self._guidelines.known(version):
            raise Rejected("version", f"{str(version)[:80]!r} is not a guidelines version of this session")
        self._acked.add(version)
        self.guideline_ack = version
        self._log("guidelines", self.position, None, None, f"acknowledged version {version}")

    def _draft(self, content: Mapping[str, Any]) -> None:
        """Keep the view's unsaved draft of an item it was shown (memory only; no reply: the view waits for
        none). A refused draft changes nothing and is only recorded in the history."""
        item_id, draft = check_draft_message(content)
        position = self._queue.position_of(item_id)
        if position is None or item_id not in self._shown_ids:
            raise Rejected("item_id", f"{item_id[:80]!r} was not shown in this widget; reload the widget")
        # The view knows responses by their wire ids (r1..rN): drafts are checked, kept and restored in them.
        wire = wire_ids(self._payloads.order(position))
        ctx = DraftContext(self.task, self.rules, list(wire.values()))
        self._draft_book.keep(item_id, check_draft(draft, ctx))
        self._log("draft", position, item_id, None, f"{len(draft.get('rationale') or '')} rationale chars")
        if position == self.position:
            self._publish_draft()

    def _draft_view(self) -> dict[str, Any]:
        """The value of the `drafts` trait: the draft of the item at `position`, if there is one."""
        if not getattr(self, "_ready", False):
            return {}
        item_id = self._queue.ids[self.position]
        draft = self._draft_book.get(item_id)
        return {"item_id": item_id, "draft": dict(draft)} if draft is not None else {}

    def _feedback_read(self, content: Mapping[str, Any]) -> str:
        if self._training is None:
            raise Rejected("type", "this widget is not training for a qualification")
        self._training.read(content)
        self._publish_training()
        return "feedback read"

    def _training_view(self) -> dict[str, Any]:
        if getattr(self, "_training", None) is None or not getattr(self, "_ready", False):
            return {}
        return self._training.view({iid: i for i, iid in enumerate(self._queue.ids)})  # type: ignore[union-attr]

    def _publish_training(self) -> None:
        self.training = self._training_view()

    @traitlets.validate("training")
    def _only_python_training(self, proposal: Any) -> dict[str, Any]:
        return self._training_view()  # the browser cannot set it

    @property
    def qualification_result(self) -> Any:
        """The scored qualification attempt of this widget's training (None before the last item)."""
        return None if self._training is None else self._training.result

    def _publish_draft(self) -> None:
        self.drafts = self._draft_view()

    @traitlets.validate("stored")
    def _only_stored_count(self, proposal: Any) -> int:
        if isinstance(proposal["value"], bool):
            raise traitlets.TraitError("stored must be an integer, got a bool")
        return int(getattr(self, "_stored_count", 0))  # whatever the view proposes: Python's count

    @traitlets.validate("drafts")
    def _only_kept_drafts(self, proposal: Any) -> dict[str, Any]:
        # Whatever is proposed (an `update` from the browser included), the trait shows the kept draft.
        return self._draft_view()

    @traitlets.observe("position")
    def _draft_follows_position(self, change: Any) -> None:
        if getattr(self, "_ready", False):
            self._publish_draft()

    # -- state -----------------------------------------------------------------------------------------------

    @traitlets.validate("position")
    def _clamp_position(self, proposal: Any) -> int:
        n = max(1, len(self._queue)) if hasattr(self, "_queue") else 1
        return int(min(max(int(proposal["value"]), 0), n - 1))

    @traitlets.observe("position")
    def _position_changed(self, change: Any) -> None:
        if getattr(self, "_ready", False):
            self._refresh(shown=True)

    def _move(self, position: int) -> None:
        # One comm message carries position with the window/guidelines/progress it needs.
        with self.hold_sync():
            self.position = position

    def _payload(self, position: int) -> dict[str, Any]:
        item_id = self._queue.ids[position]
        out = self._payloads.payload(position, self._labels.records([item_id]).get(item_id))
        notes = self._notes.for_item(item_id)
        if notes:
            out["notes"] = notes  # a lead's re-queue reason and comments (untrusted text)
        return out

    def _refresh(self, *, force: bool = False, shown: bool = False) -> None:
        """Bring window, guidelines and progress in line with ``position``.

        The view keeps every item it is sent (keyed by index), so ``window`` carries the current item (always:
        a newly created view can render it, and its ``label`` is the latest for Back/re-label prefill) plus
        the prefetch items the view has not had yet. One step costs the current item and at most one new item
        (design §8 budget: 2 x the item text + 4 KB; benchmarks/bench_widget_model.py). Going back, the
        prefetch extends backwards.
        """
        pos = self.position
        ids = self._queue.ids
        if force:
            self._sent.clear()
        elif shown:
            self._reread(ids[pos])
            self._notes.reread(ids[pos])
        wanted = window_positions(pos, len(self._queue), backward=pos < self._last_position)
        fresh = [p for p in wanted if p == pos or p not in self._sent]
        with self.hold_sync():
            self._labels.records([ids[p] for p in fresh])  # one store query for the labelled ones
            self.window = [self._payload(p) for p in fresh]
            self._shown_ids.update(ids[p] for p in fresh)
            self._sent = {p for p in self._sent.union(fresh) if abs(p - pos) <= SENT_RADIUS}
            self.guidelines = self._guidelines.payload(pos)
            self.progress = self._progress()
            if self._suggester is not None and self._suggester.reveal == "before":
                self.suggestion = self._suggester.message(ids[pos], self._payloads.ids(pos))
        self._last_position = pos
        if shown:
            self._log("shown", pos, self._queue.ids[pos], None, "")

    def _reread(self, item_id: str) -> None:
        """The item on screen shows this annotator's newest label, also one saved by another session of the
        same annotator (a second tab or kernel on the same store) since this widget last read it."""
        try:
            before, now = self._labels.reread(item_id)
        except Exception as exc:  # the cached label is still shown; a store hiccup must not block navigation
            log.warning("RankWidget: could not re-read the label of %r: %s", item_id, exc)
            return
        if now != before and now is not None and self._queue.position_of(item_id) is not None:
            was = before[1] if before else None
            self._done += (now[1] == "submitted") - (was == "submitted")
            self._skipped += (now[1] == "skipped") - (was == "skipped")

    def _progress(self) -> dict[str, int]:
        if time.monotonic() - self._store_done_at > STORE_COUNT_REFRESH_S:
            self._covered = self._covered_in_queue()  # pick up teammates' labels on a shared store
            self._store_done_at = time.monotonic()
        n = len(self._queue)
        return {
            "done": self._done,
            "total": n,
            "skipped": self._skipped,
            "store_done": len(self._covered),
            "store_total": n,
        }

    def _covered_in_queue(self) -> set[str]:
        queued = self._queue.position_of
        return {iid for iid in self.store.covered_item_ids() if queued(iid) is not None}

    def _resolve_position(self, target: Any) -> int:
        if isinstance(target, bool):
            raise TypeError(f"from_item must be a queue position or an item id, got {target!r}")
        if isinstance(target, int):
            if not 0 <= target < len(self._queue):
                raise ValueError(f"from_item {target} is outside the queue 0..{len(self._queue) - 1}")
            return target
        if isinstance(target, str):
            pos = self._queue.position_of(target)
            if pos is None:
                raise ValueError(f"from_item {target!r} is not an item id in this widget's queue")
            return pos
        raise TypeError(f"from_item must be a queue position or an item id, got {type(target).__name__}")

    def _log(
        self, event: str, index: int | None, item_id: str | None, client_id: str | None, detail: str
    ) -> None:
        self._history.append(
            {
                "time": datetime.now(timezone.utc),
                "event": event,
                "index": index,
                "item_id": item_id,
                "client_id": client_id,
                "detail": detail,
            }
        )


# -- argument checking ---------------------------------------------------------------------------------------

_OPTIONS = (
    "keymap",
    "qualification",
    "suggestions",
    "reveal",
    "annotator",
    "task",
    "criteria",
    "scale",
    "rationale",
    "flags",
    "guidelines",
    "store",
    "shuffle",
    "seed",
    "queue",
    "overlap",
    "dataset",
    "ratings_required",
    "max_rationale_chars",
    "collapse_chars",
    "show_diff",
    "allow_remote_images",
    "metadata",
    "allow_answer_columns",
)


def _criteria(value: Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise TypeError(f"criteria must be a list of names, e.g. ['helpfulness'], got {value!r}")
    if len(value) > MAX_CRITERIA:
        raise ValueError(f"at most {MAX_CRITERIA} criteria, got {len(value)}")
    for c in value:
        if not isinstance(c, str) or not c.strip() or len(c) > 64:
            raise ValueError(f"each criterion must be a non-empty string of at most 64 characters, got {c!r}")
    if len(set(value)) != len(value):
        dup = next(c for c in value if list(value).count(c) > 1)
        raise ValueError(f"criterion {dup!r} is listed twice")
    return list(value)


def _int_option(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer {lo}..{hi}, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be {lo}..{hi}, got {value}")
    return int(value)


def _flags(value: Sequence[str | Mapping[str, str]] | None) -> list[dict[str, str]]:
    if value is None:
        return [{"id": f, "label": FLAG_LABELS.get(f, f)} for f in DEFAULT_FLAGS]
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise TypeError(f"flags must be a list of flag ids or {{'id', 'label'}} dicts, got {value!r}")
    if len(value) > schema.MAX_FLAGS:
        raise ValueError(f"at most {schema.MAX_FLAGS} flags, got {len(value)}")
    out = []
    for i, f in enumerate(value):
        if isinstance(f, str):
            fid, label = f, FLAG_LABELS.get(f, f.replace("_", " ").capitalize())
        elif isinstance(f, Mapping):
            extra = sorted(set(f) - {"id", "label"})
            if extra or "id" not in f:
                raise ValueError(f"flags[{i}] must have 'id' (and optionally 'label'), got keys {sorted(f)}")
            fid, label = f["id"], f.get("label", f["id"])
        else:
            raise TypeError(f"flags[{i}] must be a string or {{'id', 'label'}}, got {type(f).__name__}")
        if not isinstance(fid, str) or not fid or len(fid) > 64:
            raise ValueError(
                f"flags[{i}]: id must be a non-empty string of at most 64 characters, got {fid!r}"
            )
        if not isinstance(label, str) or not label or len(label) > MAX_FLAG_LABEL_CHARS:
            raise ValueError(
                f"flags[{i}]: label must be a non-empty string of at most {MAX_FLAG_LABEL_CHARS} characters"
            )
        out.append({"id": fid, "label": label})
    ids = [f["id"] for f in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"flag id {next(i for i in ids if ids.count(i) > 1)!r} is listed twice")
    return out


def _is_store(value: Any) -> bool:
    from .store import Store

    return isinstance(value, Store)


def _open_store(value: Any) -> Store:
    from .store import StoreError, open_store

    if value is None:
        return open_store(":memory:")
    if not (isinstance(value, (str, os.PathLike)) or _is_store(value)):
        raise TypeError(f"store must be None, a path, a database URL or a Store, got {type(value).__name__}")
    store = open_store(value)
    if getattr(store, "read_only", False):  # refused now, not at the first submit of a labeling session
        raise StoreError(
            f"{store.url}: was opened with read_only=True, and RankWidget saves every label to its store: "
            "open it without read_only (from a writable location) to label; AuditWidget reads it as it is"
        )
    return store


def _queue_ids(queue: Any, store: Store, annotator: str) -> list[str] | None:
    if queue is None:
        return None
    if isinstance(queue, str):
        # Named queues (team assignment, issue 5) come from the store.
        named = getattr(store, "queue_item_ids", None)
        if named is None:
            raise ValueError(
                f"queue={queue!r} names a queue, but this store has no named queues; pass a list "
                "of item ids instead"
            )
        if queue == "disagreements":
            # The store ranks this computed queue by scores it is given: agreement is analysis, not storage.
            from .quality.interrater import disagreement_scores

            return list(named(queue, annotator, scores=disagreement_scores(store.current())))
        return list(named(queue, annotator))
    if isinstance(queue, (list, tuple, pd.Series, pd.Index)):
        return list(queue)
    raise TypeError(f"queue must be None, a list of item ids, or a queue name, got {type(queue).__name__}")


def _start_active(queue: Any, store: Store, items: pd.DataFrame) -> tuple[Any, Any]:
    """(the ActiveQueue or None, the queue to use now: an ActiveQueue's first draw from the store)."""
    if queue is None or isinstance(queue, (str, list, tuple, pd.Series, pd.Index)):
        return None, queue
    from .active import ActiveQueue

    if isinstance(queue, ActiveQueue):
        return queue, queue.draw(store.current(), items)
    return None, queue


def _queue_since(queue: Any, store: Store, annotator: str) -> dict[str, str]:
    """For a stored named queue: when each item was (re-)queued, so only labels made after that count."""
    since = getattr(store, "queue_since", None)
    if not isinstance(queue, str) or since is None:
        return {}
    return dict(since(queue, annotator))


def _choose_task(
    task: str | None, items: pd.DataFrame, counts: np.ndarray, queue_ids: list[str] | None
) -> tuple[str, list[str] | None]:
    """task=None: pairwise when the items are pairs. Without a queue, a mix labels its pairs (with a warning
    naming how many items are left out); items that are all 3+ responses are ranked."""
    if task is not None:
        return task, queue_ids
    if queue_ids is not None:
        rows = items["item_id"].reset_index(drop=True)
        wanted = counts[rows.isin(set(queue_ids)).to_numpy()]
        return ("pairwise" if (wanted == 2).all() else "ranking"), queue_ids
    pairs = counts == 2
    if pairs.all():
        return "pairwise", None
    if not pairs.any():
        return "ranking", None
    left_out = int((~pairs).sum())
    warnings.warn(
        f"RankWidget: a pairwise session over the {int(pairs.sum())} items with 2 responses; {left_out} "
        f"items with another number of responses are left out (task='ranking' ranks all {len(counts)}, "
        "task='pairwise' makes this an error)",
        UserWarning,
        stacklevel=3,
    )
    return "pairwise", items["item_id"][pairs].tolist()
