import { afterEach, describe, expect, it } from "vitest";
import { type FakeModel, key, makeModel, mount, unmountAll } from "./fake_model";

afterEach(unmountAll);

/** Tie groups as shown: ids per .rw-group, best first. */
const groups = (root: HTMLElement): string[][] =>
  [...root.querySelectorAll(".rw-group")].map((g) =>
    [...g.querySelectorAll<HTMLElement>("[data-response-id]")].map((c) => c.dataset.responseId ?? ""),
  );
const pool = (root: HTMLElement): string[] =>
  [...root.querySelectorAll<HTMLElement>(".rw-pool [data-response-id]")].map((c) => c.dataset.responseId ?? "");
const lastSubmit = (m: FakeModel): { label: { ranking: string[][]; winner: unknown; strength: unknown } } =>
  m.sent.filter((x) => x.type === "submit").at(-1) as never;

/** A DragEvent carrying `dt` (happy-dom's constructor drops the dataTransfer option). */
function dragEvent(type: string, dt: DataTransfer): DragEvent {
  const e = new DragEvent(type, { bubbles: true, cancelable: true });
  Object.defineProperty(e, "dataTransfer", { value: dt });
  return e;
}

function drag(source: Element, target: Element): void {
  const dt = new DataTransfer();
  source.dispatchEvent(dragEvent("dragstart", dt));
  const over = dragEvent("dragover", dt);
  target.dispatchEvent(over);
  expect(over.defaultPrevented).toBe(true); // the target accepts the drop
  target.dispatchEvent(dragEvent("drop", dt));
  source.dispatchEvent(dragEvent("dragend", dt));
}

