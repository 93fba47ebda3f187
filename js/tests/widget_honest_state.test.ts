// Issue 14, finding 7: an in-memory store (`store=None` → ":memory:") must not show the same "Saved ✓" as a
// durable one. Python says whether its store is durable in `config.durable`; the status line uses it.
import { afterEach, describe, expect, it } from "vitest";
import { IN_MEMORY_TEXT, justFinished, SaveStates, startIndex, statusLine } from "../src/view/protocol_state";
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

describe("labels stored by the notebook or another view (issue 14, notebook 02)", () => {
  it("a refused item that is then saved elsewhere shows Saved and loses its red error", () => {
    const m = makeModel({ total: 6, position: 3 });
    const root = mount(m);
    // The notebook sends a submit for the item on screen: refused (guidelines not confirmed) ...
    m.receive({
      type: "reject",
      client_id: "demo-1",
      item_id: "it-0003",
      field: "guideline_version",
      message: "confirm",
    });
    expect(q(root, ".rw-status").dataset.state).toBe("rejected");
    expect(q(root, ".rw-error").hidden).toBe(false);
    // ... then the next one is stored: the item is saved, the error goes.
    m.receive({ type: "ack", client_id: "demo-2", item_id: "it-0003", label_id: "z", revision: 1 });
    expect(q(root, ".rw-status").dataset.state).toBe("saved");
    expect(q(root, ".rw-status").textContent).toBe("Saved \u2713");
    expect(q(root, ".rw-error").hidden).toBe(true);
    expect(q(root, ".rw-saves").textContent).toBe("");
  });

  it("a late answer to this view's own older submit still does not flip a refused item", () => {
    const s = new SaveStates();
    s.submitted("it-1", "c1");
    s.submitted("it-1", "c2");
    s.rejected("it-1", "c2", "locked");
    s.acked("it-1", "c1"); // ours, older: the latest (c2) was refused
    expect(s.of("it-1")?.state).toBe("rejected");
    s.acked("it-1", "other-view"); // a label from elsewhere was stored for the item
    expect(s.of("it-1")?.state).toBe("saved");
  });

  it("the queue finishing elsewhere while the last item is on screen shows All done", () => {
    const m = makeModel({ total: 6, position: 5 });
    const root = mount(m);
    expect(q(root, ".rw-itemid").textContent).toContain("Item 6 of 6");
    m.update("progress", { done: 6, total: 6, skipped: 0, store_done: 6, store_total: 6 });
    expect(root.querySelector(".rw-done")).not.toBeNull();
    expect(q(root, ".rw-itemid").textContent).toBe("All items done");
    expect(justFinished({ done: 6, skipped: 0 }, { done: 6, skipped: 0 }, 5, 6)).toBe(false); // no change
    expect(justFinished({ done: 4, skipped: 0 }, { done: 5, skipped: 1 }, 2, 6)).toBe(false); // elsewhere
  });
});

describe("marimo re-runs dependent cells on a browser-side trait change (issue 14, finding 9)", () => {
  it("each ack bumps the synced `stored` trait and saves it", () => {
    const m = makeModel({ total: 3, position: 0 });
    let saves = 0;
    m.save_changes = () => {
      saves++;
    };
    const root = mount(m);
    key(root, "2");
    key(root, "Enter");
    const [a] = submits(m) as [Sent];
    expect(saves).toBe(0); // nothing before the label is stored
    m.receive({ type: "ack", client_id: a.client_id, item_id: a.item_id, label_id: "x", revision: 1 });
    expect(m.get("stored")).toBe(1);
    expect(saves).toBe(1);
  });
});
