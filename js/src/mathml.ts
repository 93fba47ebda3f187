// A strict allowlist cleaner for KaTeX's MathML output (trusted generator, untrusted TeX). KaTeX runs with
// trust: false, so it emits no links, images or HTML extensions; this is the second line of defence: only
// MathML presentation elements and layout attributes survive, everything else becomes its text.

const ELEMENTS = new Set([
  "span",
  "math",
  "semantics",
  "mrow",
  "mi",
  "mn",
  "mo",
  "ms",
  "mtext",
  "mspace",
  "msup",
  "msub",
  "msubsup",
  "mfrac",
  "msqrt",
  "mroot",
  "mover",
  "munder",
  "munderover",
  "mtable",
  "mtr",
  "mtd",
  "mlabeledtr",
  "mstyle",
  "mpadded",
  "mphantom",
  "menclose",
  "mmultiscripts",
  "mprescripts",
  "none",
  "merror",
]);

const ATTRIBUTES = new Set([
  "class",
  "display",
  "mathvariant",
  "stretchy",
  "fence",
  "separator",
  "lspace",
  "rspace",
  "accent",
  "accentunder",
  "displaystyle",
  "scriptlevel",
  "columnalign",
  "rowalign",
  "rowspacing",
  "columnspacing",
  "columnlines",
  "rowlines",
  "frame",
  "framespacing",
  "equalrows",
  "equalcolumns",
  "width",
  "height",
  "depth",
  "voffset",
  "minsize",
  "maxsize",
  "movablelimits",
  "symmetric",
  "largeop",
  "linethickness",
  "notation",
  "mathsize",
  "title",
]);

function clean(node: Node, doc: Document): Node | null {
  if (node.nodeType === 3) return doc.createTextNode(node.nodeValue ?? "");
  if (node.nodeType !== 1) return null;
  const el = node as Element;
  const tag = el.localName.toLowerCase();
  if (tag === "annotation" || tag === "annotation-xml") return null;
  if (!ELEMENTS.has(tag)) return doc.createTextNode(el.textContent ?? "");
  // Rebuilt element by element in the right namespace: nothing from the parse is adopted as is.
  const out =
    tag === "span" ? doc.createElement("span") : doc.createElementNS("http://www.w3.org/1998/Math/MathML", tag);
  for (const attr of Array.from(el.attributes)) {
    const name = attr.name.toLowerCase();
    if (ATTRIBUTES.has(name) && !/[<>]|url\s*\(|script:/i.test(attr.value)) out.setAttribute(name, attr.value);
  }
  for (const child of Array.from(el.childNodes)) {
    const c = clean(child, doc);
    if (c) out.appendChild(c);
  }
  return out;
}

/** Parse KaTeX's MathML string inertly (a <template> runs nothing and loads nothing) and rebuild it clean. */
export function cleanMathML(html: string, doc: Document = document): DocumentFragment {
  const tpl = doc.createElement("template");
  tpl.innerHTML = html;
  const frag = doc.createDocumentFragment();
  for (const child of Array.from(tpl.content.childNodes)) {
    const c = clean(child, doc);
    if (c) frag.appendChild(c);
  }
  return frag;
}
