import { afterEach, describe, expect, it } from "vitest";
import widget from "../src/index";
import { key, makeModel } from "./fake_model";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
  document.body.replaceChildren();
});

function mount(model: ReturnType<typeof makeModel>): { el: HTMLElement; root: HTMLElement } {
  const el = document.createElement("div");
  document.body.append(el);
  cleanups.push(widget.render({ model, el }));
  return { el, root: el.querySelector(".rw-root") as HTMLElement };
}

describe("pairwise view", () => {
  it("renders the item at position with prompt and two lettered responses", () => {
    const model = makeModel({ total: 5, position: 1 });
    const { root } = mount(model);
    const item = root.querySelector(".rw-item") as HTMLElement;
    expect(item.dataset.itemId).toBe("it-0001");
    const cards = [...root.querySelectorAll<HTMLElement>(".rw-response")];
    expect(cards.map((c) => c.dataset.position)).toEqual(["A", "B"]);
    expect(cards.map((c) => c.dataset.responseId)).toEqual(["r2", "r1"]);
    expect(root.querySelector(".rw-prompt strong")?.textContent).toBe("recursion");
    expect(root.querySelectorAll("button[data-choice]").length).toBe(5);
  });

  it("keys 1-5 + Enter send a submit, show the next item before the ack, and mark saved on ack", () => {
    const model = makeModel({ total: 5, position: 1 });
    const { root } = mount(model);
    key(root, "5");
    expect(root.querySelector('button[data-choice="B3"]')?.getAttribute("aria-checked")).toBe("true");
    key(root, "Enter");
    expect(model.sent).toHaveLength(1);
    const msg = model.sent[0] as {
      type: string;
      client_id: string;
      item_id: string;
      index: number;
      label: Record<string, unknown>;
    };
    expect(msg.type).toBe("submit");
    expect(msg.item_id).toBe("it-0001");
    expect(msg.index).toBe(1);
    // display order of item 1 is [r2, r1]: B = r1
    expect(msg.label.winner).toBe("r1");
    expect(msg.label.strength).toBe(3);
    expect(msg.label.ranking).toEqual([["r1"], ["r2"]]);
    expect(msg.label.display_order).toEqual(["r2", "r1"]);
    expect(msg.label.status).toBe("submitted");
    // next item at once
    expect((root.querySelector(".rw-item") as HTMLElement).dataset.itemId).toBe("it-0002");
    const status = root.querySelector(".rw-status") as HTMLElement;
    const saves = root.querySelector(".rw-saves") as HTMLElement;
    expect(status.dataset.state).toBe(""); // it-0002 on screen was not submitted (issue 13: per item)
    expect(saves.dataset.saving).toBe("1");
    model.receive({
      type: "ack",
      client_id: msg.client_id,
      item_id: "it-0001",
      label_id: msg.client_id,
      revision: 1,
      duplicate: false,
    });
    expect(status.dataset.state).toBe("");
    expect(saves.dataset.saving).toBe("0");
    expect(saves.dataset.saved).toBe("1");
    key(root, "["); // back to the submitted item: its own state
    expect(status.dataset.state).toBe("saved");
    expect(status.dataset.itemId).toBe("it-0001");
  });
});
