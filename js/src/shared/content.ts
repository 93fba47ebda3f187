// Rendering untrusted content: prompt turns and response bodies (markdown -> sanitised DOM, cached), and the
// word-diff bodies for pairs.
import { type DiffPart, side, wordDiff } from "../diff";
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

/** Chats longer than this show their last turns only, with a button for the earlier ones. */
export const VISIBLE_TURNS = 3;

function toggleButton(label: string, onToggle: (btn: HTMLButtonElement) => void): HTMLButtonElement {
  const btn = h("button", { type: "button", class: "rw-btn rw-expand", "aria-expanded": "false" }, label);
  btn.addEventListener("click", (e) => {
    e.stopPropagation();
    onToggle(btn);
  });
  return btn;
}

/**
 * The prompt: a string, or chat turns with role labels. A long prompt starts collapsed like a long response;
 * a long chat shows its last VISIBLE_TURNS turns (the question being answered) and hides the earlier ones.
 */
export function renderPrompt(prompt: string | ChatTurn[], cache: RenderCache, collapseChars = 0): HTMLElement {
  const box = h("section", { class: "rw-prompt", "aria-label": "Prompt" });
  if (typeof prompt === "string") {
    const body = h("div", { class: "rw-md" }, cache.get(prompt));
    box.append(h("div", { class: "rw-turn-role" }, "Prompt"), body);
    if (collapseChars > 0 && prompt.length > collapseChars) {
      body.classList.add("rw-collapsed");
      box.append(
        toggleButton(`Show all (${prompt.length.toLocaleString()} chars)`, (btn) => {
          const open = body.classList.toggle("rw-collapsed") === false;
          btn.setAttribute("aria-expanded", String(open));
          btn.textContent = open ? "Show less" : `Show all (${prompt.length.toLocaleString()} chars)`;
        }),
      );
    }
    return box;
  }
  const hidden = Math.max(0, prompt.length - VISIBLE_TURNS);
  const earlier = h("div", { class: "rw-earlier", hidden: hidden > 0 });
  if (hidden > 0) {
    const label = `Show ${hidden} earlier turn${hidden === 1 ? "" : "s"}`;
    box.append(
      toggleButton(label, (btn) => {
        earlier.hidden = !earlier.hidden;
        btn.setAttribute("aria-expanded", String(!earlier.hidden));
        btn.textContent = earlier.hidden ? label : "Hide earlier turns";
      }),
      earlier,
    );
  }
  prompt.forEach((turn, i) => {
    const role = turn.role.toLowerCase();
    (i < hidden ? earlier : box).append(
      h(
        "div",
        { class: `rw-turn rw-role-${/^[a-z]+$/.test(role) ? role : "other"}` },
        h("div", { class: "rw-turn-role" }, turn.role),
        h("div", { class: "rw-md" }, cache.get(turn.content)),
      ),
    );
  });
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
