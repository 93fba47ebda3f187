"""Scoring qualification attempts and the attempt lifecycle (issue 11; docs/qualification.md).

The store keeps qualification sets, attempts and who is qualified (``rank_widget.store.qualification``); this
module scores a label against an item's gold answer and closes attempts. The rules, per item:

- **pairwise winner**: the label's winner must be the gold winner. A gold tie needs a tie (``tie="exact"``,
  the default) or a tie or a strength-1 preference (``tie="weak_ok"``). A gold winner is never matched by a
  tie. Strength (when the gold has one): ``"direction"`` (default) ignores it, ``"within_1"`` needs
  ``|strength - gold| <= 1``, ``"exact"`` the same strength. It is its own criterion in the breakdown.
- **ranking**: Kendall's tau-b (``scipy.stats.kendalltau``, which handles ties) between the label's and the
  gold's tie-group ranks, matched when ``tau >= tau_threshold`` (default 0.6). When one side ties every
  response tau is undefined: matched only if both do.
- **ratings** (when the item has ``gold_ratings``): every given gold rating within ``rating_tolerance``
  (default 1) of the label's; one breakdown criterion per rating criterion.

An item matches when every check on it passes; the attempt's score is the share of items matched (a skipped or
unanswered item does not match), and it passes when ``score >= pass_mark``. Only the first label per item in
the attempt counts (its feedback shows the answer; a revision after that does not).

With PostgreSQL access control (``team.setup``) the database scores the attempt instead: the SQL functions
``rw_qual_score`` and ``rw_tau_b`` (store/access.py) implement these rules, and a test holds them equal to
``score_item`` and ``kendall_tau_b`` (tests/unit/test_qualification_security.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import kendalltau

from .schema import TIE
from .store import Store
from .store import qualification as stored

__all__ = ["AttemptResult", "finish_attempt", "kendall_tau_b", "score_item", "start_attempt"]


@dataclass(frozen=True)
class AttemptResult:
    """A closed attempt: score, pass or fail, per-criterion breakdown, what to review and when to retry."""

    name: str
    annotator: str
    attempt: int
    score: float
    passed: bool
    pass_mark: float
    breakdown: dict[str, dict[str, float]]
    items: list[dict[str, Any]]
    review: list[dict[str, Any]] = field(default_factory=list)  # missed items: id, expected, explanation
    attempts_left: int = 0
    retry_at: float | None = None  # epoch seconds; None: now (or never, with no attempts left)

    def message(self) -> str:
        verdict = "passed" if self.passed else "did not pass"
        out = f"{self.annotator} {verdict} {self.name!r}: {self.score:.0%} (pass mark {self.pass_mark:.0%})."
        if not self.passed:
            if self.attempts_left == 0:
                out += " No attempts left: ask a lead to review your answers."
            elif self.retry_at is not None:
                wait = max(0.0, self.retry_at - time.time())
                out += f" Retry allowed in {math.ceil(wait / 60)} min ({self.attempts_left} attempt(s) left)."
            else:
                out += f" You may retry now ({self.attempts_left} attempt(s) left)."
        return out


def _ranks(groups: Sequence[Sequence[str]]) -> dict[str, int]:
    return {r: i for i, g in enumerate(groups) for r in g}


def kendall_tau_b(gold: Sequence[Sequence[str]], given: Sequence[Sequence[str]]) -> float:
    """Kendall's tau-b between two tie-group rankings of the same responses (NaN when one ties them all)."""
    g, lab = _ranks(gold), _ranks(given)
    ids = sorted(g)
    if sorted(lab) != ids:
        return math.nan
    if len(gold) == 1 or len(given) == 1:
        return math.nan
    return float(kendalltau([g[i] for i in ids], [lab[i] for i in ids]).statistic)


def _winner_checks(
    gold: Mapping[str, Any], label: Mapping[str, Any], rules: Mapping[str, Any]
) -> dict[str, Any]:
    want, got = gold["winner"], label.get("winner")
    strength = label.get("strength")
    strength = (
        None if strength is None or (isinstance(strength, float) and math.isnan(strength)) else int(strength)
    )
    if want == TIE:
        ok = got == TIE or (rules["tie"] == "weak_ok" and got is not None and strength == 1)
    else:
        ok = got == want
    checks: dict[str, Any] = {"winner": ok}
    gs = gold.get("strength")
    if want != TIE and gs is not None and rules["strength"] != "direction":
        if got != want or strength is None:
            checks["strength"] = False
        else:
            checks["strength"] = abs(strength - gs) <= (1 if rules["strength"] == "within_1" else 0)
    return checks


