"""disagreement_scores (vectorised) against a straightforward per-label reference, on random label sets."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rank_widget.quality import disagreement_scores
from rank_widget.quality.interrater import DISAGREEMENT_COLUMNS, outcome_string, rated_labels
from rank_widget.schema import labels_frame, rank_of, validate_label

T0 = pd.Timestamp("2026-03-01T09:00:00Z")


def reference(labels: pd.DataFrame) -> pd.DataFrame:
    """The definition, one item at a time, in plain Python."""
    rated = rated_labels(labels)
    rows = []
    for iid, grp in rated.groupby("item_id", sort=False):
        outcomes: Counter[str] = Counter()
        for task, winner, ranking in zip(grp["task"], grp["winner"], grp["ranking"], strict=True):
            text = outcome_string(task, winner, ranking)
            if text is not None:
                outcomes[text] += 1
        if not outcomes:
            continue
        verdicts: dict[tuple[str, str], Counter[str]] = {}
        for ranking in grp["ranking"]:
            if ranking is None:
                continue
            rank = rank_of(ranking)
            for a, b in itertools.combinations(sorted(rank), 2):
                v = "tie" if rank[a] == rank[b] else ("a" if rank[a] < rank[b] else "b")
                verdicts.setdefault((a, b), Counter())[v] += 1
        per_pair = []
        for counts in verdicts.values():
            n = sum(counts.values())
            if n >= 2:
                per_pair.append(1.0 - sum(c * (c - 1) for c in counts.values()) / (n * (n - 1)))
        n_labels = sum(outcomes.values())
        ranked = outcomes.most_common()  # count desc, ties in first-seen order
        top = ranked[0][1]
        shares = [c / n_labels for _, c in ranked]
        rows.append(
            {
                "item_id": iid,
                "task": grp["task"].iloc[0],
                "n_labels": n_labels,
                "outcomes": dict(ranked),
                "majority": ranked[0][0] if sum(c == top for _, c in ranked) == 1 else None,
                "majority_share": top / n_labels,
                "entropy": -sum(p * math.log2(p) for p in shares) + 0.0,
                "disagreement": sum(per_pair) / len(per_pair) if per_pair else math.nan,
            }
        )
    out = pd.DataFrame(rows, columns=list(DISAGREEMENT_COLUMNS))
    return out.sort_values(
        ["disagreement", "entropy", "item_id"],
        ascending=[False, False, True],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)


def random_labels(seed: int, n_items: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    records: list[dict[str, Any]] = []
    annotators = [f"ann{k}" for k in range(5)]
    clock = itertools.count()
    for i in range(n_items):
        task = "pairwise" if rng.random() < 0.6 else "ranking"
        ids = ["r1", "r2"] if task == "pairwise" else [f"r{k + 1}" for k in range(int(rng.integers(3, 5)))]
        for ann in rng.choice(annotators, size=int(rng.integers(1, 6)), replace=False):
            for _ in range(int(rng.integers(1, 3))):  # sometimes a re-label (a new revision)
                rec: dict[str, Any] = {
                    "label_id": f"L{next(clock)}",
                    "item_id": f"item{i:03d}",
                    "annotator": str(ann),
                    "task": task,
                    "display_order": list(rng.permutation(ids)),
                    "submitted_at": T0 + pd.Timedelta(seconds=next(clock)),
                    "guideline_version": "v1",
                    "source": "adjudication" if rng.random() < 0.05 else "simulation",
                }
                if rng.random() < 0.1:
                    rec["status"] = "skipped"
                elif task == "pairwise":
                    rec["winner"] = str(rng.choice(["r1", "r2", "tie"]))
                    rec["strength"] = 0 if rec["winner"] == "tie" else int(rng.integers(1, 4))
                else:
                    order = list(rng.permutation(ids))
                    cuts = sorted(
                        rng.choice(range(1, len(ids)), size=int(rng.integers(0, len(ids))), replace=False)
                    )
                    rec["ranking"] = [order[a:b] for a, b in itertools.pairwise([0, *cuts, len(ids)])]
                records.append(validate_label(rec, response_ids=ids))
    return labels_frame(records)


@pytest.mark.parametrize("seed", range(8))
def test_matches_reference_on_random_labels(seed: int) -> None:
    labels = random_labels(seed)
    got = disagreement_scores(labels)
    want = reference(labels)
    assert len(got) > 0
    # Same rows and dtypes; floats equal but for summation order (which can also swap near-equal neighbours
    # in the sort, so rows are matched by item and the order is checked on the function's own values).
    pd.testing.assert_frame_equal(
        got.sort_values("item_id", ignore_index=True),
        want.sort_values("item_id", ignore_index=True),
        check_exact=False,
        rtol=1e-12,
        atol=0,
    )
    resorted = got.sort_values(
        ["disagreement", "entropy", "item_id"],
        ascending=[False, False, True],
        na_position="last",
        kind="stable",
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(got, resorted)
    assert got["disagreement"].notna().any() and got["disagreement"].isna().any()
    assert got["majority"].isna().any() and (got["task"] == "ranking").any()


def test_matches_reference_with_no_rankings_left() -> None:
    labels = random_labels(1, n_items=5)
    labels["status"] = "skipped"
    pd.testing.assert_frame_equal(disagreement_scores(labels), reference(labels))
