import { describe, expect, it, vi } from "vitest";
import widget from "../src/index";
import { key, makeItem, makeModel, mount, q, type Sent, sent, shownId, submits, windowAt } from "./fake_model";
import { ackAndAdvance, cleanUpAfterEach } from "./view_setup";

cleanUpAfterEach();

describe("pairwise labelling by keyboard", () => {
  it("labels several items in a row; Python catching up never re-renders the item on screen", () => {
    const m = makeModel({ total: 6, position: 0 });
    const root = mount(m);
    const keys = ["1", "3", "4"];
    for (const k of keys) {
      key(root, k);
      key(root, "Enter");
    }
    // The view ran ahead (items 0,1,2 submitted; item 3 shown) before any ack.
    expect(shownId(root)).toBe("it-0003");
    const s = submits(m);
    expect(s.map((x) => [x.index, x.label.winner, x.label.strength])).toEqual([
      [0, "r1", 3], // item 0 order [r1, r2]: A much better
      [1, "tie", 0],
      [2, "r2", 2], // item 2 order [r1, r2]: B better
    ]);
    const before = root.querySelector(".rw-item");
    for (const x of s) ackAndAdvance(m, x, 6);
    expect(root.querySelector(".rw-item")).toBe(before); // same DOM node: no flicker
    // The status line is the item on screen's (it-0003, not submitted): no "Saved" for another item; the
    // session line says nothing is still saving or refused, and the acked items show "Saved" when shown.
    expect(q(root, ".rw-status").dataset.state).toBe("");
    expect(q(root, ".rw-saves").dataset.saved).toBe("3");
    expect(q(root, ".rw-saves").dataset.saving).toBe("0");
    expect(q(root, ".rw-saves").textContent).toBe("");
    expect(sent(m).filter((x) => x.type === "navigate")).toEqual([]);
  });

  it("buttons work too and the choice can be changed before submitting", () => {
    const m = makeModel({ total: 3 });
    const root = mount(m);
    q(root, 'button[data-choice="A2"]').click();
    q(root, 'button[data-choice="B3"]').click();
    expect(root.querySelectorAll('[aria-checked="true"][data-choice]').length).toBe(1);
    q<HTMLButtonElement>(root, ".rw-submit").click();
    expect(submits(m)[0]?.label.winner).toBe("r2");
    expect(submits(m)[0]?.label.strength).toBe(3);
  });

  it("Enter without a choice does not submit and says why", () => {
    const m = makeModel({ total: 3 });
    const root = mount(m);
    expect(q<HTMLButtonElement>(root, ".rw-submit").disabled).toBe(true);
    expect(q(root, ".rw-reason").textContent).toMatch(/Pick a preference/);
    key(root, "Enter");
    expect(m.sent).toEqual([]);
    expect(q(root, ".rw-error").textContent).toMatch(/Pick a preference/);
  });

  it("reject returns to the item with the input intact and shows the message", () => {
    const m = makeModel({ total: 5, config: { rationale: "optional" } });
    const root = mount(m);
    key(root, "2");
    const ta = q<HTMLTextAreaElement>(root, "textarea.rw-rationale");
    ta.value = "A explains the base case";
    ta.dispatchEvent(new Event("input", { bubbles: true }));
    q(root, '[data-flag="harmful"]').click();
    key(root, "Enter");
    expect(shownId(root)).toBe("it-0001");
    const s = submits(m)[0] as Sent;
    m.receive({
      type: "reject",
      client_id: s.client_id,
      item_id: s.item_id,
      field: "rationale",
      message: "a rationale is required here",
    });
    expect(shownId(root)).toBe("it-0000");
    expect(q(root, ".rw-status").dataset.state).toBe("rejected");
    expect(q(root, ".rw-error").textContent).toBe("a rationale is required here (rationale)");
    expect(q<HTMLTextAreaElement>(root, "textarea.rw-rationale").value).toBe("A explains the base case");
    expect(q(root, 'button[data-choice="A2"]').getAttribute("aria-checked")).toBe("true");
    expect(q(root, '[data-flag="harmful"]').getAttribute("aria-pressed")).toBe("true");
    // Resubmitting sends a new client id with the same input.
    key(root, "Enter");
    const again = submits(m)[1] as Sent;
    expect(again.client_id).not.toBe(s.client_id);
    expect(again.label.rationale).toBe("A explains the base case");
    expect(again.label.flags).toEqual(["harmful"]);
  });

  it("typing in the rationale fires no shortcuts; Esc leaves the box; r enters it", () => {
    const m = makeModel({ total: 3 });
    const root = mount(m);
    key(root, "r");
    const ta = q<HTMLTextAreaElement>(root, "textarea.rw-rationale");
    expect(document.activeElement).toBe(ta);
    for (const k of ["1", "5", "s", "?", "g", "Backspace", "]", "Enter"]) {
      const e = key(ta, k);
      expect(e.defaultPrevented, k).toBe(false);
    }
    expect(m.sent).toEqual([]);
    expect(root.querySelectorAll('[aria-checked="true"]').length).toBe(0);
    expect(q(root, ".rw-help").hidden).toBe(true);
    expect(shownId(root)).toBe("it-0000");
    key(ta, "Escape");
    expect(document.activeElement).toBe(root);
    key(root, "4");
    expect(q(root, 'button[data-choice="B2"]').getAttribute("aria-checked")).toBe("true");
  });

  it("the flag note box also swallows shortcuts", () => {
    const m = makeModel({ total: 3 });
    const root = mount(m);
    q(root, '[data-flag="both_bad"]').click();
    const note = q<HTMLInputElement>(root, ".rw-flag-note");
    expect(note.hidden).toBe(false);
    note.focus();
    key(note, "3");
    key(note, "Enter");
    expect(m.sent).toEqual([]);
  });

  it("key events are kept from the host (JupyterLab), Ctrl/Meta combinations too (issue 14)", () => {
    const m = makeModel({ total: 3 });
    const root = mount(m);
    const seen: string[] = [];
    const spy = (e: KeyboardEvent): void => {
      seen.push(e.key);
    };
    document.addEventListener("keydown", spy);
    try {
      key(root, "1");
      key(root, "x");
      key(root, "s", { ctrlKey: true });
    } finally {
      document.removeEventListener("keydown", spy);
    }
    expect(seen).toEqual([]);
    expect(root.dataset.lmSuppressShortcuts).toBe("true");
  });

  it("Back shows the previous item with what was entered, and tells Python", () => {
    const m = makeModel({ total: 5, position: 0 });
    const root = mount(m);
    key(root, "5");
    key(root, "Enter");
    ackAndAdvance(m, submits(m)[0] as Sent, 5);
    expect(shownId(root)).toBe("it-0001");
    key(root, "Backspace");
    expect(shownId(root)).toBe("it-0000");
    expect(q(root, 'button[data-choice="B3"]').getAttribute("aria-checked")).toBe("true");
    expect(sent(m).at(-1)).toEqual({ type: "navigate", to: 0 });
    m.update("position", 0);
    expect(shownId(root)).toBe("it-0000");
    key(root, "]");
    expect(shownId(root)).toBe("it-0001");
    expect(sent(m).at(-1)).toEqual({ type: "navigate", to: 1 });
  });

  it("Back to an item whose submit is still unacknowledged stays there when the ack arrives", () => {
    const m = makeModel({ total: 5, position: 0 });
    const root = mount(m);
    key(root, "1");
    key(root, "Enter");
    key(root, "[");
    expect(shownId(root)).toBe("it-0000");
    const s = submits(m)[0] as Sent;
    ackAndAdvance(m, s, 5); // Python: position 1 ...
    expect(shownId(root)).toBe("it-0000");
    m.update("position", 0); // ... then handles our navigate
    expect(shownId(root)).toBe("it-0000");
  });

  it("prefills from the payload's label (re-label) and sends a new submit", () => {
    const m = makeModel({ total: 3, position: 0 });
    m.data.window = [
      makeItem({
        index: 0,
        label: {
          label_id: "x",
          status: "submitted",
          winner: "r2",
          strength: 3,
          ranking: [["r2"], ["r1"]],
          rationale: "old",
          flags: ["harmful"],
          flag_note: "n",
          revision: 1,
        },
      }),
      makeItem({ index: 1 }),
    ];
    const root = mount(m);
    expect(q(root, 'button[data-choice="B3"]').getAttribute("aria-checked")).toBe("true");
    expect(q<HTMLTextAreaElement>(root, ".rw-rationale").value).toBe("old");
    expect(q(root, '[data-flag="harmful"]').getAttribute("aria-pressed")).toBe("true");
    expect(q<HTMLInputElement>(root, ".rw-flag-note").value).toBe("n");
    key(root, "Enter");
    expect(submits(m)[0]?.label).toMatchObject({
      winner: "r2",
      strength: 3,
      rationale: "old",
      flags: ["harmful"],
      flag_note: "n",
    });
  });

  it("shows a loading state when the next item is not in the window yet, then renders it", () => {
    const m = makeModel({ total: 10, position: 0 });
    m.data.window = [makeItem({ index: 0 })];
    const root = mount(m);
    key(root, "3");
    key(root, "Enter");
    expect(root.querySelector(".rw-item")).toBeNull();
    expect(q(root, ".rw-loading").dataset.index).toBe("1");
    expect(q<HTMLButtonElement>(root, ".rw-submit").disabled).toBe(true);
    m.update("window", windowAt(1, 10));
    expect(shownId(root)).toBe("it-0001");
  });

  it("skip sends a skipped label and moves on; the last item leads to a done screen", () => {
    const m = makeModel({ total: 2, position: 1 });
    const root = mount(m);
    key(root, "s");
    const s = submits(m)[0] as Sent;
    expect(s.label).toMatchObject({ status: "skipped", winner: null, strength: null, ranking: null });
    expect(root.querySelector(".rw-done")).not.toBeNull();
    expect(q<HTMLButtonElement>(root, ".rw-back").disabled).toBe(false);
    m.receive({ type: "ack", client_id: s.client_id, item_id: s.item_id });
    expect(root.querySelector(".rw-done")).not.toBeNull();
    key(root, "Backspace");
    expect(shownId(root)).toBe("it-0001");
  });

  it("a Python-side navigation (w.goto) shows the new item", () => {
    const m = makeModel({ total: 8, position: 0 });
    const root = mount(m);
    m.data.window = windowAt(5, 8);
    m.update("position", 5);
    expect(shownId(root)).toBe("it-0005");
  });

  it("records active time and started_at", () => {
    vi.useFakeTimers({ toFake: ["Date", "performance", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] });
    vi.setSystemTime(new Date("2026-11-28T12:00:00Z"));
    const m = makeModel({ total: 3 });
    const root = mount(m);
    key(root, "2");
    vi.advanceTimersByTime(4_000);
    key(root, "Enter");
    const label = submits(m)[0]?.label as { active_ms: number; started_at: string };
    expect(label.started_at).toBe("2026-11-28T12:00:00.000Z");
    expect(label.active_ms).toBeGreaterThanOrEqual(4_000);
    expect(label.active_ms).toBeLessThan(4_100);
    expect(q(root, ".rw-timer").textContent).toMatch(/^0:0\d$/);
  });
});

