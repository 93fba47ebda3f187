// Response cards: the card for one response (badge, size, rendered body, "Show all" for long texts) and the
// word-diff bodies of a pair. DOM only; the App wires ratings and ranking onto the card.
import { type RenderCache, renderDiff } from "../shared/content";
import { h, positionLetter } from "../shared/dom";
import type { Config, Item } from "../types";

const isLong = (text: string, config: Config): boolean =>
  config.collapse_chars > 0 && text.length > config.collapse_chars;

/** What a response that shows nothing (a model that really answered "", or only whitespace) displays instead of a
 * blank card: an explicit, styled note, so "empty" reads as the model's answer and not a rendering failure. */
const emptyPlaceholder = (text: string): HTMLElement =>
  h(
    "p",
    { class: "rw-empty-response", "data-empty": text ? "blank" : "empty" },
    text ? "blank response (only whitespace)" : "empty response",
  );

/** The card of response `rid` at display position `i`; `expanded` (shared with the item state) remembers
 * which long responses are shown in full. */
export function buildCard(
  rid: string,
  text: string,
  i: number,
  config: Config,
  cache: RenderCache,
  expanded: Set<string>,
): HTMLElement {
  const letter = positionLetter(i);
  const body = h("div", { class: "rw-body rw-md" }, text.trim() ? cache.get(text) : emptyPlaceholder(text));
  const card = h(
    "article",
    {
      class: "rw-response",
      "data-response-id": rid,
      "data-position": letter,
      "aria-label": `Response ${letter}`,
      draggable: config.task === "ranking" ? "true" : null,
    },
    h(
      "div",
      { class: "rw-card-head" },
      h("span", { class: "rw-badge" }, letter),
      h("span", { class: "rw-rankbadge" }),
      h("span", { class: "rw-muted rw-chars" }, `${text.length.toLocaleString()} chars`),
    ),
    body,
  );
  if (isLong(text, config)) {
    const label = (open: boolean): string => (open ? "Show less" : `Show all (${text.length.toLocaleString()} chars)`);
    const shown = expanded.has(rid);
    body.classList.toggle("rw-collapsed", !shown);
    const btn = h(
      "button",
      { type: "button", class: "rw-btn rw-expand", "aria-expanded": String(shown) },
      label(shown),
    );
    btn.addEventListener("click", (e) => {
      e.stopPropagation();
      const open = !expanded.has(rid);
      if (open) expanded.add(rid);
      else expanded.delete(rid);
      card.querySelector(".rw-body")?.classList.toggle("rw-collapsed", !open);
      card.querySelector(".rw-diffbody")?.classList.toggle("rw-collapsed", !open);
      btn.setAttribute("aria-expanded", String(open));
      btn.textContent = label(open);
    });
    card.append(btn);
  }
  return card;
}

/** Add (or remove) the word-diff bodies under a pair's cards; a long response's diff collapses with it. */
export function renderDiffBodies(
  itemEl: HTMLElement,
  item: Item,
  diffOn: boolean,
  config: Config,
  expanded: Set<string>,
): void {
  const cards = Array.from(itemEl.querySelectorAll<HTMLElement>(".rw-response"));
  for (const c of cards) c.querySelector(".rw-diffbody")?.remove();
  itemEl.classList.toggle("rw-diff-on", diffOn);
  if (!diffOn) return;
  const text = (rid: string): string => item.responses.find((r) => r.response_id === rid)?.text ?? "";
  const [a, b] = item.display_order as [string, string];
  const bodies = renderDiff(text(a), text(b));
  cards.forEach((c, i) => {
    const body = bodies[i];
    const rid = c.dataset.responseId ?? "";
    if (!body) return;
    body.classList.toggle("rw-collapsed", isLong(text(rid), config) && !expanded.has(rid));
    c.querySelector(".rw-body")?.after(body);
  });
}
