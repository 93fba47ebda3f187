"""Model-level answers from labels: the leaderboard, and how well an LLM judge agrees with humans.

Pairs come from ``schema.pairs(labels, items)`` (current submitted labels, adjudications left out): every
pairwise label and every response pair inside a ranking is one comparison between the two responses' models.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rank_widget.quality import metrics
from rank_widget.quality.interrater import (
    VERDICTS,
    preference_votes,
    unique_top,
    unit_verdict_counts,
    verdict_kappa,
)

LEADERBOARD_COLUMNS = (
    "rank",
    "model",
    "elo",
    "ci_low",
    "ci_high",
    "strength",
    "se",
    "n",
    "wins",
    "losses",
    "ties",
    "win_rate",
)


@dataclass
class Leaderboard:
    """Bradley-Terry leaderboard.

    ``table``: one row per model, best first: Elo-scale rating with bootstrap CI, the BT log-strength and its
    standard error, comparison counts and win rate (ties count half). ``win_matrix``: models x models, the
    share of their head-to-head comparisons the row model won (ties half; NaN if never compared).
    ``comparisons``: the winner / loser / tie rows the model was fitted on.
    """

    table: pd.DataFrame
    win_matrix: pd.DataFrame
    comparisons: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        return str(self.table.to_html(index=False, float_format=lambda x: f"{x:.3g}"))

    def __repr__(self) -> str:
        return f"Leaderboard({len(self.table)} models, {len(self.comparisons)} comparisons)\n{self.table}"


def model_comparisons(labels: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """winner / loser / tie rows between models (for ties, winner and loser are just the two models)."""
    votes = preference_votes(labels, items)
    if votes.empty or "model_a" not in votes.columns:
        return pd.DataFrame(
            {
                "winner": pd.Series(dtype=object),
                "loser": pd.Series(dtype=object),
                "tie": pd.Series(dtype=bool),
            }
        )
    ok = votes["model_a"].notna() & votes["model_b"].notna() & (votes["model_a"] != votes["model_b"])
    v = votes[ok]
    b_won = (v["verdict"] == "b").to_numpy()
    winner = np.where(b_won, v["model_b"].to_numpy(dtype=object), v["model_a"].to_numpy(dtype=object))
    loser = np.where(b_won, v["model_a"].to_numpy(dtype=object), v["model_b"].to_numpy(dtype=object))
    return pd.DataFrame(
        {
            "winner": winner.astype(object),
            "loser": loser.astype(object),
            "tie": (v["verdict"] == "tie").to_numpy(),
        }
    )


def win_matrix(comp: pd.DataFrame) -> pd.DataFrame:
    """models x models: share of head-to-head comparisons the row model won (ties count half)."""
    models = sorted(set(comp["winner"]) | set(comp["loser"]))
    index = {m: i for i, m in enumerate(models)}
    won = np.zeros((len(models), len(models)))
    games = np.zeros_like(won)
    w = comp["winner"].map(index).to_numpy(dtype=int)
    lo = comp["loser"].map(index).to_numpy(dtype=int)
    tie = comp["tie"].to_numpy(dtype=bool)
    np.add.at(won, (w, lo), np.where(tie, 0.5, 1.0))
    np.add.at(won, (lo, w), np.where(tie, 0.5, 0.0))
    np.add.at(games, (w, lo), 1.0)
    np.add.at(games, (lo, w), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(games > 0, won / games, np.nan)
    names = pd.Index(models, name="model")
    return pd.DataFrame(rate, index=names, columns=names)


def leaderboard(
    labels: pd.DataFrame,
    items: pd.DataFrame,
    *,
    bootstrap: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    prior: float | None = None,
) -> Leaderboard:
    """Bradley-Terry strengths of the models behind the responses, with bootstrap CIs over comparisons.

    ``items`` supplies each response's model (``responses[].model``); comparisons whose two responses have
    the same or an unknown model are left out. Ties count half a win each way. ``elo`` is
    1000 + 400 * log10 strength (mean-centred), ``ci_low``/``ci_high`` its percentile bootstrap interval
    (``bootstrap`` resamples of the comparisons; ``bootstrap=0`` leaves them NaN).

    ``prior``: pseudo-wins each way per compared pair. ``None`` (default) fits the plain maximum-likelihood
    model and falls back to ``prior=1.0`` only when it is not identifiable (a model that never lost or never
    won, in the data or in a bootstrap resample); ``settings["prior"]`` records what was used.
    """
    comp = model_comparisons(labels, items)
    if comp.empty:
        raise ValueError(
            "leaderboard: no comparisons between two different known models; check that items' "
            "responses carry a 'model' and that the labels' item_ids match the items"
        )
    priors = [0.0, 1.0] if prior is None else [prior]
    for k, p in enumerate(priors):
        try:
            fit = metrics.bradley_terry(comp, prior=p)
            boot = (
                metrics.bradley_terry_bootstrap(comp, rounds=bootstrap, seed=seed, ci=ci, prior=p)
                if bootstrap
                else None
            )
            break
        except ValueError:
            if k == len(priors) - 1:
                raise
    table = fit.copy()
    if boot is not None:
        table["ci_low"] = boot["elo_lower"].reindex(table.index).astype(float)
        table["ci_high"] = boot["elo_upper"].reindex(table.index).astype(float)
    else:
        table["ci_low"] = table["ci_high"] = math.nan
    games = table[["wins", "losses", "ties"]].sum(axis=1).replace(0, np.nan)
    table["win_rate"] = (table["wins"] + 0.5 * table["ties"]) / games
    table = table.rename_axis("model").reset_index().sort_values("elo", ascending=False, kind="stable")
    table["rank"] = np.arange(1, len(table) + 1)
    table = table[list(LEADERBOARD_COLUMNS)].reset_index(drop=True)
    return Leaderboard(
        table, win_matrix(comp), comp, {"bootstrap": bootstrap, "seed": seed, "ci": ci, "prior": p}
    )


# ---------------------------------------------------------------------------------------------------------
# Human vs judge


JUDGE_COLUMNS = (
    "annotator",
    "role",
    "reference",
    "n_units",
    "n_unparsed",
    "percent",
    "cohen_kappa",
    "judge_percent",
    "judge_cohen_kappa",
)
UNPARSED_POLICIES = ("wrong", "tie", "exclude")
UNPARSED_FLAG = "unparsed"
_NO_VERDICT = -1
_UNPARSED = len(VERDICTS)  # a 4th category: the judge said nothing readable
_WITH_UNPARSED = (*VERDICTS, "unparsed")


def _compare(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Percent agreement and Cohen's kappa of two arrays of verdict indices (into ``VERDICTS``; index 3 is an
    unparsed verdict, a category of its own that matches nothing)."""
    if len(x) == 0:
        return math.nan, math.nan
    if not (x == _UNPARSED).any():
        names = np.array(VERDICTS, dtype=object)
        return float(np.mean(x == y)), verdict_kappa(list(names[x]), list(names[y]))
    names = np.array(_WITH_UNPARSED, dtype=object)
    try:
        kappa = float(metrics.cohen_kappa(list(names[x]), list(names[y]), categories=list(_WITH_UNPARSED)))
    except (ValueError, ZeroDivisionError):
        kappa = math.nan
    return float(np.mean(x == y)), kappa