describe("rules, ratings, flags", () => {
  it("required rationale blocks submit until written", () => {
    const m = makeModel({ total: 3, config: { rationale: "required_if_tie" } });
    const root = mount(m);
    key(root, "3");
    expect(q<HTMLButtonElement>(root, ".rw-submit").disabled).toBe(true);
    expect(q(root, ".rw-reason").textContent).toMatch(/required for ties/);
    expect(q(root, ".rw-rule").textContent).toBe("(required for ties)");
    key(root, "2");
    expect(q<HTMLButtonElement>(root, ".rw-submit").disabled).toBe(false);
    key(root, "3");
    const ta = q<HTMLTextAreaElement>(root, ".rw-rationale");
    ta.value = "equally good";
    ta.dispatchEvent(new Event("input"));
    expect(q<HTMLButtonElement>(root, ".rw-submit").disabled).toBe(false);
    expect(q(root, ".rw-counter").textContent).toBe("12 / 2,000");
  });

  it("rationale box is absent when rationales are off", () => {
    const root = mount(makeModel({ total: 2, config: { rationale: "off" } }));
    expect(root.querySelector(".rw-rationale")).toBeNull();
  });

  it("ratings per response per criterion go into the label; a second click clears", () => {
    const m = makeModel({ total: 3, config: { criteria: ["helpful", "correct"], scale: 4, ratings_required: true } });
    const root = mount(m);
    expect(root.querySelectorAll(".rw-rate").length).toBe(2 * 2 * 4);
    key(root, "1");
    expect(q(root, ".rw-reason").textContent).toMatch(/4 missing/);
    const rate = (rid: string, c: string, v: number): void =>
      q(root, `.rw-rate[data-response-id="${rid}"][data-criterion="${c}"][data-value="${v}"]`).click();
    rate("r1", "helpful", 4);
    rate("r1", "correct", 3);
    rate("r2", "helpful", 1);
    rate("r2", "correct", 2);
    rate("r2", "correct", 2); // clears
    expect(q(root, ".rw-reason").textContent).toMatch(/1 missing/);
    rate("r2", "correct", 1);
    key(root, "Enter");
    expect(submits(m)[0]?.label.ratings).toEqual({ r1: { helpful: 4, correct: 3 }, r2: { helpful: 1, correct: 1 } });
  });

  it("f focuses the first flag; the note is sent with flags", () => {
    const m = makeModel({ total: 3 });
    const root = mount(m);
    key(root, "f");
    expect((document.activeElement as HTMLElement).dataset.flag).toBe("harmful");
    (document.activeElement as HTMLElement).click();
    const note = q<HTMLInputElement>(root, ".rw-flag-note");
    note.value = "unsafe advice";
    note.dispatchEvent(new Event("input"));
    key(note, "Escape");
    key(root, "3");
    key(root, "Enter");
    expect(submits(m)[0]?.label).toMatchObject({ flags: ["harmful"], flag_note: "unsafe advice" });
  });
});

