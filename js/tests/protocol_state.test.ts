// RankWidget's protocol bookkeeping without a DOM or a model: pending submits, the awaited navigate (with an
// injected clock), position changes, the deferred sync, the bounded item window and guideline versions.
// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { Guidelines, Item } from "../src/types";
import { GuidelineState, ItemWindow, NAV_TIMEOUT_MS, ProtocolState } from "../src/view/protocol_state";

function clocked(): { state: ProtocolState; advance: (ms: number) => void } {
  let t = 1000;
  return { state: new ProtocolState(() => t), advance: (ms) => (t += ms) };
}

function item(index: number, guideline_version: string | null = null): Item {
  return {
    index,
    item_id: `it-${index}`,
    prompt: "p",
    responses: [],
    display_order: [],
    metadata: {},
    guideline_version,
    label: null,
  };
}

describe("ProtocolState: submits", () => {
  it("tracks pending submits and the latest one", () => {
    const { state } = clocked();
    state.submitted({ clientId: "a", itemId: "it-0", index: 0 });
    state.submitted({ clientId: "b", itemId: "it-1", index: 1 });
    expect(state.pendingCount).toBe(2);
    expect(state.isLatest("b")).toBe(true);
    expect(state.isLatest("a")).toBe(false);
    expect(state.answered("a", true, 1, 10)).toEqual({ clientId: "a", itemId: "it-0", index: 0 });
    expect(state.answered("a", true, 1, 10)).toBeUndefined(); // answered once
    expect(state.answered("zzz", false, 1, 10)).toBeUndefined();
    expect(state.pendingCount).toBe(1);
    expect(state.isLatest("b")).toBe(true); // the latest stays the latest after its ack
  });
});

describe("ProtocolState: position changes", () => {
  it("follows a navigation Python made on its own", () => {
    const { state } = clocked();
    expect(state.positionChanged(4, 2, 10)).toBe(true);
    expect(state.positionChanged(2, 2, 10)).toBe(false);
  });

  it("ignores Python catching up with submits the view already moved past", () => {
    const { state } = clocked();
    state.submitted({ clientId: "a", itemId: "it-2", index: 2 });
    state.submitted({ clientId: "b", itemId: "it-3", index: 3 });
    expect(state.positionChanged(3, 4, 10)).toBe(false); // submit 3 is in [3, 4)
    state.answered("a", true, 3, 10);
    state.answered("b", true, 3, 10);
    expect(state.positionChanged(3, 4, 10)).toBe(true);
  });

  it("stays on 'all done' when Python stays on the last item after the last ack", () => {
    const { state } = clocked();
    expect(state.positionChanged(9, 10, 10)).toBe(false);
    state.submitted({ clientId: "a", itemId: "it-9", index: 9 });
    expect(state.positionChanged(8, 10, 10)).toBe(false); // pending submit 9 lies between
  });

  it("waits for the navigate it sent, ignoring other positions until it arrives", () => {
    const { state } = clocked();
    expect(state.navigate(5, 2)).toBe(true);
    expect(state.waitingForNav()).toBe(true);
    expect(state.positionChanged(3, 5, 10)).toBe(false); // not ours: ignored while waiting
    expect(state.positionChanged(5, 5, 10)).toBe(false); // ours: waiting ends
    expect(state.waitingForNav()).toBe(false);
    expect(state.positionChanged(7, 5, 10)).toBe(true);
  });

  it("gives up waiting after NAV_TIMEOUT_MS (a kernel that never answers)", () => {
    const { state, advance } = clocked();
    state.navigate(5, 2);
    advance(NAV_TIMEOUT_MS - 1);
    expect(state.waitingForNav()).toBe(true);
    advance(1);
    expect(state.waitingForNav()).toBe(false);
    expect(state.positionChanged(3, 5, 10)).toBe(true);
  });
});

