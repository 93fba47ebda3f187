// Drafts in the real view (issue 13, finding 10): the draft of the item on screen goes to the kernel, throttled
// (at most one `draft` message per DRAFT_INTERVAL_MS, and at once on navigation), a new view restores the
// kernel's draft, a submit sends none, a refused submit sends it again.
import { describe, expect, it, vi } from "vitest";
import { DRAFT_INTERVAL_MS } from "../src/view/app";
import { key, makeModel, mount, q, type Sent, sent, shownId, submits } from "./fake_model";
import { cleanUpAfterEach } from "./view_setup";

cleanUpAfterEach();

type DraftSent = { type: "draft"; item_id: string; draft: Record<string, unknown> };
const drafts = (m: { sent: unknown[] }): DraftSent[] => (m.sent as DraftSent[]).filter((x) => x.type === "draft");

function typeInto(ta: HTMLTextAreaElement, text: string): void {
  for (const ch of text) {
    ta.value += ch;
    ta.dispatchEvent(new Event("input", { bubbles: true }));
    vi.advanceTimersByTime(50); // a fast typist: 20 characters a second
  }
}

describe("drafts", () => {
  it("typing sends at most one draft per interval, the last state included", () => {
    vi.useFakeTimers({ toFake: ["performance", "Date", "setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const m = makeModel({ total: 4, config: { rationale: "optional" } });
    const root = mount(m);
    key(root, "2");
    const ta = q<HTMLTextAreaElement>(root, "textarea.rw-rationale");
    typeInto(ta, "A is right because of the base case"); // 36 keystrokes over 1.8 s
    vi.advanceTimersByTime(DRAFT_INTERVAL_MS);
    const ds = drafts(m);
    expect(ds.length).toBeGreaterThanOrEqual(3);
    expect(ds.length).toBeLessThanOrEqual(Math.ceil(1800 / DRAFT_INTERVAL_MS) + 2);
    expect(ds.every((d) => d.item_id === "it-0000")).toBe(true);
    const last = ds[ds.length - 1] as DraftSent;
    expect(last.draft.rationale).toBe("A is right because of the base case");
    expect(last.draft.choice).toBe("A2");
    // Nothing changed: nothing more is sent.
    vi.advanceTimersByTime(5000);
    expect(drafts(m).length).toBe(ds.length);
  });

  it("navigation sends the pending draft at once; Submit sends none; a reject sends it again", () => {
    vi.useFakeTimers({ toFake: ["performance", "Date", "setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const m = makeModel({ total: 4, config: { rationale: "optional" } });
    const root = mount(m);
    key(root, "4");
    vi.advanceTimersByTime(DRAFT_INTERVAL_MS);
    expect(drafts(m).length).toBe(1);
    key(root, "5"); // within the interval ...
    key(root, "]"); // ... and away: sent now, before the navigate
    expect(drafts(m).length).toBe(2);
    expect(drafts(m)[1]?.draft.choice).toBe("B3");
    const types = sent(m).map((x) => x.type);
    expect(types.indexOf("draft", types.indexOf("draft") + 1)).toBeLessThan(types.indexOf("navigate"));
    key(root, "[");
    key(root, "1");
    key(root, "Enter"); // the submit carries the draft
    vi.advanceTimersByTime(5 * DRAFT_INTERVAL_MS);
    expect(drafts(m).length).toBe(2);
    const s = submits(m)[0] as Sent;
    m.receive({ type: "reject", client_id: s.client_id, item_id: s.item_id, field: "message", message: "locked" });
    vi.advanceTimersByTime(DRAFT_INTERVAL_MS);
    expect(drafts(m).length).toBe(3);
    expect(drafts(m)[2]).toMatchObject({ item_id: "it-0000", draft: { choice: "A3" } });
  });

  it("a new view (a page reload) restores the kernel's draft of the item on screen", () => {
    const m = makeModel({ total: 4, task: "ranking", config: { rationale: "optional" } });
    m.data.drafts = {
      item_id: "it-0000",
      draft: {
        choice: null,
        ranking: [["r3"], ["r1", "r2"]],
        ratings: {},
        rationale: "half-written",
        flags: ["harmful"],
        flag_note: "why",
        started_at: "2026-01-02T03:04:05.000Z",
      },
    };
    const root = mount(m);
    expect(shownId(root)).toBe("it-0000");
    expect(q<HTMLTextAreaElement>(root, "textarea.rw-rationale").value).toBe("half-written");
    expect(q(root, '[data-flag="harmful"]').getAttribute("aria-pressed")).toBe("true");
    expect(q<HTMLInputElement>(root, ".rw-flag-note").value).toBe("why");
    expect(q(root, '.rw-response[data-response-id="r3"]').dataset.rank).toBe("1");
    expect(q(root, '.rw-response[data-response-id="r1"]').dataset.rank).toBe("2");
    expect(q(root, '.rw-response[data-response-id="r2"]').dataset.rank).toBe("2");
    // Restoring sends nothing back; submitting carries the draft's start time.
    key(root, "Enter");
    const s = submits(m)[0] as Sent;
    expect(s.label.ranking).toEqual([["r3"], ["r1", "r2"]]);
    expect(s.label.rationale).toBe("half-written");
    expect(s.label.started_at).toBe("2026-01-02T03:04:05.000Z");
    expect(drafts(m)).toEqual([]);
  });
});