describe("overlays, diff, collapse", () => {
  it("? opens the help listing the shortcuts; Esc closes it; the button opens it too", () => {
    const root = mount(makeModel({ total: 2 }));
    const help = q(root, ".rw-help");
    expect(help.hidden).toBe(true);
    key(root, "?");
    expect(help.hidden).toBe(false);
    expect(help.textContent).toMatch(/A much better/);
    key(root, "1"); // covered by the overlay: no effect
    expect(root.querySelector('[data-choice][aria-checked="true"]')).toBeNull();
    expect(help.textContent).toMatch(/Submit/);
    key(root, "Escape");
    expect(help.hidden).toBe(true);
    q(root, ".rw-btn-help").click();
    expect(help.hidden).toBe(false);
  });

  it("d shows a word diff of A and B", () => {
    const m = makeModel({ total: 2 });
    m.data.window = [
      {
        ...makeItem({ index: 0 }),
        responses: [
          { response_id: "r1", text: "the quick brown fox" },
          { response_id: "r2", text: "the slow brown fox" },
        ],
      },
    ];
    const root = mount(m);
    expect(root.querySelector(".rw-diffbody")).toBeNull();
    key(root, "d");
    expect(q(root, ".rw-item").classList.contains("rw-diff-on")).toBe(true);
    const [a, b] = [...root.querySelectorAll(".rw-response")];
    expect(a?.querySelector("del")?.textContent).toBe("quick");
    expect(b?.querySelector("ins")?.textContent).toBe("slow");
    expect(a?.querySelector(".rw-diffbody")?.textContent).toBe("the quick brown fox");
    key(root, "d");
    expect(root.querySelector(".rw-diffbody")).toBeNull();
  });

  it("long responses start collapsed with a Show all toggle", () => {
    const m = makeModel({ total: 2, config: { collapse_chars: 100 } });
    m.data.window = [
      {
        ...makeItem({ index: 0 }),
        responses: [
          { response_id: "r1", text: "x ".repeat(200) },
          { response_id: "r2", text: "short" },
        ],
      },
    ];
    const root = mount(m);
    const long = q(root, '.rw-response[data-response-id="r1"]');
    expect(long.querySelector(".rw-body")?.classList.contains("rw-collapsed")).toBe(true);
    expect(root.querySelector('.rw-response[data-response-id="r2"] .rw-expand')).toBeNull();
    (long.querySelector(".rw-expand") as HTMLElement).click();
    expect(long.querySelector(".rw-body")?.classList.contains("rw-collapsed")).toBe(false);
  });

  it("renders a chat prompt as turns with role labels", () => {
    const m = makeModel({ total: 1 });
    m.data.window = [
      {
        ...makeItem({ index: 0 }),
        prompt: [
          { role: "user", content: "hi" },
          { role: "assistant", content: "hello" },
          { role: "user", content: "**more**" },
        ],
      },
    ];
    const root = mount(m);
    const turns = [...root.querySelectorAll(".rw-turn")];
    expect(turns.map((t) => t.querySelector(".rw-turn-role")?.textContent)).toEqual(["user", "assistant", "user"]);
    expect(turns[2]?.querySelector("strong")?.textContent).toBe("more");
  });

  it("header shows progress, item id and metadata", () => {
    const m = makeModel({ total: 10, position: 2 });
    m.data.progress = { done: 2, total: 10, skipped: 1, store_done: 7, store_total: 10 };
    const root = mount(m);
    expect(q(root, ".rw-progress").textContent).toBe("2 / 10 done \u00b7 1 skipped \u00b7 all labelers: 7 / 10 items");
    expect(q(root, ".rw-itemid").textContent).toContain("it-0002");
    expect(q(root, ".rw-meta").textContent).toBe("source: unit");
    m.update("progress", { done: 3, total: 10, skipped: 1, store_done: 8, store_total: 10 });
    expect(q(root, ".rw-progress").textContent).toMatch(/^3 \/ 10 done/);
  });
});

