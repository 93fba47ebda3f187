// Keyboard map (docs/protocol.md). One table drives both the handler and the help overlay.
import { CHOICES, type Choice } from "./pairwise";
import type { Task } from "./types";

export type Action =
  | { type: "choice"; choice: Choice }
  | { type: "step"; delta: -1 | 1 }
  | { type: "submit" }
  | { type: "skip" }
  | { type: "back" }
  | { type: "forward" }
  | { type: "focusRationale" }
  | { type: "focusFlags" }
  | { type: "guidelines" }
  | { type: "diff" }
  | { type: "help" }
  | { type: "escape" }
  | { type: "select"; position: number }
  | { type: "selectStep"; delta: -1 | 1 }
  | { type: "rankAt"; rank: number }
  | { type: "move"; delta: -1 | 1 }
  | { type: "tie" }
  | { type: "untie" }
  | { type: "unrank" };

export interface KeyLike {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
}

/** Letters that are commands; a letter that names an existing response card selects it instead (ranking). */
const COMMAND_LETTERS: Record<string, Action> = {
  s: { type: "skip" },
  r: { type: "focusRationale" },
  f: { type: "focusFlags" },
  g: { type: "guidelines" },
  d: { type: "diff" },
  t: { type: "tie" },
  u: { type: "untie" },
};

/**
 * The action for a key press, or null. `responses` is the number of response cards (ranking letters).
 * Ctrl/Meta combinations are never ours (copy, save, ... stay with the host).
 */
export function keyAction(e: KeyLike, task: Task, responses: number): Action | null {
  if (e.ctrlKey || e.metaKey) return null;
  const k = e.key;
  if (k === "Escape") return { type: "escape" };
  if (e.altKey) {
    if (task === "ranking" && k === "ArrowUp") return { type: "move", delta: -1 };
    if (task === "ranking" && k === "ArrowDown") return { type: "move", delta: 1 };
    return null;
  }
  switch (k) {
    case "Enter":
      return { type: "submit" };
    case "Backspace":
    case "[":
      return { type: "back" };
    case "]":
      return { type: "forward" };
    case "?":
      return { type: "help" };
  }
  if (task === "pairwise") {
    if (/^[1-5]$/.test(k)) return { type: "choice", choice: CHOICES[Number(k) - 1] as Choice };
    if (k === "ArrowLeft") return { type: "step", delta: -1 };
    if (k === "ArrowRight") return { type: "step", delta: 1 };
    const cmd = COMMAND_LETTERS[k];
    if (cmd && cmd.type !== "tie" && cmd.type !== "untie") return cmd;
    return null;
  }
  if (/^[1-9]$/.test(k)) return { type: "rankAt", rank: Number(k) };
  if (k === "0" || k === "Delete") return { type: "unrank" };
  if (k === "ArrowUp" || k === "ArrowLeft") return { type: "selectStep", delta: -1 };
  if (k === "ArrowDown" || k === "ArrowRight") return { type: "selectStep", delta: 1 };
  if (/^[a-z]$/.test(k)) {
    const pos = k.charCodeAt(0) - 97;
    if (pos < responses) return { type: "select", position: pos };
    return COMMAND_LETTERS[k] ?? null;
  }
  if (/^[A-Z]$/.test(k)) {
    // Shift+letter always selects, so cards whose letter is also a command stay reachable.
    const pos = k.charCodeAt(0) - 65;
    if (pos < responses) return { type: "select", position: pos };
  }
  return null;
}

/**
 * A digit typed while a rating button has the focus rates that response on that criterion (the focus scopes
 * the digits, like a text box scopes letters): the value 1..scale (`0` = 10 on a 10-point scale), or null when
 * the digit is outside the scale. Not a digit, or a modifier held: undefined (not a rating key).
 */
export function ratingKey(e: KeyLike, scale: number): number | null | undefined {
  if (e.ctrlKey || e.metaKey || e.altKey || !/^[0-9]$/.test(e.key)) return undefined;
  const v = e.key === "0" ? 10 : Number(e.key);
  return v <= scale ? v : null;
}

export interface Shortcut {
  keys: string;
  does: string;
}

export function shortcuts(task: Task, opts: { ratings?: boolean; scale?: number } = {}): Shortcut[] {
  const top = Math.min(opts.scale ?? 5, 10);
  const ratings: Shortcut[] = opts.ratings
    ? [
        {
          keys: `1 \u2026 ${top === 10 ? "9, 0 = 10" : top} (on a rating button)`,
          does: "Rate that response on that criterion; the focus moves to the next rating (Tab reaches the first)",
        },
      ]
    : [];
  const common: Shortcut[] = [
    ...ratings,
    { keys: "Enter", does: "Submit" },
    { keys: "s", does: "Skip this item" },
    { keys: "Backspace or [", does: "Back to the previous item" },
    { keys: "]", does: "Forward to the next item" },
    { keys: "r", does: "Write a rationale (focus the text box)" },
    { keys: "f", does: "Flags (focus the first flag)" },
    { keys: "g", does: "Show / hide the guidelines" },
    { keys: "?", does: "Show / hide this help" },
    { keys: "Esc", does: "Close an overlay, or leave a text box" },
    { keys: "Tab / Shift+Tab", does: "Move between buttons (ratings, flags); Space presses" },
  ];
  if (task === "pairwise") {
    return [
      { keys: "1", does: "A much better" },
      { keys: "2", does: "A better" },
      { keys: "3", does: "Tie" },
      { keys: "4", does: "B better" },
      { keys: "5", does: "B much better" },
      { keys: "\u2190 / \u2192", does: "Move the preference one step left / right" },
      { keys: "d", does: "Show / hide the word diff between A and B" },
      ...common,
    ];
  }
  return [
    { keys: "a \u2026 z (Shift+letter)", does: "Select response card A, B, \u2026" },
    { keys: "\u2191 \u2193 \u2190 \u2192", does: "Select the previous / next card" },
    { keys: "1 \u2026 9", does: "Give the selected response that rank (the rank of another card = tie with it)" },
    { keys: "Alt+\u2191 / Alt+\u2193", does: "Move the selected response up / down one place" },
    { keys: "t", does: "Tie the selected response with the group above" },
    { keys: "u", does: "Untie the selected response" },
    { keys: "0 or Delete", does: "Unrank the selected response" },
    ...common,
  ];
}
