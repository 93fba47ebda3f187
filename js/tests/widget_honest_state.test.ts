// Issue 14, finding 7: an in-memory store (`store=None` → ":memory:") must not show the same "Saved ✓" as a
// durable one. Python says whether its store is durable in `config.durable`; the status line uses it.
import { afterEach, describe, expect, it } from "vitest";
import { IN_MEMORY_TEXT, SaveStates, startIndex, statusLine } from "../src/view/protocol_state";
import { key, makeModel, mount, q, type Sent, submits, unmountAll } from "./fake_model";

afterEach(() => unmountAll());

function submitAndAck(durable: boolean): HTMLElement {
  const m = makeModel({ total: 3, position: 0, config: { durable } });
  const root = mount(m);
  key(root, "2");
  key(root, "Enter"); // submit it-0000
  const [a] = submits(m) as [Sent];
  m.receive({ type: "ack", client_id: a.client_id, item_id: a.item_id, label_id: "x", revision: 1 });
  key(root, "["); // back to the acked item
  return root;
}

describe("status line: durable or in memory (issue 14, finding 7)", () => {
  it("an in-memory store says the label is not on disk, never 'Saved'", () => {
    const root = submitAndAck(false);
    const el = q(root, ".rw-status");
    expect(el.dataset.state).toBe("saved");
    expect(el.dataset.durable).toBe("false");
    expect(el.textContent).toBe(IN_MEMORY_TEXT);
    expect(el.textContent).toContain("Not saved to disk");
    expect(el.textContent).not.toContain("Saved");
  });

  it("a durable store says Saved ✓", () => {
    const root = submitAndAck(true);
    expect(q(root, ".rw-status").textContent).toBe("Saved \u2713");
    expect(q(root, ".rw-status").dataset.durable).toBe("true");
  });

  it("statusLine: only 'saved' changes with durability; saving and rejected read the same", () => {
    const s = new SaveStates();
    s.submitted("it-1", "c1");
    expect(statusLine("it-1", s.of("it-1"), false).text).toBe("Saving item it-1\u2026");
    s.acked("it-1", "c1");
    expect(statusLine("it-1", s.of("it-1"), false)).toEqual({ state: "saved", text: IN_MEMORY_TEXT });
    expect(statusLine("it-1", s.of("it-1"), true)).toEqual({ state: "saved", text: "Saved \u2713" });
  });
});

describe("a resumed queue with every item labelled shows All done (issue 14, notebook 02)", () => {
  const finished = { done: 5, total: 6, skipped: 1, store_done: 6, store_total: 6 };

  it("mounts on the All done screen, not 'Item 6 of 6' with Submit disabled", () => {
    const m = makeModel({ total: 6, position: 5 });
    m.set("progress", finished);
    const root = mount(m);
    expect(root.querySelector(".rw-done")?.textContent).toContain("All items in this queue are done");
    expect(q(root, ".rw-itemid").textContent).toBe("All items done");
    key(root, "["); // Back still reaches the last item
    expect(root.querySelector(".rw-done")).toBeNull();
    expect(q(root, ".rw-itemid").textContent).toContain("Item 6 of 6");
  });

  it("an unfinished queue, or Python parked elsewhere (w.goto), starts at Python's position", () => {
    expect(startIndex(5, { done: 5, skipped: 0 }, 6)).toBe(5);
    expect(startIndex(2, { done: 6, skipped: 0 }, 6)).toBe(2);
    expect(startIndex(5, { done: 4, skipped: 2 }, 6)).toBe(6);
    expect(startIndex(0, { done: 0, skipped: 0 }, 0)).toBe(0);
    expect(startIndex(undefined, { done: 0, skipped: 0 }, 3)).toBe(0);
  });
});
