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
  | { type: "rate" }
  | { type: "escape" }
  | { type: "select"; position: number }
  | { type: "selectStep"; delta: -1 | 1 }
  | { type: "rankAt"; rank: number }
  | { type: "move"; delta: -1 | 1 }
  | { type: "tie" }
  | { type: "untie" }
  | { type: "unrank" }
  | { type: "undo" }
  | { type: "history" };

export interface KeyLike {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey?: boolean;
}

/** The remappable actions (`RankWidget(keymap=...)`, src/rank_widget/keymap.py) and their default keys. */
export const DEFAULT_KEYMAP: Readonly<Record<string, readonly string[]>> = {
  submit: ["Enter"],
  skip: ["s"],
  back: ["Backspace", "["],
  forward: ["]"],
  rationale: ["r"],
  flags: ["f"],
  guidelines: ["g"],
  diff: ["d"],
  help: ["?"],
  rate: ["v"],
  tie: ["t"],
  untie: ["u"],
  unrank: ["0", "Delete"],
  undo: ["z", "Ctrl+z", "Meta+z"],
  history: ["h"],
};
export type Keymap = Record<string, readonly string[]>;

const ACTIONS: Record<string, Action> = {
  submit: { type: "submit" },
  skip: { type: "skip" },
  back: { type: "back" },
  forward: { type: "forward" },
  rationale: { type: "focusRationale" },
  flags: { type: "focusFlags" },
  guidelines: { type: "guidelines" },
  diff: { type: "diff" },
  help: { type: "help" },
  rate: { type: "rate" },
  tie: { type: "tie" },
  untie: { type: "untie" },
  unrank: { type: "unrank" },
  undo: { type: "undo" },
  history: { type: "history" },
};
const RANKING_ONLY = new Set(["tie", "untie", "unrank"]);

/** The keymap from config: the defaults, with each known action Python sent replaced (unknown ones dropped). */
export function parseKeymap(raw: unknown): Keymap {
  const out: Keymap = { ...DEFAULT_KEYMAP };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return out;
  for (const [action, keys] of Object.entries(raw as Record<string, unknown>)) {
    if (!(action in DEFAULT_KEYMAP) || !Array.isArray(keys)) continue;
    out[action] = keys.filter((k): k is string => typeof k === "string" && k.length > 0);
  }
  return out;
}

/** A key press in the keymap's syntax: modifiers Ctrl, Alt, Shift (named keys only), Meta, then the key. */
export function keyName(e: KeyLike): string {
  const mods: string[] = [];
  if (e.ctrlKey) mods.push("Ctrl");
  if (e.altKey) mods.push("Alt");
  if (e.shiftKey && e.key.length > 1) mods.push("Shift");
  if (e.metaKey) mods.push("Meta");
  return [...mods, e.key].join("+");
}

/** The remappable action bound to this key press in `keymap`, as its name, or null. */
export function boundAction(e: KeyLike, keymap: Keymap): string | null {
  const name = keyName(e);
  for (const [action, keys] of Object.entries(keymap)) if (keys.includes(name)) return action;
  // Shift+Enter (JupyterLab's "run cell" habit) does what Enter does, unless Shift+Enter is bound itself.
  if (e.shiftKey && e.key.length > 1) return boundAction({ ...e, shiftKey: false }, keymap);
  return null;
}

/**
 * The action for a key press, or null. `responses` is the number of response cards (ranking letters);
 * `keymap` the active map (RankWidget(keymap=...)); `ratings`: the session has rating criteria.
 * Escape, the digits, the arrows and the card letters are fixed; the rest comes from the keymap.
 */
