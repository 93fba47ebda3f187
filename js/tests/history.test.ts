// Issue 14 findings 6 and 8: undo, the history panel, revisit markers, "return to where you were" and a lead's
// notes. The pure state (src/view/history.ts, protocol_state.ts) and the real view on a fake model.
import { afterEach, describe, expect, it } from "vitest";
import { parseNotes, parseWindow } from "../src/coerce";
import { keyAction } from "../src/keymap";
import {
  historyText,
  LabelMarks,
  markText,
  nextIndex,
  noteHeading,
  parseHistory,
  UndoStack,
} from "../src/view/history";
import { ProtocolState } from "../src/view/protocol_state";
import { key, makeItem, makeModel, mount, q, type Sent, shownId, submits, unmountAll } from "./fake_model";

afterEach(() => unmountAll());

const item = (label: Record<string, unknown> | null) => parseWindow([makeItem({ index: 3, label })])[0] ?? null;

describe("LabelMarks / markText", () => {
  it("a labelled item says its revision, a skipped one says Skipped and no verdict", () => {
    const marks = new LabelMarks();
    expect(marks.of(item(null))).toBeNull();
    expect(marks.of(item({ status: "submitted", revision: 2, winner: "r1", strength: 2 }))).toEqual({
      state: "labelled",
      revision: 2,
    });
    const skipped = marks.of(item({ status: "skipped", revision: 1 }));
    expect(skipped?.state).toBe("skipped");
    expect(markText(skipped)).toMatch(/^Skipped/);
    expect(markText({ state: "labelled", revision: 3 })).toMatch(/^Labelled \(revision 3\)/);
    expect(marks.of(item({ status: "withdrawn", revision: 2 }))?.state).toBe("undone");
  });

  it("this view's own acks and undos win over the label the item came with", () => {
    const marks = new LabelMarks();
    const it0 = item({ status: "submitted", revision: 1 });
    marks.acked("it-0003", "skipped", 2);
    expect(marks.of(it0)).toEqual({ state: "skipped", revision: 2 });
    marks.undone("it-0003", 3);
    expect(marks.of(it0)).toEqual({ state: "undone", revision: 3 });
    expect(markText(marks.of(it0))).toMatch(/^Undone .*revision 3/);
  });
});

describe("nextIndex: return to where you were (finding 6)", () => {
  it("goes on to the next item, or back to the furthest item reached", () => {
    expect(nextIndex(4, 4, 10)).toBe(5); // labelling at the frontier: the next one
    expect(nextIndex(2, 7, 10)).toBe(7); // re-labelled item 2 while at 7: back to 7, not 3
    expect(nextIndex(6, 7, 10)).toBe(7);
    expect(nextIndex(9, 9, 10)).toBe(10); // the last item: all done
    expect(nextIndex(3, 10, 10)).toBe(10); // re-labelled after "all done": all done again
  });
});

describe("UndoStack", () => {
  it("the newest entry is the one undone; an undo of an item drops that item's newest entry", () => {
    const s = new UndoStack();
    expect(s.top()).toBeUndefined();
    s.push({ labelId: "l1", itemId: "a", index: 0 });
    s.push({ labelId: "l2", itemId: "b", index: 1 });
    s.push({ labelId: "l3", itemId: "a", index: 0 });
    expect(s.top()?.labelId).toBe("l3");
    expect(s.undone("a")?.labelId).toBe("l3");
    expect(s.top()?.labelId).toBe("l2");
    expect(s.undone("zzz")).toBeUndefined();
    expect(s.size).toBe(2);
  });
});

describe("parseHistory / historyText", () => {
  it("parses Python's history message defensively and words each row", () => {
    expect(parseHistory({ type: "ack" })).toBeNull();
    expect(parseHistory({ type: "history", entries: "x" })).toBeNull();
    const e = parseHistory({
      type: "history",
      entries: [
        {
          label_id: "l1",
          item_id: "p-03",
          index: 3,
          state: "saved",
          revision: 2,
          at: "2026-12-02T15:42:10+00:00",
          summary: "A better",
          current: true,
        },
        { item_id: "p-04", index: 4, state: "bogus" },
        { item_id: 5, index: 5 },
      ],
    });
    expect(e?.length).toBe(2);
    expect(e?.[1]?.state).toBe("saved"); // an unknown state is not trusted
    const text = historyText(e?.[0] as NonNullable<typeof e>[number]);
    expect(text).toMatch(/^Item 4 · p-03 · A better · .+ · saved \(revision 2\)$/);
  });
});

