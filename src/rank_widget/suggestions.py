"""An LLM judge's verdict shown in the labeling view, opt-in (``RankWidget(suggestions=..., reveal=...)``).

- ``reveal="after"`` (training and calibration without anchoring): the judge's verdict on an item is sent to
  the view only after the person's label for it is stored and acknowledged. Nothing about the suggestion is on
  the wire before that (tests/unit/test_suggestions.py checks every message).
- ``reveal="before"`` (pre-annotation): the verdict is sent when the item is shown.

Which mode a label was made under is recorded with it: a ``suggestion`` note (``rank_widget.store.notes``)
keyed by the label id, with the mode, the judge and whether the judge had a verdict on the item, so the
mode's effect (e.g. agreement with the judge before vs after) can be measured.

The verdict is the judge's current label on the item in the widget's store (``source="judge"``, annotator =
the judge's name: ``rw.run_judge(..., name=..., store=...)``), sent with the view's blind response ids (r1, r2
by position on screen), never model names. The judge's reply text is untrusted: the view sets it as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

REVEALS = ("after", "before")
MAX_SUGGESTION_TEXT = 2_000


def check_suggestions(suggestions: Any, reveal: Any) -> tuple[str | None, str]:
    if suggestions is not None and (not isinstance(suggestions, str) or not suggestions.strip()):
        raise ValueError(f"suggestions must be a judge's name (run_judge name=) or None, got {suggestions!r}")
    if reveal not in REVEALS:
        raise ValueError(f"reveal must be one of {REVEALS}, got {reveal!r}")
    return suggestions, str(reveal)


class Suggester:
    """Reads one judge's verdicts from the store and builds the view's ``suggestion`` messages."""

    def __init__(self, store: Any, judge: str, reveal: str) -> None:
        self.store = store
        self.judge = judge
        self.reveal = reveal
        self._cache: dict[str, Any] | None = None

    def _verdicts(self) -> dict[str, Any]:
        if self._cache is None:
            cur = self.store.current(self.judge)
            cur = cur[(cur["source"] == "judge") & (cur["status"] == "submitted")]
            self._cache = {
                str(r["item_id"]): r
                for r in cur[["item_id", "winner", "strength", "ranking", "rationale"]].to_dict("records")
            }
        return self._cache

    def has(self, item_id: str) -> bool:
        return item_id in self._verdicts()

    def message(self, item_id: str, wire: Mapping[str, str]) -> dict[str, Any]:
        """The view's ``suggestion`` for an item (``wire``: stored response id -> the view's id); {} when the
        judge has no verdict on it."""
        v = self._verdicts().get(item_id)
        if v is None:
            return {}
        winner = v.get("winner")
        strength = v.get("strength")
        ranking = v.get("ranking")
        return {
            "type": "suggestion",
            "item_id": item_id,
            "judge": self.judge,
            "reveal": self.reveal,
            "winner": winner if winner in (None, "tie") else wire.get(str(winner)),
            "strength": None if strength is None or pd.isna(strength) else int(strength),
            "ranking": [[wire.get(str(r)) for r in g] for g in ranking] if ranking is not None else None,
            "rationale": str(v.get("rationale") or "")[:MAX_SUGGESTION_TEXT],
        }

    def note(self, label_id: str, item_id: str, annotator: str) -> dict[str, Any]:
        """The ``suggestion`` note recorded with a label made in this widget."""
        return {
            "label_id": label_id,
            "kind": "suggestion",
            "item_id": item_id,
            "annotator": annotator,
            "status": self.reveal,
            "data": {"judge": self.judge, "reveal": self.reveal, "judge_had_verdict": self.has(item_id)},
        }
