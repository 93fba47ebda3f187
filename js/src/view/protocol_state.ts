// RankWidget's protocol state, apart from the DOM (lonboard's split of synced state from UI-only state):
// submits waiting for their ack, the navigate we wait for, the items the window brought, and the guideline
// versions seen and acknowledged. Pure: the clock is injected, nothing here touches the model or the page;
// the App asks it what to do and does it. The rules are docs/protocol.md's.
import type { Guidelines, Item } from "../types";

export interface Pending {
  clientId: string;
  itemId: string;
  index: number;
  next?: number; // where the view went after it (Python follows there on the ack); default index + 1
}

/** A navigate Python never answers (a dead kernel) must not freeze the view's navigation for good. */
export const NAV_TIMEOUT_MS = 5000;

export function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

export class ProtocolState {
  private pending = new Map<string, Pending>();
  private awaitingNav: number | null = null;
  private awaitingSince = 0;
  private navAfter = new Set<string>(); // submits Python handles before the awaited navigate

  constructor(
    private readonly clock: () => number = now,
    private readonly navTimeoutMs = NAV_TIMEOUT_MS,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** A submit was sent; its ack or reject is still to come. */
  submitted(p: Pending): void {
    this.pending.set(p.clientId, p);
  }

  /**
   * Python answered submit `clientId` (acked or rejected) while its position was `position`: forget the
   * submit and return it (undefined for an id we were not waiting for).
   *
   * A navigate sent while submits were pending is handled by Python after them. Once the last of those is
   * answered we know where Python will be when it handles the navigate: the submit's item advanced by one if
   * Python was on it and it was not the last item, else where it is. A navigate to that same position changes
   * nothing, so no `change:position` will ever answer it: stop waiting now.
   */
  answered(clientId: string, acked: boolean, position: unknown, queueLength: number): Pending | undefined {
    const pend = this.pending.get(clientId);
    if (!pend) return undefined;
    if (this.navAfter.delete(pend.clientId) && this.navAfter.size === 0 && this.awaitingNav !== null) {
      if (typeof position === "number") {
        const target = Math.min(pend.next ?? pend.index + 1, queueLength - 1);
        const advances = acked && position === pend.index && target > pend.index;
        if ((advances ? target : position) === this.awaitingNav) this.awaitingNav = null;
      }
    }
    this.pending.delete(clientId);
    return pend;
  }

  /** Is a navigate we sent still unanswered (and not timed out)? */
  waitingForNav(): boolean {
    if (this.awaitingNav !== null && this.clock() - this.awaitingSince >= this.navTimeoutMs) this.awaitingNav = null;
    return this.awaitingNav !== null;
  }

  /** Python's position changed to `p` while the view shows `shown`: is that a navigation the view follows? */
  positionChanged(p: number, shown: number, queueLength: number): boolean {
    if (this.waitingForNav()) {
      if (p === this.awaitingNav) this.awaitingNav = null;
      return false;
    }
    if (p === shown) return false;
    // Python catching up with submits we already moved past: not a navigation.
    const lo = Math.min(p, shown);
    const hi = Math.max(p, shown);
    for (const pend of this.pending.values()) if (pend.index >= lo && pend.index < hi) return false;
    return !(shown >= queueLength && p === queueLength - 1 && this.pending.size === 0);
  }

  /** The view moves to `to` while Python is at `position`: must a navigate be sent? If so it is now awaited. */
  navigate(to: number, position: unknown): boolean {
    // Already there, unless an unanswered navigate elsewhere is still to be handled by Python.
    if (position === to && this.pending.size === 0 && !this.waitingForNav()) return false;
    this.awaitingNav = to;
    this.awaitingSince = this.clock();
    this.navAfter = new Set(this.pending.keys());
    return true;
  }

  /** After the acks: does Python's position lag behind the item shown (so its prefetch window would too)? */
  needsSync(position: unknown, shown: number, queueLength: number): boolean {
    if (this.pending.size > 0 || this.waitingForNav()) return false;
    return shown < queueLength && typeof position === "number" && position !== shown;
  }
}

/** The items the `window` trait brought, by queue index, bounded to `cap` (a reject or Back may need an item
 * after it left Python's window).
 *
 * Eviction keeps the items just brought (they are around Python's position, which the view is about to show:
 * a far `w.goto()` moves Python first) and then those nearest to any of the `anchors` (the item shown, Python's
 * position). Evicting by distance from the item shown alone dropped a far jump's own items the moment they
 * arrived, and Python does not send them again (they count as sent), so the view hung on "Loading item…". */
export class ItemWindow {
  private items = new Map<number, Item>();

