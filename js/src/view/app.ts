// The RankWidget view: state per item (drafts), the model wiring (traits + custom messages), and the DOM.
// Protocol bookkeeping (pending submits, the awaited navigate, the item window, guideline versions) lives in
// protocol_state.ts; requests and their replies go through the shared Channel.
import { type AckMessage, Channel, type RejectMessage, type Reply } from "../channel";
import { parseConfig, parseGuidelines, parseProgress, parseWindow } from "../coerce";
import { checkDraft, editDraft, initialDraft, restoreDraft, toWire } from "../draft";
import type { Action } from "../keymap";
import { buildLabel, type Draft, submitMessage } from "../label";
import type { Model, RankTraits } from "../model";
import * as rk from "../ranking";
import { rationaleNeeded, type SubmitCheck, skipBlocker, submitBlocker } from "../rules";
import { RenderCache, renderPrompt } from "../shared/content";
import { h, isTextEntry } from "../shared/dom";
import { ActiveTimer, formatDuration } from "../timer";
import type { Config, Item, Progress } from "../types";
import { buildCard, renderDiffBodies } from "./cards";
import { buildChoices, buildFlags, buildRatings, buildRationale, reflectDraft } from "./controls";
import { mountTraining } from "./feedback";
import { type HistoryEntry, LabelMarks, markText, nextIndex, noteHeading, parseHistory, UndoStack } from "./history";
import { bindKeys, type KeyActions, type KeyBindings, type OpenOverlays } from "./keyboard";
import { Prefetcher } from "./prefetch";
import {
  GuidelineState,
  ItemWindow,
  justFinished,
  now,
  type Pending,
  ProtocolState,
  SaveStates,
  sessionLine,
  startIndex,
  statusLine,
} from "./protocol_state";
import { makeDraggable, markCards, type RankHandlers, renderRankPanel } from "./rank_panel";
import {
  buildShell,
  metaText,
  progressText,
  renderBanner,
  renderDrawer,
  renderHistoryPanel,
  type Shell,
} from "./shell";
import { mountSuggestion } from "./suggestion";

interface ItemState {
  draft: Draft;
  timer: ActiveTimer;
  selected: string | null; // ranking: the selected response id
  expanded: Set<string>; // response ids shown in full
}

const CACHE_ITEMS = 64;
const SYNC_DELAY_MS = 500;
/** At most one `draft` message per this interval while the labeler types (plus one on blur / navigation). */
export const DRAFT_INTERVAL_MS = 500;

export class App implements KeyActions {
  readonly root: HTMLElement;
  private config: Config;
  private guide: GuidelineState;
  private progress: Progress;
  private queueLength: number;

  private items = new ItemWindow(CACHE_ITEMS); // by queue index; includes items that left the window
  private states = new Map<string, ItemState>(); // by item_id
  private shown = 0; // queue index on screen (queueLength = "all done")
  private shownItem: Item | null = null;
  private protocol = new ProtocolState();
  private saves = new SaveStates(); // per item: the status line shows the item on screen's only
  private channel: Channel<RankTraits>;
  private showDiff: boolean;
  private helpOpen = false;
  private historyOpen = false;
  private marks = new LabelMarks(); // labelled / skipped / undone marker per item (finding 6)
  private undoStack = new UndoStack();
  private frontier = 0; // the furthest item reached: a re-label of an earlier item returns here
  private marksEl: HTMLElement | null = null;
  private guidelinesOpen = false;
  private drawerStale = true;
  private drawerVersion: string | null = null;
  private cache: RenderCache;
  private cleanups: (() => void)[] = [];
  private timerHandle: ReturnType<typeof setInterval> | null = null;
  private syncHandle: ReturnType<typeof setTimeout> | null = null;
  private focusFrame: number | null = null;
  // Drafts kept in the kernel (restored on a reload): what Python last got per item, the item changed since.
  private draftSent = new Map<string, string>();
  private draftDirty: string | null = null;
  private draftHandle: ReturnType<typeof setTimeout> | null = null;
  private draftAt = Number.NEGATIVE_INFINITY;

