// RankWidget's protocol state, apart from the DOM (lonboard's split of synced state from UI-only state):
// submits waiting for their ack, the navigate we wait for, the items the window brought, and the guideline
// versions seen and acknowledged. Pure: the clock is injected, nothing here touches the model or the page;
// the App asks it what to do and does it. The rules are docs/protocol.md's.
import type { Guidelines, Item } from "../types";

export interface Pending {
  clientId: string;
  itemId: string;
  index: number;
}

/** A navigate Python never answers (a dead kernel) must not freeze the view's navigation for good. */
export const NAV_TIMEOUT_MS = 5000;

export function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

export class ProtocolState {
  private pending = new Map<string, Pending>();
  private lastClientId: string | null = null;
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
    this.lastClientId = p.clientId;
  }

  /** Is this the most recent submit (the one the save status shows)? */
  isLatest(clientId: string): boolean {
    return clientId === this.lastClientId;
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
        const advances = acked && position === pend.index && pend.index + 1 < queueLength;
        if ((advances ? pend.index + 1 : position) === this.awaitingNav) this.awaitingNav = null;
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

/** The items the `window` trait brought, by queue index, bounded to the `cap` nearest the item shown
 * (a reject or Back may need an item after it left Python's window). */
export class ItemWindow {
  private items = new Map<number, Item>();

  constructor(private readonly cap: number) {}

  absorb(items: Item[], shown: number): void {
    for (const item of items) this.items.set(item.index, item);
    if (this.items.size > this.cap) {
      const far = [...this.items.keys()].sort((a, b) => Math.abs(b - shown) - Math.abs(a - shown));
      for (const k of far.slice(0, this.items.size - this.cap)) this.items.delete(k);
    }
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
