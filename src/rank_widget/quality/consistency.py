"""Consistency of one annotator's preferences: intransitive triads (cycles A > B > C > A).

Definition used here. A single ranking (tie groups best -> worst) can never be intransitive, and a pairwise
label compares only two responses, so cycles can only appear *across items*. Across items the things compared
must be comparable: the **models** that wrote the responses (from ``items``' ``responses[].model``), or, when
no items are given or a response has no model, the response ids themselves (useful when ids name systems).

For each group (by default each annotator) every pairwise verdict between two different things is pooled:
thing X beats Y when X won more of their comparisons than Y did (ties count half to each; an even split is no
edge). A triad of things is *complete* when all three pairs have an edge, and *intransitive* when those edges
form a cycle. The count is ``trace(D^3) / 3`` for the 0/1 dominance matrix D.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from rank_widget.quality.interrater import preference_votes

TRIAD_COLUMNS = ("n_things", "n_edges", "n_complete_triads", "n_intransitive", "intransitive_share", "cycles")
MAX_LISTED_CYCLES = 10


def comparisons(
    labels: pd.DataFrame, items: pd.DataFrame | None = None, *, votes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Pair verdicts between things (models when known, else response ids): thing_a, thing_b, outcome.
    ``votes``: ``preference_votes(labels, items)`` when the caller already has it."""
    votes = preference_votes(labels, items) if votes is None else votes.copy()
    if votes.empty:
        return votes.assign(thing_a=pd.Series(dtype=object), thing_b=pd.Series(dtype=object))
    if "model_a" in votes.columns:
        a = votes["model_a"].where(votes["model_a"].notna(), votes["response_a"])
        b = votes["model_b"].where(votes["model_b"].notna(), votes["response_b"])
    else:
        a, b = votes["response_a"], votes["response_b"]
    votes["thing_a"], votes["thing_b"] = a.astype(object), b.astype(object)
    return votes[votes["thing_a"] != votes["thing_b"]].reset_index(drop=True)


def dominance(comp: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Things and the 0/1 matrix D where D[i, j] = 1 when thing i beats thing j on pooled verdicts."""
    things = sorted(set(comp["thing_a"]) | set(comp["thing_b"]))
    index = {t: i for i, t in enumerate(things)}
    net = np.zeros((len(things), len(things)))
    ia = comp["thing_a"].map(index).to_numpy(dtype=int)
    ib = comp["thing_b"].map(index).to_numpy(dtype=int)
    margin = comp["outcome"].to_numpy(dtype=float) - 0.5  # +0.5 a won, -0.5 b won, 0 tie
    np.add.at(net, (ia, ib), margin)
    np.add.at(net, (ib, ia), -margin)
    return things, (net > 1e-9).astype(np.int64)


def _cycles(things: Sequence[str], d: np.ndarray, limit: int) -> list[str]:
    found: list[str] = []
    for i, j, k in itertools.combinations(range(len(things)), 3):
        if d[i, j] and d[j, k] and d[k, i]:
            found.append(f"{things[i]} > {things[j]} > {things[k]} > {things[i]}")
        elif d[j, i] and d[k, j] and d[i, k]:
            found.append(f"{things[i]} > {things[k]} > {things[j]} > {things[i]}")
        if len(found) >= limit:
            break
    return found


def triads_of(comp: pd.DataFrame) -> dict[str, object]:
    """Triad counts for one pool of comparisons."""
    things, d = dominance(comp)
    edges = d + d.T
    n_int = round(float(np.trace(np.linalg.matrix_power(d, 3))) / 3) if len(things) >= 3 else 0
    n_complete = round(float(np.trace(np.linalg.matrix_power(edges, 3))) / 6) if len(things) >= 3 else 0
    return {
        "n_things": len(things),
        "n_edges": int(d.sum()),
        "n_complete_triads": n_complete,
        "n_intransitive": n_int,
        "intransitive_share": n_int / n_complete if n_complete else float("nan"),
        "cycles": _cycles(things, d, MAX_LISTED_CYCLES) if n_int else [],
    }


def intransitive_triads(
    labels: pd.DataFrame,
    items: pd.DataFrame | None = None,
    *,
    by: str | None = "annotator",
    votes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Intransitive triads per group (default: per annotator; ``by=None`` pools everyone).

    Columns: the group key, ``n_things`` (models or response ids compared), ``n_edges`` (thing pairs with a
    pooled winner), ``n_complete_triads``, ``n_intransitive``, ``intransitive_share`` (of complete triads) and
    ``cycles`` (up to 10 examples as text, e.g. ``'m1 > m2 > m3 > m1'``). See the module docstring for the
    definition. ``votes`` (``preference_votes(labels, items)``) skips recomputing the pairs.
    """
    comp = comparisons(labels, items, votes=votes)
    key = by or "group"
    if by is None:
        comp = comp.assign(group="all")
    elif by not in comp.columns:
        raise ValueError(
            f"intransitive_triads(by=...): {by!r} is not a pair column; use 'annotator', "
            f"'guideline_version', 'source' or None"
        )
    rows = (
        [{key: k, **triads_of(g)} for k, g in comp.groupby(key, sort=True, dropna=False)] if len(comp) else []
    )
    out = pd.DataFrame(rows, columns=[key, *TRIAD_COLUMNS])
    for c in ("n_things", "n_edges", "n_complete_triads", "n_intransitive"):
        out[c] = out[c].astype("int64")
    return out
