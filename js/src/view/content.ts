// Rendering untrusted content: prompt turns and response bodies (markdown -> sanitised DOM, cached), and the
// word-diff bodies for pairs.
import { side, wordDiff, type DiffPart } from "../diff";
import { renderMarkdown } from "../markdown";
import type { ChatTurn } from "../types";
import { h } from "./dom";

/** Small LRU of rendered markdown, so prefetched items render by cloning (next item in one frame). */
export class RenderCache {
  private map = new Map<string, DocumentFragment>();

  constructor(
    private readonly allowRemoteImages: () => boolean,
    private readonly size = 64,
  ) {}

  /** The cached fragment for `text` (rendered now if missing), marked most recently used. */
  private entry(text: string): DocumentFragment {
    let frag = this.map.get(text); // Map keys hash strings; texts are bounded by Python's size caps
    if (frag) {
      this.map.delete(text);
    } else {
      frag = renderMarkdown(text, { allowRemoteImages: this.allowRemoteImages() });
    }
    this.map.set(text, frag);
    if (this.map.size > this.size) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    return frag;
  }

  /** A fresh copy of the rendered markdown of `text`. */
  get(text: string): DocumentFragment {
    return this.entry(text).cloneNode(true) as DocumentFragment;
  }

  /** Render ahead of time (idle callback). */
  warm(text: string): void {
    if (!this.map.has(text)) this.entry(text);
  }

  clear(): void {
    this.map.clear();
  }
}

export function renderPrompt(prompt: string | ChatTurn[], cache: RenderCache): HTMLElement {
  const box = h("section", { class: "rw-prompt", "aria-label": "Prompt" });
  if (typeof prompt === "string") {
    box.append(h("div", { class: "rw-turn-role" }, "Prompt"), h("div", { class: "rw-md" }, cache.get(prompt)));
    return box;
  }
  for (const turn of prompt) {
    const role = turn.role.toLowerCase();
    box.append(
      h(
        "div",
        { class: `rw-turn rw-role-${/^[a-z]+$/.test(role) ? role : "other"}` },
        h("div", { class: "rw-turn-role" }, turn.role),
        h("div", { class: "rw-md" }, cache.get(turn.content)),
      ),
    );
  }
  return box;
}

function diffBody(parts: readonly DiffPart[]): HTMLElement {
  const pre = h("div", { class: "rw-diffbody" });
  for (const p of parts) {
    if (p.op === "same") pre.append(document.createTextNode(p.text));
    else pre.append(h(p.op === "del" ? "del" : "ins", { class: p.op === "del" ? "rw-del" : "rw-ins" }, p.text));
  }
  return pre;
}

/** Plain-text bodies of A and B with the differing words marked (A: removed, B: added). */
export function renderDiff(a: string, b: string): [HTMLElement, HTMLElement] {
  const parts = wordDiff(a, b);
  return [diffBody(side(parts, "a")), diffBody(side(parts, "b"))];
}
