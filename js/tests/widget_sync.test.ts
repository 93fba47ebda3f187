// Regression tests for the view's position sync and guideline gating (bugs reported by the Python side).
import { describe, expect, it } from "vitest";
import {
  type FakeModel,
  key,
  makeItem,
  makeModel,
  mount,
  q,
  type Sent,
  sent,
  shownId,
  submits,
  windowAt,
} from "./fake_model";
import { ackSubmit, cleanUpAfterEach } from "./view_setup";

cleanUpAfterEach();

const navigates = (m: FakeModel): Sent[] => sent(m).filter((x) => x.type === "navigate");

describe("Back after submitting the last item, before its ack", () => {
  it("Python's later position changes are followed again once the ack arrives", () => {
    const m = makeModel({ total: 3, position: 2 });
    const root = mount(m);
    key(root, "1");
    key(root, "Enter");
    expect(root.querySelector(".rw-done")).not.toBeNull();
    key(root, "Backspace");
    expect(shownId(root)).toBe("it-0002");
    expect(navigates(m)).toEqual([{ type: "navigate", to: 2 }]);
    const s = submits(m)[0] as Sent;
    // Python: stores, acks, stays at 2 (last item); the navigate to 2 is then a no-op: no change:position.
    ackSubmit(m, s);
    expect(shownId(root)).toBe("it-0002");
    // Later, the notebook moves the widget (w.goto(0)): the view must follow.
    m.data.window = windowAt(0, 3);
    m.update("position", 0);
    expect(shownId(root)).toBe("it-0000");
  });

  it("a second Back before the ack is followed as usual", () => {
    const m = makeModel({ total: 3, position: 2 });
    const root = mount(m);
    key(root, "1");
    key(root, "Enter");
    key(root, "Backspace");
    key(root, "[");
    expect(shownId(root)).toBe("it-0001");
    const s = submits(m)[0] as Sent;
    m.receive({ type: "ack", client_id: s.client_id, item_id: s.item_id });
    m.update("position", 1); // Python handles the second navigate
    expect(shownId(root)).toBe("it-0001");
    expect(navigates(m).map((x) => x.to)).toEqual([2, 1]);
  });

  it("when the navigate is not a no-op, the view still waits for its answer (no flicker)", () => {
    const m = makeModel({ total: 5, position: 1 });
    const root = mount(m);
    key(root, "1");
    key(root, "Enter"); // submit 1, shows 2
    key(root, "[");
    expect(shownId(root)).toBe("it-0001");
    const s = submits(m)[0] as Sent;
    m.receive({ type: "ack", client_id: s.client_id, item_id: s.item_id });
    m.data.window = windowAt(2, 5);
    m.update("position", 2); // Python advanced after the ack ...
    expect(shownId(root)).toBe("it-0001");
    m.data.window = windowAt(1, 5);
    m.update("position", 1); // ... then handled our navigate
    expect(shownId(root)).toBe("it-0001");
    m.data.window = windowAt(4, 5);
    m.update("position", 4); // and later moves are followed
    expect(shownId(root)).toBe("it-0004");
  });
});

describe("a navigate while another is unanswered", () => {
  it("going back to where Python is still tells Python, so the first navigate does not win", () => {
    const m = makeModel({ total: 6, position: 3 });
    const root = mount(m);
    key(root, "[");
    key(root, "]");
    expect(shownId(root)).toBe("it-0003");
    expect(navigates(m).map((x) => x.to)).toEqual([2, 3]);
    m.data.window = windowAt(2, 6);
    m.update("position", 2); // Python handles the first navigate ...
    expect(shownId(root)).toBe("it-0003");
    m.data.window = windowAt(3, 6);
    m.update("position", 3); // ... then the second
    expect(shownId(root)).toBe("it-0003");
  });
});

const V1 = { version: "v1", markdown: "Prefer correct answers.", changes: null };
const V2 = { version: "v2", markdown: "Prefer correct and short answers.", changes: "- **Added:** short" };
const V3 = { version: "v3", markdown: "Prefer correct, short, kind answers.", changes: "- **Added:** kind" };

