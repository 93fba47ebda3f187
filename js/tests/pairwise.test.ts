import { describe, expect, it } from "vitest";
import { CHOICES, choiceToVerdict, stepChoice, verdictRanking, verdictToChoice } from "../src/pairwise";

describe("pairwise 5-point scale", () => {
  const order = ["r2", "r1"]; // position A = r2

  it("maps each choice to winner/strength through the display order", () => {
    expect(CHOICES.map((c) => choiceToVerdict(c, order))).toEqual([
      { winner: "r2", strength: 3 },
      { winner: "r2", strength: 2 },
      { winner: "tie", strength: 0 },
      { winner: "r1", strength: 2 },
      { winner: "r1", strength: 3 },
    ]);
  });

  it("round-trips every choice and shows an imported strength 1 as 'better'", () => {
    for (const c of CHOICES) {
      const v = choiceToVerdict(c, order);
      expect(verdictToChoice(v.winner, v.strength, order)).toBe(c);
    }
    expect(verdictToChoice("r1", 1, order)).toBe("B2");
    expect(verdictToChoice("r1", null, order)).toBe("B2");
    expect(verdictToChoice("zz", 3, order)).toBeNull();
    expect(verdictToChoice(null, null, order)).toBeNull();
  });

  it("gives the schema's ranking", () => {
    expect(verdictRanking({ winner: "r1", strength: 2 }, order)).toEqual([["r1"], ["r2"]]);
    expect(verdictRanking({ winner: "tie", strength: 0 }, order)).toEqual([["r2", "r1"]]);
  });

  it("steps along the scale and clamps at the ends", () => {
    expect(stepChoice(null, 1)).toBe("tie");
    expect(stepChoice("tie", -1)).toBe("A2");
    expect(stepChoice("A3", -1)).toBe("A3");
    expect(stepChoice("B3", 1)).toBe("B3");
  });

  it("refuses an item without two responses", () => {
    expect(() => choiceToVerdict("A2", ["r1"])).toThrow(/two responses/);
  });
});
