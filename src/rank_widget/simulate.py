"""Synthetic annotators with known behaviour, for analysis notebooks, tests and benchmarks.

Every response gets a latent true quality (``true_quality``): from the item's ``gold`` ranking when it has
one, otherwise its model's skill (``model_skills``) plus per-response noise. Annotators (``Annotator``) then
label the items with planted, measurable habits; the labels are ordinary label rows with
``source="simulation"``, so the quality reports can be checked against the truth: the leaderboard against
``model_skills``, the position-bias report against ``position_bias``, and so on (``planted`` lists the rates
each parameter implies).

How an annotator labels an item, in this order (each draw independent and seeded):

1. ``display_order`` is a uniformly random permutation of the item's responses (position A first).
2. With probability ``skip_rate`` the label is a skip. (With probability ``repeat_rate`` the item comes back
   at the end of the annotator's queue and is labelled again, independently: revision 2, superseding the
   first; agreement between the two measures self-consistency.)
3. With probability ``too_fast_rate`` the annotator rushes: a uniformly random order without ties, no
   rationale, and an active time around a tenth of their median.
4. Otherwise the annotator orders the responses: with probability ``|position_bias|`` by position alone
   (display order when ``position_bias > 0``, its reverse when ``< 0``); else by content, a Plackett-Luce
   draw whose weights are ``odds ** -true_rank`` with ``odds = accuracy / (1 - accuracy)``, so any two
   responses adjacent in the true order are put the right way round with probability exactly ``accuracy``
   (equal truth: 50/50).
   Then each adjacent pair in that order is merged into a tie with probability ``tie_rate``.

For a pairwise item this means, on non-rushed labels: P(tie) = ``tie_rate``; on decisive labels
P(winner is position A) = 0.5 + position_bias / 2 (whatever the accuracy, as display order is random) and
P(winner is truly better) = (1 - |position_bias|) * accuracy + |position_bias| / 2.

Decisive pairwise labels get ``strength`` 1/2/3 with probabilities ``strength_habit``; ties get 0. Active time
is log-normal with median ``speed_ms[0]`` and log-sd ``speed_ms[1]``; ``started_at`` follows the previous
submit by a moment, and ``submitted_at - started_at`` = active time + any idle time (idle is excluded from
``active_ms``, as in the widget). Rationales are generated sentences with a word count drawn from
Normal(``rationale_words``), rounded, floored at 0. With probability ``flag_rate`` a label carries one flag.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .schema import COLUMN_NAMES, DEFAULT_FLAGS, MAX_SCALE, TIE, coerce_labels, labels_frame

__all__ = [
    "Annotator",
    "SimulatedJudge",
    "Simulation",
    "model_skills",
    "planted",
    "simulate",
    "simulate_labels",
    "true_quality",
]

DEFAULT_START = pd.Timestamp("2026-01-05T09:00:00Z")
RUSHED_SPEED_FACTOR = 0.1  # a rushed label takes about a tenth of the annotator's median time
SESSION_LENGTH = 40  # labels between breaks
_STREAMS = ("skills", "noise", "assign", "labels")


@dataclass(frozen=True)
class Annotator:
    """A synthetic annotator. See the module docstring for the exact meaning of each parameter."""

    name: str
    accuracy: float = 0.8
    position_bias: float = 0.0
    tie_rate: float = 0.1
    speed_ms: tuple[float, float] = (15_000.0, 0.5)  # (median active ms, log-sd)
    rationale_words: tuple[float, float] = (12.0, 4.0)  # (mean, sd) words per rationale
    flag_rate: float = 0.02
    too_fast_rate: float = 0.0
    strength_habit: tuple[float, float, float] = (0.0, 0.6, 0.4)  # P(strength 1, 2, 3) on decisive labels
    skip_rate: float = 0.0
    repeat_rate: float = 0.0  # share of items labelled again at the end of the queue (a new revision)
    rating_noise: float = 0.7  # sd of the noise on each simulated rating

    def __post_init__(self) -> None:
        where = f"Annotator {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"{where}: name must be a non-empty string")
        for fname in ("accuracy", "tie_rate", "flag_rate", "too_fast_rate", "skip_rate", "repeat_rate"):
            value = getattr(self, fname)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{where}: {fname} must be in [0, 1], got {value!r}")
        if not -1.0 <= float(self.position_bias) <= 1.0:
            raise ValueError(f"{where}: position_bias must be in [-1, 1], got {self.position_bias!r}")
        if len(self.speed_ms) != 2 or self.speed_ms[0] <= 0 or self.speed_ms[1] < 0:
            raise ValueError(f"{where}: speed_ms must be (median > 0, log-sd >= 0), got {self.speed_ms!r}")
        if len(self.rationale_words) != 2 or self.rationale_words[1] < 0:
            raise ValueError(
                f"{where}: rationale_words must be (mean, sd >= 0), got {self.rationale_words!r}"
            )
        habit = self.strength_habit
        if len(habit) != 3 or any(p < 0 for p in habit) or not math.isclose(sum(habit), 1.0, abs_tol=1e-9):
            raise ValueError(
                f"{where}: strength_habit must be 3 probabilities (strength 1, 2, 3) summing to 1, "
                f"got {habit!r}"
            )
        if self.rating_noise < 0:
            raise ValueError(f"{where}: rating_noise must be >= 0")


@dataclass
class Simulation:
    """The labels and the truth they were drawn from."""

    labels: pd.DataFrame
    truth: (
        pd.DataFrame
    )  # item_id, response_id, model, quality, true_rank (0 = best; equal quality, equal rank)
    skills: dict[str, float]
    annotators: tuple[Annotator, ...]
    params: dict[str, Any] = field(default_factory=dict)


def _rngs(seed: int) -> dict[str, np.random.Generator]:
    # independent streams, so e.g. the truth does not change when the annotators do
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(_STREAMS, children, strict=True)}


def _label_rngs(seed: int, item_ids: Sequence[str], names: Sequence[str]) -> dict[str, np.random.Generator]:
    """Streams for assignment and labelling, keyed by the seed AND the items and annotators.

    So two calls with the same seed on different item sets (e.g. a v1 and a v2 batch) draw independently,
    while the same arguments still give the same labels. The truth streams depend on the seed alone.
    """
    digest = hashlib.sha1("\x1f".join([*item_ids, "\x1e", *names]).encode("utf-8")).digest()
    key = int.from_bytes(digest[:8], "little")
    assign, labels = np.random.SeedSequence([seed, key]).spawn(2)
    return {"assign": np.random.default_rng(assign), "labels": np.random.default_rng(labels)}


def _check_items(items: pd.DataFrame) -> None:
    if not isinstance(items, pd.DataFrame):
        raise TypeError(f"items must be an items DataFrame (see load_items), got {type(items).__name__}")
    for col in ("item_id", "responses"):
        if col not in items.columns:
            raise ValueError(f"items has no {col!r} column; build items with rank_widget.load_items")
    if items.empty:
        raise ValueError("items is empty; nothing to label")


def model_skills(items: pd.DataFrame, *, seed: int = 0, spread: float = 1.0) -> dict[str, float]:
    """A latent skill per model name in the items (Normal(0, spread), seeded; sorted by name)."""
    _check_items(items)
    models = sorted(
        {str(r["model"]) for resp in items["responses"] for r in resp if r.get("model") is not None}
    )
    draws = _rngs(seed)["skills"].normal(0.0, spread, size=len(models))
    return {m: float(s) for m, s in zip(models, draws, strict=True)}


def _gold_of(value: Any) -> list[list[str]] | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "tolist") and not isinstance(value, list):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not value:
        return None
    return [
        [str(r) for r in (g.tolist() if hasattr(g, "tolist") else g)] if not isinstance(g, str) else [g]
        for g in value
    ]


def true_quality(
    items: pd.DataFrame,
    *,
    seed: int = 0,
    skills: Mapping[str, float] | None = None,
    noise: float = 0.5,
) -> pd.DataFrame:
    """The latent quality of every response: one row per item x response.

    Items with a ``gold`` ranking take it as truth (quality = minus the tie-group index, so equal groups
    are equal). Others: the model's skill (``model_skills(items, seed=seed)`` unless given; 0 for responses
    without a model) plus Normal(0, ``noise``). ``true_rank`` is the 0-based rank within the item (equal
    quality, equal rank).
    """
    _check_items(items)
    skills = dict(skills) if skills is not None else model_skills(items, seed=seed)
    rng = _rngs(seed)["noise"]
    golds = items["gold"].tolist() if "gold" in items.columns else [None] * len(items)
    rows: list[tuple[str, str, str | None, float, int]] = []
    for iid, responses, gold_raw in zip(
        items["item_id"].tolist(), items["responses"].tolist(), golds, strict=True
    ):
        gold = _gold_of(gold_raw)
        noise_draws = rng.normal(0.0, noise, size=len(responses))  # drawn for every item: stable streams
        ids = [str(r["response_id"]) for r in responses]
        if gold is not None:
            group = {rid: g for g, members in enumerate(gold) for rid in members}
            missing = [rid for rid in ids if rid not in group]
            if missing:
                raise ValueError(
                    f"item {iid!r}: field 'gold' does not rank response(s) {missing}; the gold "
                    "ranking must cover every response"
                )
            quality = [-float(group[rid]) for rid in ids]
        else:
            quality = [
                (skills.get(str(r["model"]), 0.0) if r.get("model") is not None else 0.0) + float(z)
                for r, z in zip(responses, noise_draws, strict=True)
            ]
        distinct = sorted(set(quality), reverse=True)
        rank = {q: i for i, q in enumerate(distinct)}
        for r, rid, q in zip(responses, ids, quality, strict=True):
            model = r.get("model")
            rows.append((str(iid), rid, None if model is None else str(model), q, rank[q]))
    out = pd.DataFrame.from_records(rows, columns=["item_id", "response_id", "model", "quality", "true_rank"])
    out["true_rank"] = out["true_rank"].astype("int64")
    return out


def planted(annotators: Sequence[Annotator]) -> pd.DataFrame:
    """The rates each annotator's parameters imply on pairwise items, to compare with measured ones.

    Over submitted labels (skips excluded), with rushed labels mixed in:
    ``tie_rate`` = (1 - f) t; ``pick_a_rate`` (decisive) and ``accuracy_decisive`` (decisive, against the
    truth, items whose two responses differ in truth) as in the module docstring, mixed with f at 0.5.
    """
    rows = []
    for a in annotators:
        f, t, b = a.too_fast_rate, a.tie_rate, a.position_bias
        decisive = f + (1 - f) * (1 - t)
        careful = (1 - f) * (1 - t)
        pick_a = (0.5 * f + careful * (0.5 + b / 2)) / decisive if decisive else math.nan
        acc = (
            (0.5 * f + careful * ((1 - abs(b)) * a.accuracy + abs(b) / 2)) / decisive
            if decisive
            else math.nan
        )
        rows.append(
            {
                "annotator": a.name,
                "accuracy": a.accuracy,
                "position_bias": b,
                "pick_a_rate": pick_a,
                "accuracy_decisive": acc,
                "tie_rate": (1 - f) * t,
                "median_active_ms": a.speed_ms[0],
                "rationale_words": a.rationale_words[0],
                "flag_rate": a.flag_rate,
                "too_fast_rate": f,
                "skip_rate": a.skip_rate,
                "repeat_rate": a.repeat_rate,
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------
# Rationale text

_WIN = (
    "{w} is more accurate",
    "{w} answers the question directly",
    "{l} misses a key step",
    "{w} explains the reasoning clearly",
    "{l} contains a factual error",
    "{w} follows the instructions",
    "{l} is too verbose for what was asked",
    "the code in {w} handles the edge case",
    "{l} ignores part of the prompt",
    "{w} is better organised and easier to follow",
    "{l} makes a claim without support",
    "{w} is more complete",
)
_TIE = (
    "both answers are about equally good",
    "neither response stands out",
    "they make the same points",
    "both have small mistakes of similar weight",
    "the difference is only in style",
    "either would be fine",
)


@functools.lru_cache(maxsize=1024)
def _sentence_words(tie: bool, w: str, lo: str, stream: int) -> tuple[str, ...]:
    bank = _TIE if tie else _WIN
    order = np.random.default_rng(stream).permutation(len(bank)).tolist()
    words: list[str] = []
    for k in order:
        text = bank[k].format(w=w, l=lo)
        words.extend((text[0].upper() + text[1:] + ".").split())
    return tuple(words)


def _rationale(n_words: int, tie: bool, w: str, lo: str, stream: int) -> str:
    """Sentences from a small bank, cut to exactly ``n_words`` words (the planted length is measurable)."""
    if n_words <= 0:
        return ""
    # 32 sentence orders per (tie, A/B) case, cached: text building is the hot spot of a big simulation
    words = list(_sentence_words(tie, w, lo, stream % 32))
    while len(words) < n_words:  # a very long rationale: keep explaining
        words.extend(words[: n_words - len(words)])
    words = words[:n_words]
    if not words[-1].endswith("."):
        words[-1] += "."
    return " ".join(words)


# ---------------------------------------------------------------------------------------------------------
# Simulation


def _truth_lookup(items: pd.DataFrame, true_q: Any, seed: int) -> pd.DataFrame:
    if true_q is None:
        return true_quality(items, seed=seed)
    if isinstance(true_q, pd.DataFrame):
        needed = {"item_id", "response_id", "quality"}
        if not needed <= set(true_q.columns):
            raise ValueError(f"true_quality DataFrame needs columns {sorted(needed)}")
        frame = true_q[["item_id", "response_id", "quality"]].copy()
    elif isinstance(true_q, Mapping):
        frame = pd.DataFrame(
            [(str(k[0]), str(k[1]), float(v)) for k, v in true_q.items()],
            columns=["item_id", "response_id", "quality"],
        )
    else:
        raise TypeError(
            "true_quality must be None, a DataFrame (item_id, response_id, quality) or a mapping "
            "{(item_id, response_id): quality}"
        )
    frame["item_id"] = frame["item_id"].astype(str)
    frame["response_id"] = frame["response_id"].astype(str)
    frame["true_rank"] = (
        frame.groupby("item_id", sort=False)["quality"].rank(method="dense", ascending=False).astype("int64")
        - 1
    )
    return frame


def simulate(
    items: pd.DataFrame,
    annotators: Sequence[Annotator],
    *,
    task: str = "auto",
    true_quality: pd.DataFrame | Mapping[tuple[str, str], float] | None = None,
    seed: int = 0,
    overlap: int | None = None,
    guideline_version: str | None = None,
    start: Any = None,
    criteria: Sequence[str] = (),
    scale: int = 5,
) -> Simulation:
    """Simulate ``annotators`` labelling ``items``: the labels and the truth.

    - ``task``: ``"pairwise"`` (every item must have exactly 2 responses), ``"ranking"``, or ``"auto"``
      (pairwise for 2-response items, ranking for the others).
    - ``true_quality``: the truth; by default ``true_quality(items, seed=seed)`` (see that function).
    - ``overlap``: how many annotators label each item (chosen at random per item); default all of them.
    - ``criteria``/``scale``: also rate every response on these criteria, 1..scale, rising with true quality.
    - ``start``: UTC time the first annotator starts (default 2026-01-05 09:00 UTC: reproducible output).

    Same arguments, same labels (seeded; label ids are deterministic).
    """
    _check_items(items)
    annotators = _checked_annotators(annotators)
    if task not in ("pairwise", "ranking", "auto"):
        raise ValueError(f"task must be 'pairwise', 'ranking' or 'auto', got {task!r}")
    if overlap is not None and not 1 <= overlap <= len(annotators):
        raise ValueError(
            f"overlap must be between 1 and the number of annotators ({len(annotators)}), got {overlap}"
        )
    if criteria and (not isinstance(scale, int) or not 2 <= scale <= MAX_SCALE):
        # the store and read_labels refuse ratings above MAX_SCALE, so simulated ones must not exceed it
        raise ValueError(f"scale must be an integer from 2 to {MAX_SCALE}, got {scale!r}")
    t0 = DEFAULT_START if start is None else pd.Timestamp(start)
    if t0.tzinfo is None:
        raise ValueError("start must be timezone-aware (UTC)")
    t0_us = int(t0.tz_convert("UTC").value // 1000)

    truth = _truth_lookup(items, true_quality, seed)
    rngs = _label_rngs(seed, [str(i) for i in items["item_id"].tolist()], [a.name for a in annotators])
    skills = model_skills(items, seed=seed)
    item_rows = _item_rows(items, truth, task)
    assigned = _assignments(len(item_rows), len(annotators), overlap, rngs["assign"])

    # every schema column but guideline_version and source, which are set for the whole frame below
    cols: dict[str, list[Any]] = {
        name: [] for name in COLUMN_NAMES if name not in ("guideline_version", "source")
    }
    queue = _Queue(
        cols=cols,
        item_rows=item_rows,
        rng=rngs["labels"],
        seed=seed,
        max_n=max(len(r[1]) for r in item_rows),
        criteria=tuple(criteria),
        scale=scale,
        t0_us=t0_us,
    )
    for ann, todo in zip(annotators, assigned, strict=True):
        if todo:
            queue.label(ann, todo)
    return Simulation(
        labels=_labels_of(cols, guideline_version),
        truth=_truth_with_models(truth, items),
        skills=skills,
        annotators=annotators,
        params={"task": task, "seed": seed, "overlap": overlap, "criteria": tuple(criteria), "scale": scale},
    )


def _checked_annotators(annotators: Sequence[Annotator]) -> tuple[Annotator, ...]:
    annotators = tuple(annotators)
    if not annotators:
        raise ValueError("annotators is empty; pass at least one Annotator")
    if not all(isinstance(a, Annotator) for a in annotators):
        raise TypeError("annotators must be Annotator objects")
    names = [a.name for a in annotators]
    if len(set(names)) != len(names):
        raise ValueError(f"annotator names must be unique, got {names}")
    return annotators


# per item: id, response ids, true ranks, qualities, task
_ItemRow = tuple[str, list[str], list[int], list[float], str]


def _item_rows(items: pd.DataFrame, truth: pd.DataFrame, task: str) -> list[_ItemRow]:
    keys = list(zip(truth["item_id"].tolist(), truth["response_id"].tolist(), strict=True))
    q_of = dict(zip(keys, truth["quality"].tolist(), strict=True))
    rank_of = dict(zip(keys, truth["true_rank"].tolist(), strict=True))
    item_rows: list[_ItemRow] = []
    for pos, (iid, responses) in enumerate(
        zip(items["item_id"].tolist(), items["responses"].tolist(), strict=True)
    ):
        iid = str(iid)
        ids = [str(r["response_id"]) for r in responses]
        if len(ids) < 2:
            raise ValueError(
                f"row {pos} (item {iid!r}): field 'responses' has {len(ids)} response(s); "
                "labelling needs at least 2"
            )
        item_task = task if task != "auto" else ("pairwise" if len(ids) == 2 else "ranking")
        if item_task == "pairwise" and len(ids) != 2:
            raise ValueError(
                f"row {pos} (item {iid!r}): field 'responses' has {len(ids)} responses; pairwise "
                "needs exactly 2 (use task='auto' or 'ranking')"
            )
        try:
            ranks = [int(rank_of[(iid, r)]) for r in ids]
            quals = [float(q_of[(iid, r)]) for r in ids]
        except KeyError as exc:
            raise ValueError(
                f"item {iid!r}: true_quality has no value for response {exc.args[0][1]!r}"
            ) from exc
        item_rows.append((iid, ids, ranks, quals, item_task))
    return item_rows


def _assignments(n_items: int, n_ann: int, overlap: int | None, rng: np.random.Generator) -> list[list[int]]:
    """Who labels what: per annotator, the item positions in queue order."""
    if overlap is None or overlap == n_ann:
        return [list(range(n_items)) for _ in range(n_ann)]
    assigned: list[list[int]] = [[] for _ in range(n_ann)]
    chosen_per_item = rng.random((n_items, n_ann)).argsort(axis=1)[:, :overlap].tolist()
    for i, chosen in enumerate(chosen_per_item):
        for a in chosen:
            assigned[a].append(i)
    return assigned


@dataclass
class _Queue:
    """Labels annotators' queues into ``cols`` (one list per label column), one annotator at a time."""

    cols: dict[str, list[Any]]
    item_rows: list[_ItemRow]
    rng: np.random.Generator
    seed: int
    max_n: int
    criteria: tuple[str, ...]
    scale: int
    t0_us: int

    def label(self, ann: Annotator, first: list[int]) -> None:
        rng, max_n, criteria, cols = self.rng, self.max_n, self.criteria, self.cols
        item_rows, seed, scale = self.item_rows, self.seed, self.scale  # locals: read once per label below
        # re-labels: a random share of the items comes back at the end of the queue as revision 2
        again = [
            i for i, r in zip(first, rng.random(len(first)).tolist(), strict=True) if r < ann.repeat_rate
        ]
        todo = first + again
        revisions = [1] * len(first) + [2] * len(again)
        m = len(todo)
        # bulk draws, then a plain-python loop (fast scalars)
        u = rng.random((m, 8)).tolist()
        order_keys = rng.random((m, max_n)).tolist()
        gumbel = rng.gumbel(size=(m, max_n)).tolist()
        merge = rng.random((m, max_n)).tolist()
        speed = np.exp(np.log(ann.speed_ms[0]) + ann.speed_ms[1] * rng.standard_normal(m)).tolist()
        idle = np.where(rng.random(m) < 0.1, rng.exponential(20_000.0, m), 0.0).tolist()
        render_gap = rng.uniform(30.0, 400.0, m).tolist()
        breaks = rng.uniform(5 * 60_000.0, 30 * 60_000.0, m).tolist()
        words = np.rint(rng.normal(ann.rationale_words[0], ann.rationale_words[1], m)).tolist()
        streams = rng.integers(0, 32, m).tolist()
        rating_z = rng.standard_normal((m, max_n * max(1, len(criteria)))).tolist() if criteria else None
        logit = _logit(ann.accuracy)
        habit = np.cumsum(ann.strength_habit).tolist()
        clock = self.t0_us + int(rng.uniform(0, 15 * 60e6))  # annotators start within a quarter hour

        for j, i in enumerate(todo):
            iid, ids, ranks, quals, item_task = item_rows[i]
            n = len(ids)
            uj = u[j]
            order = [ids[k] for k in sorted(range(n), key=order_keys[j].__getitem__)]
            groups, rushed = _judge(ann, ids, ranks, order, uj, gumbel[j], merge[j], logit)
            submitted_ok = groups is not None
            active = speed[j] * (RUSHED_SPEED_FACTOR if rushed else 1.0)
            active_ms = max(1, int(active))
            if j and j % SESSION_LENGTH == 0:
                clock += int(breaks[j] * 1000)
            started = clock
            submitted = started + active_ms * 1000 + int(idle[j] * 1000)
            clock = submitted + int(render_gap[j] * 1000)

            winner, strength = (
                _pairwise_verdict(groups, uj[3], habit)
                if item_task == "pairwise" and groups is not None
                else (None, None)
            )
            rationale = (
                _rationale_of(groups, order, int(words[j]), streams[j])
                if groups is not None and not rushed
                else ""
            )
            flags = (
                [DEFAULT_FLAGS[int(uj[5] * len(DEFAULT_FLAGS))]]
                if submitted_ok and uj[4] < ann.flag_rate
                else []
            )
            ratings = (
                _ratings_of(ids, quals, criteria, rating_z[j], ann.rating_noise, scale)
                if rating_z is not None and submitted_ok
                else None
            )
            rev = revisions[j]
            cols["label_id"].append(_label_id(seed, ann.name, iid, rev))
            cols["revision"].append(rev)
            cols["supersedes"].append(None if rev == 1 else _label_id(seed, ann.name, iid, rev - 1))
            cols["item_id"].append(iid)
            cols["annotator"].append(ann.name)
            cols["task"].append(item_task)
            cols["status"].append("submitted" if submitted_ok else "skipped")
            cols["ranking"].append(groups)
            cols["winner"].append(winner)
            cols["strength"].append(strength)
            cols["ratings"].append(ratings)
            cols["rationale"].append(rationale)
            cols["flags"].append(flags)
            cols["flag_note"].append("")
            cols["display_order"].append(order)
            cols["started_at"].append(started)
            cols["submitted_at"].append(submitted)
            cols["active_ms"].append(active_ms)


