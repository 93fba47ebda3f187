"""Calibration rounds (issue 11; docs/qualification.md): every annotator labels the same small set, then sees
how the team answered.

- ``start_round(store, name, item_ids, by=lead)`` puts the items in the named queue ``calibration-<name>``
  for everyone (``store.requeue``; only labels made after the round started count).
- ``RankWidget(items, store=..., queue="calibration-<name>")`` serves them; after each label is stored the
  feedback panel shows the team's answers so far on that item (a count per answer, in the labeler's
  A/B terms) and the adjudicated answer when there is one. Nothing about others' answers reaches the view
  before the labeler's own label is stored.
- ``round_report(store, name)`` gives the lead the round's agreement (``quality.agreement``: percent
  agreement, Fleiss' kappa, Krippendorff's alpha) and, per annotator, how often they disagreed with the
  leave-one-out majority of the others (``deviation``), most deviant first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ._protocol import Rejected
from .quality.annotators import loo_majority_matches
from .quality.interrater import agreement, preference_votes
from .store import Store, queues
from .training import check_feedback_read, describe

PREFIX = "calibration-"


def queue_name(name: str) -> str:
    return name if name.startswith(PREFIX) else PREFIX + name


def start_round(store: Store, name: str, item_ids: Iterable[str], *, by: str) -> str:
    """Start calibration round ``name`` on ``item_ids`` for everyone; returns its queue name."""
    queue = queue_name(name)
    queues.requeue(store, item_ids, queue=queue, reason=f"calibration round {name}", added_by=by)
    return queue


def round_labels(store: Store, name: str) -> pd.DataFrame:
    """Current labels of the round's items made since the round started (adjudications included)."""
    queue = queue_name(name)
    since = store.queue_since(queue)
    if not since:
        raise ValueError(f"no calibration round {name!r} in {store.url}; start one with start_round()")
    cur = store.current()
    cur = cur[cur["item_id"].isin(set(since))]
    cutoff = pd.to_datetime(cur["item_id"].map(since), utc=True, format="ISO8601")
    return cur[cur["submitted_at"] >= cutoff].reset_index(drop=True)


def _answer(row: Mapping[str, Any]) -> dict[str, Any]:
    if row.get("task") == "pairwise" and isinstance(row.get("winner"), str):
        return {"winner": row["winner"], "strength": None}
    return {"ranking": row.get("ranking") or []}


def round_report(store: Store, name: str) -> dict[str, Any]:
    """The round's agreement (existing metrics, no bootstrap) and who deviated most from the others."""
    labels = round_labels(store, name)
    votes_src = labels[(labels["status"] == "submitted") & (labels["source"] != "adjudication")]
    agree = (
        agreement(votes_src, bootstrap=0, progress=False) if votes_src["annotator"].nunique() > 1 else None
    )
    votes = preference_votes(votes_src)
    votes["loo"] = loo_majority_matches(votes)
    scored = votes.dropna(subset=["loo"])
    dev = (
        scored.groupby("annotator")["loo"]
        .agg(["size", "mean"])
        .rename(columns={"size": "n_votes", "mean": "agreement_with_others"})
        .reset_index()
    )
    dev["deviation"] = 1.0 - dev["agreement_with_others"]
    dev = dev.sort_values(["deviation", "annotator"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
    return {
        "round": name,
        "items": len(store.queue_since(queue_name(name))),
        "annotators": sorted(set(votes_src["annotator"])),
        "agreement": agree if agree is not None else pd.DataFrame(),
        "deviation": dev,
        "most_deviant": None if dev.empty else str(dev["annotator"].iloc[0]),
    }


class CalibrationFeedback:
    """The widget's side of a round: the same interface as ``training.Training`` (feedback after the stored
    label, read before the next submit), showing the team's answers instead of a gold answer."""

    kind = "calibration"

    def __init__(self, store: Store, queue: str, annotator: str) -> None:
        self.store = store
        self.name = queue[len(PREFIX) :]
        self.annotator = annotator
        self.total = len(store.queue_since(queue))
        self._pending: dict[str, Any] | None = None
        self._answered: set[str] = set()
        self.result = None

    def since(self) -> dict[str, str]:
        """Only labels made since the round started count (the named queue's entry times)."""
        return dict(self.store.queue_since(queue_name(self.name)))

    def check_submit(self, item_id: str) -> None:
        if self._pending is not None:
            raise Rejected(
                "item_id", "read the team's answers on the previous item first (Next), then label this one"
            )

    def after_store(self, record: Mapping[str, Any], order: Sequence[str], wire: Mapping[str, str]) -> None:
        labels = round_labels(self.store, self.name)
        mine = labels[labels["item_id"] == record["item_id"]]
        votes = mine[(mine["status"] == "submitted") & (mine["source"] != "adjudication")]
        counts = Counter(describe(_answer(r), order) for r in votes.to_dict("records"))
        adjudicated = mine[mine["source"] == "adjudication"]
        decided = None
        if len(adjudicated):
            decided = describe(_answer(adjudicated.sort_values("submitted_at").iloc[-1].to_dict()), order)
        own = describe(_answer(record), order) if record.get("status") == "submitted" else "skipped"
        top = counts.most_common(1)[0][0] if counts else None
        reference = decided or top
        lines = [f"- {answer}: {n} of {sum(counts.values())}" for answer, n in counts.most_common()]
        self._answered.add(str(record["item_id"]))
        self._pending = {
            "item_id": str(record["item_id"]),
            "matched": reference is not None and own == reference,
            "skipped": record.get("status") != "submitted",
            "checks": {},
            "expected": f"Adjudicated: {decided}"
            if decided
            else f"Team majority so far: {top or 'none yet'}",
            "given": own,
            "explanation": "**The team's answers so far**\n\n" + "\n".join(lines),
            "expected_ratings": None,
            "number": len(self._answered),
            "total": self.total,
        }

    def read(self, content: Mapping[str, Any]) -> None:
        check_feedback_read(content, self._pending)
        self._pending = None

    def view(self, positions: Mapping[str, int]) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "attempt": 0,
            "total": self.total,
            "feedback": self._pending,
            "result": None,
        }


def for_queue(store: Store, queue: Any, annotator: str) -> CalibrationFeedback | None:
    """``RankWidget(queue="calibration-...")``: the round's feedback; None for any other queue."""
    if isinstance(queue, str) and queue.startswith(PREFIX):
        return CalibrationFeedback(store, queue, annotator)
    return None


__all__ = ["CalibrationFeedback", "round_labels", "round_report", "start_round"]
