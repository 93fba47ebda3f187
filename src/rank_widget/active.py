"""Human labels where they count: choose the next items for people to label (docs/judges.md).

``next_items(labels, items, goal=..., k=...)`` returns the ``k`` item ids to label next, as a list that
``RankWidget(queue=...)`` takes as it is, with a ``table`` saying why and with what probability each was
drawn.

- ``goal="leaderboard"``: the model pairs whose next comparison most narrows the Bradley-Terry confidence
  intervals. Each candidate pair (a, b) is scored by how much one more comparison would shrink the summed
  variance of the model strengths (the Fisher information gains p(1-p) on e_a - e_b; Sherman-Morrison gives
  the shrinkage in closed form: p(1-p) |C (e_a - e_b)|^2 / (1 + p(1-p) Var(s_a - s_b))), where C is the
  current covariance of the BT fit on the human labels so far. Like Chatbot Arena's active sampling (Chiang
  et al. 2024, "Chatbot Arena", section 5) items are *drawn* with probability proportional to that score
  (mixed with ``explore`` uniform draws), not picked by arg-max, so every item keeps a positive probability.
- ``goal="judge"``: the items whose judge verdicts are least certain: judges that disagree with each other, a
  judge that disagrees with itself across the two orders, or an unparsed reply. Items are grouped by that
  pattern; each group's judge error rate is estimated from the items people have already labelled (Beta(1, 1)
  prior), and items are drawn with probability proportional to the error's standard deviation sqrt(p(1-p))
  (Neyman allocation: the draws that most narrow the CI of the judge's accuracy).

The probabilities are recorded (``table["probability"]``: the chance this item was the draw at its step of the
batch). The BT fit stays valid under this adaptive design (the choices depend only on data already seen);
for quantities averaged over items, such as the judge's accuracy, weight each human label by
``1 / probability`` (``ipw_mean``), which keeps the estimate unbiased.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from rank_widget.quality.interrater import VERDICTS
from rank_widget.quality.metrics import _bt_hessian, _fit_bt, _laplacian_pinv
from rank_widget.schema import current_labels, pairs

GOALS = ("leaderboard", "judge")
TABLE_COLUMNS = ("item_id", "goal", "score", "probability", "reason")
JUDGE_SOURCE = "judge"


class NextItems(list[str]):
    """The chosen item ids, in order (a list: ``RankWidget(queue=next_items(...))``), and ``table``: one row
    per chosen item with ``goal``, ``score``, ``probability`` (of being drawn at its step) and ``reason``."""

    def __init__(self, ids: Sequence[str], table: pd.DataFrame) -> None:
        super().__init__(ids)
        self.table = table

    def __repr__(self) -> str:
        return f"NextItems({list(self)!r})"


def _human(labels: pd.DataFrame) -> pd.DataFrame:
    cur = current_labels(labels, include_skipped=False)
    return cur[~cur["source"].isin([JUDGE_SOURCE, "adjudication"])]


def _item_models(items: pd.DataFrame) -> dict[str, tuple[str, str] | None]:
    """item -> its (model, model) pair, sorted; None when it has not exactly two responses of two models."""
    out: dict[str, tuple[str, str] | None] = {}
    for iid, resp in zip(items["item_id"].astype(str), items["responses"], strict=True):
        models = [r.get("model") for r in resp]
        ok = len(models) == 2 and all(isinstance(m, str) and m for m in models) and models[0] != models[1]
        out[iid] = (str(min(models)), str(max(models))) if ok else None
    return out


def _draw(
    weights: np.ndarray, k: int, rng: np.random.Generator, explore: float, update: Any = None
) -> list[tuple[int, float]]:
    """Draw k distinct indices: probability (1 - explore) * w / sum(w) + explore / n at each step;
    ``update(i)`` may return new weights after a draw (the batch then spreads)."""
    w = np.asarray(weights, dtype=float).copy()
    alive = np.ones(len(w), dtype=bool)
    out: list[tuple[int, float]] = []
    for _ in range(min(k, len(w))):
        n = int(alive.sum())
        ww = np.where(alive, np.clip(w, 0.0, None), 0.0)
        total = ww.sum()
        p = (1 - explore) * (ww / total if total > 0 else alive / n) + explore * alive / n
        p = p / p.sum()
        i = int(rng.choice(len(p), p=p))
        out.append((i, float(p[i])))
        alive[i] = False
        if update is not None:
            w = np.asarray(update(i), dtype=float)
    return out


# -- leaderboard ---------------------------------------------------------------------------------------------


class _BT:
    """The BT fit of the human comparisons so far and its covariance (a pseudo-win each way per pair makes
    the fit exist from the first label)."""

    def __init__(self, models: list[str], comp: pd.DataFrame, prior: float) -> None:
        self.models = models
        self.index = {m: i for i, m in enumerate(models)}
        k = len(models)
        w = np.full((k, k), prior) - np.eye(k) * prior
        for a, b, tie in zip(comp["winner"], comp["loser"], comp["tie"], strict=True):
            i, j = self.index.get(a), self.index.get(b)
            if i is None or j is None:
                continue
            if tie:
                w[i, j] += 0.5
                w[j, i] += 0.5
            else:
                w[i, j] += 1.0
        self.s = _fit_bt(w)
        self.cov = _laplacian_pinv(_bt_hessian(self.s, w + w.T))

    def gain(self, i: int, j: int) -> float:
        """Shrinkage of the summed strength variance from one more comparison of models i and j."""
        p = 1.0 / (1.0 + math.exp(self.s[j] - self.s[i]))
        info = p * (1 - p)
        d = self.cov[:, i] - self.cov[:, j]
        var = d[i] - d[j]
        return float(info * (d @ d) / (1.0 + info * var))

    def observe(self, i: int, j: int) -> None:
        """Fold an expected comparison of i and j into the covariance (Sherman-Morrison)."""
        p = 1.0 / (1.0 + math.exp(self.s[j] - self.s[i]))
        info = p * (1 - p)
        d = self.cov[:, i] - self.cov[:, j]
        self.cov = self.cov - np.outer(d, d) * info / (1.0 + info * (d[i] - d[j]))


def _leaderboard(
    labels: pd.DataFrame,
    items: pd.DataFrame,
    candidates: list[str],
    k: int,
    rng: np.random.Generator,
    explore: float,
    prior: float,
) -> NextItems:
    from rank_widget.quality.models import model_comparisons

    pair_of = _item_models(items)
    cands = [i for i in candidates if pair_of.get(i) is not None]
    if not cands:
        raise ValueError(
            "next_items(goal='leaderboard'): no unlabelled item compares two different known models; items "
            "need two responses with a 'model' each"
        )
    models = sorted({m for i in cands for m in pair_of[i] or ()} | _models_in(items))
    comp = model_comparisons(_human(labels), items)
    bt = _BT(models, comp, prior)
    pair_keys: list[tuple[str, str]] = sorted({p for i in cands if (p := pair_of[i]) is not None})
    idx = [(bt.index[a], bt.index[b]) for a, b in pair_keys]
    members: dict[Any, list[str]] = {key: [] for key in pair_keys}
    for i in cands:
        members[pair_of[i]].append(i)
    gains = np.array([bt.gain(i, j) for i, j in idx])
    chosen: list[dict[str, Any]] = []
    counts = np.array([len(members[key]) for key in pair_keys], dtype=float)
    for _ in range(min(k, len(cands))):
        # a pair is drawn in proportion to its gain (or, with probability explore, in proportion to its
        # unlabelled items: a uniform item); the item within the pair uniformly
        live = counts > 0
        g = np.where(live, gains, 0.0)
        p = (1 - explore) * (
            g / g.sum() if g.sum() > 0 else counts / counts.sum()
        ) + explore * counts / counts.sum()
        p_idx = int(rng.choice(len(p), p=p / p.sum()))
        key = pair_keys[p_idx]
        left = members[key]
        item = left.pop(int(rng.integers(len(left))))
        chosen.append(
            {
                "item_id": item,
                "goal": "leaderboard",
                "score": float(gains[p_idx]),
                "probability": float(p[p_idx] / p.sum() / counts[p_idx]),
                "reason": f"{key[0]} vs {key[1]}: narrows the BT CIs (summed variance by {gains[p_idx]:.3g})",
            }
        )
        counts[p_idx] -= 1
        bt.observe(*idx[p_idx])
        gains = np.array([bt.gain(i, j) for i, j in idx])
    table = pd.DataFrame(chosen, columns=list(TABLE_COLUMNS))
    return NextItems(list(table["item_id"]), table)


def _models_in(items: pd.DataFrame) -> set[str]:
    return {str(r["model"]) for resp in items["responses"] for r in resp if isinstance(r.get("model"), str)}


# -- judge ---------------------------------------------------------------------------------------------------


def _verdict_counts(p: pd.DataFrame) -> pd.DataFrame:
    """Per item: how many pair-relative verdicts were a / b / tie."""
    verdict = np.select([p["outcome"] == 1.0, p["outcome"] == 0.0], ["a", "b"], "tie")
    counts = pd.crosstab(p["item_id"].to_numpy(), verdict)
    return counts.reindex(columns=["a", "b", "tie"], fill_value=0)


def _top(counts: pd.DataFrame) -> pd.Series:
    """Per item: the single most common verdict; a split counts as a tie (as MT-Bench scores a pair whose
    two orders disagree)."""
    values = counts.to_numpy()
    top = values.max(axis=1)
    unique = (values == top[:, None]).sum(axis=1) == 1
    best = np.array(counts.columns, dtype=object)[values.argmax(axis=1)]
    return pd.Series(np.where(unique, best, "tie"), index=counts.index, dtype=object)


def judge_patterns(labels: pd.DataFrame) -> pd.DataFrame:
    """Per item with judge labels: the judges' pair-relative verdicts, whether they all agree (across judges
    and orders), how many were unparsed, and the judges' majority verdict (a split is a tie; None when
    every reply was unparsed)."""
    cur = current_labels(labels)
    j = cur[cur["source"] == JUDGE_SOURCE]
    cols = ["item_id", "n_verdicts", "n_unparsed", "agree", "judge_verdict", "pattern"]
    if j.empty:
        return pd.DataFrame(columns=cols)
    ids = pd.Index(sorted(set(j["item_id"])), name="item_id")
    unparsed = j[j["status"] != "submitted"].groupby("item_id").size().reindex(ids, fill_value=0)
    p = pairs(j[j["status"] == "submitted"], None, current=False)
    counts = (
        _verdict_counts(p).reindex(ids, fill_value=0)
        if not p.empty
        else pd.DataFrame(0, index=ids, columns=["a", "b", "tie"])
    )
    n = counts.sum(axis=1)
    kinds = (counts > 0).sum(axis=1)
    agree = (kinds == 1) & (unparsed == 0)
    pattern = np.where(agree, "agree", np.where((unparsed > 0) & (kinds <= 1), "unparsed", "disagree"))
    verdict = _top(counts).where(n > 0, None)
    return pd.DataFrame(
        {
            "item_id": ids,
            "n_verdicts": n.to_numpy(),
            "n_unparsed": unparsed.to_numpy(),
            "agree": agree.to_numpy(),
            "judge_verdict": verdict.to_numpy(),
            "pattern": pattern,
        }
    )


def _judge(
    labels: pd.DataFrame,
    items: pd.DataFrame,
    candidates: list[str],
    k: int,
    rng: np.random.Generator,
    explore: float,
) -> NextItems:
    pat = judge_patterns(labels).set_index("item_id")
    cands = [i for i in candidates if i in pat.index]
    if not cands:
        raise ValueError(
            "next_items(goal='judge'): no unlabelled item has judge verdicts; run rw.run_judge on the items "
            "first"
        )
    # each pattern's judge error rate so far, from the items people labelled (Beta(1, 1) prior)
    human = pairs(_human(labels), None, current=False)
    majority = _top(_verdict_counts(human)) if not human.empty else pd.Series(dtype=object)
    scored = pat.join(majority.rename("human"), how="inner")
    wrong = (scored["judge_verdict"] != scored["human"]).groupby(scored["pattern"]).agg(["sum", "size"])
    rate = {
        ptn: (float(wrong.loc[ptn, "sum"]) + 1) / (float(wrong.loc[ptn, "size"]) + 2)
        if ptn in wrong.index
        else 0.5
        for ptn in ("agree", "disagree", "unparsed")
    }
    patterns = pat.loc[cands, "pattern"].to_numpy()
    sd = np.array([math.sqrt(rate[p] * (1 - rate[p])) for p in patterns])
    picks = _draw(sd, k, rng, explore)
    table = pd.DataFrame(
        [
            {
                "item_id": cands[i],
                "goal": "judge",
                "score": float(sd[i]),
                "probability": prob,
                "reason": f"judges {patterns[i]}; estimated judge error here {rate[patterns[i]]:.2f}",
            }
            for i, prob in picks
        ],
        columns=list(TABLE_COLUMNS),
    )
    return NextItems(list(table["item_id"]), table)


def ipw_mean(values: Sequence[float], probability: Sequence[float]) -> float:
    """The inverse-probability-weighted (Hajek) mean of values observed on items drawn with these
    probabilities: unbiased for the mean over all items (up to O(1/n)) however the draws were targeted."""
    v, p = np.asarray(values, dtype=float), np.asarray(probability, dtype=float)
    if len(v) == 0:
        return math.nan
    if (p <= 0).any():
        raise ValueError("ipw_mean: every probability must be > 0")
    return float(np.sum(v / p) / np.sum(1.0 / p))


def stratified_mean(
    values: Sequence[float], strata: Sequence[str], population: Sequence[str]
) -> tuple[float, float]:
    """The stratified estimate of a mean over a population of items, and its standard error.

    ``values``/``strata``: the labelled items' values (e.g. 1.0 where the judge matched the person) and their
    stratum (``judge_patterns(...)["pattern"]``); ``population``: the stratum of every item of the pool.
    Within a stratum ``next_items(goal="judge")`` draws items uniformly, so each stratum's mean is unbiased,
    and the pool's mean is their average weighted by stratum size (Neyman allocation pairs with this
    estimator).
    A stratum with no labelled item makes the estimate NaN.
    """
    v = pd.Series(np.asarray(values, dtype=float))
    g = pd.Series(list(strata), dtype=object)
    sizes = pd.Series(list(population), dtype=object).value_counts()
    total = float(sizes.sum())
    est, var = 0.0, 0.0
    for stratum, size in sizes.items():
        part = v[(g == stratum).to_numpy()]
        if part.empty:
            return math.nan, math.nan
        w = float(size) / total
        est += w * float(part.mean())
        if len(part) > 1:
            var += w**2 * float(part.var(ddof=1)) / len(part) * (1 - len(part) / float(size))
    return est, math.sqrt(var)


def next_items(
    labels: pd.DataFrame,
    items: pd.DataFrame,
    *,
    goal: str = "leaderboard",
    k: int = 20,
    explore: float = 0.1,
    seed: int | None = None,
    prior: float = 1.0,
    exclude: Sequence[str] = (),
) -> NextItems:
    """The ``k`` items people should label next, for ``goal`` ``"leaderboard"`` or ``"judge"`` (module doc).

    Candidates are the items no person has labelled yet (judge labels do not count), minus ``exclude``.
    ``explore``: the share of each draw spread uniformly over the candidates (0..1). ``seed``: for the draws.
    ``prior``: BT pseudo-wins each way per model pair (leaderboard). Call again as labels arrive to refresh.
    """
    if goal not in GOALS:
        raise ValueError(f"next_items: goal must be one of {GOALS}, got {goal!r}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"next_items: k must be an integer >= 1, got {k!r}")
    if not 0.0 <= float(explore) <= 1.0:
        raise ValueError(f"next_items: explore must be in [0, 1], got {explore!r}")
    if not isinstance(items, pd.DataFrame) or "item_id" not in items.columns:
        raise TypeError("next_items: items must be the items DataFrame (rw.load_items)")
    done = set(_human(labels)["item_id"].astype(str)) | {str(e) for e in exclude}
    candidates = [i for i in items["item_id"].astype(str) if i not in done]
    if not candidates:
        raise ValueError("next_items: every item is labelled by a person already (or excluded)")
    rng = np.random.default_rng(seed)
    if goal == "leaderboard":
        return _leaderboard(labels, items, candidates, k, rng, explore, prior)
    return _judge(labels, items, candidates, k, rng, explore)


# -- a queue that follows the labels -------------------------------------------------------------------------

DRAW_COLUMNS = (*TABLE_COLUMNS, "draw", "labels_seen")


class ActiveQueue:
    """A labelling queue that is re-drawn as labels arrive:
    ``RankWidget(items, store=..., queue=rw.ActiveQueue(goal="leaderboard", refresh_every=10))``.

    When the widget opens it draws ``refresh_every`` items with ``next_items`` from the store's labels; each
    time ``refresh_every`` more labels are stored by the widget (or the drawn items run out) it draws the next
    ``refresh_every`` from the store's labels as they are then (its own and, on a shared store, teammates'),
    so the next items follow what has been learnt. Items already in the queue keep their positions: each draw
    is appended. ``k``: at most this many items in the whole queue (None: until no candidate is left).
    ``explore``, ``seed``, ``prior``: as for ``next_items`` (the seed seeds the sequence of draws).

    ``draws``: every draw's table (``next_items(...).table``) with ``draw`` (0, 1, ...) and ``labels_seen``
    (human labels in the store at that draw), so ``probability`` is there for unbiased estimates.

    For a team dataset the lead refreshes the shared queue instead: ``refresh_team_queue``.
    """

    def __init__(
        self,
        goal: str = "leaderboard",
        *,
        k: int | None = None,
        refresh_every: int = 10,
        explore: float = 0.1,
        seed: int | None = None,
        prior: float = 1.0,
    ) -> None:
        if goal not in GOALS:
            raise ValueError(f"ActiveQueue: goal must be one of {GOALS}, got {goal!r}")
        for name, value in (("refresh_every", refresh_every), ("k", k)):
            if value is None and name == "k":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ActiveQueue: {name} must be an integer >= 1, got {value!r}")
        if not 0.0 <= float(explore) <= 1.0:
            raise ValueError(f"ActiveQueue: explore must be in [0, 1], got {explore!r}")
        self.goal, self.k, self.refresh_every = goal, k, refresh_every
        self.explore, self.prior = float(explore), prior
        self._seeds = np.random.default_rng(seed)
        self._tables: list[pd.DataFrame] = []
        self.drawn = 0  # items drawn so far
        self.stopped: str | None = None  # why no more items are drawn (all labelled, k reached)

    def __repr__(self) -> str:
        return (
            f"ActiveQueue(goal={self.goal!r}, k={self.k!r}, refresh_every={self.refresh_every}, "
            f"drawn={self.drawn})"
        )

    @property
    def draws(self) -> pd.DataFrame:
        if not self._tables:
            return pd.DataFrame(columns=list(DRAW_COLUMNS))
        return pd.concat(self._tables, ignore_index=True)

    def draw(self, labels: pd.DataFrame, items: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
        """The next batch (at most ``refresh_every`` items, none of ``exclude``). The first draw raises
        ``next_items``'s error when there is nothing to draw; a later one returns [] and says why in
        ``stopped``."""
        n = self.refresh_every if self.k is None else min(self.refresh_every, self.k - self.drawn)
        if n <= 0:
            self.stopped = f"k={self.k} items drawn"
            return []
        seed = int(self._seeds.integers(2**31))
        try:
            picks = next_items(
                labels,
                items,
                goal=self.goal,
                k=n,
                explore=self.explore,
                seed=seed,
                prior=self.prior,
                exclude=exclude,
            )
        except ValueError as exc:
            if not self._tables:
                raise
            self.stopped = str(exc)
            return []
        table = picks.table.assign(draw=len(self._tables), labels_seen=len(_human(labels)))
        self._tables.append(table)
        self.drawn += len(picks)
        return list(picks)

    def due(self, stored_since_draw: int, left: int) -> bool:
        """Draw again: ``refresh_every`` labels stored since the last draw, or no queued item left after the
        current one."""
        return self.stopped is None and (stored_since_draw >= self.refresh_every or left <= 0)


def refresh_team_queue(
    store: Any,
    items: pd.DataFrame,
    dataset: str,
    *,
    goal: str = "leaderboard",
    k: int = 20,
    explore: float = 0.1,
    seed: int | None = None,
    prior: float = 1.0,
) -> NextItems:
    """A lead puts ``next_items``' picks first in a team dataset's claims, from the store's labels now.

    The candidates are the dataset's registered, non-gold items that are not complete and that no person has
    labelled (``next_items``). Items prioritised before that are in progress (a label or a lease, not yet
    their overlap) stay first, in their order, so the overlap of what was started is finished; the new picks
    follow. Run it again as labels arrive (e.g. every few dozen labels, or from a loop in the lead's
    notebook). Returns the new picks (``table`` with their probabilities); ``store.priorities(dataset)`` is
    the whole order claims now follow. With ``team.setup`` this needs the lead role (who reads every label).
    """
    from rank_widget.store import assign

    status = assign.item_status(store, dataset)
    if status.empty:
        raise ValueError(f"refresh_team_queue: team dataset {dataset!r} has no items in {store.url}")
    state = dict(zip(status["item_id"], status["state"], strict=True))
    keep = [i for i in assign.priorities(store, dataset) if state.get(i) == "in_progress"]
    closed = {i for i, st in state.items() if st in ("complete", "gold")}
    outside = [i for i in items["item_id"].astype(str) if i not in state or i in closed]
    picks = next_items(
        store.current(),
        items,
        goal=goal,
        k=k,
        explore=explore,
        seed=seed,
        prior=prior,
        exclude=[*outside, *keep],
    )
    store.set_priorities(dataset, [*keep, *picks])
    return picks


__all__ = [
    "GOALS",
    "VERDICTS",
    "ActiveQueue",
    "NextItems",
    "ipw_mean",
    "judge_patterns",
    "next_items",
    "refresh_team_queue",
    "stratified_mean",
]
