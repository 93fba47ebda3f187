// The keyboard module on its own (src/view/keyboard.ts): key presses on a bare DOM and a fake KeyActions.
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Action, DEFAULT_KEYMAP, parseKeymap } from "../src/keymap";
import {
  bindKeys,
  type KeyActions,
  type KeyBindings,
  moveInHistory,
  type OpenOverlays,
  releaseKeyboard,
} from "../src/view/keyboard";
import { key } from "./fake_model";

interface Fake extends KeyActions {
  bindings: KeyBindings;
  open: OpenOverlays;
  calls: string[];
  dispatched: Action[];
  rated: [HTMLButtonElement, number | null][];
  el: (sel: string) => HTMLElement;
}

const unbinds: (() => void)[] = [];
afterEach(() => {
  for (const u of unbinds.splice(0)) u();
  document.body.replaceChildren();
});

/** A root with a text box, a flag, a rating button, a verdict button and a history panel with three rows. */
function fakeView(bindings: Partial<KeyBindings> = {}): Fake {
  const cell = document.createElement("div");
  cell.tabIndex = -1;
  cell.className = "cell";
  document.body.append(cell);
  const root = document.createElement("div");
  root.tabIndex = 0;
  root.innerHTML = `
    <textarea class="rw-rationale"></textarea>
    <input class="rw-flag-note" type="text">
    <button class="rw-flag">Harmful</button>
    <button class="rw-rate" data-response-id="r1" data-criterion="helpful">3</button>
    <button class="rw-submit">Submit</button>
    <aside class="rw-help"><button class="rw-help-close">Close</button></aside>
    <aside class="rw-history">
      <button class="rw-history-entry" data-n="0">0</button>
      <button class="rw-history-entry" data-n="1">1</button>
      <button class="rw-history-entry" data-n="2">2</button>
    </aside>`;
  cell.append(root);
  const view: Fake = {
    root,
    bindings: { task: "pairwise", keymap: DEFAULT_KEYMAP, ratings: false, scale: 5, responses: 2, ...bindings },
    open: { help: false, history: false, guidelines: false },
    calls: [],
    dispatched: [],
    rated: [],
    el: (sel) => {
      const el = root.querySelector<HTMLElement>(sel);
      if (!el) throw new Error(`no ${sel}`);
      return el;
    },
    keyBindings: () => view.bindings,
    openOverlays: () => view.open,
    dispatch: (a) => {
      view.calls.push(`dispatch:${a.type}`);
      view.dispatched.push(a);
    },
    focusRoot: () => {
      view.calls.push("focusRoot");
      root.focus();
    },
    rateFromKey: (b, v) => {
      view.calls.push("rate");
      view.rated.push([b, v]);
    },
  };
  unbinds.push(bindKeys(view));
  return view;
}

describe("a key on the widget calls its action", () => {
  it("pairwise: digits choose, arrows step, the keymap's keys do the rest; each key is kept from the page", () => {
    const v = fakeView();
    const page = vi.fn();
    document.addEventListener("keydown", page);
    const e = key(v.root, "2");
    expect(v.dispatched).toEqual([{ type: "choice", choice: "A2" }]);
    expect(e.defaultPrevented).toBe(true);
    for (const k of ["ArrowRight", "Enter", "s", "[", "]", "z", "h", "?", "g", "r", "f"]) key(v.root, k);
    key(v.root, "z", { ctrlKey: true });
    key(v.root, "Enter", { shiftKey: true });
    expect(v.dispatched.slice(1)).toEqual([
      { type: "step", delta: 1 },
      { type: "submit" },
      { type: "skip" },
      { type: "back" },
      { type: "forward" },
      { type: "undo" },
      { type: "history" },
      { type: "help" },
      { type: "guidelines" },
      { type: "focusRationale" },
      { type: "focusFlags" },
      { type: "undo" },
      { type: "submit" },
    ]);
    expect(page).not.toHaveBeenCalled();
    document.removeEventListener("keydown", page);
  });

  it("ranking: a card's letter selects it, digits rank, Alt+arrows move; a key of no action is left alone", () => {
    const v = fakeView({ task: "ranking", responses: 3 });
    key(v.root, "c");
    key(v.root, "B", { shiftKey: true });
    key(v.root, "2");
    key(v.root, "ArrowUp", { altKey: true });
    key(v.root, "t");
    key(v.root, "0");
    expect(v.dispatched).toEqual([
      { type: "select", position: 2 },
      { type: "select", position: 1 },
      { type: "rankAt", rank: 2 },
      { type: "move", delta: -1 },
      { type: "tie" },
      { type: "unrank" },
    ]);
    const e = key(v.root, "x"); // no card x (3 cards), no command
    expect(e.defaultPrevented).toBe(false);
    expect(v.dispatched).toHaveLength(6);
  });

  it("keyup and keypress never reach the page either; the cleanup unbinds every key", () => {
    const v = fakeView();
    const page = vi.fn();
    document.addEventListener("keyup", page);
    document.addEventListener("keypress", page);
    v.root.dispatchEvent(new KeyboardEvent("keyup", { key: "1", bubbles: true }));
    v.root.dispatchEvent(new KeyboardEvent("keypress", { key: "1", bubbles: true }));
    expect(page).not.toHaveBeenCalled();
    for (const u of unbinds.splice(0)) u();
    key(v.root, "1");
    v.root.dispatchEvent(new KeyboardEvent("keyup", { key: "1", bubbles: true }));
    expect(v.dispatched).toEqual([]);
    expect(page).toHaveBeenCalledTimes(1);
    document.removeEventListener("keyup", page);
    document.removeEventListener("keypress", page);
  });
});

