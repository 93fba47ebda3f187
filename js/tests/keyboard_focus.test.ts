// Issue 14: one focus model, tested key by key (findings 1, 2, 3, 4) and remappable hotkeys.
import { afterEach, describe, expect, it } from "vitest";
import { boundAction, DEFAULT_KEYMAP, keyAction, keyName, parseKeymap, shortcuts } from "../src/keymap";
import { key, makeModel, mount, q, submits, unmountAll } from "./fake_model";

afterEach(() => unmountAll());

const k = (
  key: string,
  mods: Partial<{ ctrlKey: boolean; altKey: boolean; metaKey: boolean; shiftKey: boolean }> = {},
) => ({
  key,
  ctrlKey: false,
  altKey: false,
  metaKey: false,
  shiftKey: false,
  ...mods,
});

describe("the keymap (RankWidget(keymap=...))", () => {
  it("names key presses in the keymap's syntax", () => {
    expect(keyName(k("Enter", { ctrlKey: true, shiftKey: true }))).toBe("Ctrl+Shift+Enter");
    expect(keyName(k("?", { shiftKey: true }))).toBe("?"); // the shifted character itself
    expect(keyName(k("s", { metaKey: true }))).toBe("Meta+s");
  });

  it("a remapped map replaces the default keys of the actions it names, and only those", () => {
    const km = parseKeymap({ submit: ["Ctrl+Enter"], skip: ["x"], bogus: ["q"], back: "nope" });
    expect(keyAction(k("Enter", { ctrlKey: true }), "pairwise", 2, km)).toEqual({ type: "submit" });
    expect(keyAction(k("Enter"), "pairwise", 2, km)).toBeNull();
    expect(keyAction(k("x"), "pairwise", 2, km)).toEqual({ type: "skip" });
    expect(keyAction(k("s"), "pairwise", 2, km)).toBeNull();
    expect(keyAction(k("q"), "pairwise", 2, km)).toBeNull(); // unknown action dropped
    expect(keyAction(k("["), "pairwise", 2, km)).toEqual({ type: "back" }); // malformed entry: the default
    expect(keyAction(k("3"), "pairwise", 2, km)).toEqual({ type: "choice", choice: "tie" }); // digits fixed
  });

  it("Shift+Enter does what Enter does; a card letter wins over a command letter", () => {
    expect(boundAction(k("Enter", { shiftKey: true }), DEFAULT_KEYMAP)).toBe("submit");
    expect(keyAction(k("d"), "ranking", 4)).toEqual({ type: "select", position: 3 });
    expect(keyAction(k("D", { shiftKey: true }), "ranking", 4)).toEqual({ type: "select", position: 3 });
    expect(keyAction(k("v"), "pairwise", 2)).toBeNull(); // no criteria: no rating mode
    expect(keyAction(k("v"), "pairwise", 2, DEFAULT_KEYMAP, true)).toEqual({ type: "rate" });
  });

  it("the help lists the active keys, not the defaults", () => {
    const km = parseKeymap({ submit: ["Ctrl+Enter"], skip: ["x", "F2"] });
    const rows = shortcuts("pairwise", { keymap: km });
    expect(rows.find((r) => r.does.startsWith("Submit"))?.keys).toBe("Ctrl+Enter");
    expect(rows.find((r) => r.does.startsWith("Skip"))?.keys).toBe("x or F2");
    expect(rows.some((r) => r.keys === "Enter" || r.keys === "s")).toBe(false);
  });

  it("the view uses the map Python sent and its help overlay shows it", () => {
    const m = makeModel({ total: 3, config: { keymap: { submit: ["Ctrl+Enter"], skip: ["x"] } } });
    const root = mount(m);
    key(root, "1");
    key(root, "Enter");
    expect(submits(m)).toHaveLength(0);
    key(root, "Enter", { ctrlKey: true });
    expect(submits(m)).toHaveLength(1);
    key(root, "x");
    expect(submits(m).map((s) => s.label.status)).toEqual(["submitted", "skipped"]);
    const help = q(root, ".rw-help").textContent ?? "";
    expect(help).toMatch(/Ctrl\+Enter/);
    expect(help).not.toMatch(/^s$/m);
  });
});