describe("guidelines", () => {
  it("a changed version shows a banner, blocks submit until acknowledged, and every submit carries the version", () => {
    const m = makeModel({
      total: 4,
      guidelines: { version: "v2", markdown: "# Rules\nBe kind.", changes: "- **Added:** Be kind." },
    });
    m.data.window = [makeItem({ index: 0, guideline_version: "v2" }), makeItem({ index: 1, guideline_version: "v2" })];
    const root = mount(m);
    const banner = q(root, ".rw-banner");
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toMatch(/Added/);
    key(root, "1");
    expect(q<HTMLButtonElement>(root, ".rw-submit").disabled).toBe(true);
    expect(q<HTMLButtonElement>(root, ".rw-skip").disabled).toBe(true);
    key(root, "Enter");
    expect(submits(m)).toEqual([]);
    q(root, ".rw-ack-guidelines").click();
    expect(sent(m).at(-1)).toEqual({ type: "ack_guidelines", version: "v2" });
    expect(banner.hidden).toBe(true);
    key(root, "Enter");
    expect(submits(m)[0]?.label.guideline_version).toBe("v2");
  });

  it("the first version needs no acknowledgement; g toggles the drawer with the version", () => {
    const m = makeModel({
      total: 3,
      guidelines: { version: "v1", markdown: "Prefer **correct** answers.", changes: null },
    });
    m.data.window = [makeItem({ index: 0, guideline_version: "v1" }), makeItem({ index: 1, guideline_version: "v2" })];
    const root = mount(m);
    expect(q(root, ".rw-banner").hidden).toBe(true);
    key(root, "g");
    const drawer = q(root, ".rw-guidelines");
    expect(drawer.hidden).toBe(false);
    expect(drawer.textContent).toContain("version v1");
    expect(drawer.querySelector(".rw-md strong")?.textContent).toBe("correct");
    key(root, "g");
    expect(drawer.hidden).toBe(true);
    key(root, "2");
    key(root, "Enter");
    expect(submits(m)[0]?.label.guideline_version).toBe("v1");
    // The next item is under v2, whose changes have not arrived: blocked, banner waits for them.
    expect(shownId(root)).toBe("it-0001");
    expect(q(root, ".rw-banner").hidden).toBe(false);
    expect(q<HTMLButtonElement>(root, ".rw-ack-guidelines").disabled).toBe(true);
    m.update("guidelines", { version: "v2", markdown: "Prefer correct and short.", changes: "- **Added:** short" });
    expect(q<HTMLButtonElement>(root, ".rw-ack-guidelines").disabled).toBe(false);
    q(root, ".rw-ack-guidelines").click();
    key(root, "2");
    key(root, "Enter");
    expect(submits(m)[1]?.label.guideline_version).toBe("v2");
  });

  it("an acknowledgement Python already holds (guideline_ack) is honoured", () => {
    const m = makeModel({ total: 2, guidelines: { version: "v2", markdown: "x", changes: "y" } });
    m.data.guideline_ack = "v2";
    m.data.window = [makeItem({ index: 0, guideline_version: "v2" })];
    const root = mount(m);
    expect(q(root, ".rw-banner").hidden).toBe(true);
  });
});