describe("keys in a text box", () => {
  it("are typed, not shortcuts: no action, no preventDefault, and still kept from the page", () => {
    const v = fakeView();
    const page = vi.fn();
    document.addEventListener("keydown", page);
    for (const box of [v.el("textarea"), v.el(".rw-flag-note")]) {
      for (const k of ["1", "s", "z", "?", "Enter", " ", "Backspace", "ArrowLeft"]) {
        expect(key(box, k).defaultPrevented).toBe(false);
      }
      key(box, "Enter", { shiftKey: true });
    }
    expect(v.calls).toEqual([]);
    expect(page).not.toHaveBeenCalled();
    document.removeEventListener("keydown", page);
  });

  it("Esc leaves the box for the root; Ctrl/Cmd+Enter submits from it (not while the help is open)", () => {
    const v = fakeView();
    const box = v.el("textarea");
    expect(key(box, "Escape").defaultPrevented).toBe(true);
    expect(v.calls).toEqual(["focusRoot"]);
    key(box, "Enter", { ctrlKey: true });
    key(box, "Enter", { metaKey: true });
    key(box, "Enter", { ctrlKey: true, altKey: true });
    expect(v.calls).toEqual(["focusRoot", "focusRoot", "dispatch:submit", "focusRoot", "dispatch:submit"]);
    v.open.help = true;
    expect(key(box, "Enter", { ctrlKey: true }).defaultPrevented).toBe(false);
    expect(v.calls).toHaveLength(5);
  });
});

describe("a remapped key", () => {
  it("acts for its action; the default key it replaced does nothing, even on a button", () => {
    const v = fakeView({ keymap: parseKeymap({ submit: ["x"], undo: ["Ctrl+u"] }) });
    key(v.root, "x");
    key(v.root, "u", { ctrlKey: true });
    expect(v.dispatched).toEqual([{ type: "submit" }, { type: "undo" }]);
    expect(key(v.root, "Enter").defaultPrevented).toBe(false);
    key(v.root, "z");
    expect(v.dispatched).toHaveLength(2);
    // Enter on a focused button is never a native press, bound or not.
    expect(key(v.el(".rw-submit"), "Enter").defaultPrevented).toBe(true);
    expect(v.dispatched).toHaveLength(2);
    // A remapped submit from a button first takes the keyboard back to the root.
    key(v.el(".rw-submit"), "x");
    expect(v.calls.slice(-2)).toEqual(["focusRoot", "dispatch:submit"]);
  });
});