  private ui!: Shell;
  private prefetch: Prefetcher;

  // Per-item controls (rebuilt with the item).
  private itemEl: HTMLElement | null = null;
  private rationaleEl: HTMLTextAreaElement | null = null;
  private counterEl: HTMLElement | null = null;
  private flagNoteEl: HTMLInputElement | null = null;
  private rankPanel: HTMLElement | null = null;

  constructor(
    private readonly model: Model<RankTraits>,
    host: HTMLElement,
  ) {
    this.config = parseConfig(model.get("config"));
    this.guide = new GuidelineState(parseGuidelines(model.get("guidelines")), model.get("guideline_ack"));
    this.progress = parseProgress(model.get("progress"));
    this.queueLength = this.readQueueLength();
    this.showDiff = this.config.show_diff;
    this.cache = new RenderCache(() => this.config.allow_remote_images, CACHE_ITEMS);
    this.prefetch = new Prefetcher(this.cache);
    // Replies for no pending submit (a repeated ack, a reject Python could not tie to a submit) still count.
    this.channel = new Channel(model, { unmatched: (r) => this.onUnmatched(r) });
    this.cleanups.push(() => this.channel.destroy());
    this.root = h("div", { class: "rw-root", tabindex: 0, "data-lm-suppress-shortcuts": "true" });
    this.ui = buildShell(
      this.root,
      this.config.task,
      {
        dispatch: (a) => this.dispatch(a),
        toggleHelp: (open) => this.toggleHelp(open),
        toggleDiff: () => this.toggleDiff(),
        toggleHistory: (open) => this.toggleHistory(open),
      },
      { ratings: this.config.criteria.length > 0, scale: this.config.scale, keymap: this.config.keymap },
    );
    host.append(this.root);
    this.cleanups.push(mountSuggestion(model, this.root));
    this.absorbWindow();
    this.wire();
    this.show(startIndex(model.get("position"), this.progress, this.queueLength));
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

  private on(event: `change:${keyof RankTraits}`, cb: () => void): void {
    this.model.on(event, cb);
    this.cleanups.push(() => this.model.off(event, cb));
  }

  private listen(
    target: Document | Window | HTMLElement,
    type: string,
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
      const before = this.progress;
      this.progress = parseProgress(this.model.get("progress"));
      if (justFinished(before, this.progress, this.shown, this.queueLength)) this.show(this.queueLength);
      else this.renderHeader();
    });
    this.on("change:queue_length", () => {
      this.queueLength = this.readQueueLength();
      this.renderHeader();
    });
    this.on("change:guidelines", () => {
      this.guide.update(parseGuidelines(this.model.get("guidelines")));
      this.drawerStale = true;
      if (this.guidelinesOpen) this.renderDrawer();
      this.renderBanner();
      this.updateControls();
    });
    this.on("change:guideline_ack", () => {
      this.guide.acknowledged(this.model.get("guideline_ack"));
      this.renderBanner();
      this.updateControls();
    });
    // Training mode (view/feedback.ts): the feedback panel over the item, shown once the label is stored.
    const training = mountTraining(
      this.root,
      () => this.model.get("training"),
      (m) => this.channel.notify(m),
    );
    this.on("change:training", training);
    training();
    this.on("change:config", () => {
      this.config = parseConfig(this.model.get("config"));
      this.cache.clear();
      this.show(this.shown, true);
    });