export function keyAction(
  e: KeyLike,
  task: Task,
  responses: number,
  keymap: Keymap = DEFAULT_KEYMAP,
  ratings = false,
): Action | null {
  const k = e.key;
  const plain = !e.ctrlKey && !e.metaKey && !e.altKey;
  if (k === "Escape" && plain) return { type: "escape" };
  // A letter naming a response card selects it (ranking); Shift+letter too, so every card stays reachable.
  if (task === "ranking" && plain && /^[a-zA-Z]$/.test(k)) {
    const pos = k.toLowerCase().charCodeAt(0) - 97;
    if (pos < responses) return { type: "select", position: pos };
  }
  const bound = boundAction(e, keymap);
  if (bound !== null) {
    if (RANKING_ONLY.has(bound) && task !== "ranking") return null;
    if (bound === "rate" && !ratings) return null;
    return ACTIONS[bound] ?? null;
  }
  if (e.ctrlKey || e.metaKey) return null;
  if (e.altKey) {
    if (task === "ranking" && k === "ArrowUp") return { type: "move", delta: -1 };
    if (task === "ranking" && k === "ArrowDown") return { type: "move", delta: 1 };
    return null;
  }
  if (task === "pairwise") {
    if (/^[1-5]$/.test(k)) return { type: "choice", choice: CHOICES[Number(k) - 1] as Choice };
    if (k === "ArrowLeft") return { type: "step", delta: -1 };
    if (k === "ArrowRight") return { type: "step", delta: 1 };
    return null;
  }
  if (/^[1-9]$/.test(k)) return { type: "rankAt", rank: Number(k) };
  if (k === "ArrowUp" || k === "ArrowLeft") return { type: "selectStep", delta: -1 };
  if (k === "ArrowDown" || k === "ArrowRight") return { type: "selectStep", delta: 1 };
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

/** The keys of `action` as the help shows them ("Backspace or ["), or null when it has none. */
function keysOf(keymap: Keymap, action: string): string | null {
  const keys = keymap[action] ?? [];
  return keys.length ? keys.join(" or ") : null;
}

/** The help overlay's rows: exactly the active behaviour (the keymap in use, the task, ratings on or off). */
export function shortcuts(task: Task, opts: { ratings?: boolean; scale?: number; keymap?: Keymap } = {}): Shortcut[] {
  const km = opts.keymap ?? DEFAULT_KEYMAP;
  const top = Math.min(opts.scale ?? 5, 10);
  const rows: Shortcut[] = [];
  const add = (action: string, does: string): void => {
    const keys = keysOf(km, action);
    if (keys) rows.push({ keys, does });
  };
  if (task === "pairwise") {
    rows.push(
      { keys: "1", does: "A much better" },
      { keys: "2", does: "A better" },
      { keys: "3", does: "Tie" },
      { keys: "4", does: "B better" },
      { keys: "5", does: "B much better" },
      { keys: "\u2190 / \u2192", does: "Move the preference one step left / right" },
    );
    add("diff", "Show / hide the word diff between A and B");
  } else {
    rows.push(
      {
        keys: "a \u2026 h (Shift+letter)",
        does: "Select response card A, B, \u2026 (a card's letter wins over a command)",
      },
      { keys: "\u2191 \u2193 \u2190 \u2192", does: "Select the previous / next card" },
      {
        keys: "1 \u2026 9",
        does: "Give the selected response that rank: a 2, b 1, c 4, d 3 ranks B > A > D > C; the same number twice = a tie",
      },
      { keys: "Alt+\u2191 / Alt+\u2193", does: "Move the selected response up / down one place" },
    );
    add("tie", "Tie the selected response with the group above");
    add("untie", "Untie the selected response");
    add("unrank", "Unrank the selected response");
  }
  if (opts.ratings) {
    const digits = top === 10 ? "1 \u2026 9, 0 = 10" : `1 \u2026 ${top}`;
    const rate = keysOf(km, "rate");
    if (rate)
      rows.push({
        keys: rate,
        does:
          `Rate: focus the first rating not given yet, then type ${digits} per rating \u2014 response A's ` +
          "criteria in order, then B's, \u2026 (each digit rates and moves on; Esc stops)",
      });
  }
  add("submit", "Submit, from anywhere but a text box (Ctrl/Cmd+Enter submits from a text box)");
  add("skip", "Skip this item");
  add("undo", "Undo the last submit or skip: a new revision withdraws it and the item comes back to label again");
  add("history", "Show / hide this session's labels: \u2191 \u2193 move, Enter opens the item, Esc closes");
  add("back", "Back to the previous item");
  add("forward", "Forward to the next item");
  add("rationale", "Write a rationale (focus the text box)");
  add("flags", "Flags (focus the first flag; Space toggles a flag, Tab moves to the next)");
  add("guidelines", "Show / hide the guidelines");
  add("help", "Show / hide this help");
  rows.push(
    {
      keys: "Esc",
      does: "Close an overlay, or bring the focus back to the widget; on the widget: give the keys back to the notebook",
    },
    { keys: "Tab / Shift+Tab", does: "Move between controls; Space presses a flag or a rating, never a verdict" },
  );
  return rows;
}
