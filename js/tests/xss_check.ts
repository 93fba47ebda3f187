// Shared assertions: nothing executable or remotely loading survived in a rendered subtree.
import { expect } from "vitest";

const FORBIDDEN_TAGS = [
  "script",
  "iframe",
  "frame",
  "object",
  "embed",
  "form",
  "style",
  "link",
  "meta",
  "base",
  "svg",
  "button:not(.rw-btn):not(.rw-choice):not(.rw-rate):not(.rw-flag)",
  "textarea:not(.rw-rationale)",
  "video",
  "audio",
  "source",
  "template",
  "portal",
  "applet",
  "picture",
  "noscript",
  "marquee",
  "isindex",
  "input:not(.rw-flag-note)",
];
const URL_ATTRS = [
  "src",
  "srcset",
  "background",
  "poster",
  "action",
  "formaction",
  "ping",
  "xlink:href",
  "dynsrc",
  "lowsrc",
  "data",
  "srcdoc",
  "style",
];
const BAD_SCHEME = /^(?:javascript|vbscript|data:text|data:application)/i;

function squash(v: string): string {
  // Browsers ignore control characters and whitespace inside a URL scheme.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point here
  return v.replace(/[\u0000-\u0020]/g, "").toLowerCase();
}

export function assertSafe(root: Element, opts: { allowImages?: boolean; where?: string } = {}): void {
  const where = opts.where ?? "";
  for (const sel of FORBIDDEN_TAGS) {
    expect(root.querySelectorAll(sel).length, `${where}: <${sel}> survived`).toBe(0);
  }
  if (!opts.allowImages) expect(root.querySelectorAll("img").length, `${where}: <img> survived`).toBe(0);
  for (const el of [root, ...Array.from(root.querySelectorAll("*"))]) {
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase();
      expect(name.startsWith("on"), `${where}: event handler ${name} on <${el.tagName}>`).toBe(false);
      // Inert text attributes (ours, holding untrusted strings as plain values) cannot load or run anything.
      if (name.startsWith("data-") || name.startsWith("aria-") || ["title", "alt", "placeholder"].includes(name))
        continue;
      expect(BAD_SCHEME.test(squash(attr.value)), `${where}: ${name}=${attr.value} on <${el.tagName}>`).toBe(false);
      const tag = el.tagName.toLowerCase();
      if (name === "href") {
        expect(tag, `${where}: href on <${tag}>`).toBe("a");
        expect(squash(attr.value)).toMatch(/^(?:https?:|mailto:|#)/);
      }
      if (URL_ATTRS.includes(name) && !(tag === "img" && name === "src" && opts.allowImages)) {
        expect.fail(`${where}: ${name}=${attr.value} on <${tag}>`);
      }
      if (/evil\.example/i.test(attr.value) && !(opts.allowImages && tag === "img" && name === "src")) {
        // A link may point anywhere (nothing loads until clicked); no other attribute may name the host.
        expect(`${tag}[${name}]`, `${where}: ${name}=${attr.value}`).toBe("a[href]");
      }
      if (name === "id" || name === "name") {
        // DOM clobbering: user ids are prefixed so they cannot shadow document properties.
        expect(
          attr.value.startsWith("user-content-") || attr.value.startsWith("rw-"),
          `${where}: ${name}=${attr.value}`,
        ).toBe(true);
      }
    }
  }
  for (const a of Array.from(root.querySelectorAll("a[href]"))) {
    expect(a.getAttribute("rel")).toContain("noopener");
    expect(a.getAttribute("target")).toBe("_blank");
  }
  expect((globalThis as { __xss?: unknown }).__xss, `${where}: a payload ran`).toBeUndefined();
}
