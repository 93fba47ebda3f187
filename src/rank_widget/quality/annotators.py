"""Per-annotator behaviour: speed, ties, position bias, rationales, flags, agreement with peers and gold.

Reads current submitted labels (adjudications left out, as in agreement.py), except self-consistency, which
needs the revision history.
"""

from __future__ import annotations

import math
import string
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from rank_widget.quality.consistency import intransitive_triads
from rank_widget.quality.interrater import preference_votes, rated_labels, unique_top, unit_verdict_counts

POSITION_BIAS_COLUMNS = (
    "annotator",
    "task",
    "n_responses",
    "position",
    "position_label",
    "n",
    "picks",
    "rate",
    "expected",
    "ci_low",
    "ci_high",
    "p_value",
    "order_randomised",
)
UNVARIED_ALPHA = 0.01  # one fixed order in n labels by chance under shuffling: (1/N!)**(n-1) < 1%
REPORT_COLUMNS = (
    "annotator",
    "n_labels",
    "n_skipped",
    "median_active_ms",
    "too_fast_ms",
    "n_too_fast",
    "too_fast_share",
    "tie_rate",
    "n_decisive",
    "position_a_rate",
    "position_a_p",
    "rationale_words",
    "flag_rate",
    "loo_agreement",
    "loo_n",
    "gold_accuracy",
    "gold_n",
    "gold_recent_accuracy",
    "gold_recent_n",
    "gold_alert",
    "self_consistency",
    "self_n",
    "intransitive_triads",
    "complete_triads",
)
DEFAULT_TOO_FAST_SHARE = 0.25  # "too fast" = under a quarter of the global median active time
# Calibration while labelling (issue 11): gold accuracy over each annotator's last N gold items.
DEFAULT_GOLD_WINDOW = 20
DEFAULT_GOLD_THRESHOLD = 0.7
DEFAULT_GOLD_MIN_N = 5  # no alert before this many gold items in the window


def _position_label(i: int) -> str:
    return string.ascii_uppercase[i] if i < 26 else str(i + 1)


def _binom(picks: int, n: int, p: float) -> tuple[float, float, float]:
    """Two-sided exact binomial p-value and Clopper-Pearson 95% interval of the pick rate."""
    if n == 0:
        return math.nan, math.nan, math.nan
    res = binomtest(picks, n, p)
    interval = res.proportion_ci(confidence_level=0.95, method="exact")
    return float(res.pvalue), float(interval.low), float(interval.high)


def _top_position(task: str, ranking: Any, winner: Any, order: Any) -> int | None:
    """Displayed position (0 = A) of the single best response, or None for ties / unknown order."""
    if not isinstance(order, (list, tuple)) or not order:
        return None
    if task == "pairwise":
        best = winner if isinstance(winner, str) and winner != "tie" else None
    else:
        best = (
            ranking[0][0] if isinstance(ranking, (list, tuple)) and ranking and len(ranking[0]) == 1 else None
        )
    return list(order).index(best) if best in order else None


def _order_signature(order: Any) -> tuple[int, ...] | None:
    """Where each response id (in sorted order) was shown: the same tuple for every label shown in one fixed
    arrangement, different ones when the order was shuffled."""
    if not isinstance(order, (list, tuple)) or not order:
        return None
    return tuple(list(order).index(rid) for rid in sorted(order))


def _unrandomised(group: pd.DataFrame) -> str | None:
    """Why this group's display order cannot show a position bias, or None when it was randomised."""
    if group["source"].eq("import").all():
        return "imported labels (their display_order is the source's column order, not what was shown)"
    sigs = group["signature"].dropna()
    arrangements = math.factorial(max(len(sigs.iloc[0]), 2)) if len(sigs) else 2
    needed = 1 + math.ceil(math.log(1 / UNVARIED_ALPHA) / math.log(arrangements))  # 8 for pairs, 4 for 3
    if len(sigs) >= needed and sigs.nunique() == 1:
        return f"the same display order in all {len(sigs)} labels"
    return None