  constructor(private readonly cap: number) {}

  absorb(items: Item[], ...anchors: number[]): void {
    for (const item of items) this.items.set(item.index, item);
    if (this.items.size <= this.cap) return;
    const fresh = new Set(items.length <= this.cap ? items.map((it) => it.index) : []);
    const near = anchors.filter((a) => Number.isFinite(a));
    const distance = (k: number): number =>
      fresh.has(k) ? -1 : near.length ? Math.min(...near.map((a) => Math.abs(k - a))) : 0;
    // Farthest first; ties broken by index so the result does not depend on the order items arrived in.
    const far = [...this.items.keys()].sort((a, b) => distance(b) - distance(a) || b - a);
    for (const k of far.slice(0, this.items.size - this.cap)) this.items.delete(k);
  }

  get(index: number): Item | undefined {
    return this.items.get(index);
  }

  has(index: number): boolean {
    return this.items.has(index);
  }

  get size(): number {
    return this.items.size;
  }

  /** The items after `shown`, up to `ahead` of them, in queue order (what prefetch renders). */
  upcoming(shown: number, ahead: number): Item[] {
    return [...this.items.values()]
      .sort((x, y) => x.index - y.index)
      .filter((it) => it.index > shown && it.index <= shown + ahead);
  }
}

/** Guideline versions: the trait's current payload, every version it brought, and those acknowledged
 * (mirrors Python's set; the trait follows Python's position, which may differ from the item shown). */
export class GuidelineState {
  private acked = new Set<string>();
  private seen = new Map<string, Guidelines>(); // every version the trait brought (changes null: first)

  constructor(
    public current: Guidelines,
    ack: unknown,
  ) {
    this.acknowledged(ack);
    this.note();
  }

  update(g: Guidelines): void {
    this.current = g;
    this.note();
  }

  /** Python's `guideline_ack` trait, or our own acknowledgement. */
  acknowledged(version: unknown): void {
    if (typeof version === "string") this.acked.add(version);
  }

  private note(): void {
    if (this.current.version !== null) this.seen.set(this.current.version, this.current);
  }

  versionOf(item: Item | null): string | null {
    return item ? (item.guideline_version ?? this.current.version) : this.current.version;
  }

  /** The changes text of a version seen (undefined: not seen yet; null: the first version, no changes). */
  changesOf(version: string | null): string | null | undefined {
    return version !== null ? this.seen.get(version)?.changes : undefined;
  }

  /** The guidelines of the item shown when that version has been seen, else the trait's. */
  forItem(item: Item | null): Guidelines {
    const v = item ? this.versionOf(item) : null;
    return (v !== null ? this.seen.get(v) : undefined) ?? this.current;
  }

  /**
   * Must the labeler acknowledge the guidelines before submitting this item? Yes for a version that came with
   * `changes` (Python: any version after the first) until acknowledged. An item shown ahead of Python's
   * position may carry a version whose payload has not arrived yet: an unknown version is a change, blocked
   * until its changes arrive and are acknowledged.
   */
  needsAck(item: Item | null): boolean {
    if (!item) return false;
    const v = this.versionOf(item);
    if (v === null || this.acked.has(v)) return false;
    const seen = this.seen.get(v);
    return seen === undefined || seen.changes !== null;
  }
}

export type SaveState = "saving" | "saved" | "rejected";

export interface ItemSave {
  state: SaveState;
  clientId: string; // the latest submit of this item: only its answer decides the state
  message: string; // a reject's message ("" otherwise)
}

/**
 * The save state of each item the view submitted, by item id (finding 2 of issue 13: the status line showed the
 * last submit's "Saved ✓" next to another item's error). The status line shows the state of the item on
 * screen only; an answer to an older submit of an item that was submitted again does not change its state.
 */
export class SaveStates {
  private byItem = new Map<string, ItemSave>();
  private mine = new Set<string>(); // the client ids this view submitted

