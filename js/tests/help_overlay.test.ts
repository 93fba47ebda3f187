// The help overlay of a short widget: the panel is bounded by the widget (and viewport) and scrolls inside
// itself, with the real stylesheet applied (happy-dom resolves the cascade; real layout is checked in
// Chromium by benchmarks/screenshots.py).
import { afterEach, describe, expect, it } from "vitest";
import widget from "../src/index";
import CSS from "../src/styles.css?raw";
import { key, makeModel, q } from "./fake_model";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
  document.head.replaceChildren();
  document.body.replaceChildren();
});

function mountStyled(): HTMLElement {
  const style = document.createElement("style");
  style.textContent = CSS;
  document.head.append(style);
  const el = document.createElement("div");
  document.body.append(el);
  cleanups.push(widget.render({ model: makeModel({ total: 2 }), el }));
  return el.querySelector(".rw-root") as HTMLElement;
}

describe("help overlay", () => {
  it("is bounded by the widget and scrolls instead of being cut off", () => {
    const root = mountStyled();
    key(root, "?");
    const help = q(root, ".rw-help");
    const panel = q(root, ".rw-help-panel");
    expect(help.hidden).toBe(false);
    expect(root.classList.contains("rw-help-open")).toBe(true);
    const overlay = getComputedStyle(help);
    expect(overlay.position).toBe("absolute");
    expect(overlay.display).toBe("flex");
    const p = getComputedStyle(panel);
    expect(p.overflowY).toBe("auto");
    // min(100%, 90vh): the widget's height, capped by the viewport's (vh resolved to px)
    expect(p.maxHeight).toMatch(/^min\(100%, [\d.]+px\)$/);
    // a short widget grows while the overlay is open, so the list is not squeezed into a sliver
    expect(getComputedStyle(root).minHeight).toMatch(/\d+px/);
    // the close button and the last shortcut are inside the scrolling panel, not past its edge
    const rows = panel.querySelectorAll("tr");
    expect(rows.length).toBeGreaterThan(5);
    expect(panel.contains(rows[rows.length - 1] as Element)).toBe(true);
    expect(panel.querySelector(".rw-help-close")).not.toBeNull();
    key(root, "Escape");
    expect(root.classList.contains("rw-help-open")).toBe(false);
    // reopened, the list starts at its top again
    panel.scrollTop = 120;
    key(root, "?");
    expect(panel.scrollTop).toBe(0);
  });

  it("draws the panel in the host theme's colours, light or dark, opaque over the item", () => {
    const panelColours = (): [string, string] => {
      const root = mountStyled();
      key(root, "?");
      const p = getComputedStyle(q(root, ".rw-help-panel"));
      return [p.backgroundColor, p.color];
    };
    expect(panelColours()).toEqual(["#ffffff", "#1f2328"]); // no host variables: our light palette
    for (const c of cleanups) c();
    cleanups = [];
    // JupyterLab Dark: its --jp-* variables win
    document.documentElement.style.setProperty("--jp-layout-color1", "#111111");
    document.documentElement.style.setProperty("--jp-content-font-color1", "#eeeeee");
    try {
      expect(panelColours()).toEqual(["#111111", "#eeeeee"]);
    } finally {
      document.documentElement.style.removeProperty("--jp-layout-color1");
      document.documentElement.style.removeProperty("--jp-content-font-color1");
    }
  });
});
