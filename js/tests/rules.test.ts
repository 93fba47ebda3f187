import { describe, expect, it } from "vitest";
import {
  type RuleInput,
  rationaleNeeded,
  rationaleProblem,
  type SubmitCheck,
  skipBlocker,
  submitBlocker,
} from "../src/rules";

const input = (over: Partial<RuleInput> = {}): RuleInput => ({
  rule: "optional",
  rationale: "",
  isTie: false,
  strength: 2,
  flags: [],
  ...over,
});

const check = (over: Partial<SubmitCheck> = {}): SubmitCheck => ({
  decided: true,
  decisionHint: "Pick a preference",
  rule: input(),
  maxRationaleChars: 100,
  flagNote: "",
  needsGuidelineAck: false,
  missingRatings: 0,
  ...over,
});

describe("rationale rules mirror schema._check_rationale_rule", () => {
  it("needs a rationale exactly when the rule says so", () => {
    expect(rationaleNeeded(input({ rule: "off" }))).toBe(false);
    expect(rationaleNeeded(input({ rule: "optional" }))).toBe(false);
    expect(rationaleNeeded(input({ rule: "required" }))).toBe(true);
    expect(rationaleNeeded(input({ rule: "required_if_tie" }))).toBe(false);
    expect(rationaleNeeded(input({ rule: "required_if_tie", isTie: true }))).toBe(true);
    expect(rationaleNeeded(input({ rule: "required_if_strong", strength: 2 }))).toBe(false);
    expect(rationaleNeeded(input({ rule: "required_if_strong", strength: 3 }))).toBe(true);
    expect(rationaleNeeded(input({ rule: "required_if_strong", strength: null }))).toBe(false);
    expect(rationaleNeeded(input({ rule: "required_if_flagged" }))).toBe(false);
    expect(rationaleNeeded(input({ rule: "required_if_flagged", flags: ["harmful"] }))).toBe(true);
  });

  it("whitespace is not a rationale; length is capped", () => {
    expect(rationaleProblem(input({ rule: "required", rationale: "  \n " }), 100)).toMatch(/required/);
    expect(rationaleProblem(input({ rule: "required", rationale: "because" }), 100)).toBeNull();
    expect(rationaleProblem(input({ rationale: "x".repeat(101) }), 100)).toMatch(/101 characters; the limit is 100/);
  });
});

describe("submit / skip blockers", () => {
  it("reports the first reason in order: guidelines, decision, ratings, rationale, note", () => {
    expect(submitBlocker(check())).toBeNull();
    expect(submitBlocker(check({ needsGuidelineAck: true, decided: false }))).toMatch(/guideline/);
    expect(submitBlocker(check({ decided: false }))).toBe("Pick a preference");
    expect(submitBlocker(check({ missingRatings: 2 }))).toMatch(/2 missing/);
    expect(submitBlocker(check({ rule: input({ rule: "required" }) }))).toMatch(/rationale/i);
    expect(submitBlocker(check({ flagNote: "x".repeat(2001) }))).toMatch(/Flag note/);
  });

  it("skip only needs the guideline ack and a rationale within the cap", () => {
    expect(skipBlocker(check({ decided: false, rule: input({ rule: "required" }) }))).toBeNull();
    expect(skipBlocker(check({ needsGuidelineAck: true }))).toMatch(/guideline/);
    expect(skipBlocker(check({ rule: input({ rationale: "x".repeat(101) }) }))).toMatch(/limit/);
  });
});
