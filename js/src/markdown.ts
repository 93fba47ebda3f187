// Markdown -> sanitised DOM: marked (GFM), highlight.js for fenced code (a few registered languages only, to
// keep the bundle small; no auto-detection, it is slow), KaTeX math rendered to MathML (no fonts or CSS to
// load). Every output goes through DOMPurify (sanitize.ts).

import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import cpp from "highlight.js/lib/languages/cpp";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdownLang from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import katex from "katex";
import { Marked, type TokenizerAndRendererExtension, type Tokens } from "marked";
import { cleanMathML } from "./mathml";
import { type SanitizeOptions, sanitizeToFragment } from "./sanitize";

const LANGS = { bash, cpp, go, java, javascript, json, markdown: markdownLang, python, rust, sql, typescript };
for (const [name, lang] of Object.entries(LANGS)) hljs.registerLanguage(name, lang);
hljs.registerAliases(["sh", "shell", "zsh", "console"], { languageName: "bash" });
hljs.registerAliases(["py", "python3", "ipython"], { languageName: "python" });
hljs.registerAliases(["js", "jsx", "mjs"], { languageName: "javascript" });
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" });
hljs.registerAliases(["c", "c++", "h", "hpp", "cc"], { languageName: "cpp" });
hljs.registerAliases(["rs"], { languageName: "rust" });
hljs.registerAliases(["golang"], { languageName: "go" });
hljs.registerAliases(["md"], { languageName: "markdown" });
hljs.registerAliases(["postgresql", "sqlite", "mysql"], { languageName: "sql" });

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** KaTeX to a MathML string. The <annotation> (TeX source) is dropped so it never shows as text. */
export function renderMath(tex: string, display: boolean): string {
  try {
    const html = katex.renderToString(tex, {
      output: "mathml",
      displayMode: display,
      throwOnError: false,
      trust: false,
      maxSize: 50,
      maxExpand: 1000,
      strict: "ignore",
    });
    return html.replace(/<annotation\b[^>]*>[\s\S]*?<\/annotation>/g, "").replace(/<\/?semantics>/g, "");
  } catch {
    return `<code>${escapeHtml(tex)}</code>`;
  }
}

interface MathToken extends Tokens.Generic {
  type: "inlineMath" | "blockMath";
  raw: string;
  text: string;
}

/** A math extension's `start`: where the next `marker` is, so that marked ends the text before it there. */
function startAt(marker: string): (src: string) => number | undefined {
  return (src) => {
    const i = src.indexOf(marker);
    return i < 0 ? undefined : i;
  };
}

// Block math: $$ ... $$ on its own lines (or one line).
const blockMath: TokenizerAndRendererExtension = {
  name: "blockMath",
  level: "block",
  start: startAt("$$"),
  tokenizer(src: string): MathToken | undefined {
    const m = /^ {0,3}\$\$([\s\S]+?)\$\$[ \t]*(?:\n|$)/.exec(src);
    if (!m) return undefined;
    return { type: "blockMath", raw: m[0], text: (m[1] ?? "").trim() };
  },
  renderer(token) {
    return `<div class="rw-math-block">${mathSlot(String(token.text), true)}</div>\n`;
  },
};

/**
 * Inline math, pandoc's rule so prices survive: the opening $ is followed by a non-space, the closing $ is
 * preceded by a non-space and not followed by a digit. "$5 and $10" therefore stays text.
 */
const inlineMath: TokenizerAndRendererExtension = {
  name: "inlineMath",
  level: "inline",
  start: startAt("$"),
  tokenizer(src: string): MathToken | undefined {
    const dd = /^\$\$(?!\s)([^$]+?)(?<!\s)\$\$(?!\d)/.exec(src);
    if (dd) return { type: "inlineMath", raw: dd[0], text: dd[1] ?? "", display: true };
    const m = /^\$(?![\s$])((?:\\\$|[^$\n])+?)(?<![\s\\])\$(?!\d)/.exec(src);
    if (!m) return undefined;
    return { type: "inlineMath", raw: m[0], text: m[1] ?? "" };
  },
  renderer(token) {
    return mathSlot(String(token.text), token.display === true);
  },
};

