// The draft helpers the App delegates to: the starting draft (from a prior label), the submit check, and draft
// edits from keys. No DOM.
// @vitest-environment node
import { describe, expect, it } from "vitest";
import { checkDraft, editDraft, initialDraft, restoreDraft, toWire } from "../src/draft";
import { DEFAULT_KEYMAP } from "../src/keymap";
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
  keymap: DEFAULT_KEYMAP,
  durable: true,
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

describe("drafts kept in the kernel (issue 13, finding 10)", () => {
  it("a ranking in progress, ratings, rationale and flags survive the wire", () => {
    const it0 = item();
    const d = initialDraft(it0, CONFIG, "2026-01-02T03:04:05.000Z");
    d.rank = { groups: [["c"], ["a", "b"]], pool: [] };
    d.ratings = { a: { clarity: 4 } };
    d.rationale = "half-written: c is the only correct";
    d.flags = ["harmful"];
    d.flagNote = "mentions a weapon";
    const wire = JSON.parse(JSON.stringify(toWire(d)));
    expect(wire).toEqual({
      choice: null,
      ranking: [["c"], ["a", "b"]],
      ratings: { a: { clarity: 4 } },
      rationale: "half-written: c is the only correct",
      flags: ["harmful"],
      flag_note: "mentions a weapon",
      started_at: "2026-01-02T03:04:05.000Z",
    });
    const back = restoreDraft({ item_id: "it-0", draft: wire }, it0, CONFIG, initialDraft(it0, CONFIG));
    expect(back).toEqual(d);
    // A partial ranking keeps the unranked responses in the pool.
    const partial = restoreDraft(
      { item_id: "it-0", draft: { ...wire, ranking: [["a"]] } },
      it0,
      CONFIG,
      initialDraft(it0, CONFIG),
    );
    expect(partial?.rank).toEqual({ groups: [["a"]], pool: ["b", "c"] });
  });

  it("a pairwise choice round-trips; a draft of another item, or no draft, restores nothing", () => {
    const cfg: Config = { ...CONFIG, task: "pairwise" };
    const pair: Item = { ...item(), display_order: ["b", "a"], responses: item().responses.slice(0, 2) };
    const d = initialDraft(pair, cfg);
    d.choice = "B3";
    const wire = toWire(d);
    expect(restoreDraft({ item_id: "it-0", draft: wire }, pair, cfg, initialDraft(pair, cfg))?.choice).toBe("B3");
    expect(restoreDraft({ item_id: "it-9", draft: wire }, pair, cfg, d)).toBeNull();
    expect(restoreDraft({}, pair, cfg, d)).toBeNull();
    expect(restoreDraft(null, pair, cfg, d)).toBeNull();
    expect(restoreDraft({ item_id: "it-0", draft: "x" }, pair, cfg, d)).toBeNull();
  });

  it("a malformed draft degrades field by field and never throws", () => {
    const it0 = item();
    const fallback = initialDraft(it0, CONFIG, "2026-01-01T00:00:00Z");
    const back = restoreDraft(
      {
        item_id: "it-0",
        draft: {
          choice: "A9",
          ranking: [["zz", "a"], "nope", [5, "a"], []],
          ratings: { a: { clarity: 99, other: 3 }, zz: { clarity: 2 }, b: "x", c: { clarity: 2 } },
          rationale: 42,
          flags: ["pwned", "harmful", 3],
          flag_note: null,
          started_at: { t: 1 },
        },
      },
      it0,
      CONFIG,
      fallback,
    );
    expect(back).toEqual({
      choice: null,
      rank: { groups: [["a"]], pool: ["b", "c"] },
      ratings: { c: { clarity: 2 } },
      rationale: "",
      flags: ["harmful"],
      flagNote: "",
      startedAt: "2026-01-01T00:00:00Z",
    });
  });
});