describe("notes: untrusted, capped", () => {
  it("keeps at most five notes and cuts their text", () => {
    const many = Array.from({ length: 8 }, (_, i) => ({
      kind: "comment",
      id: `c${i}`,
      text: "x".repeat(3000),
      by: "lead",
    }));
    const notes = parseNotes(many);
    expect(notes.length).toBe(5);
    expect(notes[0]?.id).toBe("c3");
    expect(notes[0]?.text.length).toBe(2000);
    expect(parseNotes([{ kind: "requeue", id: "q", text: "split", by: "lead", queue: "round2" }])[0]?.kind).toBe(
      "requeue",
    );
    expect(noteHeading({ kind: "requeue", id: "q", text: "", by: "lead", at: "", queue: "r2", read: false })).toBe(
      "Sent back for review by lead (queue r2)",
    );
  });
});

describe("ProtocolState with a submit that returns to the frontier", () => {
  it("an awaited navigate to where Python goes after the ack (next) stops waiting", () => {
    const p = new ProtocolState(() => 0);
    p.submitted({ clientId: "c", itemId: "it-2", index: 2, next: 7 });
    expect(p.navigate(7, 2)).toBe(true);
    p.answered("c", true, 2, 10);
    expect(p.waitingForNav()).toBe(false);
  });
});

describe("keys", () => {
  it("z and Ctrl+Z undo, h opens the history; a remapped keymap is obeyed", () => {
    const none = { altKey: false, ctrlKey: false, metaKey: false };
    expect(keyAction({ key: "z", ...none }, "pairwise", 2)).toEqual({ type: "undo" });
    expect(keyAction({ key: "z", ...none, ctrlKey: true }, "pairwise", 2)).toEqual({ type: "undo" });
    expect(keyAction({ key: "h", ...none }, "pairwise", 2)).toEqual({ type: "history" });
    const km = { undo: ["u"], untie: ["y"] };
    expect(keyAction({ key: "u", ...none }, "ranking", 3, km)).toEqual({ type: "undo" });
    expect(keyAction({ key: "z", ...none }, "ranking", 3, km)).toBeNull();
  });
});