def _judge(
    ann: Annotator,
    ids: list[str],
    ranks: list[int],
    order: list[str],
    uj: list[float],
    gumbel: list[float],
    merge: list[float],
    logit: float,
) -> tuple[list[list[str]] | None, bool]:
    """One judgement: (tie groups best->worst, or None for a skip; rushed)."""
    if uj[0] < ann.skip_rate:
        return None, False
    n = len(ids)
    b = ann.position_bias
    rushed = uj[1] < ann.too_fast_rate
    if rushed:
        seq = [ids[k] for k in sorted(range(n), key=gumbel.__getitem__)]
    elif uj[2] < abs(b):
        seq = list(order) if b > 0 else order[::-1]
    else:
        # Plackett-Luce via the Gumbel-max trick: score = log-weight + Gumbel noise
        score = [-ranks[k] * logit + gumbel[k] for k in range(n)]
        seq = [ids[k] for k in sorted(range(n), key=score.__getitem__, reverse=True)]
    groups = [[seq[0]]]
    for k in range(1, n):
        if not rushed and merge[k] < ann.tie_rate:
            groups[-1].append(seq[k])
        else:
            groups.append([seq[k]])
    if len(groups) < n:  # tie-group members in the item's response order, as validate_label does
        groups = [sorted(g, key=ids.index) if len(g) > 1 else g for g in groups]
    return groups, rushed