describe("the focus model", () => {
  it("finding 1: f, Space on a flag, Enter submits the verdict with the flag (never a native press)", () => {
    const m = makeModel({ total: 3, config: { flags: ["harmful"] } });
    const root = mount(m);
    root.focus();
    key(root, "2");
    key(root, "f");
    const flag = q<HTMLButtonElement>(root, ".rw-flag");
    expect(document.activeElement).toBe(flag);
    const space = key(flag, " ");
    expect(space.defaultPrevented).toBe(false); // Space presses a flag (the browser clicks it)
    flag.click();
    const enter = key(flag, "Enter");
    expect(enter.defaultPrevented).toBe(true); // no native press: the flag stays on
    const s = submits(m);
    expect(s).toHaveLength(1);
    expect(s[0]?.label.status).toBe("submitted");
    expect(s[0]?.label.flags).toEqual(["harmful"]);
    expect(s[0]?.label.winner).toBe("r1");
  });

  it("Esc from a flag, a header button or a text box brings the focus back to the widget", () => {
    const root = mount(makeModel({ total: 3, config: { flags: ["harmful"] } }));
    for (const sel of [".rw-flag", ".rw-btn-diff", ".rw-btn-help", ".rw-rationale", ".rw-flag-note"]) {
      const el = q(root, sel);
      el.focus();
      key(el, "Escape");
      expect(document.activeElement).toBe(root);
    }
  });

  it("Esc on the widget itself gives the keyboard back to the page around it", () => {
    const cell = document.createElement("div");
    cell.tabIndex = -1;
    document.body.append(cell);
    const root = mount(makeModel({ total: 3 }));
    cell.append(root.parentElement as HTMLElement);
    root.focus();
    expect(q(root, ".rw-keys-badge").dataset.keys).toBe("widget");
    expect(root.classList.contains("rw-has-keys")).toBe(true);
    key(root, "Escape");
    expect(document.activeElement).toBe(cell);
    cell.remove();
  });

  it("finding 2: digits on the Diff / Shortcuts buttons never change the verdict by surprise; Enter there submits", () => {
    const m = makeModel({ total: 3 });
    const root = mount(m);
    key(root, "4");
    const diff = q<HTMLButtonElement>(root, ".rw-btn-diff");
    diff.focus();
    const enter = key(diff, "Enter");
    expect(enter.defaultPrevented).toBe(true); // not a diff toggle
    expect(diff.getAttribute("aria-pressed")).toBe("false");
    expect(submits(m)).toHaveLength(1);
    expect(submits(m)[0]?.label.winner).toBe("r2");
  });

  it("finding 2: the rating path of the help (v, then one digit per rating) stores the ratings typed", () => {
    const m = makeModel({ total: 3, config: { criteria: ["helpful", "honest"], scale: 5 } });
    const root = mount(m);
    root.focus();
    key(root, "1");
    key(root, "v");
    for (const d of ["5", "4", "2", "1"]) key(document.activeElement as HTMLElement, d);
    expect(document.activeElement).toBe(root); // the last rating hands the focus back
    key(root, "Enter");
    const s = submits(m)[0];
    expect(s?.label.ratings).toEqual({ r1: { helpful: 5, honest: 4 }, r2: { helpful: 2, honest: 1 } });
  });

  it("Ctrl/Cmd+Enter submits from a text box; Enter there is a newline", () => {
    const m = makeModel({ total: 3 });
    const root = mount(m);
    key(root, "3");
    const ta = q<HTMLTextAreaElement>(root, ".rw-rationale");
    ta.focus();
    key(ta, "Enter");
    expect(submits(m)).toHaveLength(0);
    key(ta, "Enter", { metaKey: true });
    expect(submits(m)).toHaveLength(1);
  });

  it("Space on a verdict button never changes the verdict", () => {
    const m = makeModel({ total: 3 });
    const root = mount(m);
    key(root, "1");
    const choice = q<HTMLButtonElement>(root, ".rw-choice-tie");
    choice.focus();
    expect(key(choice, " ").defaultPrevented).toBe(true);
  });

  it("finding 3: a b c d typed with ranks 2 1 4 3 submits B > A > D > C", () => {
    const m = makeModel({ task: "ranking", total: 3, n: 4 });
    const root = mount(m);
    for (const [card, rank] of [
      ["a", "2"],
      ["b", "1"],
      ["c", "4"],
      ["d", "3"],
    ] as const) {
      key(root, card);
      key(root, rank);
    }
    key(root, "Enter");
    const order = (submits(m)[0]?.label as unknown as { ranking: string[][] } | undefined)?.ranking;
    expect(order).toEqual([["r2"], ["r1"], ["r4"], ["r3"]]); // item 0 shows r1..r4 as A..D
  });

  it("finding 4: no key typed in the widget reaches the host, in any phase", () => {
    const root = mount(makeModel({ total: 3 }));
    const seen: string[] = [];
    const spy = (e: Event): void => {
      seen.push(`${e.type}:${(e as KeyboardEvent).key}`);
    };
    for (const t of ["keydown", "keyup", "keypress"]) document.addEventListener(t, spy);
    try {
      for (const kk of ["d", "d", "a", "b", "x", "z", "Escape", "Enter"]) key(root, kk);
      key(root, "Enter", { shiftKey: true });
      for (const t of ["keyup", "keypress"])
        root.dispatchEvent(new KeyboardEvent(t, { key: "d", bubbles: true, cancelable: true }));
    } finally {
      for (const t of ["keydown", "keyup", "keypress"]) document.removeEventListener(t, spy);
    }
    expect(seen).toEqual([]);
  });
});
