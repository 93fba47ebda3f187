// RankWidget's protocol bookkeeping without a DOM or a model: pending submits, the awaited navigate (with an
// injected clock), position changes, the deferred sync, the bounded item window and guideline versions.
// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { Guidelines, Item } from "../src/types";
import {
  GuidelineState,
  ItemWindow,
  NAV_TIMEOUT_MS,
  ProtocolState,
  SaveStates,
  sessionLine,
  statusLine,
} from "../src/view/protocol_state";

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
  it("tracks pending submits", () => {
    const { state } = clocked();
    state.submitted({ clientId: "a", itemId: "it-0", index: 0 });
    state.submitted({ clientId: "b", itemId: "it-1", index: 1 });
    expect(state.pendingCount).toBe(2);
    expect(state.answered("a", true, 1, 10)).toEqual({ clientId: "a", itemId: "it-0", index: 0 });
    expect(state.answered("a", true, 1, 10)).toBeUndefined(); // answered once
    expect(state.answered("zzz", false, 1, 10)).toBeUndefined();
    expect(state.pendingCount).toBe(1);
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

describe("ItemWindow: a far jump once the cache is full (issue 13, finding 7)", () => {
  const CAP = 64;
  const orders: Record<string, (n: number) => number[]> = {
    ascending: (n) => Array.from({ length: n }, (_, i) => i),
    descending: (n) => Array.from({ length: n }, (_, i) => n - 1 - i),
    shuffled: (n) => {
      const a = Array.from({ length: n }, (_, i) => i);
      let seed = 7;
      for (let i = a.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const j = seed % (i + 1);
        [a[i], a[j]] = [a[j] as number, a[i] as number];
      }
      return a;
    },
  };
  // Python's window after a jump to p: the item at p and the neighbours it has not sent (all of them, far away).
  const windowAround = (p: number, total: number): Item[] =>
    Array.from({ length: 5 }, (_, k) => p - 1 + k)
      .filter((i) => i >= 0 && i < total)
      .map((i) => item(i));

  for (const [name, order] of Object.entries(orders)) {
    for (const target of [500, 0, 130]) {
      it(`keeps the jump's items (${name} fill, jump to ${target})`, () => {
        const w = new ItemWindow(CAP);
        const visited = order(100).map((i) => i + 200); // 100 items 200..299, more than the cache holds
        let shown = 0;
        for (const i of visited) {
          w.absorb(windowAround(i, 1000), i);
          shown = i;
        }
        expect(w.size).toBe(CAP);
        // The view still shows `shown` when the window arrives (change:window may fire before change:position).
        w.absorb(windowAround(target, 1000), shown, target);
        expect(w.has(target)).toBe(true);
        // Without the anchor on the target too (the old call: the item shown only), the fresh items still stay.
        const v = new ItemWindow(CAP);
        for (const i of visited) v.absorb(windowAround(i, 1000), i);
        v.absorb(windowAround(target, 1000), shown);
        expect(v.has(target)).toBe(true);
        expect(v.size).toBe(CAP);
      });
    }
  }
});

describe("SaveStates: the status line belongs to the item on screen (issue 13, finding 2)", () => {
  it("a reject of one item and an ack of the next: each item keeps its own state", () => {
    const s = new SaveStates();
    s.submitted("it-0", "a");
    s.submitted("it-1", "b");
    expect(statusLine("it-1", s.of("it-1"))).toEqual({ state: "saving", text: "Saving item it-1\u2026" });
    s.rejected("it-0", "a", "database is locked");
    s.acked("it-1", "b");
    expect(statusLine("it-0", s.of("it-0"))).toEqual({ state: "rejected", text: "Not saved: item it-0" });
    expect(statusLine("it-1", s.of("it-1"))).toEqual({ state: "saved", text: "Saved \u2713" });
    expect(statusLine("it-2", s.of("it-2"))).toEqual({ state: "", text: "" }); // not submitted: nothing
    expect(sessionLine(s.counts())).toBe("1 label not saved");
  });

  it("only the latest submit of an item decides its state", () => {
    const s = new SaveStates();
    s.submitted("it-0", "a");
    s.rejected("it-0", "a", "locked");
    s.submitted("it-0", "b"); // resubmitted after the reject
    expect(s.of("it-0")?.state).toBe("saving");
    s.rejected("it-0", "a", "late repeat of the old reject");
    s.acked("it-0", "a"); // an answer to the older submit changes nothing
    expect(s.of("it-0")?.state).toBe("saving");
    s.acked("it-0", "b");
    expect(s.of("it-0")?.state).toBe("saved");
    s.submitted("it-0", "c"); // a re-label: saving again, never "saved" on the strength of the old ack
    expect(statusLine("it-0", s.of("it-0")).state).toBe("saving");
    s.rejected("it-0", "c", "no");
    expect(statusLine("it-0", s.of("it-0")).state).toBe("rejected");
  });

  it("a reject for an item without a submit of ours still marks that item; the session line counts", () => {
    const s = new SaveStates();
    s.rejected("it-9", null, "unknown");
    expect(s.of("it-9")?.state).toBe("rejected");
    s.submitted("it-1", "x");
    s.submitted("it-2", "y");
    expect(sessionLine(s.counts())).toBe("saving 2 labels\u2026 \u00b7 1 label not saved");
    expect(sessionLine({ saving: 0, rejected: 0 })).toBe("");
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