def position_bias(labels: pd.DataFrame) -> pd.DataFrame:
    """Rate at which each annotator picked each displayed position as the (single) best response.

    One row per annotator x task x number of responses x displayed position (0 = A, shown first). Only
    decisive labels count: pairwise labels with a winner, rankings with a single response on top. With
    randomised display order an unbiased annotator picks each of N positions at rate ``expected`` = 1/N;
    ``p_value`` is the two-sided exact binomial test of ``picks`` out of ``n`` against it
    (``scipy.stats.binomtest``) and ``ci_low``/``ci_high`` the Clopper-Pearson 95% interval of ``rate``.

    A position bias can only be seen when the display order was randomised. ``order_randomised`` is False
    for a group whose labels are all imported (``source="import"``: the display order is just the source's
    column order) or were all shown in one fixed arrangement (enough labels to rule out chance at 1%: 8 for
    pairs, 4 for three responses); for those ``p_value`` is NaN (a "bias" there is a preference for whatever
    the source lists first, or a real quality difference) and a ``UserWarning`` says which annotators and
    what to do.
    """
    rated = rated_labels(labels)
    rows: list[dict[str, Any]] = []
    if not rated.empty:
        tops = [
            (
                ann,
                task,
                len(order) if isinstance(order, (list, tuple)) else 0,
                _top_position(task, rk, w, order),
                src,
                _order_signature(order),
            )
            for ann, task, rk, w, order, src in zip(
                rated["annotator"],
                rated["task"],
                rated["ranking"],
                rated["winner"],
                rated["display_order"],
                rated["source"],
                strict=True,
            )
        ]
        df = pd.DataFrame(tops, columns=["annotator", "task", "n_responses", "top", "source", "signature"])
        df = df.dropna(subset=["top"])
        why_not: dict[str, str] = {}
        for (ann, task, n_resp_key), g in df.groupby(["annotator", "task", "n_responses"], sort=True):
            reason = _unrandomised(g)
            if reason is not None:
                why_not.setdefault(str(ann), reason)
            rows.extend(_position_rows(ann, task, n_resp_key, g, randomised=reason is None))
        if why_not:
            _warn_unrandomised(why_not)
    return pd.DataFrame(rows, columns=list(POSITION_BIAS_COLUMNS))


def _position_rows(
    ann: Any, task: Any, n_resp_key: Any, g: pd.DataFrame, *, randomised: bool
) -> list[dict[str, Any]]:
    n, n_resp = len(g), int(str(n_resp_key))
    counts = g["top"].astype(int).value_counts()
    expected = 1.0 / n_resp
    rows = []
    for pos in range(n_resp):
        picks = int(counts.get(pos, 0))
        p, lo, hi = _binom(picks, n, expected)
        rows.append(
            {
                "annotator": ann,
                "task": task,
                "n_responses": n_resp,
                "position": pos,
                "position_label": _position_label(pos),
                "n": n,
                "picks": picks,
                "rate": picks / n,
                "expected": expected,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": p if randomised else math.nan,
                "order_randomised": randomised,
            }
        )
    return rows


def _warn_unrandomised(why_not: Mapping[str, str]) -> None:
    shown = "; ".join(f"{a!r}: {r}" for a, r in list(why_not.items())[:5])
    more = f" and {len(why_not) - 5} more" if len(why_not) > 5 else ""
    warnings.warn(
        f"position_bias: the display order was never randomised for {shown}{more}. Their pick rates say how "
        "often the response listed first won, which is not a position bias (p_value is NaN for them). To "
        "measure position bias, label with the widget (it shuffles the order per label); for an LLM judge, "
        "run it on both orders (A/B and B/A) and compare the two runs.",
        UserWarning,
        stacklevel=2,
    )


# ---------------------------------------------------------------------------------------------------------
# Gold rankings


