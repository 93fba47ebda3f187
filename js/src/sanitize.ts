// Sanitising untrusted HTML (design §9): DOMPurify with a strict allowlist, no remote loads by default.
import createDOMPurify, { type DOMPurify, type Config as PurifyConfig } from "dompurify";

const FORBID_TAGS = [
  "script",
  "style",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "applet",
  "form",
  "input",
  "button",
  "textarea",
  "select",
  "option",
  "link",
  "meta",
  "base",
  "svg",
  "template",
  "noscript",
  "video",
  "audio",
  "source",
  "track",
  "picture",
  "portal",
  "dialog",
  "mglyph",
  "maction",
  "math-style",
  "xmp",
  "plaintext",
  "noembed",
  "noframes",
  "canvas",
  "map",
  "area",
  "image",
  "marquee",
  "isindex",
  "blink",
];

const FORBID_ATTR = [
  "style",
  "srcset",
  "background",
  "poster",
  "ping",
  "formaction",
  "action",
  "xlink:href",
  "dynsrc",
  "lowsrc",
  "usemap",
  "srcdoc",
  "sizes",
  "imagesrcset",
  "longdesc",
  "data",
  "codebase",
  "manifest",
  "autofocus",
  "tabindex",
  "accesskey",
  "contenteditable",
  "popover",
  "popovertarget",
  "hidden",
];

const SAFE_LINK = /^(?:https?:|mailto:|#)/i;
const SAFE_IMG = /^(?:https?:|data:image\/(?:png|gif|jpe?g|webp);)/i;

export interface SanitizeOptions {
  allowRemoteImages: boolean;
}

let purifier: DOMPurify | null = null;

function placeholder(doc: Document, alt: string): HTMLElement {
  const span = doc.createElement("span");
  span.className = "rw-img-blocked";
  span.textContent = `[image: ${alt || "no description"} \u2014 remote images blocked]`;
  return span;
}

function getPurifier(): DOMPurify {
  if (purifier) return purifier;
  // A private instance: our hooks must not leak into other users of DOMPurify on the page.
  const p = createDOMPurify(window);
  p.addHook("afterSanitizeAttributes", (node) => {
    if (!(node instanceof Element)) return;
    const tag = node.tagName.toLowerCase();
    if (tag === "a") {
      const href = node.getAttribute("href");
      if (href !== null && !SAFE_LINK.test(href.trim())) node.removeAttribute("href");
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    } else {
      // MathML lets any element carry href; only links may navigate.
      node.removeAttribute("href");
    }
    if (tag === "img") {
      const src = node.getAttribute("src");
      if (src === null || !SAFE_IMG.test(src.trim())) node.removeAttribute("src");
      node.setAttribute("loading", "lazy");
      node.setAttribute("referrerpolicy", "no-referrer");
    } else {
      node.removeAttribute("src");
    }
  });
  purifier = p;
  return p;
}

const CONFIG: PurifyConfig = {
  USE_PROFILES: { html: true, mathMl: true },
  FORBID_TAGS,
  FORBID_ATTR,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: true,
  SANITIZE_NAMED_PROPS: true,
  ALLOW_UNKNOWN_PROTOCOLS: false,
};

/** Sanitise an HTML string into a fragment that is safe to insert into the page. */
export function sanitizeToFragment(html: string, opts: SanitizeOptions): DocumentFragment {
  const p = getPurifier();
  if (!p.isSupported) {
    // DOMPurify returns its input untouched in a DOM it cannot trust: show the source as text instead.
    const frag = document.createDocumentFragment();
    frag.append(document.createTextNode(html));
    return frag;
  }
  const frag = p.sanitize(html, { ...CONFIG, RETURN_DOM_FRAGMENT: true }) as DocumentFragment;
  // Images are swapped for a text placeholder after sanitising (mutating during DOMPurify's walk is unsafe).
  for (const img of Array.from(frag.querySelectorAll("img"))) {
    if (!opts.allowRemoteImages || !img.hasAttribute("src")) {
      img.replaceWith(placeholder(img.ownerDocument, img.getAttribute("alt") ?? ""));
    }
  }
  return frag;
}

/** Sanitise to an HTML string (tests, caching). */
export function sanitizeToString(html: string, opts: SanitizeOptions): string {
  const div = document.createElement("div");
  div.appendChild(sanitizeToFragment(html, opts));
  return div.innerHTML;
}
