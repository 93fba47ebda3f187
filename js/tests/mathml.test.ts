// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { mathFragment, renderMarkdown } from "../src/markdown";
import { cleanMathML } from "../src/mathml";
import { assertSafe } from "./xss_check";

const box = (f: DocumentFragment): HTMLElement => {
  const d = document.createElement("div");
  d.append(f);
  return d;
};

describe("MathML allowlist cleaner", () => {
  it("keeps presentation MathML and layout attributes", () => {
    const d = box(
      cleanMathML(
        '<span class="katex"><math xmlns="http://www.w3.org/1998/Math/MathML"><mfrac linethickness="2px"><mi mathvariant="bold">x</mi><mn>2</mn></mfrac></math></span>',
      ),
    );
    const frac = d.querySelector("mfrac");
    expect(frac?.namespaceURI).toBe("http://www.w3.org/1998/Math/MathML");
    expect(frac?.getAttribute("linethickness")).toBe("2px");
    expect(d.querySelector("mi")?.getAttribute("mathvariant")).toBe("bold");
    expect(d.querySelector("span.katex")).not.toBeNull();
  });

  it("drops scripts, handlers, links, styles, images, annotations; foreign elements become text", () => {
    const hostile =
      '<math href="javascript:alert(1)" onclick="window.__xss=1" style="background:url(http://evil.example/a)">' +
      '<mi xlink:href="javascript:alert(1)" onmouseover="window.__xss=1">x</mi>' +
      '<mglyph src="http://evil.example/g.png"></mglyph><maction actiontype="statusline">y</maction>' +
      '<annotation encoding="application/x-tex">\\\\secret</annotation>' +
      '<mtext><img src=x onerror="window.__xss=1"><script>window.__xss=1</script>ok</mtext>' +
      '<mi class="a" mathcolor="red" title="t">z</mi></math>';
    const d = box(cleanMathML(hostile));
    assertSafe(d, { where: "mathml" });
    expect(d.querySelector("mglyph, maction, annotation, img, script")).toBeNull();
    expect(d.textContent).not.toContain("secret");
    expect(d.textContent).toContain("y");
    expect(d.querySelector("mi.a")?.getAttribute("title")).toBe("t");
    expect(d.querySelector("mi.a")?.hasAttribute("mathcolor")).toBe(false);
  });

  it("caches a formula and returns independent copies", () => {
    const a = box(mathFragment("x^2", false));
    const b = box(mathFragment("x^2", false));
    expect(a.innerHTML).toBe(b.innerHTML);
    a.querySelector("math")?.remove();
    expect(b.querySelector("math")).not.toBeNull();
    expect(box(mathFragment("x^2", true)).querySelector('math[display="block"]')).not.toBeNull();
  });

  it("math placeholders typed into the markdown do not pull in formulas", () => {
    const d = box(renderMarkdown('<span class="rw-math rw-m-1-0"></span> and $y$', { allowRemoteImages: false }));
    expect(d.querySelectorAll("math").length).toBe(1);
    expect(d.querySelectorAll("span.rw-math").length).toBe(0);
  });
});