def _unparsed_items(labels: pd.DataFrame, judge: str) -> set[str]:
    """Items whose current label by ``judge`` is an unparsed verdict (``import_labels`` keeps those as skipped
    labels flagged "unparsed")."""
    if "flags" not in labels.columns or labels.empty:
        return set()
    mine = labels[labels["annotator"] == judge]
    if mine.empty:
        return set()
    latest = mine.sort_values("revision", kind="stable").drop_duplicates("item_id", keep="last")
    flagged = latest["status"].eq("skipped") & latest["flags"].map(
        lambda f: f is not None and UNPARSED_FLAG in list(f)
    )
    return set(latest.loc[flagged, "item_id"].astype(str))


def _judge_verdicts(
    labels: pd.DataFrame, votes: pd.DataFrame, codes: np.ndarray, n_units: int, judge: str
) -> np.ndarray:
    """Per unit, the judge's verdict index, ``_NO_VERDICT``, or (policy "wrong") ``_UNPARSED``."""
    verdict = votes["code"].to_numpy(dtype=int)
    mine = (votes["annotator"] == judge).to_numpy()
    jv = np.full(n_units, _NO_VERDICT)
    jv[codes[mine]] = verdict[mine]
    failed = _unparsed_items(labels, judge)
    if failed:
        unit_item = np.empty(n_units, dtype=object)
        unit_item[codes] = votes["item_id"].astype(str).to_numpy()
        hit = np.fromiter((i in failed for i in unit_item), dtype=bool, count=n_units) & (jv == _NO_VERDICT)
        jv[hit] = _UNPARSED
    return jv


def _policy(jv: np.ndarray, unparsed: str) -> np.ndarray:
    if unparsed == "tie":
        return np.where(jv == _UNPARSED, VERDICTS.index("tie"), jv)
    if unparsed == "exclude":
        return np.where(jv == _UNPARSED, _NO_VERDICT, jv)
    return jv


def _judge_names(labels: pd.DataFrame, votes: pd.DataFrame, judges: list[str], humans: Any) -> list[str]:
    known = set(votes["annotator"])
    missing = [j for j in judges if j not in known and not _unparsed_items(labels, j)]
    if missing:
        raise ValueError(
            f"judge_agreement: judge {missing[0]!r} has no current submitted labels; annotators are "
            f"{sorted(known)}"
        )
    humans = sorted(known - set(judges)) if humans is None else list(humans)
    if not humans:
        raise ValueError("judge_agreement: no human annotators to compare with")
    unknown = [h for h in humans if h not in known]
    if unknown:
        raise ValueError(
            f"judge_agreement: human {unknown[0]!r} has no current submitted labels; annotators "
            f"are {sorted(known)}"
        )
    return humans