describe("ranking view", () => {
  it("shows draggable lettered cards, everything unranked at first, submit blocked", () => {
    const m = makeModel({ task: "ranking", total: 3, n: 4 });
    const root = mount(m);
    const cards = [...root.querySelectorAll<HTMLElement>(".rw-response")];
    expect(cards.map((c) => c.dataset.position)).toEqual(["A", "B", "C", "D"]);
    expect(cards.every((c) => c.getAttribute("draggable") === "true")).toBe(true);
    expect(groups(root)).toEqual([]);
    expect(pool(root)).toEqual(["r1", "r2", "r3", "r4"]);
    expect((root.querySelector(".rw-submit") as HTMLButtonElement).disabled).toBe(true);
    expect(root.querySelector(".rw-reason")?.textContent).toMatch(/4 unranked/);
    expect(root.querySelector(".rw-btn-diff")?.hasAttribute("hidden")).toBe(true);
  });

  it("click-to-rank: clicking cards in order ranks them", () => {
    const m = makeModel({ task: "ranking", total: 3, n: 3 });
    const root = mount(m);
    for (const rid of ["r3", "r1", "r2"])
      (root.querySelector(`.rw-response[data-response-id="${rid}"]`) as HTMLElement).click();
    expect(groups(root)).toEqual([["r3"], ["r1"], ["r2"]]);
    expect(root.querySelector('.rw-response[data-response-id="r3"] .rw-rankbadge')?.textContent).toBe("rank 1");
    key(root, "Enter");
    expect(lastSubmit(m).label).toMatchObject({ ranking: [["r3"], ["r1"], ["r2"]], winner: null, strength: null });
  });

  it("keyboard only: letters select, numbers place, Alt+arrows move, t ties, u unties", () => {
    const m = makeModel({ task: "ranking", total: 3, n: 3 }); // item 0 display order r1, r2, r3 = A, B, C
    const root = mount(m);
    key(root, "c");
    key(root, "1");
    key(root, "a");
    key(root, "2");
    key(root, "b");
    key(root, "3");
    expect(groups(root)).toEqual([["r3"], ["r1"], ["r2"]]);
    key(root, "ArrowUp", { altKey: true }); // B (selected) up one
    expect(groups(root)).toEqual([["r3"], ["r2"], ["r1"]]);
    key(root, "t"); // tie B with the group above
    expect(groups(root)).toEqual([["r3", "r2"], ["r1"]]);
    expect(root.querySelector(".rw-group.rw-tie")).not.toBeNull();
    key(root, "u");
    expect(groups(root)).toEqual([["r3"], ["r2"], ["r1"]]);
    key(root, "t");
    key(root, "ArrowDown"); // select next card (C)
    key(root, "ArrowDown", { altKey: true });
    expect(groups(root)).toEqual([["r2"], ["r3"], ["r1"]]);
    key(root, "Enter");
    expect(lastSubmit(m).label.ranking).toEqual([["r2"], ["r3"], ["r1"]]);
  });

  it("keyboard only: the same number for two cards ties them", () => {
    const m = makeModel({ task: "ranking", total: 3, n: 3 }); // A, B, C = r1, r2, r3
    const root = mount(m);
    key(root, "b");
    key(root, "1");
    key(root, "a");
    key(root, "2");
    key(root, "c");
    key(root, "2");
    expect(groups(root)).toEqual([["r2"], ["r1", "r3"]]);
    expect(root.querySelector('.rw-response[data-response-id="r3"] .rw-rankbadge')?.textContent).toMatch(/rank 2/);
    key(root, "1"); // C joins B at rank 1
    expect(groups(root)).toEqual([["r2", "r3"], ["r1"]]);
    key(root, "Enter");
    expect(lastSubmit(m).label.ranking).toEqual([["r2", "r3"], ["r1"]]);
  });

  it("asks to select a card before a ranking key", () => {
    const root = mount(makeModel({ task: "ranking", total: 1, n: 3 }));
    key(root, "1");
    expect(root.querySelector(".rw-error")?.textContent).toMatch(/Select a response first/);
  });

  it("drag and drop: onto the list = next rank, onto a group = tie, between groups = new rank, to the pool = unrank", () => {
    const m = makeModel({ task: "ranking", total: 2, n: 3 });
    const root = mount(m);
    const card = (rid: string): Element => root.querySelector(`.rw-response[data-response-id="${rid}"]`) as Element;
    drag(card("r2"), root.querySelector(".rw-ranking") as Element);
    expect(groups(root)).toEqual([["r2"]]);
    drag(card("r1"), root.querySelector('.rw-group[data-group="0"]') as Element);
    expect(groups(root)).toEqual([["r2", "r1"]]);
    drag(card("r3"), root.querySelector('.rw-gap[data-gap="0"]') as Element);
    expect(groups(root)).toEqual([["r3"], ["r2", "r1"]]);
    // Chips in the ranking are draggable too.
    drag(
      root.querySelector('.rw-chip[data-response-id="r1"]') as Element,
      root.querySelector('.rw-gap[data-gap="2"]') as Element,
    );
    expect(groups(root)).toEqual([["r3"], ["r2"], ["r1"]]);
    drag(root.querySelector('.rw-chip[data-response-id="r3"]') as Element, root.querySelector(".rw-pool") as Element);
    expect(groups(root)).toEqual([["r2"], ["r1"]]);
    expect(pool(root)).toEqual(["r3"]);
    drag(card("r3"), root.querySelector('.rw-group[data-group="1"]') as Element);
    key(root, "Enter");
    expect(lastSubmit(m).label.ranking).toEqual([["r2"], ["r1", "r3"]]);
  });

  it("ignores drops of foreign data", () => {
    const root = mount(makeModel({ task: "ranking", total: 1, n: 3 }));
    const dt = new DataTransfer();
    dt.setData("text/plain", "not-a-response");
    root.querySelector(".rw-ranking")?.dispatchEvent(dragEvent("drop", dt));
    expect(groups(root)).toEqual([]);
  });

  it("prefills a stored ranking with ties", () => {
    const m = makeModel({ task: "ranking", total: 1, n: 3 });
    ((m.data.window as Record<string, unknown>[])[0] as Record<string, unknown>).label = {
      status: "submitted",
      ranking: [["r2", "r3"], ["r1"]],
    };
    const root = mount(m);
    expect(groups(root)).toEqual([["r2", "r3"], ["r1"]]);
    expect((root.querySelector(".rw-submit") as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("chip snippets", () => {
  it("show a one-line plain preview without markdown syntax but with code intact", async () => {
    const { snippet } = await import("../src/view/rank_panel");
    expect(snippet("```python\ndef is_prime(n) -> bool:\n```\n**Bold** [link](http://x.example)\n> quote")).toBe(
      "def is_prime(n) -> bool: Bold link quote",
    );
    expect(snippet("x".repeat(200), 10)).toBe("xxxxxxxxx\u2026");
  });

  it("keep the characters inside code spans and code blocks (asterisks, underscores, hashes)", async () => {
    const { snippet } = await import("../src/view/rank_panel");
    expect(snippet("Loop over the list and **append** `x*x` to a new list.")).toBe(
      "Loop over the list and append x*x to a new list.",
    );
    expect(snippet("Use `a * b` and `__init__`, or ``code with ` inside``.")).toBe(
      "Use a * b and __init__, or code with ` inside.",
    );
    expect(snippet("Use the double-star glob:\n\n```bash\nwc -l **/*.py\n# count\n```")).toBe(
      "Use the double-star glob: wc -l **/*.py # count",
    );
    expect(snippet("~~~\n*args, **kwargs\n~~~\nafter")).toBe("*args, **kwargs after");
  });

  it("drop emphasis only where it pairs; lone and escaped markers and snake_case stay", async () => {
    const { snippet } = await import("../src/view/rank_panel");
    expect(snippet("2 * 3 = 6, *really* and ***very*** _so_ __much__ ~~not~~")).toBe(
      "2 * 3 = 6, really and very so much not",
    );
    expect(snippet("snake_case_name and \\*not emphasis\\* and a\\_b")).toBe(
      "snake_case_name and *not emphasis* and a_b",
    );
    expect(snippet("*outer **inner** outer*")).toBe("outer inner outer");
    expect(snippet("# Title\n- **French:** oui\n* item\n> quote ![img](http://x/y.png) <https://a.example>")).toBe(
      "Title French: oui item quote img https://a.example",
    );
  });
});
