// The 5-point pairwise scale <-> (winner, strength). Strength: 0 tie, 2 better, 3 much better (schema.py).

export type Choice = "A3" | "A2" | "tie" | "B2" | "B3";

/** Left to right, as the buttons and keys 1-5 are laid out. */
export const CHOICES: readonly Choice[] = ["A3", "A2", "tie", "B2", "B3"];

export const CHOICE_LABELS: Record<Choice, string> = {
  A3: "A much better",
  A2: "A better",
  tie: "Tie",
  B2: "B better",
  B3: "B much better",
};

export interface Verdict {
  winner: string; // a response id or "tie"
  strength: number;
}

/** Map a choice to a verdict; `order` is the display order (position A first). */
export function choiceToVerdict(choice: Choice, order: readonly string[]): Verdict {
  const [a, b] = order;
  if (a === undefined || b === undefined) throw new Error("a pairwise item needs exactly two responses");
  switch (choice) {
    case "A3":
      return { winner: a, strength: 3 };
    case "A2":
      return { winner: a, strength: 2 };
    case "tie":
      return { winner: "tie", strength: 0 };
    case "B2":
      return { winner: b, strength: 2 };
    case "B3":
      return { winner: b, strength: 3 };
  }
}

/** The choice that shows a stored verdict; strength 1 ("slightly", imports only) shows as "better". */
export function verdictToChoice(
  winner: string | null | undefined,
  strength: number | null | undefined,
  order: readonly string[],
): Choice | null {
  if (winner === "tie") return "tie";
  const side = winner === order[0] ? "A" : winner === order[1] ? "B" : null;
  if (side === null) return null;
  return `${side}${strength !== null && strength !== undefined && strength >= 3 ? 3 : 2}` as Choice;
}

/** Ranking (tie groups) of a verdict, in the schema's shape. */
export function verdictRanking(v: Verdict, order: readonly string[]): string[][] {
  const [a, b] = order as [string, string];
  if (v.winner === "tie") return [[a, b]];
  return [[v.winner], [v.winner === a ? b : a]];
}

/** Shift a choice one step left/right along the scale (arrow keys). */
export function stepChoice(choice: Choice | null, delta: -1 | 1): Choice {
  const i = choice === null ? 2 : CHOICES.indexOf(choice) + delta;
  return CHOICES[Math.min(CHOICES.length - 1, Math.max(0, i))] as Choice;
}