describe("ProtocolState: navigate and sync", () => {
  it("sends no navigate to where Python already is, unless something is still in flight", () => {
    const { state } = clocked();
    expect(state.navigate(3, 3)).toBe(false);
    state.submitted({ clientId: "a", itemId: "it-3", index: 3 });
    expect(state.navigate(3, 3)).toBe(true);
  });

  it("stops waiting once the submits sent before the navigate say Python will already be there", () => {
    const { state } = clocked();
    state.submitted({ clientId: "a", itemId: "it-3", index: 3 });
    state.navigate(4, 3); // handled by Python after submit 3, which moves it from 3 to 4
    expect(state.waitingForNav()).toBe(true);
    state.answered("a", true, 3, 10);
    expect(state.waitingForNav()).toBe(false);
  });

  it("keeps waiting when the settled position differs from the navigate's target", () => {
    const { state } = clocked();
    state.submitted({ clientId: "a", itemId: "it-3", index: 3 });
    state.navigate(4, 3);
    state.answered("a", false, 3, 10); // rejected: Python stays on 3, so the navigate to 4 will move it
    expect(state.waitingForNav()).toBe(true);
  });

  it("the last item does not advance on its ack", () => {
    const { state } = clocked();
    state.submitted({ clientId: "a", itemId: "it-9", index: 9 });
    state.navigate(9, 9);
    state.answered("a", true, 9, 10);
    expect(state.waitingForNav()).toBe(false);
  });

  it("syncs Python's lagging position only when nothing is in flight", () => {
    const { state, advance } = clocked();
    expect(state.needsSync(3, 5, 10)).toBe(true);
    expect(state.needsSync(5, 5, 10)).toBe(false);
    expect(state.needsSync(3, 10, 10)).toBe(false); // all done
    expect(state.needsSync(undefined, 5, 10)).toBe(false);
    state.submitted({ clientId: "a", itemId: "it-5", index: 5 });
    expect(state.needsSync(3, 5, 10)).toBe(false);
    state.answered("a", true, 3, 10);
    state.navigate(5, 3);
    expect(state.needsSync(3, 5, 10)).toBe(false); // our navigate is on its way
    advance(NAV_TIMEOUT_MS);
    expect(state.needsSync(3, 5, 10)).toBe(true);
  });
});

describe("ItemWindow", () => {
  it("keeps the items nearest the one shown, and lists the upcoming ones in order", () => {
    const w = new ItemWindow(3);
    w.absorb([item(4), item(0), item(1), item(2), item(3)], 2);
    expect(w.size).toBe(3);
    expect([1, 2, 3].every((i) => w.has(i))).toBe(true);
    expect(w.get(4)).toBeUndefined();
    w.absorb([item(5), item(6)], 5);
    expect(w.upcoming(4, 3).map((i) => i.index)).toEqual([5, 6]);
  });
});

describe("GuidelineState", () => {
  const v1: Guidelines = { version: "v1", markdown: "# v1", changes: null };
  const v2: Guidelines = { version: "v2", markdown: "# v2", changes: "now stricter" };

  it("needs no ack for the first version, and one for a changed version until acknowledged", () => {
    const g = new GuidelineState(v1, null);
    expect(g.needsAck(item(0, "v1"))).toBe(false);
    expect(g.needsAck(item(1, "v2"))).toBe(true); // not seen yet: a change, blocked until it arrives
    expect(g.changesOf("v2")).toBeUndefined();
    g.update(v2);
    expect(g.changesOf("v2")).toBe("now stricter");
    expect(g.needsAck(item(1, "v2"))).toBe(true);
    g.acknowledged("v2");
    expect(g.needsAck(item(1, "v2"))).toBe(false);
    expect(g.needsAck(null)).toBe(false);
  });

  it("shows the guidelines of the item's version when seen, else the trait's", () => {
    const g = new GuidelineState(v1, "v1");
    g.update(v2);
    expect(g.forItem(item(0, "v1"))).toBe(v1);
    expect(g.forItem(item(0, "v3"))).toBe(v2);
    expect(g.forItem(null)).toBe(v2);
    expect(g.versionOf(item(0))).toBe("v2"); // an item without a version has the trait's
    expect(g.versionOf(null)).toBe("v2");
  });

  it("takes the acknowledged version from the trait, ignoring a non-string", () => {
    const g = new GuidelineState(v2, "v2");
    expect(g.needsAck(item(0, "v2"))).toBe(false);
    g.acknowledged(42);
    expect(new GuidelineState(v2, 42).needsAck(item(0, "v2"))).toBe(true);
  });
});
