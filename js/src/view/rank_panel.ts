// The ranking panel: tie groups (best first) with drop zones between them, the pool of unranked responses,
// and HTML5 drag and drop. State lives in the caller; this module only renders it and reports intents.
import * as rk from "../ranking";
import { h, positionLetter } from "../shared/dom";
import type { Item } from "../types";

const MIME = "text/x-rw-response";

export interface RankHandlers {
  select(rid: string): void;
  drop(rid: string, target: rk.DropTarget): void;
}

// Backslash-escapable ASCII punctuation (CommonMark).
const ESCAPABLE = /\\([!-/:-@[-`{-~])/g;
// An inline code span: a run of N backticks, closed by a run of exactly N (CommonMark).
const CODE_SPAN = /(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g;

/** Markdown syntax out of one line of prose (no code spans in it): links, emphasis, escapes. */
function plainInline(s: string): string {
  const escaped: string[] = [];
  // escaped characters are literal: park them so emphasis pairing cannot take them
  let t = s.replace(ESCAPABLE, (_m, c: string) => `\uE000${escaped.push(c) - 1}\uE001`);
  t = t
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
    .replace(/<((?:https?|mailto):[^>\s]*)>/g, "$1"); // autolinks
  // Emphasis only where a delimiter run has a matching closer, so a lone `*` (2 * 3, **/*.py) stays.
  for (let prev = ""; prev !== t; ) {
    prev = t;
    t = t
      .replace(/(\*{1,3})(?=[^\s*])([^*]*?[^\s*])\1(?!\*)/g, "$2")
      .replace(/(?<![\p{L}\p{N}_])(_{1,3})(?=[^\s_])([^_]*?[^\s_])\1(?![\p{L}\p{N}_])/gu, "$2")
      .replace(/~~(?=[^\s~])([^~]*?[^\s~])~~/g, "$1");
  }
  return t.replace(/\uE000(\d+)\uE001/g, (_m, i: string) => escaped[Number(i)] ?? "");
}

/** One line outside code blocks: block markers (heading, quote, bullet) dropped, code spans kept verbatim. */
function plainLine(line: string): string {
  const body = line.replace(/^\s{0,3}(?:(?:#{1,6}|>|[-*+])(?:\s+|$))+/, "");
  let out = "";
  let last = 0;
  for (const m of body.matchAll(CODE_SPAN)) {
    out += plainInline(body.slice(last, m.index));
    const code = m[2] ?? "";
    // CommonMark strips one space on each side when both are there (`` `x` ``)
    out += /^ .*\S.* $/s.test(code) ? code.slice(1, -1) : code;
    last = m.index + m[0].length;
  }
  return out + plainInline(body.slice(last));
}

/** A one-line preview of a response for ranking chips: markdown syntax dropped, the text of code spans and
 * code blocks kept character for character (`x*x` stays x*x). */
export function snippet(text: string, max = 80): string {
  const lines: string[] = [];
  let fence: string | null = null; // the opening fence while inside a fenced code block
  for (const line of text.split(/\r?\n/)) {
    const f = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== null) {
      if (f && f[0] === fence[0] && f.length >= fence.length && line.trim() === f) fence = null;
      else lines.push(line);
    } else if (f) {
      fence = f;
    } else {
      lines.push(plainLine(line));
    }
  }
  const plain = lines.join(" ").replace(/\s+/g, " ").trim();
  return plain.length > max ? `${plain.slice(0, max - 1)}\u2026` : plain;
}

export function makeDraggable(el: HTMLElement, rid: string): void {
  el.addEventListener("dragstart", (e) => {
    e.dataTransfer?.setData(MIME, rid);
    e.dataTransfer?.setData("text/plain", rid);
    if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
    el.classList.add("rw-dragging");
  });
  el.addEventListener("dragend", () => el.classList.remove("rw-dragging"));
}

function dropZone(el: HTMLElement, target: rk.DropTarget, onDrop: RankHandlers["drop"]): void {
  el.addEventListener("dragover", (e) => {
    e.preventDefault(); // accept the drop
    e.stopPropagation(); // the innermost zone wins (a group inside the list)
    if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
    el.classList.add("rw-dropover");
  });
  el.addEventListener("dragleave", () => el.classList.remove("rw-dropover"));
  el.addEventListener("drop", (e) => {
    e.preventDefault();
    e.stopPropagation();
    el.classList.remove("rw-dropover");
    const rid = e.dataTransfer?.getData(MIME) || e.dataTransfer?.getData("text/plain") || "";
    if (rid) onDrop(rid, target);
  });
}

/** Rebuild the panel for the current ranking (a few dozen nodes; cheap enough on every change). */
export function renderRankPanel(
  panel: HTMLElement,
  item: Item,
  rank: rk.RankState,
  selected: string | null,
  on: RankHandlers,
): void {
  const letterOf = new Map(item.display_order.map((rid, i) => [rid, positionLetter(i)]));
  const textOf = new Map(item.responses.map((r) => [r.response_id, r.text]));
  const chip = (rid: string): HTMLElement => {
    const el = h(
      "div",
      {
        class: `rw-chip${selected === rid ? " rw-selected" : ""}`,
        "data-response-id": rid,
        draggable: "true",
        "data-position": letterOf.get(rid) ?? "",
      },
      h("span", { class: "rw-badge" }, letterOf.get(rid) ?? "?"),
      h("span", { class: "rw-snippet" }, snippet(textOf.get(rid) ?? "")),
    );
    el.addEventListener("click", (e) => {
      e.stopPropagation();
      on.select(rid);
    });
    makeDraggable(el, rid);
    return el;
  };
  const gap = (i: number, label: string): HTMLElement => {
    const g = h("div", { class: "rw-gap", "data-gap": i }, label);
    dropZone(g, { kind: "gap", index: i }, on.drop);
    return g;
  };
  const list = h("div", { class: "rw-ranking", "aria-label": "Ranking, best first" });
  list.append(gap(0, rank.groups.length ? "" : "Drop here (or click cards in order) to rank"));
  rank.groups.forEach((g, i) => {
    const box = h(
      "div",
      { class: `rw-group${g.length > 1 ? " rw-tie" : ""}`, "data-group": i, "data-rank": i + 1 },
      h("span", { class: "rw-rank" }, `${i + 1}`),
      ...g.map(chip),
      g.length > 1 ? h("span", { class: "rw-muted rw-tie-label" }, "tie") : null,
    );
    dropZone(box, { kind: "group", index: i }, on.drop);
    list.append(box, gap(i + 1, ""));
  });
  dropZone(list, { kind: "gap", index: rank.groups.length }, on.drop); // anywhere else in the list: next rank
  const pool = h(
    "div",
    { class: "rw-pool", "aria-label": "Unranked" },
    h("span", { class: "rw-label" }, rank.pool.length ? "Unranked" : "All ranked"),
    ...rank.pool.map(chip),
  );
  dropZone(pool, { kind: "pool" }, on.drop);
  panel.replaceChildren(
    h("div", { class: "rw-label" }, "Ranking (best first) \u2014 drag onto a rank to tie, between ranks for a new one"),
    list,
    pool,
  );
}

/** Rank badges, `data-rank` and the selection mark on the response cards; a newly selected card is scrolled into
 * view. */
export function markCards(itemEl: HTMLElement, rank: rk.RankState, selected: string | null): void {
  itemEl.querySelectorAll<HTMLElement>(".rw-response").forEach((card) => {
    const rid = card.dataset.responseId ?? "";
    const g = rk.groupOf(rank, rid);
    const tied = (rank.groups[g]?.length ?? 0) > 1;
    const badge = card.querySelector(".rw-rankbadge");
    if (badge) badge.textContent = g < 0 ? "unranked" : `rank ${g + 1}${tied ? " (tie)" : ""}`;
    const wasSelected = card.classList.contains("rw-selected");
    card.classList.toggle("rw-selected", selected === rid);
    // a response selected by key or by its chip comes into view (sets scroll inside the item area)
    if (selected === rid && !wasSelected) card.scrollIntoView?.({ block: "nearest" });
    card.dataset.rank = g < 0 ? "" : String(g + 1);
  });
}