describe("lifecycle", () => {
  it("cleanup removes the DOM, model listeners, document listeners and the timer", () => {
    vi.useFakeTimers();
    const m = makeModel({ total: 3 });
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = widget.render({ model: m, el });
    expect(m.listenerCount()).toBeGreaterThan(0);
    const added = vi.getTimerCount();
    expect(added).toBeGreaterThan(0);
    cleanup();
    expect(el.childNodes.length).toBe(0);
    expect(m.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    // Events after cleanup do nothing (no listener left on document or the model).
    m.receive({ type: "ack", client_id: "x", item_id: "it-0000" });
    m.update("position", 1);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "1" }));
    expect(m.sent).toEqual([]);
  });

  it("two views of the same model work independently", () => {
    const m = makeModel({ total: 3 });
    const a = mount(m);
    const b = mount(m);
    key(a, "1");
    expect(b.querySelector('[aria-checked="true"]')).toBeNull();
  });
});

describe("position sync", () => {
  it("tells Python where the view is when its position did not follow the acks", () => {
    vi.useFakeTimers();
    const m = makeModel({ total: 6, position: 0 });
    const root = mount(m);
    key(root, "1");
    key(root, "Enter");
    const s = sent(m)[0] as Sent;
    // Python acks but (e.g. moved elsewhere meanwhile) does not advance.
    m.receive({ type: "ack", client_id: s.client_id, item_id: s.item_id });
    expect(sent(m).filter((x) => x.type === "navigate")).toEqual([]);
    vi.advanceTimersByTime(600);
    expect(sent(m).filter((x) => x.type === "navigate")).toEqual([{ type: "navigate", to: 1 }]);
    expect(shownId(root)).toBe("it-0001");
  });

  it("sends nothing extra when Python advanced after the ack", () => {
    vi.useFakeTimers();
    const m = makeModel({ total: 6, position: 0 });
    const root = mount(m);
    key(root, "1");
    key(root, "Enter");
    ackAndAdvance(m, sent(m)[0] as Sent, 6);
    vi.advanceTimersByTime(600);
    expect(sent(m).map((x) => x.type)).toEqual(["submit"]);
  });
});

