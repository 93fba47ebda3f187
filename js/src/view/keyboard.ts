// The widget's keyboard (docs/labeling.md "Keyboard"): what a key press does, and from where. keymap.ts maps a
// key to an action; this module adds the focus rules (text boxes, rating buttons, the buttons of an overlay, the
// history panel's rows), what acts while the help or the history is open, and Esc. The App implements
// KeyActions: the few things the keys read from the view and the actions they call.
import { type Action, type Keymap, keyAction, ratingKey } from "../keymap";
import { isTextEntry } from "../shared/dom";
import type { Task } from "../types";

/** The bindings in force: from the config, and the item on screen. */
export interface KeyBindings {
  task: Task;
  keymap: Keymap;
  /** The session asks for ratings: the rate key acts. */
  ratings: boolean;
  /** The rating scale: a digit above it on a rating button is refused. */
  scale: number;
  /** The response cards on screen (ranking: the letters that select one). */
  responses: number;
}

/** The overlays open over the item. */
export interface OpenOverlays {
  help: boolean;
  history: boolean;
  guidelines: boolean;
}

/** The view as the keyboard sees it. */
export interface KeyActions {
  /** The widget's root: its keys are read here; it holds the keyboard between controls. */
  readonly root: HTMLElement;
  keyBindings(): KeyBindings;
  openOverlays(): OpenOverlays;
  /** Do an action, as its button does. */
  dispatch(action: Action): void;
  /** Give the keyboard to the root. */
  focusRoot(): void;
  /** A digit typed on a focused rating button: its value, or null when it is outside the scale. */
  rateFromKey(button: HTMLButtonElement, value: number | null): void;
}

/** Listen for the keys typed in `view.root`; returns the cleanup. */
export function bindKeys(view: KeyActions): () => void {
  const down = (e: KeyboardEvent): void => onKeyDown(e, view);
  // Keys typed in the widget never reach the host, in any phase the host listens in (keyup, keypress too).
  const stop = (e: Event): void => e.stopPropagation();
  view.root.addEventListener("keydown", down);
  for (const t of ["keyup", "keypress"]) view.root.addEventListener(t, stop);
  return () => {
    view.root.removeEventListener("keydown", down);
    for (const t of ["keyup", "keypress"]) view.root.removeEventListener(t, stop);
  };
}

/**
 * The one focus model: while the widget has the keyboard no key reaches the host (JupyterLab's and Notebook 7's
 * command mode: d d, a, b, x, z, Enter, Shift+Enter, ...). Enter submits from anywhere but a text box
 * (Ctrl/Cmd+Enter submits from one); Esc brings the focus back to the widget, and from the widget itself
 * (nothing open) gives the keyboard back to the page.
 */
export function onKeyDown(e: KeyboardEvent, view: KeyActions): void {
  e.stopPropagation();
  const target = e.target as HTMLElement | null;
  const open = view.openOverlays();
  const plain = !e.ctrlKey && !e.metaKey && !e.altKey;
  if (isTextEntry(target)) {
    if (e.key === "Escape") {
      e.preventDefault();
      view.focusRoot();
    } else if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey && !open.help) {
      e.preventDefault();
      view.focusRoot();
      view.dispatch({ type: "submit" });
    }
    return; // text boxes swallow every other shortcut
  }
  if (e.key === "Escape" && plain) {
    e.preventDefault();
    if (open.help || open.guidelines || open.history) view.dispatch({ type: "escape" });
    else if (target !== view.root) view.focusRoot();
    else releaseKeyboard(view.root);
    return;
  }
  const bindings = view.keyBindings();
  if (target instanceof HTMLButtonElement && target.classList.contains("rw-rate")) {
    const v = ratingKey(e, bindings.scale);
    if (v !== undefined) {
      // Digits on a focused rating button rate (never the pairwise choice / rank behind it).
      e.preventDefault();
      if (!open.help) view.rateFromKey(target, v);
      return;
    }
  }
  const isButton = target instanceof HTMLButtonElement;
  // Buttons of an overlay or the guidelines banner are pressed by Enter/Space as usual (closing, acknowledging).
  const dialogButton =
    isButton && target.closest(".rw-help, .rw-banner, .rw-guidelines, .rw-history, .rw-marks") !== null;
  if (dialogButton && (e.key === "Enter" || e.key === " ")) return;
  const panel = open.history ? (target?.closest<HTMLElement>(".rw-history") ?? null) : null;
  if (panel && target && moveInHistory(panel, target, e.key)) {
    e.preventDefault();
    return;
  }
  if (e.key === " ") {
    // Space presses a focused flag or rating (toggles), never a verdict button nor the header toggles.
    if (isButton && plain && target.matches(".rw-flag, .rw-rate")) return;
    e.preventDefault();
    return;
  }
  const action = keyAction(e, bindings.task, bindings.responses, bindings.keymap, bindings.ratings);
  if (!action) {
    // Enter on a focused button is never a native press (that lost verdicts: issue 14 finding 1).
    if (isButton && e.key === "Enter") e.preventDefault();
    return;
  }
  e.preventDefault();
  // The help overlay covers the item: only ? and Esc act while it is open.
  if (open.help && action.type !== "help" && action.type !== "escape") return;
  // The history panel: only its own key, undo and Esc act while it is open (Enter presses an entry).
  if (open.history && !["history", "escape", "undo", "help"].includes(action.type)) return;
  if (action.type === "submit" && target !== view.root) view.focusRoot();
  view.dispatch(action);
}

/** Esc on the widget itself: give the keyboard back to the page (the notebook cell around the widget). */
export function releaseKeyboard(root: HTMLElement): void {
  const around = root.parentElement?.closest<HTMLElement>("[tabindex]");
  if (around) around.focus();
  else root.blur();
}

/** Arrow keys, Home and End between the rows of the history `panel`; true when the key was one of those. */
export function moveInHistory(panel: HTMLElement, target: HTMLElement, key: string): boolean {
  const rows = Array.from(panel.querySelectorAll<HTMLButtonElement>(".rw-history-entry"));
  if (!rows.length || !["ArrowDown", "ArrowUp", "Home", "End"].includes(key)) return false;
  const i = rows.indexOf(target as HTMLButtonElement);
  const to =
    key === "Home"
      ? 0
      : key === "End"
        ? rows.length - 1
        : Math.min(rows.length - 1, Math.max(0, i + (key === "ArrowDown" ? 1 : -1)));
  rows[to]?.focus();
  return true;
}
