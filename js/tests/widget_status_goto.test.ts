// Issue 13 in the real view (happy-dom + a fake model): the status line shows the item on screen's own save state
// (finding 2), and a far `w.goto()` after the 64-item cache filled up renders the item (finding 7).
import { afterEach, describe, expect, it } from "vitest";
import {
  type FakeModel,
  key,
  makeItem,
  makeModel,
  mount,
  q,
  type Sent,
  shownId,
  submits,
  unmountAll,
} from "./fake_model";

afterEach(() => unmountAll());

const status = (root: HTMLElement): { state: string; item: string; text: string } => {
  const el = q(root, ".rw-status");
  return { state: el.dataset.state ?? "", item: el.dataset.itemId ?? "", text: el.textContent ?? "" };
};

describe("status line: a rejected submit followed by an acked one (finding 2)", () => {
  it("the rejected item on screen shows its error and never the next item's Saved", () => {
    const m = makeModel({ total: 6, position: 0 });
    const root = mount(m);
    key(root, "2");
    key(root, "Enter"); // submit it-0000
    key(root, "4");
    key(root, "Enter"); // submit it-0001 within a moment
    const [a, b] = submits(m) as [Sent, Sent];
    expect(shownId(root)).toBe("it-0002");
    expect(status(root).text).toBe(""); // item 2 was not submitted: nothing about other items' saves
    expect(q(root, ".rw-saves").textContent).toBe("saving 2 labels\u2026");
    // The store was locked: the first submit is refused, the second (handled next) is stored.
    m.receive({ type: "reject", client_id: a.client_id, item_id: a.item_id, field: "message", message: "locked" });
    expect(shownId(root)).toBe("it-0000");
    expect(status(root)).toEqual({ state: "rejected", item: "it-0000", text: "Not saved: item it-0000" });
    m.receive({ type: "ack", client_id: b.client_id, item_id: b.item_id, label_id: "x", revision: 1 });
    expect(shownId(root)).toBe("it-0000");
    expect(status(root)).toEqual({ state: "rejected", item: "it-0000", text: "Not saved: item it-0000" });
    expect(root.textContent).not.toContain("Saved");
    expect(q(root, ".rw-error").textContent).toBe("locked (message)");
    expect(q(root, ".rw-saves").textContent).toBe("1 label not saved");
    // The acked item shows "Saved" when it is the one on screen.
    key(root, "]");
    expect(shownId(root)).toBe("it-0001");
    expect(status(root)).toEqual({ state: "saved", item: "it-0001", text: "Saved \u2713" });
    expect(q(root, ".rw-error").hidden).toBe(true); // item 0's error stays with item 0
    key(root, "[");
    expect(q(root, ".rw-error").textContent).toBe("locked (message)");
    // Resubmitting item 0: saving, then saved once acked.
    key(root, "Enter");
    const c = submits(m)[2] as Sent;
    expect(shownId(root)).toBe("it-0002"); // back where the labeler was, not it-0001 (issue 14 finding 6)
    key(root, "[");
    key(root, "[");
    expect(status(root)).toEqual({ state: "saving", item: "it-0000", text: "Saving item it-0000\u2026" });
    m.receive({ type: "ack", client_id: c.client_id, item_id: c.item_id, label_id: "y", revision: 1 });
    expect(status(root).state).toBe("saved");
    expect(q(root, ".rw-saves").textContent).toBe("");
  });
});

/** Python's window after moving to `p` with nothing near it sent yet: p-1 .. p+3. */
function pythonWindow(p: number, total: number): Record<string, unknown>[] {
  const out = [];
  for (let i = Math.max(0, p - 1); i <= Math.min(total - 1, p + 3); i++) out.push(makeItem({ index: i }));
  return out;
}

/** Python moving to `p` (w.goto): window and position arrive in one update; the two change events fire in
 * either order. */
function pythonMoves(m: FakeModel, p: number, total: number, windowFirst: boolean): void {
  m.data.window = pythonWindow(p, total);
  m.data.position = p;
  if (windowFirst) {
    m.emit("change:window");
    m.emit("change:position");
  } else {
    m.emit("change:position");
    m.emit("change:window");
  }
}

describe("a far goto after visiting more than 64 items (finding 7)", () => {
  for (const windowFirst of [true, false]) {
    for (const [name, path] of [
      ["forward", Array.from({ length: 70 }, (_, i) => i)],
      ["backward", Array.from({ length: 70 }, (_, i) => 299 - i)],
    ] as const) {
      for (const target of [0, 399]) {
        it(`renders the item (${name} visits, ${windowFirst ? "window" : "position"} event first, to ${target})`, () => {
          const total = 400;
          const m = makeModel({ total, position: path[0] });
          const root = mount(m);
          for (const p of path) pythonMoves(m, p, total, windowFirst);
          expect(shownId(root)).toBe(`it-${String(path[path.length - 1]).padStart(4, "0")}`);
          pythonMoves(m, target, total, windowFirst);
          expect(root.querySelector(".rw-loading")).toBeNull();
          expect(shownId(root)).toBe(`it-${String(target).padStart(4, "0")}`);
        });
      }
    }
  }
});