  submitted(itemId: string, clientId: string): void {
    this.mine.add(clientId);
    this.byItem.set(itemId, { state: "saving", clientId, message: "" });
  }

  /** Python acknowledged `clientId` for `itemId` (a repeated ack too): saved when it is that item's latest. A
   * refused item is saved too when a label this view did not send was stored for it (another view, or the
   * notebook, saved it: issue 14 showed "Not saved" after the item was saved). */
  acked(itemId: string, clientId: string): void {
    const cur = this.byItem.get(itemId);
    if (!cur) return;
    if (cur.clientId === clientId || (cur.state === "rejected" && !this.mine.has(clientId))) {
      this.byItem.set(itemId, { state: "saved", clientId, message: "" });
    }
  }

  /** Python refused `clientId` for `itemId`: rejected when it is that item's latest submit (or the item has
   * no submit of ours: a reject we cannot tie to a submit still marks its item). */
  rejected(itemId: string, clientId: string | null, message: string): void {
    const cur = this.byItem.get(itemId);
    if (cur && cur.clientId !== clientId) return;
    this.byItem.set(itemId, { state: "rejected", clientId: clientId ?? "", message });
  }

  of(itemId: string | null | undefined): ItemSave | undefined {
    return itemId ? this.byItem.get(itemId) : undefined;
  }

  /** How many items are saving / not saved (the session line under the status: never names a "saved" item). */
  counts(): { saving: number; rejected: number; saved: number } {
    const out = { saving: 0, rejected: 0, saved: 0 };
    for (const s of this.byItem.values()) out[s.state]++;
    return out;
  }
}

/** The status line for the item on screen: its own state only (none: an item this view has not submitted). */
export const IN_MEMORY_TEXT = 'Not saved to disk \u2014 kept in memory only; pass store="labels.sqlite" to keep labels';

/** `durable` false (an in-memory store): an acknowledged label is not on disk, and the line says so instead of
 * "Saved ✓" (finding 7 of issue 14). */
export function statusLine(
  itemId: string | null,
  save: ItemSave | undefined,
  durable = true,
): { state: string; text: string } {
  if (!itemId || !save) return { state: "", text: "" };
  if (save.state === "saving") return { state: "saving", text: `Saving item ${itemId}\u2026` };
  if (save.state === "saved") return { state: "saved", text: durable ? "Saved \u2713" : IN_MEMORY_TEXT };
  return { state: "rejected", text: `Not saved: item ${itemId}` };
}

/** The session line: labels still saving and labels refused, across items (empty when there are none). */
export function sessionLine(c: { saving: number; rejected: number }): string {
  const parts: string[] = [];
  if (c.saving) parts.push(`saving ${c.saving} label${c.saving === 1 ? "" : "s"}\u2026`);
  if (c.rejected) parts.push(`${c.rejected} label${c.rejected === 1 ? "" : "s"} not saved`);
  return parts.join(" \u00b7 ");
}

/** Where a newly mounted view starts: Python's `position`, or "all done" (index `queueLength`) when every item
 * of the queue is labelled or skipped and Python parked at the last one (a resumed, finished queue: issue 14
 * showed "Item 6 of 6" with Submit disabled instead of "All done"). */
export function startIndex(
  position: unknown,
  progress: { done: number; skipped: number },
  queueLength: number,
): number {
  const pos = typeof position === "number" ? position : 0;
  const finished = queueLength > 0 && progress.done + progress.skipped >= queueLength;
  return finished && pos === queueLength - 1 ? queueLength : pos;
}

/** The queue just became finished (every item labelled or skipped: labels stored by another view or by the
 * notebook) while this view shows the last item: it moves to "All done", as after its own last submit. */
export function justFinished(
  before: { done: number; skipped: number },
  after: { done: number; skipped: number },
  shown: number,
  queueLength: number,
): boolean {
  const finished = (p: { done: number; skipped: number }): boolean =>
    queueLength > 0 && p.done + p.skipped >= queueLength;
  return !finished(before) && finished(after) && shown === queueLength - 1;
}
