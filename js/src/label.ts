// Builds the `submit` message from an item and the labeler's draft.
import { type Choice, choiceToVerdict, verdictRanking } from "./pairwise";
import type { RankState } from "./ranking";
import type { Config, Item, LabelPayload, Ratings, SubmitMessage } from "./types";

export interface Draft {
  choice: Choice | null;
  rank: RankState;
  ratings: Ratings;
  rationale: string;
  flags: string[];
  flagNote: string;
  startedAt: string; // ISO 8601 UTC, when first shown
}

/** Ratings restricted to this item's responses and the session's criteria; empty per-response maps dropped. */
function cleanRatings(r: Ratings, item: Item, config: Config): Ratings {
  const out: Ratings = {};
  for (const rid of item.display_order) {
    const per = r[rid];
    if (!per) continue;
    const kept: Record<string, number> = {};
    for (const c of config.criteria) {
      const v = per[c];
      if (typeof v === "number") kept[c] = v;
    }
    if (Object.keys(kept).length) out[rid] = kept;
  }
  return out;
}

export function buildLabel(
  item: Item,
  draft: Draft,
  config: Config,
  opts: { status: "submitted" | "skipped"; guidelineVersion: string | null; activeMs: number },
): LabelPayload {
  let ranking: string[][] | null = null;
  let winner: string | null = null;
  let strength: number | null = null;
  if (opts.status === "submitted") {
    if (config.task === "pairwise") {
      if (draft.choice === null) throw new Error("no preference picked");
      const v = choiceToVerdict(draft.choice, item.display_order);
      winner = v.winner;
      strength = v.strength;
      ranking = verdictRanking(v, item.display_order);
    } else {
      ranking = draft.rank.groups.map((g) => [...g]);
    }
  }
  return {
    status: opts.status,
    ranking,
    winner,
    strength,
    ratings: cleanRatings(draft.ratings, item, config),
    rationale: config.rationale === "off" ? "" : draft.rationale,
    flags: config.flags.filter((f) => draft.flags.includes(f.id)).map((f) => f.id),
    flag_note: draft.flags.length ? draft.flagNote : "",
    display_order: [...item.display_order],
    guideline_version: opts.guidelineVersion,
    started_at: draft.startedAt,
    active_ms: Math.max(0, Math.round(opts.activeMs)),
  };
}

export function submitMessage(item: Item, label: LabelPayload, clientId: string): SubmitMessage {
  return { type: "submit", client_id: clientId, item_id: item.item_id, index: item.index, label };
}
