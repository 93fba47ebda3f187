// The persistent frame around the item: header (item id, metadata, progress, timer, toggles), guideline
// banner and drawer, footer (Back/Skip/Submit, reason, status, error) and the help overlay.
import { type Action, DEFAULT_KEYMAP, type Keymap, shortcuts } from "../keymap";
import type { RenderCache } from "../shared/content";
import { h } from "../shared/dom";
import type { Guidelines, Item, Progress, Task } from "../types";
import { type HistoryEntry, historyText } from "./history";

export interface ShellHandlers {
  dispatch(a: Action): void;
  toggleHelp(open?: boolean): void;
  toggleDiff(): void;
  toggleHistory(open?: boolean): void;
}

export interface Shell {
  progress: HTMLElement;
  itemId: HTMLElement;
  meta: HTMLElement;
  timer: HTMLElement;
  diffBtn: HTMLButtonElement;
  guidelinesBtn: HTMLButtonElement;
  banner: HTMLElement;
  drawer: HTMLElement;
  main: HTMLElement;
  back: HTMLButtonElement;
  skip: HTMLButtonElement;
  submit: HTMLButtonElement;
  reason: HTMLElement;
  status: HTMLElement;
  saves: HTMLElement; // the session line: labels still saving / not saved, across items
  error: HTMLElement;
  help: HTMLElement;
  keys: HTMLElement; // the focus badge: does the widget have the keyboard, and how to give it back
  historyBtn: HTMLButtonElement;
  history: HTMLElement; // the session's history panel (its entries: renderHistoryPanel)
  undo: HTMLButtonElement;
}

function button(cls: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = h("button", { type: "button", class: `rw-btn ${cls}` }, label);
  b.addEventListener("click", onClick);
  return b;
}

export function buildShell(
  root: HTMLElement,
  task: Task,
  on: ShellHandlers,
  keys: HelpKeys = { ratings: false, scale: 5, keymap: DEFAULT_KEYMAP },
): Shell {
  const s: Shell = {
    progress: h("span", { class: "rw-progress", "aria-live": "polite" }),
    itemId: h("span", { class: "rw-itemid" }),
    meta: h("span", { class: "rw-meta" }),
    timer: h("span", { class: "rw-timer", title: "Active time on this item (pauses when idle)" }),
    diffBtn: button("rw-btn-diff", "Diff (d)", () => on.toggleDiff()),
    guidelinesBtn: button("rw-btn-guidelines", "Guidelines (g)", () => on.dispatch({ type: "guidelines" })),
    banner: h("div", { class: "rw-banner", role: "alert", hidden: true }),
    drawer: h("aside", { class: "rw-guidelines", hidden: true, "aria-label": "Guidelines" }),
    main: h("div", { class: "rw-main" }),
    back: button("rw-back", "\u2190 Back", () => on.dispatch({ type: "back" })),
    skip: button("rw-skip", "Skip (s)", () => on.dispatch({ type: "skip" })),
    submit: button("rw-primary rw-submit", "Submit \u23ce", () => on.dispatch({ type: "submit" })),
    reason: h("span", { class: "rw-reason" }),
    status: h("span", { class: "rw-status", role: "status", "aria-live": "polite" }),
    saves: h("span", { class: "rw-saves", "data-saving": "0", "data-rejected": "0" }),
    error: h("div", { class: "rw-error", role: "alert", hidden: true }),
    help: buildHelp(task, () => on.toggleHelp(false), keys),
    keys: h(
      "span",
      { class: "rw-keys-badge", "data-keys": "page" },
      "\u2328 Click here (or Tab to the widget) to label with the keyboard",
    ),
    historyBtn: button("rw-btn-history", `History (${keyLabel(keys.keymap, "history")})`, () => on.toggleHistory()),
    history: h("aside", { class: "rw-history", role: "dialog", "aria-label": "This session's labels", hidden: true }),
    undo: button("rw-undo", `\u21b6 Undo (${keyLabel(keys.keymap, "undo")})`, () => on.dispatch({ type: "undo" })),
  };
  s.historyBtn.setAttribute("aria-pressed", "false");
  s.diffBtn.setAttribute("aria-pressed", "false");
  const helpBtn = button("rw-btn-help", "? Shortcuts", () => on.toggleHelp());
  root.append(
    h(
      "header",
      { class: "rw-header" },
      h("div", { class: "rw-header-left" }, s.itemId, s.meta, s.keys),
      h("div", { class: "rw-header-right" }, s.progress, s.timer, s.diffBtn, s.guidelinesBtn, s.historyBtn, helpBtn),
    ),
    s.banner,
    s.drawer,
    s.history,
    s.main,
    h(
      "footer",
      { class: "rw-footer" },
      h("div", { class: "rw-footer-buttons" }, s.back, s.skip, s.submit, s.undo, s.reason),
      h("div", { class: "rw-footer-status" }, s.status, s.saves),
      s.error,
    ),
    s.help,
  );
  return s;
}

/** The first key of an action for a button's label ("z"), or "no key". */
function keyLabel(keymap: Keymap, action: string): string {
  return keymap[action]?.[0] ?? "no key";
}

export interface HelpKeys {
  ratings: boolean;
  scale: number;
  keymap: Keymap;
}

