import { describe, expect, it } from "vitest";
import type { Model, RankTraits } from "../src/model";
import { mountSuggestion, parseSuggestion, verdictText } from "../src/view/suggestion";
import { FakeModel } from "./fake_model";

const base = {
  item_id: "it001",
  judge: "gpt",
  reveal: "after",
  winner: "r2",
  strength: 3,
  ranking: [["r2"], ["r1"]],
  rationale: "<img src=x onerror=alert(1)> B is right",
};

describe("suggestion", () => {
  it("reads the trait and names positions by letter", () => {
    const s = parseSuggestion(base);
    if (s === null) throw new Error("the suggestion did not parse");
    expect(verdictText(s)).toBe("B is better (much better)");
    expect(verdictText({ ...s, winner: "tie", strength: 0 })).toBe("a tie");
    expect(verdictText({ ...s, winner: null, ranking: [["r3"], ["r1", "r2"]] })).toBe("C > A = B");
    expect(parseSuggestion({})).toBeNull();
    expect(parseSuggestion(null)).toBeNull();
  });

  it("shows nothing until Python sets the trait, then shows it as text", () => {
    const model = new FakeModel({ suggestion: {} });
    const root = document.createElement("div");
    const cleanup = mountSuggestion(model as unknown as Model<RankTraits>, root);
    const box = root.querySelector(".rw-suggestion") as HTMLElement;
    expect(box.hidden).toBe(true);
    model.update("suggestion", base);
    expect(box.hidden).toBe(false);
    expect(box.textContent).toContain("Judge gpt on the item you just labelled (it001): B is better");
    expect(root.querySelector("img")).toBeNull(); // the judge's text is never HTML
    model.update("suggestion", {});
    expect(box.hidden).toBe(true);
    cleanup();
    expect(root.querySelector(".rw-suggestion")).toBeNull();
  });
});
