// AuditWidget's stateless DOM pieces: the list table and its rows, and the read-only parts of an opened item
// (responses, majority line, every label side by side, revision history). Untrusted text goes in as text only
// (h() uses textContent); markdown goes through the sanitising RenderCache.
import type { RenderCache } from "../shared/content";
import { h } from "../shared/dom";
import { type AuditDetail, type AuditLabel, type AuditRow, percent, rankingText } from "./model";

const th = (t: string): HTMLElement => h("th", { scope: "col" }, t);

/** The item list: a fixed head over `tbody`, which the view refills per page. */
export function listTable(tbody: HTMLElement): HTMLElement {
  const cols = ["", "#", "Item", "Labels", "Disagreement", "Majority", "Flags", "Adjudicated"];
  return h("table", { class: "rw-audit-table" }, h("thead", {}, h("tr", {}, ...cols.map(th))), tbody);
}

/** One row of the list: a selection checkbox, then the row's figures; click or Enter opens the item. */
export function listRow(
  r: AuditRow,
  opts: { checked: boolean; open: boolean; onCheck: (checked: boolean) => void; onOpen: () => void },
): HTMLElement {
  const check = h("input", { type: "checkbox", "aria-label": `Select ${r.item_id}` });
  check.checked = opts.checked;
  check.addEventListener("click", (e) => e.stopPropagation());
  check.addEventListener("change", () => opts.onCheck(check.checked));
  const outcomes = Object.entries(r.outcomes)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  const tr = h(
    "tr",
    { class: `rw-audit-row${opts.open ? " rw-audit-open" : ""}`, "data-item-id": r.item_id, tabindex: 0 },
    h("td", {}, check),
    h("td", {}, String(r.rank)),
    h("td", { class: "rw-audit-snippet" }, h("code", {}, r.item_id), " ", r.snippet),
    h("td", { title: outcomes }, `${r.n_labels}`),
    h("td", {}, percent(r.disagreement)),
    h("td", {}, r.majority === null ? "none" : `${r.majority} (${percent(r.majority_share)})`),
    h("td", {}, r.flags.join(", ")),
    h("td", { class: "rw-audit-adj" }, r.adjudicated ? "yes" : ""),
  );
  tr.addEventListener("click", opts.onOpen);
  tr.addEventListener("keydown", (e) => {
    if (e.key === "Enter") opts.onOpen();
  });
  return tr;
}

export function responsesBox(d: AuditDetail, cache: RenderCache): HTMLElement {
  return h(
    "div",
    { class: "rw-audit-responses" },
    ...d.responses.map((r) =>
      h(
        "article",
        { class: "rw-audit-response", "data-response-id": r.response_id },
        h("div", { class: "rw-audit-rhead" }, h("code", {}, r.response_id), r.model ? ` · ${r.model}` : ""),
        h("div", { class: "rw-md" }, cache.get(r.text)),
      ),
    ),
  );
}

export function majorityLine(d: AuditDetail): HTMLElement {
  const m = d.majority;
  const share = m.share === null ? "" : ` (${percent(m.share)})`;
  return h(
    "p",
    { class: "rw-audit-majority" },
    `Majority: ${m.outcome ?? "none (split)"}${share} · disagreement ${percent(m.disagreement)}`,
  );
}

/** Every label of the item side by side; "Shown as" names the display order each annotator saw. */
export function labelsTable(labels: AuditLabel[], models: Map<string, string | null>): HTMLElement {
  const criteria = [...new Set(labels.flatMap((l) => Object.values(l.ratings).flatMap((x) => Object.keys(x))))];
  const cols = ["Annotator", "Source", "Verdict", "Strength", "Ratings", "Flags", "Rationale", "Shown as"];
  const head = h("tr", {}, ...[...cols, "Guidelines", "Rev."].map(th));
  const rows = labels.map((l) => {
    const ratings = Object.entries(l.ratings)
      .map(
        ([rid, per]) =>
          `${rid}: ${criteria
            .filter((c) => c in per)
            .map((c) => `${c} ${per[c]}`)
            .join(", ")}`,
      )
      .join("; ");
    const shown = l.display_order.map((rid, i) => `${String.fromCharCode(65 + i)}=${rid}`).join(" ");
    return h(
      "tr",
      { class: `rw-audit-label rw-src-${l.source.replace(/[^a-z]/g, "")}`, "data-annotator": l.annotator },
      h("td", {}, l.annotator),
      h("td", {}, l.source),
      h("td", {}, l.status === "skipped" ? "skipped" : rankingText(l.ranking)),
      h("td", {}, l.strength === null ? "" : String(l.strength)),
      h("td", {}, ratings),
      h("td", {}, [l.flags.join(", "), l.flag_note].filter(Boolean).join(" — ")),
      h("td", { class: "rw-audit-rationale-text" }, l.rationale),
      h("td", { title: l.display_order.map((r) => `${r}: ${models.get(r) ?? "?"}`).join(", ") }, shown),
      h("td", {}, l.guideline_version ?? ""),
      h("td", {}, String(l.revision)),
    );
  });
  return h("table", { class: "rw-audit-labels" }, h("thead", {}, head), h("tbody", {}, ...rows));
}

export function historyList(d: AuditDetail): HTMLElement {
  const line = (x: AuditDetail["history"][number]): string =>
    `${x.submitted_at ?? ""} · ${x.annotator} (${x.source}) rev ${x.revision} · ` +
    `${x.status === "skipped" ? "skipped" : x.outcome}${x.supersedes ? ` · supersedes ${x.supersedes}` : ""}`;
  return h(
    "details",
    { class: "rw-audit-history" },
    h("summary", {}, `Revision history (${d.history.length})`),
    h("ol", {}, ...d.history.map((x) => h("li", {}, line(x)))),
  );
}