function buildHelp(task: Task, close: () => void, keys: HelpKeys): HTMLElement {
  const keysCell = (keys: string): HTMLElement => {
    const td = h("td", { class: "rw-keys" });
    keys.split(" or ").forEach((k, i) => {
      if (i) td.append(" or ");
      td.append(h("kbd", {}, k));
    });
    return td;
  };
  const rows = shortcuts(task, keys).map((s) => h("tr", {}, keysCell(s.keys), h("td", {}, s.does)));
  return h(
    "div",
    { class: "rw-help", role: "dialog", "aria-label": "Keyboard shortcuts", hidden: true },
    h(
      "div",
      { class: "rw-help-panel" },
      h("h3", {}, "Keyboard shortcuts"),
      h(
        "p",
        { class: "rw-muted" },
        "While the widget has the keyboard (outlined), no key reaches the notebook. Typing in a text box never " +
          "triggers a shortcut: Esc leaves the box, Ctrl/Cmd+Enter submits from it.",
      ),
      h("table", {}, h("tbody", {}, ...rows)),
      button("rw-help-close", "Close (Esc)", close),
    ),
  );
}

export function progressText(p: Progress, queueLength: number): string {
  const parts = [`${p.done} / ${p.total || queueLength} done`];
  if (p.skipped) parts.push(`${p.skipped} skipped`);
  if (p.store_total) parts.push(`all labelers: ${p.store_done} / ${p.store_total} items`);
  return parts.join(" \u00b7 ");
}

/** Small scalar metadata as "key: value" (untrusted: shown as text, values cut at 200 characters). */
export function metaText(item: Item): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(item.metadata)) {
    if (v === null || v === undefined || typeof v === "object") continue;
    parts.push(`${k}: ${String(v).slice(0, 200)}`);
    if (parts.length >= 6) break;
  }
  return parts.join(" \u00b7 ");
}

/** The guidelines drawer: the guidelines Python sent, rendered when opened after a change (they can be long). */
export function renderDrawer(drawer: HTMLElement, g: Guidelines, cache: RenderCache, close: () => void): void {
  const closeBtn = h("button", { type: "button", class: "rw-btn" }, "Close (g)");
  closeBtn.addEventListener("click", close);
  drawer.replaceChildren(
    h(
      "div",
      { class: "rw-drawer-head" },
      h("strong", {}, `Guidelines${g.version ? ` \u2014 version ${g.version}` : ""}`),
      closeBtn,
    ),
    h("div", { class: "rw-md" }, g.markdown ? cache.get(g.markdown) : "No guidelines were given."),
  );
}

/**
 * The banner asking to acknowledge changed guidelines of `version`. `changes` is that version's summary
 * (undefined: its payload has not arrived yet, so it cannot be acknowledged; null or "": no summary given).
 */
export function renderBanner(
  banner: HTMLElement,
  version: string | null,
  changes: string | null | undefined,
  cache: RenderCache,
  acknowledge: () => void,
): void {
  const known = typeof changes === "string";
  const ackBtn = h(
    "button",
    { type: "button", class: "rw-btn rw-primary rw-ack-guidelines", disabled: !known },
    "I have read the changes",
  );
  ackBtn.addEventListener("click", acknowledge);
  banner.replaceChildren(
    h("strong", {}, `The guidelines changed${version ? ` (now version ${version})` : ""}.`),
    !known
      ? h(
          "div",
          { class: "rw-muted rw-banner-loading" },
          "Loading the new guidelines\u2026 (Submit and Skip wait for them)",
        )
      : changes
        ? h("div", { class: "rw-md" }, cache.get(changes))
        : h("div", { class: "rw-muted" }, "No summary of the changes was given: read the guidelines (g)."),
    ackBtn,
  );
  banner.hidden = false;
}

/**
 * The history panel: this session's labels from Python (newest first); a row opens its item (`open` gets its
 * queue index). A refresh while the panel is open keeps the focus on the same row (else the first row, or Close).
 */
export function renderHistoryPanel(
  panel: HTMLElement,
  entries: HistoryEntry[],
  open: (index: number) => void,
  close: () => void,
): void {
  const active = document.activeElement;
  const focusFirst = !panel.contains(active);
  const focusedLabel = active instanceof HTMLElement && !focusFirst ? active.dataset.labelId : undefined;
  const list = h("ol", { class: "rw-history-list" });
  for (const e of entries) {
    const b = h(
      "button",
      {
        type: "button",
        class: "rw-btn rw-history-entry",
        "data-index": e.index,
        "data-item-id": e.itemId,
        "data-state": e.state,
        "data-revision": e.revision,
        "data-label-id": e.labelId,
      },
      historyText(e),
    );
    b.addEventListener("click", () => open(e.index));
    list.append(h("li", {}, b));
  }
  const closeBtn = h("button", { type: "button", class: "rw-btn rw-history-close" }, "Close (Esc)");
  closeBtn.addEventListener("click", close);
  panel.replaceChildren(
    h("strong", {}, "This session's labels (newest first)"),
    entries.length ? list : h("div", { class: "rw-muted" }, "No labels yet in this session."),
    closeBtn,
  );
  const again = focusedLabel
    ? Array.from(list.querySelectorAll<HTMLButtonElement>(".rw-history-entry")).find(
        (b) => b.dataset.labelId === focusedLabel,
      )
    : undefined;
  if (again) again.focus();
  else if (focusFirst || !panel.contains(document.activeElement))
    (list.querySelector<HTMLButtonElement>(".rw-history-entry") ?? closeBtn).focus();
}
