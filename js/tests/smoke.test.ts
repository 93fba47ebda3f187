import { describe, expect, it } from "vitest";
import widget from "../src/index";

describe("entry", () => {
  it("renders into the element and cleans up", () => {
    const el = document.createElement("div");
    const cleanup = widget.render({ model: { get: () => "x1" }, el });
    expect(el.textContent).toBe("x1");
    cleanup();
    expect(el.childNodes.length).toBe(0);
  });
});
