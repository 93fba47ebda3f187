// The draft helpers the App delegates to: the starting draft (from a prior label), the submit check, and draft
// edits from keys. No DOM.
// @vitest-environment node
import { describe, expect, it } from "vitest";
import { checkDraft, editDraft, initialDraft } from "../src/draft";
import type { Config, Item } from "../src/types";

const CONFIG: Config = {
  task: "ranking",
  criteria: ["clarity"],
  scale: 5,
  rationale: "optional",
  max_rationale_chars: 100,
  flags: [{ id: "harmful", label: "Harmful" }],
  annotator: "ann",
  show_diff: false,
  collapse_chars: 0,
  allow_remote_images: false,
  ratings_required: true,
};

function item(label: Item["label"] = null): Item {
  return {
    index: 0,
    item_id: "it-0",
    prompt: "p",
    responses: ["a", "b", "c"].map((id) => ({ response_id: id, text: id })),
    display_order: ["b", "a", "c"],
    metadata: {},
    guideline_version: null,
    label,
  };
}

describe("initialDraft", () => {
  it("starts empty with every response unranked", () => {
    const d = initialDraft(item(), CONFIG, "2026-01-01T00:00:00Z");
    expect(d).toEqual({
      choice: null,
      rank: { groups: [], pool: ["b", "a", "c"] },
      ratings: {},
      rationale: "",
      flags: [],
      flagNote: "",
      startedAt: "2026-01-01T00:00:00Z",
    });
  });

  it("prefills from a prior label, dropping flags the session does not know and copying the ratings", () => {
    const ratings = { a: { clarity: 4 } };
    const prior = item({
      status: "submitted",
      ranking: [["a", "c"], ["b"]],
      ratings,
      rationale: "why",
      flags: ["harmful", "gone"],
      flag_note: "note",
    });
    const d = initialDraft(prior, CONFIG);
    expect(d.rank).toEqual({ groups: [["a", "c"], ["b"]], pool: [] });
    expect(d.flags).toEqual(["harmful"]);
    expect([d.rationale, d.flagNote]).toEqual(["why", "note"]);
    expect(d.ratings).toEqual(ratings);
    expect(d.ratings).not.toBe(ratings); // editing the draft never edits the item
  });

  it("a skipped prior label keeps its text but no verdict", () => {
    const d = initialDraft(item({ status: "skipped", ranking: [["a"], ["b"], ["c"]], rationale: "unsure" }), CONFIG);
    expect(d.rank.groups).toEqual([]);
    expect(d.rationale).toBe("unsure");
  });
});

describe("checkDraft", () => {
  it("counts missing ratings and unranked responses, and passes the guideline flag through", () => {
    const d = initialDraft(item(), CONFIG);
    d.ratings = { a: { clarity: 3 } };
    const c = checkDraft(item(), d, CONFIG, true);
    expect(c.decided).toBe(false);
    expect(c.missingRatings).toBe(2);
    expect(c.needsGuidelineAck).toBe(true);
    expect(c.decisionHint).toContain("3 unranked");
  });
});

describe("editDraft", () => {
  const order = ["b", "a", "c"];

  it("selects by position and steps through the display order, clamped at the ends", () => {
    const d = initialDraft(item(), CONFIG);
    expect(editDraft(d, null, { type: "select", position: 2 }, order)).toEqual({ selected: "c" });
    expect(editDraft(d, "a", { type: "select", position: 7 }, order)).toEqual({ selected: "a" });
    expect(editDraft(d, null, { type: "selectStep", delta: 1 }, order)).toEqual({ selected: "b" });
    expect(editDraft(d, null, { type: "selectStep", delta: -1 }, order)).toEqual({ selected: "c" });
    expect(editDraft(d, "c", { type: "selectStep", delta: 1 }, order)).toEqual({ selected: "c" });
  });

  it("ranks, ties, moves and unranks the selected response", () => {
    const d = initialDraft(item(), CONFIG);
    editDraft(d, "a", { type: "rankAt", rank: 1 }, order);
    editDraft(d, "c", { type: "rankAt", rank: 2 }, order);
    editDraft(d, "c", { type: "tie" }, order);
    expect(d.rank.groups).toEqual([["a", "c"]]);
    editDraft(d, "c", { type: "untie" }, order);
    editDraft(d, "c", { type: "move", delta: -1 }, order);
    expect(d.rank.groups).toEqual([["c"], ["a"]]);
    editDraft(d, "a", { type: "unrank" }, order);
    expect(d.rank).toEqual({ groups: [["c"]], pool: ["b", "a"] });
  });

  it("refuses a ranking operation with nothing selected and leaves the draft alone", () => {
    const d = initialDraft(item(), CONFIG);
    const before = structuredClone(d);
    expect(editDraft(d, null, { type: "tie" }, order)).toEqual({
      error: "Select a response first (its letter, or the arrow keys)",
    });
    expect(d).toEqual(before);
  });

  it("sets and steps the pairwise choice", () => {
    const d = initialDraft(item(), { ...CONFIG, task: "pairwise" });
    editDraft(d, null, { type: "choice", choice: "tie" }, order);
    expect(d.choice).toBe("tie");
    editDraft(d, null, { type: "step", delta: 1 }, order);
    expect(d.choice).toBe("B2");
  });
});
