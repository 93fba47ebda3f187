import { describe, expect, it } from "vitest";
import { newClientId } from "../src/channel";
import { parseConfig, parseItem } from "../src/coerce";
import { buildLabel, type Draft, submitMessage } from "../src/label";
import { initialRank } from "../src/ranking";
import type { Item } from "../src/types";

const item = parseItem({
  index: 3,
  item_id: "it-3",
  prompt: "p",
  responses: [
    { response_id: "r2", text: "two" },
    { response_id: "r1", text: "one" },
  ],
  display_order: ["r2", "r1"],
  metadata: {},
  guideline_version: "v1",
  label: null,
}) as Item;

const draft = (over: Partial<Draft> = {}): Draft => ({
  choice: "B2",
  rank: initialRank(item.display_order),
  ratings: {},
  rationale: "r1 is clearer",
  flags: [],
  flagNote: "",
  startedAt: "2026-11-28T10:00:00.000Z",
  ...over,
});

describe("label builder", () => {
  const config = parseConfig({ task: "pairwise", criteria: ["helpful"], flags: ["harmful"], rationale: "optional" });

  it("builds the submit message's label for a pairwise choice", () => {
    const label = buildLabel(item, draft({ ratings: { r1: { helpful: 4, bogus: 2 }, zz: { helpful: 1 } } }), config, {
      status: "submitted",
      guidelineVersion: "v1",
      activeMs: 1234.6,
    });
    expect(label).toEqual({
      status: "submitted",
      ranking: [["r1"], ["r2"]],
      winner: "r1",
      strength: 2,
      ratings: { r1: { helpful: 4 } },
      rationale: "r1 is clearer",
      flags: [],
      flag_note: "",
      display_order: ["r2", "r1"],
      guideline_version: "v1",
      started_at: "2026-11-28T10:00:00.000Z",
      active_ms: 1235,
    });
    const msg = submitMessage(item, label, "cid-1");
    expect(msg).toEqual({ type: "submit", client_id: "cid-1", item_id: "it-3", index: 3, label });
  });

  it("a skip carries no verdict; a flag note is only sent with flags; unknown flags are dropped", () => {
    const label = buildLabel(item, draft({ choice: null, flags: ["harmful", "nope"], flagNote: "unsafe" }), config, {
      status: "skipped",
      guidelineVersion: null,
      activeMs: 0,
    });
    expect(label.winner).toBeNull();
    expect(label.strength).toBeNull();
    expect(label.ranking).toBeNull();
    expect(label.flags).toEqual(["harmful"]);
    expect(label.flag_note).toBe("unsafe");
    const noFlags = buildLabel(item, draft({ flagNote: "stale note" }), config, {
      status: "submitted",
      guidelineVersion: null,
      activeMs: 0,
    });
    expect(noFlags.flag_note).toBe("");
  });

  it("ranking labels send the tie groups; rationale is emptied when rationales are off", () => {
    const rc = parseConfig({ task: "ranking", rationale: "off" });
    const label = buildLabel(item, draft({ rank: { groups: [["r1", "r2"]], pool: [] } }), rc, {
      status: "submitted",
      guidelineVersion: null,
      activeMs: 5,
    });
    expect(label.ranking).toEqual([["r1", "r2"]]);
    expect(label.winner).toBeNull();
    expect(label.rationale).toBe("");
  });

  it("makes RFC 4122 v4 ids, also without crypto.randomUUID", () => {
    const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(newClientId()).toMatch(re);
    const saved = Object.getOwnPropertyDescriptor(globalThis, "crypto");
    Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true });
    try {
      const ids = new Set(Array.from({ length: 100 }, () => newClientId()));
      expect(ids.size).toBe(100);
      for (const id of ids) expect(id).toMatch(re);
    } finally {
      if (saved) Object.defineProperty(globalThis, "crypto", saved);
    }
  });
});

describe("trait readers", () => {
  it("fill defaults for missing or malformed config", () => {
    const c = parseConfig({ task: "nope", scale: 99, rationale: "sometimes", flags: [1, "x", { id: "y" }] });
    expect(c.task).toBe("pairwise");
    expect(c.scale).toBe(10);
    expect(c.rationale).toBe("optional");
    expect(c.flags).toEqual([
      { id: "x", label: "x" },
      { id: "y", label: "y" },
    ]);
    expect(parseConfig(null).allow_remote_images).toBe(false);
  });

  it("reject items without an id and repair a display order of the wrong length", () => {
    expect(parseItem({ index: 1 })).toBeNull();
    const it = parseItem({
      index: 0,
      item_id: "x",
      responses: [{ response_id: "a", text: "t" }],
      display_order: ["a", "b"],
    });
    expect(it?.display_order).toEqual(["a"]);
    expect(it?.prompt).toBe("");
  });
});
