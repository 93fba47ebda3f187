// @vitest-environment jsdom
// Training mode's panel (src/view/feedback.ts): feedback after a stored label, Enter/Next sends
// feedback_read, the result with its breakdown; explanations are sanitised markdown.
import { describe, expect, it } from "vitest";
import { mountTraining, parseTraining } from "../src/view/feedback";

const feedback = {
  name: "q-v1",
  attempt: 1,
  total: 3,
  feedback: {
    item_id: "q000",
    matched: false,
    skipped: false,
    expected: "Response A is better",
    given: "Response B is better",
    explanation: "**Rule 2**: correct first <img src=x onerror=alert(1)>",
    number: 1,
    total: 3,
  },
  result: null,
};

describe("training panel", () => {
  it("shows the feedback, holds the keyboard, and sends feedback_read on Enter and on Next", () => {
    const root = document.createElement("div");
    document.body.append(root);
    let state: unknown = feedback;
    const sent: unknown[] = [];
    const keysSeen: string[] = [];
    root.addEventListener("keydown", (e) => keysSeen.push(e.key));
    const refresh = mountTraining(
      root,
      () => state,
      (m) => sent.push(m),
    );
    refresh();
    const panel = root.querySelector(".rw-training-feedback") as HTMLElement;
    expect(panel.textContent).toContain("Did not match");
    expect(panel.textContent).toContain("Expected: Response A is better");
    expect(panel.querySelector("strong")?.textContent).toBe("Rule 2");
    expect(panel.innerHTML).not.toContain("onerror");
    expect(document.activeElement?.className).toBe("rw-training-next");
    panel.dispatchEvent(new KeyboardEvent("keydown", { key: "a", bubbles: true }));
    panel.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(keysSeen).toEqual([]); // no key reaches the item underneath
    (root.querySelector(".rw-training-next") as HTMLButtonElement).click();
    expect(sent).toEqual([
      { type: "feedback_read", item_id: "q000" },
      { type: "feedback_read", item_id: "q000" },
    ]);
    state = { ...feedback, feedback: null };
    refresh();
    expect(root.querySelector(".rw-training")).toBeNull();
    root.remove();
  });

  it("shows the result with its per-criterion breakdown and what to review", () => {
    const root = document.createElement("div");
    const result = {
      passed: false,
      score: 2 / 3,
      pass_mark: 1,
      breakdown: [{ criterion: "winner", matched: 2, n: 3, rate: 2 / 3 }],
      review: [{ position: 0, explanation: "Rule 1" }],
      attempts_left: 1,
      retry_at: null,
      message: "You may retry now",
    };
    mountTraining(
      root,
      () => ({ ...feedback, feedback: null, result }),
      () => {},
    )();
    const panel = root.querySelector(".rw-training-result") as HTMLElement;
    expect(panel.textContent).toContain("Qualification not passed");
    expect(panel.textContent).toContain("Score 67% (pass mark 100%)");
    expect(panel.querySelector("td")?.textContent).toBe("winner");
    expect(panel.textContent).toContain("Item 1: Rule 1");
  });

  it("ignores what is not a training state", () => {
    expect(parseTraining({})).toBeNull();
    expect(parseTraining(null)).toBeNull();
    expect(parseTraining({ name: "q", feedback: { item_id: 3 } })?.feedback).toBeNull();
  });
});
