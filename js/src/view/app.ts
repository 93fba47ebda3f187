// The RankWidget view: state per item (drafts), the model wiring (traits + custom messages), and the DOM.
import { isRecord, parseConfig, parseGuidelines, parseProgress, parseWindow } from "../coerce";
import { keyAction, ratingKey, type Action } from "../keymap";
import { buildLabel, newClientId, submitMessage, type Draft } from "../label";
import { choiceToVerdict, stepChoice, verdictToChoice } from "../pairwise";
import * as rk from "../ranking";
import { rationaleNeeded, skipBlocker, submitBlocker, type SubmitCheck } from "../rules";
import { ActiveTimer, formatDuration } from "../timer";
import type { Config, Guidelines, Item, Progress, SubmitMessage, WidgetModel } from "../types";
import { RenderCache, renderDiff, renderPrompt } from "../shared/content";
import { buildChoices, buildFlags, buildRatings, buildRationale, reflectDraft } from "./controls";
import { h, isTextEntry, positionLetter } from "../shared/dom";
import { Prefetcher } from "./prefetch";
import { makeDraggable, markCards, renderRankPanel, type RankHandlers } from "./rank_panel";
import { buildShell, metaText, progressText, type Shell } from "./shell";

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
const NAV_TIMEOUT_MS = 5000;

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
  private seenGuidelines = new Map<string, Guidelines>(); // every version the trait brought (changes null: first)

  private items = new Map<number, Item>(); // by queue index; includes items that left the window
  private states = new Map<string, ItemState>(); // by item_id
  private shown = 0; // queue index on screen (queueLength = "all done")
  private shownItem: Item | null = null;
  private pending = new Map<string, Pending>();
  private lastClientId: string | null = null;
  private awaitingNav: number | null = null;
  private awaitingSince = 0;
  private navAfter = new Set<string>(); // submits Python handles before the awaited navigate
  private showDiff: boolean;
  private helpOpen = false;
  private guidelinesOpen = false;
  private drawerStale = true;
  private drawerVersion: string | null = null;
  private cache: RenderCache;
  private cleanups: (() => void)[] = [];
  private timerHandle: ReturnType<typeof setInterval> | null = null;
  private syncHandle: ReturnType<typeof setTimeout> | null = null;
  private focusFrame: number | null = null;

  private ui!: Shell;
  private prefetch: Prefetcher;

  // Per-item controls (rebuilt with the item).
  private itemEl: HTMLElement | null = null;
  private rationaleEl: HTMLTextAreaElement | null = null;
  private counterEl: HTMLElement | null = null;
  private flagNoteEl: HTMLInputElement | null = null;
  private rankPanel: HTMLElement | null = null;

  constructor(
    private readonly model: WidgetModel,
    host: HTMLElement,
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
    this.prefetch = new Prefetcher(this.cache);
    this.root = h("div", { class: "rw-root", tabindex: 0, "data-lm-suppress-shortcuts": "true" });
    this.ui = buildShell(this.root, this.config.task, {
      dispatch: (a) => this.dispatch(a),
      toggleHelp: (open) => this.toggleHelp(open),
      toggleDiff: () => this.toggleDiff(),
    }, { ratings: this.config.criteria.length > 0, scale: this.config.scale });
    host.append(this.root);
    this.absorbWindow(model.get("window"));
    this.wire();
    const pos = model.get("position");
    this.show(typeof pos === "number" ? pos : 0);
    this.timerHandle = setInterval(() => this.tick(), 1000);
    // Ready to label at once: take the keyboard if the widget is on screen and the user is not typing
    // elsewhere (a notebook cell editor is a text entry).
    this.focusFrame = requestAnimationFrame(() => {
      this.focusFrame = null;
      const r = this.root.getBoundingClientRect();
      const visible = this.root.isConnected && r.bottom > 0 && r.top < (window.innerHeight || 0);
      if (visible && !isTextEntry(document.activeElement)) this.focusRoot();
    });
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
      this.drawerStale = true;
      if (this.guidelinesOpen) this.renderDrawer();
      this.renderBanner();
      this.updateControls();
    });
    this.on("change:guideline_ack", () => {
      const v = this.model.get("guideline_ack");
      if (typeof v === "string") this.acked.add(v);
      this.renderBanner();
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
    if (this.focusFrame !== null) cancelAnimationFrame(this.focusFrame);
    this.prefetch.cancel();
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
    // Waiting for the navigation we asked for; a kernel that never answers must not freeze us for good.
    if (this.waitingForNav()) {
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

  /** Is a navigate we sent still unanswered? A kernel that never answers must not freeze us for good. */
  private waitingForNav(): boolean {
    if (this.awaitingNav !== null && now() - this.awaitingSince >= NAV_TIMEOUT_MS) this.awaitingNav = null;
    return this.awaitingNav !== null;
  }

  private onMessage(msg: unknown): void {
    if (!isRecord(msg) || typeof msg.client_id !== "string") return;
    const pend = this.pending.get(msg.client_id);
    if (pend && (msg.type === "ack" || msg.type === "reject")) this.settleNav(pend, msg.type === "ack");
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

  /**
   * A navigate sent while submits were pending is handled by Python after them. Once the last of those is
   * answered we know where Python will be when it handles the navigate: the submit's item advanced by one if
   * Python was on it and it was not the last item (docs/protocol.md), else where it is. A navigate to that
   * same position changes nothing, so no `change:position` will ever answer it: stop waiting now.
   */
  private settleNav(pend: Pending, acked: boolean): void {
    if (!this.navAfter.delete(pend.clientId) || this.navAfter.size > 0 || this.awaitingNav === null) return;
    const p = this.model.get("position");
    if (typeof p !== "number") return;
    const advances = acked && p === pend.index && pend.index + 1 < this.queueLength;
    if ((advances ? pend.index + 1 : p) === this.awaitingNav) this.awaitingNav = null;
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
    if (this.pending.size > 0 || this.waitingForNav()) return;
    const p = this.model.get("position");
    if (this.shown < this.queueLength && typeof p === "number" && p !== this.shown) this.navigateModel(this.shown);
  }

  private navigateModel(to: number): void {
    const p = this.model.get("position");
    // Already there, unless an unanswered navigate elsewhere is still to be handled by Python.
    if (p === to && this.pending.size === 0 && !this.waitingForNav()) return;
    this.awaitingNav = to;
    this.awaitingSince = now();
    this.navAfter = new Set(this.pending.keys());
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
    this.ui.timer.textContent = st ? formatDuration(st.timer.elapsed(now())) : "";
  }

  private guidelineVersion(item: Item): string | null {
    return item.guideline_version ?? this.guidelines.version;
  }

  private noteGuidelines(): void {
    const g = this.guidelines;
    if (g.version !== null) this.seenGuidelines.set(g.version, g);
  }

  /**
   * Must the labeler acknowledge the guidelines before submitting this item? Yes for a version that came with
   * `changes` (Python: any version after the first) until acknowledged. An item shown ahead of Python's
   * position may carry a version whose payload has not arrived yet (the trait follows Python's position): an
   * unknown version is a change, blocked until its changes arrive and are acknowledged.
   */
  private needsAck(item: Item | null): boolean {
    if (!item) return false;
    const v = this.guidelineVersion(item);
    if (v === null || this.acked.has(v)) return false;
    const seen = this.seenGuidelines.get(v);
    return seen === undefined || seen.changes !== null;
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
    if (target instanceof HTMLButtonElement && target.classList.contains("rw-rate")) {
      const v = ratingKey(e, this.config.scale);
      if (v !== undefined) {
        // Digits on a focused rating button rate (never the pairwise choice / rank behind it).
        e.preventDefault();
        if (!this.helpOpen) this.rateFromKey(target, v);
        return;
      }
    }
    if ((e.key === "Enter" || e.key === " ") && target instanceof HTMLButtonElement) return; // native press
    if (e.key === " ") return;
    const n = this.shownItem?.display_order.length ?? 0;
    const action = keyAction(e, this.config.task, n);
    if (!action) return;
    e.preventDefault();
    // The help overlay covers the item: only ? and Esc act while it is open.
    if (this.helpOpen && action.type !== "help" && action.type !== "escape") return;
    this.dispatch(action);
  }

  /** A digit on a focused rating button: set that rating, then focus the next rating row (or the root). */
  private rateFromKey(btn: HTMLButtonElement, value: number | null): void {
    const item = this.shownItem;
    const st = this.current;
    const rid = btn.dataset.responseId ?? "";
    const crit = btn.dataset.criterion ?? "";
    if (!item || !st || !this.itemEl || !item.display_order.includes(rid) || !this.config.criteria.includes(crit)) return;
    if (value === null) {
      this.showError(`Ratings go from 1 to ${this.config.scale}`);
      return;
    }
    (st.draft.ratings[rid] ??= {})[crit] = value;
    this.clearError();
    this.updateControls();
    const segs = Array.from(this.itemEl.querySelectorAll<HTMLElement>(".rw-seg"));
    const i = segs.findIndex((s) => s.contains(btn));
    const next = segs[i + 1]?.querySelector<HTMLButtonElement>(".rw-rate");
    if (next) next.focus();
    else this.focusRoot();
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

  private toggleHelp(open = !this.helpOpen): void {
    this.helpOpen = open;
    this.ui.help.hidden = !open;
    this.root.classList.toggle("rw-help-open", open);
    // A tall widget may be scrolled past its top, where the panel sits; the list starts at its top each time.
    const panel = this.ui.help.firstElementChild as HTMLElement | null;
    if (open && panel) {
      panel.scrollTop = 0;
      panel.scrollIntoView?.({ block: "nearest" });
    }
  }

  private toggleGuidelines(open = !this.guidelinesOpen): void {
    this.guidelinesOpen = open;
    if (open && this.drawerStale) this.renderDrawer();
    this.ui.drawer.hidden = !open;
    this.ui.guidelinesBtn.setAttribute("aria-pressed", String(open));
    if (open) this.ui.drawer.scrollIntoView?.({ block: "nearest" });
  }

  private toggleDiff(): void {
    const item = this.shownItem;
    if (!item || item.responses.length !== 2) return;
    this.showDiff = !this.showDiff;
    this.renderBodies();
  }

  private renderHeader(): void {
    this.ui.progress.textContent = progressText(this.progress, this.queueLength);
    const item = this.shownItem;
    this.ui.itemId.textContent = item
      ? `Item ${item.index + 1} of ${this.queueLength} \u00b7 ${item.item_id}`
      : this.shown >= this.queueLength
        ? "All items done"
        : `Item ${this.shown + 1} of ${this.queueLength}`;
    this.ui.meta.textContent = item ? metaText(item) : "";
    this.ui.diffBtn.hidden = !(item && item.responses.length === 2);
    this.ui.diffBtn.setAttribute("aria-pressed", String(this.showDiff));
    this.tick();
  }

  /** The guidelines of the item shown when that version has been seen (the trait follows Python's position,
   * which may be elsewhere), else the trait's. */
  private drawerGuidelines(): Guidelines {
    const item = this.shownItem;
    const v = item ? this.guidelineVersion(item) : null;
    return (v !== null ? this.seenGuidelines.get(v) : undefined) ?? this.guidelines;
  }

  /** The drawer shows the guidelines Python sent, rendered when opened after a change (they can be long). */
  private renderDrawer(): void {
    this.drawerStale = false;
    const g = this.drawerGuidelines();
    this.drawerVersion = g.version;
    const close = h("button", { type: "button", class: "rw-btn" }, "Close (g)");
    close.addEventListener("click", () => this.toggleGuidelines(false));
    this.ui.drawer.replaceChildren(
      h("div", { class: "rw-drawer-head" }, h("strong", {}, `Guidelines${g.version ? ` \u2014 version ${g.version}` : ""}`), close),
      h("div", { class: "rw-md" }, g.markdown ? this.cache.get(g.markdown) : "No guidelines were given."),
    );
  }

  /** The button names the version of the item shown; the banner asks to acknowledge a changed version. */
  private renderBanner(): void {
    const g = this.guidelines;
    const item = this.shownItem;
    const version = item ? this.guidelineVersion(item) : g.version;
    this.ui.guidelinesBtn.hidden = !g.markdown && !g.changes;
    this.ui.guidelinesBtn.textContent = version ? `Guidelines ${version} (g)` : "Guidelines (g)";
    if (!this.needsAck(item)) {
      this.ui.banner.hidden = true;
      this.ui.banner.replaceChildren();
      return;
    }
    // The changes of any version seen in the trait are kept, so they can be acknowledged after the trait moved on.
    const changes = version !== null ? this.seenGuidelines.get(version)?.changes : undefined;
    const known = typeof changes === "string";
    const ackBtn = h("button", { type: "button", class: "rw-btn rw-primary rw-ack-guidelines", disabled: !known },
      "I have read the changes");
    ackBtn.addEventListener("click", () => this.ackGuidelines());
    this.ui.banner.replaceChildren(
      h("strong", {}, `The guidelines changed${version ? ` (now version ${version})` : ""}.`),
      !known
        ? h("div", { class: "rw-muted rw-banner-loading" }, "Loading the new guidelines\u2026 (Submit and Skip wait for them)")
        : changes
          ? h("div", { class: "rw-md" }, this.cache.get(changes))
          : h("div", { class: "rw-muted" }, "No summary of the changes was given: read the guidelines (g)."),
      ackBtn,
    );
    this.ui.banner.hidden = false;
  }

  private ackGuidelines(): void {
    const item = this.shownItem;
    const version = item ? this.guidelineVersion(item) : this.guidelines.version;
    // Only changes the labeler could read (not the "loading" state) can be acknowledged.
    if (version === null || typeof this.seenGuidelines.get(version)?.changes !== "string") return;
    this.acked.add(version);
    this.model.send({ type: "ack_guidelines", version });
    this.renderBanner();
    this.updateControls();
    this.focusRoot();
  }

  private setStatus(state: StatusState, itemId: string, text: string): void {
    this.ui.status.dataset.state = state;
    this.ui.status.dataset.itemId = itemId;
    this.ui.status.textContent = text;
  }

  private showError(text: string): void {
    this.ui.error.textContent = text;
    this.ui.error.hidden = false;
  }

  private clearError(): void {
    this.ui.error.textContent = "";
    this.ui.error.hidden = true;
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
      this.ui.main.replaceChildren(
        h("div", { class: "rw-done" }, h("strong", {}, "All items in this queue are done."), " Press Back (\u2190) to review or change a label."),
      );
    } else if (!item) {
      this.ui.main.replaceChildren(h("div", { class: "rw-loading", "data-index": this.shown }, "Loading item\u2026"));
    } else {
      const st = this.stateFor(item);
      st.timer.setActive(this.pageIsActive(), t);
      this.ui.main.replaceChildren(this.buildItem(item, st));
    }
    this.renderHeader();
    this.renderBanner();
    if (this.drawerGuidelines().version !== this.drawerVersion) {
      this.drawerStale = true;
      if (this.guidelinesOpen) this.renderDrawer();
    }
    this.updateControls();
    if (hadFocus && !this.root.contains(document.activeElement)) this.focusRoot();
    // After labelling from the footer of a tall item, bring the new item's top (its prompt) into view.
    if (this.root.isConnected && this.root.getBoundingClientRect().top < 0) this.root.scrollIntoView?.({ block: "start" });
    this.scheduleWarm();
  }

  private buildItem(item: Item, st: ItemState): HTMLElement {
    const pairwise = this.config.task === "pairwise";
    const n = item.responses.length;
    const cards = h("div", { class: `rw-responses ${n === 2 ? "rw-pair" : "rw-grid"}` });
    const byId = new Map(item.responses.map((r) => [r.response_id, r]));
    item.display_order.forEach((rid, i) => {
      const resp = byId.get(rid);
      if (resp) cards.append(this.buildCard(st, rid, resp.text, i));
    });
    const controls = h("div", { class: "rw-controls" });
    const changed = (): void => this.updateControls();
    if (pairwise) controls.append(buildChoices((choice) => this.dispatch({ type: "choice", choice })));
    else controls.append((this.rankPanel = h("div", { class: "rw-rankpanel" })));
    const extras = h("div", { class: "rw-extras" });
    if (this.config.flags.length) {
      const flags = buildFlags(this.config, st.draft, changed);
      this.flagNoteEl = flags.note;
      extras.append(flags.box);
    }
    if (this.config.rationale !== "off") {
      const r = buildRationale(this.config, st.draft, changed);
      this.rationaleEl = r.textarea;
      this.counterEl = r.counter;
      extras.append(r.box);
    }
    controls.append(extras);
    this.itemEl = h(
      "div",
      { class: `rw-item rw-task-${pairwise ? "pairwise" : "ranking"}`, "data-item-id": item.item_id, "data-index": item.index },
      renderPrompt(item.prompt, this.cache, this.config.collapse_chars),
      cards,
      controls,
    );
    if (this.showDiff && n === 2) this.renderBodies();
    return this.itemEl;
  }

  private buildCard(st: ItemState, rid: string, text: string, i: number): HTMLElement {
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
    if (this.config.criteria.length) card.append(buildRatings(this.config, st.draft, rid, () => this.updateControls()));
    if (this.config.task === "ranking") this.wireRankCard(card, st, rid);
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
    this.ui.diffBtn.setAttribute("aria-pressed", String(this.showDiff));
  }

  // ---------------------------------------------------------------------------------------------------
  // Ranking panel and drag and drop

  private wireRankCard(card: HTMLElement, st: ItemState, rid: string): void {
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
    makeDraggable(card, rid);
  }

  private rankHandlers(st: ItemState, item: Item): RankHandlers {
    return {
      select: (rid) => {
        st.selected = rid;
        this.updateControls();
      },
      drop: (rid, target) => {
        if (!item.display_order.includes(rid)) return; // foreign drag data
        st.draft.rank = rk.drop(st.draft.rank, rid, target);
        st.selected = rid;
        this.clearError();
        this.updateControls();
      },
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Reflect draft state into the controls (cheap; called on every change)

  private updateControls(): void {
    const item = this.shownItem;
    const st = this.current;
    const ui = this.ui;
    ui.back.disabled = Math.min(this.shown, this.queueLength) <= 0;
    if (!item || !st) {
      ui.submit.disabled = true;
      ui.skip.disabled = true;
      ui.reason.textContent = this.shown >= this.queueLength ? "" : "Waiting for the item\u2026";
      return;
    }
    const d = st.draft;
    if (this.itemEl) reflectDraft(this.itemEl, d);
    if (this.flagNoteEl) this.flagNoteEl.hidden = d.flags.length === 0;
    if (this.rankPanel && this.itemEl) {
      renderRankPanel(this.rankPanel, item, d.rank, st.selected, this.rankHandlers(st, item));
      markCards(this.itemEl, d.rank, st.selected);
    }
    const c = this.check(item, st);
    if (this.counterEl) {
      const len = d.rationale.length;
      this.counterEl.textContent = `${len.toLocaleString()} / ${this.config.max_rationale_chars.toLocaleString()}`;
      this.counterEl.classList.toggle("rw-over", len > this.config.max_rationale_chars);
    }
    this.rationaleEl?.classList.toggle("rw-needed", rationaleNeeded(c.rule) && !d.rationale.trim());
    const blocker = submitBlocker(c);
    ui.submit.disabled = blocker !== null;
    ui.submit.title = blocker ?? "Submit (Enter)";
    ui.reason.textContent = blocker ?? "";
    const sb = skipBlocker(c);
    ui.skip.disabled = sb !== null;
    ui.skip.title = sb ?? "Skip (s)";
  }

  // ---------------------------------------------------------------------------------------------------
  // Prefetch: render the next items' markdown while the browser is idle

  private scheduleWarm(): void {
    const texts: string[] = [];
    for (const it of [...this.items.values()].sort((x, y) => x.index - y.index)) {
      if (it.index <= this.shown || it.index > this.shown + 3) continue;
      if (typeof it.prompt === "string") texts.push(it.prompt);
      else for (const t of it.prompt) texts.push(t.content);
      for (const r of it.responses) texts.push(r.text);
    }
    this.prefetch.schedule(texts);
  }
}
