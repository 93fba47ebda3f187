// The labeler's draft for one item: its starting point (empty, or the prior label) and the check that decides
// whether Submit/Skip are allowed. Pure: no DOM.
import type { Draft } from "./label";
import { choiceToVerdict, verdictToChoice } from "./pairwise";
import * as rk from "./ranking";
import type { SubmitCheck } from "./rules";
import type { Config, Item } from "./types";

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