def judge_agreement(
    labels: pd.DataFrame,
    *,
    judge: str | Sequence[str],
    humans: Sequence[str] | None = None,
    unparsed: str = "wrong",
) -> pd.DataFrame:
    """How well an LLM judge agrees with the human majority, next to how well each human does.

    The judge's verdicts are labels like any other annotator's (e.g. imported with ``source="import"``).
    Units are response pairs; verdicts are pair-relative (a / b / tie).

    - the judge row: percent agreement and Cohen's kappa with the plurality verdict of all ``humans`` on each
      unit (units where the humans split evenly have no majority and are left out);
    - one row per human: the same against the plurality of the *other* humans (leave-one-out), and in
      ``judge_percent`` / ``judge_cohen_kappa`` the judge against that very same reference on the very same
      units, so the two are directly comparable.

    Unparsed verdicts (a judge output that could not be read, kept by ``import_labels`` as a skipped label
    flagged ``"unparsed"``) are counted in ``n_unparsed`` (units with a reference where the judge's verdict
    did not parse) and scored by ``unparsed``:

    - ``"wrong"`` (default): a disagreement (in kappa, a category of its own that matches nothing). The
      judge is scored on every unit it was asked about, so a judge that fails to answer never looks better
      for it; this is what the judge is worth as a drop-in for the humans.
    - ``"tie"``: read as a tie (what e.g. PandaLM's evaluation did with GPT-3.5's unparseable outputs);
    - ``"exclude"``: left out, as before: accuracy over the parsed verdicts only (overstates the judge when
      it fails on hard items; ``n_unparsed`` says by how much the sample shrank).

    ``n_units`` counts the units scored (under "exclude" without the unparsed ones). ``humans`` defaults to
    every annotator who is not a judge. The policy is in ``result.attrs["unparsed"]``.
    """
    if unparsed not in UNPARSED_POLICIES:
        raise ValueError(f"judge_agreement: unparsed must be one of {UNPARSED_POLICIES}, got {unparsed!r}")
    judges = [judge] if isinstance(judge, str) else list(judge)
    votes = preference_votes(labels)
    humans = _judge_names(labels, votes, judges, humans)
    codes, _ = unit_verdict_counts(votes)
    n_units = int(codes.max()) + 1 if len(codes) else 0
    verdict = votes["code"].to_numpy(dtype=int)
    is_human = votes["annotator"].isin(humans).to_numpy()
    human_counts = np.zeros((n_units, len(VERDICTS)))
    np.add.at(human_counts, (codes[is_human], verdict[is_human]), 1.0)
    raw = {j: _judge_verdicts(labels, votes, codes, n_units, j) for j in judges}
    judge_verdict = {j: _policy(v, unparsed) for j, v in raw.items()}
    rows: list[dict[str, Any]] = []
    everyone = unique_top(human_counts)  # -1 where the humans split evenly
    for j in judges:
        ok = (everyone >= 0) & (judge_verdict[j] >= 0)
        pct, kappa = _compare(judge_verdict[j][ok], everyone[ok])
        rows.append(
            {
                "annotator": j,
                "role": "judge",
                "reference": "human majority",
                "n_units": int(ok.sum()),
                "n_unparsed": int(((everyone >= 0) & (raw[j] == _UNPARSED)).sum()),
                "percent": pct,
                "cohen_kappa": kappa,
                "judge_percent": math.nan,
                "judge_cohen_kappa": math.nan,
            }
        )
    for h in humans:
        rows.extend(_human_rows(h, votes, codes, verdict, human_counts, judges, judge_verdict, raw))
    cols = list(JUDGE_COLUMNS) + (["judge"] if len(judges) > 1 else [])
    out = pd.DataFrame(rows, columns=cols)
    out["n_units"] = out["n_units"].astype("int64")
    out["n_unparsed"] = out["n_unparsed"].astype("int64")
    out.attrs["unparsed"] = unparsed
    return out


def _human_rows(
    h: str,
    votes: pd.DataFrame,
    codes: np.ndarray,
    verdict: np.ndarray,
    human_counts: np.ndarray,
    judges: list[str],
    judge_verdict: dict[str, np.ndarray],
    raw: dict[str, np.ndarray],
) -> list[dict[str, Any]]:
    mine = (votes["annotator"] == h).to_numpy()
    units, own = codes[mine], verdict[mine]
    others = human_counts[units]
    others[np.arange(len(own)), own] -= 1.0  # leave this human out
    ref = unique_top(others)
    ok = ref >= 0
    pct, kappa = _compare(own[ok], ref[ok])
    rows = []
    for j in judges:
        jv = judge_verdict[j][units]
        both = ok & (jv >= 0)
        jp, jk = _compare(jv[both], ref[both])
        rows.append(
            {
                "annotator": h,
                "role": "human",
                "reference": "majority of other humans",
                "n_units": int(ok.sum()),
                "n_unparsed": int((ok & (raw[j][units] == _UNPARSED)).sum()),
                "percent": pct,
                "cohen_kappa": kappa,
                **({"judge": j} if len(judges) > 1 else {}),
                "judge_percent": jp,
                "judge_cohen_kappa": jk,
            }
        )
    return rows