describe("the view", () => {
  const ack = (m: ReturnType<typeof makeModel>, s: Sent, revision = 1): void =>
    m.receive({ type: "ack", client_id: s.client_id, item_id: s.item_id, label_id: s.client_id, revision });

  it("a skip clears the verdict; going back shows 'Skipped' and no choice highlighted", () => {
    const m = makeModel({ total: 6, position: 0 });
    const root = mount(m);
    key(root, "2");
    key(root, "s");
    ack(m, submits(m)[0] as Sent);
    key(root, "[");
    expect(shownId(root)).toBe("it-0000");
    expect(q(root, ".rw-marker").dataset.state).toBe("skipped");
    expect(q(root, ".rw-marker").textContent).toMatch(/^Skipped/);
    expect(root.querySelectorAll('.rw-choice[aria-checked="true"]').length).toBe(0);
  });

  it("re-labelling an earlier item returns to where the labeler was; the message says where", () => {
    const m = makeModel({ total: 8, position: 0 });
    const root = mount(m);
    for (let i = 0; i < 3; i++) {
      key(root, "2");
      key(root, "Enter");
      ack(m, submits(m)[i] as Sent);
    }
    expect(shownId(root)).toBe("it-0003");
    key(root, "[");
    key(root, "[");
    expect(shownId(root)).toBe("it-0001");
    expect(q(root, ".rw-marker").textContent).toMatch(/^Labelled \(revision 1\)/);
    key(root, "4");
    key(root, "Enter");
    const s = submits(m)[3] as Sent & { next?: number };
    expect(s.index).toBe(1);
    expect(s.next).toBe(3);
    expect(shownId(root)).toBe("it-0003");
  });

  it("z sends an undo naming the last saved label; the ack marks the item undone and shows it", async () => {
    const m = makeModel({ total: 6, position: 0 });
    const root = mount(m);
    key(root, "2");
    key(root, "Enter");
    const s = submits(m)[0] as Sent;
    ack(m, s);
    expect(shownId(root)).toBe("it-0001");
    key(root, "z");
    const undo = m.sent.find((x) => x.type === "undo") as { client_id: string; label_id: string | null };
    expect(undo.label_id).toBe(s.client_id);
    m.receive({ type: "ack", of: "undo", client_id: undo.client_id, item_id: "it-0000", label_id: "u", revision: 2 });
    expect(shownId(root)).toBe("it-0000");
    expect(q(root, ".rw-marker").dataset.state).toBe("undone");
    expect(q(root, ".rw-status").dataset.state).toBe("undone");
    // the undone verdict is kept as the item's draft, and the kernel gets it (a reload restores it)
    expect(root.querySelectorAll('.rw-choice[aria-checked="true"]').length).toBe(1);
    await new Promise((r) => setTimeout(r, 600));
    const draft = m.sent.filter((x) => x.type === "draft").pop() as { item_id: string; draft: { choice: string } };
    expect(draft.item_id).toBe("it-0000");
    expect(draft.draft.choice).not.toBeNull();
  });

  it("h opens the history panel, arrows move, Enter jumps, Esc closes and gives the focus back", () => {
    const m = makeModel({ total: 6, position: 2 });
    const root = mount(m);
    root.focus();
    key(root, "h");
    expect(m.sent.some((x) => x.type === "history")).toBe(true);
    expect(q(root, ".rw-history").hidden).toBe(false);
    m.receive({
      type: "history",
      entries: [
        { label_id: "b", item_id: "it-0001", index: 1, state: "skipped", revision: 1, at: "", summary: "Skipped" },
        { label_id: "a", item_id: "it-0000", index: 0, state: "saved", revision: 1, at: "", summary: "A better" },
      ],
    });
    const rows = root.querySelectorAll<HTMLButtonElement>(".rw-history-entry");
    expect(rows.length).toBe(2);
    expect(document.activeElement).toBe(rows[0]);
    key(rows[0] as HTMLElement, "ArrowDown");
    expect(document.activeElement).toBe(rows[1]);
    key(rows[1] as HTMLElement, "Escape");
    expect(q(root, ".rw-history").hidden).toBe(true);
    expect(document.activeElement).toBe(root);
    key(root, "h");
    m.receive({
      type: "history",
      entries: [{ label_id: "b", item_id: "it-0001", index: 1, state: "skipped", revision: 1, at: "", summary: "S" }],
    });
    (root.querySelector(".rw-history-entry") as HTMLButtonElement).click();
    expect(shownId(root)).toBe("it-0001");
    expect(q(root, ".rw-history").hidden).toBe(true);
  });

  it("a lead's notes are text, never HTML; a comment can be marked read", () => {
    const m = makeModel({ total: 3, position: 0 });
    const w = m.get("window") as Record<string, unknown>[];
    (w[0] as Record<string, unknown>).notes = [
      { kind: "requeue", id: "q1", text: "split on <b>safety</b>", by: "lead", at: "2026-12-02T10:00:00", read: false },
      { kind: "comment", id: "c1", text: '<img src=x onerror="alert(1)">', by: "lead", at: "2026-12-02T11:00:00" },
    ];
    const root = mount(m);
    const notes = root.querySelectorAll<HTMLElement>(".rw-note");
    expect(notes.length).toBe(2);
    expect(root.querySelector(".rw-note img, .rw-note b")).toBeNull();
    expect(notes[0]?.querySelector(".rw-note-text")?.textContent).toBe("split on <b>safety</b>");
    (q(root, '.rw-note[data-note-id="c1"] .rw-note-read') as HTMLButtonElement).click();
    expect(m.sent.find((x) => x.type === "note_read")).toEqual({ type: "note_read", comment_id: "c1" });
    expect(q(root, '.rw-note[data-note-id="c1"]').dataset.read).toBe("true");
  });
});
