"""Training mode: ``RankWidget(..., qualification="q-v1")`` serves a qualification's items with feedback
(issue 11; docs/qualification.md).

The widget's side of a qualification attempt. The items come from the store without their answers; after
each label is stored (``after_store``, called once the store has committed it) the ``training`` trait gets the
feedback for that item: matched or not, the expected answer, the explanation. Until the labeler has read it
(a ``feedback_read`` message from the view) no other submit is accepted. When every item has a label the
attempt is scored and stored at once (``rank_widget.qualification.finish_attempt``); the result (score,
per-criterion breakdown, what to review, when a retry is allowed) is shown after the last feedback is read.

The gold answer of an item never reaches the browser before that item's label is stored: the items frame
built here has no ``gold``/``explanation``/``gold_ratings`` column, and ``feedback`` is only ever built for
a stored label.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from . import qualification as scoring
from ._protocol import Rejected, check_fields
from .schema import MAX_ID_CHARS, TIE
from .store import Store
from .store import qualification as stored

_ANSWER_KEYS = ("gold", "gold_ratings", "explanation")


def requalify_versions(guidelines: Any) -> list[str]:
    """Versions of a ``guidelines=`` argument marked ``requalify=True`` (read before the queue exists; the
    argument itself is validated by ``parse_guidelines``)."""
    entries = guidelines if isinstance(guidelines, (list, tuple)) else [guidelines]
    return [
        str(e["version"])
        for e in entries
        if isinstance(e, Mapping) and e.get("requalify") is True and e.get("version") is not None
    ]


def training_guidelines(guidelines: Any) -> Any:
    """In training, the newest guideline version applies to every qualification item (``from_item`` names
    production positions, which the training queue does not have)."""
    if isinstance(guidelines, (list, tuple)) and guidelines and isinstance(guidelines[-1], Mapping):
        last = guidelines[-1]
        return {k: v for k, v in last.items() if k in ("version", "markdown")}
    return guidelines


def needed(store: Store, annotator: str, qualification: str | None, dataset: str | None) -> str | None:
    """The qualification ``annotator`` must take now: the one named, or the first one ``dataset`` requires
    that they lack; None when they are qualified (or nothing is required)."""
    if qualification is None:
        if dataset is None:
            return None
        names = stored.required_qualifications(store, dataset)
        missing = [n for n in names if not stored.status(store, n, annotator)["qualified"]]
        return missing[0] if missing else None
    return None if stored.status(store, qualification, annotator)["qualified"] else qualification


def _letter(i: int) -> str:
    return string.ascii_uppercase[i] if i < 26 else str(i + 1)


def describe(answer: Mapping[str, Any], order: Sequence[str]) -> str:
    """An answer in the labeler's terms: responses by their letter on screen (A = shown first)."""
    pos = {rid: _letter(i) for i, rid in enumerate(order)}
    if "winner" in answer:
        winner = answer["winner"]
        if winner is None:
            return "no answer"
        if winner == TIE:
            return "A tie: neither response is better"
        strength = answer.get("strength")
        more = f" (strength {strength})" if strength is not None else ""
        return f"Response {pos.get(winner, '?')} is better{more}"
    groups = answer.get("ranking") or []
    if not groups:
        return "no answer"
    return " > ".join(" = ".join(sorted(pos.get(r, "?") for r in g)) for g in groups)


def check_feedback_read(content: Mapping[str, Any], pending: Mapping[str, Any] | None) -> None:
    """Refuse a ``feedback_read`` message that is malformed or names feedback other than ``pending``
    (shared by training and calibration rounds)."""
    check_fields(content, {"item_id", "client_id"})
    item_id = content.get("item_id")
    if not isinstance(item_id, str) or len(item_id) > MAX_ID_CHARS:
        raise Rejected("item_id", f"must be a string of at most {MAX_ID_CHARS} characters")
    if pending is None or pending["item_id"] != item_id:
        raise Rejected("item_id", f"no feedback on {item_id[:80]!r} is waiting to be read")