describe("overlays and Esc", () => {
  it("while the help is open only ? and Esc act", () => {
    const v = fakeView();
    v.open.help = true;
    for (const k of ["1", "Enter", "s", "z", "h", "g"]) expect(key(v.root, k).defaultPrevented).toBe(true);
    expect(v.dispatched).toEqual([]);
    key(v.root, "?");
    key(v.root, "Escape");
    expect(v.dispatched).toEqual([{ type: "help" }, { type: "escape" }]);
    // The help's own buttons are pressed by Enter and Space as usual.
    expect(key(v.el(".rw-help-close"), "Enter").defaultPrevented).toBe(false);
    expect(key(v.el(".rw-help-close"), " ").defaultPrevented).toBe(false);
    expect(v.dispatched).toHaveLength(2);
  });

  it("while the history is open: its key, undo, help and Esc act; arrows, Home and End move between its rows", () => {
    const v = fakeView();
    v.open.history = true;
    for (const k of ["1", "Enter", "s", "g", "["]) key(v.root, k);
    expect(v.dispatched).toEqual([]);
    for (const k of ["h", "z", "?", "Escape"]) key(v.root, k);
    expect(v.dispatched.map((a) => a.type)).toEqual(["history", "undo", "help", "escape"]);
    const rows = Array.from(v.root.querySelectorAll<HTMLButtonElement>(".rw-history-entry"));
    rows[0]?.focus();
    expect(key(rows[0] as HTMLElement, "ArrowDown").defaultPrevented).toBe(true);
    expect(document.activeElement).toBe(rows[1]);
    key(rows[1] as HTMLElement, "End");
    expect(document.activeElement).toBe(rows[2]);
    key(rows[2] as HTMLElement, "ArrowDown"); // stays on the last row
    expect(document.activeElement).toBe(rows[2]);
    key(rows[2] as HTMLElement, "Home");
    expect(document.activeElement).toBe(rows[0]);
    key(rows[0] as HTMLElement, "ArrowUp");
    expect(document.activeElement).toBe(rows[0]);
    // Enter presses the row (native), it is no shortcut.
    expect(key(rows[0] as HTMLElement, "Enter").defaultPrevented).toBe(false);
    expect(v.dispatched).toHaveLength(4);
  });

  it("Esc closes what is open, else brings the focus back to the root, and from the root gives the keyboard back", () => {
    const v = fakeView();
    v.open.guidelines = true;
    key(v.root, "Escape");
    expect(v.dispatched).toEqual([{ type: "escape" }]);
    v.open.guidelines = false;
    const flag = v.el(".rw-flag");
    flag.focus();
    key(flag, "Escape");
    expect(document.activeElement).toBe(v.root);
    expect(v.calls).toEqual(["dispatch:escape", "focusRoot"]);
    key(v.root, "Escape");
    expect(document.activeElement).toBe(v.root.parentElement); // the cell around the widget
    expect(v.calls).toHaveLength(2);
    // Esc with a modifier is no Esc.
    expect(key(v.root, "Escape", { ctrlKey: true }).defaultPrevented).toBe(false);
  });

  it("releaseKeyboard blurs the root when nothing around it takes the focus", () => {
    const root = document.createElement("div");
    root.tabIndex = 0;
    document.body.append(root);
    root.focus();
    expect(document.activeElement).toBe(root);
    releaseKeyboard(root);
    expect(document.activeElement).not.toBe(root);
  });

  it("moveInHistory ignores other keys and an empty panel", () => {
    const panel = document.createElement("aside");
    const b = document.createElement("button");
    expect(moveInHistory(panel, b, "ArrowDown")).toBe(false);
    b.className = "rw-history-entry";
    panel.append(b);
    expect(moveInHistory(panel, b, "Enter")).toBe(false);
    expect(moveInHistory(panel, b, "End")).toBe(true);
  });
});

describe("the focused control scopes some keys", () => {
  it("a digit on a rating button rates (null outside the scale), never chooses; not while the help is open", () => {
    const v = fakeView({ ratings: true, scale: 5 });
    const rate = v.el(".rw-rate") as HTMLButtonElement;
    key(rate, "4");
    key(rate, "7");
    expect(v.rated).toEqual([
      [rate, 4],
      [rate, null],
    ]);
    expect(v.dispatched).toEqual([]);
    v.open.help = true;
    expect(key(rate, "2").defaultPrevented).toBe(true);
    expect(v.rated).toHaveLength(2);
    v.open.help = false;
    key(rate, "v"); // not a digit: the shortcut it is bound to
    expect(v.dispatched).toEqual([{ type: "rate" }]);
  });

  it("Space presses a flag or a rating button, and nothing else", () => {
    const v = fakeView();
    expect(key(v.el(".rw-flag"), " ").defaultPrevented).toBe(false);
    expect(key(v.el(".rw-rate"), " ").defaultPrevented).toBe(false);
    expect(key(v.el(".rw-submit"), " ").defaultPrevented).toBe(true);
    expect(key(v.root, " ").defaultPrevented).toBe(true);
    expect(key(v.el(".rw-flag"), " ", { ctrlKey: true }).defaultPrevented).toBe(true);
    expect(v.calls).toEqual([]);
  });
});