def gold_ranks(gold: Any) -> dict[str, int] | None:
    """Tie-group index (0 = best) per response id from a gold value.

    Accepts a tie-group ranking (``[['r2'], ['r1', 'r3']]``), a strict order (``['r2', 'r1']``) or the id of
    the single best response (``'r2'``: every other response is below it, unordered among themselves).
    """
    if isinstance(gold, str):
        return {gold: 0}
    if isinstance(gold, np.ndarray):
        gold = gold.tolist()
    if not isinstance(gold, (list, tuple)) or not gold:
        return None
    ranks: dict[str, int] = {}
    for i, group in enumerate(gold):
        if isinstance(group, np.ndarray):
            group = group.tolist()
        for rid in [group] if isinstance(group, str) else list(group):
            ranks[str(rid)] = i
    return ranks


def _gold_verdict(ranks: Mapping[str, int], a: str, b: str) -> str | None:
    if a in ranks and b in ranks:
        if ranks[a] == ranks[b]:
            return None  # gold does not order them: nothing to score
        return "a" if ranks[a] < ranks[b] else "b"
    if len(ranks) == 1:  # gold names only the best response
        if a in ranks:
            return "a"
        if b in ranks:
            return "b"
    return None


def gold_scores(votes: pd.DataFrame, items: pd.DataFrame | None) -> pd.Series:
    """Per vote: 1.0 when it matches the gold order on that response pair, 0.0 when not, NaN without gold."""
    if items is None or "gold" not in items.columns or votes.empty:
        return pd.Series(np.nan, index=votes.index)
    gold = {iid: gold_ranks(g) for iid, g in zip(items["item_id"], items["gold"], strict=True)}
    out = []
    for iid, a, b, v in zip(
        votes["item_id"], votes["response_a"], votes["response_b"], votes["verdict"], strict=True
    ):
        ranks = gold.get(iid)
        expected = _gold_verdict(ranks, a, b) if ranks else None
        out.append(math.nan if expected is None else float(v == expected))
    return pd.Series(out, index=votes.index, dtype=float)


# ---------------------------------------------------------------------------------------------------------
# Peer agreement and self-consistency


def loo_majority_matches(votes: pd.DataFrame) -> pd.Series:
    """Per vote: 1.0 when it equals the plurality verdict of the *other* annotators on that unit, 0.0 when
    not, NaN when no one else labelled the unit or the others are split evenly."""
    if votes.empty:
        return pd.Series(np.nan, index=votes.index, dtype=float)
    codes, counts = unit_verdict_counts(votes)
    mine = votes["code"].to_numpy(dtype=int)
    others = counts[codes]
    others[np.arange(len(mine)), mine] -= 1.0  # leave this vote out
    top = unique_top(others)
    return pd.Series(np.where(top >= 0, (top == mine).astype(float), np.nan), index=votes.index)