    const onMsg = (msg: unknown): void => {
      const entries = parseHistory(msg);
      if (entries) this.renderHistory(entries);
    };
    this.model.on("msg:custom", onMsg);
    this.cleanups.push(() => this.model.off("msg:custom", onMsg));
    this.cleanups.push(bindKeys(this)); // view/keyboard.ts
    this.listen(this.root, "focusin", () => this.updateFocusBadge());
    this.listen(this.root, "focusout", () => setTimeout(() => this.updateFocusBadge(), 0));
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
    // A draft leaves at once when the labeler leaves a box, the window or the page (a reload).
    this.listen(this.root, "focusout", (e) => {
      const to = (e as FocusEvent).relatedTarget;
      if (isTextEntry(e.target) || !(to instanceof Node && this.root.contains(to))) this.flushDraft();
    });
    this.listen(window, "blur", () => this.flushDraft());
    this.listen(window, "pagehide", () => this.flushDraft());
  }

  private readQueueLength(): number {
    const q = this.model.get("queue_length");
    return typeof q === "number" ? q : 0;
  }

  destroy(): void {
    try {
      this.flushDraft();
    } catch {
      // the comm may already be closed (the widget was closed from Python): nothing to keep it in
    }
    for (const c of this.cleanups.splice(0)) c();
    if (this.timerHandle !== null) clearInterval(this.timerHandle);
    if (this.syncHandle !== null) clearTimeout(this.syncHandle);
    if (this.draftHandle !== null) clearTimeout(this.draftHandle);
    if (this.focusFrame !== null) cancelAnimationFrame(this.focusFrame);
    this.prefetch.cancel();
    this.root.remove();
  }

  /** Take the items the window brought; `target` is the index about to be shown (a far `goto`). */
  private absorbWindow(target: number = this.shown): void {
    const pos = this.model.get("position");
    this.items.absorb(parseWindow(this.model.get("window")), target, this.shown, typeof pos === "number" ? pos : NaN);
    this.scheduleWarm();
  }

  private onWindow(): void {
    this.absorbWindow();
    // The item on screen keeps its DOM; only a lead's notes that arrived since are shown (a new comment).
    const fresh = this.items.get(this.shown);
    if (this.shownItem && fresh && fresh.item_id === this.shownItem.item_id) {
      if (JSON.stringify(fresh.notes ?? []) !== JSON.stringify(this.shownItem.notes ?? [])) {
        this.shownItem.notes = fresh.notes;
        this.renderMarks();
      }
    }
    // Only a loading placeholder is replaced; an item on screen is never re-rendered by a window refresh.
    if (this.shownItem === null && this.shown < this.queueLength && this.items.has(this.shown)) {
      this.show(this.shown);
    }
  }

  private onPosition(): void {
    const p = this.model.get("position");
    if (typeof p !== "number" || !this.protocol.positionChanged(p, this.shown, this.queueLength)) return;
    // window and position arrive in one update, but their change events may fire in either order.
    if (!this.items.has(p)) this.absorbWindow(p);
    this.show(p);
  }

  private onAck(reply: AckMessage, pend: Pending | undefined): void {
    const itemId = pend?.itemId ?? reply.item_id;
    if (itemId) this.saves.acked(itemId, reply.client_id);
    // A browser-side change of a synced trait on every ack: marimo re-runs the cells that depend on the widget
    // only on such a change (issue 14, finding 9). Python keeps its own count whatever is proposed.
    const stored = this.model.get("stored");
    this.model.set("stored", (typeof stored === "number" ? stored : 0) + 1);
    this.model.save_changes();
    // A refused item saved since (by another view or the notebook): its error goes with its "Not saved".
    if (itemId && itemId === this.shownItem?.item_id && this.saves.of(itemId)?.state === "saved") this.clearError();
    this.renderStatus();
    this.scheduleSync();
    if (this.historyOpen) this.requestHistory();
  }

  private onReject(reply: RejectMessage, pend: Pending | undefined): void {
    const itemId = pend?.itemId ?? reply.item_id ?? "";
    const text = reply.message ?? "The label was rejected.";
    const field = reply.field ? ` (${reply.field})` : "";
    this.saves.rejected(itemId, reply.client_id, `${text}${field}`);
    if (this.states.has(itemId)) {
      // Not saved: the kernel keeps the draft again, so a reload does not lose the input.
      this.draftSent.delete(itemId);
      this.noteDraft(itemId);
    }
    if (pend) {
      this.show(pend.index);
      this.navigateModel(pend.index);
    }
    this.renderStatus();
    this.showError(`${text}${field}`);
  }

  /** A reply for no pending submit: a repeated ack (the latest keeps its "saved"), or a reject Python sent
   * with an id we do not know; a reply without an id is not for this view. */
  private onUnmatched(reply: Reply): void {
    if (reply.client_id === null) return;
    if (reply.type === "ack") this.onAck(reply, undefined);
    else this.onReject(reply, undefined);
  }

  /** After the last ack: if Python's position still lags behind what is shown (it advances only when its
   * position was the submitted item), tell it where we are so its prefetch window follows. Deferred: the
   * position update that follows an ack arrives as a separate message. */
  private scheduleSync(): void {
    if (this.syncHandle !== null) clearTimeout(this.syncHandle);
    this.syncHandle = setTimeout(() => {
      this.syncHandle = null;
      if (this.protocol.needsSync(this.model.get("position"), this.shown, this.queueLength)) {
        this.navigateModel(this.shown);
      }
    }, SYNC_DELAY_MS);
  }

  private navigateModel(to: number): void {
    if (this.protocol.navigate(to, this.model.get("position"))) this.channel.notify({ type: "navigate", to });
  }

  // ---------------------------------------------------------------------------------------------------
  // Item state

  private stateFor(item: Item): ItemState {
    let st = this.states.get(item.item_id);
    if (st) return st;
    // The kernel's draft of this item (a reload, a second view) wins over the prior label it was started from.
    const fresh = initialDraft(item, this.config);
    const draft = restoreDraft(this.model.get("drafts"), item, this.config, fresh) ?? fresh;
    st = { draft, timer: new ActiveTimer(), selected: null, expanded: new Set() };
    this.states.set(item.item_id, st);
    this.draftSent.set(item.item_id, JSON.stringify(toWire(draft)));
    return st;
  }

  /** The draft of `itemId` may have changed: send it within DRAFT_INTERVAL_MS (throttled, not debounced). */
  private noteDraft(itemId: string): void {
    if (this.draftDirty !== null && this.draftDirty !== itemId) this.flushDraft();
    this.draftDirty = itemId;
    if (this.draftHandle !== null) return;
    const wait = Math.max(0, DRAFT_INTERVAL_MS - (now() - this.draftAt));
    this.draftHandle = setTimeout(() => {
      this.draftHandle = null;
      this.flushDraft();
    }, wait);
  }

  /** Send the changed draft now, if it differs from what the kernel has. */
  private flushDraft(): void {
    if (this.draftHandle !== null) {
      clearTimeout(this.draftHandle);
      this.draftHandle = null;
    }
    const itemId = this.draftDirty;
    this.draftDirty = null;
    const st = itemId === null ? undefined : this.states.get(itemId);
    if (itemId === null || !st) return;
    const draft = toWire(st.draft);
    const json = JSON.stringify(draft);
    if (this.draftSent.get(itemId) === json) return;
    this.draftSent.set(itemId, json);
    this.draftAt = now();
    this.channel.notify({ type: "draft", item_id: itemId, draft });
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

  private check(item: Item, st: ItemState): SubmitCheck {
    return checkDraft(item, st.draft, this.config, this.guide.needsAck(item));
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
    if (status === "skipped") {
      // A skip abandons the verdict: going back to the item must not show it as if chosen (finding 6).
      st.draft.choice = null;
      st.draft.rank = rk.initialRank(item.display_order);
      st.selected = null;
    }
    const next = nextIndex(item.index, this.frontier, this.queueLength);
    const label = buildLabel(item, st.draft, this.config, {
      status,
      guidelineVersion: this.guide.versionOf(item),
      activeMs: st.timer.elapsed(t),
    });
    // The submit carries the draft, and its ack clears the kernel's copy: no draft message for it (a reject
    // sends the draft again, below).
    if (this.draftDirty === item.item_id) this.draftDirty = null;
    this.draftSent.set(item.item_id, JSON.stringify(toWire(st.draft)));
    const answered = (clientId: string, acked: boolean): Pending | undefined =>
      this.protocol.answered(clientId, acked, this.model.get("position"), this.queueLength);
    this.channel.request(
      (clientId) => {
        this.protocol.submitted({ clientId, itemId: item.item_id, index: item.index, next });
        this.saves.submitted(item.item_id, clientId);
        return { ...submitMessage(item, label, clientId), next };
      },
      {
        onAck: (r) => {
          if (!r.duplicate) {
            this.marks.acked(item.item_id, status, r.revision ?? 1);
            this.undoStack.push({ labelId: r.label_id ?? r.client_id, itemId: item.item_id, index: item.index });
          }
          this.onAck(r, answered(r.client_id, true));
        },
        onReject: (r) => this.onReject(r, r.client_id === null ? undefined : answered(r.client_id, false)),
      },
    );
    this.clearError();
    // Show the next item at once from the prefetch window (or, after re-labelling an earlier item, the one
    // the labeler was at); Python advances its position there on the ack.
    this.show(next);
  }

  /** `z`: undo this session's last submit or skip. The view names the label it means (Python checks it
   * against its own log); with saves still in flight, or none known here (a reload), Python picks the last. */
  private undo(): void {
    const top = this.protocol.pendingCount === 0 ? this.undoStack.top() : undefined;
    this.channel.request((clientId) => ({ type: "undo", client_id: clientId, label_id: top?.labelId ?? null }), {
      onAck: (r) => {
        const itemId = r.item_id ?? "";
        const entry = this.undoStack.undone(itemId);
        this.marks.undone(itemId, r.revision ?? 0);
        this.clearError();
        // What was chosen stays as the item's unsaved draft, in the kernel too (a reload restores it).
        if (this.states.has(itemId)) {
          this.draftSent.delete(itemId);
          this.noteDraft(itemId);
        }
        // Python moved to the item (its position change shows it); the view goes there too if it knows where.
        if (entry) {
          this.show(entry.index, true);
          this.navigateModel(entry.index);
        } else this.renderStatus();
        if (this.historyOpen) this.requestHistory();
      },
      onReject: (r) => this.showError(`Nothing undone: ${r.message ?? "the undo was refused"}`),
    });
  }

  private goto(index: number): void {
    if (index < 0 || index >= this.queueLength || index === this.shown) return;
    this.show(index);
    this.navigateModel(index);
  }

  // ---------------------------------------------------------------------------------------------------
  // What the keyboard reads and calls (view/keyboard.ts)

  keyBindings(): KeyBindings {
    const c = this.config;
    const responses = this.shownItem?.display_order.length ?? 0;
    return { task: c.task, keymap: c.keymap, ratings: c.criteria.length > 0, scale: c.scale, responses };
  }

  openOverlays(): OpenOverlays {
    return { help: this.helpOpen, history: this.historyOpen, guidelines: this.guidelinesOpen };
  }

  /** An action of a key or a button. */
  dispatch(a: Action): void {
    const item = this.shownItem;
    const st = this.current;
    switch (a.type) {
      case "help":
        this.toggleHelp();
        return;
      case "escape":
        if (this.helpOpen) this.toggleHelp(false);
        else if (this.historyOpen) this.toggleHistory(false);
        else if (this.guidelinesOpen) this.toggleGuidelines(false);
        return;
      case "history":
        this.toggleHistory();
        return;
      case "undo":
        this.undo();
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
    switch (a.type) {
      case "submit":
        this.submit("submitted");
        return;
      case "skip":
        this.submit("skipped");
        return;
      case "focusRationale":
        this.rationaleEl?.focus();
        return;
      case "focusFlags":
        this.root.querySelector<HTMLElement>(".rw-flag")?.focus();
        return;
      case "rate":
        this.focusRating();
        return;
      case "diff":
        this.toggleDiff();
        return;
    }
    const edit = editDraft(st.draft, st.selected, a, item.display_order);
    if ("error" in edit) {
      this.showError(edit.error);
      return;
    }
    st.selected = edit.selected;
    this.clearError();
    this.updateControls();
  }

  /** `v` (rate): focus the first rating row with no value yet (else the first); digits then rate row by row. */
  private focusRating(): void {
    const rows = Array.from(this.itemEl?.querySelectorAll<HTMLElement>(".rw-seg") ?? []);
    const open = rows.find((r) => r.querySelector('.rw-rate[aria-checked="true"]') === null) ?? rows[0];
    open?.querySelector<HTMLButtonElement>(".rw-rate")?.focus();
  }

  /** The focused element as seen from the widget: marimo renders widgets in a shadow root, where
   * `document.activeElement` is the shadow host, never the widget's own element (docs/hosts.md). */
  private activeElement(): Element | null {
    const scope = this.root.getRootNode();
    return scope instanceof ShadowRoot ? scope.activeElement : document.activeElement;
  }

  /** The focus badge: whether the widget has the keyboard, and how to give it back / take it. */
  private updateFocusBadge(): void {
    const active = this.activeElement();
    const has = active instanceof Node && this.root.contains(active);
    this.root.classList.toggle("rw-has-keys", has);
    this.ui.keys.dataset.keys = has ? "widget" : "page";
    this.ui.keys.textContent = has
      ? "\u2328 Keys go to the widget \u2014 Esc (twice from a button or box) or a click outside gives them back"
      : "\u2328 Click here (or Tab to the widget) to label with the keyboard";
  }

  /** A digit on a focused rating button: set that rating, then focus the next rating row (or the root). */
  rateFromKey(btn: HTMLButtonElement, value: number | null): void {
    const item = this.shownItem;
    const st = this.current;
    const rid = btn.dataset.responseId ?? "";
    const crit = btn.dataset.criterion ?? "";
    if (!item || !st || !this.itemEl || !item.display_order.includes(rid) || !this.config.criteria.includes(crit))
      return;
    if (value === null) {
      this.showError(`Ratings go from 1 to ${this.config.scale}`);
      return;
    }
    const per = st.draft.ratings[rid] ?? {};
    per[crit] = value;
    st.draft.ratings[rid] = per;
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

  focusRoot(): void {
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

  /** The history panel: this session's labels from Python (newest first); a row opens its item. */
  private toggleHistory(open = !this.historyOpen): void {
    this.historyOpen = open;
    this.ui.history.hidden = !open;
    this.ui.historyBtn.setAttribute("aria-pressed", String(open));
    this.root.classList.toggle("rw-history-open", open);
    if (open) {
      this.ui.history.replaceChildren(h("div", { class: "rw-muted" }, "Loading this session's labels\u2026"));
      this.requestHistory();
      this.ui.history.scrollIntoView?.({ block: "nearest" });
    } else if (this.root.contains(document.activeElement) || document.activeElement === document.body) {
      this.focusRoot();
    }
  }

  private requestHistory(): void {
    this.channel.notify({ type: "history" });
  }

  private renderHistory(entries: HistoryEntry[]): void {
    if (!this.historyOpen) return;
    renderHistoryPanel(
      this.ui.history,
      entries,
      (index) => {
        this.toggleHistory(false);
        this.focusRoot();
        if (index < this.queueLength) this.goto(index);
      },
      () => this.toggleHistory(false),
    );
  }

  /** The marker of a revisited item and a lead's notes on it (untrusted text: textContent only). */
  private renderMarks(): void {
    const el = this.marksEl;
    const item = this.shownItem;
    if (!el || !item) return;
    const mark = this.marks.of(item);
    const parts: HTMLElement[] = [];
    if (mark) {
      const text =
        mark.state === "undone" && this.states.has(item.item_id)
          ? `${markText(mark)} \u2014 what you had chosen is kept here, unsaved`
          : markText(mark);
      parts.push(h("div", { class: "rw-marker", "data-state": mark.state, "data-revision": mark.revision }, text));
    }
    for (const n of item.notes ?? []) {
      const note = h(
        "div",
        { class: "rw-note", "data-kind": n.kind, "data-note-id": n.id, "data-read": String(n.read) },
        h("div", { class: "rw-note-head" }, noteHeading(n)),
        h("div", { class: "rw-note-text" }, n.text),
      );
      if (n.kind === "comment" && !n.read) {
        const read = h("button", { type: "button", class: "rw-btn rw-note-read" }, "Mark as read");
        read.addEventListener("click", () => {
          n.read = true;
          this.channel.notify({ type: "note_read", comment_id: n.id });
          this.renderMarks();
          this.focusRoot();
        });
        note.append(read);
      }
      parts.push(note);
    }
    el.replaceChildren(...parts);
    el.hidden = parts.length === 0;
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
    if (item?.responses.length !== 2) return;
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

  private renderDrawer(): void {
    this.drawerStale = false;
    const g = this.guide.forItem(this.shownItem);
    this.drawerVersion = g.version;
    renderDrawer(this.ui.drawer, g, this.cache, () => this.toggleGuidelines(false));
  }

  /** The button names the version of the item shown; the banner asks to acknowledge a changed version. */
  private renderBanner(): void {
    const g = this.guide.current;
    const item = this.shownItem;
    const version = this.guide.versionOf(item);
    this.ui.guidelinesBtn.hidden = !g.markdown && !g.changes;
    this.ui.guidelinesBtn.textContent = version ? `Guidelines ${version} (g)` : "Guidelines (g)";
    if (!this.guide.needsAck(item)) {
      this.ui.banner.hidden = true;
      this.ui.banner.replaceChildren();
      return;
    }
    // The changes of any version seen in the trait are kept, so they can be acknowledged after the trait moved on.
    renderBanner(this.ui.banner, version, this.guide.changesOf(version), this.cache, () => this.ackGuidelines());
  }

  private ackGuidelines(): void {
    const version = this.guide.versionOf(this.shownItem);
    // Only changes the labeler could read (not the "loading" state) can be acknowledged.
    if (version === null || typeof this.guide.changesOf(version) !== "string") return;
    this.guide.acknowledged(version);
    this.channel.notify({ type: "ack_guidelines", version });
    this.renderBanner();
    this.updateControls();
    this.focusRoot();
  }

  /** The status line says how the item on screen stands (never another item's "Saved"); the session line
   * counts labels still saving or refused across items. */
  private renderStatus(): void {
    const itemId = this.shownItem?.item_id ?? null;
    let line = statusLine(itemId, this.saves.of(itemId), this.config.durable);
    if (line.state === "saved" && this.marks.of(this.shownItem)?.state === "undone")
      line = { state: "undone", text: "Undone \u2713 \u2014 the label was withdrawn (a new revision); label it again" };
    this.ui.status.dataset.durable = String(this.config.durable);
    this.ui.status.dataset.state = line.state;
    this.ui.status.dataset.itemId = line.state ? (itemId ?? "") : "";
    this.ui.status.textContent = line.text;
    const c = this.saves.counts();
    this.ui.saves.dataset.saving = String(c.saving);
    this.ui.saves.dataset.rejected = String(c.rejected);
    this.ui.saves.dataset.saved = String(c.saved);
    this.ui.saves.textContent = sessionLine(c);
    this.ui.undo.disabled = this.undoStack.size === 0 && this.progress.done + this.progress.skipped === 0;
    this.renderMarks();
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
    this.flushDraft(); // leaving an item sends its draft at once
    prevState?.timer.setActive(false, t);
    const hadFocus = this.root.contains(this.activeElement()) || document.activeElement === document.body;
    const prevId = this.shownItem?.item_id ?? null;
    this.shown = Math.max(0, index);
    this.frontier = Math.max(this.frontier, this.shown);
    const item = this.items.get(this.shown) ?? null;
    this.shownItem = item;
    if ((item?.item_id ?? null) !== prevId) {
      this.ui.main.scrollTop = 0; // the item area may scroll (sets of 3+): a new item starts at its top
      // An error belongs to its item: a refused save's message comes back with that item, and goes with it.
      const save = this.saves.of(item?.item_id);
      if (save?.state === "rejected") this.showError(save.message);
      else this.clearError();
    }
    this.itemEl = null;
    this.marksEl = null;
    this.rationaleEl = null;
    this.counterEl = null;
    this.flagNoteEl = null;
    this.rankPanel = null;
    if (this.shown >= this.queueLength && this.queueLength > 0) {
      this.ui.main.replaceChildren(
        h(
          "div",
          { class: "rw-done" },
          h("strong", {}, "All items in this queue are done."),
          " Press Back (\u2190) to review or change a label.",
        ),
      );
    } else if (!item) {
      this.ui.main.replaceChildren(h("div", { class: "rw-loading", "data-index": this.shown }, "Loading item\u2026"));
    } else {
      const st = this.stateFor(item);
      st.timer.setActive(this.pageIsActive(), t);
      this.ui.main.replaceChildren(this.buildItem(item, st));
    }
    this.renderHeader();
    this.renderStatus();
    this.renderBanner();
    if (this.guide.forItem(this.shownItem).version !== this.drawerVersion) {
      this.drawerStale = true;
      if (this.guidelinesOpen) this.renderDrawer();
    }
    this.updateControls();
    if (hadFocus && !this.root.contains(this.activeElement())) this.focusRoot();
    // After labelling from the footer of a tall item, bring the new item's top (its prompt) into view.
    if (this.root.isConnected && this.root.getBoundingClientRect().top < 0)
      this.root.scrollIntoView?.({ block: "start" });
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
    else {
      this.rankPanel = h("div", { class: "rw-rankpanel" });
      controls.append(this.rankPanel);
    }
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
    this.marksEl = h("div", { class: "rw-marks", hidden: true });
    this.itemEl = h(
      "div",
      {
        class: `rw-item rw-task-${pairwise ? "pairwise" : "ranking"}`,
        "data-item-id": item.item_id,
        "data-index": item.index,
      },
      this.marksEl,
      renderPrompt(item.prompt, this.cache, this.config.collapse_chars),
      cards,
      controls,
    );
    if (this.showDiff && n === 2) this.renderBodies();
    return this.itemEl;
  }

  private buildCard(st: ItemState, rid: string, text: string, i: number): HTMLElement {
    const card = buildCard(rid, text, i, this.config, this.cache, st.expanded);
    if (this.config.criteria.length) card.append(buildRatings(this.config, st.draft, rid, () => this.updateControls()));
    if (this.config.task === "ranking") this.wireRankCard(card, st, rid);
    return card;
  }

  private renderBodies(): void {
    const item = this.shownItem;
    const st = this.current;
    if (!item || !st || !this.itemEl) return;
    renderDiffBodies(this.itemEl, item, this.showDiff && item.responses.length === 2, this.config, st.expanded);
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
    this.noteDraft(item.item_id);
  }

  // ---------------------------------------------------------------------------------------------------
  // Prefetch: render the next items' markdown while the browser is idle

  private scheduleWarm(): void {
    const texts: string[] = [];
    for (const it of this.items.upcoming(this.shown, 3)) {
      if (typeof it.prompt === "string") texts.push(it.prompt);
      else for (const t of it.prompt) texts.push(t.content);
      for (const r of it.responses) texts.push(r.text);
    }
    this.prefetch.schedule(texts);
  }
}
