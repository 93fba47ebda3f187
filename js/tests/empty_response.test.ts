// A response whose text is empty (a model that answered nothing: load_items keeps it as data, issue 10) shows an
// explicit "empty response" placeholder, styled from the theme variables (light and dark alike).
import { afterEach, describe, expect, it } from "vitest";
import CSS from "../src/styles.css?raw";
import { makeModel, mount, unmountAll } from "./fake_model";

afterEach(unmountAll);

function withTexts(texts: Record<string, string>): ReturnType<typeof makeModel> {
  const model = makeModel({ total: 3, position: 0 });
  const window = model.data.window as { responses: { response_id: string; text: string }[] }[];
  for (const r of window[0]?.responses ?? []) r.text = texts[r.response_id] ?? r.text;
  return model;
}

describe("empty responses", () => {
  it("show an 'empty response' placeholder instead of a blank card", () => {
    const root = mount(withTexts({ r1: "", r2: "A real answer." }));
    const cards = [...root.querySelectorAll<HTMLElement>(".rw-response")];
    const empty = cards.find((c) => c.dataset.responseId === "r1") as HTMLElement;
    const full = cards.find((c) => c.dataset.responseId === "r2") as HTMLElement;
    const note = empty.querySelector(".rw-body .rw-empty-response") as HTMLElement;
    expect(note.textContent).toBe("empty response");
    expect(note.dataset.empty).toBe("empty");
    expect(empty.querySelector(".rw-chars")?.textContent).toBe("0 chars");
    expect(full.querySelector(".rw-empty-response")).toBeNull();
    expect(full.querySelector(".rw-body")?.textContent).toContain("A real answer.");
  });

  it("name a whitespace-only response as blank", () => {
    const root = mount(withTexts({ r2: " \n\t" }));
    const note = root.querySelector('[data-response-id="r2"] .rw-empty-response') as HTMLElement;
    expect(note.textContent).toBe("blank response (only whitespace)");
    expect(note.dataset.empty).toBe("blank");
  });

  it("are styled from the theme variables, so light and dark both apply", () => {
    const style = document.createElement("style");
    style.textContent = CSS;
    document.head.append(style);
    const root = mount(withTexts({ r1: "" }));
    const note = root.querySelector(".rw-empty-response") as HTMLElement;
    const computed = getComputedStyle(note);
    expect(computed.fontStyle).toBe("italic");
    expect(computed.borderTopStyle).toBe("dashed");
    // colours come from the --rw-* variables, which the light and dark palettes (and JupyterLab's) set
    const rule = CSS.match(/\.rw-empty-response \{([^}]*)\}/)?.[1] ?? "";
    expect(rule).toContain("color: var(--rw-fg2)");
    expect(rule).toContain("background: var(--rw-bg2)");
    expect(rule).toContain("dashed var(--rw-border)");
    style.remove();
  });
});
