// The RankWidget view: state per item (drafts), the model wiring (traits + custom messages), and the DOM.
import { isRecord, parseConfig, parseGuidelines, parseProgress, parseWindow } from "../coerce";
import { keyAction, shortcuts, type Action } from "../keymap";
import { buildLabel, newClientId, submitMessage, type Draft } from "../label";
import { CHOICE_LABELS, CHOICES, choiceToVerdict, stepChoice, verdictToChoice, type Choice } from "../pairwise";
import * as rk from "../ranking";
import { RULE_TEXT, rationaleNeeded, skipBlocker, submitBlocker, type SubmitCheck } from "../rules";
import { ActiveTimer, formatDuration } from "../timer";
import type { Config, Guidelines, Item, Progress, SubmitMessage, WidgetModel } from "../types";
import { RenderCache, renderDiff, renderPrompt } from "./content";
import { h, isTextEntry, positionLetter } from "./dom";

interface ItemState {
  draft: Draft;
  timer: ActiveTimer;
  selected: string | null; // ranking: the selected response id
  expanded: Set<string>; // response ids shown in full
}

type StatusState = "saving" | "saved" | "rejected";

interface Pending {
  clientId: string;
  itemId: string;
  index: number;
}

const CACHE_ITEMS = 64;
const SYNC_DELAY_MS = 500;

