// Client-side mirror of the Python checks (schema._check_rationale_rule and the widget's validation), so the
// submit button can say why it is disabled. Python re-checks everything; this only avoids a round trip.
import type { RationaleRule } from "./types";

export const MAX_FLAG_NOTE_CHARS = 2000;

export const RULE_TEXT: Record<RationaleRule, string> = {
  off: "off",
  optional: "optional",
  required: "required",
  required_if_tie: "required for ties",
  required_if_strong: "required for \u201cmuch better\u201d",
  required_if_flagged: "required when flagged",
};

export interface RuleInput {
  rule: RationaleRule;
  rationale: string;
  isTie: boolean;
  strength: number | null;
  flags: readonly string[];
}

/** Is a rationale needed for this label under the session's rule? */
export function rationaleNeeded(x: RuleInput): boolean {
  switch (x.rule) {
    case "required":
      return true;
    case "required_if_tie":
      return x.isTie;
    case "required_if_strong":
      return (x.strength ?? 0) >= 3;
    case "required_if_flagged":
      return x.flags.length > 0;
    default:
      return false;
  }
}

/** Problem with the rationale, or null when it satisfies the rule. */
export function rationaleProblem(x: RuleInput, maxChars: number): string | null {
  const text = x.rationale.trim();
  if (x.rule === "off") return null; // the box is hidden when off
  if (x.rationale.length > maxChars) {
    return `Rationale is ${x.rationale.length} characters; the limit is ${maxChars}`;
  }
  if (rationaleNeeded(x) && !text) return `Write a rationale (${RULE_TEXT[x.rule]})`;
  return null;
}

export interface SubmitCheck {
  decided: boolean; // a preference was picked / every response ranked
  decisionHint: string; // what to do when not decided
  rule: RuleInput;
  maxRationaleChars: number;
  flagNote: string;
  needsGuidelineAck: boolean;
  missingRatings: number; // only counted when ratings are required
}

/** Why submit is disabled (first reason), or null when the label can be sent. */
export function submitBlocker(c: SubmitCheck): string | null {
  if (c.needsGuidelineAck) return "Read the guideline changes and acknowledge them first";
  if (!c.decided) return c.decisionHint;
  if (c.missingRatings > 0) return `Rate every response on every criterion (${c.missingRatings} missing)`;
  const r = rationaleProblem(c.rule, c.maxRationaleChars);
  if (r) return r;
  if (c.flagNote.length > MAX_FLAG_NOTE_CHARS) {
    return `Flag note is ${c.flagNote.length} characters; the limit is ${MAX_FLAG_NOTE_CHARS}`;
  }
  return null;
}

/** Why skip is disabled, or null. Skips carry no verdict, so only the guideline ack and size caps apply. */
export function skipBlocker(c: SubmitCheck): string | null {
  if (c.needsGuidelineAck) return "Read the guideline changes and acknowledge them first";
  if (c.rule.rationale.length > c.maxRationaleChars) return rationaleProblem(c.rule, c.maxRationaleChars);
  return null;
}
