// @vitest-environment jsdom
// Every field the view shows, filled with the XSS corpus, in the real view (DOMPurify needs jsdom here).
import { afterEach, describe, expect, it } from "vitest";
import widget from "../src/index";
import { type FakeModel, key, makeModel } from "./fake_model";
import { assertSafe } from "./xss_check";
import payloads from "./xss_payloads.json";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
  document.body.replaceChildren();
});

function hostileModel(p: string, i: number, task: "pairwise" | "ranking"): FakeModel {
  const m = makeModel({
    task,
    total: 2,
    config: {
      criteria: [p.slice(0, 60), "ok"],
      flags: [
        { id: "f1", label: p },
        { id: "harmful", label: "Harmful" },
      ],
      allow_remote_images: false,
    },
    guidelines: { version: p.slice(0, 40), markdown: p, changes: p },
  });
  const item = (index: number): Record<string, unknown> => ({
    index,
    item_id: `${p}#${index}`,
    prompt:
      index === 0
        ? p
        : [
            { role: p, content: p },
            { role: "assistant", content: `ok ${p}` },
          ],
    responses: [
      { response_id: "r1", text: p },
      { response_id: "r2", text: `${p}\n\n${p}` },
      ...(task === "ranking" ? [{ response_id: "r3", text: `prefix ${p}` }] : []),
    ],
    display_order: task === "ranking" ? ["r1", "r2", "r3"] : ["r1", "r2"],
    metadata: { source: p, [p.slice(0, 30)]: i, nested: { x: p } },
    guideline_version: p.slice(0, 40),
    label: {
      status: "submitted",
      winner: "r1",
      strength: 2,
      ranking: [["r1"], ["r2"]],
      rationale: p,
      flags: ["f1"],
      flag_note: p,
    },
  });
  m.data.window = [item(0), item(1)];
  return m;
}

describe("XSS corpus in every field of the view", () => {
  it.each(payloads.map((p, i) => [i, p] as const))("payload %i", (i, p) => {
    for (const task of ["pairwise", "ranking"] as const) {
      const m = hostileModel(p, i, task);
      const el = document.createElement("div");
      document.body.append(el);
      cleanups.push(widget.render({ model: m, el }));
      const root = el.querySelector(".rw-root") as HTMLElement;
      key(root, "g"); // guidelines drawer
      key(root, "?"); // help
      if (task === "pairwise") key(root, "d"); // diff view
      // A reject message with hostile text, and the next item's chat prompt.
      m.receive({ type: "reject", client_id: "none", item_id: p, field: p, message: p });
      assertSafe(el, { where: `payload ${i} ${task} item 0` });
      expect(root.querySelector(".rw-rationale") as HTMLTextAreaElement).toHaveProperty("value", p);
      key(root, "Escape"); // close the help (it blocks other keys)
      key(root, "]");
      assertSafe(el, { where: `payload ${i} ${task} item 1` });
      expect(root.querySelector(".rw-item")?.getAttribute("data-item-id")).toBe(`${p}#1`);
    }
  });
});