def self_consistency(labels: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: how often a repeated judgment (same item labelled again, e.g. a revision or a re-shown
    item) gives the same verdict on the same response pair as the annotator's previous label of it."""
    empty = pd.DataFrame(
        {
            "annotator": pd.Series(dtype=object),
            "self_consistency": pd.Series(dtype=float),
            "self_n": pd.Series(dtype="int64"),
        }
    )
    rated = labels[(labels["status"] == "submitted") & (labels["source"] != "adjudication")]
    if not rated.duplicated(["annotator", "item_id"]).any():
        return empty  # nobody labelled an item twice: skip building the pairs of every revision
    votes = preference_votes(labels, current=False)
    if votes.empty:
        return empty
    votes["submitted_at"] = votes["label_id"].map(
        labels.drop_duplicates("label_id").set_index("label_id")["submitted_at"]
    )
    keys = ["annotator", "item_id", "response_a", "response_b"]
    votes = votes.sort_values([*keys, "submitted_at"], kind="stable").reset_index(drop=True)
    repeat = pd.Series(True, index=votes.index)
    for k in keys:
        repeat &= votes[k] == votes[k].shift()
    if not repeat.any():
        return empty
    same = (votes["verdict"] == votes["verdict"].shift())[repeat].astype(float)
    return (
        pd.DataFrame({"annotator": votes.loc[repeat, "annotator"], "same": same})
        .groupby("annotator")
        .agg(self_consistency=("same", "mean"), self_n=("same", "size"))
        .reset_index()
    )


def _is_tie(task: str, winner: Any, ranking: Any) -> bool:
    if task == "pairwise":
        return winner == "tie"
    return isinstance(ranking, (list, tuple)) and any(len(g) > 1 for g in ranking)


# ---------------------------------------------------------------------------------------------------------
# The report


def rolling_gold_accuracy(
    votes: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    window: int = DEFAULT_GOLD_WINDOW,
    threshold: float = DEFAULT_GOLD_THRESHOLD,
    min_n: int = DEFAULT_GOLD_MIN_N,
) -> pd.DataFrame:
    """Per annotator: gold accuracy over their last ``window`` gold items (by ``submitted_at``), the number of
    items it covers, and ``gold_alert`` when at least ``min(min_n, window)`` gold items give an accuracy
    below ``threshold``. An item's score is the mean of its response pairs' gold scores (``gold_scores``:
    1 or 0 per pair on a pairwise item)."""
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"gold_window must be an integer >= 1 (gold items), got {window!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"gold_threshold must be a share from 0 to 1, got {threshold!r}")
    cols = ["annotator", "gold_recent_accuracy", "gold_recent_n", "gold_alert"]
    scored = votes.dropna(subset=["gold"]) if "gold" in votes.columns else votes.iloc[0:0]
    if scored.empty:
        return pd.DataFrame(columns=cols)
    per_item = scored.groupby(["annotator", "item_id", "label_id"], sort=False)["gold"].mean().reset_index()
    when = labels.drop_duplicates("label_id").set_index("label_id")["submitted_at"]
    per_item["submitted_at"] = per_item["label_id"].map(when)
    per_item = per_item.sort_values(["annotator", "submitted_at"], kind="stable")
    recent = per_item.groupby("annotator", sort=True).tail(window)
    out = recent.groupby("annotator", sort=True)["gold"].agg(["mean", "size"]).reset_index()
    out.columns = ["annotator", "gold_recent_accuracy", "gold_recent_n"]
    out["gold_alert"] = (out["gold_recent_n"] >= min(min_n, window)) & (
        out["gold_recent_accuracy"] < threshold
    )
    return out[cols]


def annotator_report(
    labels: pd.DataFrame,
    items: pd.DataFrame | None = None,
    *,
    too_fast_ms: float | None = None,
    gold_window: int = DEFAULT_GOLD_WINDOW,
    gold_threshold: float = DEFAULT_GOLD_THRESHOLD,
) -> pd.DataFrame:
    """One row per annotator; see docs/quality.md for every column.

    ``too_fast_ms`` is the threshold under which a label counts as too fast (default: a quarter of the median
    ``active_ms`` over all current labels). ``position_a_rate`` is the share of decisive pairwise labels whose
    winner was shown in position A, ``position_a_p`` its two-sided binomial p-value against 0.5.
    ``loo_agreement`` is agreement with the leave-one-out majority of the other annotators (per response
    pair), ``gold_accuracy`` needs ``items`` with a ``gold`` column, ``self_consistency`` needs repeated
    labels of an item, ``intransitive_triads`` counts cycles among models (see quality/consistency.py).
    ``gold_recent_accuracy`` is gold accuracy over the annotator's last ``gold_window`` gold items and
    ``gold_alert`` flags it below ``gold_threshold`` (``rolling_gold_accuracy``; docs/qualification.md).
    """
    rated = rated_labels(labels)
    cur = current_labels_all(labels)
    names = sorted(set(cur["annotator"]))
    if not names:
        return pd.DataFrame(columns=list(REPORT_COLUMNS))
    active = pd.to_numeric(rated["active_ms"], errors="coerce").astype(float)
    if too_fast_ms is None:
        median = float(np.nanmedian(active)) if active.notna().any() else math.nan
        too_fast_ms = DEFAULT_TOO_FAST_SHARE * median
    words = pd.Series([len(str(t or "").split()) for t in rated["rationale"]], index=rated.index, dtype=float)
    ties = pd.Series(
        [_is_tie(t, w, r) for t, w, r in zip(rated["task"], rated["winner"], rated["ranking"], strict=True)],
        index=rated.index,
        dtype=float,
    )
    flagged = rated["flags"].map(
        lambda f: float(len(f) > 0) if isinstance(f, (list, tuple, np.ndarray)) else 0.0
    )

    votes = preference_votes(rated, items)
    votes["loo"] = loo_majority_matches(votes)
    votes["gold"] = gold_scores(votes, items)
    pb = position_bias(labels)
    pb_a = pb[(pb["task"] == "pairwise") & (pb["position"] == 0)].set_index("annotator")
    selfc = self_consistency(labels).set_index("annotator")
    triads = intransitive_triads(labels, items, votes=votes).set_index("annotator")
    skipped = cur[cur["status"] == "skipped"].groupby("annotator").size()
    rolling = rolling_gold_accuracy(votes, rated, window=gold_window, threshold=gold_threshold).set_index(
        "annotator"
    )

    rows = []
    for name in names:
        mine = rated["annotator"] == name
        act = active[mine].dropna()
        v = votes[votes["annotator"] == name]
        loo, gold = v["loo"].dropna(), v["gold"].dropna()
        rows.append(
            {
                "annotator": name,
                "n_labels": int(mine.sum()),
                "n_skipped": int(skipped.get(name, 0)),
                "median_active_ms": float(act.median()) if len(act) else math.nan,
                "too_fast_ms": float(too_fast_ms),
                "n_too_fast": int((act < too_fast_ms).sum()),
                "too_fast_share": float((act < too_fast_ms).mean()) if len(act) else math.nan,
                "tie_rate": float(ties[mine].mean()) if mine.any() else math.nan,
                "n_decisive": int(pb_a.loc[name, "n"]) if name in pb_a.index else 0,
                "position_a_rate": float(pb_a.loc[name, "rate"]) if name in pb_a.index else math.nan,
                "position_a_p": float(pb_a.loc[name, "p_value"]) if name in pb_a.index else math.nan,
                "rationale_words": float(words[mine].median()) if mine.any() else math.nan,
                "flag_rate": float(flagged[mine].mean()) if mine.any() else math.nan,
                "loo_agreement": float(loo.mean()) if len(loo) else math.nan,
                "loo_n": len(loo),
                "gold_accuracy": float(gold.mean()) if len(gold) else math.nan,
                "gold_n": len(gold),
                "gold_recent_accuracy": float(rolling.loc[name, "gold_recent_accuracy"])
                if name in rolling.index
                else math.nan,
                "gold_recent_n": int(rolling.loc[name, "gold_recent_n"]) if name in rolling.index else 0,
                "gold_alert": bool(rolling.loc[name, "gold_alert"]) if name in rolling.index else False,
                "self_consistency": float(selfc.loc[name, "self_consistency"])
                if name in selfc.index
                else math.nan,
                "self_n": int(selfc.loc[name, "self_n"]) if name in selfc.index else 0,
                "intransitive_triads": int(triads.loc[name, "n_intransitive"]) if name in triads.index else 0,
                "complete_triads": int(triads.loc[name, "n_complete_triads"]) if name in triads.index else 0,
            }
        )
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def current_labels_all(labels: pd.DataFrame) -> pd.DataFrame:
    """Current labels including skips (adjudications left out): who is active and what they skipped."""
    from rank_widget.schema import current_labels

    cur = current_labels(labels, include_skipped=True)
    cur = cur[cur["source"] != "adjudication"]
    return cur.sort_values("submitted_at", kind="stable").drop_duplicates(
        ["item_id", "annotator"], keep="last"
    )


def flagged_annotators(
    report: pd.DataFrame,
    *,
    alpha: float = 0.01,
    min_loo: float | None = None,
    max_too_fast_share: float = 0.2,
) -> Sequence[str]:
    """Annotators worth a look: significant position bias, many too-fast labels or low peer agreement."""
    bad = (report["position_a_p"] < alpha) | (report["too_fast_share"] > max_too_fast_share)
    if min_loo is not None:
        bad |= report["loo_agreement"] < min_loo
    return list(report.loc[bad.fillna(False), "annotator"])