class Training:
    """One qualification attempt in a widget (see the module docstring)."""

    def __init__(self, store: Store, name: str, annotator: str) -> None:
        self.store = store
        self.name = name
        self.annotator = annotator
        self.attempt = stored.start_attempt(store, name, annotator)  # refused: no attempts left, cool-down
        self.spec = stored.qualification(store, name, self.attempt["version"])
        self._items = {i["item_id"]: i for i in self.spec["items"]}
        self._answered: set[str] = set()
        self._pending: dict[str, Any] | None = None  # feedback on screen, not yet read
        self._result: scoring.AttemptResult | None = None
        self._shown_result = False
        row = stored.attempts(store, name, annotator)
        started = row.loc[row["attempt_id"] == self.attempt["attempt_id"], "started_at"]
        self.started_at = (
            started.iloc[0].isoformat() if len(started) else datetime.now(timezone.utc).isoformat()
        )

    @property
    def item_ids(self) -> list[str]:
        return list(self._items)

    def items(self) -> pd.DataFrame:
        """The qualification items as an items frame, without their answers (what the view may get)."""
        rows = [{k: v for k, v in item.items() if k not in _ANSWER_KEYS} for item in self.spec["items"]]
        return pd.DataFrame(rows)

    def since(self) -> dict[str, str]:
        """Labels of the qualification items from before this attempt are not this attempt's. Only the items
        labelled before (a retry) are listed: a listed item is re-read in full on each step (session.py)."""
        before = self.store.labelled_item_ids(self.annotator) & set(self._items)
        return dict.fromkeys(sorted(before), self.started_at)

    @property
    def result(self) -> scoring.AttemptResult | None:
        return self._result

    # -- the flow --------------------------------------------------------------------------------------------

    def check_submit(self, item_id: str) -> None:
        """Refuse a submit while the feedback on the previous item is unread, or after the attempt closed."""
        if self._pending is not None:
            raise Rejected(
                "item_id",
                "read the feedback on the previous item first (the Next button under it), then label "
                "this one",
            )
        if self._result is not None:
            raise Rejected("item_id", "this qualification attempt is finished; its result is shown")

    def after_store(self, record: Mapping[str, Any], order: Sequence[str], wire: Mapping[str, str]) -> None:
        """The label of a qualification item is stored: score it and hold its feedback until read."""
        item = self._items.get(str(record["item_id"]))
        if item is None:
            return
        if item.get("gold") is None:  # access control: the answer is readable now its label is stored
            revealed = stored.answers(self.store, self.name, self.attempt["version"]).get(item["item_id"])
            if revealed is None:
                raise RuntimeError(f"{self.store.db.url}: the answer to {item['item_id']!r} is not readable")
            item = self._items[item["item_id"]] = {**item, **revealed}
        scored = scoring.score_item(item, record, self.spec["scoring"])
        gold = item["gold"]
        given = {"winner": record.get("winner"), "strength": record.get("strength")}
        if "ranking" in gold:
            given = {"ranking": record.get("ranking")}
        self._pending = {
            "item_id": item["item_id"],
            "matched": bool(scored["matched"]),
            "skipped": record.get("status") != "submitted",
            "checks": {k: bool(v) for k, v in scored["checks"].items()},
            "expected": describe(gold, order),
            "given": describe(given, order) if record.get("status") == "submitted" else "skipped",
            "explanation": item.get("explanation") or "",
            "expected_ratings": _wire_ratings(item.get("gold_ratings"), wire),
            "number": len(self._answered | {item["item_id"]}),
            "total": len(self._items),
        }
        self._answered.add(item["item_id"])
        if self._answered >= set(self._items) and self._result is None:
            self._result = scoring.finish_attempt(self.store, self.attempt["attempt_id"])

    def read(self, content: Mapping[str, Any]) -> None:
        """A ``feedback_read`` message: ``{"type", "item_id"}`` of the feedback on screen (``client_id``
        optional: with it the message is answered with an ack or reject)."""
        check_feedback_read(content, self._pending)
        self._pending = None
        if self._result is not None:
            self._shown_result = True

    def view(self, positions: Mapping[str, int]) -> dict[str, Any]:
        """The ``training`` trait: what the view shows now (never an answer before its label is stored)."""
        out: dict[str, Any] = {
            "name": self.name,
            "attempt": self.attempt["attempt"],
            "total": len(self._items),
            "feedback": self._pending,
            "result": None,
        }
        if self._result is not None and self._shown_result:
            out["result"] = _result_view(self._result, positions)
        return out


def _wire_ratings(ratings: Mapping[str, Any] | None, wire: Mapping[str, str]) -> dict[str, Any] | None:
    if not ratings:
        return None
    return {wire.get(rid, "?"): dict(per) for rid, per in ratings.items()}


def _result_view(result: scoring.AttemptResult, positions: Mapping[str, int]) -> dict[str, Any]:
    retry = (
        datetime.fromtimestamp(result.retry_at, timezone.utc).isoformat()
        if result.retry_at is not None
        else None
    )
    return {
        "passed": result.passed,
        "score": result.score,
        "pass_mark": result.pass_mark,
        "breakdown": [
            {"criterion": k, "matched": int(v["matched"]), "n": int(v["n"]), "rate": float(v["rate"])}
            for k, v in result.breakdown.items()
        ],
        "review": [
            {"position": positions.get(r["item_id"], -1), "explanation": r.get("explanation") or ""}
            for r in result.review
        ],
        "attempts_left": result.attempts_left,
        "retry_at": retry,
        "message": result.message()
        + (
            " Production labelling is unlocked: run the cell again (on an annotator page: reload the page) "
            "to start."
            if result.passed
            else ""
        ),
    }


def start(
    store: Store, annotator: str, qualification: Any, dataset: str | None, guidelines: Any
) -> Training | None:
    """``RankWidget(..., qualification=)``: a Training when ``annotator`` must (re)take a qualification now,
    else None. Guideline versions marked ``requalify=True`` first ask everyone to re-qualify (once each)."""
    if qualification is not None and (not isinstance(qualification, str) or not qualification.strip()):
        raise TypeError(f"qualification must be a qualification name (a string), got {qualification!r}")
    names = [qualification] if qualification is not None else []
    if dataset is not None and qualification is None:
        names = stored.required_qualifications(store, dataset)
    for version in requalify_versions(guidelines):
        for name in names:
            stored.requalify_once(store, name, guideline_version=version, actor=annotator)
    todo = needed(store, annotator, qualification, dataset)
    return None if todo is None else Training(store, todo, annotator)
