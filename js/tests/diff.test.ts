import { describe, expect, it } from "vitest";
import { type DiffPart, side, tokenize, wordDiff } from "../src/diff";

const text = (parts: DiffPart[], which: "a" | "b"): string =>
  side(parts, which)
    .map((p) => p.text)
    .join("");

describe("word diff", () => {
  it("tokenizes words, spaces and punctuation", () => {
    expect(tokenize("Hi, you  there!")).toEqual(["Hi", ",", " ", "you", "  ", "there", "!"]);
    expect(tokenize("")).toEqual([]);
  });

  it("marks the changed word only", () => {
    const d = wordDiff("the quick brown fox", "the slow brown fox");
    expect(d).toEqual([
      { op: "same", text: "the " },
      { op: "del", text: "quick" },
      { op: "ins", text: "slow" },
      { op: "same", text: " brown fox" },
    ]);
  });

  it("reconstructs both sides exactly", () => {
    const a = "Recursion is when a function calls itself.\nIt needs a base case, or it never stops.";
    const b = "Recursion: a function calling itself.\nIt needs a base case; otherwise it never stops!";
    const d = wordDiff(a, b);
    expect(text(d, "a")).toBe(a);
    expect(text(d, "b")).toBe(b);
  });

  it("handles identical, empty and disjoint texts", () => {
    expect(wordDiff("same text", "same text")).toEqual([{ op: "same", text: "same text" }]);
    expect(wordDiff("", "new")).toEqual([{ op: "ins", text: "new" }]);
    expect(wordDiff("old", "")).toEqual([{ op: "del", text: "old" }]);
    const d = wordDiff("alpha beta", "gamma delta");
    expect(text(d, "a")).toBe("alpha beta");
    expect(text(d, "b")).toBe("gamma delta");
  });

  it("finds a minimal script on random edits", () => {
    let seed = 3;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const words = ["a", "b", "c", "d", "e", "f"];
    for (let trial = 0; trial < 200; trial++) {
      const a = Array.from({ length: rand(30) }, () => words[rand(6)]).join(" ");
      const b = Array.from({ length: rand(30) }, () => words[rand(6)]).join(" ");
      const d = wordDiff(a, b);
      expect(text(d, "a")).toBe(a);
      expect(text(d, "b")).toBe(b);
    }
  });

  it("falls back to one replacement when the texts are too different for the edit budget", () => {
    const a = Array.from({ length: 300 }, (_, i) => `w${i}`).join(" ");
    const b = Array.from({ length: 300 }, (_, i) => `v${i}`).join(" ");
    const d = wordDiff(a, b, 50);
    expect(d.filter((p) => p.op !== "same")).toHaveLength(2);
    expect(text(d, "a")).toBe(a);
    expect(text(d, "b")).toBe(b);
  });

  it("diffs two 50 KB near-duplicate texts into just the two changes", () => {
    const base = Array.from({ length: 8000 }, (_, i) => `word${i % 97}`).join(" ");
    const changed = base.replace("word5 ", "WORD5 ").replace(/\S+$/, "end");
    expect(base.length).toBeGreaterThan(50_000);
    const d = wordDiff(base, changed);
    expect(text(d, "a")).toBe(base);
    expect(text(d, "b")).toBe(changed);
    expect(d.filter((p) => p.op !== "same").map((p) => p.text)).toEqual(["word5", "WORD5", "word45", "end"]);
  });
});
