// An LLM judge's verdict beside the labeling view (RankWidget(suggestions=..., reveal=...); docs/judges.md).
// Python decides when it is on the wire (reveal="after": only once the person's label is stored); this module
// only shows what the `suggestion` trait holds. Every text goes through textContent: a judge's reply is
// untrusted model output.
import type { Model, RankTraits } from "../model";
import { h, positionLetter } from "../shared/dom";

export interface Suggestion {
  item_id: string;
  judge: string;
  reveal: "after" | "before";
  winner: string | null; // the view's response id (r1 = shown first), "tie", or null (a ranking)
  strength: number | null;
  ranking: (string | null)[][] | null;
  rationale: string;
}

const STRENGTH = ["", "slightly better", "better", "much better"];

/** The trait's value as a Suggestion, or null when there is none (or it is malformed). */
export function parseSuggestion(value: unknown): Suggestion | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.item_id !== "string" || typeof v.judge !== "string") return null;
  return {
    item_id: v.item_id,
    judge: v.judge,
    reveal: v.reveal === "before" ? "before" : "after",
    winner: typeof v.winner === "string" ? v.winner : null,
    strength: typeof v.strength === "number" ? v.strength : null,
    ranking: Array.isArray(v.ranking) ? (v.ranking as (string | null)[][]) : null,
    rationale: typeof v.rationale === "string" ? v.rationale : "",
  };
}

/** "r2" -> "B" (wire ids number the responses by position on screen). */
function letter(wire: string | null): string {
  const m = /^r(\d+)$/.exec(wire ?? "");
  return m ? positionLetter(Number(m[1]) - 1) : "?";
}

export function verdictText(s: Suggestion): string {
  if (s.winner === "tie") return "a tie";
  if (s.winner !== null) {
    const how = s.strength !== null && s.strength > 0 ? ` (${STRENGTH[s.strength] ?? ""})` : "";
    return `${letter(s.winner)} is better${how}`;
  }
  if (s.ranking) return s.ranking.map((g) => g.map(letter).join(" = ")).join(" > ");
  return "no verdict";
}

/** Mount the suggestion box at the end of `root`; returns the cleanup. */
export function mountSuggestion(model: Model<RankTraits>, root: HTMLElement): () => void {
  const title = h("div", { class: "rw-suggestion-title" });
  const body = h("div", { class: "rw-suggestion-text" });
  const box = h("div", { class: "rw-suggestion", role: "note", hidden: true }, title, body);
  root.append(box);
  const render = (): void => {
    const s = parseSuggestion(model.get("suggestion"));
    box.hidden = s === null;
    if (!s) return;
    const which = s.reveal === "after" ? "on the item you just labelled" : "on this item";
    title.textContent = `Judge ${s.judge} ${which} (${s.item_id}): ${verdictText(s)}`;
    body.textContent = s.rationale;
  };
  const cb = (): void => render();
  model.on("change:suggestion", cb);
  render();
  return () => {
    model.off("change:suggestion", cb);
    box.remove();
  };
}
