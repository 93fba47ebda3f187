// The labeler's draft for one item: its starting point (empty, or the prior label) and the check that decides
// whether Submit/Skip are allowed. Pure: no DOM.
import type { Action } from "./keymap";
import type { Draft } from "./label";
import { CHOICES, type Choice, choiceToVerdict, stepChoice, verdictToChoice } from "./pairwise";
import * as rk from "./ranking";
import type { SubmitCheck } from "./rules";
import type { Config, Item, Ratings, WireDraft } from "./types";

/** A fresh draft for `item`, prefilled from its prior label (flags the session does not know are dropped). */
export function initialDraft(item: Item, config: Config, startedAt: string = new Date().toISOString()): Draft {
  const draft: Draft = {
    choice: null,
    rank: rk.initialRank(item.display_order),
    ratings: {},
    rationale: "",
    flags: [],
    flagNote: "",
    startedAt,
  };
  const prior = item.label;
  if (prior) {
    if (prior.status !== "skipped") {
      draft.choice = verdictToChoice(prior.winner, prior.strength, item.display_order);
      if (prior.ranking) draft.rank = rk.rankFromGroups(prior.ranking, item.display_order);
    }
    draft.ratings = structuredClone(prior.ratings ?? {});
    draft.rationale = prior.rationale ?? "";
    draft.flags = (prior.flags ?? []).filter((f) => config.flags.some((x) => x.id === f));
    draft.flagNote = prior.flag_note ?? "";
  }
  return draft;
}

/** What rules.ts needs to say whether (and why not) this draft can be submitted or skipped. */
export function checkDraft(item: Item, d: Draft, config: Config, needsGuidelineAck: boolean): SubmitCheck {
  const pairwise = config.task === "pairwise";
  const verdict = pairwise && d.choice !== null ? choiceToVerdict(d.choice, item.display_order) : null;
  const unranked = d.rank.pool.length;
  let missing = 0;
  if (config.ratings_required) {
    for (const rid of item.display_order) {
      for (const c of config.criteria) if (typeof d.ratings[rid]?.[c] !== "number") missing++;
    }
  }
  return {
    decided: pairwise ? d.choice !== null : rk.isComplete(d.rank),
    decisionHint: pairwise
      ? "Pick a preference (keys 1\u20135)"
      : `Rank every response (${unranked} unranked: click cards in order, or drag them)`,
    rule: {
      rule: config.rationale,
      rationale: d.rationale,
      isTie: pairwise ? d.choice === "tie" : rk.hasTie(d.rank),
      strength: verdict ? verdict.strength : null,
      flags: d.flags,
    },
    maxRationaleChars: config.max_rationale_chars,
    flagNote: d.flagNote,
    needsGuidelineAck,
    missingRatings: missing,
  };
}

/** The actions that edit a draft (everything else is navigation, focus or a toggle, handled by the view). */
export type DraftAction = Extract<
  Action,
  { type: "choice" | "step" | "select" | "selectStep" | "rankAt" | "move" | "tie" | "untie" | "unrank" }
>;

/**
 * Apply a draft edit for an item shown in `order`: the choice, the selected response, or a ranking operation
 * on the selected response. Returns the selection afterwards, or the message to show when a ranking
 * operation has nothing selected (the draft is then unchanged).
 */
export function editDraft(
  d: Draft,
  selected: string | null,
  a: DraftAction,
  order: string[],
): { selected: string | null } | { error: string } {
  switch (a.type) {
    case "choice":
      d.choice = a.choice;
      return { selected };
    case "step":
      d.choice = stepChoice(d.choice, a.delta);
      return { selected };
    case "select":
      return { selected: order[a.position] ?? selected };
    case "selectStep": {
      const i = selected === null ? (a.delta > 0 ? -1 : order.length) : order.indexOf(selected);
      return { selected: order[Math.min(order.length - 1, Math.max(0, i + a.delta))] ?? selected };
    }
  }
  // Ranking operations act on the selected card.
  if (selected === null) return { error: "Select a response first (its letter, or the arrow keys)" };
  if (a.type === "rankAt") d.rank = rk.placeAt(d.rank, selected, a.rank);
  else if (a.type === "move") d.rank = rk.move(d.rank, selected, a.delta);
  else if (a.type === "tie") d.rank = rk.tieWithAbove(d.rank, selected);
  else if (a.type === "untie") d.rank = rk.untie(d.rank, selected);
  else d.rank = rk.unrank(d.rank, selected);
  return { selected };
}

/** The draft as the `draft` message carries it (Python keeps it so a reload can restore it). */
export function toWire(d: Draft): WireDraft {
  return {
    choice: d.choice,
    ranking: d.rank.groups.map((g) => [...g]),
    ratings: structuredClone(d.ratings),
    rationale: d.rationale,
    flags: [...d.flags],
    flag_note: d.flagNote,
    started_at: d.startedAt,
  };
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** Ratings of this item's responses on the session's criteria, integers on the scale; the rest is dropped. */
function wireRatings(x: unknown, item: Item, config: Config): Ratings {
  const out: Ratings = {};
  if (!isRecord(x)) return out;
  for (const rid of item.display_order) {
    const per = x[rid];
    if (!isRecord(per)) continue;
    const kept: Record<string, number> = {};
    for (const c of config.criteria) {
      const v = per[c];
      if (typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= config.scale) kept[c] = v;
    }
    if (Object.keys(kept).length) out[rid] = kept;
  }
  return out;
}

/**
 * The draft of `item` from the `drafts` trait (`{item_id, draft}`), or null when the trait holds no draft for
 * this item. Read defensively, like every trait: unknown responses, criteria and flags are dropped, a field of
 * the wrong type falls back to `fallback`'s (the prior label or an empty draft).
 */
export function restoreDraft(trait: unknown, item: Item, config: Config, fallback: Draft): Draft | null {
  if (!isRecord(trait) || trait.item_id !== item.item_id || !isRecord(trait.draft)) return null;
  const w = trait.draft;
  const str = (v: unknown, dflt: string): string => (typeof v === "string" ? v : dflt);
  const choice = CHOICES.includes(w.choice as Choice) ? (w.choice as Choice) : null;
  const groups = Array.isArray(w.ranking)
    ? w.ranking.filter(Array.isArray).map((g: unknown[]) => g.filter((x): x is string => typeof x === "string"))
    : null;
  return {
    choice: config.task === "pairwise" ? choice : null,
    rank: groups && config.task === "ranking" ? rk.rankFromGroups(groups, item.display_order) : fallback.rank,
    ratings: wireRatings(w.ratings, item, config),
    rationale: str(w.rationale, fallback.rationale),
    flags: Array.isArray(w.flags)
      ? w.flags.filter((f): f is string => typeof f === "string" && config.flags.some((x) => x.id === f))
      : fallback.flags,
    flagNote: str(w.flag_note, fallback.flagNote),
    startedAt: str(w.started_at, fallback.startedAt),
  };
}
