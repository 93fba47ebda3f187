import { describe, expect, it } from "vitest";
import { keyAction, ratingKey, shortcuts } from "../src/keymap";

const k = (key: string, mods: Partial<{ altKey: boolean; ctrlKey: boolean; metaKey: boolean }> = {}) => ({
  key,
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  ...mods,
});

describe("keyboard map", () => {
  it("pairwise: 1-5 choices, Enter submit, navigation and toggles", () => {
    expect(["1", "2", "3", "4", "5"].map((x) => keyAction(k(x), "pairwise", 2))).toEqual([
      { type: "choice", choice: "A3" },
      { type: "choice", choice: "A2" },
      { type: "choice", choice: "tie" },
      { type: "choice", choice: "B2" },
      { type: "choice", choice: "B3" },
    ]);
    expect(keyAction(k("6"), "pairwise", 2)).toBeNull();
    expect(keyAction(k("Enter"), "pairwise", 2)).toEqual({ type: "submit" });
    expect(keyAction(k("s"), "pairwise", 2)).toEqual({ type: "skip" });
    expect(keyAction(k("Backspace"), "pairwise", 2)).toEqual({ type: "back" });
    expect(keyAction(k("["), "pairwise", 2)).toEqual({ type: "back" });
    expect(keyAction(k("]"), "pairwise", 2)).toEqual({ type: "forward" });
    expect(keyAction(k("r"), "pairwise", 2)).toEqual({ type: "focusRationale" });
    expect(keyAction(k("f"), "pairwise", 2)).toEqual({ type: "focusFlags" });
    expect(keyAction(k("g"), "pairwise", 2)).toEqual({ type: "guidelines" });
    expect(keyAction(k("d"), "pairwise", 2)).toEqual({ type: "diff" });
    expect(keyAction(k("?"), "pairwise", 2)).toEqual({ type: "help" });
    expect(keyAction(k("Escape"), "pairwise", 2)).toEqual({ type: "escape" });
    expect(keyAction(k("ArrowLeft"), "pairwise", 2)).toEqual({ type: "step", delta: -1 });
    expect(keyAction(k("t"), "pairwise", 2)).toBeNull();
    expect(keyAction(k("a"), "pairwise", 2)).toBeNull();
  });

  it("leaves Ctrl/Meta combinations to the host", () => {
    expect(keyAction(k("1", { ctrlKey: true }), "pairwise", 2)).toBeNull();
    expect(keyAction(k("s", { metaKey: true }), "ranking", 3)).toBeNull();
    expect(keyAction(k("Enter", { ctrlKey: true }), "pairwise", 2)).toBeNull();
  });

  it("ranking: letters select existing cards, otherwise they are commands", () => {
    expect(keyAction(k("a"), "ranking", 3)).toEqual({ type: "select", position: 0 });
    expect(keyAction(k("c"), "ranking", 3)).toEqual({ type: "select", position: 2 });
    expect(keyAction(k("d"), "ranking", 3)).toEqual({ type: "diff" });
    expect(keyAction(k("d"), "ranking", 4)).toEqual({ type: "select", position: 3 });
    expect(keyAction(k("t"), "ranking", 3)).toEqual({ type: "tie" });
    expect(keyAction(k("u"), "ranking", 3)).toEqual({ type: "untie" });
    expect(keyAction(k("s"), "ranking", 3)).toEqual({ type: "skip" });
    expect(keyAction(k("y"), "ranking", 3)).toBeNull();
    expect(keyAction(k("z"), "ranking", 3)).toEqual({ type: "undo" }); // z is beyond the eight card letters
    expect(keyAction(k("F"), "ranking", 6)).toEqual({ type: "select", position: 5 });
    expect(keyAction(k("F"), "ranking", 3)).toBeNull();
  });

  it("ranking: numbers rank, arrows select, Alt+arrows move", () => {
    expect(keyAction(k("1"), "ranking", 3)).toEqual({ type: "rankAt", rank: 1 });
    expect(keyAction(k("9"), "ranking", 3)).toEqual({ type: "rankAt", rank: 9 });
    expect(keyAction(k("0"), "ranking", 3)).toEqual({ type: "unrank" });
    expect(keyAction(k("ArrowDown"), "ranking", 3)).toEqual({ type: "selectStep", delta: 1 });
    expect(keyAction(k("ArrowUp"), "ranking", 3)).toEqual({ type: "selectStep", delta: -1 });
    expect(keyAction(k("ArrowUp", { altKey: true }), "ranking", 3)).toEqual({ type: "move", delta: -1 });
    expect(keyAction(k("ArrowDown", { altKey: true }), "ranking", 3)).toEqual({ type: "move", delta: 1 });
    expect(keyAction(k("ArrowDown", { altKey: true }), "pairwise", 2)).toBeNull();
    expect(keyAction(k("Enter"), "ranking", 3)).toEqual({ type: "submit" });
  });

  it("rating keys: digits within the scale, 0 = 10 on a 10-point scale, modifiers and other keys are not ratings", () => {
    expect(ratingKey(k("1"), 5)).toBe(1);
    expect(ratingKey(k("5"), 5)).toBe(5);
    expect(ratingKey(k("6"), 5)).toBeNull();
    expect(ratingKey(k("0"), 5)).toBeNull();
    expect(ratingKey(k("0"), 10)).toBe(10);
    expect(ratingKey(k("9"), 10)).toBe(9);
    expect(ratingKey(k("a"), 5)).toBeUndefined();
    expect(ratingKey(k("Enter"), 5)).toBeUndefined();
    expect(ratingKey(k("2", { altKey: true }), 5)).toBeUndefined();
    expect(ratingKey(k("2", { ctrlKey: true }), 5)).toBeUndefined();
  });

  it("the help lists the rating keys only when ratings are asked", () => {
    expect(shortcuts("pairwise").some((s) => /^Rate/.test(s.does))).toBe(false);
    const line = shortcuts("ranking", { ratings: true, scale: 7 }).find((s) => /^Rate/.test(s.does));
    expect(line?.keys).toBe("v");
    expect(line?.does).toMatch(/type 1 \u2026 7 per rating/);
    expect(shortcuts("pairwise", { ratings: true, scale: 10 }).find((s) => /^Rate/.test(s.does))?.does).toMatch(
      /0 = 10/,
    );
  });

  it("lists a help line for each task's keys", () => {
    const p = shortcuts("pairwise").map((s) => s.keys);
    for (const key of ["1", "5", "Enter", "s", "r", "f", "g", "d", "?", "Esc"]) expect(p).toContain(key);
    const r = shortcuts("ranking")
      .map((s) => s.does)
      .join(" ");
    expect(r).toMatch(/Tie the selected/);
    expect(r).toMatch(/Untie/);
    expect(r).toMatch(/up \/ down/);
  });
});