def _pairwise_verdict(groups: list[list[str]], u: float, habit: list[float]) -> tuple[str, int]:
    if len(groups) == 1:
        return TIE, 0
    return groups[0][0], 1 if u < habit[0] else 2 if u < habit[1] else 3


def _rationale_of(groups: list[list[str]], order: list[str], n_words: int, stream: int) -> str:
    n = len(order)
    shown = {rid: k for k, rid in enumerate(order)}
    best, worst = groups[0][0], groups[-1][-1]
    tie = len(groups) < n
    return _rationale(
        n_words, tie and len(groups) == 1, _pos_name(shown[best], n), _pos_name(shown[worst], n), stream
    )


def _ratings_of(
    ids: list[str], quals: list[float], criteria: tuple[str, ...], zs: list[float], noise: float, scale: int
) -> dict[str, dict[str, int]]:
    return {
        rid: {
            c: _rating(quals[k], zs[k * len(criteria) + ci] * noise, scale) for ci, c in enumerate(criteria)
        }
        for k, rid in enumerate(ids)
    }


def _labels_of(cols: dict[str, list[Any]], guideline_version: str | None) -> pd.DataFrame:
    total = len(cols["label_id"])
    if total == 0:
        return labels_frame([])
    frame = pd.DataFrame(
        {
            **{k: v for k, v in cols.items() if k not in ("started_at", "submitted_at")},
            "guideline_version": [guideline_version] * total,
            "started_at": pd.to_datetime(np.asarray(cols["started_at"], dtype="int64"), unit="us", utc=True),
            "submitted_at": pd.to_datetime(
                np.asarray(cols["submitted_at"], dtype="int64"), unit="us", utc=True
            ),
            "source": ["simulation"] * total,
        }
    )
    return coerce_labels(frame)


