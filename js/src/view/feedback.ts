// Training mode (docs/qualification.md): the panel over the item area that shows the feedback on the last
// stored qualification label (matched or not, the expected answer, the explanation), then the attempt's
// result. Python sends it in the `training` trait only after the label is stored; the next item can be
// labelled once the labeler has read it (the Next button or Enter sends `feedback_read`).
import { renderMarkdown } from "../markdown";
import { h } from "../shared/dom";

export interface Feedback {
  item_id: string;
  matched: boolean;
  skipped: boolean;
  expected: string;
  given: string;
  explanation: string;
  number: number;
  total: number;
}

export interface ResultRow {
  criterion: string;
  matched: number;
  n: number;
  rate: number;
}

export interface TrainingResult {
  passed: boolean;
  score: number;
  pass_mark: number;
  breakdown: ResultRow[];
  review: { position: number; explanation: string }[];
  attempts_left: number;
  retry_at: string | null;
  message: string;
}

export interface Training {
  kind: string; // "calibration" for a calibration round, else a qualification
  name: string;
  attempt: number;
  total: number;
  feedback: Feedback | null;
  result: TrainingResult | null;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

function parseFeedback(v: unknown): Feedback | null {
  if (!v || typeof v !== "object") return null;
  const f = v as Record<string, unknown>;
  if (typeof f.item_id !== "string") return null;
  return {
    item_id: f.item_id,
    matched: f.matched === true,
    skipped: f.skipped === true,
    expected: str(f.expected),
    given: str(f.given),
    explanation: str(f.explanation),
    number: num(f.number),
    total: num(f.total),
  };
}

function parseResult(v: unknown): TrainingResult | null {
  if (!v || typeof v !== "object") return null;
  const r = v as Record<string, unknown>;
  const rows = Array.isArray(r.breakdown) ? r.breakdown : [];
  const review = Array.isArray(r.review) ? r.review : [];
  return {
    passed: r.passed === true,
    score: num(r.score),
    pass_mark: num(r.pass_mark),
    breakdown: rows
      .filter((x): x is Record<string, unknown> => !!x && typeof x === "object")
      .map((x) => ({ criterion: str(x.criterion), matched: num(x.matched), n: num(x.n), rate: num(x.rate) })),
    review: review
      .filter((x): x is Record<string, unknown> => !!x && typeof x === "object")
      .map((x) => ({ position: num(x.position), explanation: str(x.explanation) })),
    attempts_left: num(r.attempts_left),
    retry_at: typeof r.retry_at === "string" ? r.retry_at : null,
    message: str(r.message),
  };
}

/** The `training` trait, or null when the widget is not training. */
export function parseTraining(v: unknown): Training | null {
  if (!v || typeof v !== "object") return null;
  const t = v as Record<string, unknown>;
  if (typeof t.name !== "string") return null;
  return {
    kind: str(t.kind),
    name: t.name,
    attempt: num(t.attempt),
    total: num(t.total),
    feedback: parseFeedback(t.feedback),
    result: parseResult(t.result),
  };
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** The panel's content for a training state (empty when there is nothing to show over the item). */
export function renderTraining(t: Training | null, onRead: (itemId: string) => void): HTMLElement | null {
  if (!t) return null;
  if (t.feedback) {
    const f = t.feedback;
    const verdict = f.skipped ? "Skipped" : f.matched ? "Matched ✓" : "Did not match ✗";
    const next = h("button", { class: "rw-training-next", type: "button" }, "Next (Enter)");
    next.addEventListener("click", () => onRead(f.item_id));
    const explanation = h("div", { class: "rw-training-explanation" });
    if (f.explanation) explanation.append(renderMarkdown(f.explanation, { allowRemoteImages: false }));
    return h(
      "div",
      {
        class: `rw-training rw-training-feedback ${f.matched ? "rw-matched" : "rw-missed"}`,
        role: "dialog",
        "aria-label": "Qualification feedback",
        "data-item-id": f.item_id,
      },
      h(
        "div",
        { class: "rw-training-title" },
        `${t.kind === "calibration" ? "Calibration round" : "Qualification"} ${t.name}: item ${f.number} of ${f.total}`,
      ),
      h("div", { class: "rw-training-verdict" }, verdict),
      h("div", { class: "rw-training-expected" }, `Expected: ${f.expected}`),
      h("div", { class: "rw-training-given" }, `Your answer: ${f.given}`),
      explanation,
      next,
    );
  }
  if (t.result) {
    const r = t.result;
    const rows = r.breakdown.map((row) =>
      h("tr", {}, h("td", {}, row.criterion), h("td", {}, `${row.matched} / ${row.n}`), h("td", {}, pct(row.rate))),
    );
    const review = r.review.map((x) => {
      const li = h("li", {}, h("b", {}, `Item ${x.position + 1}: `));
      li.append(renderMarkdown(x.explanation || "(no explanation)", { allowRemoteImages: false }));
      return li;
    });
    return h(
      "div",
      { class: `rw-training rw-training-result ${r.passed ? "rw-passed" : "rw-failed"}`, role: "status" },
      h("div", { class: "rw-training-title" }, r.passed ? "Qualification passed" : "Qualification not passed"),
      h("div", { class: "rw-training-score" }, `Score ${pct(r.score)} (pass mark ${pct(r.pass_mark)})`),
      h("table", { class: "rw-training-breakdown" }, ...rows),
      review.length ? h("div", { class: "rw-training-review" }, "To review:", h("ul", {}, ...review)) : null,
      h("div", { class: "rw-training-message" }, r.message),
    );
  }
  return null;
}

/**
 * Keep the training panel of `root` in line with the `training` trait; returns the refresh to call on each
 * change. While feedback is shown the panel holds the keyboard: Enter (or the Next button) sends
 * `feedback_read`, and no other key reaches the item underneath.
 */
export function mountTraining(
  root: HTMLElement,
  read: () => unknown,
  send: (msg: { type: "feedback_read"; item_id: string }) => void,
): () => void {
  let panel: HTMLElement | null = null;
  return () => {
    panel?.remove();
    panel = null;
    const t = parseTraining(read());
    const el = renderTraining(t, (itemId) => send({ type: "feedback_read", item_id: itemId }));
    if (!el) return;
    panel = el;
    if (t?.feedback) {
      const itemId = t.feedback.item_id;
      el.tabIndex = -1;
      el.addEventListener("keydown", (e) => {
        e.stopPropagation();
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          send({ type: "feedback_read", item_id: itemId });
        }
      });
    }
    root.append(el);
    (el.querySelector<HTMLElement>(".rw-training-next") ?? el).focus({ preventScroll: true });
  };
}