// Math is rendered outside DOMPurify: the parse leaves a placeholder per formula, and after sanitising each
// placeholder is replaced by KaTeX's MathML, cleaned by a strict MathML allowlist (mathml.ts) and cached.
// DOMPurify's namespace checks on MathML cost more than the rest of a long response together.
interface Slot {
  tex: string;
  display: boolean;
}
let slots: Slot[] = [];
let slotPrefix = "rw-m-0-";

function mathSlot(tex: string, display: boolean): string {
  slots.push({ tex, display });
  return `<span class="rw-math ${slotPrefix}${slots.length - 1}"></span>`;
}

function highlight(code: string, lang: string | undefined): string {
  const name = (lang ?? "").trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  if (name && hljs.getLanguage(name)) {
    try {
      return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
    } catch {
      /* fall through to plain text */
    }
  }
  return escapeHtml(code);
}

const md = new Marked({ gfm: true, breaks: false, async: false });
md.use({
  extensions: [blockMath, inlineMath],
  renderer: {
    code({ text, lang }: Tokens.Code): string {
      const cls = lang ? ` class="hljs language-${escapeHtml(lang.split(/\s+/)[0] ?? "")}"` : ` class="hljs"`;
      return `<pre class="rw-code"><code${cls}>${highlight(text, lang)}</code></pre>\n`;
    },
  },
});

let renders = 0;

function parseWithSlots(src: string): { html: string; slots: Slot[]; prefix: string } {
  // A fresh prefix per render: placeholders typed into the markdown itself cannot match it.
  slotPrefix = `rw-m-${(++renders).toString(36)}${Math.random().toString(36).slice(2, 8)}-`;
  slots = [];
  try {
    const html = md.parse(src, { async: false }) as string;
    return { html, slots, prefix: slotPrefix };
  } finally {
    slots = [];
  }
}

/** Markdown to an HTML string, NOT sanitised, with math inlined (tests and tooling only). */
export function markdownToHtml(src: string): string {
  const { html, slots: found, prefix } = parseWithSlots(src);
  return html.replace(new RegExp(`<span class="rw-math ${prefix}(\\d+)"></span>`, "g"), (_m, i: string) => {
    const slot = found[Number(i)];
    return slot ? renderMath(slot.tex, slot.display) : "";
  });
}

/** Markdown to a sanitised fragment ready to append. */
export function renderMarkdown(src: string, opts: SanitizeOptions): DocumentFragment {
  const { html, slots: found, prefix } = parseWithSlots(src);
  const frag = sanitizeToFragment(html, opts);
  if (found.length) {
    for (const el of Array.from(frag.querySelectorAll<HTMLElement>("span.rw-math"))) {
      const cls = Array.from(el.classList).find((c) => c.startsWith(prefix));
      const slot = cls === undefined ? undefined : found[Number(cls.slice(prefix.length))];
      if (slot) el.replaceWith(mathFragment(slot.tex, slot.display));
      else el.remove();
    }
  }
  return frag;
}

const mathCache = new Map<string, DocumentFragment>();
const MATH_CACHE = 500;

/** Clean MathML for one formula (cached by TeX source). */
export function mathFragment(tex: string, display: boolean): DocumentFragment {
  const key = `${display ? "D" : "I"}${tex}`;
  let frag = mathCache.get(key);
  if (!frag) {
    frag = cleanMathML(renderMath(tex, display));
    if (mathCache.size >= MATH_CACHE) {
      const oldest = mathCache.keys().next().value;
      if (oldest !== undefined) mathCache.delete(oldest);
    }
    mathCache.set(key, frag);
  }
  return frag.cloneNode(true) as DocumentFragment;
}