def _truth_with_models(truth: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    truth_out = truth.copy()
    if "model" not in truth_out.columns:
        models = {
            (str(iid), str(r["response_id"])): r.get("model")
            for iid, resp in zip(items["item_id"], items["responses"], strict=True)
            for r in resp
        }
        truth_out["model"] = [
            models.get(k) for k in zip(truth_out["item_id"], truth_out["response_id"], strict=True)
        ]
    return truth_out


def simulate_labels(
    items: pd.DataFrame,
    annotators: Sequence[Annotator],
    *,
    task: str = "auto",
    true_quality: pd.DataFrame | Mapping[tuple[str, str], float] | None = None,
    seed: int = 0,
    overlap: int | None = None,
    guideline_version: str | None = None,
    start: Any = None,
    criteria: Sequence[str] = (),
    scale: int = 5,
) -> pd.DataFrame:
    """The labels of ``simulate(...)`` (same arguments); the truth is ``true_quality(items, seed=seed)``."""
    return simulate(
        items,
        annotators,
        task=task,
        true_quality=true_quality,
        seed=seed,
        overlap=overlap,
        guideline_version=guideline_version,
        start=start,
        criteria=criteria,
        scale=scale,
    ).labels


def _logit(p: float) -> float:
    if p >= 1.0:
        return 1e6  # always right (Gumbel noise cannot overturn it)
    if p <= 0.0:
        return -1e6
    return math.log(p / (1.0 - p))


def _pos_name(k: int, n: int) -> str:
    return f"{'AB'[k]}" if n == 2 else f"response {k + 1}"


def _rating(quality: float, noise: float, scale: int) -> int:
    mid = (scale + 1) / 2
    value = round(mid + quality * (scale - 1) / 4 + noise)
    return int(min(scale, max(1, value)))


def _label_id(seed: int, annotator: str, item: str, revision: int = 1) -> str:
    key = f"{seed}\x1f{annotator}\x1f{item}" + (f"\x1f{revision}" if revision > 1 else "")
    digest = hashlib.sha1(key.encode()).hexdigest()[:20]
    return f"sim-{digest}"


# ---------------------------------------------------------------------------------------------------------
# A simulated LLM judge (for rank_widget.run_judge, its calibration report and the active-sampling benchmark)


@dataclass(frozen=True)
class SimulatedJudge:
    """A judge callable for ``rank_widget.run_judge`` with known habits, answering from the truth.

    ``truth``: ``simulate(...).truth`` or ``true_quality(items)`` (item_id, response_id, quality). Asked about
    a pair in some order, the judge, in this order (each draw seeded by ``seed``, the item and the order):
    replies with junk (no verdict) with probability ``unparsable_rate``; picks by position alone with
    probability ``|position_bias|`` (the response shown first when ``position_bias > 0``, the last when
    ``< 0``); else calls a tie with probability ``tie_rate``; else names the truly better response with
    probability ``accuracy`` (equal truth: 50/50). So on decisive verdicts P(first shown) = 0.5 +
    position_bias / 2 and P(truly better) = (1 - |position_bias|) * accuracy + |position_bias| / 2, as for
    ``Annotator``. ``style``: the reply format, ``"mt-bench"``, ``"arena-hard"`` (a win is ``>>`` with
    probability ``strong_rate``) or ``"json"``.
    """

    truth: pd.DataFrame
    accuracy: float = 0.8
    position_bias: float = 0.0
    tie_rate: float = 0.0
    unparsable_rate: float = 0.0
    strong_rate: float = 0.5
    style: str = "mt-bench"
    seed: int = 0
    _quality: dict[tuple[str, str], float] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("accuracy", "tie_rate", "unparsable_rate", "strong_rate"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"SimulatedJudge: {name} must be in [0, 1], got {value!r}")
        if not -1.0 <= float(self.position_bias) <= 1.0:
            raise ValueError(f"SimulatedJudge: position_bias must be in [-1, 1], not {self.position_bias}")
        if self.style not in ("mt-bench", "arena-hard", "json"):
            raise ValueError(
                f"SimulatedJudge: style must be mt-bench, arena-hard or json, got {self.style!r}"
            )
        needed = {"item_id", "response_id", "quality"}
        if not isinstance(self.truth, pd.DataFrame) or not needed <= set(self.truth.columns):
            raise ValueError(f"SimulatedJudge: truth must be a DataFrame with columns {sorted(needed)}")
        self._quality.update(
            {
                (str(i), str(r)): float(q)
                for i, r, q in zip(
                    self.truth["item_id"], self.truth["response_id"], self.truth["quality"], strict=True
                )
            }
        )

    def verdict(self, item_id: str, shown: Sequence[str], order: int) -> int | None:
        """The position (0 = first shown) the judge prefers, None for a tie, -1 for an unparsable reply."""
        key = f"{self.seed}\x1fjudge\x1f{item_id}\x1f{order}"
        rng = np.random.default_rng(int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big"))
        u = rng.random(4)
        if u[0] < self.unparsable_rate:
            return -1
        b = self.position_bias
        if u[1] < abs(b):
            return 0 if b > 0 else len(shown) - 1
        if u[2] < self.tie_rate:
            return None
        q = [self._quality[(str(item_id), str(r))] for r in shown[:2]]
        if q[0] == q[1]:
            return 0 if u[3] < 0.5 else 1
        better = 0 if q[0] > q[1] else 1
        return better if u[3] < self.accuracy else 1 - better

    def reply(self, pick: int | None, strong: bool) -> str:
        if pick == -1:
            return "I cannot decide between these two answers."
        if self.style == "arena-hard":
            token = (
                "A=B"
                if pick is None
                else ("A" if pick == 0 else "B") + (">>" if strong else ">") + ("B" if pick == 0 else "A")
            )
            return f"Both answers were compared with my own.\n\nMy final verdict is: [[{token}]]"
        if self.style == "json":
            return '{"winner": "%s"}' % ("tie" if pick is None else "AB"[pick])
        return f"Comparing the two answers. [[{'C' if pick is None else 'AB'[pick]}]]"

    def __call__(self, prompt: Any, responses: Sequence[str], call: Any) -> str:
        """``run_judge``'s call: ``call`` (a ``rank_widget.judges.JudgeCall``) names the item and order."""
        pick = self.verdict(call.item_id, list(call.response_ids), call.order)
        key = f"{self.seed}\x1fstrong\x1f{call.item_id}\x1f{call.order}"
        strong = hashlib.sha1(key.encode()).digest()[0] / 256 < self.strong_rate
        return self.reply(pick, strong)
