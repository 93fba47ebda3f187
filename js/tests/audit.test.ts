// @vitest-environment jsdom
// DOMPurify is verified against jsdom (as in xss_widget.test.ts); happy-dom mis-parses some vectors.
import { afterEach, describe, expect, it } from "vitest";
import { cleanFilters, pageCount, parseDetail, parseRanking, parseRows, rankingText } from "../src/audit/model";
import widget from "../src/index";
import { FakeModel } from "./fake_model";
import { assertSafe } from "./xss_check";
import payloads from "./xss_payloads.json";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
  document.body.replaceChildren();
});

const ROWS = [
  {
    item_id: "it1",
    rank: 1,
    task: "pairwise",
    snippet: "Question 1",
    n_labels: 3,
    n_annotators: 3,
    disagreement: 1,
    majority: null,
    majority_share: 0.33,
    outcomes: { r1: 1, r2: 1, tie: 1 },
    flags: [],
    adjudicated: false,
  },
  {
    item_id: "it0",
    rank: 2,
    task: "pairwise",
    snippet: "<img src=x onerror=alert(1)>",
    n_labels: 3,
    n_annotators: 3,
    disagreement: 0.67,
    majority: "r1",
    majority_share: 0.67,
    outcomes: { r1: 2, r2: 1 },
    flags: ["harmful"],
    adjudicated: true,
  },
];

const DETAIL = {
  item_id: "it1",
  task: "pairwise",
  prompt: "Which is **better**?",
  responses: [
    { response_id: "r1", text: "first <script>window.pwned = 1</script>", model: "alpha" },
    { response_id: "r2", text: "second", model: "beta" },
  ],
  labels: [
    {
      label_id: "a",
      annotator: "ann",
      source: "import",
      status: "submitted",
      ranking: [["r1"], ["r2"]],
      winner: "r1",
      strength: 2,
      ratings: { r1: { clarity: 4 } },
      rationale: "<b>clear</b>",
      flags: ["harmful"],
      flag_note: "",
      display_order: ["r2", "r1"],
      guideline_version: "v1",
      revision: 2,
      submitted_at: "2026-03-01T09:01:00+00:00",
      active_ms: 1000,
    },
    {
      label_id: "b",
      annotator: "bob",
      source: "import",
      status: "submitted",
      ranking: [["r2"], ["r1"]],
      winner: "r2",
      strength: 3,
      ratings: {},
      rationale: "",
      flags: [],
      flag_note: "",
      display_order: ["r1", "r2"],
      guideline_version: "v1",
      revision: 1,
      submitted_at: "2026-03-01T09:02:00+00:00",
      active_ms: null,
    },
  ],
  majority: { outcome: null, share: 0.5, disagreement: 1, ranking: [["r1", "r2"]], strength: null },
  history: [
    {
      label_id: "a0",
      annotator: "ann",
      source: "import",
      revision: 1,
      status: "submitted",
      outcome: "r2 > r1",
      supersedes: null,
      submitted_at: "2026-03-01T09:00:00+00:00",
    },
  ],
};

function makeAudit(extra: Record<string, unknown> = {}): FakeModel {
  return new FakeModel({
    _view: "audit",
    config: {
      adjudicator: "lead",
      options: { show: ["all", "disagreements"], annotator: ["ann", "bob"], flag: ["harmful"] },
      filters: [],
      rationale_required: true,
      max_rationale_chars: 10000,
      max_reason_chars: 2000,
    },
    filters: { show: "all", annotator: null, search: "" },
    page: 0,
    page_size: 2,
    total: 5,
    rows: ROWS,
    detail: {},
    ...extra,
  });
}

function mount(model: FakeModel): HTMLElement {
  const el = document.createElement("div");
  document.body.append(el);
  cleanups.push(widget.render({ model, el }));
  return el.querySelector(".rw-audit") as HTMLElement;
}

describe("audit model helpers", () => {
  it("parses defensively", () => {
    expect(parseRows([{ item_id: 3 }, null, ROWS[0]])).toHaveLength(1);
    expect(parseRows("x")).toEqual([]);
    expect(parseDetail({})).toBeNull();
    const d = parseDetail({ item_id: "x", responses: [{ response_id: "r1", text: "t" }], majority: "bad" });
    expect(d?.majority.ranking).toEqual([["r1"]]);
    expect(parseRanking([["a"], [], [1, "b"]])).toEqual([["a"], ["b"]]);
    expect(rankingText([["r2"], ["r1", "r3"]])).toBe("r2 > r1 = r3");
    expect(pageCount(0, 20)).toBe(1);
    expect(pageCount(41, 20)).toBe(3);
    expect(cleanFilters({ a: "", b: "x", c: null })).toEqual({ a: null, b: "x", c: null });
  });
});

