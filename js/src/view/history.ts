// Undo, history and "where was I" for the labelling view (issue 14 findings 6 and 8), apart from the DOM:
// the marker an item shows (labelled / skipped / undone), the session's undo stack as the view knows it,
// where the next submit goes (back to the furthest item reached), the history panel's entries and the
// review notes (a lead's re-queue reason, comments). Pure: everything from Python is parsed, never cast.
import { isRecord } from "../coerce";
import type { Item, Note } from "../types";

export type MarkState = "labelled" | "skipped" | "undone";

export interface Mark {
  state: MarkState;
  revision: number;
}

/** The label state of the items this view saw saved or undone, by item id; else the item's prior label. */
export class LabelMarks {
  private byItem = new Map<string, Mark>();

  /** Python stored a submit (`submitted`) or skip of `itemId` as `revision`. */
  acked(itemId: string, status: "submitted" | "skipped", revision: number): void {
    this.byItem.set(itemId, { state: status === "submitted" ? "labelled" : "skipped", revision });
  }

  /** An undo withdrew the label of `itemId`; `revision` is the withdrawing revision's. */
  undone(itemId: string, revision: number): void {
    this.byItem.set(itemId, { state: "undone", revision });
  }

  of(item: Item | null): Mark | null {
    if (!item) return null;
    const own = this.byItem.get(item.item_id);
    if (own) return own;
    const prior = item.label;
    if (!prior?.status) return null;
    const revision = prior.revision ?? 1;
    if (prior.status === "submitted") return { state: "labelled", revision };
    if (prior.status === "skipped") return { state: "skipped", revision };
    if (prior.status === "withdrawn") return { state: "undone", revision };
    return null;
  }
}

/** The marker's words (shown on a revisited item; never a verdict). */
export function markText(m: Mark | null): string {
  if (!m) return "";
  if (m.state === "labelled") return `Labelled (revision ${m.revision}) \u2014 submitting again saves a new revision`;
  if (m.state === "skipped") return "Skipped \u2014 no verdict was saved; label it now or skip again";
  return `Undone \u2014 the label was withdrawn (revision ${m.revision}); label it again`;
}

/** Where to go after submitting the item at `index`: the next item, or, after re-labelling an earlier item,
 * back to `frontier` (the furthest item this view reached: where the labeler was). `queueLength` = all done. */
export function nextIndex(index: number, frontier: number, queueLength: number): number {
  return Math.min(Math.max(index + 1, frontier), queueLength);
}

export interface UndoEntry {
  labelId: string;
  itemId: string;
  index: number;
}

/** This view's saved submits and skips, newest last (what `z` undoes; Python checks the id against its own
 * log, and picks the last one itself when the view sends none: after a reload, or with saves in flight). */
export class UndoStack {
  private entries: UndoEntry[] = [];

  push(e: UndoEntry): void {
    this.entries.push(e);
  }

  top(): UndoEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  /** The undo of `itemId` was stored: drop its newest entry; returns it. */
  undone(itemId: string): UndoEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]?.itemId === itemId) return this.entries.splice(i, 1)[0];
    }
    return undefined;
  }

  get size(): number {
    return this.entries.length;
  }
}

export interface HistoryEntry {
  labelId: string;
  itemId: string;
  index: number;
  state: "saved" | "skipped" | "undone";
  revision: number;
  at: string;
  summary: string;
  current: boolean;
}

const STATES = new Set(["saved", "skipped", "undone"]);

/** Python's `history` message as entries (newest first), or null when the message is not one. */
export function parseHistory(msg: unknown): HistoryEntry[] | null {
  if (!isRecord(msg) || msg.type !== "history" || !Array.isArray(msg.entries)) return null;
  const out: HistoryEntry[] = [];
  for (const e of msg.entries) {
    if (!isRecord(e) || typeof e.item_id !== "string" || typeof e.index !== "number") continue;
    const state = typeof e.state === "string" && STATES.has(e.state) ? (e.state as HistoryEntry["state"]) : "saved";
    out.push({
      labelId: typeof e.label_id === "string" ? e.label_id : "",
      itemId: e.item_id,
      index: Math.trunc(e.index),
      state,
      revision: typeof e.revision === "number" ? e.revision : 1,
      at: typeof e.at === "string" ? e.at : "",
      summary: typeof e.summary === "string" ? e.summary.slice(0, 200) : "",
      current: e.current === true,
    });
  }
  return out;
}

/** "15:42" from an ISO time (the local clock), or the text itself when it is not a time. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso.slice(0, 40);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** One history row's text: "Item 4 · p-03 · A better · 15:42:10 · saved (revision 1)". */
export function historyText(e: HistoryEntry): string {
  const state = e.state === "saved" ? `saved (revision ${e.revision})` : e.state;
  return `Item ${e.index + 1} \u00b7 ${e.itemId} \u00b7 ${e.summary} \u00b7 ${clockTime(e.at)} \u00b7 ${state}`;
}

/** A note's heading (its text is shown apart, as text). */
export function noteHeading(n: Note): string {
  const when = n.at ? ` \u00b7 ${n.at.slice(0, 16).replace("T", " ")} UTC` : "";
  if (n.kind === "requeue") return `Sent back for review by ${n.by}${n.queue ? ` (queue ${n.queue})` : ""}${when}`;
  return `Comment from ${n.by} on your label${when}${n.read ? " \u00b7 read" : ""}`;
}