describe("initial focus", () => {
  const onScreen = (): DOMRect =>
    ({
      top: 10,
      bottom: 300,
      left: 0,
      right: 500,
      width: 500,
      height: 290,
      x: 0,
      y: 10,
      toJSON: () => ({}),
    }) as DOMRect;

  it("takes the keyboard when on screen and nobody is typing elsewhere", () => {
    vi.useFakeTimers();
    const spy = vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockImplementation(onScreen);
    try {
      const root = mount(makeModel({ total: 2 }));
      vi.advanceTimersByTime(50);
      expect(document.activeElement).toBe(root);
    } finally {
      spy.mockRestore();
    }
  });

  it("leaves the focus in a text box the user is typing in", () => {
    vi.useFakeTimers();
    const spy = vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockImplementation(onScreen);
    const other = document.createElement("textarea");
    document.body.append(other);
    other.focus();
    try {
      mount(makeModel({ total: 2 }));
      vi.advanceTimersByTime(50);
      expect(document.activeElement).toBe(other);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("navigation robustness", () => {
  it("a navigation Python never answers stops blocking position updates after a while", () => {
    vi.useFakeTimers({ toFake: ["Date", "performance", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] });
    const m = makeModel({ total: 8, position: 3 });
    const root = mount(m);
    key(root, "[");
    expect(sent(m).at(-1)).toEqual({ type: "navigate", to: 2 });
    m.data.window = windowAt(6, 8);
    m.update("position", 6); // not the answer: ignored while waiting
    expect(shownId(root)).toBe("it-0002");
    vi.advanceTimersByTime(6_000);
    m.update("position", 5);
    expect(shownId(root)).toBe("it-0005");
  });
});

describe("guidelines drawer", () => {
  it("renders when opened and follows changes, open or closed", () => {
    const m = makeModel({ total: 3, guidelines: { version: "v1", markdown: "first *text*", changes: null } });
    const root = mount(m);
    const drawer = q(root, ".rw-guidelines");
    expect(drawer.textContent).toBe(""); // not rendered until opened
    key(root, "g");
    expect(drawer.querySelector(".rw-md em")?.textContent).toBe("text");
    m.update("guidelines", { version: "v1", markdown: "second **text**", changes: null });
    expect(drawer.querySelector(".rw-md strong")?.textContent).toBe("text");
    key(root, "g");
    m.update("guidelines", { version: "v1", markdown: "third `text`", changes: null });
    key(root, "g");
    expect(drawer.querySelector(".rw-md code")?.textContent).toBe("text");
    expect(q(root, ".rw-btn-guidelines").getAttribute("aria-pressed")).toBe("true");
  });
});
