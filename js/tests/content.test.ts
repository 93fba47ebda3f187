// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { RenderCache, renderDiff, renderPrompt } from "../src/shared/content";

const html = (f: Node): string => {
  const d = document.createElement("div");
  d.append(f);
  return d.innerHTML;
};

describe("RenderCache", () => {
  it("returns independent copies of the same rendering", () => {
    const cache = new RenderCache(() => false, 4);
    const a = cache.get("**x**");
    const b = cache.get("**x**");
    expect(html(a)).toBe("<p><strong>x</strong></p>\n");
    expect(html(b)).toBe(html(cache.get("**x**")));
  });

  it("evicts the least recently used text and re-renders it on demand", () => {
    let remote = false;
    const cache = new RenderCache(() => remote, 2);
    const img = "![a](https://img.example/a.png)";
    expect(html(cache.get(img))).toContain("remote images blocked");
    cache.warm("one");
    cache.warm("two"); // img evicted
    remote = true; // a re-render picks up the current option
    expect(html(cache.get(img))).toContain('<img src="https://img.example/a.png"');
  });
});

describe("prompt and diff rendering", () => {
  it("shows roles as text and contents as markdown", () => {
    const p = renderPrompt([{ role: "<b>user</b>", content: "*hi*" }], new RenderCache(() => false));
    expect(p.querySelector(".rw-turn-role")?.textContent).toBe("<b>user</b>");
    expect(p.querySelector(".rw-turn")?.className).toBe("rw-turn rw-role-other");
    expect(p.querySelector("em")?.textContent).toBe("hi");
  });

  it("marks deletions in A and insertions in B as text", () => {
    const [a, b] = renderDiff("keep <old>", "keep <new>");
    expect(a.querySelector("del")?.textContent).toBe("old");
    expect(b.querySelector("ins")?.textContent).toBe("new");
    expect(a.textContent).toBe("keep <old>");
    expect(a.querySelector("old")).toBeNull();
  });
});

describe("long prompts", () => {
  it("a long chat shows its last turns and hides the earlier ones behind a button", () => {
    const turns = Array.from({ length: 7 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `turn ${i}` }));
    const p = renderPrompt(turns, new RenderCache(() => false));
    const earlier = p.querySelector(".rw-earlier") as HTMLElement;
    expect(earlier.hidden).toBe(true);
    expect(earlier.querySelectorAll(".rw-turn").length).toBe(4);
    const visible = [...p.querySelectorAll(":scope > .rw-turn")].map((t) =>
      t.querySelector(".rw-md")?.textContent?.trim(),
    );
    expect(visible).toEqual(["turn 4", "turn 5", "turn 6"]);
    const btn = p.querySelector(".rw-expand") as HTMLButtonElement;
    expect(btn.textContent).toBe("Show 4 earlier turns");
    btn.click();
    expect(earlier.hidden).toBe(false);
    expect(btn.getAttribute("aria-expanded")).toBe("true");
  });

  it("a short chat shows everything; a long string prompt starts collapsed", () => {
    const short = renderPrompt([{ role: "user", content: "hi" }], new RenderCache(() => false));
    expect(short.querySelector(".rw-earlier")).toBeNull();
    expect(short.querySelector(".rw-expand")).toBeNull();
    const long = renderPrompt("word ".repeat(100), new RenderCache(() => false), 100);
    expect(long.querySelector(".rw-md")?.classList.contains("rw-collapsed")).toBe(true);
    (long.querySelector(".rw-expand") as HTMLButtonElement).click();
    expect(long.querySelector(".rw-md")?.classList.contains("rw-collapsed")).toBe(false);
  });
});
