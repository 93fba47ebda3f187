// @vitest-environment jsdom
// DOMPurify is verified against jsdom (the DOM its own test suite uses); happy-dom mis-parses some vectors.
import { describe, expect, it } from "vitest";
import { markdownToHtml, renderMarkdown } from "../src/markdown";

const render = (src: string): HTMLElement => {
  const div = document.createElement("div");
  div.append(renderMarkdown(src, { allowRemoteImages: false }));
  return div;
};

describe("markdown rendering", () => {
  it("renders GFM: emphasis, lists, tables, links with safe attributes", () => {
    const d = render(
      "**bold** and *it*\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[site](https://ok.example/)",
    );
    expect(d.querySelector("strong")?.textContent).toBe("bold");
    expect(d.querySelectorAll("li").length).toBe(2);
    expect(d.querySelectorAll("td").length).toBe(2);
    const a = d.querySelector("a") as HTMLAnchorElement;
    expect(a.getAttribute("href")).toBe("https://ok.example/");
    expect(a.getAttribute("target")).toBe("_blank");
    expect(a.getAttribute("rel")).toBe("noopener noreferrer nofollow");
  });

  it("highlights registered languages (and aliases), escapes unknown ones", () => {
    const d = render(
      "```python\ndef f(x):\n    return x  # c\n```\n\n```py\nimport os\n```\n\n```cobol\n<b>x</b>\n```",
    );
    const blocks = d.querySelectorAll("pre.rw-code code");
    expect(blocks.length).toBe(3);
    expect(blocks[0]?.querySelector(".hljs-keyword")?.textContent).toBe("def");
    expect(blocks[0]?.querySelector(".hljs-comment")?.textContent).toBe("# c");
    expect(blocks[1]?.querySelector(".hljs-keyword")?.textContent).toBe("import");
    expect(blocks[2]?.textContent).toBe("<b>x</b>");
    expect(blocks[2]?.querySelector("b")).toBeNull();
    for (const lang of ["javascript", "ts", "bash", "json", "sql", "cpp", "java", "rust", "go", "markdown"]) {
      const h = markdownToHtml(`\`\`\`${lang}\nx = 1\n\`\`\``);
      expect(h, lang).toContain(`language-${lang}`);
    }
  });

  it("renders inline and display math as MathML without the TeX annotation", () => {
    const d = render("Euler: $e^{i\\pi} + 1 = 0$.\n\n$$\\int_0^1 x\\,dx = \\frac{1}{2}$$\n");
    const maths = d.querySelectorAll("math");
    expect(maths.length).toBe(2);
    expect(d.querySelector(".rw-math-block math")).not.toBeNull();
    expect(d.querySelector("annotation")).toBeNull();
    expect(d.textContent).not.toContain("\\frac");
    expect(d.querySelector("mfrac")).not.toBeNull();
  });

  it("leaves prices alone: $5 and $10 is text, not math", () => {
    for (const src of ["It costs $5 and $10 later.", "Pay $5, or $10.", "from $3.50 to $4.00", "$ 5 $"]) {
      const d = render(src);
      expect(d.querySelector("math"), src).toBeNull();
      expect(d.textContent?.trim()).toBe(src);
    }
    expect(render("a $x$ b").querySelector("math")).not.toBeNull();
    expect(render("escaped \\$x\\$ stays").querySelector("math")).toBeNull();
  });

  it("does not execute math macros that would load or link anything", () => {
    const d = render("$\\href{https://evil.example}{x}$ $\\includegraphics{https://evil.example/a.png}$");
    expect(d.querySelector("a[href*='evil'], img")).toBeNull();
  });

  it("shows bad TeX as an error instead of throwing", () => {
    const d = render("$\\frac{1}{$ and $\\notacommand{x}$");
    expect(d.textContent).toContain("notacommand");
  });

  it("keeps code spans and blocks literal (no math inside code)", () => {
    const d = render("`$x$` and\n\n```\n$y$\n```");
    expect(d.querySelector("math")).toBeNull();
    expect(d.querySelector("code")?.textContent).toBe("$x$");
  });
});
