// Layout of sets of 3-8 responses (issue 14): the class that picks the layout, and the scrolling item area.
// The widths themselves are CSS (a container query) and are checked in real Chromium: tests/e2e/test_layout.py.
import { afterEach, describe, expect, it } from "vitest";
import { key, makeModel, mount, unmountAll } from "./fake_model";

afterEach(unmountAll);

describe("response layout", () => {
  it("pairs keep the side-by-side pair layout; 3 to 8 responses use the grid", () => {
    expect(mount(makeModel({ task: "ranking", total: 2, n: 2 })).querySelector(".rw-responses.rw-pair")).not.toBe(null);
    document.body.replaceChildren();
    for (const n of [3, 4, 8]) {
      const root = mount(makeModel({ task: "ranking", total: 2, n }));
      const grid = root.querySelector(".rw-responses.rw-grid");
      expect(grid?.querySelectorAll(".rw-response").length).toBe(n);
    }
  });

  it("a new item starts at the top of the scrolling item area", () => {
    const m = makeModel({ task: "ranking", total: 3, n: 4 });
    const root = mount(m);
    const main = root.querySelector(".rw-main") as HTMLElement;
    main.scrollTop = 700; // read down to the last response
    const first = root.querySelector(".rw-item")?.getAttribute("data-item-id");
    key(root, "]"); // forward to the next item
    expect(root.querySelector(".rw-item")?.getAttribute("data-item-id")).not.toBe(first);
    expect(main.scrollTop).toBe(0);
  });
});

describe("selecting a response", () => {
  it("scrolls its card into view (by key or by its chip in the ranking panel)", () => {
    const root = mount(makeModel({ task: "ranking", total: 2, n: 8 }));
    const scrolled: string[] = [];
    for (const c of root.querySelectorAll<HTMLElement>(".rw-response"))
      c.scrollIntoView = () => scrolled.push(c.dataset.position ?? "");
    key(root, "h", { shiftKey: true });
    expect(scrolled).toEqual(["H"]);
    (root.querySelector(".rw-chip[data-position='C']") as HTMLElement).click();
    expect(scrolled).toEqual(["H", "C"]);
  });
});