/** A one-line preview of a response for ranking chips: markdown punctuation and code fences dropped. */
export function snippet(text: string, max = 80): string {
  const plain = text
    .replace(/```[^\n]*\n?/g, " ")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^\s{0,3}(?:#{1,6}|>)\s*/gm, "")
    .replace(/[*`~]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return plain.length > max ? `${plain.slice(0, max - 1)}\u2026` : plain;
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

export class App {
  readonly root: HTMLElement;
  private config: Config;
  private guidelines: Guidelines;
  private progress: Progress;
  private queueLength: number;
  private acked = new Set<string>(); // guideline versions acknowledged (mirrors Python's set)
  private changesOf = new Map<string, string | null>(); // version -> its `changes` (null: first version)

  private items = new Map<number, Item>(); // by queue index; includes items that left the window
  private states = new Map<string, ItemState>(); // by item_id
  private shown = 0; // queue index on screen (queueLength = "all done")
  private shownItem: Item | null = null;
  private pending = new Map<string, Pending>();
  private lastClientId: string | null = null;
  private awaitingNav: number | null = null;
  private showDiff: boolean;
  private helpOpen = false;
  private guidelinesOpen = false;
  private cache: RenderCache;
  private cleanups: (() => void)[] = [];
  private idleHandle: number | null = null;
  private warmQueue: string[] = [];
  private timerHandle: ReturnType<typeof setInterval> | null = null;
  private syncHandle: ReturnType<typeof setTimeout> | null = null;

  // Persistent parts of the shell.
  private header!: HTMLElement;
  private progressEl!: HTMLElement;
  private itemIdEl!: HTMLElement;
  private metaEl!: HTMLElement;
  private timerEl!: HTMLElement;
  private diffBtn!: HTMLButtonElement;
  private guidelinesBtn!: HTMLButtonElement;
  private banner!: HTMLElement;
  private drawer!: HTMLElement;
  private main!: HTMLElement;
  private backBtn!: HTMLButtonElement;
  private skipBtn!: HTMLButtonElement;
  private submitBtn!: HTMLButtonElement;
  private reasonEl!: HTMLElement;
  private statusEl!: HTMLElement;
  private errorEl!: HTMLElement;
  private help!: HTMLElement;

  // Per-item controls (rebuilt with the item).
  private itemEl: HTMLElement | null = null;
  private rationaleEl: HTMLTextAreaElement | null = null;
  private counterEl: HTMLElement | null = null;
  private flagNoteEl: HTMLInputElement | null = null;
  private rankPanel: HTMLElement | null = null;

  constructor(
    private readonly model: WidgetModel,
    private readonly host: HTMLElement,
  ) {
    this.config = parseConfig(model.get("config"));
    this.guidelines = parseGuidelines(model.get("guidelines"));
    this.progress = parseProgress(model.get("progress"));
    this.queueLength = this.readQueueLength();
    const ack = model.get("guideline_ack");
    if (typeof ack === "string") this.acked.add(ack);
    this.noteGuidelines();
    this.showDiff = this.config.show_diff;
    this.cache = new RenderCache(() => this.config.allow_remote_images, CACHE_ITEMS);
    this.root = h("div", { class: "rw-root", tabindex: 0, "data-lm-suppress-shortcuts": "true" });
    this.buildShell();
    host.append(this.root);
    this.absorbWindow(model.get("window"));
    this.wire();
    const pos = model.get("position");
    this.show(typeof pos === "number" ? pos : 0);
    this.renderHeader();
    this.renderGuidelines();
    this.timerHandle = setInterval(() => this.tick(), 1000);
    if (!isTextEntry(document.activeElement)) this.focusRoot();
  }

  // ---------------------------------------------------------------------------------------------------
  // Model wiring

  private on(event: string, cb: (...args: never[]) => void): void {
    this.model.on(event, cb);
    this.cleanups.push(() => this.model.off(event, cb));
  }

  private listen<K extends keyof DocumentEventMap>(
    target: Document | Window | HTMLElement,
    type: K | string,
    cb: (e: Event) => void,
    opts?: AddEventListenerOptions,
  ): void {
    target.addEventListener(type, cb, opts);
    this.cleanups.push(() => target.removeEventListener(type, cb, opts));
  }

  private wire(): void {
    this.on("change:window", () => this.onWindow());
    this.on("change:position", () => this.onPosition());
    this.on("change:progress", () => {
      this.progress = parseProgress(this.model.get("progress"));
      this.renderHeader();
    });
    this.on("change:queue_length", () => {
      this.queueLength = this.readQueueLength();
      this.renderHeader();
    });
    this.on("change:guidelines", () => {
      this.guidelines = parseGuidelines(this.model.get("guidelines"));
      this.noteGuidelines();
      this.renderGuidelines();
      this.updateControls();
    });
    this.on("change:guideline_ack", () => {
      const v = this.model.get("guideline_ack");
      if (typeof v === "string") this.acked.add(v);
      this.renderGuidelines();
      this.updateControls();
    });
    this.on("change:config", () => {
      this.config = parseConfig(this.model.get("config"));
      this.cache.clear();
      this.show(this.shown, true);
    });
    this.on("msg:custom", ((msg: unknown) => this.onMessage(msg)) as (...args: never[]) => void);

    this.listen(this.root, "keydown", (e) => this.onKeyDown(e as KeyboardEvent));
    this.listen(this.root, "click", (e) => this.onRootClick(e as MouseEvent));
    // Activity anywhere on the page counts (reading = scrolling the notebook); scroll does not bubble.
    const activity = (): void => this.activity();
    for (const t of ["keydown", "mousedown", "mousemove", "wheel", "touchstart", "pointerdown"]) {
      this.listen(document, t, activity, { passive: true, capture: true });
    }
    this.listen(document, "scroll", activity, { passive: true, capture: true });
    this.listen(document, "visibilitychange", () => this.pageActivity());
    this.listen(window, "focus", () => this.pageActivity());
    this.listen(window, "blur", () => this.pageActivity());
  }

  private readQueueLength(): number {
    const q = this.model.get("queue_length");
    return typeof q === "number" ? q : 0;
  }

  destroy(): void {
    for (const c of this.cleanups.splice(0)) c();
    if (this.timerHandle !== null) clearInterval(this.timerHandle);
    if (this.syncHandle !== null) clearTimeout(this.syncHandle);
    this.cancelIdle();
    this.root.remove();
  }

  private absorbWindow(raw: unknown): void {
    for (const item of parseWindow(raw)) this.items.set(item.index, item);
    // Bounded: keep the items nearest to the one shown (reject/back may need them after they leave the window).
    if (this.items.size > CACHE_ITEMS) {
      const far = [...this.items.keys()].sort((a, b) => Math.abs(b - this.shown) - Math.abs(a - this.shown));
      for (const k of far.slice(0, this.items.size - CACHE_ITEMS)) this.items.delete(k);
    }
    this.scheduleWarm();
  }

  private onWindow(): void {
    this.absorbWindow(this.model.get("window"));
    // Only a loading placeholder is replaced; an item on screen is never re-rendered by a window refresh.
    if (this.shownItem === null && this.shown < this.queueLength && this.items.has(this.shown)) {
      this.show(this.shown);
    }
  }

  private onPosition(): void {
    const p = this.model.get("position");
    if (typeof p !== "number") return;
    if (this.awaitingNav !== null) {
      if (p === this.awaitingNav) this.awaitingNav = null;
      return;
    }
    if (p === this.shown) return;
    // Python catching up with submits we already moved past: not a navigation.
    const lo = Math.min(p, this.shown);
    const hi = Math.max(p, this.shown);
    for (const pend of this.pending.values()) if (pend.index >= lo && pend.index < hi) return;
    if (this.shown >= this.queueLength && p === this.queueLength - 1 && this.pending.size === 0) return;
    // window and position arrive in one update, but their change events may fire in either order.
    if (!this.items.has(p)) this.absorbWindow(this.model.get("window"));
    this.show(p);
  }

  private onMessage(msg: unknown): void {
    if (!isRecord(msg) || typeof msg.client_id !== "string") return;
    const pend = this.pending.get(msg.client_id);
    if (msg.type === "ack") {
      this.pending.delete(msg.client_id);
      if (msg.client_id === this.lastClientId) {
        this.setStatus("saved", String(msg.item_id ?? pend?.itemId ?? ""), "Saved \u2713");
      }
      this.scheduleSync();
    } else if (msg.type === "reject") {
      this.pending.delete(msg.client_id);
      const itemId = typeof msg.item_id === "string" ? msg.item_id : (pend?.itemId ?? "");
      const text = typeof msg.message === "string" ? msg.message : "The label was rejected.";
      const field = typeof msg.field === "string" && msg.field ? ` (${msg.field})` : "";
      this.setStatus("rejected", itemId, `Not saved: item ${itemId}`);
      if (pend) {
        this.show(pend.index);
        this.navigateModel(pend.index);
      }
      this.showError(`${text}${field}`);
    }
  }

  /** After the last ack: if Python's position still lags behind what is shown (it advances only when its
   * position was the submitted item), tell it where we are so its prefetch window follows. Deferred: the
   * position update that follows an ack arrives as a separate message. */
  private scheduleSync(): void {
    if (this.syncHandle !== null) clearTimeout(this.syncHandle);
    this.syncHandle = setTimeout(() => {
      this.syncHandle = null;
      this.syncPosition();
    }, SYNC_DELAY_MS);
  }

  private syncPosition(): void {
    if (this.pending.size > 0 || this.awaitingNav !== null) return;
    const p = this.model.get("position");
    if (this.shown < this.queueLength && typeof p === "number" && p !== this.shown) this.navigateModel(this.shown);
  }

  private navigateModel(to: number): void {
    const p = this.model.get("position");
    if (p === to && this.pending.size === 0) return;
    this.awaitingNav = to;
    this.model.send({ type: "navigate", to });
  }

  // ---------------------------------------------------------------------------------------------------
  // Item state

  private stateFor(item: Item): ItemState {
    let st = this.states.get(item.item_id);
    if (st) return st;
    const draft: Draft = {
      choice: null,
      rank: rk.initialRank(item.display_order),
      ratings: {},
      rationale: "",
      flags: [],
      flagNote: "",
      startedAt: new Date().toISOString(),
    };
    const prior = item.label;
    if (prior) {
      if (prior.status !== "skipped") {
        draft.choice = verdictToChoice(prior.winner, prior.strength, item.display_order);
        if (prior.ranking) draft.rank = rk.rankFromGroups(prior.ranking, item.display_order);
      }
      draft.ratings = structuredClone(prior.ratings ?? {});
      draft.rationale = prior.rationale ?? "";
      draft.flags = (prior.flags ?? []).filter((f) => this.config.flags.some((x) => x.id === f));
      draft.flagNote = prior.flag_note ?? "";
    }
    st = { draft, timer: new ActiveTimer(), selected: null, expanded: new Set() };
    this.states.set(item.item_id, st);
    return st;
  }

  private get current(): ItemState | null {
    return this.shownItem ? (this.states.get(this.shownItem.item_id) ?? null) : null;
  }

  private pageIsActive(): boolean {
    if (typeof document === "undefined" || document.hidden) return false;
    return typeof document.hasFocus === "function" ? document.hasFocus() : true;
  }

  private activity(): void {
    const st = this.current;
    if (!st) return;
    const t = now();
    // Input means the page is visible and focused, whatever hasFocus() claimed before.
    if (!st.timer.isActive && !document.hidden) st.timer.setActive(true, t);
    else st.timer.input(t);
  }

  private pageActivity(): void {
    const st = this.current;
    if (st) st.timer.setActive(this.pageIsActive(), now());
  }

  private tick(): void {
    const st = this.current;
    this.timerEl.textContent = st ? formatDuration(st.timer.elapsed(now())) : "";
  }

  private guidelineVersion(item: Item): string | null {
    return item.guideline_version ?? this.guidelines.version;
  }

  private noteGuidelines(): void {
    const g = this.guidelines;
    if (g.version !== null) this.changesOf.set(g.version, g.changes);
  }

  /**
   * Must the labeler acknowledge the guidelines before submitting this item? Yes for a version that came with
   * `changes` (Python: any version after the first) until acknowledged. An item shown ahead of Python's
   * position may carry a version whose payload has not arrived yet: a different version than the current
   * one is a change, so it is blocked until the changes arrive and are acknowledged.
   */
  private needsAck(item: Item | null): boolean {
    if (!item) return false;
    const v = this.guidelineVersion(item);
    if (v === null || this.acked.has(v)) return false;
    const changes = this.changesOf.get(v);
    if (changes !== undefined) return changes !== null;
    return v !== this.guidelines.version;
  }

  private check(item: Item, st: ItemState): SubmitCheck {
    const d = st.draft;
    const pairwise = this.config.task === "pairwise";
    const verdict = pairwise && d.choice !== null ? choiceToVerdict(d.choice, item.display_order) : null;
    const unranked = d.rank.pool.length;
    let missing = 0;
    if (this.config.ratings_required) {
      for (const rid of item.display_order) {
        for (const c of this.config.criteria) if (typeof d.ratings[rid]?.[c] !== "number") missing++;
      }
    }
    return {
      decided: pairwise ? d.choice !== null : rk.isComplete(d.rank),
      decisionHint: pairwise
        ? "Pick a preference (keys 1\u20135)"
        : `Rank every response (${unranked} unranked: click cards in order, or drag them)`,
      rule: {
        rule: this.config.rationale,
        rationale: d.rationale,
        isTie: pairwise ? d.choice === "tie" : rk.hasTie(d.rank),
        strength: verdict ? verdict.strength : null,
        flags: d.flags,
      },
      maxRationaleChars: this.config.max_rationale_chars,
      flagNote: d.flagNote,
      needsGuidelineAck: this.needsAck(item),
      missingRatings: missing,
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Actions

  private submit(status: "submitted" | "skipped"): void {
    const item = this.shownItem;
    const st = this.current;
    if (!item || !st) return;
    const c = this.check(item, st);
    const blocker = status === "submitted" ? submitBlocker(c) : skipBlocker(c);
    if (blocker) {
      this.showError(blocker);
      return;
    }
    const t = now();
    const label = buildLabel(item, st.draft, this.config, {
      status,
      guidelineVersion: this.guidelineVersion(item),
      activeMs: st.timer.elapsed(t),
    });
    const msg: SubmitMessage = submitMessage(item, label, newClientId());
    this.pending.set(msg.client_id, { clientId: msg.client_id, itemId: item.item_id, index: item.index });
    this.lastClientId = msg.client_id;
    this.model.send(msg);
    this.setStatus("saving", item.item_id, `Saving item ${item.item_id}\u2026`);
    this.clearError();
    // Show the next item at once from the prefetch window; Python advances its position on the ack.
    this.show(item.index + 1);
  }

  private goto(index: number): void {
    if (index < 0 || index >= this.queueLength || index === this.shown) return;
    this.show(index);
    this.navigateModel(index);
  }

  private dispatch(a: Action): void {
    const item = this.shownItem;
    const st = this.current;
    switch (a.type) {
      case "help":
        this.toggleHelp();
        return;
      case "escape":
        if (this.helpOpen) this.toggleHelp(false);
        else if (this.guidelinesOpen) this.toggleGuidelines(false);
        return;
      case "guidelines":
        this.toggleGuidelines();
        return;
      case "back":
        this.goto(Math.min(this.shown, this.queueLength) - 1);
        return;
      case "forward":
        this.goto(this.shown + 1);
        return;
    }
    if (!item || !st) return;
    const d = st.draft;
    switch (a.type) {
      case "submit":
        this.submit("submitted");
        return;
      case "skip":
        this.submit("skipped");
        return;
      case "choice":
        d.choice = a.choice;
        break;
      case "step":
        d.choice = stepChoice(d.choice, a.delta);
        break;
      case "focusRationale":
        this.rationaleEl?.focus();
        return;
      case "focusFlags":
        this.root.querySelector<HTMLElement>(".rw-flag")?.focus();
        return;
      case "diff":
        this.toggleDiff();
        return;
      case "select": {
        const rid = item.display_order[a.position];
        if (rid !== undefined) st.selected = rid;
        break;
      }
      case "selectStep": {
        const order = item.display_order;
        const i = st.selected === null ? (a.delta > 0 ? -1 : order.length) : order.indexOf(st.selected);
        const next = order[Math.min(order.length - 1, Math.max(0, i + a.delta))];
        if (next !== undefined) st.selected = next;
        break;
      }
      default: {
        // Ranking operations act on the selected card.
        const sel = st.selected;
        if (sel === null) {
          this.showError("Select a response first (its letter, or the arrow keys)");
          return;
        }
        if (a.type === "rankAt") d.rank = rk.placeAt(d.rank, sel, a.rank);
        else if (a.type === "move") d.rank = rk.move(d.rank, sel, a.delta);
        else if (a.type === "tie") d.rank = rk.tieWithAbove(d.rank, sel);
        else if (a.type === "untie") d.rank = rk.untie(d.rank, sel);
        else if (a.type === "unrank") d.rank = rk.unrank(d.rank, sel);
      }
    }
    this.clearError();
    this.updateControls();
  }

  private onKeyDown(e: KeyboardEvent): void {
    // Keep JupyterLab's notebook shortcuts (1 = heading, d d = delete cell, ...) away from the widget.
    if (!e.ctrlKey && !e.metaKey) e.stopPropagation();
    if (isTextEntry(e.target)) {
      if (e.key === "Escape") {
        e.preventDefault();
        this.focusRoot();
      }
      return; // text boxes swallow every shortcut
    }
    const target = e.target as HTMLElement | null;
    if ((e.key === "Enter" || e.key === " ") && target instanceof HTMLButtonElement) return; // native press
    if (e.key === " ") return;
    const n = this.shownItem?.display_order.length ?? 0;
    const action = keyAction(e, this.config.task, n);
    if (!action) return;
    e.preventDefault();
    this.dispatch(action);
  }

  private onRootClick(e: MouseEvent): void {
    // After a mouse click on a control, give focus back to the root so shortcuts keep working.
    if (e.detail === 0 || isTextEntry(e.target)) return;
    const t = e.target as HTMLElement | null;
    if (t?.closest("a")) return;
    const sel = typeof window.getSelection === "function" ? window.getSelection() : null;
    if (sel && !sel.isCollapsed) return;
    this.focusRoot();
  }

  private focusRoot(): void {
    try {
      this.root.focus({ preventScroll: true });
    } catch {
      this.root.focus();
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Rendering: shell

  private buildShell(): void {
    this.progressEl = h("span", { class: "rw-progress", "aria-live": "polite" });
    this.itemIdEl = h("span", { class: "rw-itemid" });
    this.metaEl = h("span", { class: "rw-meta" });
    this.timerEl = h("span", { class: "rw-timer", title: "Active time on this item (pauses when idle)" });
    this.diffBtn = h("button", { type: "button", class: "rw-btn rw-btn-diff", "aria-pressed": "false" }, "Diff (d)");
    this.guidelinesBtn = h("button", { type: "button", class: "rw-btn rw-btn-guidelines" }, "Guidelines (g)");
    const helpBtn = h("button", { type: "button", class: "rw-btn rw-btn-help" }, "? Shortcuts");
    this.diffBtn.addEventListener("click", () => this.toggleDiff());
    this.guidelinesBtn.addEventListener("click", () => this.toggleGuidelines());
    helpBtn.addEventListener("click", () => this.toggleHelp());
    this.header = h(
      "header",
      { class: "rw-header" },
      h("div", { class: "rw-header-left" }, this.itemIdEl, this.metaEl),
      h("div", { class: "rw-header-right" }, this.progressEl, this.timerEl, this.diffBtn, this.guidelinesBtn, helpBtn),
    );
    this.banner = h("div", { class: "rw-banner", role: "alert", hidden: true });
    this.drawer = h("aside", { class: "rw-guidelines", hidden: true, "aria-label": "Guidelines" });
    this.main = h("div", { class: "rw-main" });
    this.backBtn = h("button", { type: "button", class: "rw-btn rw-back" }, "\u2190 Back");
    this.skipBtn = h("button", { type: "button", class: "rw-btn rw-skip" }, "Skip (s)");
    this.submitBtn = h("button", { type: "button", class: "rw-btn rw-primary rw-submit" }, "Submit \u23ce");
    this.backBtn.addEventListener("click", () => this.dispatch({ type: "back" }));
    this.skipBtn.addEventListener("click", () => this.dispatch({ type: "skip" }));
    this.submitBtn.addEventListener("click", () => this.dispatch({ type: "submit" }));
    this.reasonEl = h("span", { class: "rw-reason" });
    this.statusEl = h("span", { class: "rw-status", role: "status", "aria-live": "polite" });
    this.errorEl = h("div", { class: "rw-error", role: "alert", hidden: true });
    const footer = h(
      "footer",
      { class: "rw-footer" },
      h("div", { class: "rw-footer-buttons" }, this.backBtn, this.skipBtn, this.submitBtn, this.reasonEl),
      h("div", { class: "rw-footer-status" }, this.statusEl),
      this.errorEl,
    );
    this.help = this.buildHelp();
    this.root.append(this.header, this.banner, this.drawer, this.main, footer, this.help);
  }

  private buildHelp(): HTMLElement {
    const keysCell = (keys: string): HTMLElement => {
      const td = h("td", { class: "rw-keys" });
      keys.split(" or ").forEach((k, i) => {
        if (i) td.append(" or ");
        td.append(h("kbd", {}, k));
      });
      return td;
    };
    const rows = shortcuts(this.config.task).map((s) => h("tr", {}, keysCell(s.keys), h("td", {}, s.does)));
    const close = h("button", { type: "button", class: "rw-btn rw-help-close" }, "Close (Esc)");
    close.addEventListener("click", () => this.toggleHelp(false));
    return h(
      "div",
      { class: "rw-help", role: "dialog", "aria-label": "Keyboard shortcuts", hidden: true },
      h(
        "div",
        { class: "rw-help-panel" },
        h("h3", {}, "Keyboard shortcuts"),
        h("p", { class: "rw-muted" }, "Typing in a text box never triggers a shortcut; Esc leaves the box."),
        h("table", {}, h("tbody", {}, ...rows)),
        close,
      ),
    );
  }

  private toggleHelp(open = !this.helpOpen): void {
    this.helpOpen = open;
    this.help.hidden = !open;
    this.root.classList.toggle("rw-help-open", open);
  }

  private toggleGuidelines(open = !this.guidelinesOpen): void {
    this.guidelinesOpen = open;
    this.drawer.hidden = !open;
    this.guidelinesBtn.setAttribute("aria-pressed", String(open));
  }

  private toggleDiff(): void {
    const item = this.shownItem;
    if (!item || item.responses.length !== 2) return;
    this.showDiff = !this.showDiff;
    this.renderBodies();
  }

  private renderHeader(): void {
    const p = this.progress;
    const parts = [`${p.done} / ${p.total || this.queueLength} done`];
    if (p.skipped) parts.push(`${p.skipped} skipped`);
    if (p.store_total) parts.push(`all labelers: ${p.store_done} / ${p.store_total}`);
    this.progressEl.textContent = parts.join(" \u00b7 ");
    const item = this.shownItem;
    this.itemIdEl.textContent = item
      ? `Item ${item.index + 1} of ${this.queueLength} \u00b7 ${item.item_id}`
      : this.shown >= this.queueLength
        ? "All items done"
        : `Item ${this.shown + 1} of ${this.queueLength}`;
    this.metaEl.textContent = item ? this.metaText(item) : "";
    this.diffBtn.hidden = !(item && item.responses.length === 2);
    this.diffBtn.setAttribute("aria-pressed", String(this.showDiff));
    this.tick();
  }

  private metaText(item: Item): string {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(item.metadata)) {
      if (v === null || v === undefined || typeof v === "object") continue;
      parts.push(`${k}: ${String(v).slice(0, 200)}`);
      if (parts.length >= 6) break;
    }
    return parts.join(" \u00b7 ");
  }

  private renderGuidelines(): void {
    const g = this.guidelines;
    const item = this.shownItem;
    const version = item ? this.guidelineVersion(item) : g.version;
    const opts = { allowRemoteImages: this.config.allow_remote_images };
    this.guidelinesBtn.hidden = !g.markdown && !g.changes;
    this.guidelinesBtn.textContent = version ? `Guidelines ${version} (g)` : "Guidelines (g)";
    const close = h("button", { type: "button", class: "rw-btn" }, "Close (g)");
    close.addEventListener("click", () => this.toggleGuidelines(false));
    this.drawer.replaceChildren(
      h("div", { class: "rw-drawer-head" }, h("strong", {}, `Guidelines${g.version ? ` \u2014 version ${g.version}` : ""}`), close),
      h("div", { class: "rw-md" }, g.markdown ? this.cache.get(g.markdown) : "No guidelines were given."),
    );
    if (this.needsAck(item)) {
      const known = version !== null && version === g.version;
      const ackBtn = h("button", { type: "button", class: "rw-btn rw-primary rw-ack-guidelines", disabled: !known },
        "I have read the changes");
      ackBtn.addEventListener("click", () => this.ackGuidelines());
      this.banner.replaceChildren(
        h("strong", {}, `The guidelines changed${version ? ` (now version ${version})` : ""}.`),
        known
          ? h("div", { class: "rw-md" }, this.cache.get(g.changes ?? ""))
          : h("div", { class: "rw-muted" }, "Loading the changes\u2026"),
        ackBtn,
      );
      this.banner.hidden = false;
    } else {
      this.banner.hidden = true;
      this.banner.replaceChildren();
    }
  }

  private ackGuidelines(): void {
    const item = this.shownItem;
    const version = item ? this.guidelineVersion(item) : this.guidelines.version;
    if (version === null) return;
    this.acked.add(version);
    this.model.send({ type: "ack_guidelines", version });
    this.renderGuidelines();
    this.updateControls();
    this.focusRoot();
  }

  private setStatus(state: StatusState, itemId: string, text: string): void {
    this.statusEl.dataset.state = state;
    this.statusEl.dataset.itemId = itemId;
    this.statusEl.textContent = text;
  }

  private showError(text: string): void {
    this.errorEl.textContent = text;
    this.errorEl.hidden = false;
  }

  private clearError(): void {
    this.errorEl.textContent = "";
    this.errorEl.hidden = true;
  }

  // ---------------------------------------------------------------------------------------------------
  // Rendering: item

  /** Show the item at queue index `index` (a loading state when it is not in the window yet). */
  show(index: number, force = false): void {
    const prevState = this.current;
    const t = now();
    if (!force && this.shownItem && this.shownItem.index === index && this.shown === index) return;
    prevState?.timer.setActive(false, t);
    const hadFocus = this.root.contains(document.activeElement) || document.activeElement === document.body;
    this.shown = Math.max(0, index);
    const item = this.items.get(this.shown) ?? null;
    this.shownItem = item;
    this.itemEl = null;
    this.rationaleEl = null;
    this.counterEl = null;
    this.flagNoteEl = null;
    this.rankPanel = null;
    if (this.shown >= this.queueLength && this.queueLength > 0) {
      this.main.replaceChildren(
        h("div", { class: "rw-done" }, h("strong", {}, "All items in this queue are done."), " Press Back (\u2190) to review or change a label."),
      );
    } else if (!item) {
      this.main.replaceChildren(h("div", { class: "rw-loading", "data-index": this.shown }, "Loading item\u2026"));
    } else {
      const st = this.stateFor(item);
      st.timer.setActive(this.pageIsActive(), t);
      this.main.replaceChildren(this.buildItem(item, st));
    }
    this.renderHeader();
    this.renderGuidelines();
    this.updateControls();
    if (hadFocus && !this.root.contains(document.activeElement)) this.focusRoot();
    this.scheduleWarm();
  }

  private buildItem(item: Item, st: ItemState): HTMLElement {
    const pairwise = this.config.task === "pairwise";
    const n = item.responses.length;
    const cards = h("div", { class: `rw-responses ${n === 2 ? "rw-pair" : "rw-grid"}` });
    const byId = new Map(item.responses.map((r) => [r.response_id, r]));
    item.display_order.forEach((rid, i) => {
      const resp = byId.get(rid);
      if (resp) cards.append(this.buildCard(item, st, rid, resp.text, i));
    });
    const controls = h("div", { class: "rw-controls" });
    if (pairwise) controls.append(this.buildChoices(st));
    else controls.append((this.rankPanel = h("div", { class: "rw-rankpanel" })));
    const extras = h("div", { class: "rw-extras" });
    if (this.config.flags.length) extras.append(this.buildFlags(st));
    if (this.config.rationale !== "off") extras.append(this.buildRationale(st));
    controls.append(extras);
    this.itemEl = h(
      "div",
      { class: `rw-item rw-task-${pairwise ? "pairwise" : "ranking"}`, "data-item-id": item.item_id, "data-index": item.index },
      renderPrompt(item.prompt, this.cache),
      cards,
      controls,
    );
    if (this.showDiff && n === 2) this.renderBodies();
    return this.itemEl;
  }

  private buildCard(item: Item, st: ItemState, rid: string, text: string, i: number): HTMLElement {
    const letter = positionLetter(i);
    const collapsible = this.config.collapse_chars > 0 && text.length > this.config.collapse_chars;
    const body = h("div", { class: "rw-body rw-md" }, this.cache.get(text));
    const card = h(
      "article",
      {
        class: "rw-response",
        "data-response-id": rid,
        "data-position": letter,
        "aria-label": `Response ${letter}`,
        draggable: this.config.task === "ranking" ? "true" : null,
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
    if (collapsible) {
      const expanded = st.expanded.has(rid);
      body.classList.toggle("rw-collapsed", !expanded);
      const btn = h("button", { type: "button", class: "rw-btn rw-expand", "aria-expanded": String(expanded) },
        expanded ? "Show less" : `Show all (${text.length.toLocaleString()} chars)`);
      btn.addEventListener("click", (e) => {
        e.stopPropagation();
        const open = !st.expanded.has(rid);
        if (open) st.expanded.add(rid);
        else st.expanded.delete(rid);
        card.querySelector(".rw-body")?.classList.toggle("rw-collapsed", !open);
        card.querySelector(".rw-diffbody")?.classList.toggle("rw-collapsed", !open);
        btn.setAttribute("aria-expanded", String(open));
        btn.textContent = open ? "Show less" : `Show all (${text.length.toLocaleString()} chars)`;
      });
      card.append(btn);
    }
    if (this.config.criteria.length) card.append(this.buildRatings(st, rid));
    if (this.config.task === "ranking") this.wireRankCard(card, item, st, rid);
    return card;
  }

  private renderBodies(): void {
    const item = this.shownItem;
    const st = this.current;
    if (!item || !st || !this.itemEl) return;
    const cards = Array.from(this.itemEl.querySelectorAll<HTMLElement>(".rw-response"));
    for (const c of cards) c.querySelector(".rw-diffbody")?.remove();
    const diffOn = this.showDiff && item.responses.length === 2;
    this.itemEl.classList.toggle("rw-diff-on", diffOn);
    if (diffOn) {
      const text = (rid: string): string => item.responses.find((r) => r.response_id === rid)?.text ?? "";
      const [a, b] = item.display_order as [string, string];
      const bodies = renderDiff(text(a), text(b));
      cards.forEach((c, i) => {
        const body = bodies[i];
        const rid = c.dataset.responseId ?? "";
        if (!body) return;
        const collapsible = this.config.collapse_chars > 0 && text(rid).length > this.config.collapse_chars;
        body.classList.toggle("rw-collapsed", collapsible && !st.expanded.has(rid));
        c.querySelector(".rw-body")?.after(body);
      });
    }
    this.diffBtn.setAttribute("aria-pressed", String(this.showDiff));
  }

  private buildChoices(st: ItemState): HTMLElement {
    const row = h("div", { class: "rw-choices", role: "radiogroup", "aria-label": "Which response is better?" });
    CHOICES.forEach((c: Choice, i) => {
      const btn = h(
        "button",
        { type: "button", class: `rw-choice rw-choice-${c}`, "data-choice": c, role: "radio", "aria-checked": "false" },
        h("kbd", {}, String(i + 1)),
        h("span", {}, CHOICE_LABELS[c]),
      );
      btn.addEventListener("click", () => this.dispatch({ type: "choice", choice: c }));
      row.append(btn);
    });
    void st;
    return row;
  }

  private buildRatings(st: ItemState, rid: string): HTMLElement {
    const box = h("div", { class: "rw-ratings" });
    for (const crit of this.config.criteria) {
      const seg = h("div", { class: "rw-seg", role: "radiogroup", "aria-label": crit });
      for (let v = 1; v <= this.config.scale; v++) {
        const b = h(
          "button",
          { type: "button", class: "rw-rate", "data-response-id": rid, "data-criterion": crit, "data-value": v, role: "radio", "aria-checked": "false" },
          String(v),
        );
        b.addEventListener("click", (e) => {
          e.stopPropagation();
          const per = (st.draft.ratings[rid] ??= {});
          if (per[crit] === v) delete per[crit];
          else per[crit] = v;
          this.updateControls();
        });
        seg.append(b);
      }
      box.append(h("div", { class: "rw-rating-row" }, h("span", { class: "rw-crit" }, crit), seg));
    }
    return box;
  }

  private buildFlags(st: ItemState): HTMLElement {
    const box = h("div", { class: "rw-flags", role: "group", "aria-label": "Flags" }, h("span", { class: "rw-label" }, "Flags"));
    for (const f of this.config.flags) {
      const b = h("button", { type: "button", class: "rw-flag", "data-flag": f.id, "aria-pressed": "false" }, f.label);
      b.addEventListener("click", () => {
        const d = st.draft;
        d.flags = d.flags.includes(f.id) ? d.flags.filter((x) => x !== f.id) : [...d.flags, f.id];
        this.updateControls();
      });
      box.append(b);
    }
    this.flagNoteEl = h("input", {
      type: "text",
      class: "rw-flag-note",
      placeholder: "Note about the flags (optional)",
      maxlength: 2000,
      "aria-label": "Flag note",
    });
    this.flagNoteEl.value = st.draft.flagNote;
    this.flagNoteEl.addEventListener("input", () => {
      st.draft.flagNote = this.flagNoteEl?.value ?? "";
      this.updateControls();
    });
    box.append(this.flagNoteEl);
    return box;
  }

  private buildRationale(st: ItemState): HTMLElement {
    const id = `rw-rationale-${Math.random().toString(36).slice(2)}`;
    this.rationaleEl = h("textarea", {
      class: "rw-rationale",
      id,
      rows: 2,
      placeholder: "Why? (r to type, Esc to leave the box)",
    });
    this.rationaleEl.value = st.draft.rationale;
    this.rationaleEl.addEventListener("input", () => {
      st.draft.rationale = this.rationaleEl?.value ?? "";
      this.updateControls();
    });
    this.counterEl = h("span", { class: "rw-counter" });
    return h(
      "div",
      { class: "rw-rationale-box" },
      h("label", { class: "rw-label", for: id }, "Rationale ", h("span", { class: "rw-rule" }, `(${RULE_TEXT[this.config.rationale]})`)),
      this.rationaleEl,
      this.counterEl,
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Ranking panel and drag and drop

  private wireRankCard(card: HTMLElement, item: Item, st: ItemState, rid: string): void {
    card.addEventListener("click", (e) => {
      const t = e.target as HTMLElement;
      if (t.closest("button, a, input, textarea")) return;
      const sel = typeof window.getSelection === "function" ? window.getSelection() : null;
      if (sel && !sel.isCollapsed) return; // selecting text to copy is not a click-to-rank
      st.selected = rid;
      // Click-to-rank: clicking unranked cards in order ranks them in that order.
      if (rk.groupOf(st.draft.rank, rid) < 0) st.draft.rank = rk.appendRank(st.draft.rank, rid);
      this.clearError();
      this.updateControls();
    });
    this.makeDraggable(card, rid);
    void item;
  }

  private makeDraggable(el: HTMLElement, rid: string): void {
    el.addEventListener("dragstart", (e) => {
      e.dataTransfer?.setData("text/x-rw-response", rid);
      e.dataTransfer?.setData("text/plain", rid);
      if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
      el.classList.add("rw-dragging");
    });
    el.addEventListener("dragend", () => el.classList.remove("rw-dragging"));
  }

  private dropZone(el: HTMLElement, target: rk.DropTarget): void {
    el.addEventListener("dragover", (e) => {
      e.preventDefault();
      e.stopPropagation();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
      el.classList.add("rw-dropover");
    });
    el.addEventListener("dragleave", () => el.classList.remove("rw-dropover"));
    el.addEventListener("drop", (e) => {
      e.preventDefault();
      e.stopPropagation();
      el.classList.remove("rw-dropover");
      const rid = e.dataTransfer?.getData("text/x-rw-response") || e.dataTransfer?.getData("text/plain") || "";
      const st = this.current;
      const item = this.shownItem;
      if (!st || !item || !item.display_order.includes(rid)) return;
      st.draft.rank = rk.drop(st.draft.rank, rid, target);
      st.selected = rid;
      this.clearError();
      this.updateControls();
    });
  }

  private renderRankPanel(item: Item, st: ItemState): void {
    const panel = this.rankPanel;
    if (!panel) return;
    const letterOf = new Map(item.display_order.map((rid, i) => [rid, positionLetter(i)]));
    const textOf = new Map(item.responses.map((r) => [r.response_id, r.text]));
    const chip = (rid: string): HTMLElement => {
      const el = h(
        "div",
        { class: `rw-chip${st.selected === rid ? " rw-selected" : ""}`, "data-response-id": rid, draggable: "true", "data-position": letterOf.get(rid) ?? "" },
        h("span", { class: "rw-badge" }, letterOf.get(rid) ?? "?"),
        h("span", { class: "rw-snippet" }, snippet(textOf.get(rid) ?? "")),
      );
      el.addEventListener("click", (e) => {
        e.stopPropagation();
        st.selected = rid;
        this.updateControls();
      });
      this.makeDraggable(el, rid);
      return el;
    };
    const list = h("div", { class: "rw-ranking", "aria-label": "Ranking, best first" });
    const gap = (i: number, label: string): HTMLElement => {
      const g = h("div", { class: "rw-gap", "data-gap": i }, label);
      this.dropZone(g, { kind: "gap", index: i });
      return g;
    };
    const groups = st.draft.rank.groups;
    list.append(gap(0, groups.length ? "" : "Drop here (or click cards in order) to rank"));
    groups.forEach((g, i) => {
      const box = h(
        "div",
        { class: `rw-group${g.length > 1 ? " rw-tie" : ""}`, "data-group": i, "data-rank": i + 1 },
        h("span", { class: "rw-rank" }, `${i + 1}`),
        ...g.map(chip),
        g.length > 1 ? h("span", { class: "rw-muted rw-tie-label" }, "tie") : null,
      );
      this.dropZone(box, { kind: "group", index: i });
      list.append(box, gap(i + 1, ""));
    });
    this.dropZone(list, { kind: "gap", index: groups.length });
    const pool = h(
      "div",
      { class: "rw-pool", "aria-label": "Unranked" },
      h("span", { class: "rw-label" }, st.draft.rank.pool.length ? "Unranked" : "All ranked"),
      ...st.draft.rank.pool.map(chip),
    );
    this.dropZone(pool, { kind: "pool" });
    panel.replaceChildren(
      h("div", { class: "rw-label" }, "Ranking (best first) \u2014 drag onto a rank to tie, between ranks for a new one"),
      list,
      pool,
    );
    // Rank badges on the cards.
    this.itemEl?.querySelectorAll<HTMLElement>(".rw-response").forEach((card) => {
      const rid = card.dataset.responseId ?? "";
      const g = rk.groupOf(st.draft.rank, rid);
      const badge = card.querySelector(".rw-rankbadge");
      if (badge) badge.textContent = g < 0 ? "unranked" : `rank ${g + 1}${(groups[g]?.length ?? 0) > 1 ? " (tie)" : ""}`;
      card.classList.toggle("rw-selected", st.selected === rid);
      card.dataset.rank = g < 0 ? "" : String(g + 1);
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // Reflect draft state into the controls (cheap; called on every change)

  private updateControls(): void {
    const item = this.shownItem;
    const st = this.current;
    const atEnd = this.shown >= this.queueLength;
    this.backBtn.disabled = Math.min(this.shown, this.queueLength) <= 0;
    if (!item || !st) {
      this.submitBtn.disabled = true;
      this.skipBtn.disabled = true;
      this.reasonEl.textContent = atEnd ? "" : "Waiting for the item\u2026";
      return;
    }
    const d = st.draft;
    this.itemEl?.querySelectorAll<HTMLElement>(".rw-choice").forEach((b) => {
      const on = b.dataset.choice === d.choice;
      b.classList.toggle("rw-on", on);
      b.setAttribute("aria-checked", String(on));
    });
    this.itemEl?.querySelectorAll<HTMLElement>(".rw-rate").forEach((b) => {
      const on = d.ratings[b.dataset.responseId ?? ""]?.[b.dataset.criterion ?? ""] === Number(b.dataset.value);
      b.classList.toggle("rw-on", on);
      b.setAttribute("aria-checked", String(on));
    });
    this.itemEl?.querySelectorAll<HTMLElement>(".rw-flag").forEach((b) => {
      const on = d.flags.includes(b.dataset.flag ?? "");
      b.classList.toggle("rw-on", on);
      b.setAttribute("aria-pressed", String(on));
    });
    if (this.flagNoteEl) this.flagNoteEl.hidden = d.flags.length === 0;
    if (this.config.task === "ranking") this.renderRankPanel(item, st);
    const c = this.check(item, st);
    if (this.counterEl) {
      const len = d.rationale.length;
      this.counterEl.textContent = `${len.toLocaleString()} / ${this.config.max_rationale_chars.toLocaleString()}`;
      this.counterEl.classList.toggle("rw-over", len > this.config.max_rationale_chars);
    }
    this.rationaleEl?.classList.toggle("rw-needed", rationaleNeeded(c.rule) && !d.rationale.trim());
    const blocker = submitBlocker(c);
    this.submitBtn.disabled = blocker !== null;
    this.submitBtn.title = blocker ?? "Submit (Enter)";
    this.reasonEl.textContent = blocker ?? "";
    const sb = skipBlocker(c);
    this.skipBtn.disabled = sb !== null;
    this.skipBtn.title = sb ?? "Skip (s)";
  }

  // ---------------------------------------------------------------------------------------------------
  // Prefetch: render upcoming items' markdown while the browser is idle

  private scheduleWarm(): void {
    this.cancelIdle();
    const texts: string[] = [];
    for (const it of [...this.items.values()].sort((x, y) => x.index - y.index)) {
      if (it.index <= this.shown || it.index > this.shown + 3) continue;
      if (typeof it.prompt === "string") texts.push(it.prompt);
      else for (const t of it.prompt) texts.push(t.content);
      for (const r of it.responses) texts.push(r.text);
    }
    this.warmQueue = texts;
    this.nextWarm();
  }

  /** Render one text per idle slice (more while the slice lasts), so a key press never waits behind it. */
  private nextWarm(): void {
    if (!this.warmQueue.length) return;
    const w = window as Window & {
      requestIdleCallback?: (cb: (d: { timeRemaining(): number }) => void, o?: { timeout: number }) => number;
    };
    const run = (deadline?: { timeRemaining(): number }): void => {
      this.idleHandle = null;
      do {
        const text = this.warmQueue.shift();
        if (text !== undefined) this.cache.warm(text);
      } while (this.warmQueue.length && deadline && deadline.timeRemaining() > 8);
      this.nextWarm();
    };
    this.idleHandle = w.requestIdleCallback
      ? w.requestIdleCallback(run, { timeout: 1000 })
      : (setTimeout(run, 50) as unknown as number);
  }

  private cancelIdle(): void {
    this.warmQueue = [];
    if (this.idleHandle === null) return;
    const w = window as Window & { cancelIdleCallback?: (h: number) => void };
    if (w.cancelIdleCallback) w.cancelIdleCallback(this.idleHandle);
    else clearTimeout(this.idleHandle);
    this.idleHandle = null;
  }
}