/** Items 0-1 under v1, 2-3 under v2, 4-5 under v3. */
function versioned(index: number): Record<string, unknown> {
  return makeItem({ index, guideline_version: index < 2 ? "v1" : index < 4 ? "v2" : "v3" });
}
const win = (pos: number, total = 6): Record<string, unknown>[] => {
  const out = [];
  for (let i = Math.max(0, pos - 1); i <= Math.min(total - 1, pos + 3); i++) out.push(versioned(i));
  return out;
};

function blocked(root: HTMLElement): boolean {
  return q<HTMLButtonElement>(root, ".rw-submit").disabled && q<HTMLButtonElement>(root, ".rw-skip").disabled;
}

describe("guideline changes block labelling from the moment the item is shown", () => {
  it("an item from the prefetch window under a new version: loading banner, no submit/skip, until the trait arrives and the labeler acknowledges", () => {
    const m = makeModel({ total: 6, position: 1, guidelines: V1 });
    m.data.window = win(1);
    const root = mount(m);
    key(root, "2");
    key(root, "Enter"); // item 1 (v1) submitted; item 2 (v2) shown from the window
    expect(shownId(root)).toBe("it-0002");
    const banner = q(root, ".rw-banner");
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toMatch(/Loading/);
    expect(q<HTMLButtonElement>(root, ".rw-ack-guidelines").disabled).toBe(true);
    key(root, "2");
    expect(blocked(root)).toBe(true);
    key(root, "Enter");
    key(root, "s");
    expect(submits(m).length).toBe(1);
    // Python acks item 1 and moves to 2: window, guidelines and position in one update; position's change event
    // fires first here (the order is not fixed).
    const s = submits(m)[0] as Sent;
    m.receive({ type: "ack", client_id: s.client_id, item_id: s.item_id });
    m.data.window = win(2);
    m.data.guidelines = V2;
    m.update("position", 2);
    expect(blocked(root)).toBe(true);
    m.emit("change:window");
    m.emit("change:guidelines");
    expect(banner.textContent).toMatch(/Added/);
    expect(blocked(root)).toBe(true);
    key(root, "Enter");
    expect(submits(m).length).toBe(1);
    q(root, ".rw-ack-guidelines").click();
    expect(sent(m).at(-1)).toEqual({ type: "ack_guidelines", version: "v2" });
    expect(banner.hidden).toBe(true);
    key(root, "Enter");
    expect(submits(m)[1]?.label.guideline_version).toBe("v2");
  });

  it("a version after an acknowledged one is a change too (v2 acknowledged, v3 next)", () => {
    const m = makeModel({ total: 6, position: 3, guidelines: V2 });
    m.data.window = win(3);
    m.data.guideline_ack = "v2";
    const root = mount(m);
    expect(q(root, ".rw-banner").hidden).toBe(true);
    key(root, "1");
    key(root, "Enter");
    expect(shownId(root)).toBe("it-0004");
    expect(q(root, ".rw-banner").hidden).toBe(false);
    key(root, "1");
    expect(blocked(root)).toBe(true);
    key(root, "Enter");
    expect(submits(m).length).toBe(1);
    const s = submits(m)[0] as Sent;
    m.receive({ type: "ack", client_id: s.client_id, item_id: s.item_id });
    m.data.window = win(4);
    m.update("guidelines", V3);
    m.update("position", 4);
    expect(q(root, ".rw-banner").textContent).toMatch(/kind/);
    q(root, ".rw-ack-guidelines").click();
    expect(sent(m).at(-1)).toEqual({ type: "ack_guidelines", version: "v3" });
    key(root, "Enter");
    expect(submits(m)[1]?.label.guideline_version).toBe("v3");
  });

  it("changes given as an empty text still need an acknowledgement (Python requires one for every later version)", () => {
    const m = makeModel({ total: 6, position: 2, guidelines: { ...V2, changes: "" } });
    m.data.window = win(2);
    const root = mount(m);
    expect(q(root, ".rw-banner").hidden).toBe(false);
    key(root, "1");
    expect(blocked(root)).toBe(true);
    q(root, ".rw-ack-guidelines").click();
    expect(sent(m).at(-1)).toEqual({ type: "ack_guidelines", version: "v2" });
    key(root, "Enter");
    expect(submits(m)[0]?.label.guideline_version).toBe("v2");
  });

  it("changes already received can be acknowledged while Python's trait shows another version", () => {
    const m = makeModel({ total: 6, position: 2, guidelines: V2 });
    m.data.window = win(2);
    const root = mount(m);
    key(root, "[");
    m.data.window = win(1);
    m.data.guidelines = V1;
    m.update("position", 1);
    m.emit("change:guidelines");
    expect(shownId(root)).toBe("it-0001");
    expect(q(root, ".rw-banner").hidden).toBe(true);
    key(root, "3");
    key(root, "Enter"); // item 2 (v2) shown again; Python's trait still says v1 until the ack moves it
    expect(shownId(root)).toBe("it-0002");
    expect(q(root, ".rw-banner").textContent).toMatch(/Added/);
    expect(blocked(root)).toBe(true);
    key(root, "g"); // the drawer shows the item's version, not the trait's
    expect(q(root, ".rw-guidelines").textContent).toContain("version v2");
    expect(q(root, ".rw-guidelines").textContent).toContain("short answers");
    key(root, "g");
    q(root, ".rw-ack-guidelines").click();
    expect(sent(m).at(-1)).toEqual({ type: "ack_guidelines", version: "v2" });
    key(root, "3");
    expect(blocked(root)).toBe(false);
  });

  it("every item's submit carries the item's own version, not the trait's", () => {
    const m = makeModel({ total: 6, position: 0, guidelines: V1 });
    m.data.window = win(0);
    const root = mount(m);
    key(root, "1");
    key(root, "Enter");
    key(root, "1");
    key(root, "Enter");
    expect(submits(m).map((x) => x.label.guideline_version)).toEqual(["v1", "v1"]);
    expect(shownId(root)).toBe("it-0002");
    expect(blocked(root)).toBe(true);
  });
});