describe("audit view", () => {
  it("dispatches on _view and renders only the page it was sent, untrusted text as text", () => {
    const model = makeAudit();
    const root = mount(model);
    expect(root).not.toBeNull();
    expect(document.querySelector(".rw-item")).toBeNull(); // not the labelling view
    const rows = [...root.querySelectorAll<HTMLElement>(".rw-audit-row")];
    expect(rows.map((r) => r.dataset.itemId)).toEqual(["it1", "it0"]);
    expect(root.querySelector("img")).toBeNull();
    expect(rows[1]?.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(root.querySelector(".rw-audit-pageno")?.textContent).toBe("Page 1 of 3");
    expect((root.querySelector(".rw-audit-prev") as HTMLButtonElement).disabled).toBe(true);
  });

  it("sends filter, page and open messages; re-renders when Python changes the page", () => {
    const model = makeAudit();
    const root = mount(model);
    const show = root.querySelector('select[data-filter="show"]') as HTMLSelectElement;
    show.value = "disagreements";
    show.dispatchEvent(new Event("change"));
    expect(model.sent.at(-1)).toMatchObject({ type: "filter", filters: { show: "disagreements", annotator: null } });
    (root.querySelector(".rw-audit-next") as HTMLButtonElement).click();
    expect(model.sent.at(-1)).toMatchObject({ type: "page", page: 1 });
    (root.querySelector('.rw-audit-row[data-item-id="it0"]') as HTMLElement).click();
    expect(model.sent.at(-1)).toMatchObject({ type: "open", item_id: "it0" });
    model.data.page = 2;
    model.update("rows", [ROWS[0]]);
    expect(root.querySelectorAll(".rw-audit-row")).toHaveLength(1);
    expect(root.querySelector(".rw-audit-pageno")?.textContent).toBe("Page 3 of 3");
  });

  it("shows the opened item side by side and sends an adjudication prefilled with the majority", () => {
    const model = makeAudit();
    const root = mount(model);
    model.update("detail", DETAIL);
    expect(root.querySelector("script")).toBeNull();
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
    const labels = [...root.querySelectorAll<HTMLElement>(".rw-audit-label")];
    expect(labels.map((l) => l.dataset.annotator)).toEqual(["ann", "bob"]);
    expect(labels[0]?.textContent).toContain("r1 > r2");
    expect(labels[0]?.textContent).toContain("<b>clear</b>"); // rationale shown as text
    expect(labels[0]?.textContent).toContain("A=r2 B=r1");
    expect(root.querySelector(".rw-audit-majority")?.textContent).toContain("none (split)");
    expect(root.querySelector(".rw-audit-history")?.textContent).toContain("rev 1");
    // prefill: the majority is a tie; untie r2 (-> r1 > r2), then move r2 up (-> r2 > r1)
    (root.querySelector('[aria-label="Untie r2"]') as HTMLButtonElement).click();
    (root.querySelector('[aria-label="Move r2 up"]') as HTMLButtonElement).click();
    const strength = root.querySelector(".rw-audit-strength") as HTMLSelectElement;
    strength.value = "3";
    strength.dispatchEvent(new Event("change"));
    const text = root.querySelector(".rw-audit-rationale") as HTMLTextAreaElement;
    text.value = "r2 is correct";
    text.dispatchEvent(new Event("input"));
    (root.querySelector(".rw-audit-save") as HTMLButtonElement).click();
    const msg = model.sent.at(-1) as Record<string, unknown>;
    expect(msg).toMatchObject({
      type: "adjudicate",
      item_id: "it1",
      ranking: [["r2"], ["r1"]],
      strength: 3,
      rationale: "r2 is correct",
    });
    model.receive({ type: "reject", client_id: msg.client_id, field: "rationale", message: "is required" });
    expect(root.querySelector(".rw-audit-status")?.textContent).toContain("Not saved (rationale)");
    model.receive({ type: "ack", client_id: msg.client_id });
    expect(root.querySelector(".rw-audit-status")?.textContent).toContain("saved");
  });

  it("sends a lead's comment on a chosen label, as text, and clears the box once saved", () => {
    const model = makeAudit();
    const root = mount(model);
    model.update("detail", DETAIL);
    const which = root.querySelector(".rw-audit-comment-label") as HTMLSelectElement;
    const options = [...which.options].map((o) => o.value);
    expect(options).toHaveLength(2); // one per person's label (ann, bob)
    const send = root.querySelector(".rw-audit-comment-send") as HTMLButtonElement;
    send.click(); // nothing written: nothing sent
    expect(model.sent.filter((m) => m.type === "comment")).toEqual([]);
    expect(root.querySelector(".rw-audit-status")?.textContent).toContain("Write the comment first");
    which.value = options[1] as string;
    const text = root.querySelector(".rw-audit-comment-text") as HTMLTextAreaElement;
    text.value = "<b>see guideline 3</b>";
    send.click();
    const msg = model.sent.at(-1) as Record<string, unknown>;
    expect(msg).toMatchObject({ type: "comment", label_id: options[1], text: "<b>see guideline 3</b>" });
    model.receive({ type: "ack", client_id: msg.client_id });
    expect(text.value).toBe("");
    expect(root.querySelector(".rw-audit-status")?.textContent).toContain("Comment saved");
    expect(root.querySelector(".rw-audit-comment b")).toBeNull();
  });

  it("re-queues the selected items with a reason, and cleans up its listeners", () => {
    const model = makeAudit();
    const root = mount(model);
    const button = root.querySelector(".rw-audit-requeue-btn") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    const box = root.querySelector('.rw-audit-row[data-item-id="it1"] input[type="checkbox"]') as HTMLInputElement;
    box.click();
    expect(button.disabled).toBe(false);
    (root.querySelector(".rw-audit-reason") as HTMLInputElement).value = "split";
    (root.querySelector(".rw-audit-queue") as HTMLInputElement).value = "round2";
    button.click();
    expect(model.sent.at(-1)).toMatchObject({ type: "requeue", item_ids: ["it1"], reason: "split", queue: "round2" });
    cleanups.pop()?.();
    expect(model.listenerCount()).toBe(0);
    expect(document.querySelector(".rw-audit")).toBeNull();
  });
});

describe("audit view and untrusted text", () => {
  // One test per payload: the whole corpus in one test ran past vitest's 5 s time-out on a busy machine.
  it.each((payloads as string[]).map((p, i) => [i, p] as const))("every shown field survives payload %i", (_i, p) => {
    const row = { ...ROWS[0], item_id: p, snippet: p, majority: p, flags: [p], outcomes: { [p]: 1 } };
    const label = {
      ...DETAIL.labels[0],
      annotator: p,
      rationale: p,
      flags: [p],
      flag_note: p,
      guideline_version: p,
      source: p,
    };
    const detail = {
      ...DETAIL,
      item_id: p,
      prompt: [{ role: p, content: p }],
      responses: [
        { response_id: "r1", text: p, model: p },
        { response_id: "r2", text: p, model: null },
      ],
      labels: [label],
      history: [{ ...DETAIL.history[0], annotator: p, outcome: p }],
    };
    const model = makeAudit({
      rows: [row],
      detail,
      config: { adjudicator: p, options: { annotator: [p], show: ["all"] } },
    });
    const root = mount(model);
    model.update("detail", detail);
    // assertSafe on every subtree holding untrusted text (the rest holds our own inputs and buttons)
    const parts = root.querySelectorAll(
      ".rw-audit-summary, .rw-audit-snippet, .rw-audit-row td:not(:first-child), " +
        ".rw-prompt, .rw-audit-responses, .rw-audit-labels, .rw-audit-majority, .rw-audit-history",
    );
    expect(parts.length).toBeGreaterThan(8);
    // a filter value is an <option value> (inert text) showing the payload as text
    const opts = Array.from(root.querySelectorAll<HTMLOptionElement>('select[data-filter="annotator"] option'));
    expect(opts.map((o) => o.value)).toContain(p);
    for (const part of Array.from(parts)) assertSafe(part, { where: p.slice(0, 60) });
    expect(root.querySelectorAll("script, iframe, img, svg, style, link, object, embed, form").length).toBe(0);
    expect((window as unknown as { __xss?: number }).__xss).toBeUndefined();
    cleanups.pop()?.();
  });
});