def score_item(
    item: Mapping[str, Any], label: Mapping[str, Any] | None, rules: Mapping[str, Any]
) -> dict[str, Any]:
    """One qualification item against a label row (None: not answered): ``{"item_id", "label_id",
    "matched", "checks": {criterion: bool}, "tau"?}``."""
    gold = item["gold"]
    out: dict[str, Any] = {"item_id": item["item_id"], "label_id": None, "matched": False, "checks": {}}
    criteria = ["winner"] if "winner" in gold else ["ranking"]
    if "winner" in gold and gold.get("strength") is not None and gold["winner"] != TIE:
        criteria += [] if rules["strength"] == "direction" else ["strength"]
    ratings = item.get("gold_ratings") or {}
    rating_crits = sorted({c for per in ratings.values() for c in per})
    criteria += [f"rating:{c}" for c in rating_crits]
    if label is None or label.get("status") != "submitted":
        out["checks"] = dict.fromkeys(criteria, False)
        out["answered"] = False
        return out
    out["label_id"] = label.get("label_id")
    out["answered"] = True
    checks: dict[str, Any] = {}
    if "winner" in gold:
        checks.update(_winner_checks(gold, label, rules))
    else:
        tau = kendall_tau_b(gold["ranking"], label.get("ranking") or [])
        out["tau"] = None if math.isnan(tau) else tau
        both_flat = len(gold["ranking"]) == 1 and len(label.get("ranking") or []) == 1
        checks["ranking"] = both_flat or (not math.isnan(tau) and tau >= rules["tau_threshold"])
    given = label.get("ratings") or {}
    for crit in rating_crits:
        diffs = [
            abs(int(given[rid][crit]) - per[crit]) if crit in (given.get(rid) or {}) else math.inf
            for rid, per in ratings.items()
            if crit in per
        ]
        checks[f"rating:{crit}"] = all(d <= rules["rating_tolerance"] for d in diffs)
    out["checks"] = checks
    out["matched"] = all(checks.values())
    return out


def breakdown(scored: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per criterion: items checked on it, matched, and the rate; plus ``"overall"`` (items fully matched)."""
    out: dict[str, dict[str, float]] = {}
    for s in scored:
        for crit, ok in s["checks"].items():
            row = out.setdefault(crit, {"n": 0, "matched": 0})
            row["n"] += 1
            row["matched"] += int(bool(ok))
    out["overall"] = {"n": len(scored), "matched": sum(int(s["matched"]) for s in scored)}
    for row in out.values():
        row["rate"] = row["matched"] / row["n"] if row["n"] else math.nan
    return out


def expected_answer(item: Mapping[str, Any]) -> dict[str, Any]:
    """What the view shows after the label is stored: the gold answer (real response ids) and explanation
    (None for an item not labelled, on a store whose access control hides it)."""
    out = {"gold": item.get("gold"), "explanation": item.get("explanation")}
    if item.get("gold_ratings"):
        out["gold_ratings"] = item["gold_ratings"]
    return out


def start_attempt(store: Store, name: str, annotator: str) -> dict[str, Any]:
    """Open (or resume) ``annotator``'s attempt at ``name``; refused when no attempt is allowed now."""
    return stored.start_attempt(store, name, annotator)


def finish_attempt(store: Store, attempt_id: str) -> AttemptResult:
    """Score the attempt's labels against the gold, store the result (passed/failed) and return it."""
    att, labels = stored.attempt_labels(store, attempt_id)
    if store.db.access.functions:
        # access control: the database scores the attempt with the same rules and records the outcome
        # (store/access.py rw_finish_qualification); the answers come after, for the labelled items only
        done = stored.finish_attempt_in_db(store, attempt_id)
        if done is None:
            raise ValueError(f"qualification attempt {attempt_id!r} is already finished")
        qual = stored.qualification(store, att["name"], att["version"])
        scored = [dict(s) for s in done["items"]]
        score, passed, table = float(done["score"]), bool(done["passed"]), dict(done["breakdown"])
    else:
        qual = stored.qualification(store, att["name"], att["version"])
        by_item: dict[str, dict[str, Any]] = {
            str(r["item_id"]): {str(k): v for k, v in r.items()} for r in labels.to_dict("records")
        }
        scored = [score_item(item, by_item.get(item["item_id"]), qual["scoring"]) for item in qual["items"]]
        score = sum(int(s["matched"]) for s in scored) / len(scored)
        passed = score >= qual["pass_mark"] - 1e-12
        table = breakdown(scored)
        stored.finish_attempt(
            store,
            attempt_id,
            score=score,
            passed=passed,
            breakdown=table,
            results=[
                {"item_id": s["item_id"], "label_id": s["label_id"], "matched": s["matched"], "detail": s}
                for s in scored
            ],
        )
    st = stored.status(store, att["name"], att["annotator"])
    items = {i["item_id"]: i for i in qual["items"]}
    review = [
        {"item_id": s["item_id"], **expected_answer(items[s["item_id"]]), "checks": s["checks"]}
        for s in scored
        if not s["matched"]
    ]
    return AttemptResult(
        name=att["name"],
        annotator=att["annotator"],
        attempt=int(att["attempt"]),
        score=score,
        passed=passed,
        pass_mark=qual["pass_mark"],
        breakdown=table,
        items=scored,
        review=review,
        attempts_left=st["attempts_left"],
        retry_at=st["retry_at"],
    )