describe("rating keys", () => {
  const ratingOf = (root: HTMLElement, rid: string, crit: string): string | null =>
    root
      .querySelector(`.rw-rate[data-response-id="${rid}"][data-criterion="${crit}"][aria-checked="true"]`)
      ?.getAttribute("data-value") ?? null;

  it("digits on a focused rating button rate that row and move to the next; elsewhere they keep their meaning", () => {
    const m = makeModel({ total: 3, config: { criteria: ["helpful", "honest"], scale: 5, ratings_required: true } });
    const root = mount(m);
    const first = q<HTMLButtonElement>(root, ".rw-rate");
    first.focus();
    expect(first.dataset.responseId).toBe("r1");
    key(first, "4");
    expect(ratingOf(root, "r1", "helpful")).toBe("4");
    expect((document.activeElement as HTMLElement).dataset.criterion).toBe("honest");
    key(document.activeElement as HTMLElement, "7"); // outside the scale: nothing rated, says why
    expect(ratingOf(root, "r1", "honest")).toBeNull();
    expect(q(root, ".rw-error").textContent).toBe("Ratings go from 1 to 5");
    for (const d of ["5", "2", "3"]) key(document.activeElement as HTMLElement, d);
    expect(document.activeElement).toBe(root); // after the last rating the keys are shortcuts again
    expect(root.querySelector("[data-choice][aria-checked=true]")).toBeNull(); // no digit chose a preference
    key(root, "2");
    expect(q(root, 'button[data-choice="A2"]').getAttribute("aria-checked")).toBe("true");
    key(root, "Enter");
    expect(submits(m)[0]?.label.ratings).toEqual({ r1: { helpful: 4, honest: 5 }, r2: { helpful: 2, honest: 3 } });
  });

  it("the help overlay lists the rating keys when ratings are asked", () => {
    const root = mount(makeModel({ total: 2, config: { criteria: ["helpful"], scale: 10 } }));
    expect(q(root, ".rw-help").textContent).toMatch(/Rate: focus the first rating/);
    const plain = mount(makeModel({ total: 2 }));
    expect(q(plain, ".rw-help").textContent).not.toMatch(/Rate: focus the first rating/);
  });
});
