// @vitest-environment jsdom
// DOMPurify is verified against jsdom (the DOM its own test suite uses); happy-dom mis-parses some vectors.
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../src/markdown";
import { assertSafe } from "./xss_check";
import payloads from "./xss_payloads.json";

describe("XSS corpus through the markdown renderer", () => {
  it("has at least 50 payloads", () => {
    expect(payloads.length).toBeGreaterThanOrEqual(50);
  });

  it.each(payloads.map((p, i) => [i, p] as const))("payload %i is neutralised", (i, p) => {
    const box = document.createElement("div");
    box.append(renderMarkdown(p, { allowRemoteImages: false }));
    document.body.append(box);
    try {
      assertSafe(box, { where: `payload ${i}` });
    } finally {
      box.remove();
    }
  });

  it.each(payloads.map((p, i) => [i, p] as const))("payload %i is neutralised with remote images allowed", (i, p) => {
    const box = document.createElement("div");
    box.append(renderMarkdown(p, { allowRemoteImages: true }));
    assertSafe(box, { where: `payload ${i} (images allowed)`, allowImages: true });
    for (const img of Array.from(box.querySelectorAll("img"))) {
      expect(img.getAttribute("src") ?? "").toMatch(/^(?:https?:|data:image\/)/);
      expect(img.getAttribute("referrerpolicy")).toBe("no-referrer");
    }
  });
});

describe("remote images", () => {
  it("are replaced by a placeholder naming the alt text by default", () => {
    const box = document.createElement("div");
    box.append(renderMarkdown("see ![a cat](https://img.example/cat.png)", { allowRemoteImages: false }));
    expect(box.querySelector("img")).toBeNull();
    expect(box.querySelector(".rw-img-blocked")?.textContent).toBe("[image: a cat \u2014 remote images blocked]");
  });

  it("load only when allowed, and never with javascript: sources", () => {
    const box = document.createElement("div");
    box.append(
      renderMarkdown('![a](https://img.example/a.png) <img src="javascript:alert(1)" alt=b>', {
        allowRemoteImages: true,
      }),
    );
    const imgs = Array.from(box.querySelectorAll("img"));
    expect(imgs.map((i) => i.getAttribute("src"))).toEqual(["https://img.example/a.png"]);
    expect(box.querySelector(".rw-img-blocked")?.textContent).toContain("b");
  });
});
